"""JobWorker: runs pipeline-style generators in a QThread, throttles, streams, fails, cancels."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.gui.workers import JobWorker, merge_partials, run_in_background
from sfxstudio.pipeline import AnalysisChunk, Progress


def chunks_job(n_batches: int, batch: int = 4, delay: float = 0.0) -> Any:
    def job(cancel: Any) -> Iterator[Progress]:
        started = time.monotonic()
        for i in range(n_batches):
            if delay:
                time.sleep(delay)
            t = np.arange(i * batch, (i + 1) * batch, dtype=np.float64) / 10
            p = np.full((batch, 3), 1 / 3, np.float32)
            yield Progress((i + 1) * batch, n_batches * batch, started, partial=AnalysisChunk(t, p))
            if cancel():
                from sfxstudio.core.errors import Cancelled

                raise Cancelled("stop")
        yield Progress(n_batches * batch, n_batches * batch, started, result="done", finished=True)

    return job


def run_worker(qtbot: Any, worker: JobWorker, timeout: int = 10_000) -> None:
    with qtbot.waitSignal(worker.stopped, timeout=timeout):
        worker.start()


def test_finished_result_and_streamed_chunks_in_order(qtbot: Any) -> None:
    worker = JobWorker(chunks_job(500))
    progress: list[Progress] = []
    parts: list[AnalysisChunk] = []
    results: list[Any] = []
    threads: set[Any] = set()
    worker.progress.connect(progress.append)
    worker.partial.connect(lambda c: (parts.append(c), threads.add(threading.current_thread())))
    worker.finished.connect(results.append)
    run_worker(qtbot, worker)
    assert results == ["done"]
    times = np.concatenate([c.times for c in parts])
    np.testing.assert_allclose(times, np.arange(2000) / 10)  # nothing lost, nothing repeated
    # 500 steps in a few ms must not become 500 signals: throttled to ~10 Hz plus the last one.
    assert len(progress) < 20
    assert progress[-1].done == 2000
    assert threads == {threading.main_thread()}  # delivered in the GUI thread
    assert not worker.is_running()
    assert worker.thread().isFinished()


def test_progress_rate_is_about_ten_hertz(qtbot: Any) -> None:
    worker = JobWorker(chunks_job(60, delay=0.01))  # ~0.6 s of work
    stamps: list[float] = []
    worker.progress.connect(lambda _p: stamps.append(time.monotonic()))
    run_worker(qtbot, worker)
    gaps = np.diff(stamps[:-1])  # the last emission comes whenever the job ends
    assert len(gaps) >= 2
    assert gaps.min() >= 0.09


def test_failure_gives_a_readable_message_not_a_traceback(qtbot: Any) -> None:
    def job(cancel: Any) -> Iterator[Progress]:
        yield Progress(0, 1, time.monotonic())
        raise BadInputError("/videos/broken.mp4", "no frames could be decoded")

    worker = JobWorker(job)
    messages: list[str] = []
    worker.failed.connect(messages.append)
    run_worker(qtbot, worker)
    assert messages == ["/videos/broken.mp4: no frames could be decoded"]


def test_unexpected_error_is_logged_and_summarised(qtbot: Any, gui_sandbox: Any) -> None:
    def job(cancel: Any) -> Iterator[Progress]:
        yield Progress(0, 1, time.monotonic())
        raise ZeroDivisionError("division by zero")

    worker = JobWorker(job)
    messages: list[str] = []
    worker.failed.connect(messages.append)
    run_worker(qtbot, worker)
    assert len(messages) == 1 and "Traceback" not in messages[0]
    assert "division by zero" in messages[0]
    log = (gui_sandbox / "appdata" / "sfxstudio.log").read_text()
    assert "Traceback" in log and "ZeroDivisionError" in log


def test_cancel_stops_within_one_batch(qtbot: Any) -> None:
    batches: list[int] = []

    def job(cancel: Any) -> Iterator[Progress]:
        started = time.monotonic()
        for i in range(1000):
            time.sleep(0.02)  # one "batch"
            batches.append(i)
            yield Progress(i + 1, 1000, started)
            if cancel():
                from sfxstudio.core.errors import Cancelled

                raise Cancelled("stop")

    worker = JobWorker(job)
    cancelled: list[bool] = []
    finished: list[Any] = []
    worker.cancelled.connect(lambda: cancelled.append(True))
    worker.finished.connect(finished.append)
    worker.start()
    qtbot.waitUntil(lambda: len(batches) >= 3, timeout=5000)
    at_cancel = len(batches)
    worker.cancel()
    with qtbot.waitSignal(worker.stopped, timeout=5000):
        pass
    assert cancelled == [True] and finished == []
    assert len(batches) - at_cancel <= 1
    assert worker.thread().isFinished()


def test_cancel_wins_even_if_the_job_ignores_it(qtbot: Any) -> None:
    """A job that never checks cancel is still stopped at its next progress step."""
    def job(cancel: Any) -> Iterator[Progress]:
        for i in range(1000):
            time.sleep(0.01)
            yield Progress(i, 1000, time.monotonic())

    worker = JobWorker(job)
    cancelled: list[bool] = []
    worker.cancelled.connect(lambda: cancelled.append(True))
    worker.start()
    qtbot.wait(50)
    worker.cancel()
    with qtbot.waitSignal(worker.stopped, timeout=5000):
        pass
    assert cancelled == [True]


def test_run_in_background_returns_the_value(qtbot: Any) -> None:
    worker = run_in_background(lambda: threading.current_thread().name)
    results: list[Any] = []
    worker.finished.connect(results.append)
    run_worker(qtbot, worker)
    assert results and results[0] != threading.main_thread().name


@pytest.mark.parametrize("n", [1, 3])
def test_merge_partials(n: int) -> None:
    parts = [AnalysisChunk(np.array([float(i)]), np.ones((1, 2), np.float32) * i) for i in range(n)]
    merged = merge_partials(parts)
    assert len(merged) == 1
    np.testing.assert_array_equal(merged[0].times, np.arange(n, dtype=float))


def test_wait_returns_as_soon_as_the_job_ends_without_an_event_loop(qtbot):
    """Closing the window waits for workers from the GUI thread, which is not processing events."""
    import time as _time

    from sfxstudio.gui.workers import run_in_background

    worker = run_in_background(lambda: _time.sleep(0.2) or 42, name="short")
    worker.start()
    t0 = _time.monotonic()
    assert worker.wait(5000)
    assert _time.monotonic() - t0 < 2.0
