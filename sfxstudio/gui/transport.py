"""The transport row under the picture: Play/Pause, the timecode, the length; the playhead clock.

While the video plays, a ~30 Hz timer reads the player's position so the playhead moves smoothly
everywhere (`playheadMoved`) and the effects preview stays in step with the picture.

The timecode doubles as "go to": a click on it (or `focus_timecode`, Ctrl+G) swaps in an edit
field holding the current timecode; Enter jumps there (HH:MM:SS:FF, MM:SS, seconds, +/-frames),
Escape or leaving the field puts the running timecode back. Text that names no time keeps the
playhead where it is and says why beside the field.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from sfxstudio.gui.playback import EffectsPlayback
from sfxstudio.gui.timecode import format_duration, format_timecode, parse_goto
from sfxstudio.gui.video_view import VideoView

PLAYHEAD_INTERVAL_MS = 33  # ~30 Hz: smooth playhead, negligible cost
ERROR_SHOWN_MS = 6000  # a refused "go to" reason stays this long once the field is closed
_TIMECODE_STYLE = "font-family: monospace; font-size: 15px; padding: 2px 8px;"


class TimecodeEdit(QLineEdit):
    """The "go to" field: Escape, or focus leaving it, means cancel (the running timecode returns)."""

    cancelled = Signal()

    def event(self, event: QEvent) -> bool:
        # Escape is ours while typing, even where the window has an Escape shortcut (deselect).
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.cancelled.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self.isVisible():
            self.cancelled.emit()


class Transport(QWidget):
    """Signals: playheadMoved(float) with every playhead time shown (the timeline and lanes follow);
    timecodeRefused(str) with the reason a typed timecode was not used (for a status bar)."""

    playheadMoved = Signal(float)
    timecodeRefused = Signal(str)

    def __init__(self, video: VideoView, effects: EffectsPlayback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.video = video
        self.effects = effects
        self.timecode = QLabel("00:00:00:00", self)
        self.timecode.setObjectName("timecode")
        self.timecode.setStyleSheet(_TIMECODE_STYLE)
        self.timecode.setToolTip("Click (or Ctrl+G) to go to a timecode")
        self.timecode.setCursor(Qt.CursorShape.IBeamCursor)
        self.timecode.installEventFilter(self)
        self.timecode_edit = TimecodeEdit(self)
        self.timecode_edit.setObjectName("timecodeEdit")
        self.timecode_edit.setStyleSheet(_TIMECODE_STYLE)
        self.timecode_edit.setPlaceholderText("HH:MM:SS:FF")
        self.timecode_edit.setToolTip("HH:MM:SS:FF, MM:SS, seconds, or +/- frames; Enter jumps, "
                                      "Escape cancels")
        self.timecode_edit.setFixedWidth(150)
        self.timecode_edit.hide()
        self.timecode_error = QLabel("", self)
        self.timecode_error.setObjectName("timecodeError")
        self.timecode_error.setStyleSheet("color: #ff8080;")
        self.timecode_error.hide()
        self._error_timer = QTimer(self)
        self._error_timer.setSingleShot(True)
        self._error_timer.setInterval(ERROR_SHOWN_MS)
        self._error_timer.timeout.connect(self._clear_error)
        self.play_button = QPushButton("Play", self)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must stay play/pause
        self.play_button.setMinimumWidth(72)
        self.duration_label = QLabel("", self)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.setSpacing(2)  # as tight as the preview column it sits in
        row.addWidget(self.play_button)
        row.addWidget(self.timecode)
        row.addWidget(self.timecode_edit)
        row.addWidget(self.timecode_error, 1)
        row.addStretch(1)
        row.addWidget(self.duration_label)

        self._clock = QTimer(self)
        self._clock.setInterval(PLAYHEAD_INTERVAL_MS)
        self._clock.timeout.connect(self._sync)
        video.positionChanged.connect(self.show_position)
        video.playingChanged.connect(self._on_playing)
        self.play_button.clicked.connect(video.toggle_play)
        self.timecode_edit.returnPressed.connect(self._on_typed)
        self.timecode_edit.cancelled.connect(self.close_timecode_edit)

    def set_duration(self, seconds: float | None) -> None:
        """The video's length beside the timecode ("--:--" when the file does not say)."""
        self.duration_label.setText(format_duration(seconds))

    def clear_duration(self) -> None:
        """No picture to play: no length shown."""
        self.duration_label.setText("")

    @Slot(float)
    def show_position(self, t: float) -> None:
        self.playheadMoved.emit(t)
        self.timecode.setText(format_timecode(t, self.video.fps))

    def stop(self) -> None:
        self._clock.stop()

    # -- go to a timecode ----------------------------------------------------------------------
    def focus_timecode(self) -> None:
        """Open the "go to" field on the current timecode, all selected (click, Ctrl+G)."""
        self.timecode_edit.setText(self.timecode.text())
        self.timecode.hide()
        self.timecode_edit.show()
        self.timecode_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.timecode_edit.selectAll()

    def is_editing_timecode(self) -> bool:
        return self.timecode_edit.isVisible()

    def close_timecode_edit(self) -> None:
        """Back to the running timecode (Escape, focus gone, or a jump done)."""
        if not self.timecode_edit.isVisible() and self.timecode.isVisible():
            return
        self.timecode_edit.hide()
        self.timecode.show()
        if self.timecode_error.isVisible():
            self._error_timer.start()

    def goto_timecode(self, text: str) -> bool:
        """Move the playhead to a typed time; False (playhead untouched, reason shown) when the
        text names no time inside the video."""
        try:
            t = parse_goto(text, self.video.fps, self.video.position(), self.video.duration or None)
        except ValueError as exc:
            reason = str(exc)
            self.timecode_error.setText(reason)
            self.timecode_error.setToolTip(reason)
            self.timecode_error.show()
            if not self.is_editing_timecode():
                self._error_timer.start()
            self.timecodeRefused.emit(reason)
            return False
        self._clear_error()
        self.video.seek(t)
        return True

    def _on_typed(self) -> None:
        if self.goto_timecode(self.timecode_edit.text()):
            self.close_timecode_edit()
            self.timecode_edit.clearFocus()
        else:
            self.timecode_edit.selectAll()  # type again; Escape gives up

    def _clear_error(self) -> None:
        self._error_timer.stop()
        self.timecode_error.setText("")
        self.timecode_error.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.timecode and event.type() == QEvent.Type.MouseButtonPress:
            self.focus_timecode()
            return True
        return super().eventFilter(watched, event)

    # -- the clock -----------------------------------------------------------------------------
    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            self._clock.start()
        else:
            self._clock.stop()
            self._sync()

    def _sync(self) -> None:
        self.show_position(self.video.position())
        self.effects.sync()
        if not self.video.is_playing():
            self._clock.stop()
            self.play_button.setText("Play")
