"""Loaded models: ModelBundle (class names, input size, predict) and save_bundle.

A model bundle is a folder with bundle.json (what the model is; read, validated and written by
sfxstudio.ml.bundle_file) and, for most kinds, model.keras (checked and loaded in safe mode by
sfxstudio.ml.keras_file). ModelBundle is the trained-classifier kind ("keras") and the base of
the other kinds (sfxstudio.ml.imagenet, sfxstudio.ml.zeroshot); ModelBundle.load dispatches on
bundle.json's kind through sfxstudio.ml.kinds, so this module never imports the kind modules.

Names of bundle_file and keras_file stay importable from here, where callers have long found
them.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.errors import BadInputError, ExportError, SfxError
from sfxstudio.ml import kinds
from sfxstudio.ml.bundle_file import (
    BUNDLE_JSON,
    FORMAT,
    MAX_BUNDLE_JSON_BYTES,
    MAX_CLASSES,
    MAX_EMBEDDING,
    MAX_INPUT_SIDE,
    MAX_MODEL_VERSION,
    MAX_TEXT,
    MIN_INPUT_SIDE,
    MODEL_FILE,
    PREPROCESSING,
    VERSION,
    _bad,
    one_line,
    parse_bundle_json,
    read_bundle_json,
    validate_meta,
    write_bundle_folder,
    write_bundle_json,
)
from sfxstudio.ml.keras_file import (
    MAX_MODEL_CONFIG_BYTES,
    MAX_MODEL_UNPACKED_BYTES,
    check_model_file,
    load_keras_model,
)

__all__ = [
    "BUNDLE_JSON", "FORMAT", "KERAS_KIND", "MAX_BUNDLE_JSON_BYTES", "MAX_CLASSES", "MAX_EMBEDDING",
    "MAX_INPUT_SIDE", "MAX_MODEL_CONFIG_BYTES", "MAX_MODEL_UNPACKED_BYTES", "MAX_MODEL_VERSION",
    "MAX_TEXT", "MIN_INPUT_SIDE", "MODEL_FILE", "PREPROCESSING", "VERSION", "ModelBundle",
    "check_model_file", "load_keras_model", "model_io_shapes", "one_line", "parse_bundle_json",
    "read_bundle_json", "save_bundle", "traced_forward", "validate_meta", "write_bundle_folder",
    "write_bundle_json",
]

log = logging.getLogger(__name__)


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
        info = lite.find_compiled(key, self.path)
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
        """Load a bundle folder of any kind. runtime: "auto" | "tf" | "lite" (None:
        $SFXSTUDIO_RUNTIME or auto, which is LiteRT on a CPU, TensorFlow on a GPU; see
        sfxstudio.ml.lite). The kind named in bundle.json decides how (sfxstudio.ml.kinds)."""
        from sfxstudio.ml import lite

        folder = Path(folder)
        meta = read_bundle_json(folder)
        bundle: ModelBundle = kinds.get(meta.get("kind", "keras")).load(folder, meta,
                                                                         lite.resolve_runtime(runtime))
        return bundle

    @classmethod
    def load_graph(cls, folder: Path, meta: dict[str, Any], runtime: str) -> ModelBundle:
        """A bundle whose graph is its model.keras (kinds keras and imagenet_mapped), as `cls`;
        meta already validated, runtime resolved ("tf" or "lite")."""
        from sfxstudio.ml import lite

        model_path = folder / MODEL_FILE
        check_model_file(model_path)
        if runtime == "lite":
            # Cached conversion: no Keras model to build (ResNet152V2: ~1.5 s instead of ~12 s).
            key = lite.compiled_key(model_path, meta)
            info = lite.find_compiled(key, folder)
            if info is not None:
                try:
                    return cls(folder, meta, None, compiled=info)
                except Exception as exc:  # a damaged cache file: any interpreter error
                    log.warning("%s: cached conversion unusable (%s); converting again", folder, exc)
                    lite.discard(key)
        bundle = cls(folder, meta, load_keras_model(model_path))
        if runtime == "lite":
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



def _load_keras(folder: Path, meta: dict[str, Any], runtime: str) -> ModelBundle:
    return ModelBundle.load_graph(folder, meta, runtime)


KERAS_KIND = kinds.BundleKind("keras", load=_load_keras)


PRECOMPILE_ENV = "SFXSTUDIO_PRECOMPILE"  # "0": bundles are written without their CPU conversion


def precompile(folder: str | Path) -> bool:
    """Convert a just-written bundle for the CPU runtime and store the conversion in the folder.

    Called by everything that writes a bundle for the editor (model create, train, teach, the
    ImageNet recogniser), so the first analysis with a new model converts nothing (the machine's
    cache stays the fallback). Never fails the bundle: a conversion that fails or disagrees
    with TensorFlow is logged and the bundle keeps working on TensorFlow / the cache.
    """
    from sfxstudio.ml import lite

    if os.environ.get(PRECOMPILE_ENV, "1") == "0" or not lite.available():
        return False
    folder = Path(folder)
    try:
        bundle = ModelBundle.load(folder, runtime="lite")
        key = bundle.compiled_key() if bundle.runtime == "lite" else None
        return key is not None and lite.carry_compiled(folder, key, folder / MODEL_FILE)
    except (SfxError, OSError) as exc:
        log.warning("%s: not converted for the CPU runtime now (%s); the first analysis will", folder, exc)
        return False
