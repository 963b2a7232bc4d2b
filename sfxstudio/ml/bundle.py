"""Model bundles: a folder with bundle.json (what the model is) and model.keras (the model).

bundle.json (DESIGN.md section 4):
    {"format": "sfxstudio-model", "version": 1, "name", "kind": "keras",
     "classes": [names in output order, including "otherwise"], "input_size": [w, h],
     "preprocessing": "resnet_v2" | "mobilenet_v3" | "efficientnet" | "efficientnet_lite" | "unit" | "raw",
     "preprocessing_in_model": true, "backbone", "weights_source", "embedding_layer",
     "supported_classes" (optional), "description", "training": {...}, "parent" (optional)}

Models made by SFX Studio take float32 RGB in 0..255 and do their preprocessing with Keras
layers inside the graph ("preprocessing_in_model": true); "preprocessing" records which.
A bundle made elsewhere may say "preprocessing_in_model": false, and then predict() applies the
named preprocessing before the model. model.keras is always loaded with safe_mode=True: a
bundle is a file people share, and it must not be able to run code.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core import validate
from sfxstudio.core.atomic import atomic_write_text
from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError, ExportError

log = logging.getLogger(__name__)

FORMAT = "sfxstudio-model"
KINDS = ("keras", "imagenet_mapped", "zeroshot")  # see sfxstudio.ml.imagenet, sfxstudio.ml.zeroshot
VERSION = 1
BUNDLE_JSON = "bundle.json"
MODEL_FILE = "model.keras"
PREPROCESSING = ("resnet_v2", "mobilenet_v3", "efficientnet", "efficientnet_lite", "unit", "raw")


# Bounds on what bundle.json may ask for: a bundle is a file people share, and no field may
# make us allocate or loop in proportion to an untrusted number.
MAX_BUNDLE_JSON_BYTES = 16 << 20
MAX_CLASSES = 1000
MIN_INPUT_SIDE, MAX_INPUT_SIDE = 8, 2048
MAX_MODEL_VERSION = 1_000_000
MAX_TEXT = 100_000  # description, weights_source...
# model.keras: the archive may unpack to at most this much (ResNet152V2 is ~240 MB), and its
# config.json (the layer graph, read before Keras sees the file) to at most this much.
MAX_MODEL_UNPACKED_BYTES = 8 << 30
MAX_MODEL_CONFIG_BYTES = 64 << 20
MAX_EMBEDDING = 1 << 16  # values per frame kept in the analysis
_MESSAGE_LIMIT = 200


def one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """The first line of a (library's) message, clipped: errors the user sees are one short line."""
    first = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


def _bad(where: Path | str, problem: str) -> BadInputError:
    return BadInputError(where, one_line(problem))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"{one_line(text, 40)} is too large a number")
    return x


def _json(text: str) -> Any:
    """json.loads refusing NaN, Infinity and numbers that overflow to infinity."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)


def parse_bundle_json(raw: bytes, where: Path) -> dict[str, Any]:
    """bundle.json's bytes -> its validated content (BadInputError naming `where` otherwise)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(where, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        meta = _json(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            where, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise _bad(where, f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad(where, "is not usable JSON (nested too deeply)") from None
    return validate_meta(meta, where)


