"""The analysis job: which models exist, where the analysis runs, the job itself and its progress.

`AnalysisController` owns the analysis process (started on the first analysis, closed with the
window), the JobWorker that drives one analysis, cancellation, the device choice and the
progress/cancel/device widgets in the status bar. The window starts an analysis with `start()` and
listens: `chunkReady` streams the preview into the timeline, `adopted` says the result is in the
document, `stopped` says how it ended. Nothing here is module-global: two windows, two processes.
When the editor cancels, the frames streamed so far are offered as a partial analysis (Keep /
Discard); a kept one is marked in the status bar until the next analysis or project.

The model list (`bundle_folders`, `bundle_class_names`) reads bundle.json only, so listing models
never imports TensorFlow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QPushButton, QStatusBar, QWidget

from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, AnalysisParams
from sfxstudio.gui import errors
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.settings import Settings, data_dir
from sfxstudio.gui.teach import prepare_device
from sfxstudio.gui.timecode import format_duration
from sfxstudio.gui.workers import JobWorker
from sfxstudio.ml.registry import builtin_entry, list_models

if TYPE_CHECKING:
    from sfxstudio.pipeline.analysis_server import AnalysisServer

log = logging.getLogger(__name__)
DEVICES = (("auto", "&Auto (GPU when there is one)"), ("cpu", "&CPU"), ("gpu", "&GPU"))


def user_models_dir() -> Path:
    """Where new models go when models/ beside the program is read-only (an installed app)."""
    return data_dir() / "models"


# -------------------------------------------------------------------------------------------
# Models (bundles) the combo offers; read from bundle.json only, so TensorFlow stays unloaded.
def bundle_folders(user_folders: list[str]) -> list[tuple[str, Path]]:
    """(label, folder) of the models to offer: the one model list (ml.registry.list_models) the
    command line's `model list` prints too, built-in first; reads bundle.json only."""
    return [(entry.name, entry.folder) for entry in list_models(user_folders)]


def builtin_model_dir() -> Path | None:
    entry = builtin_entry()
    return entry.folder if entry is not None else None


def bundle_class_names(folder: Path) -> list[str]:
    """The class names a model outputs, from the same list (the built-in recogniser's even
    before it is built); [] for a folder that is not a readable model."""
    folder = Path(folder)
    for entry in list_models([folder]):
        if entry.folder.resolve() == folder.resolve():
            return list(entry.classes)
    return []


# -------------------------------------------------------------------------------------------
@dataclass
class _Streamed:
    """What a running analysis has streamed so far (for keeping it when cancelled)."""

    video: str
    params: AnalysisParams
    classes: list[str]
    times: list[np.ndarray] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)

    def frames(self) -> int:
        return sum(len(t) for t in self.times)

    def cache(self) -> AnalysisCache:
        """The streamed frames as an analysis (no embeddings: the model did not hand them over)."""
        from sfxstudio.media.video import analysis_rate, probe

        info = probe(self.video)
        times = np.concatenate(self.times).astype(np.float64)
        probs = np.concatenate(self.probs).astype(np.float32)
        return AnalysisCache(times=times, probs=probs, embeddings=np.zeros((len(times), 0), np.float16),
                             class_names=list(self.classes),
                             frame_duration=1.0 / analysis_rate(info, self.params.analysis_fps),
                             duration=info.duration, model=str(self.params.model or ""))


