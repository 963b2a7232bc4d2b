"""The CPU runtime: a bundle's model converted once to LiteRT (TFLite) and run with XNNPACK.

On a CPU, TensorFlow's graph executor is the slow part for small models (per-op overhead:
MobileNetV3-Small runs at ~240 frames/s where XNNPACK runs the same float32 graph at ~800) and
about 10 % behind XNNPACK's kernels on big ones (ResNet152V2). Results are the same model in the
same precision: a conversion is kept only when its outputs match TensorFlow's on a probe batch.

The converted file is cached per machine under `cache_dir()` (override: $SFXSTUDIO_CACHE_DIR),
keyed by the SHA-256 of model.keras plus the parts of bundle.json that shape the graph, so an
edited or re-trained bundle is converted again and a bundle folder is never written to. Once
cached, loading skips Keras entirely: ResNet152V2 starts in ~1.5 s instead of ~12 s.

The runtime is chosen by `resolve_runtime()`: "auto" (the default) picks "lite" on a CPU when a
LiteRT interpreter is installed, "tf" on a GPU; $SFXSTUDIO_RUNTIME or --runtime override it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_write_bytes, atomic_write_text
from sfxstudio.core.errors import SfxError
from sfxstudio.core.inputs import regular_file

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "tf", "lite")
RUNTIME_ENV = "SFXSTUDIO_RUNTIME"
CACHE_ENV = "SFXSTUDIO_CACHE_DIR"
COMPILED_FORMAT = "sfxstudio-compiled"
COMPILED_VERSION = 1
# bundle.json fields that change the graph or how its outputs are read; the rest (name,
# description, training facts) does not invalidate a conversion.
_META_KEYS = ("kind", "classes", "input_size", "preprocessing", "preprocessing_in_model",
              "embedding_layer")
# A conversion is used only if it agrees with TensorFlow this closely on the probe batch.
PROB_TOLERANCE = 1e-3
EMB_TOLERANCE = 1e-3  # relative to the largest embedding value


def interpreter_class() -> Any | None:
    """LiteRT's Interpreter (the ai-edge-litert package), else TensorFlow's copy, else None."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    except ImportError:
        pass
    try:
        from sfxstudio.ml import tf_setup

        tf = tf_setup.tf()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter
    except (ImportError, AttributeError):
        return None


def available() -> bool:
    return interpreter_class() is not None


def resolve_runtime(runtime: str | None, on_gpu: bool | None = None) -> str:
    """"tf" or "lite" for the requested runtime (None: $SFXSTUDIO_RUNTIME, else "auto").

    on_gpu: whether the model would run on a GPU; None: find out, importing TensorFlow only
    when a GPU is possible (tf_setup.maybe_gpu).
    """
    from sfxstudio.ml import tf_setup

    asked = (runtime or os.environ.get(RUNTIME_ENV) or "auto").strip().lower()
    if asked not in RUNTIMES:
        raise SfxError(f"unknown model runtime {asked!r}; choose one of {', '.join(RUNTIMES)}")
    if asked == "lite":
        if not available():
            raise SfxError("the LiteRT runtime is not installed (pip install ai-edge-litert)")
        return "lite"
    if asked == "tf":
        return "tf"
    if on_gpu is None:
        on_gpu = tf_setup.maybe_gpu() and tf_setup.using_gpu()
    if on_gpu:
        return "tf"
    return "lite" if available() else "tf"


def cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sfxstudio" / "compiled"


