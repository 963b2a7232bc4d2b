"""Project files: new, open (video or project), save, recent files, autosave and crash recovery.

`ProjectFiles` does what the File menu promises. Replacing the document touches the whole window
(the preview, the model choice, the timeline), so it asks its host (the main window, through the
`DocumentHost` protocol) to do that, and for the two questions an editor answers (save changes?
recover work?), which tests replace on the window.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QStatusBar, QWidget

from sfxstudio.core.errors import SfxError
from sfxstudio.core.project import Project
from sfxstudio.core.project_io import SUFFIX as PROJECT_SUFFIX
from sfxstudio.core.project_io import load_project, save_project
from sfxstudio.gui import errors
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.recovery import RecoveryEntry, RecoveryStore, discard_entry, list_stale, read_entry
from sfxstudio.gui.settings import Settings
from sfxstudio.gui.workers import JobWorker, run_in_background

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".ogv", ".mpg", ".mpeg",
                            ".mts", ".m2ts", ".wmv", ".flv", ".3gp"})
VIDEO_FILTER = "Videos (" + " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES)) + ");;All files (*)"
PROJECT_FILTER = f"SFX Studio projects (*{PROJECT_SUFFIX})"


class DocumentHost(Protocol):
    """What ProjectFiles needs from the window it works for."""

    auto_analyse: bool  # analyse right after opening a video when a model is chosen

    def ask_save_changes(self) -> QMessageBox.StandardButton: ...
    def ask_recover(self, entry: RecoveryEntry) -> bool: ...
    def set_document(self, project: Project, path: Path | None) -> None: ...
    def model_for_video(self) -> Path | None: ...
    def analyse(self) -> bool: ...
    def update_title(self) -> None: ...
    def session_state(self) -> dict[str, Any]: ...


def droppable(event: QDragEnterEvent | QDropEvent) -> Path | None:
    """The first local video or project file a drag carries, or None."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            p = Path(url.toLocalFile())
            if p.suffix.lower() in VIDEO_SUFFIXES or p.suffix.lower() == PROJECT_SUFFIX:
                return p
    return None


