"""Improve the model from my corrections: the GUI side of `sfxstudio.ml.teach`.

The editor's manual effects and deleted effects (mute ranges) say what the analysed frames
really are. `TeachRun` trains a new head on those frames' cached embeddings in a JobWorker,
writes the new bundle next to the base one (models/<base>-taught-<n>), and re-classifies the
open video from the same cached embeddings: no video decoding, so it takes seconds. The window
then adopts the result (`ModelManager._adopt_taught`).

The worker gets a snapshot of the project, never the live Document; the teach progress
callback reaches the dialog through a queued Qt signal. Nothing here imports TensorFlow at
module level: the window must start without it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.errors import Cancelled
from sfxstudio.core.project import AnalysisCache, Project
from sfxstudio.core.project_io import SUFFIX as PROJECT_SUFFIX
from sfxstudio.gui import errors
from sfxstudio.gui.dialogs import busy_dialog, listen, set_up_dialog
from sfxstudio.gui.workers import JobWorker

TAUGHT_SUFFIX = re.compile(r"-taught-(\d+)$")
NO_CORRECTIONS = (
    "Correct some effects first: add, move, resize or relabel an effect, or delete a wrong one. "
    "The model learns from the frames you corrected."
)


# --- checks before teaching (cheap, GUI thread) ------------------------------------------------------
@dataclass(frozen=True)
class Corrections:
    manual: int  # manual effects (created, moved, resized or relabelled)
    deleted: int  # mute ranges (automatic effects the editor deleted)
    frames: int  # analysed frames inside them: what the new head learns from

    def describe(self) -> str:
        parts = []
        if self.manual:
            parts.append(f"{self.manual} corrected effect{'s' if self.manual != 1 else ''}")
        if self.deleted:
            parts.append(f"{self.deleted} deleted effect{'s' if self.deleted != 1 else ''}")
        what = " and ".join(parts) or "no corrections"
        return f"{what}, {self.frames} frame{'s' if self.frames != 1 else ''}"


def count_corrections(project: Project) -> Corrections:
    """How many frames the editor's edits label (same centre rule as ml.teach, without
    touching the embeddings: the GUI asks this on every click and must not copy (N, D))."""
    edited = [s for s in project.segments if s.origin in ("manual", "mute")]
    manual = sum(1 for s in edited if s.origin == "manual")
    cache = project.analysis
    if cache is None or cache.frames == 0 or not edited:
        return Corrections(manual, len(edited) - manual, 0)
    centre = np.asarray(cache.times, np.float64) + 0.5 * cache.frame_duration
    inside = np.zeros(len(centre), bool)
    order = np.argsort(centre, kind="stable")
    sorted_centre = centre[order]
    for s in edited:
        a, b = np.searchsorted(sorted_centre, [s.start, s.end], side="left")
        inside[order[a:b]] = True
    return Corrections(manual, len(edited) - manual, int(inside.sum()))


def same_folder(a: str | Path | None, b: str | Path | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return str(a) == str(b)


def precheck(project: Project, base: Path | None) -> tuple[str, str] | None:
    """(title, message) of why teaching cannot start now, or None when it can."""
    cache = project.analysis
    if not project.video and cache is None:
        return "Nothing to learn from", "Open a video and analyse it first."
    if cache is None or cache.frames == 0:
        return ("Analyse the video first",
                "Analyse the video first: the model learns from the analysed frames you corrected.")
    if cache.embeddings.ndim != 2 or cache.embeddings.shape[1] == 0:
        return ("Analyse the video again",
                "This analysis has no frame features to learn from (it was made by an older version "
                "or an imported project). Analyse the video again, then correct the effects.")
    if base is None:
        return "Choose a model", "Choose the model to improve in the Model list first."
    made_with = cache.model or project.params.model
    if made_with and not same_folder(made_with, base):
        return ("Different model",
                f"The analysis was made with the model \u201c{Path(made_with).name}\u201d, but "
                f"\u201c{base.name}\u201d is chosen in the Model list. Choose "
                f"\u201c{Path(made_with).name}\u201d to improve it, or analyse the video again with "
                f"\u201c{base.name}\u201d first.")
    if count_corrections(project).frames == 0:
        return "No corrections yet", NO_CORRECTIONS
    return None


# --- where the new bundle goes ---------------------------------------------------------------------
def writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def taught_folder(base: Path, fallback: Path) -> Path:
    """models/<base>-taught-<n> beside the base bundle, or in `fallback` (the user's models
    folder) when the base's folder is read-only (an installed app's models/).

    Teaching a taught model continues its numbering (color-taught-2, not
    color-taught-1-taught-1): the name says which model it grew from.
    """
    root = TAUGHT_SUFFIX.sub("", base.name) or base.name
    parent = base.parent if writable(base.parent) else fallback
    n = 1
    while (parent / f"{root}-taught-{n}").exists():
        n += 1
    return parent / f"{root}-taught-{n}"


# --- the job -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TeachRequest:
    project: Project  # a snapshot: the worker never sees the live document
    base: Path
    out_dir: Path
    extra_projects: tuple[Path, ...] = ()
    device: str = "auto"


@dataclass
class TeachOutcome:
    bundle_dir: Path
    cache: AnalysisCache  # the open video re-classified by the new model
    corrected_frames: int
    projects: int
    accuracy_before: float | None
    accuracy_after: float | None
    device: dict[str, Any] = field(default_factory=dict)  # tf_setup.configure() + describe_device()


def snapshot(project: Project) -> Project:
    """What the worker reads: the segment list is copied (edits replace it, but a copy costs
    nothing and rules out surprises); the analysis arrays are never mutated, so shared."""
    return replace(project, segments=list(project.segments))


def prepare_device(device: str) -> dict[str, Any]:
    """Configure TensorFlow for the chosen device (once per process) and describe it.

    Runs in a worker: it imports TensorFlow. Choosing GPU on a computer without one is the
    editor's choice to fix, so it becomes a readable error rather than a crash report.
    """
    from sfxstudio.core.errors import BadInputError
    from sfxstudio.ml import tf_setup

    try:
        config = tf_setup.configure(device=device)  # type: ignore[arg-type]
    except RuntimeError as exc:
        raise BadInputError(None, "GPU is chosen in Analysis \u25b8 Device, but TensorFlow sees no GPU "
                                  "on this computer; choose Auto or CPU") from exc
    return config | {"text": tf_setup.describe_device()}


def teach_job(request: TeachRequest,
              report: Callable[[dict[str, Any]], None]) -> Callable[..., Iterator[Any]]:
    """The JobWorker job: teach, then re-classify the cached embeddings with the new model."""

    def job(cancel: Callable[[], bool]) -> Iterator[Any]:
        from sfxstudio.pipeline import Progress

        started = time.monotonic()
        yield Progress(0, 0, started, message="Starting TensorFlow\u2026")
        device = prepare_device(request.device)
        from sfxstudio.ml.bundle import ModelBundle
        from sfxstudio.ml.teach import reclassified_cache, teach

        projects: list[Project | Path] = [request.project, *request.extra_projects]
        out = teach(projects, request.base, request.out_dir, progress=report, cancel=cancel)
        yield Progress(0, 0, started, message="Re-classifying the video from its analysed frames\u2026")
        if cancel():
            raise Cancelled("teaching cancelled")
        bundle = ModelBundle.load(out)
        assert request.project.analysis is not None
        cache = reclassified_cache(request.project.analysis, bundle)
        training = bundle.meta.get("training") or {}
        outcome = TeachOutcome(
            bundle_dir=Path(out),
            cache=cache,
            corrected_frames=int(training.get("corrected_frames", 0)),
            projects=len(training.get("projects") or projects),
            accuracy_before=training.get("accuracy_on_corrections_before"),
            accuracy_after=training.get("accuracy_on_corrections_after"),
            device=device,
        )
        yield Progress(1, 1, started, message="Done", result=outcome, finished=True)

    return job


class TeachRun(QObject):
    """One "Improve model" run: the worker, its progress dialog, cancel and clean-up.

    Signals: succeeded(TeachOutcome) when the new bundle exists and the video is re-classified;
    stopped(str) "finished" | "cancelled" | "failed" once the worker thread has ended.
    """

    succeeded = Signal(object)
    stopped = Signal(str)
    # Relay for teach()'s progress callback, which runs in the worker thread: emitting a signal
    # of this GUI-thread object queues the call, so the dialog is only touched in the GUI thread.
    _teachProgress = Signal(object)

    def __init__(self, request: TeachRequest, parent: QWidget) -> None:
        super().__init__(parent)
        self.request = request
        self.outcome: TeachOutcome | None = None
        self.result = ""
        self._parent = parent
        self._started = time.monotonic()
        self._text = "Starting\u2026"
        self._teachProgress.connect(self._on_teach_progress)
        job = teach_job(request, self._teachProgress.emit)
        self.worker = listen(JobWorker(job, name="teach", parent=self), self)

        base = request.base.name
        self.dialog = busy_dialog(f"Improving \u201c{base}\u201d from your corrections\u2026",
                                  parent, "teachProgress", "Improve Model", 420)
        # teach() checks cancel after every epoch and we check it between steps; a cancel during
        # model loading or saving lands right after it, and the half-made model is removed.
        self.dialog.canceled.connect(self.cancel)
        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._refresh_label)

    def start(self) -> None:
        self.dialog.show()
        self._clock.start()
        self.worker.start()

    def is_running(self) -> bool:
        return self.worker.is_running()

    @Slot()
    def cancel(self) -> None:
        if self.worker.is_running():
            self.worker.cancel()
            self._text = "Cancelling\u2026"
            self._refresh_label()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self.worker.wait(timeout_ms)

    # -- progress ------------------------------------------------------------------------------
    def _refresh_label(self) -> None:
        elapsed = time.monotonic() - self._started
        self.dialog.setLabelText(f"{self._text}\n{int(elapsed) // 60}:{int(elapsed) % 60:02d} elapsed")

    @Slot(object)
    def _on_teach_progress(self, step: dict[str, Any]) -> None:
        if self.worker.cancel_requested:
            return
        phase = step.get("phase")
        if phase == "load":
            self._text = str(step.get("message") or "Loading the model\u2026")
        elif phase == "teach":
            epoch, epochs = int(step.get("epoch", 0)), int(step.get("epochs", 0))
            self.dialog.setRange(0, max(1, epochs))
            self.dialog.setValue(epoch)
            self._text = f"Learning from your corrections: pass {epoch} of {epochs}"
        elif phase == "done":
            self._text = "Saving the improved model\u2026"
        self._refresh_label()

    def _on_progress(self, p: Any) -> None:
        if p.message and not self.worker.cancel_requested:
            self._text = p.message
            if "Re-classifying" in p.message:
                self.dialog.setRange(0, 0)
            self._refresh_label()

    # -- the end ---------------------------------------------------------------------------------
    def _on_finished(self, outcome: Any) -> None:
        if isinstance(outcome, TeachOutcome):
            self.outcome = outcome
            self.result = "finished"
            self.succeeded.emit(outcome)

    def _on_failed(self, message: str) -> None:
        self.result = "failed"
        self._remove_output()
        self._close_dialog()
        errors.show_error(self._parent, "Cannot improve the model", message)

    def _on_cancelled(self) -> None:
        self.result = "cancelled"
        # The job may have written the bundle before it saw the cancel: a cancelled run leaves
        # nothing behind (the folder was new, so it is ours to remove).
        self._remove_output()

    def _on_stopped(self) -> None:
        self._close_dialog()
        self.stopped.emit(self.result or "failed")

    def _close_dialog(self) -> None:
        self._clock.stop()
        self.dialog.reset()
        self.dialog.hide()

    def _remove_output(self) -> None:
        out = self.request.out_dir
        if out.is_dir():
            shutil.rmtree(out, ignore_errors=True)


# --- the dialog that starts it ---------------------------------------------------------------------
class TeachDialog(QDialog):
    """Says what will be learnt and where the model goes; optionally adds other projects."""

    def __init__(self, base: Path, corrections: Corrections, out_dir: Path, current_project: Path | None,
                 start_folder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_up_dialog(self, "teachDialog", "Improve Model from My Corrections", 520)
        self._current = current_project
        self._start_folder = start_folder
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>Improve \u201c{base.name}\u201d from your corrections.</b><br>"
            f"This project: {corrections.describe()}.<br>"
            "A new recogniser layer is trained on the frames you corrected (seconds, no video "
            "decoding), then this video is re-classified with it. Your manual effects stay as "
            "they are; the original model is kept.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(QLabel("Also learn from these projects (analysed with the same model):", self))
        self.projects = QListWidget(self)
        self.projects.setObjectName("teachProjects")
        self.projects.setMinimumHeight(90)
        layout.addWidget(self.projects)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add Projects\u2026", self)
        self.add_button.clicked.connect(self._browse)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self._remove_selected)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        where = QLabel(f"The improved model is saved as:<br><code>{out_dir}</code>", self)
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = buttons.addButton("Improve Model", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def add_projects(self, paths: Sequence[str | Path]) -> None:
        have = set(self.extra_projects())
        for p in paths:
            path = Path(p).resolve()
            # The open project is already included (with its unsaved corrections).
            if path in have or same_folder(path, self._current):
                continue
            have.add(path)
            self.projects.addItem(str(path))

    def extra_projects(self) -> list[Path]:
        return [Path(self.projects.item(i).text()) for i in range(self.projects.count())]

    def _browse(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Projects to Learn From", self._start_folder,
                                                f"SFX Studio projects (*{PROJECT_SUFFIX})")
        self.add_projects(names)

    def _remove_selected(self) -> None:
        for item in self.projects.selectedItems():
            self.projects.takeItem(self.projects.row(item))


def inform(parent: QWidget, title: str, text: str, name: str = "teachMessage") -> QMessageBox:
    """A window-modal note that opens without a nested event loop (the GUI keeps running)."""
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(name)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def summary(outcome: TeachOutcome, effects: int) -> str:
    """The status-bar line after teaching: what was used and what it changed."""
    frames = outcome.corrected_frames
    text = (f"Model improved: {outcome.bundle_dir.name} learnt from {frames} corrected "
            f"frame{'s' if frames != 1 else ''}")
    if outcome.projects > 1:
        text += f" in {outcome.projects} projects"
    before, after = outcome.accuracy_before, outcome.accuracy_after
    if before is not None and after is not None:
        text += f" (matches your corrections on {after:.0%} of them, was {before:.0%})"
    return text + f"; video re-classified, {effects} effect{'s' if effects != 1 else ''}"
