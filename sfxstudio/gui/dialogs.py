"""Small pieces the job dialogs share: their window set-up, their progress dialog, and the
wiring of a JobWorker's signals to the `_on_*` handlers every job owner in gui/ defines."""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QProgressDialog, QWidget

from sfxstudio.gui.workers import JobWorker


class JobListener(Protocol):
    """What a worker's owner handles: progress, the result, an error, a cancel, the thread's end."""

    def _on_progress(self, p: Any) -> None: ...
    def _on_finished(self, result: Any) -> None: ...
    def _on_failed(self, message: str) -> None: ...
    def _on_cancelled(self) -> None: ...
    def _on_stopped(self) -> None: ...


def listen(worker: JobWorker, listener: JobListener) -> JobWorker:
    """Connect the worker's five outcome signals to the listener's handlers; returns the worker."""
    worker.progress.connect(listener._on_progress)
    worker.finished.connect(listener._on_finished)
    worker.failed.connect(listener._on_failed)
    worker.cancelled.connect(listener._on_cancelled)
    worker.stopped.connect(listener._on_stopped)
    return worker


def set_up_dialog(dialog: QDialog, name: str, title: str, min_width: int) -> None:
    """The object name (tests and style sheets find the dialog by it), title and minimum width."""
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setMinimumWidth(min_width)


def busy_dialog(text: str, parent: QWidget | None, name: str, title: str, min_width: int) -> QProgressDialog:
    """A window-modal, busy (no range) progress dialog with a Cancel button, shown at once and
    never closed or reset by Qt itself: its owner closes it when the job has stopped."""
    dialog = QProgressDialog(text, "Cancel", 0, 0, parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumWidth(min_width)
    return dialog
