"""The ImageNet-mapped recogniser: label table, mapping table, probability maths, the bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError
from sfxstudio.ml import imagenet
from sfxstudio.ml.bundle import ModelBundle

MAP_FILE = imagenet.DEFAULT_MAP_FILE


def test_imagenet_labels_are_keras_order() -> None:
    classes = imagenet.imagenet_classes()
    assert len(classes) == 1000
    known = {
        0: ("n01440764", "tench"),
        207: (None, "golden_retriever"),
        281: (None, "tabby"),
        407: (None, "ambulance"),
        508: (None, "computer_keyboard"),
        878: (None, "typewriter_keyboard"),
        978: (None, "seashore"),
    }
    for i, (wnid, label) in known.items():
        assert classes[i][1] == label
        assert wnid is None or classes[i][0] == wnid
    wnids = [w for w, _ in classes]
    # Keras' index order is the sorted WordNet ids: a shifted or dropped line would break it.
    assert wnids == sorted(wnids) and len(set(wnids)) == 1000


def test_shipped_map_is_valid_and_reviewed() -> None:
    raw = json.loads(MAP_FILE.read_text())
    labels = imagenet.imagenet_labels()
    effect = {c.name for c in default_classes().effect_classes()}
    seen: set[int] = set()
    assert set(raw["classes"]) == effect  # every effect class is decided, none forgotten
    for cls, items in raw["classes"].items():
        assert cls in effect and cls != OTHERWISE
        assert raw["notes"][cls].strip(), f"{cls} has no note saying why"
        for i, label in items:
            assert 0 <= i < 1000 and labels[i] == label, (cls, i, label)
            assert i not in seen, f"ImageNet {i} mapped twice"
            seen.add(i)
    table = imagenet.load_map()
    assert table.unsupported == [c for c, items in raw["classes"].items() if not items]
    assert set(table.supported) == {
        "train_passing",
        "writing",
        "wave",
        "typing",
        "ambulance",
        "dog_barking",
        "cars",
        "cat_meowing",
    }
    assert table.classes["cat_meowing"] == (281, 282, 283, 284, 285)
    assert len(table.classes["dog_barking"]) == 118 and 207 in table.classes["dog_barking"]
    assert 508 in table.classes["typing"] and 878 in table.classes["typing"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"typing": [[508, "laptop"]]}, "not 'laptop'"),
        ({"typing": [[1000, "x"]]}, "outside 0..999"),
        ({"typing": [[508, "computer_keyboard"]], "writing": [[508, "computer_keyboard"]]}, "mapped to"),
        ({"unicorn": []}, "not an effect class"),
        ({OTHERWISE: [[0, "tench"]]}, "not an effect class"),
        ({"typing": [["508", "computer_keyboard"]]}, "not an \\[index, label\\] pair"),
    ],
)
def test_bad_maps_are_rejected(change: dict, problem: str) -> None:
    data = {"format": imagenet.MAP_FORMAT, "version": 1, "classes": change}
    with pytest.raises(BadInputError, match=problem):
        imagenet.parse_map(data, "map.json")


def test_map_probs_sums_mapped_mass_and_otherwise_is_the_rest() -> None:
    table = imagenet.load_map()
    names = default_classes().names
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(1000, 0.05), size=16).astype(np.float32)
    out = imagenet.map_probs(p, table)
    assert out.shape == (16, 21)
    np.testing.assert_allclose(out[:, names.index("cat_meowing")], p[:, 281:286].sum(1), rtol=1e-5)
    np.testing.assert_allclose(out[:, names.index("dog_barking")], p[:, 151:269].sum(1), rtol=1e-5)
    np.testing.assert_allclose(out[:, names.index("ambulance")], p[:, 407], rtol=1e-6)
    mapped = sorted(i for idx in table.classes.values() for i in idx)
    np.testing.assert_allclose(out[:, names.index(OTHERWISE)], 1 - p[:, mapped].sum(1), atol=1e-6)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)
    for cls in table.unsupported:
        assert not out[:, names.index(cls)].any(), cls


def test_map_probs_one_hot_cases() -> None:
    table = imagenet.load_map()
    names = default_classes().names
    p = np.zeros((3, 1000), np.float32)
    p[0, 407] = 1.0  # ambulance
    p[1, 620] = 1.0  # laptop: not mapped -> otherwise
    p[2, [281, 817]] = 0.5  # half tabby, half sports car
    out = imagenet.map_probs(p, table)
    assert out[0, names.index("ambulance")] == 1.0 and out[0, names.index(OTHERWISE)] == 0.0
    assert out[1, names.index(OTHERWISE)] == 1.0 and out[1].sum() == 1.0
    assert out[2, names.index("cat_meowing")] == 0.5 and out[2, names.index("cars")] == 0.5
    with pytest.raises(ValueError, match="1000"):
        imagenet.map_probs(np.zeros((1, 999)), table)


def test_tiny_mapped_bundle_builds_saves_and_predicts(tmp_path: Path) -> None:
    folder = imagenet.create_imagenet_bundle(tmp_path / "inet", weights="none", architecture="tiny")
    meta = json.loads((folder / "bundle.json").read_text())
    assert meta["kind"] == "imagenet_mapped" and meta["classes"] == default_classes().names
    table = imagenet.load_map()
    assert meta["unsupported_classes"] == table.unsupported
    assert set(meta["supported_classes"]) == set(table.supported) | {OTHERWISE}
    assert imagenet.parse_map(meta["mapping"]).classes == table.classes  # embedded, self-contained
    assert meta["preprocessing"] == "resnet_v2" and meta["embedding_layer"] == "avg_pool"

    bundle = imagenet.load_imagenet_bundle(folder, meta)  # loads model.keras with safe_mode=True
    assert isinstance(bundle, ModelBundle) and bundle.embedding_dim == 16
    frames = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    probs, emb = bundle.predict(frames)
    assert probs.shape == (3, 21) and emb.shape == (3, 16) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    raw, emb2 = bundle.predict_imagenet(frames)
    np.testing.assert_allclose(probs, imagenet.map_probs(raw, table), atol=1e-6)
    np.testing.assert_allclose(emb, emb2)
    for cls in bundle.unsupported_classes:
        assert not probs[:, bundle.class_names.index(cls)].any()
    # Frames of another size are resized, as ModelBundle.predict does.
    assert bundle.predict(np.zeros((1, 64, 48, 3), np.uint8))[0].shape == (1, 21)


def test_weights_are_only_local_unless_download_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(BadInputError, match=r"resnet152v2_weights_tf_dim_ordering_tf_kernels\.h5"):
        imagenet.create_imagenet_bundle(tmp_path / "a", weights="imagenet")
    with pytest.raises(BadInputError, match="does not exist"):
        imagenet.create_imagenet_bundle(tmp_path / "b", weights=tmp_path / "missing.h5")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_resnet152v2_mapped_bundle_with_random_weights(tmp_path: Path) -> None:
    """The real architecture (60M parameters), built without weights: shapes and loading only."""
    folder = imagenet.create_imagenet_bundle(tmp_path / "resnet", weights="none")
    meta = json.loads((folder / "bundle.json").read_text())
    assert meta["backbone"] == "resnet152v2" and meta["input_size"] == [224, 224]
    from sfxstudio.ml.bundle import ModelBundle

    # TensorFlow here: converting 60M parameters for LiteRT takes ~50 s (bench/ measures it).
    bundle = ModelBundle.load(folder, runtime="tf")  # dispatches on the bundle's kind
    assert bundle.kind == "imagenet_mapped" and bundle.embedding_dim == 2048
    probs, emb = bundle.predict(np.zeros((1, 224, 224, 3), np.uint8))
    assert probs.shape == (1, 21) and emb.shape == (1, 2048)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