class ProjectFiles(QObject):
    """Open, save, recent files and recovery for one window's document."""

    def __init__(self, window: QWidget, host: DocumentHost, model: DocumentModel, settings: Settings,
                 recovery: RecoveryStore, status: QStatusBar) -> None:
        super().__init__(window)
        self._window = window  # parent of the file dialogs
        self._host = host
        self.model = model
        self.settings = settings
        self.recovery = recovery
        self._status = status
        self.recent_menu = QMenu("Open &Recent", window)
        self.autosave_worker: JobWorker | None = None
        self.autosave_timer = QTimer(self)
        self.set_autosave_interval(float(settings.get("recovery/interval_s")))
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.rebuild_recent_menu()

    @property
    def project(self) -> Project:
        return self.model.document.project

    # ------------------------------------------------------------------ open / save
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded or clean)."""
        if not self.model.document.dirty:
            return True
        answer = self._host.ask_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self._host.set_document(Project(), None)

    def open_path(self, path: str | Path) -> bool:
        """Open a video (new project) or a .sfxproj. Errors become dialogs; returns success."""
        path = Path(path)
        if path.suffix.lower() == PROJECT_SUFFIX:
            return self.open_project(path)
        return self.open_video(path)

    def open_video(self, path: str | Path, analyse: bool | None = None) -> bool:
        path = Path(path).resolve()
        if not self.maybe_save():
            return False
        try:
            from sfxstudio.media.video import probe

            probe(path)  # refuse a bad file before dropping the current project
        except SfxError as exc:
            errors.show_exception(self._window, exc, "Cannot open the video")
            return False
        model = self._host.model_for_video()
        project = Project(video=str(path))
        if model is not None:
            project.params = project.params.with_(model=str(model))
        self._host.set_document(project, None)
        self.settings.set("files/last_video_dir", str(path.parent))
        self.add_recent(path)
        self._status.showMessage(f"Opened {path.name}", 4000)
        if (self._host.auto_analyse if analyse is None else analyse) and model is not None:
            self._host.analyse()
        return True

    def open_project(self, path: str | Path) -> bool:
        path = Path(path).resolve()
        if not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except SfxError as exc:
            errors.show_exception(self._window, exc, "Cannot open the project")
            return False
        if project.video and not Path(project.video).exists():
            errors.show_error(self._window, "Video not found",
                              f"{project.video}: the project's video is missing; the effects are "
                              "shown without a picture. Move the video back to open it.")
        self._host.set_document(project, path)
        self.settings.set("files/last_project_dir", str(path.parent))
        self.add_recent(path)
        self._status.showMessage(f"Opened {path.name}", 4000)
        return True

    def save(self) -> bool:
        path = self.model.document.path
        if path is None:
            return self.save_as()
        return self.save_to(Path(path))

    def save_as(self) -> bool:
        start = self.settings.get("files/last_project_dir") or str(Path.home())
        doc = self.model.document
        stem = Path(doc.project.video).stem if doc.project.video else "untitled"
        suggested = str(Path(start) / (stem + PROJECT_SUFFIX))
        name, _ = QFileDialog.getSaveFileName(self._window, "Save Project", suggested, PROJECT_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        # The view state and undo history go with the project (restored on open).
        self.project.session = self._host.session_state()
        try:
            save_project(self.project, path)
        except (SfxError, OSError) as exc:
            errors.show_exception(self._window, exc, "Cannot save the project")
            return False
        self.model.mark_saved(path)
        self.recovery.remove()
        self.settings.set("files/last_project_dir", str(path.parent))
        self.add_recent(path)
        self._host.update_title()
        self._status.showMessage(f"Saved {path.name}", 4000)
        return True

    def open_video_dialog(self) -> None:
        start = self.settings.get("files/last_video_dir") or str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self._window, "Open Video", start, VIDEO_FILTER)
        if name:
            self.open_video(name)

    def open_project_dialog(self) -> None:
        start = self.settings.get("files/last_project_dir") or str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self._window, "Open Project", start, PROJECT_FILTER)
        if name:
            self.open_project(name)

    def add_recent(self, path: Path) -> None:
        self.settings.add_recent_file(path)
        self.rebuild_recent_menu()

    def rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for i, p in enumerate(recent):
            label = f"&{i + 1 if i < 9 else 0}  {Path(p).name}"
            action = self.recent_menu.addAction(label)
            action.setToolTip(p)
            action.setStatusTip(p)
            action.triggered.connect(lambda _c=False, p=p: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))

    # ------------------------------------------------------------------ autosave and recovery
    def set_autosave_interval(self, seconds: float) -> None:
        self.autosave_timer.setInterval(max(50, int(seconds * 1000)))

    def autosave(self) -> None:
        """Write unsaved work to the recovery folder in the background (a snapshot)."""
        if not self.model.document.dirty:
            return
        if self.autosave_worker is not None and self.autosave_worker.is_running():
            return
        project = self.project
        snapshot = replace(project, segments=list(project.segments),
                           class_attributes=dict(project.class_attributes),
                           class_variations={k: list(v) for k, v in project.class_variations.items()},
                           markers=list(project.markers),
                           # Recovered work reopens with its view and undo history as well.
                           session=self._host.session_state())
        source = self.model.document.path
        store = self.recovery
        worker = run_in_background(lambda: store.write(snapshot, source), name="autosave", parent=self)
        worker.failed.connect(lambda msg: self._status.showMessage(f"Autosave failed: {msg}", 6000))
        self.autosave_worker = worker
        worker.start()

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest stale recovery file; others are discarded."""
        entries = list_stale(self.recovery.folder)
        if not entries:
            return False
        newest, older = entries[0], entries[1:]
        for e in older:
            discard_entry(e)
        if not self._host.ask_recover(newest):
            discard_entry(newest)
            return False
        try:
            project = read_entry(newest)
        except SfxError as exc:
            errors.show_exception(self._window, exc, "Cannot recover the work")
            discard_entry(newest)
            return False
        source = Path(newest.source) if newest.source else None
        self._host.set_document(project, source)
        discard_entry(newest)
        # Recovered work is unsaved work: keep it marked so closing prompts and autosave runs.
        self.model.document.set_dirty(True)
        self._host.update_title()
        self._status.showMessage("Recovered the unsaved work", 6000)
        return True

    def shutdown(self) -> None:
        """Stop autosaving and wait for a write in progress; a clean exit leaves no recovery."""
        self.autosave_timer.stop()
        if self.autosave_worker is not None:
            self.autosave_worker.wait()
        self.recovery.remove()