_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) for this process."""
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if memo in _hash_cache:
            return _hash_cache[memo]
    regular_file(path, "model file")  # a FIFO would block the read below
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_cache[memo] = digest
    return digest


def _carried_sha256(model_path: Path) -> str | None:
    """The model file's SHA-256 as recorded beside the conversion its bundle carries, when the
    file still has the size and modification time it had then (the rule a batch uses to know a
    model: a file rewritten in place gets a new mtime); None otherwise. Saves hashing hundreds
    of MB on every start (ResNet152V2: 237 MB, about a second)."""
    try:
        info = json.loads((model_path.parent / (BUNDLE_COMPILED + ".json")).read_text(encoding="utf-8"))
        known = info.get("model_file") if isinstance(info, dict) else None
        if not isinstance(known, dict) or known.get("name") != model_path.name:
            return None
        st = model_path.stat()
        if known.get("size") != st.st_size or known.get("mtime_ns") != st.st_mtime_ns:
            return None
        sha = known.get("sha256")
        return sha if isinstance(sha, str) and len(sha) == 64 else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def compiled_key(model_path: Path, meta: dict[str, Any]) -> str:
    """Cache key: the model file's bytes, the graph-shaping bundle.json fields, and the versions."""
    from sfxstudio.ml import tf_setup

    shape = {k: meta.get(k) for k in _META_KEYS}
    sha = _carried_sha256(model_path) or _file_sha256(model_path)
    parts = json.dumps(
        {"model": sha, "meta": shape, "v": COMPILED_VERSION,
         "tf": tf_setup.tf_version()},
        sort_keys=True,
    )
    return hashlib.sha256(parts.encode()).hexdigest()[:32]


def compiled_paths(key: str) -> tuple[Path, Path]:
    """(the .tflite file, its .json description) for a key."""
    d = cache_dir()
    return d / f"{key}.tflite", d / f"{key}.json"


BUNDLE_COMPILED = "model.tflite"  # the conversion a bundle folder carries (written with it)


def find_compiled(key: str, folder: str | Path | None = None) -> dict[str, Any] | None:
    """The description of a conversion for `key`: this machine's cache first, else the one the
    bundle `folder` carries (made when the bundle was written, so a new model's first analysis
    converts nothing); None when neither is there or usable."""
    found = _find_compiled(compiled_paths(key), key)
    if found is None and folder is not None:
        folder = Path(folder)
        found = _find_compiled((folder / BUNDLE_COMPILED, folder / (BUNDLE_COMPILED + ".json")), key)
    return found


def carry_compiled(folder: str | Path, key: str, model_path: Path | None = None) -> bool:
    """Copy this machine's cached conversion for `key` into the bundle folder (atomically), so
    the bundle carries it to other machines and empty caches. False when there is none.

    model_path: the model file the key was made from; its size, mtime and SHA-256 are recorded
    beside the conversion so loading the bundle need not hash it again (_carried_sha256)."""
    src_model, src_info = compiled_paths(key)
    info = _find_compiled((src_model, src_info), key)
    if info is None:
        return False
    folder = Path(folder)
    info.pop("path", None)
    if model_path is not None:
        st = model_path.stat()
        info["model_file"] = {"name": model_path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                              "sha256": _file_sha256(model_path)}
    atomic_write_bytes(folder / BUNDLE_COMPILED, src_model.read_bytes())
    atomic_write_text(folder / (BUNDLE_COMPILED + ".json"), json.dumps(info, indent=1) + "\n")
    return True


def _find_compiled(paths: tuple[Path, Path], key: str) -> dict[str, Any] | None:
    model_file, info_file = paths
    if not model_file.is_file() or not info_file.is_file():
        return None
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(info, dict) or info.get("format") != COMPILED_FORMAT or info.get("key") != key:
        return None
    if info.get("version") != COMPILED_VERSION or model_file.stat().st_size != info.get("bytes"):
        return None
    info["path"] = str(model_file)
    return info


def discard(key: str) -> None:
    """Remove a cached conversion (a damaged one, say); missing files are fine."""
    for f in compiled_paths(key):
        with contextlib.suppress(OSError):
            f.unlink()


