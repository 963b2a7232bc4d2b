"""The main window: preview, probability timeline, effect lanes, panels, menus and the jobs.

It assembles EDIT's widgets (timeline, lanes, class panel, inspector) around one DocumentModel,
keeps a single playhead in sync across them, and owns the long jobs (analysis, autosave, effects
preview render), each a JobWorker fed a snapshot. Everything an editor does is reachable from a
menu, and the menus show the keyboard shortcuts an editor already knows (Space, J/K/L, arrows...).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.errors import BadInputError, SfxError
from sfxstudio.core.paths import DEMO_MODEL, MODELS
from sfxstudio.core.project import Project
from sfxstudio.core.project_io import SUFFIX as PROJECT_SUFFIX
from sfxstudio.core.project_io import load_project, save_project
from sfxstudio.gui import errors
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.gui.playback import EffectsPlayback, db_to_volume
from sfxstudio.gui.recovery import RecoveryEntry, RecoveryStore, discard_entry, list_stale, read_entry
from sfxstudio.gui.settings import Settings, data_dir
from sfxstudio.gui.teach import (
    TeachOutcome,
    TeachRequest,
    TeachRun,
    count_corrections,
    inform,
    precheck,
    prepare_device,
    snapshot,
    taught_folder,
    writable,
)
from sfxstudio.gui.video_view import VideoView
from sfxstudio.gui.workers import JobWorker, run_in_background
from sfxstudio.ml.bundle import read_bundle_json

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".ogv", ".mpg", ".mpeg",
                            ".mts", ".m2ts", ".wmv", ".flv", ".3gp"})
VIDEO_FILTER = "Videos (" + " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES)) + ");;All files (*)"
PROJECT_FILTER = f"SFX Studio projects (*{PROJECT_SUFFIX})"
PLAYHEAD_INTERVAL_MS = 33  # ~30 Hz: smooth playhead, negligible cost
DEVICES = (("auto", "&Auto (GPU when there is one)"), ("cpu", "&CPU"), ("gpu", "&GPU"))



_SERVER: Any = None


def analysis_server() -> Any:
    """The application's analysis process (started on first use, one per application)."""
    global _SERVER
    if _SERVER is None:
        from sfxstudio.pipeline.analysis_server import AnalysisServer

        _SERVER = AnalysisServer()
    return _SERVER


def close_analysis_server() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.close()
        _SERVER = None


def user_models_dir() -> Path:
    """Where new models go when models/ beside the program is read-only (an installed app)."""
    return data_dir() / "models"


# -------------------------------------------------------------------------------------------
# Models (bundles) the combo offers; read from bundle.json only, so TensorFlow stays unloaded.
def bundle_folders(user_folders: list[str]) -> list[tuple[str, Path]]:
    """(label, folder) for models/*/bundle.json and the user's folders (a bundle, or a folder
    of bundles), without duplicates, built-in first."""
    found: list[tuple[str, Path]] = []
    seen: set[Path] = set()

    def add(folder: Path) -> None:
        if not (folder / "bundle.json").is_file() or folder.resolve() in seen:
            return
        seen.add(folder.resolve())
        try:
            meta = read_bundle_json(folder)  # the one validating reader (no TensorFlow)
        except BadInputError as exc:
            log.warning("model list: %s", exc)  # a broken bundle is left out of the list
            return
        found.append((str(meta.get("name") or folder.name), folder))

    # First: the built-in real-footage recogniser (built from the installed weights on first
    # use, so it is listed whether or not its folder exists yet).
    from sfxstudio.ml import imagenet

    try:
        builtin = imagenet.builtin_bundle_dir()
        found.append((imagenet.BUILTIN_LABEL, builtin))
        seen.add(builtin.resolve())
    except BadInputError as exc:  # an unreadable mapping table: the list goes on without it
        log.warning("model list: %s", exc)
    roots = [MODELS, *[Path(f) for f in user_folders]]
    for root in roots:
        if not root.is_dir():
            continue
        add(root)
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            add(sub)
    return found


def builtin_model_dir() -> Path | None:
    from sfxstudio.ml import imagenet

    try:
        return imagenet.builtin_bundle_dir()
    except BadInputError:
        return None


