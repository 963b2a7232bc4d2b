"""Batched, streaming inference with decoding overlapped with the model.

A producer thread pulls (time, frame) pairs from the frame iterator (PyAV/OpenCV decode and
resize in C and release the GIL, so this runs truly in parallel with TensorFlow) and stacks them
into batches in a bounded queue; the caller's thread runs the model on each batch and yields
results as they come, so the GUI can draw probabilities while the video is still decoding.
Memory is bounded by prefetch_batches x batch_size frames.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from sfxstudio.ml.bundle import ModelBundle

_DONE = object()
# How often a blocked producer/consumer wakes up to look at the stop flag (seconds): short
# enough that cancelling feels immediate, long enough not to spin.
_POLL = 0.05


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _produce(
    frames: Iterable[tuple[float, np.ndarray]],
    batch_size: int,
    out: queue.Queue[Any],
    stop: threading.Event,
) -> None:
    it = iter(frames)
    try:
        times: list[float] = []
        batch: list[np.ndarray] = []
        for t, frame in it:
            if stop.is_set():
                return
            frame = np.asarray(frame)
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"frame at {t:.3f} s is not an RGB image (shape {frame.shape})")
            if batch and frame.shape != batch[0].shape:
                raise ValueError(
                    f"frame at {t:.3f} s has shape {frame.shape}, earlier frames {batch[0].shape}; "
                    "frames must all have one size"
                )
            times.append(float(t))
            batch.append(frame)
            if len(batch) == batch_size:
                if not _put(out, (np.asarray(times), np.stack(batch)), stop):
                    return
                times, batch = [], []
        if batch and not _put(out, (np.asarray(times), np.stack(batch)), stop):
            return
        _put(out, _DONE, stop)
    except BaseException as exc:  # hand everything (BadInputError from decoding...) to the consumer
        _put(out, _Failure(exc), stop)
    finally:
        # Close the frame generator here, in the thread that ran it, so the video file is
        # released now rather than whenever the garbage collector gets to it.
        close = getattr(it, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def _put(out: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            out.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def infer_frames(
    bundle: ModelBundle,
    frames: Iterable[tuple[float, np.ndarray]],
    batch_size: int = 32,
    cancel: Callable[[], bool] | None = None,
    prefetch_batches: int = 4,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (times (b,) float64, probs (b, C) float32, embeddings (b, D) float32) per batch.

    frames: (timestamp seconds, RGB uint8 (H, W, 3)) pairs, ideally already at bundle.input_size.
    cancel is polled between batches (and while waiting for the decoder); when it returns True
    the generator stops quietly (the caller knows it asked) after stopping the producer.
    Errors raised by the frame iterator are re-raised here. Closing the generator early (break,
    garbage collection) also stops the producer thread.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, prefetch_batches))
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce, args=(frames, batch_size, q, stop), name="sfx-frame-producer", daemon=True
    )
    producer.start()
    try:
        while True:
            if cancel is not None and cancel():
                return
            try:
                item = q.get(timeout=_POLL)
            except queue.Empty:
                if not producer.is_alive() and q.empty():
                    raise RuntimeError("the frame producer stopped without finishing") from None
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            times, batch = item
            probs, emb = bundle.predict(batch)
            yield times, probs, emb
    finally:
        stop.set()
        # Unblock a producer waiting on a full queue, then wait for it. A producer stuck inside
        # a slow decode call notices the flag after that one frame.
        with contextlib.suppress(queue.Empty):
            while True:
                q.get_nowait()
        producer.join(timeout=10.0)


def infer_all(
    bundle: ModelBundle,
    frames: Iterable[tuple[float, np.ndarray]],
    batch_size: int = 32,
    cancel: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run infer_frames to the end and concatenate: (times (N,), probs (N, C), embeddings (N, D))."""
    ts, ps, es = [], [], []
    for t, p, e in infer_frames(bundle, frames, batch_size=batch_size, cancel=cancel):
        ts.append(t)
        ps.append(p)
        es.append(e)
    if not ts:
        return (
            np.zeros(0, np.float64),
            np.zeros((0, len(bundle.class_names)), np.float32),
            np.zeros((0, bundle.embedding_dim), np.float32),
        )
    return np.concatenate(ts), np.concatenate(ps), np.concatenate(es)