# -------------------------------------------------------------------------------------------
class AnalysisController(QObject):
    """One window's analyses: start, stream, cancel, adopt the result; the device they run on.

    Signals: chunkReady(times, probs, class_names) for each streamed part; adopted() once the
    finished analysis is in the document; stopped(str) "finished" | "cancelled" | "failed";
    finished() after a finished analysis; busyChanged() when a job starts or its thread ends.
    """

    chunkReady = Signal(object, object, list)
    adopted = Signal()
    stopped = Signal(str)
    finished = Signal()
    busyChanged = Signal()

    def __init__(self, model: DocumentModel, settings: Settings, status: QStatusBar,
                 window: QWidget) -> None:
        super().__init__(window)
        self.model = model
        self.settings = settings
        self._status = status
        self._window = window  # parent of the error dialogs
        self.worker: JobWorker | None = None
        self._server: AnalysisServer | None = None
        self._stream_classes: list[str] = []
        self._streamed: _Streamed | None = None
        self._offer_partial = True
        self.partial_prompt: QMessageBox | None = None  # Keep / Discard after a cancel
        self._started = 0.0
        # Filled by the worker thread with the device text; read once its thread has ended.
        self._found_device: dict[str, Any] = {}
        # What TensorFlow was set up with in this process (None until an analysis imports it):
        # the device cannot change afterwards, so a new choice waits for the next start.
        self.device_config: dict[str, Any] | None = None

        self.progress = QProgressBar(window)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress_label = QLabel("", window)
        self.cancel_button = QPushButton("Cancel", window)
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for w in (self.progress_label, self.progress, self.cancel_button):
            status.addPermanentWidget(w)
            w.hide()
        # Filled once TensorFlow has been imported for a job (never at start-up: importing it
        # costs seconds), from tf_setup.describe_device().
        self.device_label = QLabel("", window)
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setToolTip("Where the analysis runs (Analysis \u25b8 Device)")
        status.addPermanentWidget(self.device_label)
        self.device_label.hide()
        self.partial_label = QLabel("", window)
        self.partial_label.setObjectName("partialAnalysisLabel")
        self.partial_label.setToolTip("The analysis was cancelled and the part analysed so far was "
                                      "kept; analyse again for the whole video")
        status.addPermanentWidget(self.partial_label)
        self.partial_label.hide()
        self.cancel_button.clicked.connect(lambda: self.cancel())

    # ------------------------------------------------------------------ the job
    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def server(self) -> AnalysisServer:
        """This window's analysis process (started on first use)."""
        if self._server is None:
            from sfxstudio.pipeline.analysis_server import AnalysisServer

            self._server = AnalysisServer()
        return self._server

    def start(self, video: str, model: Path, params: AnalysisParams) -> bool:
        """Analyse `video` with the bundle in `model` in the background; False when busy."""
        if self.is_running():
            return False
        params = params.with_(model=str(model))
        batch = int(self.settings.get("analysis/batch_size"))
        device = self.device_choice()
        self._stream_classes = bundle_class_names(model)
        self._streamed = _Streamed(video, params, list(self._stream_classes))
        self._offer_partial = True
        self._close_partial_prompt()
        found: dict[str, Any] = {}
        self._found_device = found

        if self.settings.get("analysis/separate_process"):
            server = self.server()

            def job(cancel: Any) -> Iterator[Any]:
                # TensorFlow runs in the server's process: its native loading holds that
                # interpreter's GIL, not ours, so the window keeps drawing.
                return server.analyze(video, model, params, cancel, batch_size=batch, device=device,
                                      on_device=lambda text: found.update(text=text))
        else:
            def job(cancel: Any) -> Iterator[Any]:
                # Imported here, in the worker: pipeline/ml pull in TensorFlow, which must never
                # delay the window's start. The device is set up before the model loads
                # (TensorFlow fixes its devices at the first op) and described for the status bar.
                found.update(prepare_device(device))
                from sfxstudio.pipeline import AnalyzeOptions, analyze

                return analyze(video, model, params, cancel, AnalyzeOptions(batch_size=batch, device=device))

        worker = JobWorker(job, name="analysis", parent=self)
        worker.progress.connect(self._on_progress)
        worker.partial.connect(self._on_chunk)
        worker.finished.connect(lambda cache: self._on_finished(cache, params))
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.stopped.connect(self._on_stopped)
        self.worker = worker
        self._show_progress(True, f"Loading model {model.name}\u2026")
        self._started = time.monotonic()
        worker.start()
        self.busyChanged.emit()
        return True

    def cancel(self, wait: bool = False, offer_partial: bool = True) -> None:
        """Stop the running analysis. offer_partial: ask whether to keep what was analysed
        (the editor's Cancel); closing the window or the project never asks."""
        worker = self.worker
        if worker is not None and worker.is_running():
            self._offer_partial = offer_partial
            worker.cancel()
            self.progress_label.setText("Cancelling\u2026")
            if wait:
                worker.wait()

    def abandon(self) -> None:
        """The document is being replaced: cancel, wait, and drop what is still on its way."""
        self.cancel(wait=True, offer_partial=False)
        self._stream_classes = []
        self._streamed = None
        self._close_partial_prompt()
        self.partial_label.hide()

    def shutdown(self) -> None:
        """Cancel and wait for a running analysis; end the analysis process."""
        self.cancel(wait=True, offer_partial=False)
        self._streamed = None
        self._close_partial_prompt()
        if self._server is not None:
            self._server.close()
            self._server = None

    def _show_progress(self, visible: bool, text: str = "") -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
        self.progress_label.setVisible(visible)
        self.progress_label.setText(text)
        if visible:
            self.progress.setRange(0, 0)  # busy until the first frame count arrives

    def _on_progress(self, p: Any) -> None:
        if self.worker is None or self.worker.cancel_requested:
            return
        if p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * p.fraction))
            self.progress.setFormat(f"{100 * p.fraction:.0f} %")
            self.progress_label.setText(f"{p.done}/{p.total} frames \u00b7 {p.rate:.0f} frames/s "
                                        f"\u00b7 ETA {format_duration(p.eta)}")
        else:
            self.progress_label.setText(p.message or "Working\u2026")

    def _on_chunk(self, chunk: Any) -> None:
        if self._stream_classes and chunk.probs.shape[1] == len(self._stream_classes):
            if self._streamed is not None:
                self._streamed.times.append(np.asarray(chunk.times))
                self._streamed.probs.append(np.asarray(chunk.probs))
            self.chunkReady.emit(chunk.times, chunk.probs, self._stream_classes)

    def _on_finished(self, cache: Any, params: AnalysisParams) -> None:
        doc = self.model.document
        if cache is None:
            return
        self._streamed = None
        self.partial_label.hide()
        doc.set_params(model=params.model)
        doc.set_analysis(cache)
        self.adopted.emit()
        elapsed = time.monotonic() - self._started
        self._status.showMessage(
            f"Analysis finished: {cache.frames} frames in {elapsed:.1f} s, "
            f"{sum(1 for s in doc.segments if s.origin != 'mute')} effects", 8000)
        self.stopped.emit("finished")
        self.finished.emit()

    def _on_failed(self, message: str) -> None:
        self.model.analysisChanged.emit()  # drop the streamed preview, show what the project has
        errors.show_error(self._window, "Analysis failed", message)
        self.stopped.emit("failed")

    def _on_cancelled(self) -> None:
        self.model.analysisChanged.emit()
        streamed, self._streamed = self._streamed, None
        if self._offer_partial and streamed is not None and streamed.frames() > 0:
            self._ask_keep_partial(streamed)
        else:
            self._status.showMessage("Analysis cancelled; the project is as it was", 5000)
        self.stopped.emit("cancelled")

    # ------------------------------------------------------------------ partial analyses
    def _ask_keep_partial(self, streamed: _Streamed) -> None:
        """Keep / Discard what was analysed before the cancel (non-blocking: the editor may
        go on working; the answer is applied when given)."""
        end = float(streamed.times[-1][-1]) if len(streamed.times[-1]) else 0.0
        box = QMessageBox(QMessageBox.Icon.Question, "Analysis cancelled",
                          f"The first {format_duration(end)} of the video ({streamed.frames()} frames) "
                          "were analysed before you cancelled.\nKeep this partial analysis?",
                          QMessageBox.StandardButton.NoButton, self._window)
        box.setObjectName("keepPartialDialog")
        keep = box.addButton("Keep Partial Analysis", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if self.partial_prompt is box:
                self.partial_prompt = None
            if box.clickedButton() is keep:
                self.keep_partial(streamed)
            else:
                self._status.showMessage("Analysis cancelled; the project is as it was", 5000)

        box.finished.connect(answered)
        self.partial_prompt = box
        box.open()

    def _close_partial_prompt(self) -> None:
        box, self.partial_prompt = self.partial_prompt, None
        if box is not None:
            box.finished.disconnect()
            box.close()

    def keep_partial(self, streamed: _Streamed) -> bool:
        """Make the streamed frames the project's analysis, marked partial in the status bar."""
        try:
            cache = streamed.cache()
        except (BadInputError, ValueError) as exc:
            errors.show_exception(self._window, exc, "Cannot keep the partial analysis")
            return False
        doc = self.model.document
        doc.set_params(model=streamed.params.model)
        doc.set_analysis(cache)
        self.adopted.emit()
        end = cache.times[-1] + cache.frame_duration
        text = f"Partial analysis: {format_duration(end)} of {format_duration(cache.duration)}"
        self.partial_label.setText(text)
        self.partial_label.show()
        self._status.showMessage(f"{text} kept ({cache.frames} frames); analyse again for the whole video",
                                 8000)
        return True

    def _on_stopped(self) -> None:
        self._show_progress(False)
        # The worker thread has ended, so what it wrote into the dict is safe to read here.
        self.show_device(self._found_device)
        self.busyChanged.emit()

    # ------------------------------------------------------------------ device
    def device_choice(self) -> str:
        value = str(self.settings.get("analysis/device")).lower()
        return value if value in dict(DEVICES) else "auto"

    def set_device(self, device: str) -> None:
        """Where the next analysis runs (stored in the settings)."""
        if device not in dict(DEVICES):
            raise ValueError(f"unknown device {device!r}")
        self.settings.set("analysis/device", device)
        config = self.device_config
        if config is not None and device != "auto" and config.get("device") != device:
            self._status.showMessage(
                f"The analysis runs on {str(config.get('device')).upper()} until SFX Studio restarts: "
                "TensorFlow cannot change device once it has started", 8000)
        else:
            self._status.showMessage(f"Analyses run on: {dict(DEVICES)[device].replace('&', '')}", 4000)

    def show_device(self, config: dict[str, Any] | None) -> None:
        """Show where jobs run, once a job has set TensorFlow up (config from prepare_device)."""
        if not config or "text" not in config:
            return
        self.device_config = config
        self.device_label.setText(f"Device: {config['text']}")
        self.device_label.show()