def read_bundle_json(folder: str | Path) -> dict[str, Any]:
    """The one reader of a bundle folder's bundle.json: read, parse and validate it.

    Every problem is a one-line BadInputError naming the folder or bundle.json.
    """
    folder = Path(folder)
    if not folder.exists():
        raise BadInputError(folder, "model folder does not exist")
    if not folder.is_dir():
        raise BadInputError(
            folder, f"is not a model folder (expected a folder with {BUNDLE_JSON} and {MODEL_FILE})"
        )
    path = folder / BUNDLE_JSON
    if not path.exists():
        raise BadInputError(path, "is missing; a model folder needs bundle.json and model.keras")
    if not path.is_file():
        raise BadInputError(path, "is not a file")
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_JSON_BYTES:
            raise BadInputError(
                path, f"is {size} bytes; a bundle.json is at most {MAX_BUNDLE_JSON_BYTES} bytes"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_bundle_json(raw, path)


def _names(value: Any, field: str, max_len: int = MAX_CLASSES) -> list[str]:
    """A list of unique safe names (ValueError naming the field and the value otherwise)."""
    items = validate.array(value, field, max_len=max_len)
    names = [validate.safe_name(v, f"{field}[{i}]") for i, v in enumerate(items)]
    dupes = sorted({n for i, n in enumerate(names) if n in names[:i]}) if len(set(names)) < len(names) else []
    if dupes:
        raise ValueError(f"{field}: class names repeat: {', '.join(dupes)}")
    return names


def _model_version(value: Any, field: str) -> None:
    if value is not None:
        validate.integer(value, field, 1, MAX_MODEL_VERSION)


def validate_meta(meta: Any, where: Path | str) -> dict[str, Any]:
    """Check bundle.json's content: types, known values, finite numbers in range, bounded sizes.

    Returns meta; every problem is a one-line BadInputError naming `where` ("field: problem").
    """
    try:
        return _validate_meta(meta, where)
    except ValueError as exc:
        raise _bad(where, str(exc)) from None


def _validate_meta(meta: Any, where: Path | str) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise _bad(where, f"is not a JSON object (it is a {type(meta).__name__})")
    fmt = meta.get("format")
    if fmt != FORMAT:
        shown = fmt if isinstance(fmt, str | int | float | bool) or fmt is None else type(fmt).__name__
        raise _bad(where, f"is not an SFX Studio model (format is {shown!r}, not {FORMAT!r})")
    version = validate.integer(meta.get("version"), "version")
    if version > VERSION:
        raise _bad(
            where, f"was made by a newer SFX Studio (bundle version {version}, this one reads {VERSION})"
        )
    if version < 1:
        raise _bad(where, f"version: unknown bundle version {version}")
    kind = meta.get("kind", "keras")
    if not isinstance(kind, str) or kind not in KINDS:
        raise _bad(where, f"kind: model kind {kind!r} is not supported (one of {', '.join(KINDS)})")
    classes = meta.get("classes")
    if not isinstance(classes, list) or not classes:
        raise _bad(where, "classes: 'classes' must be a non-empty list of class names")
    names = _names(classes, "classes")
    if OTHERWISE not in names:
        raise _bad(where, f"classes: 'classes' must include {OTHERWISE!r} (frames with no effect)")
    if len(names) < 2:
        raise _bad(where, "classes: a model needs at least one effect class besides 'otherwise'")
    size = meta.get("input_size")
    if not isinstance(size, list) or len(size) != 2:
        raise _bad(where, f"input_size: 'input_size' must be [width, height] in pixels, not {size!r}")
    for axis, v in zip(("width", "height"), size, strict=True):
        validate.integer(v, f"input_size {axis}", MIN_INPUT_SIDE, MAX_INPUT_SIDE)
    prep = meta.get("preprocessing", "raw")
    if not isinstance(prep, str) or prep not in PREPROCESSING:
        raise _bad(
            where,
            f"preprocessing: unknown preprocessing {prep!r}; expected one of {', '.join(PREPROCESSING)}",
        )
    if "preprocessing_in_model" in meta:
        validate.boolean(meta["preprocessing_in_model"], "preprocessing_in_model")
    for key in ("supported_classes", "unsupported_classes"):
        if meta.get(key) is not None:
            listed = _names(meta[key], key)
            outside = [n for n in listed if n not in names]
            if outside:
                raise _bad(
                    where, f"{key}: '{key}' must be a list of names taken from 'classes', "
                    f"not {outside[0]!r}"
                )
    emb = meta.get("embedding_layer", "embedding")
    if not isinstance(emb, str) or not emb or len(emb) > 255:
        raise _bad(where, f"embedding_layer: 'embedding_layer' must be a layer name, not {emb!r}")
    for key in ("name", "backbone", "weights_source", "description", "created", "keras_version",
                "mapping_source"):
        if meta.get(key) is not None:
            validate.text(meta[key], key, max_len=MAX_TEXT)
    _model_version(meta.get("model_version"), "model_version")
    training = meta.get("training")
    if training is not None:
        validate.obj(training, "training")
        _model_version(training.get("model_version"), "training.model_version")
    parent = meta.get("parent")
    if parent is not None and not isinstance(parent, str):
        validate.obj(parent, "parent")
        _model_version(parent.get("model_version"), "parent.model_version")
        for key in ("name", "path", "kind"):
            if parent.get(key) is not None:
                validate.text(parent[key], f"parent.{key}", max_len=MAX_TEXT)
    elif isinstance(parent, str):
        validate.text(parent, "parent", max_len=MAX_TEXT)
    if kind == "imagenet_mapped":
        from sfxstudio.ml.imagenet import parse_map

        validate.obj(meta.get("mapping"), "mapping")
        parse_map(meta["mapping"], where)
    if kind == "zeroshot":  # preset, family, embedding_dim, prompts, calibration
        from sfxstudio.ml.zeroshot import validate_zeroshot_meta

        validate_zeroshot_meta(meta)
    return meta


def _preprocess_outside(x: Any, prep: str) -> Any:
    """The named preprocessing as TF ops, for bundles whose graph does not include it."""
    if prep == "unit":
        return x / 255.0
    if prep in ("resnet_v2", "mobilenet_v3"):
        return x / 127.5 - 1.0
    if prep == "efficientnet":
        mean = np.array([0.485, 0.456, 0.406], np.float32) * 255.0
        std = np.array([0.229, 0.224, 0.225], np.float32) * 255.0
        return (x - mean) / std
    if prep == "efficientnet_lite":  # EfficientNet-Lite0 (sfxstudio.ml.efficientnet_lite)
        return (x - 127.0) / 128.0
    return x


def traced_forward(net: Any, size: tuple[int, int], prepare: Any = None,
                   jit: bool = False) -> Any:
    """One tf.function over uint8 (B, h, w, 3) frames -> (float32 output 0, float32 output 1).

    A call per batch instead of model.predict(): predict() builds a dataset and callback
    machinery each call, which dominates for the small batches of a streaming analysis. The
    fixed signature with a free batch size traces once. `prepare` maps the float32 input first.
    """
    from sfxstudio.ml import tf_setup

    tf = tf_setup.tf()
    w, h = size

    @tf.function(input_signature=[tf.TensorSpec((None, h, w, 3), tf.uint8)], jit_compile=jit)
    def _forward(x: Any) -> Any:
        x = tf.cast(x, tf.float32)
        if prepare is not None:
            x = prepare(x)
        a, b = net(x, training=False)
        return tf.cast(a, tf.float32), tf.cast(b, tf.float32)

    return _forward


def model_io_shapes(model: Any, where: Path | str) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """(the shapes of the model's outputs, the shape of its one input); BadInputError otherwise."""
    try:
        inputs = list(model.inputs)
        outputs = [tuple(o.shape) for o in model.outputs]
    except (AttributeError, TypeError, ValueError):
        raise BadInputError(where, "is not a functional Keras model with known inputs and outputs") from None
    if len(inputs) != 1:
        raise BadInputError(where, f"the model takes {len(inputs)} inputs; it must take one (the frames)")
    if not outputs or any(not all(d is None or isinstance(d, int) for d in o) for o in outputs):
        raise BadInputError(where, "the model's outputs have no usable shape")
    if any(len(o) < 2 or o[-1] is None for o in outputs):
        raise BadInputError(where, f"the model's outputs {[o[1:] for o in outputs]} have no fixed width")
    return outputs, tuple(inputs[0].shape)


class ModelBundle:
    """A loaded model: class names, input size, and predict() -> (probabilities, embeddings).

    `runtime` says what runs the model: "tf" (TensorFlow) or "lite" (the same model converted
    to LiteRT and run by XNNPACK, see sfxstudio.ml.lite). A bundle loaded from its LiteRT
    conversion has no Keras model in memory until `model` is first asked for (teaching).
    """

    def __init__(self, path: Path | None, meta: dict[str, Any], model: Any,
                 compiled: dict[str, Any] | None = None) -> None:
        """Wrap a Keras model already checked against meta; use load() or from_model().

        compiled: a cached LiteRT conversion (lite.find_compiled) to run instead of TensorFlow;
        model may then be None and is loaded on first use of `model`.
        """
        self.path = path
        self.meta = meta
        self._model = model
        self._model_lock = threading.Lock()
        # tf.function tracing is not thread-safe to race, nor is a LiteRT interpreter: calls
        # are serialised per bundle.
        self._lock = threading.Lock()
        self.runtime = "tf"
        self.runtime_note = ""
        prep = meta.get("preprocessing", "raw")
        outside = not meta.get("preprocessing_in_model", True)
        self._prepare: Any = (lambda x: _preprocess_outside(x, prep)) if outside else None
        if model is None:
            if compiled is None:
                raise ValueError("a bundle needs a Keras model or a compiled one")
        else:
            self._check_model(model)
        if compiled is not None:
            self._use_compiled(compiled)

    def _where(self) -> Path | str:
        return self.path / MODEL_FILE if self.path else "model"

    def _output0_dim(self) -> int:
        """Width of the model's first output (class probabilities here)."""
        return len(self.class_names)

    def _check_model(self, model: Any) -> None:
        """Check the Keras model against bundle.json; set up its TensorFlow forward pass."""
        import keras

        from sfxstudio.ml import tf_setup

        where = self._where()
        outputs, shape = model_io_shapes(model, where)
        if len(outputs) != 1:
            raise BadInputError(
                where, f"the model has {len(outputs)} outputs; a keras bundle has one (class probabilities)"
            )
        if len(outputs[0]) != 2:
            raise BadInputError(
                where, f"the model's output {outputs[0][1:]} is not one row of class probabilities")
        n_out = outputs[0][-1]
        if n_out != len(self.class_names):
            raise BadInputError(
                where, f"the model has {n_out} outputs but bundle.json names {len(self.class_names)} classes"
            )
        w, h = self.input_size
        if len(shape) != 4 or shape[3] != 3 or (shape[1], shape[2]) not in ((h, w), (None, None)):
            raise BadInputError(where, f"the model's input {shape[1:]} does not match input_size {w}x{h} RGB")
        emb_name = self.meta.get("embedding_layer", "embedding")
        try:
            emb_layer = model.get_layer(emb_name)
            emb_shape = tuple(emb_layer.output.shape)
        except (ValueError, AttributeError):
            raise BadInputError(
                where, f"the model has no layer named {emb_name!r} (embedding_layer)"
            ) from None
        if len(emb_shape) != 2 or not isinstance(emb_shape[1], int) or not 1 <= emb_shape[1] <= MAX_EMBEDDING:
            raise BadInputError(
                where, f"the embedding layer {emb_name!r} gives {emb_shape[1:]}, not one vector per frame"
            )
        # One forward pass gives both outputs: the embedding is what "learn from my corrections"
        # trains on, and running the model twice would halve analysis speed.
        try:
            self._predictor = keras.Model(model.inputs, [model.outputs[0], emb_layer.output])
        except (ValueError, TypeError, AttributeError) as exc:
            raise _bad(where, f"the embedding layer {emb_name!r} cannot be read beside the output "
                              f"({one_line(str(exc), 80)})") from None
        self.embedding_dim = int(emb_shape[1])
        # XLA fuses the backbone's ops on a GPU; on a CPU it compiles slowly and gains little.
        self._forward: Any = traced_forward(
            self._predictor, (w, h), prepare=self._prepare, jit=tf_setup.using_gpu())

    @property
    def model(self) -> Any:
        """The Keras model (loaded now if the bundle was opened from its LiteRT conversion)."""
        with self._model_lock:
            if self._model is None:
                assert self.path is not None
                self._model = load_keras_model(self.path / MODEL_FILE)
            return self._model

    # --- the CPU runtime ------------------------------------------------------------------

    @property
    def runtime_label(self) -> str:
        """What runs the model, for the status bar: "LiteRT (XNNPACK)" or "TensorFlow"."""
        return "LiteRT (XNNPACK)" if self.runtime == "lite" else "TensorFlow"

    def _use_compiled(self, info: dict[str, Any]) -> None:
        from sfxstudio.ml.lite import LiteForward

        forward = LiteForward(Path(info["path"]), (int(info["outputs"][0]), int(info["outputs"][1])),
                              self.input_size, prepare=self._prepare)
        if forward.output_dims[0] != self._output0_dim():
            raise BadInputError(info["path"], "the cached conversion does not match the bundle's classes")
        self.embedding_dim = forward.output_dims[1]
        with self._lock:
            self._forward = forward
        self.runtime = "lite"

    def compiled_key(self) -> str | None:
        """The LiteRT cache key of a bundle loaded from a folder (None for in-memory bundles)."""
        from sfxstudio.ml import lite

        if self.path is None:
            return None
        return lite.compiled_key(self.path / MODEL_FILE, self.meta)

    def use_lite(self) -> bool:
        """Switch to the LiteRT runtime, converting (once per model and machine) if needed.

        A conversion that fails or disagrees with TensorFlow leaves the bundle on TensorFlow,
        with the reason in runtime_note; returns whether LiteRT is now used.
        """
        from sfxstudio.ml import lite

        if self.runtime == "lite":
            return True
        key = self.compiled_key()
        if key is None:
            self.runtime_note = "in-memory model: runs on TensorFlow"
            return False
        info = lite.find_compiled(key)
        if info is not None:
            try:
                self._use_compiled(info)
                return True
            except Exception as exc:  # a damaged cache file: any interpreter error
                log.warning("%s: cached conversion unusable (%s); converting again", self.path, exc)
                lite.discard(key)
        try:
            info = lite.compile_model(self._predictor, key, self.input_size, reference=self._forward,
                                      prepare=self._prepare, source=str(self.path))
            self._use_compiled(info)
        except Exception as exc:  # converter and interpreter errors come in many types
            log.warning("%s: staying on TensorFlow: %s", self.path, exc)
            self.runtime_note = str(exc)
            return False
        return True

    # --- loading --------------------------------------------------------------------------

    @classmethod
    def load(cls, folder: str | Path, runtime: str | None = None) -> ModelBundle:
        """Load a bundle folder. runtime: "auto" | "tf" | "lite" (None: $SFXSTUDIO_RUNTIME or
        auto, which is LiteRT on a CPU, TensorFlow on a GPU; see sfxstudio.ml.lite)."""
        from sfxstudio.ml import lite

        folder = Path(folder)
        meta = read_bundle_json(folder)
        model_path = folder / MODEL_FILE
        use = lite.resolve_runtime(runtime)
        if meta.get("kind") == "imagenet_mapped":
            from sfxstudio.ml.imagenet import ImagenetMappedBundle, check_imagenet_meta

            check_imagenet_meta(folder, meta)
            cls = ImagenetMappedBundle
        elif meta.get("kind") == "zeroshot":
            # No model.keras: the image and text encoders come from a keras-hub preset folder.
            from sfxstudio.ml.zeroshot import load_zeroshot_bundle

            return load_zeroshot_bundle(folder, meta, use)
        check_model_file(model_path)
        if use == "lite":
            # Cached conversion: no Keras model to build (ResNet152V2: ~1.5 s instead of ~12 s).
            key = lite.compiled_key(model_path, meta)
            info = lite.find_compiled(key)
            if info is not None:
                try:
                    return cls(folder, meta, None, compiled=info)
                except Exception as exc:  # a damaged cache file: any interpreter error
                    log.warning("%s: cached conversion unusable (%s); converting again", folder, exc)
                    lite.discard(key)
        bundle = cls(folder, meta, load_keras_model(model_path))
        if use == "lite":
            bundle.use_lite()
        return bundle

    @classmethod
    def from_model(cls, model: Any, meta: dict[str, Any]) -> ModelBundle:
        """An in-memory bundle (e.g. right after training), checked like a loaded one."""
        meta = validate_meta(dict(meta), Path("bundle.json"))
        return cls(None, meta, model)

    # --- properties -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or (self.path.name if self.path else "model"))

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "keras"))

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the frames the model was trained on."""
        w, h = self.meta["input_size"]
        return int(w), int(h)

    @property
    def supported_classes(self) -> list[str]:
        """Classes the model actually recognises (all of them unless bundle.json narrows it)."""
        return list(self.meta.get("supported_classes") or self.meta["classes"])

    @property
    def description(self) -> str:
        return str(self.meta.get("description", ""))

    def __repr__(self) -> str:
        w, h = self.input_size
        return f"ModelBundle({self.name!r}, {len(self.class_names)} classes, {w}x{h})"

    # --- inference ------------------------------------------------------------------------

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """frames: uint8 (B, H, W, 3) RGB (resized to input_size when H, W differ).

        -> (probabilities float32 (B, C), embeddings float32 (B, D)).
        """
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (batch, height, width, 3) RGB, got shape {frames.shape}")
        if frames.shape[0] == 0:
            return (
                np.zeros((0, len(self.class_names)), np.float32),
                np.zeros((0, self.embedding_dim), np.float32),
            )
        w, h = self.input_size
        if frames.shape[1:3] != (h, w):
            # Callers should hand frames at input_size (media resizes in C while decoding);
            # this keeps odd sizes working rather than failing.
            from sfxstudio.ml import tf_setup

            tf = tf_setup.tf()
            resized = tf.image.resize(frames, (h, w), method="area")
            frames = np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8)
        elif frames.dtype != np.uint8:
            frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
        probs, emb = self._run(frames)
        return probs, emb

    def _run(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The forward pass on uint8 frames at input_size; a model that fails or gives
        non-finite numbers is a bad model file (BadInputError naming it), not a crash."""
        try:
            with self._lock:
                out0, emb = self._forward(frames)
            out0, emb = np.asarray(out0), np.asarray(emb)
        except (BadInputError, MemoryError):
            raise
        except Exception as exc:  # TensorFlow and LiteRT raise many types
            problem = f"failed to run ({type(exc).__name__}: {one_line(str(exc), 120)})"
            raise _bad(self._where(), problem) from None
        if not (np.isfinite(out0).all() and np.isfinite(emb).all()):
            raise BadInputError(self._where(), "gives numbers that are not finite (NaN or infinity); "
                                               "its weights are damaged")
        if out0.size and (out0.min() < -1e-3 or out0.max() > 1.0 + 1e-3):
            raise BadInputError(self._where(), "gives values outside 0..1; its output is not probabilities")
        return out0, emb


