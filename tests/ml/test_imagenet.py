"""The ImageNet-mapped recogniser: label table, mapping table, probability maths, the bundle."""

from __future__ import annotations

import dataclasses
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


def _plain(table: imagenet.ImagenetMap) -> imagenet.ImagenetMap:
    """The table without calibration: p(class) is the plain summed mass."""
    return dataclasses.replace(table, present_mass=0.5, class_present_mass=())


def test_map_probs_sums_mapped_mass_and_otherwise_is_the_rest() -> None:
    table = _plain(imagenet.load_map())
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
    table = _plain(imagenet.load_map())
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


def test_calibration_puts_each_class_at_half_when_it_holds_its_present_mass() -> None:
    table = imagenet.load_map()
    names = default_classes().names
    theta_cars, theta_dog = table.theta("cars"), table.theta("dog_barking")
    assert 0.0 < theta_cars < 0.5 and theta_dog > theta_cars  # dog breeds collect stray mass
    p = np.zeros((4, 1000), np.float32)
    p[0, 0], p[0, 468] = 1 - theta_cars, theta_cars  # tench (unmapped) + cab at theta
    p[1, 0], p[1, 207] = 1 - theta_dog, theta_dog  # golden retriever at theta
    p[2, 0], p[2, 207] = 1 - theta_cars, theta_cars  # a dog at the cars' theta: below half
    p[3, 0] = 1.0  # nothing mapped
    out = imagenet.map_probs(p, table)
    assert out[0, names.index("cars")] == pytest.approx(0.5, abs=1e-5)
    assert out[1, names.index("dog_barking")] == pytest.approx(0.5, abs=1e-5)
    assert out[2, names.index("dog_barking")] < 0.5
    assert out[3, names.index(OTHERWISE)] == 1.0
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)
    # Monotone: more mass never scores lower; the ranking of frames by a class is kept.
    q = np.zeros((5, 1000), np.float32)
    q[:, 468] = [0.01, 0.05, 0.1, 0.3, 0.9]
    q[:, 0] = 1 - q[:, 468]
    assert np.all(np.diff(imagenet.map_probs(q, table)[:, names.index("cars")]) > 0)


@pytest.mark.parametrize(
    ("calibration", "problem"),
    [
        ({"present_mass": 0.0}, "present_mass must be a number"),
        ({"present_mass": float("nan")}, "present_mass must be a number"),
        ({"present_mass": True}, "present_mass must be a number"),
        ({"per_class": {"unicorn": 0.2}}, "not an effect class"),
        ({"per_class": {"cars": 1.5}}, "per_class cars"),
        ({"per_class": []}, "per_class must be an object"),
        ("high", "'calibration' must be an object"),
    ],
)
def test_bad_calibrations_are_rejected(calibration: object, problem: str) -> None:
    data = {"format": imagenet.MAP_FORMAT, "version": 1, "classes": {}, "calibration": calibration}
    with pytest.raises(BadInputError, match=problem):
        imagenet.parse_map(data, "map.json")


def test_calibration_travels_with_the_bundle_table() -> None:
    table = imagenet.load_map()
    again = imagenet.parse_map(table.to_json(), "bundle.json")
    assert again.present_mass == table.present_mass
    assert again.class_present_mass == table.class_present_mass
    assert again.calibration_note == table.calibration_note


def test_builtin_recogniser_resolves_offline_to_a_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'imagenet' names the built-in recogniser; its folder is keyed by the table and weights."""
    monkeypatch.setenv("SFXSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    folder = imagenet.builtin_bundle_dir()
    assert folder.parent == tmp_path / "cache" / "models"
    assert folder.name.startswith(imagenet.BUILTIN_PREFIX)
    assert imagenet.is_builtin_name("imagenet") and imagenet.is_builtin_name(" ImageNet ")
    assert not imagenet.is_builtin_name("./imagenet") and not imagenet.is_builtin_name(Path("imagenet"))
    other = tmp_path / "some-bundle"
    assert imagenet.resolve_model(str(other)) == other  # a folder path is left to the loader
    # Another table (an edit of the shipped one) gets another folder: never a stale model.
    edited = dataclasses.replace(imagenet.load_map(), present_mass=0.2)
    assert imagenet.builtin_bundle_dir(edited) != folder
    calls: list[Path] = []

    def fake_create(out_dir: Path, weights: str, **kw: object) -> Path:
        calls.append(Path(out_dir))
        assert weights == "imagenet" and kw["architecture"] == "efficientnetlite0"
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True)
        meta = {"format": "sfxstudio-model", "version": 1, "kind": "imagenet_mapped",
                "classes": default_classes().names, "input_size": [224, 224],
                "mapping": imagenet.load_map().to_json()}
        (out_dir / "bundle.json").write_text(json.dumps(meta))
        (out_dir / "model.keras").write_bytes(b"x")
        return out_dir

    monkeypatch.setattr(imagenet, "create_imagenet_bundle", fake_create)
    stale = folder.parent / f"{imagenet.BUILTIN_PREFIX}0000"
    stale.mkdir(parents=True)
    assert imagenet.resolve_model("imagenet") == folder and calls == [folder]
    assert imagenet.resolve_model("imagenet") == folder and len(calls) == 1  # built once
    assert not stale.exists()  # an older build is removed
    # The built-in folder itself, removed behind our back, is rebuilt when named.
    import shutil

    shutil.rmtree(folder)
    assert imagenet.resolve_model(str(folder)) == folder and len(calls) == 2
