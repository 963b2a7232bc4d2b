"""Every command of the window as a QAction with its keys, and the menus and toolbar showing them.

An editor finds each command in a menu, with the shortcut they already know beside it (Space,
J/K/L, arrows, Ctrl+Z...). This module says which commands exist, their keys and where they are
shown; the main window connects them to what they do. A new command goes here (and is connected
in main_window._connect).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QMenuBar, QSizePolicy, QToolBar, QWidget

from sfxstudio.gui.analysis_controller import DEVICES

Key = QKeySequence | QKeySequence.StandardKey | Qt.Key | str
K = QKeySequence.StandardKey


def platform_keys(standard: QKeySequence.StandardKey) -> list[QKeySequence]:
    """The platform's keys for a standard command (they differ between X11, Windows, macOS)."""
    return list(QKeySequence.keyBindings(standard))


def unique_keys(keys: list[Key]) -> list[QKeySequence]:
    """Each key once, in order: an action listing a key twice never fires on it."""
    out: list[QKeySequence] = []
    for k in keys:
        seq = k if isinstance(k, QKeySequence) else QKeySequence(k)
        if not seq.isEmpty() and seq not in out:
            out.append(seq)
    return out


class WindowActions:
    """The window's QActions (added to the window, so their keys work whichever panel has focus)."""

    def __init__(self, window: QMainWindow, undo_stack: QUndoStack, device: str) -> None:
        self._window = window
        self.new = self._action("&New Project", K.New)
        self.open_video = self._action("&Open Video\u2026", K.Open, "Open a video to find its sound effects")
        self.open_project = self._action("Open &Project\u2026", "Ctrl+Shift+O")
        self.save = self._action("&Save", K.Save)
        self.save_as = self._action("Save &As\u2026", "Ctrl+Shift+S")
        self.export = self._action("&Export\u2026", "Ctrl+E",
                                   "Export the effects track and the video with effects")
        self.add_models = self._action("Add &Model Folder\u2026")
        self.quit = self._action("&Quit", K.Quit)
        self.analyse = self._action("&Analyse", "Ctrl+R", "Find the sound effects with the chosen model")
        self.cancel = self._action("&Cancel Analysis")
        self.improve = self._action("&Improve Model from My Corrections\u2026",
                                    tip="Teach the model the effects you corrected and "
                                        "re-classify the video with the improved model")
        self.improve.setIconText("Improve Model")
        self.create_imagenet = self._action("Create &ImageNet Recogniser\u2026",
                                            tip="A model from ResNet152V2's ImageNet classifier, "
                                                "no training needed")
        self.device_group = QActionGroup(window)
        self.device_group.setExclusive(True)
        self.device: dict[str, QAction] = {}
        for key, label in DEVICES:
            action = QAction(label, window)
            action.setCheckable(True)
            action.setChecked(key == device)
            action.setData(key)
            self.device_group.addAction(action)
            self.device[key] = action
        self.undo = undo_stack.createUndoAction(window, "&Undo")
        self.undo.setShortcuts([QKeySequence(K.Undo)])
        self.redo = undo_stack.createRedoAction(window, "&Redo")
        # Premiere and Resolve users press Ctrl+Shift+Z or Ctrl+Y; the platform's own Redo key
        # is often one of them (X11: Ctrl+Shift+Z), and one key listed twice on one action makes
        # Qt call it ambiguous and do nothing, so each key is listed once.
        self.redo.setShortcuts(unique_keys(["Ctrl+Shift+Z", "Ctrl+Y", *platform_keys(K.Redo)]))
        for a in (self.undo, self.redo):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(a)
        self.delete = self._action("&Delete Selected Effects", [Qt.Key.Key_Delete, Qt.Key.Key_Backspace])
        # S, and Premiere's Ctrl+K and Resolve's Ctrl+B.
        self.split = self._action("&Split at Playhead", ["S", "Ctrl+K", "Ctrl+B"])
        self.select_all = self._action("Select &All Effects", "Ctrl+A")
        self.copy = self._action("&Copy", "Ctrl+C", "Copy the selected effects")
        self.paste = self._action("&Paste at Playhead", "Ctrl+V")
        self.duplicate = self._action("D&uplicate", "Ctrl+D", "Copies of the selection right after it")
        self.nudge_left = self._action("Nudge Left One Frame", ["Alt+Left", ","])
        self.nudge_right = self._action("Nudge Right One Frame", ["Alt+Right", "."])
        self.snapping = self._action("S&napping", "N", "Edges snap to the playhead, effect edges, "
                                                       "markers and the in/out points")
        self.snapping.setCheckable(True)
        self.snapping.setChecked(True)
        # Mark: in/out points and markers (G2's gui.markers.MarkerController does the work).
        self.mark_in = self._action("Mark &In", "I")
        self.mark_out = self._action("Mark &Out", "O")
        self.clear_in_out = self._action("&Clear In and Out", "Ctrl+Shift+X")
        self.add_marker = self._action("Add &Marker", "M")
        self.delete_marker = self._action("&Delete Marker at Playhead", "Shift+M")
        self.prev_point = self._action("&Previous Marker or Edit", Qt.Key.Key_Up)
        self.next_point = self._action("&Next Marker or Edit", Qt.Key.Key_Down)
        self.play_in_out = self._action("Play In to &Out", "Ctrl+Shift+Space")
        self.loop = self._action("&Loop Playback", "Ctrl+L")
        self.loop.setCheckable(True)
        self.goto_timecode = self._action("&Go to Timecode\u2026", "Ctrl+G",
                                          "Type a timecode, seconds or +/- frames into the transport")
        self.zoom_in = self._action("Zoom &In", ["=", "+"])
        self.zoom_out = self._action("Zoom &Out", "-")
        self.fit = self._action("&Fit to Window", "\\")
        # 21 probability rows do not fit a laptop screen; classes that never fire fold away.
        self.hide_quiet = self._action("&Hide Quiet Classes")
        self.hide_quiet.setCheckable(True)
        self.hide_quiet.setChecked(True)
        self.play = self._action("&Play/Pause", Qt.Key.Key_Space)
        self.reverse = self._action("Play &Backwards (J)", "J")
        self.stop = self._action("Pause (&K)", "K")
        self.forward = self._action("Play &Forwards (L)", "L")
        self.prev_frame = self._action("Previous Frame", Qt.Key.Key_Left)
        self.next_frame = self._action("Next Frame", Qt.Key.Key_Right)
        self.back_second = self._action("Back One Second", "Shift+Left")
        self.fwd_second = self._action("Forward One Second", "Shift+Right")
        self.home = self._action("Go to Start", Qt.Key.Key_Home)
        self.end = self._action("Go to End", Qt.Key.Key_End)
        self.effects_audio = self._action("Play &Effects With Video")
        self.effects_audio.setCheckable(True)
        self.show_log = self._action("Show &Log File")
        self.shortcuts = self._action("&Keyboard Shortcuts", "F1", "Every key of the window, searchable")
        self.device_menu = QMenu("&Device", window)
        self.device_menu.addActions(list(self.device.values()))

    def _action(self, text: str, shortcut: Key | list[Key] | None = None, tip: str = "") -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts(unique_keys(keys))
        # Window context: the keys work whichever panel has focus (text fields still get
        # their own arrows first via ShortcutOverride), as in editing software.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        self._window.addAction(action)
        return action

    def build_menus(self, bar: QMenuBar, recent_menu: QMenu) -> None:
        m = bar.addMenu("&File")
        m.addActions([self.new, self.open_video, self.open_project])
        m.addMenu(recent_menu)
        m.addSeparator()
        m.addActions([self.save, self.save_as])
        m.addSeparator()
        m.addAction(self.export)
        m.addSeparator()
        m.addAction(self.add_models)
        m.addSeparator()
        m.addAction(self.quit)
        m = bar.addMenu("&Edit")
        m.addActions([self.undo, self.redo])
        m.addSeparator()
        m.addActions([self.copy, self.paste, self.duplicate, self.select_all])
        m.addSeparator()
        m.addActions([self.delete, self.split, self.nudge_left, self.nudge_right])
        m.addSeparator()
        m.addAction(self.snapping)
        m = bar.addMenu("&Mark")
        m.addActions([self.mark_in, self.mark_out, self.clear_in_out])
        m.addSeparator()
        m.addActions([self.add_marker, self.delete_marker])
        m.addSeparator()
        m.addActions([self.prev_point, self.next_point])
        m = bar.addMenu("&View")
        m.addActions([self.zoom_in, self.zoom_out, self.fit])
        m.addSeparator()
        m.addAction(self.hide_quiet)
        m = bar.addMenu("&Playback")
        m.addActions([self.play, self.reverse, self.stop, self.forward])
        m.addActions([self.play_in_out, self.loop])
        m.addSeparator()
        m.addActions([self.prev_frame, self.next_frame, self.back_second, self.fwd_second,
                      self.home, self.end, self.goto_timecode])
        m.addSeparator()
        m.addAction(self.effects_audio)
        m = bar.addMenu("&Analysis")
        m.addActions([self.analyse, self.cancel])
        m.addSeparator()
        m.addAction(self.improve)
        m.addSeparator()
        m.addMenu(self.device_menu)
        m = bar.addMenu("&Models")
        m.addAction(self.create_imagenet)
        m.addAction(self.add_models)
        m = bar.addMenu("&Help")
        m.addActions([self.shortcuts, self.show_log])

    def build_toolbar(self, model_combo: QComboBox) -> QToolBar:
        window = self._window
        tb = QToolBar("Main", window)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.addAction(self.open_video)
        tb.addAction(self.open_project)
        tb.addAction(self.save)
        tb.addSeparator()
        tb.addWidget(QLabel(" Model: ", window))
        tb.addWidget(model_combo)
        tb.addAction(self.analyse)
        tb.addAction(self.cancel)
        tb.addAction(self.improve)
        tb.addSeparator()
        tb.addAction(self.undo)
        tb.addAction(self.redo)
        spacer = QWidget(window)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        tb.addAction(self.export)
        for button in tb.findChildren(QWidget):
            if button is not model_combo:
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return tb