def check_model_file(path: Path) -> None:
    """model.keras exists and is a non-empty regular file (BadInputError naming it otherwise)."""
    if not path.exists():
        raise BadInputError(path, "is missing; a model folder needs bundle.json and model.keras")
    if not path.is_file():
        raise BadInputError(path, "is not a file (a Keras model file was expected)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise BadInputError(path, "is empty (0 bytes); not a Keras model")


def _code_in_config(config: Any) -> str | None:
    """What in a Keras config.json carries Python code ("a Lambda layer"...), or None.

    Keras' safe_mode refuses these too; looking first gives a plain one-line reason instead of
    Keras' message (which quotes the layer's whole config).
    """
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("class_name")
            if name in ("Lambda", "TFOpLambda"):
                return "a Lambda layer"
            if name == "__lambda__":
                return "a Python lambda"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _inspect_archive(path: Path) -> None:
    """Refuse, before Keras reads it, a .keras file that is damaged, too big or carries code."""
    if not zipfile.is_zipfile(path):
        raise BadInputError(path, "is not a Keras model file (.keras files are zip archives)")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "config.json" not in names:
                raise BadInputError(path, "is a zip archive but not a Keras model (it has no config.json)")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > MAX_MODEL_UNPACKED_BYTES:
                raise BadInputError(
                    path, f"unpacks to {unpacked} bytes; at most {MAX_MODEL_UNPACKED_BYTES} are allowed"
                )
            if z.getinfo("config.json").file_size > MAX_MODEL_CONFIG_BYTES:
                raise BadInputError(path, "has a config.json too large for a model description")
            raw = z.read("config.json")
    except BadInputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as exc:  # damaged, encrypted, odd compression
        problem = f"is a damaged zip archive ({type(exc).__name__}: {one_line(str(exc), 100)})"
        raise _bad(path, problem) from None
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        problem = f"has a damaged config.json ({type(exc).__name__}: {one_line(str(exc), 100)})"
        raise _bad(path, problem) from None
    if not isinstance(config, dict):
        raise BadInputError(path, "has a config.json that is not a JSON object; not a Keras model")
    code = _code_in_config(config)
    if code:
        raise BadInputError(path, f"contains code ({code}); refused")


def _keras_error(path: Path, exc: BaseException) -> BadInputError:
    """One line for whatever Keras raised while loading (its messages quote whole configs)."""
    import re

    text = str(exc)
    found = re.search(r"Could not (?:locate|deserialize) (?:class |function )?'([^']{1,120})'", text)
    if found:
        return _bad(path, f"uses an unknown layer or object {found.group(1)!r} "
                          "(custom code is never loaded); refused")
    if "safe_mode" in text or "lambda" in text.lower():
        return _bad(path, "contains code (refused by safe mode); refused")
    return _bad(path, f"cannot be loaded as a Keras model ({type(exc).__name__}: {one_line(text, 120)})")


def load_keras_model(path: Path) -> Any:
    """keras.saving.load_model(safe_mode=True) with every failure one BadInputError line."""
    from sfxstudio.ml import tf_setup

    path = Path(path)
    check_model_file(path)
    _inspect_archive(path)
    tf_setup.configure()  # threads and devices are fixed by TensorFlow's first op
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except MemoryError:
        raise
    except Exception as exc:  # zip/h5/deserialisation errors come in many types
        raise _keras_error(path, exc) from None


def save_bundle(
    model: Any,
    out_dir: str | Path,
    class_names: Sequence[str],
    backbone: str,
    preprocessing: str,
    input_size: tuple[int, int],
    weights_source: str,
    embedding_layer: str = "embedding",
    description: str = "",
    training: dict[str, Any] | None = None,
    parent: dict[str, Any] | str | None = None,
    supported_classes: Sequence[str] | None = None,
    name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write model + bundle.json into out_dir; returns out_dir.

    Written into a temporary folder beside out_dir and renamed into place, so a crash leaves
    either the old bundle or the new one, never half of one. An existing non-empty out_dir is
    only replaced when overwrite=True (ExportError otherwise).
    """
    import keras

    out_dir = Path(out_dir)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": name or out_dir.name,
        "kind": "keras",
        "classes": list(class_names),
        "input_size": [int(input_size[0]), int(input_size[1])],
        "preprocessing": preprocessing,
        "preprocessing_in_model": True,
        "backbone": backbone,
        "weights_source": weights_source,
        "embedding_layer": embedding_layer,
        "description": description,
        "training": training or {},
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "keras_version": keras.__version__,
    }
    if supported_classes is not None:
        meta["supported_classes"] = list(supported_classes)
    if parent is not None:
        meta["parent"] = parent
    # Check before writing anything: a bundle that would not load must not be saved.
    try:
        ModelBundle.from_model(model, meta)
    except BadInputError as exc:
        raise ExportError(out_dir, exc.problem) from exc

    write_bundle_folder(out_dir, model, meta, overwrite)
    return out_dir


def _finite_json(value: Any) -> Any:
    """meta with NaN and infinities (a diverged loss, say) written as null: bundle.json is
    read back with non-finite numbers refused, so a bundle must never be saved with one."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_json(v) for v in value]
    return value


def write_bundle_folder(out_dir: Path, model: Any, meta: dict[str, Any], overwrite: bool = False) -> None:
    """model.keras + bundle.json written into a temporary folder, then renamed onto out_dir.

    A crash leaves the old bundle or the new one, never half of one; a failure restores the old.
    """
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ExportError(out_dir, "exists and is not a folder")
        if any(out_dir.iterdir()) and not overwrite:
            raise ExportError(
                out_dir, "folder exists and is not empty; choose another name or allow overwriting"
            )
    parent_dir = out_dir.parent
    try:
        parent_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent_dir))
    except OSError as exc:
        raise ExportError(out_dir, f"cannot create a folder there ({exc.strerror or exc})") from exc
    old: Path | None = None
    try:
        model.save(tmp / MODEL_FILE)
        text = json.dumps(_finite_json(meta), indent=2, ensure_ascii=False, allow_nan=False)
        atomic_write_text(tmp / BUNDLE_JSON, text + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; a bundle folder is an ordinary folder
        if out_dir.exists():
            # Move the old bundle aside first: rename onto a non-empty folder is not allowed.
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
    except OSError as exc:
        if old is not None and old.exists() and not out_dir.exists():
            os.replace(old, out_dir)
        raise ExportError(out_dir, f"writing the model failed ({exc.strerror or exc})") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and out_dir.exists():
            with contextlib.suppress(OSError):
                shutil.rmtree(old)
