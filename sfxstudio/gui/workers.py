"""A thin Qt worker around the pipeline's generator jobs (napari's `thread_worker` idea).

The job is a callable taking a cancel function and returning an iterator of `Progress`; it runs
in a QThread. The worker never touches widgets: it only emits signals, which Qt queues to the GUI
thread. Progress is throttled to ~10 Hz and streamed partial results are coalesced between two
emissions so a fast job cannot flood the event loop. Cancellation is cooperative: `cancel()` sets
a threading.Event the job checks between units of work (one inference batch for analysis).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from sfxstudio.core.errors import Cancelled
from sfxstudio.gui import errors

CancelFn = Callable[[], bool]
Job = Callable[[CancelFn], Iterator[Any]]

PROGRESS_INTERVAL_S = 0.1  # ~10 Hz: smooth for a progress bar, cheap for the event loop


def merge_partials(parts: list[Any]) -> list[Any]:
    """Coalesce analysis chunks (objects with .times and .probs) into one; others pass through."""
    if len(parts) > 1 and all(hasattr(p, "times") and hasattr(p, "probs") for p in parts):
        first = parts[0]
        merged = type(first)(np.concatenate([p.times for p in parts]),
                             np.concatenate([p.probs for p in parts]))
        return [merged]
    return parts


class _Runner(QObject):
    """Lives in the worker thread and drives the generator."""

    progress = Signal(object)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Job, cancel_event: threading.Event) -> None:
        super().__init__()
        self._job = job
        self._cancel = cancel_event

    @Slot()
    def run(self) -> None:
        last_emit = 0.0
        pending: list[Any] = []
        last_progress: Any = None
        result: Any = None
        try:
            for item in self._job(self._cancel.is_set):
                last_progress = item
                part = getattr(item, "partial", None)
                if part is not None:
                    pending.append(part)
                if getattr(item, "finished", False):
                    result = getattr(item, "result", None)
                now = time.monotonic()
                if now - last_emit >= PROGRESS_INTERVAL_S:
                    last_emit = now
                    self._flush(pending, item)
                    pending = []
                if self._cancel.is_set():
                    raise Cancelled("cancelled")
            self._flush(pending, last_progress)
            self.finished.emit(result)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # the worker must never die silently
            self.failed.emit(errors.report(exc, "background job"))
        finally:
            self.done.emit()

    def _flush(self, pending: list[Any], progress: Any) -> None:
        for part in merge_partials(pending):
            self.partial.emit(part)
        if progress is not None:
            self.progress.emit(progress)


class JobWorker(QObject):
    """Runs `job(cancel)` in its own QThread.

    Signals (always delivered in the GUI thread): progress(Progress) at most ~10 Hz,
    partial(chunk) with results streamed since the last emission, finished(result),
    failed(message for the editor), cancelled(); `stopped()` after any of the last three, once
    the thread has ended.
    """

    progress = Signal(object)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    stopped = Signal()

    def __init__(self, job: Job, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName(f"sfxstudio-{name}")
        self._runner = _Runner(job, self._cancel)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        # Forward through our own signals so receivers see a GUI-thread object.
        self._runner.progress.connect(self.progress)
        self._runner.partial.connect(self.partial)
        self._runner.finished.connect(self.finished)
        self._runner.failed.connect(self.failed)
        self._runner.cancelled.connect(self.cancelled)
        # Direct: quit from the worker thread itself. Queued to the GUI thread, a wait() there
        # (closing the window) would block until its timeout, the quit never being delivered.
        self._runner.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._running = False

    def start(self) -> None:
        self._running = True
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return self._running

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until the thread ends (for closing the window and tests)."""
        return self._thread.wait(timeout_ms)

    def thread(self) -> QThread:
        return self._thread

    @Slot()
    def _on_thread_finished(self) -> None:
        self._running = False
        self.stopped.emit()


def run_in_background(fn: Callable[[], Any], name: str = "task",
                      parent: QObject | None = None) -> JobWorker:
    """A one-shot function as a JobWorker (no progress): finished(return value) or failed(msg)."""
    from sfxstudio.pipeline import Progress

    def job(cancel: CancelFn) -> Iterator[Any]:
        started = time.monotonic()
        value = fn()
        yield Progress(1, 1, started, result=value, finished=True)

    return JobWorker(job, name=name, parent=parent)
