"""The transport row under the picture: Play/Pause, the timecode, the length; the playhead clock.

While the video plays, a ~30 Hz timer reads the player's position so the playhead moves smoothly
everywhere (`playheadMoved`) and the effects preview stays in step with the picture.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from sfxstudio.gui.playback import EffectsPlayback
from sfxstudio.gui.timecode import format_duration, format_timecode
from sfxstudio.gui.video_view import VideoView

PLAYHEAD_INTERVAL_MS = 33  # ~30 Hz: smooth playhead, negligible cost


class Transport(QWidget):
    """Signals: playheadMoved(float) with every playhead time shown (the timeline and lanes follow)."""

    playheadMoved = Signal(float)

    def __init__(self, video: VideoView, effects: EffectsPlayback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.video = video
        self.effects = effects
        self.timecode = QLabel("00:00:00:00", self)
        self.timecode.setObjectName("timecode")
        self.timecode.setStyleSheet("font-family: monospace; font-size: 15px; padding: 2px 8px;")
        self.timecode.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.play_button = QPushButton("Play", self)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must stay play/pause
        self.play_button.setMinimumWidth(72)
        self.duration_label = QLabel("", self)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.setSpacing(2)  # as tight as the preview column it sits in
        row.addWidget(self.play_button)
        row.addWidget(self.timecode)
        row.addStretch(1)
        row.addWidget(self.duration_label)

        self._clock = QTimer(self)
        self._clock.setInterval(PLAYHEAD_INTERVAL_MS)
        self._clock.timeout.connect(self._sync)
        video.positionChanged.connect(self.show_position)
        video.playingChanged.connect(self._on_playing)
        self.play_button.clicked.connect(video.toggle_play)

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