def cached_for_folder(folder: str | Path) -> bool:
    """Whether a bundle folder's model already has a cached conversion (False when unreadable)."""
    from sfxstudio.ml import kinds
    from sfxstudio.ml.bundle_file import MODEL_FILE, read_bundle_json

    folder = Path(folder)
    try:
        meta = read_bundle_json(folder)
        key_of = kinds.get(meta.get("kind", "keras")).compiled_key
        # zeroshot: the image graph comes from the preset, not from model.keras
        key = key_of(folder, meta) if key_of is not None else compiled_key(folder / MODEL_FILE, meta)
        return find_compiled(key, folder) is not None
    except (OSError, ValueError, SfxError):
        return False


class LiteForward:
    """(uint8 frames (B, h, w, 3)) -> (output 0 (B, C), output 1 (B, D)) as float32 numpy.

    One interpreter, re-sized to each new batch size (XNNPACK re-plans in well under a
    millisecond; its packed weights are kept).
    `prepare` maps the float32 input first (bundles whose graph lacks its preprocessing).
    Not thread-safe: ModelBundle serialises calls.
    """

    def __init__(self, path: Path, outputs: tuple[int, int], size: tuple[int, int],
                 prepare: Callable[[np.ndarray], np.ndarray] | None = None,
                 threads: int | None = None) -> None:
        from sfxstudio.ml import tf_setup

        cls = interpreter_class()
        if cls is None:
            raise SfxError("the LiteRT runtime is not installed (pip install ai-edge-litert)")
        self.path = Path(path)
        self.threads = threads or tf_setup.cpu_count()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._it = cls(model_path=str(self.path), num_threads=self.threads)
        self._in = self._it.get_input_details()[0]["index"]
        details = self._it.get_output_details()
        self._out = (details[outputs[0]]["index"], details[outputs[1]]["index"])
        self.output_dims = (int(details[outputs[0]]["shape"][-1]), int(details[outputs[1]]["shape"][-1]))
        self._size = size
        self._prepare = prepare
        self._batch = 0

    def _resize(self, batch: int) -> None:
        w, h = self._size
        self._it.resize_tensor_input(self._in, [batch, h, w, 3])
        self._it.allocate_tensors()
        self._batch = batch

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = int(frames.shape[0])
        if n != self._batch:
            self._resize(n)
        x = frames.astype(np.float32)
        if self._prepare is not None:
            x = np.asarray(self._prepare(x), np.float32)
        self._it.set_tensor(self._in, x)
        self._it.invoke()
        # Copies: the interpreter reuses its output buffers on the next call.
        return (np.array(self._it.get_tensor(self._out[0]), np.float32),
                np.array(self._it.get_tensor(self._out[1]), np.float32))


def _probe_frames(size: tuple[int, int]) -> np.ndarray:
    """Deterministic frames for checking a conversion: noise, a gradient, flat grey."""
    w, h = size
    rs = np.random.default_rng(20261121)
    noise = rs.integers(0, 256, (h, w, 3), dtype=np.uint8)
    gy, gx = np.mgrid[0:h, 0:w]
    grad = np.stack([gx * 255 // max(w - 1, 1), gy * 255 // max(h - 1, 1),
                     np.full_like(gx, 128)], axis=-1).astype(np.uint8)
    grey = np.full((h, w, 3), 100, np.uint8)
    return np.stack([noise, grad, grey])


