"""Analyses in a long-lived child process, so TensorFlow never shares the GUI's interpreter.

Loading TensorFlow and a model runs native code that holds Python's GIL for hundreds of
milliseconds at a time; in a worker thread that freezes the window. The server is spawned once
(on the first analysis), keeps TensorFlow and the loaded models warm, and runs one analysis at a
time. `AnalysisServer.analyze(...)` is a generator of the same `Progress` items as
`pipeline.analyze`, so the GUI's JobWorker drives either the same way.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sfxstudio.core.errors import BadInputError, Cancelled, SfxError
from sfxstudio.core.project import AnalysisParams

POLL_S = 0.1  # how often the parent checks for cancellation while waiting for results


class AnalysisProcessError(SfxError):
    """The analysis process failed unexpectedly; `details` holds its traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def _describe_error(exc: BaseException) -> tuple[str, str | None, str, str]:
    """(kind, path, message, traceback): exceptions with custom constructors don't pickle."""
    if isinstance(exc, BadInputError):
        return ("bad_input", exc.path, exc.problem, "")
    if isinstance(exc, SfxError):
        return ("sfx", None, str(exc), "")
    return ("other", None, f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _serve(requests: Any, results: Any, cancel: Any) -> None:
    """The child's loop: one request at a time until ("quit",)."""
    from sfxstudio.ml.platform_tuning import tune_allocator

    tune_allocator()
    # Below the window's priority: on a machine with few cores the analysis threads would
    # otherwise take the core the event loop needs; it is idle most of the time, so the
    # analysis loses almost nothing.
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)
    bundles: dict[tuple[str, float], Any] = {}
    device_text: str | None = None
    while True:
        request = requests.get()
        if request[0] == "quit":
            return
        _, video, model, params, batch_size, device = request
        try:
            from sfxstudio import pipeline
            from sfxstudio.ml import tf_setup
            from sfxstudio.ml.bundle import ModelBundle

            try:
                tf_setup.configure(device=device)
            except RuntimeError as exc:
                raise BadInputError(None, f"the analysis cannot run on {device}: {exc}") from exc
            if device_text is None:
                device_text = tf_setup.describe_device()
            results.put(("device", device_text))
            folder = Path(model)
            key = (str(folder.resolve()), (folder / "bundle.json").stat().st_mtime)
            if key not in bundles:
                from sfxstudio.ml import lite

                bundles.clear()  # one model in memory at a time
                if (lite.resolve_runtime(None, tf_setup.using_gpu()) == "lite"
                        and not lite.cached_for_folder(folder)):
                    results.put(("progress", pipeline.Progress(0, 0, time.monotonic(),
                                                               message=pipeline.OPTIMISING_MESSAGE)))
                bundles[key] = ModelBundle.load(folder)
            results.put(("device", f"{device_text}, {bundles[key].runtime_label}"))
            options = pipeline.AnalyzeOptions(batch_size=batch_size, device=device)
            for p in pipeline.analyze(video, bundles[key], params, cancel.is_set, options):
                results.put(("progress", p))
            results.put(("done", None))
        except Cancelled:
            results.put(("cancelled", None))
        except FileNotFoundError as exc:
            results.put(("error", _describe_error(BadInputError(exc.filename, "not found"))))
        except BaseException as exc:
            results.put(("error", _describe_error(exc)))


class AnalysisServer:
    """Owns the child process. Thread-safe for one analysis at a time."""

    def __init__(self) -> None:
        self._ctx = mp.get_context("spawn")  # never fork a process that runs Qt
        self._proc: Any = None
        self._requests: Any = None
        self._results: Any = None
        self._cancel: Any = None
        self._device: str | None = None
        self._busy = False  # the child is running a job whose end we have not read
        self._lock = threading.Lock()

    def _start(self, device: str) -> None:
        self.close()
        self._requests = self._ctx.Queue()
        self._results = self._ctx.Queue()
        self._cancel = self._ctx.Event()
        self._proc = self._ctx.Process(target=_serve, args=(self._requests, self._results, self._cancel),
                                       name="sfxstudio-analysis", daemon=True)
        self._proc.start()
        self._device = device

    def analyze(self, video: str | Path, model: str | Path, params: AnalysisParams,
                cancel: Callable[[], bool], batch_size: int | None = None, device: str = "auto",
                on_device: Callable[[str], None] | None = None) -> Iterator[Any]:
        with self._lock:
            # TensorFlow fixes its device once per process: another choice needs a new one.
            if self._proc is None or not self._proc.is_alive() or self._device != device:
                self._start(device)
            self._cancel.clear()
            self._requests.put(("analyze", str(video), str(model), params, batch_size, device))
            self._busy = True
            try:
                yield from self._receive(cancel, on_device)
            finally:
                if self._busy:  # stopped before the child said it was done
                    self._settle()

    def _settle(self) -> None:
        """The consumer stopped early (cancel, error, window closing): stop the child's job and
        drop its leftover results so the next analysis starts clean; restart if it won't stop."""
        if self._proc is None:
            return
        self._cancel.set()
        deadline = 50  # x POLL_S: 5 s
        while deadline:
            try:
                kind, _ = self._results.get(timeout=POLL_S)
            except queue.Empty:
                deadline -= 1
                if not self._proc.is_alive():
                    break
                continue
            if kind in ("done", "cancelled", "error"):
                self._busy = False
                return
        self.close()

    def _receive(self, cancel: Callable[[], bool], on_device: Callable[[str], None] | None) -> Iterator[Any]:
        while True:
            try:
                kind, payload = self._results.get(timeout=POLL_S)
            except queue.Empty:
                if cancel():
                    self._cancel.set()
                if not self._proc.is_alive():
                    code = self._proc.exitcode
                    self._proc, self._busy = None, False
                    raise AnalysisProcessError(
                        f"the analysis process stopped unexpectedly (exit code {code})") from None
                continue
            if cancel():
                self._cancel.set()
            if kind in ("done", "cancelled", "error"):
                self._busy = False
            if kind == "progress":
                yield payload
            elif kind == "device":
                if on_device is not None:
                    on_device(payload)
            elif kind == "done":
                return
            elif kind == "cancelled":
                raise Cancelled("analysis cancelled")
            elif kind == "error":
                err_kind, path, message, details = payload
                if err_kind == "bad_input":
                    raise BadInputError(path, message)
                if err_kind == "sfx":
                    raise SfxError(message)
                raise AnalysisProcessError(f"the analysis failed: {message}", details)

    def close(self) -> None:
        proc, self._proc, self._busy = self._proc, None, False
        if proc is None:
            return
        with contextlib.suppress(Exception):
            self._requests.put(("quit",))
        proc.join(3)
        if proc.is_alive():
            proc.terminate()
            proc.join(2)
