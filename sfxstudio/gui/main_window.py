"""The main window: it assembles the parts and keeps one playhead in sync across them.

Each job has its own room; this module only builds the layout and connects them:
- `transport.Transport`: Play/Pause, timecode, the playhead clock;
- `analysis_controller.AnalysisController`: the analysis process and job, cancel, the device;
- `model_manager.ModelManager`: the model list, model folders, improving and creating models;
- `project_files.ProjectFiles`: new/open/save, recent files, autosave and crash recovery;
- `window_actions.WindowActions`: every command with its keys, the menus and the toolbar;
- EDIT's widgets (timeline, lanes, inspector, class panel, params bar) around one DocumentModel.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.commands import SetMixLevels
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import Project
from sfxstudio.gui import errors, session_state
from sfxstudio.gui.analysis_controller import AnalysisController, bundle_class_names, bundle_folders
from sfxstudio.gui.document_model import Document, DocumentModel, make_document
from sfxstudio.gui.edit_wiring import attach_edit_widgets, connect_edit_actions
from sfxstudio.gui.markers import MarkerController
from sfxstudio.gui.model_manager import ModelManager
from sfxstudio.gui.playback import EffectsPlayback, db_to_volume
from sfxstudio.gui.project_files import ProjectFiles, droppable
from sfxstudio.gui.project_library import ProjectLibrary
from sfxstudio.gui.recovery import RecoveryEntry, RecoveryStore
from sfxstudio.gui.settings import Settings
from sfxstudio.gui.transport import Transport
from sfxstudio.gui.video_view import VideoView
from sfxstudio.gui.window_actions import WindowActions
from sfxstudio.gui.workers import JobWorker

if TYPE_CHECKING:
    from sfxstudio.gui.class_panel import ClassPanel
    from sfxstudio.gui.inspector import Inspector
    from sfxstudio.gui.meters import LevelMeters
    from sfxstudio.gui.mixer import MixerPanel
    from sfxstudio.gui.waveform_view import WaveformView

# The model list moved to analysis_controller; these names stay importable from here until the
# command line and the window share one ml-level model list.
__all__ = ["MainWindow", "bundle_class_names", "bundle_folders"]


# -------------------------------------------------------------------------------------------
# Stand-ins shown until install_edit_widgets() builds the real timeline and lanes.


class _PlaceholderTimeline(QLabel):
    seekRequested = Signal(float)

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__("Probability timeline", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(120)
        self.frames = 0

    def set_playhead(self, t: float) -> None: ...
    def follow_playhead(self, t: float) -> bool:
        return False

    def append_chunk(self, times: Any, probs: Any, class_names: list[str]) -> None:
        self.frames += len(times)

    def fit(self) -> None: ...
    def zoom(self, factor: float) -> None: ...
    def set_hide_quiet(self, hide: bool) -> None: ...
    def view_box(self) -> Any:
        return None


class _PlaceholderLanes(QLabel):
    seekRequested = Signal(float)
    selectionChanged = Signal(object)

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__("Effect lanes", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(120)

    def set_playhead(self, t: float) -> None: ...
    def link_x(self, view_box: Any) -> None: ...
    def selected_id(self) -> int | None:
        return None

    def selected_ids(self) -> list[int]:
        return []

    def split_at_playhead(self) -> None: ...
    def delete_selected(self) -> None: ...
    # The edit actions (gui.edit_wiring) call these before the real lanes exist.
    def select_all(self) -> None: ...
    def copy_selection(self) -> int:
        return 0

    def paste_at_playhead(self) -> bool:
        return False

    def duplicate_selection(self) -> bool:
        return False

    def nudge_selection(self, frames: int) -> bool:
        return False

    def set_snapping(self, on: bool) -> None: ...
    def set_snap_targets(self, times: list[float]) -> None: ...


# -------------------------------------------------------------------------------------------
class MainWindow(QMainWindow):
    """SFX Studio's window. `open_path` opens a video or a project; `analyse` runs the model."""

    analysisFinished = Signal()
    analysisStopped = Signal(str)  # "finished" | "cancelled" | "failed"

    def __init__(self, settings: Settings | None = None, recovery_folder: Path | None = None,
                 parent: QWidget | None = None, defer_edit_widgets: bool = False) -> None:
        """defer_edit_widgets: show stand-ins for the timeline, lanes and panels and build the
        real ones with `install_edit_widgets()` once the window is on screen (pyqtgraph's
        import alone takes over a second; the window must appear within two)."""
        super().__init__(parent)
        self.settings = settings or Settings()
        self.model = DocumentModel(make_document(), self)
        self.recovery = RecoveryStore(recovery_folder or self.settings.recovery_folder())
        self.auto_analyse = True  # analyse right after opening a video when a model is chosen
        self.first_shown_at: float | None = None
        self.edit_widgets_ready = False
        self.inspector: Inspector | None = None
        self.class_panel: ClassPanel | None = None
        self.waveform: WaveformView | None = None
        self.meters: LevelMeters | None = None
        self.mixer: MixerPanel | None = None
        self.setAcceptDrops(True)
        self.setMinimumSize(1024, 640)

        status = self.statusBar()
        self.video = VideoView(self)
        self.effects = EffectsPlayback(self.video, self)
        self.transport = Transport(self.video, self.effects, self)
        # In/out points, markers, next/previous point, go to timecode (issue 15).
        self.markers = MarkerController(self.model, self.video, self.transport, self)
        self.analyser = AnalysisController(self.model, self.settings, status, self)
        self.model_manager = ModelManager(self, self.model, self.settings, self.analyser, status)
        self.files = ProjectFiles(self, self, self.model, self.settings, self.recovery, status)
        self.sounds = ProjectLibrary(self.model)
        # Problems that do not stop a job (an unusable sound, a class without sounds) are
        # shown, not only logged.
        self._warnings = errors.WarningBridge(self)
        self.act = WindowActions(self, self.model.undo_stack, self.analyser.device_choice())
        self.act.effects_audio.setChecked(bool(self.settings.get("playback/effects_enabled")))
        self.effects.enabled = self.act.effects_audio.isChecked()

        self.timeline: Any = _PlaceholderTimeline(self.model, self)
        self.lanes: Any = _PlaceholderLanes(self.model, self)
        self.side_tabs = QTabWidget(self)
        self.side_tabs.setMinimumWidth(300)
        self._build_layout()
        self.act.build_menus(self.menuBar(), self.files.recent_menu)
        self.toolbar = self.act.build_toolbar(self.model_manager.combo)
        self.addToolBar(self.toolbar)
        self._connect()
        connect_edit_actions(self)
        self.apply_mix_levels()
        if not defer_edit_widgets:
            self.install_edit_widgets()
        self.model_manager.refresh()
        self._restore_window()
        self.update_title()
        self._update_actions()

    # ------------------------------------------------------------------ construction
    def _build_layout(self) -> None:
        preview = QWidget(self)
        pv = QVBoxLayout(preview)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.setSpacing(2)
        pv.addWidget(self.video, 1)
        self._transport_row = QHBoxLayout()  # the level meters join it with the edit widgets
        self._transport_row.setContentsMargins(0, 0, 0, 0)
        self._transport_row.addWidget(self.transport, 1)
        pv.addLayout(self._transport_row)

        self.top_split = QSplitter(Qt.Orientation.Horizontal, self)
        self.top_split.addWidget(preview)
        self.top_split.addWidget(self.side_tabs)
        self.top_split.setStretchFactor(0, 3)
        self.top_split.setStretchFactor(1, 1)
        self.bottom_split = QSplitter(Qt.Orientation.Vertical, self)
        self.bottom_split.addWidget(self.timeline)
        self.bottom_split.addWidget(self.lanes)
        self.main_split = QSplitter(Qt.Orientation.Vertical, self)
        self.main_split.setObjectName("mainSplit")
        self.main_split.addWidget(self.top_split)
        # k and threshold sit right above the curves they act on.
        from sfxstudio.gui.params_bar import ParamsBar

        self.params_bar = ParamsBar(self.model, self)
        editing = QWidget(self)
        ev = QVBoxLayout(editing)
        ev.setContentsMargins(0, 0, 0, 0)
        ev.setSpacing(0)
        ev.addWidget(self.params_bar)
        ev.addWidget(self.bottom_split, 1)
        self._editing_layout = ev  # the timeline's scrollbar goes under the lanes
        self.main_split.addWidget(editing)
        self.main_split.setStretchFactor(0, 1)
        self.main_split.setStretchFactor(1, 1)
        self.setCentralWidget(self.main_split)

    def install_edit_widgets(self) -> None:
        """Replace the stand-ins by EDIT's timeline, lanes, inspector and class panel."""
        if self.edit_widgets_ready:
            return
        from sfxstudio.gui.class_panel import ClassPanel
        from sfxstudio.gui.inspector import Inspector
        from sfxstudio.gui.lanes import EffectLanes
        from sfxstudio.gui.meters import LevelMeters
        from sfxstudio.gui.mixer import MixerPanel
        from sfxstudio.gui.timeline import ProbabilityTimeline
        from sfxstudio.gui.waveform_view import WaveformView

        timeline = ProbabilityTimeline(self.model, self)
        lanes = EffectLanes(self.model, self)
        view_box = timeline.view_box()
        if view_box is not None:
            lanes.link_x(view_box)
        old_timeline, old_lanes = self.timeline, self.lanes
        self.bottom_split.replaceWidget(0, timeline)
        self.bottom_split.replaceWidget(1, lanes)
        old_timeline.deleteLater()
        old_lanes.deleteLater()
        self.timeline, self.lanes = timeline, lanes
        timeline.seekRequested.connect(self.video.seek)
        lanes.seekRequested.connect(self.video.seek)
        lanes.selectionChanged.connect(self._on_selection)
        self._editing_layout.addWidget(timeline.scrollbar)
        self.inspector = Inspector(self.model, self, library_provider=self.sounds.library)
        self.side_tabs.addTab(self.inspector, "Effect")
        self.class_panel = ClassPanel(self.model, self.sounds.library, self)
        self.class_panel.auditionRequested.connect(self._on_audition)
        self.side_tabs.addTab(self.class_panel, "Classes")
        self.mixer = MixerPanel(self.model, self)
        self.side_tabs.addTab(self.mixer, "Mix")
        self._restore_side_tab()
        # The video's own audio between the probabilities and the lanes, x linked to them.
        self.waveform = WaveformView(self)
        self.bottom_split.insertWidget(1, self.waveform)
        self.bottom_split.setCollapsible(1, False)
        self.waveform.link_x(lanes.view_box())
        self.waveform.set_source(self.project.video)
        self.meters = LevelMeters(self)
        self._transport_row.addWidget(self.meters)
        attach_edit_widgets(self)
        self.edit_widgets_ready = True
        timeline.set_hide_quiet(self.act.hide_quiet.isChecked())
        self._restore_bottom_splitter()
        self.transport.show_position(self.video.position())
        if self.project.analysis is not None:
            self.timeline.fit()

    def _connect(self) -> None:
        a, files, models, video = self.act, self.files, self.model_manager, self.video
        for action, slot in (
                (a.new, files.new_project), (a.open_video, files.open_video_dialog),
                (a.open_project, files.open_project_dialog), (a.save, files.save),
                (a.save_as, files.save_as), (a.export, self.open_export_dialog),
                (a.add_models, models.add_folder_dialog), (a.quit, self.close),
                (a.analyse, self.analyse), (a.cancel, self.cancel_analysis),
                (a.improve, models.improve_dialog), (a.create_imagenet, models.create_imagenet_dialog),
                (a.delete, self.delete_selected), (a.split, self.split_at_playhead),
                (a.play, video.toggle_play), (a.reverse, video.shuttle_reverse), (a.stop, video.pause),
                (a.forward, video.shuttle_forward), (a.home, video.go_start), (a.end, video.go_end),
                (a.effects_audio, self._toggle_effects_audio), (a.show_log, self._show_log)):
            action.triggered.connect(slot)
        # The timeline is replaced by install_edit_widgets: look it up at each use.
        a.zoom_in.triggered.connect(lambda: self.timeline.zoom(1.5))
        a.zoom_out.triggered.connect(lambda: self.timeline.zoom(1 / 1.5))
        a.fit.triggered.connect(lambda: self.timeline.fit())
        a.hide_quiet.triggered.connect(lambda checked: self.timeline.set_hide_quiet(checked))
        a.prev_frame.triggered.connect(lambda: video.step(-1))
        a.next_frame.triggered.connect(lambda: video.step(1))
        a.back_second.triggered.connect(lambda: video.step_seconds(-1.0))
        a.fwd_second.triggered.connect(lambda: video.step_seconds(1.0))
        for key, action in a.device.items():
            action.triggered.connect(lambda _c=False, key=key: self.set_device(key))

        m = self.model
        m.dirtyChanged.connect(lambda _d: self.update_title())
        m.projectChanged.connect(self.update_title)
        m.segmentsChanged.connect(self._schedule_effects_render)
        m.analysisChanged.connect(self._update_actions)  # "Improve Model" needs an analysis
        m.classesChanged.connect(self._schedule_effects_render)
        m.mixChanged.connect(self.apply_mix_levels)
        m.editRefused.connect(lambda msg: self.statusBar().showMessage(msg, 4000))
        self._warnings.warned.connect(lambda msg: self.statusBar().showMessage(f"Warning: {msg}", 10000))
        self.transport.playheadMoved.connect(self._show_playhead)
        video.mediaError.connect(lambda msg: self.statusBar().showMessage(f"Preview: {msg}", 6000))
        self.effects.statusMessage.connect(lambda msg: self.statusBar().showMessage(msg, 6000))
        if not self.effects.has_device:
            # No sound card (a server, a test run): everything works, playback is just silent.
            self.statusBar().showMessage("No audio output device: playback is silent", 8000)
        self.analyser.chunkReady.connect(
            lambda times, probs, names: self.timeline.append_chunk(times, probs, names))
        self.analyser.adopted.connect(lambda: self.timeline.fit())
        self.analyser.stopped.connect(self.analysisStopped)
        self.analyser.finished.connect(self.analysisFinished)
        self.analyser.busyChanged.connect(self._update_actions)
        models.changed.connect(self._update_actions)

    # ------------------------------------------------------------------ settings / window
    def _restore_window(self) -> None:
        geometry = self.settings.get("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        if not self._restore_splitter(self.main_split, "window/splitter"):
            self.main_split.setSizes([360, 540])
        # The side panel's (Classes) width is remembered on its own (issue 15, problem 5).
        if not self._restore_splitter(self.top_split, "window/top_splitter"):
            self.top_split.setSizes([1080, 360])
        self._restore_bottom_splitter()
        self._restore_side_tab()

    def _restore_bottom_splitter(self) -> None:
        """Timeline / waveform strip / lanes: the remembered sizes when they fit the widgets
        there now (a layout saved before the strip existed, or one that collapsed a pane,
        would hide the lanes), else the defaults."""
        restored = self._restore_splitter(self.bottom_split, "window/bottom_splitter")
        sizes = self.bottom_split.sizes()
        if restored and len(sizes) == self.bottom_split.count() and min(sizes) > 0:
            return
        defaults = [250, 230] if self.waveform is None else [250, self.waveform.sizeHint().height(), 230]
        self.bottom_split.setSizes(defaults[: self.bottom_split.count()])

    def _restore_side_tab(self) -> None:
        """The side panel's open tab (again once the deferred edit widgets add theirs)."""
        tab = int(self.settings.get("window/side_tab") or 0)
        if 0 <= tab < self.side_tabs.count():
            self.side_tabs.setCurrentIndex(tab)

    def _restore_splitter(self, splitter: QSplitter, name: str) -> bool:
        state = self.settings.get(name)
        return isinstance(state, QByteArray) and not state.isEmpty() and splitter.restoreState(state)

    def _save_window(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/splitter", self.main_split.saveState())
        self.settings.set("window/top_splitter", self.top_split.saveState())
        self.settings.set("window/bottom_splitter", self.bottom_split.saveState())
        self.settings.set("window/side_tab", self.side_tabs.currentIndex())
        self.settings.sync()

    # ------------------------------------------------------------------ the session kept with the project
    def splitters(self) -> dict[str, QSplitter]:
        return {"main": self.main_split, "top": self.top_split, "bottom": self.bottom_split}

    def in_out(self) -> tuple[float | None, float | None]:
        """The in and out points (each None when unset)."""
        return self.markers.in_point, self.markers.out_point

    def set_in_out(self, a: float | None, b: float | None) -> None:
        self.markers.set_in_out(a, b)

    def session_state(self) -> dict[str, Any]:
        """What is saved in the project's session block (playhead, zoom, panels, in/out, undo)."""
        return session_state.capture(self)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.first_shown_at is None:
            self.first_shown_at = time.monotonic()

    # ------------------------------------------------------------------ document state
    @property
    def document(self) -> Document:
        return self.model.document

    @property
    def project(self) -> Project:
        return self.model.document.project

    def update_title(self) -> None:
        doc = self.model.document
        if doc.path is not None:
            name = Path(doc.path).name
        elif doc.project.video:
            name = Path(doc.project.video).name + " (unsaved project)"
        else:
            name = "Untitled"
        self.setWindowTitle(f"{name}[*] \u2014 SFX Studio")
        self.setWindowModified(bool(doc.dirty))

    def _update_actions(self) -> None:
        has_video = bool(self.project.video)
        running = self.analyser.is_running()
        teaching = self.model_manager.is_teaching()
        a = self.act
        has_model = self.model_manager.combo.count() > 0
        a.analyse.setEnabled(has_video and not running and not teaching and has_model)
        a.cancel.setEnabled(running)
        # Enabled whenever there is an analysis: clicking without corrections explains what to do.
        a.improve.setEnabled(self.project.analysis is not None and not running and not teaching)
        a.export.setEnabled(has_video)
        a.save.setEnabled(has_video or bool(self.project.segments))
        a.save_as.setEnabled(has_video or bool(self.project.segments))

    def set_document(self, project: Project, path: Path | None) -> None:
        """Show `project` (saved at `path`, or never saved): everything follows the new document."""
        self.analyser.abandon()
        self.model.set_document(make_document(project, path))
        info = None
        if project.video:
            try:
                from sfxstudio.media.video import probe

                info = probe(project.video)
            except BadInputError as exc:
                errors.show_exception(self, exc, "Cannot open the video")
        if info is not None:
            self.video.load(project.video, info.fps, info.duration)
            self.transport.set_duration(info.duration)
        else:
            duration = project.analysis.duration if project.analysis is not None else 0.0
            self.video.load(None, None, duration)
            self.transport.clear_duration()
        self.recovery.remove()
        if self.waveform is not None:
            self.waveform.set_source(project.video)
        self.model_manager.select(project.params.model)
        self.timeline.fit()
        self.update_title()
        self._update_actions()
        self.transport.show_position(0.0)
        self._schedule_effects_render()
        # Reopen where the editor left off: view, panels, in/out and the undo history.
        session_state.restore(self, project.session, path)

    # ------------------------------------------------------------------ questions (tests replace them)
    def ask_save_changes(self) -> QMessageBox.StandardButton:
        """Save / Discard / Cancel for unsaved work."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          "Save the changes to this project before closing it?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        return QMessageBox.StandardButton(box.exec())

    def ask_recover(self, entry: RecoveryEntry) -> bool:
        """Recover / Discard for work left by a crash."""
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"SFX Studio closed unexpectedly while you were working on "
                          f"{entry.label()}.\nRecover the unsaved changes?", parent=self)
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(recover)
        box.exec()
        return box.clickedButton() is recover

    # ------------------------------------------------------------------ the window's verbs
    def open_path(self, path: str | Path) -> bool:
        """Open a video (new project) or a .sfxproj. Errors become dialogs; returns success."""
        return self.files.open_path(path)

    def open_video(self, path: str | Path, analyse: bool | None = None) -> bool:
        return self.files.open_video(path, analyse)

    def open_project(self, path: str | Path) -> bool:
        return self.files.open_project(path)

    def save_to(self, path: Path) -> bool:
        return self.files.save_to(path)

    def offer_recovery(self) -> bool:
        return self.files.offer_recovery()

    def model_for_video(self) -> Path | None:
        return self.model_manager.model_for_video()

    def selected_model(self) -> Path | None:
        return self.model_manager.selected()

    def analyse(self) -> bool:
        """Start analysing the project's video with the chosen model in the background."""
        video = self.project.video
        model = self.model_manager.selected()
        if not video or model is None:
            self.statusBar().showMessage("Open a video and choose a model first", 5000)
            return False
        if self.analyser.is_running() or self.model_manager.is_teaching():
            return False
        return self.analyser.start(video, model, self.project.params)

    def cancel_analysis(self, wait: bool = False) -> None:
        self.analyser.cancel(wait)

    @property
    def analysis_worker(self) -> JobWorker | None:
        """The running (or last) analysis job."""
        return self.analyser.worker

    def set_device(self, device: str) -> None:
        """Analysis > Device: where the next analysis runs (stored in the settings)."""
        self.analyser.set_device(device)
        self.act.device[device].setChecked(True)

    def playhead(self) -> float:
        return self.video.position()

    # ------------------------------------------------------------------ playhead and editing
    def _show_playhead(self, t: float) -> None:
        self.timeline.set_playhead(t)
        self.lanes.set_playhead(t)
        if self.waveform is not None:
            self.waveform.set_playhead(t)
        # The view pages along when playing or stepping takes the playhead off screen.
        self.timeline.follow_playhead(t)

    def delete_selected(self) -> None:
        if not self.lanes.selected_ids():
            self.statusBar().showMessage("Select an effect to delete", 3000)
            return
        self.lanes.delete_selected()

    def split_at_playhead(self) -> None:
        if self.lanes.selected_id() is None:
            self.statusBar().showMessage("Select an effect to split", 3000)
            return
        self.lanes.split_at_playhead()

    def _on_selection(self, segment_id: object) -> None:
        if self.inspector is not None:
            self.inspector.set_segment(segment_id if isinstance(segment_id, int) else None)
        # The Classes tab shows the selected effect's class, as an editor expects.
        seg = self.model.document.find(segment_id) if isinstance(segment_id, int) else None
        if seg is not None and seg.origin != "mute" and self.class_panel is not None:
            self.class_panel.select_class(seg.class_name)

    # ------------------------------------------------------------------ effects preview and export
    def _schedule_effects_render(self) -> None:
        self.effects.schedule_render(self.project)

    def _toggle_effects_audio(self, checked: bool) -> None:
        self.effects.enabled = checked
        self.settings.set("playback/effects_enabled", checked)
        self.effects.sync(force=True)

    def apply_mix_levels(self) -> None:
        """The project's mix levels to the players and the meters: the one place that does it,
        run on every DocumentModel.mixChanged (the mixer, the export dialog, undo/redo, another
        project), so what is heard always is project.mix."""
        mix = self.project.mix
        self.video.set_volume(db_to_volume(mix.original_gain_db))
        self.effects.set_effects_gain(mix.effects_gain_db)
        self.effects.set_original_gain(mix.original_gain_db)

    def show_shortcuts(self) -> Any:
        """Help > Keyboard Shortcuts: every action with a key, by menu, searchable."""
        from sfxstudio.gui.shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self.menuBar(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _set_mix_levels(self, original_db: float, effects_db: float) -> None:
        """The export dialog's levels, as an undoable SetMixLevels of the level that moved.
        The dialog reports every step of a drag: consecutive steps of one level merge into
        one undo step."""
        mix = self.project.mix
        changed = {k: db for k, db in (("original_gain_db", original_db), ("effects_gain_db", effects_db))
                   if getattr(mix, k) != db}
        if changed:
            self.model.push(SetMixLevels(merge=True, **changed))

    def open_export_dialog(self) -> Any:
        from sfxstudio.gui.export_dialog import ExportDialog

        if not self.project.video:
            self.statusBar().showMessage("Open a video first", 4000)
            return None
        dialog = ExportDialog(self.project, self.settings, self.sounds.library, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.levelsChanged.connect(self._set_mix_levels)
        dialog.open()
        return dialog

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if droppable(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = droppable(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Open after the drop returns: a modal prompt inside dropEvent confuses some platforms.
        QTimer.singleShot(0, lambda: self.files.open_path(path))

    # ------------------------------------------------------------------ close
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop jobs and timers, remember the window, remove recovery files (clean exit)."""
        self.files.autosave_timer.stop()
        self.transport.stop()
        self._warnings.detach()
        self.video.pause()
        self.video.close_stills()
        self.analyser.cancel(wait=True)
        self.model_manager.shutdown()
        self.files.shutdown()  # waits for an autosave in progress, then removes the recovery files
        self.effects.close()
        self.analyser.shutdown()
        self._save_window()

    def _show_log(self) -> None:
        self.statusBar().showMessage(f"Log file: {errors.log_file()}", 10000)
        errors.show_log(self)

    def _on_audition(self, path: str) -> None:
        # Without a sound card the class panel's Play does nothing audible: say so.
        if not self.effects.has_device:
            self.statusBar().showMessage(
                f"No audio output device: {Path(path).name} cannot be played here", 8000)