def compile_model(
    predictor: Any,
    key: str,
    size: tuple[int, int],
    reference: Callable[[np.ndarray], tuple[Any, Any]],
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    source: str = "",
) -> dict[str, Any]:
    """Convert a two-output Keras model to LiteRT, check it against `reference`, cache it.

    reference: TensorFlow's forward pass (uint8 frames -> (output 0, output 1)). The LiteRT
    output order is found by matching values, not assumed. Returns find_compiled()'s
    description. Raises SfxError when the conversion fails or disagrees with TensorFlow; the
    caller then keeps TensorFlow.
    """
    from sfxstudio.ml import tf_setup

    tf = tf_setup.tf()
    started = time.monotonic()
    model_file, info_file = compiled_paths(key)
    try:
        converter = tf.lite.TFLiteConverter.from_keras_model(predictor)
        # Keras prints the temporary SavedModel's signature on stdout, which is the CLI's
        # --json channel: keep it in the log instead.
        chatter = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
            warnings.simplefilter("ignore")
            blob = converter.convert()
        log.debug("converter output: %s", chatter.getvalue())
    except Exception as exc:  # the converter raises many types (ConverterError, ValueError...)
        raise SfxError(f"the model could not be converted for the CPU runtime ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    try:
        model_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = model_file.with_name(f".{model_file.name}.{os.getpid()}.check")
        tmp.write_bytes(blob)
    except OSError as exc:
        raise _cache_error(model_file.parent, exc) from exc
    try:
        frames = _probe_frames(size)
        ref = [np.asarray(v, np.float32) for v in reference(frames)]
        cls = interpreter_class()
        if cls is None:
            raise SfxError("the LiteRT runtime is not installed (pip install ai-edge-litert)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            it = cls(model_path=str(tmp), num_threads=tf_setup.cpu_count())
        details = it.get_output_details()
        if len(details) != 2:
            raise SfxError(f"the converted model has {len(details)} outputs, not 2")
        order = _match_outputs(it, frames, prepare, ref, size)
        lite = LiteForward(tmp, order, size, prepare)
        got = lite(frames)
        prob_diff = float(np.abs(got[0] - ref[0]).max())
        emb_diff = float(np.abs(got[1] - ref[1]).max())
        emb_scale = 1.0 + float(np.abs(ref[1]).max())
        if prob_diff > PROB_TOLERANCE or emb_diff > EMB_TOLERANCE * emb_scale:
            raise SfxError(
                f"the converted model disagrees with TensorFlow (largest differences: "
                f"probabilities {prob_diff:.2g}, embeddings {emb_diff:.2g})")
        info = {
            "format": COMPILED_FORMAT, "version": COMPILED_VERSION, "key": key,
            "outputs": list(order), "output_dims": list(lite.output_dims),
            "input_size": list(size), "bytes": len(blob),
            "max_prob_diff": prob_diff, "max_emb_diff": emb_diff,
            "convert_s": round(time.monotonic() - started, 2), "source": source,
        }
        del lite, it
        atomic_write_bytes(model_file, blob)
        atomic_write_text(info_file, json.dumps(info, indent=1) + "\n")
    except OSError as exc:
        raise _cache_error(model_file.parent, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)
    found = find_compiled(key)
    if found is None:
        raise SfxError(f"the converted model in {model_file.parent} could not be read back")
    log.info("converted %s for LiteRT in %.1f s (max diff %.2g)", source, info["convert_s"], prob_diff)
    return found


def _cache_error(folder: Path, exc: OSError) -> SfxError:
    return SfxError(f"cannot write to the model cache {folder} ({exc.strerror or exc})")


def _match_outputs(it: Any, frames: np.ndarray, prepare: Any, ref: list[np.ndarray],
                   size: tuple[int, int]) -> tuple[int, int]:
    """Which LiteRT output is the model's output 0 and which output 1 (by shape, then values)."""
    w, h = size
    i_in = it.get_input_details()[0]["index"]
    it.resize_tensor_input(i_in, [len(frames), h, w, 3])
    it.allocate_tensors()
    x = frames.astype(np.float32)
    if prepare is not None:
        x = np.asarray(prepare(x), np.float32)
    it.set_tensor(i_in, x)
    it.invoke()
    outs = [np.asarray(it.get_tensor(d["index"]), np.float32) for d in it.get_output_details()]

    def err(o: np.ndarray, r: np.ndarray) -> float:
        return float(np.abs(o - r).max()) if o.shape == r.shape else float("inf")

    straight = err(outs[0], ref[0]) + err(outs[1], ref[1])
    swapped = err(outs[1], ref[0]) + err(outs[0], ref[1])
    return (0, 1) if straight <= swapped else (1, 0)
