"""Importing TensorFlow lazily and configuring threads/devices once per process.

Importing TensorFlow takes seconds and hundreds of MB; the GUI and the CLI's cheap commands must
not pay for it, so everything in sfxstudio.ml goes through `tf()`/`keras()` inside functions.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "gpu"]

_lock = threading.Lock()
_configured: dict[str, Any] | None = None


def tf() -> Any:
    """The tensorflow module, imported on first use with its C++ chatter turned down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    return tensorflow


def keras() -> Any:
    tf()
    import keras as _keras

    return _keras


def cpu_count() -> int:
    """CPUs this process may run on (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure(
    threads: int | None = None, device: Device = "auto", mixed_precision: bool = True
) -> dict[str, Any]:
    """Set TensorFlow's thread pools and device once; later calls return the first result.

    threads: intra-op threads (default: all CPUs we may use); inter-op gets 2 at most because our
    graphs are chains of big ops, and more pools only oversubscribe the cores.
    device: "gpu" hides nothing but fails if there is no GPU; "cpu" hides the GPUs; "auto" uses a
    GPU when one is visible. Mixed precision (float16 compute) is enabled on GPU only: on CPU it
    is slower. Returns {"device", "gpus", "threads", "mixed_precision"}.
    """
    global _configured
    with _lock:
        if _configured is not None:
            return dict(_configured)
        t = tf()
        intra = threads if threads and threads > 0 else cpu_count()
        inter = min(2, intra)
        try:
            t.config.threading.set_intra_op_parallelism_threads(intra)
            t.config.threading.set_inter_op_parallelism_threads(inter)
        except RuntimeError:
            # The runtime is already initialised (something ran an op first); keep its pools.
            log.info("TensorFlow already initialised; thread settings left as they are")
        gpus = t.config.list_physical_devices("GPU")
        if device == "gpu" and not gpus:
            raise RuntimeError("no GPU is visible to TensorFlow")
        use_gpu = bool(gpus) and device in ("auto", "gpu")
        if gpus and not use_gpu:
            try:
                t.config.set_visible_devices([], "GPU")
            except RuntimeError:
                log.info("TensorFlow already initialised; GPUs stay visible")
        if use_gpu:
            for g in gpus:
                # Grow GPU memory on demand so the GUI's video decoder and other apps keep room.
                with contextlib.suppress(RuntimeError):
                    t.config.experimental.set_memory_growth(g, True)
        mixed = use_gpu and mixed_precision
        if mixed:
            keras().mixed_precision.set_global_policy("mixed_float16")
        _configured = {
            "device": "gpu" if use_gpu else "cpu",
            "gpus": [g.name for g in gpus] if use_gpu else [],
            "threads": intra,
            "mixed_precision": mixed,
        }
        return dict(_configured)


def using_gpu() -> bool:
    return configure()["device"] == "gpu"


def tf_version() -> str:
    """The installed TensorFlow's version, read from its package metadata (no import)."""
    for dist in ("tensorflow", "tensorflow-cpu", "tf-nightly", "tensorflow-macos"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(dist)
    return tf().__version__


def maybe_gpu() -> bool:
    """Whether TensorFlow might see a GPU; False is certain, True means "ask TensorFlow".

    Answers without importing TensorFlow (seconds) when it can: once configured, from the
    configuration; on Linux, no NVIDIA device nodes or a CPU-only TensorFlow build means no GPU.
    The LiteRT CPU path then starts without TensorFlow at all.
    """
    if _configured is not None:
        return bool(_configured["device"] == "gpu")
    if not sys.platform.startswith("linux"):
        return True
    if not any(Path(p).exists() for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")):
        return False
    try:
        importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        return False  # only tensorflow-cpu (or none) is installed
    return True


def describe_device() -> str:
    """One line for the GUI's status bar, e.g. "CPU, 8 threads" or "GPU: NVIDIA ... (mixed precision)"."""
    cfg = configure()
    if cfg["device"] == "gpu":
        t = tf()
        names = []
        for g in t.config.list_physical_devices("GPU"):
            try:
                names.append(t.config.experimental.get_device_details(g).get("device_name", g.name))
            except Exception:  # details are best-effort; not every build reports them
                names.append(g.name)
        text = "GPU: " + ", ".join(names)
        return text + (" (mixed precision)" if cfg["mixed_precision"] else "")
    return f"CPU, {cfg['threads']} thread{'s' if cfg['threads'] != 1 else ''}"


def _reset_for_tests() -> None:
    global _configured
    with _lock:
        _configured = None