def bundle_class_names(folder: Path) -> list[str]:
    if folder.name.startswith("imagenet-lite0-") and not folder.exists():
        from sfxstudio.core.classes import default_classes

        return default_classes().names  # the built-in recogniser, not built yet
    try:
        return [str(c) for c in read_bundle_json(folder)["classes"]]
    except BadInputError:
        return []


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


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

    def split_at_playhead(self) -> None: ...
    def delete_selected(self) -> None: ...


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
        self.analysis_worker: JobWorker | None = None
        self._autosave_worker: JobWorker | None = None
        self._library: Any = None
        self._library_key: str | None = None
        self._stream_classes: list[str] = []
        self.teach_run: TeachRun | None = None
        self.imagenet_dialog: Any = None
        # What TensorFlow was set up with in this process (None until an analysis imports it):
        # the device cannot change afterwards, so a new choice waits for the next start.
        self.device_config: dict[str, Any] | None = None
        # Folder new models (ImageNet recogniser) are written into; None = models/ or the user's.
        self.new_models_dir: Path | None = None
        self.auto_analyse = True  # analyse right after opening a video when a model is chosen
        self.first_shown_at: float | None = None
        self.setAcceptDrops(True)
        self.setMinimumSize(1024, 640)

        self._build_widgets()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._connect()
        self.edit_widgets_ready = False
        if not defer_edit_widgets:
            self.install_edit_widgets()
        self.refresh_models()
        self._restore_window()
        self._update_title()
        self._update_actions()

        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAYHEAD_INTERVAL_MS)
        self._play_timer.timeout.connect(self._sync_playhead)
        self._autosave_timer = QTimer(self)
        self.set_autosave_interval(float(self.settings.get("recovery/interval_s")))
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()

    # ------------------------------------------------------------------ construction
    def _build_widgets(self) -> None:
        self.video = VideoView(self)
        self.effects = EffectsPlayback(self.video, self)
        self.timeline: Any = _PlaceholderTimeline(self.model, self)
        self.lanes: Any = _PlaceholderLanes(self.model, self)
        self.side_tabs = QTabWidget(self)
        self.side_tabs.setMinimumWidth(300)
        self.inspector: Any = None
        self.class_panel: Any = None

        self.timecode = QLabel("00:00:00:00", self)
        self.timecode.setObjectName("timecode")
        self.timecode.setStyleSheet("font-family: monospace; font-size: 15px; padding: 2px 8px;")
        self.timecode.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        preview = QWidget(self)
        pv = QVBoxLayout(preview)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.setSpacing(2)
        pv.addWidget(self.video, 1)
        transport = QHBoxLayout()
        transport.setContentsMargins(4, 0, 4, 0)
        self.play_button = QPushButton("Play", self)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must stay play/pause
        self.play_button.setMinimumWidth(72)
        transport.addWidget(self.play_button)
        transport.addWidget(self.timecode)
        transport.addStretch(1)
        self.duration_label = QLabel("", self)
        transport.addWidget(self.duration_label)
        pv.addLayout(transport)

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
        self.main_split.addWidget(editing)
        self.main_split.setStretchFactor(0, 1)
        self.main_split.setStretchFactor(1, 1)
        self.setCentralWidget(self.main_split)

        status = self.statusBar()
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress_label = QLabel("", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for w in (self.progress_label, self.progress, self.cancel_button):
            status.addPermanentWidget(w)
            w.hide()
        # Filled once TensorFlow has been imported for a job (never at start-up: importing it
        # costs seconds), from tf_setup.describe_device().
        self.device_label = QLabel("", self)
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setToolTip("Where the analysis runs (Analysis \u25b8 Device)")
        status.addPermanentWidget(self.device_label)
        self.device_label.hide()

    def install_edit_widgets(self) -> None:
        """Replace the stand-ins by EDIT's timeline, lanes, inspector and class panel."""
        if self.edit_widgets_ready:
            return
        from sfxstudio.gui.class_panel import ClassPanel
        from sfxstudio.gui.inspector import Inspector
        from sfxstudio.gui.lanes import EffectLanes
        from sfxstudio.gui.timeline import ProbabilityTimeline

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
        self.inspector = Inspector(self.model, self)
        self.side_tabs.addTab(self.inspector, "Effect")
        self.class_panel = ClassPanel(self.model, self.library, self)
        self.side_tabs.addTab(self.class_panel, "Classes")
        self.edit_widgets_ready = True
        timeline.set_hide_quiet(self.act_hide_quiet.isChecked())
        self.bottom_split.setSizes([250, 230])
        self._on_position(self.video.position())
        if self.project.analysis is not None:
            self.timeline.fit()

    def _action(self, text: str, slot: Any, shortcut: QKeySequence | str | list[Any] | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) if isinstance(k, str) else k for k in keys])
        # Window context: the keys work whichever panel has focus (text fields still get
        # their own arrows first via ShortcutOverride), as in editing software.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new = self._action("&New Project", self.new_project, K.New)
        self.act_open_video = self._action("&Open Video\u2026", self.open_video_dialog, K.Open,
                                           "Open a video to find its sound effects")
        self.act_open_project = self._action("Open &Project\u2026", self.open_project_dialog,
                                             "Ctrl+Shift+O")
        self.act_save = self._action("&Save", self.save, K.Save)
        self.act_save_as = self._action("Save &As\u2026", self.save_as, "Ctrl+Shift+S")
        self.act_export = self._action("&Export\u2026", self.open_export_dialog, "Ctrl+E",
                                       "Export the effects track and the video with effects")
        self.act_add_models = self._action("Add &Model Folder\u2026", self.add_model_folder_dialog)
        self.act_quit = self._action("&Quit", self.close, K.Quit)
        self.act_analyse = self._action("&Analyse", self.analyse, "Ctrl+R",
                                        "Find the sound effects with the chosen model")
        self.act_cancel = self._action("&Cancel Analysis", self.cancel_analysis)
        self.act_improve = self._action("&Improve Model from My Corrections\u2026", self.improve_model_dialog,
                                        tip="Teach the model the effects you corrected and "
                                            "re-classify the video with the improved model")
        self.act_improve.setIconText("Improve Model")
        self.act_create_imagenet = self._action("Create &ImageNet Recogniser\u2026",
                                                self.create_imagenet_dialog,
                                                tip="A model from ResNet152V2's ImageNet classifier, "
                                                    "no training needed")
        self.device_group = QActionGroup(self)
        self.device_group.setExclusive(True)
        self.device_actions: dict[str, QAction] = {}
        chosen = self.device_choice()
        for key, label in DEVICES:
            action = QAction(label, self)
            action.setCheckable(True)
            action.setChecked(key == chosen)
            action.setData(key)
            action.triggered.connect(lambda _c=False, key=key: self.set_device(key))
            self.device_group.addAction(action)
            self.device_actions[key] = action
        stack = self.model.undo_stack
        self.act_undo = stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence(K.Undo)])
        self.act_redo = stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(K.Redo)])
        for a in (self.act_undo, self.act_redo):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(a)
        self.act_delete = self._action("&Delete Effect", self.delete_selected,
                                       [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)])
        self.act_split = self._action("&Split at Playhead", self.split_at_playhead, "S")
        self.act_zoom_in = self._action("Zoom &In", lambda: self.timeline.zoom(1.5),
                                        [QKeySequence("="), QKeySequence("+")])
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.timeline.zoom(1 / 1.5), "-")
        self.act_fit = self._action("&Fit to Window", lambda: self.timeline.fit(), "\\")
        # 21 probability rows do not fit a laptop screen; classes that never fire fold away.
        self.act_hide_quiet = self._action("&Hide Quiet Classes",
                                           lambda checked: self.timeline.set_hide_quiet(checked))
        self.act_hide_quiet.setCheckable(True)
        self.act_hide_quiet.setChecked(True)
        self.act_play = self._action("&Play/Pause", self.video.toggle_play, Qt.Key.Key_Space)
        self.act_play.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.act_reverse = self._action("Play &Backwards (J)", self.video.shuttle_reverse, "J")
        self.act_stop = self._action("Pause (&K)", self.video.pause, "K")
        self.act_forward = self._action("Play &Forwards (L)", self.video.shuttle_forward, "L")
        self.act_prev_frame = self._action("Previous Frame", lambda: self.video.step(-1),
                                           QKeySequence(Qt.Key.Key_Left))
        self.act_next_frame = self._action("Next Frame", lambda: self.video.step(1),
                                           QKeySequence(Qt.Key.Key_Right))
        self.act_back_second = self._action("Back One Second", lambda: self.video.step_seconds(-1.0),
                                            QKeySequence("Shift+Left"))
        self.act_fwd_second = self._action("Forward One Second", lambda: self.video.step_seconds(1.0),
                                           QKeySequence("Shift+Right"))
        self.act_home = self._action("Go to Start", self.video.go_start, QKeySequence(Qt.Key.Key_Home))
        self.act_end = self._action("Go to End", self.video.go_end, QKeySequence(Qt.Key.Key_End))
        self.act_effects_audio = self._action("Play &Effects With Video", self._toggle_effects_audio)
        self.act_effects_audio.setCheckable(True)
        self.act_effects_audio.setChecked(bool(self.settings.get("playback/effects_enabled")))
        self.effects.enabled = self.act_effects_audio.isChecked()
        self.act_show_log = self._action("Show &Log File", self._show_log)

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addActions([self.act_new, self.act_open_video, self.act_open_project])
        self.recent_menu = m.addMenu("Open &Recent")
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        m.addAction(self.act_export)
        m.addSeparator()
        m.addAction(self.act_add_models)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_delete, self.act_split])
        m = bar.addMenu("&View")
        m.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit])
        m.addSeparator()
        m.addAction(self.act_hide_quiet)
        m = bar.addMenu("&Playback")
        m.addActions([self.act_play, self.act_reverse, self.act_stop, self.act_forward])
        m.addSeparator()
        m.addActions([self.act_prev_frame, self.act_next_frame, self.act_back_second,
                      self.act_fwd_second, self.act_home, self.act_end])
        m.addSeparator()
        m.addAction(self.act_effects_audio)
        m = bar.addMenu("&Analysis")
        m.addActions([self.act_analyse, self.act_cancel])
        m.addSeparator()
        m.addAction(self.act_improve)
        m.addSeparator()
        self.device_menu = m.addMenu("&Device")
        self.device_menu.addActions(list(self.device_actions.values()))
        m = bar.addMenu("&Models")
        m.addAction(self.act_create_imagenet)
        m.addAction(self.act_add_models)
        m = bar.addMenu("&Help")
        m.addAction(self.act_show_log)

        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.addAction(self.act_open_video)
        tb.addAction(self.act_open_project)
        tb.addAction(self.act_save)
        tb.addSeparator()
        tb.addWidget(QLabel(" Model: ", self))
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setMinimumContentsLength(14)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setToolTip("The model that recognises what is on screen")
        tb.addWidget(self.model_combo)
        tb.addAction(self.act_analyse)
        tb.addAction(self.act_cancel)
        tb.addAction(self.act_improve)
        tb.addSeparator()
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        tb.addAction(self.act_export)
        for button in tb.findChildren(QWidget):
            if button is not self.model_combo:
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addToolBar(tb)
        self.toolbar = tb
        self._rebuild_recent_menu()

    def _connect(self) -> None:
        m = self.model
        m.dirtyChanged.connect(lambda _d: self._update_title())
        m.projectChanged.connect(self._update_title)
        m.segmentsChanged.connect(self._schedule_effects_render)
        m.analysisChanged.connect(self._update_actions)  # "Improve Model" needs an analysis
        m.classesChanged.connect(self._schedule_effects_render)
        m.editRefused.connect(lambda msg: self.statusBar().showMessage(msg, 4000))
        # Problems that do not stop a job (an unusable sound, a class without sounds) are
        # shown, not only logged.
        self._warnings = errors.WarningBridge(self)
        self._warnings.warned.connect(lambda msg: self.statusBar().showMessage(f"Warning: {msg}", 10000))
        self.video.positionChanged.connect(self._on_position)
        self.video.playingChanged.connect(self._on_playing)
        self.video.mediaError.connect(
            lambda msg: self.statusBar().showMessage(f"Preview: {msg}", 6000))
        self.effects.statusMessage.connect(lambda msg: self.statusBar().showMessage(msg, 6000))
        if not self.effects.has_device:
            # No sound card (a server, a test run): everything works, playback is just silent.
            self.statusBar().showMessage("No audio output device: playback is silent", 8000)
        self.play_button.clicked.connect(self.video.toggle_play)
        self.cancel_button.clicked.connect(self.cancel_analysis)
        self.model_combo.currentIndexChanged.connect(self._on_model_chosen)

    # ------------------------------------------------------------------ settings / window
    def _restore_window(self) -> None:
        geometry = self.settings.get("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        splitter = self.settings.get("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.main_split.restoreState(splitter)
        else:
            self.main_split.setSizes([360, 540])
            self.top_split.setSizes([1080, 360])
            self.bottom_split.setSizes([250, 230])

    def _save_window(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/splitter", self.main_split.saveState())
        self.settings.sync()

    def set_autosave_interval(self, seconds: float) -> None:
        self._autosave_timer.setInterval(max(50, int(seconds * 1000)))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.first_shown_at is None:
            self.first_shown_at = time.monotonic()

    # ------------------------------------------------------------------ document state
    @property
    def document(self) -> Any:
        return self.model.document

    @property
    def project(self) -> Project:
        return self.model.document.project

    def _update_title(self) -> None:
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
        running = self.analysis_worker is not None and self.analysis_worker.is_running()
        teaching = self.teach_run is not None and self.teach_run.is_running()
        self.act_analyse.setEnabled(has_video and not running and not teaching
                                    and self.model_combo.count() > 0)
        self.act_cancel.setEnabled(running)
        # Enabled whenever there is an analysis: clicking without corrections explains what to do.
        self.act_improve.setEnabled(self.project.analysis is not None and not running and not teaching)
        self.act_export.setEnabled(has_video)
        self.act_save.setEnabled(has_video or bool(self.project.segments))
        self.act_save_as.setEnabled(has_video or bool(self.project.segments))

    def _set_document(self, project: Project, path: Path | None) -> None:
        self.cancel_analysis(wait=True)
        doc = make_document(project, path)
        self.model.set_document(doc)
        self._stream_classes = []
        info = None
        if project.video:
            try:
                from sfxstudio.media.video import probe

                info = probe(project.video)
            except BadInputError as exc:
                errors.show_exception(self, exc, "Cannot open the video")
        if info is not None:
            self.video.load(project.video, info.fps, info.duration)
            self.duration_label.setText(format_duration(info.duration))
        else:
            duration = project.analysis.duration if project.analysis is not None else 0.0
            self.video.load(None, None, duration)
            self.duration_label.setText("")
        self.recovery.remove()
        self._select_model(project.params.model)
        self.timeline.fit()
        self._update_title()
        self._update_actions()
        self._on_position(0.0)
        self._schedule_effects_render()

    # ------------------------------------------------------------------ open / save
    def ask_save_changes(self) -> QMessageBox.StandardButton:
        """Save / Discard / Cancel for unsaved work (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          "Save the changes to this project before closing it?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        return QMessageBox.StandardButton(box.exec())

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded or clean)."""
        if not self.model.document.dirty:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self._set_document(Project(), None)

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
            errors.show_exception(self, exc, "Cannot open the video")
            return False
        model = self.selected_model()
        if model is not None and model.resolve() == DEMO_MODEL.resolve():
            # The demo model knows only the demo's drawings: a real video gets the real recogniser.
            self._select_model(builtin_model_dir())
            model = self.selected_model()
        project = Project(video=str(path))
        if model is not None:
            project.params = project.params.with_(model=str(model))
        self._set_document(project, None)
        self.settings.set("files/last_video_dir", str(path.parent))
        self._add_recent(path)
        self.statusBar().showMessage(f"Opened {path.name}", 4000)
        if (self.auto_analyse if analyse is None else analyse) and model is not None:
            self.analyse()
        return True

    def open_project(self, path: str | Path) -> bool:
        path = Path(path).resolve()
        if not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except SfxError as exc:
            errors.show_exception(self, exc, "Cannot open the project")
            return False
        if project.video and not Path(project.video).exists():
            errors.show_error(self, "Video not found",
                              f"{project.video}: the project's video is missing; the effects are "
                              "shown without a picture. Move the video back to open it.")
        self._set_document(project, path)
        self.settings.set("files/last_project_dir", str(path.parent))
        self._add_recent(path)
        self.statusBar().showMessage(f"Opened {path.name}", 4000)
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
        name, _ = QFileDialog.getSaveFileName(self, "Save Project", suggested, PROJECT_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        try:
            save_project(self.project, path)
        except (SfxError, OSError) as exc:
            errors.show_exception(self, exc, "Cannot save the project")
            return False
        self.model.mark_saved(path)
        self.recovery.remove()
        self.settings.set("files/last_project_dir", str(path.parent))
        self._add_recent(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def open_video_dialog(self) -> None:
        start = self.settings.get("files/last_video_dir") or str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self, "Open Video", start, VIDEO_FILTER)
        if name:
            self.open_video(name)

    def open_project_dialog(self) -> None:
        start = self.settings.get("files/last_project_dir") or str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self, "Open Project", start, PROJECT_FILTER)
        if name:
            self.open_project(name)

    def _add_recent(self, path: Path) -> None:
        self.settings.add_recent_file(path)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for i, p in enumerate(recent):
            label = f"&{i + 1 if i < 9 else 0}  {Path(p).name}"
            action = self.recent_menu.addAction(label)
            action.setToolTip(p)
            action.setStatusTip(p)
            action.triggered.connect(lambda _c=False, p=p: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def _droppable(event: QDragEnterEvent | QDropEvent) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                p = Path(url.toLocalFile())
                if p.suffix.lower() in VIDEO_SUFFIXES or p.suffix.lower() == PROJECT_SUFFIX:
                    return p
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._droppable(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._droppable(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Open after the drop returns: a modal prompt inside dropEvent confuses some platforms.
        QTimer.singleShot(0, lambda: self.open_path(path))

    # ------------------------------------------------------------------ models
    def refresh_models(self, select: str | Path | None = None) -> None:
        wanted = str(select) if select else self.settings.get("models/selected")
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for label, folder in bundle_folders(self.settings.get("models/user_folders")):
            self.model_combo.addItem(label, str(folder))
            self.model_combo.setItemData(self.model_combo.count() - 1, str(folder),
                                         Qt.ItemDataRole.ToolTipRole)
        if self.model_combo.count() == 0:
            self.model_combo.setPlaceholderText("No model \u2014 File \u25b8 Add Model Folder\u2026")
        self.model_combo.blockSignals(False)
        self._select_model(wanted)

    def _select_model(self, folder: str | Path | None) -> None:
        if folder:
            target = str(Path(folder).resolve())
            for i in range(self.model_combo.count()):
                if str(Path(self.model_combo.itemData(i)).resolve()) == target:
                    self.model_combo.setCurrentIndex(i)
                    return
        if self.model_combo.currentIndex() < 0 and self.model_combo.count():
            self.model_combo.setCurrentIndex(0)

    def selected_model(self) -> Path | None:
        data = self.model_combo.currentData()
        return Path(data) if data else None

    def _on_model_chosen(self, _index: int) -> None:
        folder = self.selected_model()
        if folder is not None:
            self.settings.set("models/selected", str(folder))
        self._update_actions()

    def add_model_folder(self, folder: str | Path) -> bool:
        """Remember a folder holding a model (or several) and list its models in the combo."""
        folder = Path(folder).resolve()
        found = [f for _, f in bundle_folders([str(folder)])
                 if f.resolve() == folder or folder in f.resolve().parents]
        if not found:
            errors.show_error(self, "No model found",
                              f"{folder}: no model here (a model folder has bundle.json and model.keras)")
            return False
        folders = [f for f in self.settings.get("models/user_folders") if Path(f).resolve() != folder]
        self.settings.set("models/user_folders", [*folders, str(folder)])
        self.refresh_models(select=found[0])
        return True

    def add_model_folder_dialog(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Add Model Folder", str(Path.home()))
        if name:
            self.add_model_folder(name)

    # ------------------------------------------------------------------ analysis
    def analyse(self) -> bool:
        """Start analysing the project's video with the chosen model in the background."""
        video = self.project.video
        model = self.selected_model()
        if not video or model is None:
            self.statusBar().showMessage("Open a video and choose a model first", 5000)
            return False
        if self.analysis_worker is not None and self.analysis_worker.is_running():
            return False
        if self.teach_run is not None and self.teach_run.is_running():
            return False
        params = self.project.params.with_(model=str(model))
        batch = int(self.settings.get("analysis/batch_size"))
        device = self.device_choice()
        self._stream_classes = bundle_class_names(model)
        found: dict[str, Any] = {}
        self._analysis_device = found

        if self.settings.get("analysis/separate_process"):
            server = analysis_server()

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
        worker.progress.connect(self._on_analysis_progress)
        worker.partial.connect(self._on_analysis_chunk)
        worker.finished.connect(lambda cache: self._on_analysis_finished(cache, params))
        worker.failed.connect(self._on_analysis_failed)
        worker.cancelled.connect(self._on_analysis_cancelled)
        worker.stopped.connect(self._on_analysis_stopped)
        self.analysis_worker = worker
        self._show_progress(True, f"Loading model {model.name}\u2026")
        self._analysis_started = time.monotonic()
        worker.start()
        self._update_actions()
        return True

    def cancel_analysis(self, wait: bool = False) -> None:
        worker = self.analysis_worker
        if worker is not None and worker.is_running():
            worker.cancel()
            self.progress_label.setText("Cancelling\u2026")
            if wait:
                worker.wait()

    def _show_progress(self, visible: bool, text: str = "") -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
        self.progress_label.setVisible(visible)
        self.progress_label.setText(text)
        if visible:
            self.progress.setRange(0, 0)  # busy until the first frame count arrives

    def _on_analysis_progress(self, p: Any) -> None:
        if self.analysis_worker is None or self.analysis_worker.cancel_requested:
            return
        if p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * p.fraction))
            self.progress.setFormat(f"{100 * p.fraction:.0f} %")
            self.progress_label.setText(f"{p.done}/{p.total} frames \u00b7 {p.rate:.0f} frames/s "
                                        f"\u00b7 ETA {format_duration(p.eta)}")
        else:
            self.progress_label.setText(p.message or "Working\u2026")

    def _on_analysis_chunk(self, chunk: Any) -> None:
        if self._stream_classes and chunk.probs.shape[1] == len(self._stream_classes):
            self.timeline.append_chunk(chunk.times, chunk.probs, self._stream_classes)

    def _on_analysis_finished(self, cache: Any, params: Any) -> None:
        doc = self.model.document
        if cache is None:
            return
        doc.set_params(model=params.model)
        doc.set_analysis(cache)
        self.timeline.fit()
        elapsed = time.monotonic() - self._analysis_started
        self.statusBar().showMessage(
            f"Analysis finished: {cache.frames} frames in {elapsed:.1f} s, "
            f"{sum(1 for s in doc.segments if s.origin != 'mute')} effects", 8000)
        self.analysisStopped.emit("finished")
        self.analysisFinished.emit()

    def _on_analysis_failed(self, message: str) -> None:
        self.model.analysisChanged.emit()  # drop the streamed preview, show what the project has
        errors.show_error(self, "Analysis failed", message)
        self.analysisStopped.emit("failed")

    def _on_analysis_cancelled(self) -> None:
        self.model.analysisChanged.emit()
        self.statusBar().showMessage("Analysis cancelled; the project is as it was", 5000)
        self.analysisStopped.emit("cancelled")

    def _on_analysis_stopped(self) -> None:
        self._show_progress(False)
        # The worker thread has ended, so what it wrote into the dict is safe to read here.
        self._show_device(getattr(self, "_analysis_device", None))
        self._update_actions()

    # ------------------------------------------------------------------ device
    def device_choice(self) -> str:
        value = str(self.settings.get("analysis/device")).lower()
        return value if value in dict(DEVICES) else "auto"

    def set_device(self, device: str) -> None:
        """Analysis > Device: where the next analysis runs (stored in the settings)."""
        if device not in dict(DEVICES):
            raise ValueError(f"unknown device {device!r}")
        self.settings.set("analysis/device", device)
        self.device_actions[device].setChecked(True)
        config = self.device_config
        if config is not None and device != "auto" and config.get("device") != device:
            self.statusBar().showMessage(
                f"The analysis runs on {str(config.get('device')).upper()} until SFX Studio restarts: "
                "TensorFlow cannot change device once it has started", 8000)
        else:
            self.statusBar().showMessage(f"Analyses run on: {dict(DEVICES)[device].replace('&', '')}", 4000)

    def _show_device(self, config: dict[str, Any] | None) -> None:
        if not config or "text" not in config:
            return
        self.device_config = config
        self.device_label.setText(f"Device: {config['text']}")
        self.device_label.show()

    # ------------------------------------------------------------------ improve the model
    def improve_model_dialog(self) -> Any:
        """Analysis > Improve Model: check, then ask which other projects to learn from."""
        from sfxstudio.gui.teach import TeachDialog

        base = self._teach_base()
        if base is None:
            return None
        doc_path = self.model.document.path
        dialog = TeachDialog(base, count_corrections(self.project), taught_folder(base, user_models_dir()),
                             Path(doc_path) if doc_path else None,
                             self.settings.get("files/last_project_dir"), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.improve_model(dialog.extra_projects()))
        dialog.open()
        return dialog

    def _teach_base(self) -> Path | None:
        """The model to improve, or None after telling the editor why it cannot be done now."""
        if self.teach_run is not None and self.teach_run.is_running():
            return None
        if self.analysis_worker is not None and self.analysis_worker.is_running():
            self.statusBar().showMessage("Wait for the analysis to finish", 4000)
            return None
        base = self.selected_model()
        problem = precheck(self.project, base)
        if problem is not None:
            title, text = problem
            self.statusBar().showMessage(text, 8000)
            inform(self, title, text)
            return None
        return base

    def improve_model(self, extra_projects: list[Path] | tuple[Path, ...] = ()) -> bool:
        """Teach the chosen model from this project's corrections (and the other projects')
        in the background; the window adopts the new model when it is done."""
        base = self._teach_base()
        if base is None:
            return False
        out_dir = taught_folder(base, user_models_dir())
        request = TeachRequest(snapshot(self.project), base, out_dir,
                               tuple(Path(p) for p in extra_projects), self.device_choice())
        if self.teach_run is not None:  # the previous run (kept until now for its outcome)
            self.teach_run.dialog.deleteLater()
            self.teach_run.deleteLater()
        run = TeachRun(request, self)
        document = self.model.document
        analysis = document.analysis
        run.succeeded.connect(lambda outcome: self._adopt_taught_model(outcome, document, analysis))
        run.stopped.connect(self._on_teach_stopped)
        self.teach_run = run
        run.start()
        self._update_actions()
        return True

    def _adopt_taught_model(self, outcome: TeachOutcome, document: Any, analysis: Any) -> None:
        """List and select the new model; re-classified probabilities replace the analysis.

        Not an undoable edit (changing the model is not an edit), but the project records the
        model and is marked modified. Manual and deleted effects stay: set_analysis re-merges them.
        """
        self._show_device(outcome.device)
        self._list_model(outcome.bundle_dir)
        self.refresh_models(select=outcome.bundle_dir)
        if self.model.document is not document or document.analysis is not analysis:
            # Another project was opened meanwhile: the model is there to choose, the other
            # project's analysis is left alone.
            self.statusBar().showMessage(f"Model {outcome.bundle_dir.name} created", 8000)
            return
        document.set_params(model=str(outcome.bundle_dir))
        document.set_analysis(outcome.cache)  # same frames and times: the editor's zoom stays
        from sfxstudio.gui.teach import summary

        effects = sum(1 for s in document.segments if s.origin != "mute")
        self.statusBar().showMessage(summary(outcome, effects), 15000)

    def _on_teach_stopped(self, how: str) -> None:
        if how == "cancelled":
            self.statusBar().showMessage("Improving the model was cancelled; nothing changed", 6000)
        self._update_actions()

    def _list_model(self, folder: Path) -> None:
        """Make sure the model combo lists a bundle folder (remembered as a user folder)."""
        folder = folder.resolve()
        users = list(self.settings.get("models/user_folders"))
        if any(f.resolve() == folder for _, f in bundle_folders(users)):
            return
        # Models in the user's own folder are listed by that folder, later ones included.
        entry = folder.parent if folder.parent == user_models_dir().resolve() else folder
        self.settings.set("models/user_folders", [*users, str(entry)])

    # ------------------------------------------------------------------ ImageNet recogniser
    def models_dir_for_new(self) -> Path:
        if self.new_models_dir is not None:
            return self.new_models_dir
        return MODELS if writable(MODELS) else user_models_dir()

    def create_imagenet_dialog(self) -> Any:
        """Models > Create ImageNet Recogniser: weights from a file, the cache or a confirmed download."""
        from sfxstudio.gui.weights_dialog import ImagenetRecogniserDialog

        old = self.imagenet_dialog
        if old is not None and (old.isVisible() or old.is_running()):
            old.raise_()
            return old
        if old is not None:
            old.deleteLater()
        dialog = ImagenetRecogniserDialog(self.models_dir_for_new(), str(Path.home()),
                                          self.device_choice(), self)
        dialog.created.connect(self._on_imagenet_created)
        self.imagenet_dialog = dialog
        dialog.open()
        return dialog

    def _on_imagenet_created(self, folder: Path, device: dict[str, Any]) -> None:
        self._show_device(device)
        self._list_model(Path(folder))
        self.refresh_models(select=folder)
        self._update_actions()
        self.statusBar().showMessage(f"ImageNet recogniser {Path(folder).name} created and chosen", 8000)

    # ------------------------------------------------------------------ playhead
    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            self._play_timer.start()
        else:
            self._play_timer.stop()
            self._sync_playhead()

    def _sync_playhead(self) -> None:
        self._on_position(self.video.position())
        self.effects.sync()
        if not self.video.is_playing():
            self._play_timer.stop()
            self.play_button.setText("Play")

    @Slot(float)
    def _on_position(self, t: float) -> None:
        self.timeline.set_playhead(t)
        self.lanes.set_playhead(t)
        from sfxstudio.gui.timecode import format_timecode

        self.timecode.setText(format_timecode(t, self.video.fps))

    def playhead(self) -> float:
        return self.video.position()

    # ------------------------------------------------------------------ editing
    def delete_selected(self) -> None:
        if self.lanes.selected_id() is None:
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

    # ------------------------------------------------------------------ sound library / preview
    def library(self) -> Any:
        """The project's sound library, loaded once per library folder."""
        key = str(self.project.library)
        if self._library is None or self._library_key != key:
            from sfxstudio.pipeline import load_library

            try:
                self._library = load_library(self.project)
            except SfxError as exc:
                errors.report(exc, "sound library")
                from sfxstudio.media.library import SoundLibrary

                self._library = SoundLibrary.load(self._empty_library_dir())
            self._library_key = key
        return self._library

    def _empty_library_dir(self) -> Path:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="sfxstudio-nolib-"))

    def _schedule_effects_render(self) -> None:
        self.effects.schedule_render(self.project)

    def _toggle_effects_audio(self, checked: bool) -> None:
        self.effects.enabled = checked
        self.settings.set("playback/effects_enabled", checked)
        self.effects.sync(force=True)

    def apply_mix_levels(self) -> None:
        self.video.set_volume(db_to_volume(self.project.mix.original_gain_db))
        self.effects.set_effects_gain(self.project.mix.effects_gain_db)

    def _set_mix_levels(self, original_db: float, effects_db: float) -> None:
        mix = self.project.mix
        if (mix.original_gain_db, mix.effects_gain_db) != (original_db, effects_db):
            mix.original_gain_db, mix.effects_gain_db = original_db, effects_db
            self.model.document.set_dirty(True)
            self.apply_mix_levels()

    # ------------------------------------------------------------------ export
    def open_export_dialog(self) -> Any:
        from sfxstudio.gui.export_dialog import ExportDialog

        if not self.project.video:
            self.statusBar().showMessage("Open a video first", 4000)
            return None
        dialog = ExportDialog(self.project, self.settings, self.library, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.levelsChanged.connect(self._set_mix_levels)
        dialog.open()
        return dialog

    # ------------------------------------------------------------------ recovery
    def autosave(self) -> None:
        """Write unsaved work to the recovery folder in the background (a snapshot)."""
        if not self.model.document.dirty:
            return
        if self._autosave_worker is not None and self._autosave_worker.is_running():
            return
        project = self.project
        snapshot = replace(project, segments=list(project.segments),
                           class_attributes=dict(project.class_attributes),
                           class_variations={k: list(v) for k, v in project.class_variations.items()})
        source = self.model.document.path
        store = self.recovery
        worker = run_in_background(lambda: store.write(snapshot, source), name="autosave", parent=self)
        worker.failed.connect(lambda msg: self.statusBar().showMessage(f"Autosave failed: {msg}", 6000))
        self._autosave_worker = worker
        worker.start()

    def ask_recover(self, entry: RecoveryEntry) -> bool:
        """Recover / Discard for work left by a crash (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"SFX Studio closed unexpectedly while you were working on "
                          f"{entry.label()}.\nRecover the unsaved changes?", parent=self)
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(recover)
        box.exec()
        return box.clickedButton() is recover

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest stale recovery file; others are discarded."""
        entries = list_stale(self.recovery.folder)
        if not entries:
            return False
        newest, older = entries[0], entries[1:]
        for e in older:
            discard_entry(e)
        if not self.ask_recover(newest):
            discard_entry(newest)
            return False
        try:
            project = read_entry(newest)
        except SfxError as exc:
            errors.show_exception(self, exc, "Cannot recover the work")
            discard_entry(newest)
            return False
        source = Path(newest.source) if newest.source else None
        self._set_document(project, source)
        discard_entry(newest)
        # Recovered work is unsaved work: keep it marked so closing prompts and autosave runs.
        self.model.document.set_dirty(True)
        self._update_title()
        self.statusBar().showMessage("Recovered the unsaved work", 6000)
        return True

    # ------------------------------------------------------------------ close
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop jobs and timers, remember the window, remove recovery files (clean exit)."""
        self._autosave_timer.stop()
        self._play_timer.stop()
        self._warnings.detach()
        self.video.pause()
        self.video.close_stills()
        self.cancel_analysis(wait=True)
        if self.teach_run is not None and self.teach_run.is_running():
            self.teach_run.cancel()
            self.teach_run.wait()
        if self.imagenet_dialog is not None and self.imagenet_dialog.is_running():
            self.imagenet_dialog.reject()  # abandons the build; its thread is a daemon
        if self._autosave_worker is not None:
            self._autosave_worker.wait()
        self.effects.close()
        close_analysis_server()
        self.recovery.remove()
        self._save_window()

    def _show_log(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(errors.log_file())))
