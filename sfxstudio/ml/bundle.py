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
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_write_text
from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError, ExportError

log = logging.getLogger(__name__)

FORMAT = "sfxstudio-model"
KINDS = ("keras", "imagenet_mapped")  # imagenet_mapped: see sfxstudio.ml.imagenet
VERSION = 1
BUNDLE_JSON = "bundle.json"
MODEL_FILE = "model.keras"
PREPROCESSING = ("resnet_v2", "mobilenet_v3", "efficientnet", "efficientnet_lite", "unit", "raw")


def _validate_meta(meta: Any, where: Path) -> dict[str, Any]:
    """Check bundle.json's content; every problem is a BadInputError naming the file."""
    if not isinstance(meta, dict):
        raise BadInputError(where, "is not a JSON object")
    if meta.get("format") != FORMAT:
        raise BadInputError(
            where, f"is not an SFX Studio model (format is {meta.get('format')!r}, not {FORMAT!r})"
        )
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadInputError(where, f"version must be an integer, not {version!r}")
    if version > VERSION:
        raise BadInputError(
            where, f"was made by a newer SFX Studio (bundle version {version}, this one reads {VERSION})"
        )
    if version < 1:
        raise BadInputError(where, f"unknown bundle version {version}")
    kind = meta.get("kind", "keras")
    if kind not in KINDS:
        raise BadInputError(where, f"model kind {kind!r} is not supported (one of {', '.join(KINDS)})")
    classes = meta.get("classes")
    if not isinstance(classes, list) or not classes:
        raise BadInputError(where, "'classes' must be a non-empty list of class names")
    if not all(isinstance(c, str) and c.strip() for c in classes):
        raise BadInputError(where, "every class name in 'classes' must be a non-empty string")
    dupes = sorted({c for c in classes if classes.count(c) > 1})
    if dupes:
        raise BadInputError(where, f"class names repeat: {', '.join(dupes)}")
    if OTHERWISE not in classes:
        raise BadInputError(where, f"'classes' must include {OTHERWISE!r} (frames with no effect)")
    size = meta.get("input_size")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise BadInputError(where, f"'input_size' must be [width, height] in pixels, not {size!r}")
    prep = meta.get("preprocessing", "raw")
    if prep not in PREPROCESSING:
        raise BadInputError(
            where, f"unknown preprocessing {prep!r}; expected one of {', '.join(PREPROCESSING)}"
        )
    supported = meta.get("supported_classes")
    if supported is not None and (not isinstance(supported, list) or not set(supported) <= set(classes)):
        raise BadInputError(where, "'supported_classes' must be a list of names taken from 'classes'")
    emb = meta.get("embedding_layer", "embedding")
    if not isinstance(emb, str) or not emb:
        raise BadInputError(where, "'embedding_layer' must be a layer name")
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
        n_out = int(model.outputs[0].shape[-1])
        if n_out != len(self.class_names):
            raise BadInputError(
                where, f"the model has {n_out} outputs but bundle.json names {len(self.class_names)} classes"
            )
        shape = tuple(model.inputs[0].shape)
        w, h = self.input_size
        if len(shape) != 4 or shape[3] != 3 or (shape[1], shape[2]) not in ((h, w), (None, None)):
            raise BadInputError(where, f"the model's input {shape[1:]} does not match input_size {w}x{h} RGB")
        emb_name = self.meta.get("embedding_layer", "embedding")
        try:
            emb_layer = model.get_layer(emb_name)
        except ValueError:
            raise BadInputError(
                where, f"the model has no layer named {emb_name!r} (embedding_layer)"
            ) from None
        # One forward pass gives both outputs: the embedding is what "learn from my corrections"
        # trains on, and running the model twice would halve analysis speed.
        self._predictor = keras.Model(model.inputs, [model.outputs[0], emb_layer.output])
        self.embedding_dim = int(emb_layer.output.shape[-1])
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
        if not folder.exists():
            raise BadInputError(folder, "model folder does not exist")
        if not folder.is_dir():
            raise BadInputError(
                folder, f"is not a model folder (expected a folder with {BUNDLE_JSON} and {MODEL_FILE})"
            )
        meta_path = folder / BUNDLE_JSON
        model_path = folder / MODEL_FILE
        if not meta_path.is_file():
            raise BadInputError(meta_path, "is missing; a model folder needs bundle.json and model.keras")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInputError(meta_path, f"cannot be read ({exc})") from exc
        except json.JSONDecodeError as exc:
            raise BadInputError(
                meta_path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        meta = _validate_meta(meta, meta_path)
        use = lite.resolve_runtime(runtime)
        if meta.get("kind") == "imagenet_mapped":
            from sfxstudio.ml.imagenet import ImagenetMappedBundle, check_imagenet_meta

            check_imagenet_meta(folder, meta)
            cls = ImagenetMappedBundle
        if not model_path.is_file():
            raise BadInputError(model_path, "is missing; a model folder needs bundle.json and model.keras")
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
        meta = _validate_meta(dict(meta), Path("bundle.json"))
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
        with self._lock:
            probs, emb = self._forward(frames)
        return np.asarray(probs), np.asarray(emb)


def load_keras_model(path: Path) -> Any:
    """keras.saving.load_model(safe_mode=True) with the errors turned into BadInputError."""
    from sfxstudio.ml import tf_setup

    tf_setup.configure()  # threads and devices are fixed by TensorFlow's first op
    import keras

    if not zipfile.is_zipfile(path):
        raise BadInputError(path, "is not a Keras model file (.keras files are zip archives)")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as exc:
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text:
            raise BadInputError(
                path,
                "contains code (a Lambda layer) and cannot be loaded safely; "
                "rebuild it without Lambda layers",
            ) from exc
        raise BadInputError(
            path, f"is not a valid Keras model ({text.splitlines()[0] if text else exc!r})"
        ) from exc
    except Exception as exc:  # zip/h5/deserialisation errors come in many types
        raise BadInputError(path, f"cannot be loaded as a Keras model ({type(exc).__name__}: {exc})") from exc


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
        atomic_write_text(tmp / BUNDLE_JSON, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
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
