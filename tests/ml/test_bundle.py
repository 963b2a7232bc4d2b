"""Model bundles and backbones: round trips, safe loading, clear rejections, weights resolution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.classes import default_classes
from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.ml import backbones
from sfxstudio.ml.bundle import ModelBundle, save_bundle
from tests.fixtures.models import make_bundle, solid_frames

ROOT = Path(__file__).resolve().parents[2]


def _frames(n: int, size: tuple[int, int] = (32, 32), seed: int = 0) -> np.ndarray:
    w, h = size
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _edit_meta(folder: Path, **changes: object) -> None:
    meta_path = folder / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    meta_path.write_text(json.dumps(meta))


def test_importing_ml_does_not_import_tensorflow() -> None:
    code = (
        "import sys, sfxstudio.ml.bundle, sfxstudio.ml.backbones, sfxstudio.ml.inference, "
        "sfxstudio.ml.train, sfxstudio.ml.tf_setup; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_round_trip_loads_with_safe_mode_and_predicts_like_the_saved_model(tmp_path: Path) -> None:
    import keras

    names = default_classes().names
    keras.utils.set_random_seed(3)
    model, info = backbones.build_classifier("tiny", len(names), (40, 24), weights="none")
    folder = save_bundle(
        model,
        tmp_path / "mine",
        names,
        backbone=info["backbone"],
        preprocessing=info["preprocessing"],
        input_size=(40, 24),
        weights_source=info["weights_source"],
        embedding_layer=info["embedding_layer"],
        description="test",
        training={"epochs": 0},
        parent={"name": "base", "note": "provenance"},
    )
    bundle = ModelBundle.load(folder)
    assert bundle.class_names == names
    assert bundle.input_size == (40, 24)  # (width, height)
    assert bundle.embedding_dim == info["embedding_dim"] == 32
    assert bundle.name == "mine" and bundle.kind == "keras" and bundle.path == folder
    assert bundle.meta["backbone"] == "tiny" and bundle.meta["parent"]["name"] == "base"
    assert bundle.meta["training"] == {"epochs": 0}
    frames = _frames(5, (40, 24))
    probs, emb = bundle.predict(frames)
    assert probs.shape == (5, 21) and probs.dtype == np.float32
    assert emb.shape == (5, 32) and emb.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    expected = model(frames.astype(np.float32), training=False).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    # no temporary folders left beside the bundle
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_predict_batch_sizes_resizing_and_bad_shapes(tiny_bundle: ModelBundle) -> None:
    p1, _ = tiny_bundle.predict(_frames(1))
    p8, _ = tiny_bundle.predict(_frames(8))
    assert p1.shape == (1, 21) and p8.shape == (8, 21)
    p0, e0 = tiny_bundle.predict(np.zeros((0, 32, 32, 3), np.uint8))
    assert p0.shape == (0, 21) and e0.shape == (0, 32)
    # frames at another size are resized: a solid frame stays the same solid frame
    big, _ = tiny_bundle.predict(solid_frames("red", 2, (64, 48)))
    small, _ = tiny_bundle.predict(solid_frames("red", 2, (32, 32)))
    np.testing.assert_allclose(big, small, atol=1e-5)
    with pytest.raises(ValueError, match="RGB"):
        tiny_bundle.predict(np.zeros((2, 32, 32, 4), np.uint8))


def test_color_bundle_maps_solid_colours(color_bundle: ModelBundle) -> None:
    names = color_bundle.class_names
    for colour, expected in [
        ("red", "fire"),
        ("blue", "river"),
        ("green", "otherwise"),
        ("grey", "otherwise"),
    ]:
        probs, _ = color_bundle.predict(solid_frames(colour, 3))
        assert [names[i] for i in probs.argmax(axis=1)] == [expected] * 3, colour
        assert probs.max(axis=1).min() > 0.99
    assert color_bundle.supported_classes == ["fire", "river", "otherwise"]


@pytest.fixture()
def bundle_dir(tmp_path: Path) -> Path:
    return make_bundle(tmp_path, classes=["fire", "river", "otherwise"])


def test_missing_things_are_named(tmp_path: Path, bundle_dir: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist") as e:
        ModelBundle.load(tmp_path / "nope")
    assert e.value.path == str(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInputError, match="not a model folder"):
        ModelBundle.load(tmp_path / "file")
    (bundle_dir / "model.keras").unlink()
    with pytest.raises(BadInputError, match="missing") as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "model.keras")
    (bundle_dir / "bundle.json").unlink()
    with pytest.raises(BadInputError, match="missing") as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "bundle.json")


def test_broken_json_is_rejected_with_its_position(bundle_dir: Path) -> None:
    (bundle_dir / "bundle.json").write_text('{"format": "sfxstudio-model", "classes": [}')
    with pytest.raises(BadInputError, match=r"not valid JSON \(line 1") as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "bundle.json")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "something-else"}, "not an SFX Studio model"),
        ({"version": 2}, "newer SFX Studio"),
        ({"classes": []}, "non-empty list"),
        ({"classes": ["fire", "river", "rain"]}, "must include 'otherwise'"),
        ({"classes": ["fire", "fire", "otherwise"]}, "repeat: fire"),
        ({"input_size": [32]}, "input_size"),
        ({"preprocessing": "magic"}, "unknown preprocessing"),
        ({"kind": "onnx"}, "not supported"),
        ({"supported_classes": ["dog_barking"]}, "supported_classes"),
    ],
)
def test_invalid_bundle_json_is_rejected(bundle_dir: Path, changes: dict, message: str) -> None:
    _edit_meta(bundle_dir, **changes)
    with pytest.raises(BadInputError, match=message) as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "bundle.json")


def test_wrong_class_count_is_rejected(bundle_dir: Path) -> None:
    _edit_meta(bundle_dir, classes=["fire", "otherwise"])
    with pytest.raises(BadInputError, match=r"3 outputs but bundle\.json names 2 classes") as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "model.keras")


def test_wrong_input_size_and_embedding_layer_are_rejected(bundle_dir: Path) -> None:
    _edit_meta(bundle_dir, input_size=[64, 64])
    with pytest.raises(BadInputError, match="does not match input_size 64x64"):
        ModelBundle.load(bundle_dir)
    _edit_meta(bundle_dir, input_size=[32, 32], embedding_layer="penultimate")
    with pytest.raises(BadInputError, match="no layer named 'penultimate'"):
        ModelBundle.load(bundle_dir)


def test_text_file_named_model_keras_is_rejected(bundle_dir: Path) -> None:
    (bundle_dir / "model.keras").write_text("this is not a model\n")
    with pytest.raises(BadInputError, match="not a Keras model file") as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "model.keras")


def test_truncated_model_file_is_rejected(bundle_dir: Path) -> None:
    data = (bundle_dir / "model.keras").read_bytes()
    (bundle_dir / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError) as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "model.keras")


def test_lambda_layers_are_refused_by_safe_mode(bundle_dir: Path) -> None:
    import keras

    inp = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(4, name="embedding")(x)
    out = keras.layers.Dense(3, activation="softmax")(x)
    keras.Model(inp, out).save(bundle_dir / "model.keras")
    with pytest.raises(BadInputError, match=r"contains code \(a Lambda layer\); refused$") as e:
        ModelBundle.load(bundle_dir)
    assert e.value.path == str(bundle_dir / "model.keras")


def test_save_bundle_refuses_to_overwrite_unless_asked(tmp_path: Path, bundle_dir: Path) -> None:
    import keras

    keras.utils.set_random_seed(1)
    model, _ = backbones.build_classifier("tiny", 3, (32, 32), weights="none")
    args = dict(
        class_names=["fire", "river", "otherwise"],
        backbone="tiny",
        preprocessing="unit",
        input_size=(32, 32),
        weights_source="none",
        description="second",
    )
    before = (bundle_dir / "model.keras").read_bytes()
    with pytest.raises(ExportError, match="not empty"):
        save_bundle(model, bundle_dir, **args)
    assert (bundle_dir / "model.keras").read_bytes() == before
    save_bundle(model, bundle_dir, overwrite=True, **args)
    assert ModelBundle.load(bundle_dir).description == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == [bundle_dir.name]
    # an empty folder is fine to fill
    (tmp_path / "empty").mkdir()
    save_bundle(model, tmp_path / "empty", **args)
    assert ModelBundle.load(tmp_path / "empty").class_names == ["fire", "river", "otherwise"]


def test_save_bundle_checks_before_writing(tmp_path: Path) -> None:
    model, _ = backbones.build_classifier("tiny", 3, (32, 32), weights="none")
    with pytest.raises(ExportError, match=r"3 outputs but bundle\.json names 2"):
        save_bundle(model, tmp_path / "bad", ["fire", "otherwise"], "tiny", "unit", (32, 32), "none")
    with pytest.raises(ExportError, match="otherwise"):
        save_bundle(model, tmp_path / "bad", ["fire", "river", "rain"], "tiny", "unit", (32, 32), "none")
    assert list(tmp_path.iterdir()) == []


# --- backbones ------------------------------------------------------------------------------


def test_classifier_layout_and_sizes() -> None:
    model, info = backbones.build_classifier("democnn", 21, weights="none")
    assert model.input_shape == (None, 96, 96, 3)
    assert model.output_shape == (None, 21)
    assert info["input_size"] == [96, 96] and info["embedding_dim"] == 128
    assert 100_000 <= backbones.count_params(model) <= 300_000
    for name in ("backbone", "embedding", "probs"):
        model.get_layer(name)
    tiny, _ = backbones.build_classifier("tiny", 21, weights="none")
    assert backbones.count_params(tiny) < 15_000
    with pytest.raises(BadInputError, match="unknown backbone"):
        backbones.build_classifier("vgg99", 3)


def test_imagenet_weights_come_from_the_keras_cache_or_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert backbones.expected_weights_file("resnet152v2") == (
        "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    assert backbones.expected_weights_file("efficientnetb0") == "efficientnetb0_notop.h5"
    assert backbones.find_cached_weights("resnet152v2") is None
    # no cache, no download allowed: the message names the file and where it goes (no network)
    with pytest.raises(BadInputError, match="not in the Keras cache") as e:
        backbones.build_classifier("resnet152v2", 21, weights="imagenet")
    assert e.value.path == str(tmp_path / "models" / backbones.expected_weights_file("resnet152v2"))
    cached = tmp_path / "models" / backbones.expected_weights_file("mobilenetv3small")
    cached.parent.mkdir()
    cached.write_bytes(b"")
    assert backbones.find_cached_weights("mobilenetv3small") == cached
    spec = backbones.backbone_spec("mobilenetv3small")
    path, source = backbones._resolve_weights(spec, "imagenet", allow_download=False)
    assert path == str(cached) and source.startswith("imagenet (keras cache")
    assert backbones._resolve_weights(spec, "imagenet", allow_download=True)[0] == str(cached)
    with pytest.raises(BadInputError, match="no ImageNet weights"):
        backbones.build_classifier("tiny", 3, weights="imagenet")


def test_local_weights_file_is_loaded_or_named(tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(5)
    src, _ = backbones.build_classifier("tiny", 3, weights="none")
    path = tmp_path / "tiny.weights.h5"
    src.get_layer("backbone").save_weights(path)
    model, info = backbones.build_classifier("tiny", 3, weights=str(path))
    for a, b in zip(
        src.get_layer("backbone").get_weights(), model.get_layer("backbone").get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert info["pretrained"] and info["weights_source"] == str(path.resolve())
    with pytest.raises(BadInputError, match="does not exist"):
        backbones.build_classifier("tiny", 3, weights=str(tmp_path / "missing.h5"))
    junk = tmp_path / "junk.weights.h5"
    junk.write_text("junk")
    with pytest.raises(BadInputError, match="cannot load these weights") as e:
        backbones.build_classifier("tiny", 3, weights=str(junk))
    assert e.value.path == str(junk)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SFX_SLOW_TESTS") != "1", reason="set SFX_SLOW_TESTS=1 (builds ResNet152V2)"
)
def test_resnet152v2_builds_saves_and_loads(tmp_path: Path) -> None:
    model, _ = backbones.build_classifier("resnet152v2", 21, weights="none")
    folder = save_bundle(
        model, tmp_path / "r", default_classes().names, "resnet152v2", "resnet_v2", (224, 224), "none"
    )
    probs, emb = ModelBundle.load(folder).predict(_frames(2, (224, 224)))
    assert probs.shape == (2, 21) and emb.shape == (2, 256)
