"""Streaming batched inference: order, streaming, cancellation without leaked threads, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.ml import tf_setup
from sfxstudio.ml.bundle import ModelBundle
from sfxstudio.ml.inference import infer_all, infer_frames
from tests.fixtures.models import solid_frames


def _producers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sfx-frame-producer"]


def _wait_no_producers(timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while _producers() and time.monotonic() < end:
        time.sleep(0.01)
    return not _producers()


def _random_frames(n: int, fps: float = 25.0, seed: int = 0) -> Iterator[tuple[float, np.ndarray]]:
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield i / fps, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)


def test_results_match_predict_in_order_with_a_partial_last_batch(tiny_bundle: ModelBundle) -> None:
    batches = list(infer_frames(tiny_bundle, _random_frames(10), batch_size=4))
    assert [len(t) for t, _, _ in batches] == [4, 4, 2]
    times = np.concatenate([t for t, _, _ in batches])
    np.testing.assert_allclose(times, np.arange(10) / 25.0)
    frames = np.stack([f for _, f in _random_frames(10)])
    probs, emb = tiny_bundle.predict(frames)
    np.testing.assert_allclose(np.concatenate([p for _, p, _ in batches]), probs, atol=1e-5)
    np.testing.assert_allclose(np.concatenate([e for _, _, e in batches]), emb, atol=1e-5)
    assert _wait_no_producers()


def test_empty_input_yields_nothing(tiny_bundle: ModelBundle) -> None:
    assert list(infer_frames(tiny_bundle, iter([]), batch_size=4)) == []
    t, p, e = infer_all(tiny_bundle, iter([]))
    assert t.shape == (0,) and p.shape == (0, 21) and e.shape == (0, 32)


def test_results_stream_before_the_input_is_exhausted(tiny_bundle: ModelBundle) -> None:
    """The source stalls after two batches until the first result has reached the caller."""
    first_result_seen = threading.Event()
    pulled = []

    def source() -> Iterator[tuple[float, np.ndarray]]:
        for i in range(20):
            if i == 8:
                assert first_result_seen.wait(10.0), "no result came out while the input was waiting"
            pulled.append(i)
            yield i * 0.1, solid_frames("red")[0]

    out = []
    for times, _, _ in infer_frames(tiny_bundle, source(), batch_size=4, prefetch_batches=2):
        if not first_result_seen.is_set():
            assert len(pulled) <= 8
            first_result_seen.set()
        out.append(times)
    assert len(np.concatenate(out)) == 20


def test_colour_frames_come_out_as_their_classes(color_bundle: ModelBundle) -> None:
    def video() -> Iterator[tuple[float, np.ndarray]]:
        for i in range(12):
            yield i / 4, solid_frames("red" if 4 <= i < 8 else "green")[0]

    times, probs, _ = infer_all(color_bundle, video(), batch_size=5)
    labels = [color_bundle.class_names[i] for i in probs.argmax(axis=1)]
    assert labels == ["otherwise"] * 4 + ["fire"] * 4 + ["otherwise"] * 4
    np.testing.assert_allclose(times, np.arange(12) / 4)


def test_cancel_stops_promptly_and_closes_the_source(tiny_bundle: ModelBundle) -> None:
    closed = threading.Event()
    frame = solid_frames("blue")[0]

    def endless() -> Iterator[tuple[float, np.ndarray]]:
        i = 0
        try:
            while True:
                yield i * 0.04, frame
                i += 1
        finally:
            closed.set()

    batches = 0

    def cancel() -> bool:
        return batches >= 2

    t0 = time.monotonic()
    for _ in infer_frames(tiny_bundle, endless(), batch_size=4, cancel=cancel, prefetch_batches=2):
        batches += 1
    assert batches == 2
    assert time.monotonic() - t0 < 5.0
    assert _wait_no_producers(), "the producer thread is still running after cancel"
    assert closed.wait(2.0), "the frame source was not closed"


def test_breaking_out_early_stops_the_producer(tiny_bundle: ModelBundle) -> None:
    gen = infer_frames(tiny_bundle, _random_frames(1000), batch_size=4, prefetch_batches=1)
    next(gen)
    gen.close()
    assert _wait_no_producers()


def test_errors_from_the_source_reach_the_caller(tiny_bundle: ModelBundle) -> None:
    def broken() -> Iterator[tuple[float, np.ndarray]]:
        yield from _random_frames(6)
        raise BadInputError("clip.mp4", "corrupt frame at 0.24 s")

    got = 0
    with pytest.raises(BadInputError, match=r"clip\.mp4: corrupt frame at 0\.24 s"):
        for times, _, _ in infer_frames(tiny_bundle, broken(), batch_size=4):
            got += len(times)
    assert got == 4  # the full batch before the error still came out
    assert _wait_no_producers()


def test_frames_of_different_sizes_are_an_error(tiny_bundle: ModelBundle) -> None:
    frames = [(0.0, np.zeros((32, 32, 3), np.uint8)), (0.1, np.zeros((16, 32, 3), np.uint8))]
    with pytest.raises(ValueError, match="one size"):
        list(infer_frames(tiny_bundle, iter(frames), batch_size=4))
    with pytest.raises(ValueError, match="not an RGB image"):
        list(infer_frames(tiny_bundle, iter([(0.0, np.zeros((32, 32), np.uint8))]), batch_size=4))
    assert _wait_no_producers()


def test_describe_device_names_the_device() -> None:
    text = tf_setup.describe_device()
    assert text.startswith(("CPU, ", "GPU: "))
    assert tf_setup.configure()["device"] in ("cpu", "gpu")
