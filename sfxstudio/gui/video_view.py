"""Video preview: a QMediaPlayer drawing into our own canvas, plus the shared playhead clock.

The frames go to a QVideoSink and are painted by a plain QWidget, so the preview scales with
the window, shows a hint when empty and can be grabbed for screenshots on any platform.

The playhead is one logical clock (seconds). While the player plays forward at 1x it is the
master (its clock is the original audio's clock); otherwise (paused, shuttling with J/L at any
other rate, no backend) the logical clock runs, the player stays paused and the picture comes from
`StillFrames`: one frame decoded at a time in a background thread, the latest request winning.
Asking the player itself to play at 8x (or to seek 25 times a second) made its backend queue
decoded frames faster than it could show them: gigabytes of memory and the event loop blocked
for most of a minute (issue 15).

Forward play ends at an edge: the end of the video, a one-shot stop (`play_range`, play in to
out) or the end of the loop range (`set_loop`), where it jumps back to the range's start. A
precise single-shot timer fires when the clock reaches the edge, so playback stops or wraps
within a millisecond or two rather than at the next 33 ms playhead tick, and `position()` never
reports a time past the edge.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtWidgets import QSizePolicy, QWidget

from sfxstudio.gui.timecode import frame_index

SHUTTLE_RATES = (1.0, 2.0, 4.0, 8.0)
STILL_MAX_SIZE = (1280, 720)
SHUTTLE_PICTURE_MS = 40  # while shuttling, ask for the picture under the playhead 25 times a second
PLAYER_RATE = 1.0  # the only rate the media player itself plays at (with the original audio)
# L taps through 1x on the way to 2x..8x: the player (with sound) joins 1x play only once L has
# rested that long, so a quick L L L L never spins the media pipeline up just to stop it again.
PLAYER_JOIN_MS = 250


class StillFrames(QObject):
    """Decodes the frame under a paused playhead in a background thread (latest request wins).

    Some Qt Multimedia backends deliver no frame to a paused player that has never played, so
    the preview would stay black after opening or seeking; this fills the picture from PyAV.
    """

    ready = Signal(str, float, QImage)  # path, time, picture

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._want: tuple[str, float] | None = None
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def request(self, path: Path, t: float) -> None:
        with self._wake:
            self._want = (str(path), float(t))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="still-frames", daemon=True)
                self._thread.start()
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        from sfxstudio.media.video import frame_at

        while True:
            with self._wake:
                while self._want is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                path, t = self._want  # type: ignore[misc]
                self._want = None
            try:
                rgb = frame_at(path, t, max_size=STILL_MAX_SIZE)
            except Exception:  # a preview must never take the window down; the player may still work
                continue
            h, w, _ = rgb.shape
            image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            try:
                self.ready.emit(path, t, image)
            except RuntimeError:  # the view went away while this frame was decoding
                return


class FrameCanvas(QWidget):
    """Paints the latest video frame, letterboxed; a hint when there is no video."""

    EMPTY_HINT = "Drop a video or project here, or use File \u25b8 Open Video\u2026"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self.hint = self.EMPTY_HINT
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.update()

    def has_image(self) -> bool:
        return self._image is not None and not self._image.isNull()

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self.has_image():
            assert self._image is not None
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = (self.width() - size.width()) / 2
            y = (self.height() - size.height()) / 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(x, y, size.width(), size.height()), self._image)
        else:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)
        painter.end()


class VideoView(QWidget):
    """The preview and the playhead clock.

    Signals: positionChanged(seconds) after seeks and steps (the main window polls `position()`
    at ~30 Hz while playing), playingChanged(bool), mediaError(message).
    """

    positionChanged = Signal(float)
    playingChanged = Signal(bool)
    mediaError = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = FrameCanvas(self)
        from PySide6.QtWidgets import QVBoxLayout

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.player = QMediaPlayer(self)
        self.audio_output = QAudioOutput(self)
        self.player.setAudioOutput(self.audio_output)
        self.sink = QVideoSink(self)
        self.player.setVideoSink(self.sink)
        self.sink.videoFrameChanged.connect(self._on_frame)
        self.player.errorOccurred.connect(self._on_error)
        self.player.mediaStatusChanged.connect(self._on_status)
        self.path: Path | None = None
        self.fps = 25.0
        self.duration = 0.0
        self._pos = 0.0  # logical clock anchor (seconds)
        self._anchor = time.monotonic()
        self._rate = 0.0  # signed shuttle rate; 0 = paused
        self._player_ok = False
        # Shuttle (J, or L beyond 1x): the picture follows the logical clock through StillFrames.
        self._shuttle_timer = QTimer(self)
        self._shuttle_timer.setInterval(SHUTTLE_PICTURE_MS)
        self._shuttle_timer.timeout.connect(self._shuttle_tick)
        self._hold_player = False  # 1x reached with L: stills until the player joins
        self._join_timer = QTimer(self)
        self._join_timer.setSingleShot(True)
        self._join_timer.setInterval(PLAYER_JOIN_MS)
        self._join_timer.timeout.connect(self._player_join)
        self._stills = StillFrames(self)
        self._stills.ready.connect(self._on_still)
        self._stop_at: float | None = None  # one-shot: forward play stops here (play in to out)
        self._loop: tuple[float, float | None] | None = None  # (start, end or None = the end)
        self._edge_timer = QTimer(self)
        self._edge_timer.setSingleShot(True)
        self._edge_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._edge_timer.timeout.connect(self._on_edge)

    # -- media -------------------------------------------------------------------------------
    def load(self, path: str | Path | None, fps: float | None = None, duration: float | None = None) -> None:
        self.pause()
        self.path = Path(path) if path else None
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self.duration = float(duration or 0.0)
        self._pos = 0.0
        self.canvas.set_image(None)
        self.canvas.hint = (f"Loading {self.path.name}\u2026" if self.path is not None
                            else FrameCanvas.EMPTY_HINT)
        self._player_ok = self.path is not None
        self.player.setSource(QUrl.fromLocalFile(str(self.path)) if self.path else QUrl())
        if self.path is not None:
            # A paused player shows nothing until asked for a position.
            self.player.setPosition(0)
            self._stills.request(self.path, 0.0)
        self.positionChanged.emit(0.0)

    @Slot(QVideoFrame)
    def _on_frame(self, frame: QVideoFrame) -> None:
        if frame.isValid():
            self.canvas.set_image(frame.toImage())

    @Slot(str, float, QImage)
    def _on_still(self, path: str, t: float, image: QImage) -> None:
        # Only if still current: same clip and, when paused, the playhead still there; while
        # shuttling every still is the newest one asked for (the decoder keeps only the latest).
        if self.path is None or str(self.path) != path or self._player_drives():
            return
        if not self.is_playing() and abs(self._pos - t) > 0.5 * self.frame_duration():
            return
        self.canvas.set_image(image)

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        # A seek issued while the file was still opening is dropped by the backend: ask again
        # once it is loaded, so a paused preview shows the frame under the playhead.
        if status == QMediaPlayer.MediaStatus.LoadedMedia and not self.is_playing():
            self.player.setPosition(round(self._pos * 1000))

    def _on_error(self, _error: QMediaPlayer.Error, message: str) -> None:
        self._player_ok = False
        self.mediaError.emit(message or "the video cannot be played")

    def close_stills(self) -> None:
        """Stop the still-frame decoder thread (window shutdown)."""
        self._stills.close()

    def set_volume(self, linear: float) -> None:
        self.audio_output.setVolume(max(0.0, min(1.0, linear)))

    # -- clock -------------------------------------------------------------------------------
    def frame_duration(self) -> float:
        return 1.0 / self.fps

    def is_playing(self) -> bool:
        return self._rate != 0.0

    def rate(self) -> float:
        return self._rate

    def _clock(self) -> float:
        if self._rate == 0.0:
            return self._pos
        return self._pos + (time.monotonic() - self._anchor) * self._rate

    def _player_drives(self) -> bool:
        """The media player plays (1x forward with a working backend); else the clock is ours."""
        return self._rate == PLAYER_RATE and self._player_ok and not self._hold_player

    def _player_is_master(self) -> bool:
        return (self._player_drives()
                and self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
                and self.player.mediaStatus() == QMediaPlayer.MediaStatus.BufferedMedia)

    def position(self) -> float:
        """The playhead in seconds. Called ~30 Hz by the main window while playing."""
        t = self._clock()
        edge = self._edge()
        if self._player_is_master():
            pt = self.player.position() / 1000.0
            # The player's position moves in decode steps; trust it once it differs by > 1 frame
            # (never beyond the edge: the loop or the stop must still see it coming).
            if abs(pt - t) > self.frame_duration():
                pt = min(pt, edge[0]) if edge is not None else pt
                self._pos, self._anchor = pt, time.monotonic()
                t = pt
                self._schedule_edge()
        end = self.duration
        if edge is not None and t >= edge[0]:
            # Never past the edge: stop on it, or show it until the edge timer wraps the loop.
            t = edge[0]
            if edge[1] is None:
                self._set_rate(0.0, at=t)
            elif not self._edge_timer.isActive():
                self._edge_timer.start(0)
        # Stop at the start going backwards; never because the clock has not moved yet right
        # after Play at 0 (Home, Space stayed at 0 half the time).
        if self._rate < 0 and t <= 0:
            t = 0.0
            self._set_rate(0.0, at=t)
        return max(0.0, min(t, end)) if end > 0 else max(0.0, t)

    # -- edges: end of the video, play in to out, loop ---------------------------------------
    def _edge(self) -> tuple[float, float | None] | None:
        """Where forward play ends now: (time, where it jumps back to, or None to stop there)."""
        if self._rate <= 0:
            return None
        if self._loop is not None:
            start, end = self._loop[0], self._loop[1] if self._loop[1] is not None else self.duration
            if end - start > 0.5 * self.frame_duration() and start - 1e-9 <= self._pos <= end:
                return end, start
        if self._stop_at is not None and self._pos <= self._stop_at:
            return self._stop_at, None
        return (self.duration, None) if self.duration > 0 else None

    def _schedule_edge(self) -> None:
        edge = self._edge()
        if edge is None:
            self._edge_timer.stop()
            return
        # Rounded up: firing early only reschedules, but each early wake costs a timer round.
        self._edge_timer.start(max(0, math.ceil((edge[0] - self._pos) / self._rate * 1000.0)))

    def _on_edge(self) -> None:
        edge = self._edge()
        if edge is None:
            return
        end, back = edge
        remaining = (end - self._clock()) / self._rate
        if remaining > 0.0005:  # the player corrected the clock, or the timer woke early
            self._edge_timer.start(math.ceil(remaining * 1000.0))
            return
        if back is None:
            self._set_rate(0.0, at=end)
            self.positionChanged.emit(end)
        else:  # the loop: on from its start, at the same rate (the effects audio follows the seek)
            self._set_rate(self._rate, at=back, stop_at=None)
            self.positionChanged.emit(back)

    def play_range(self, start: float, end: float) -> None:
        """Play forward from `start` and stop exactly at `end` (play in to out). A pause, seek or
        rate change in between cancels the stop, as in editing software."""
        if self.path is None or end <= start:
            return
        self._set_rate(PLAYER_RATE, at=max(0.0, start), stop_at=end)
        self.positionChanged.emit(self._pos)

    def set_loop(self, loop: tuple[float, float | None] | None) -> None:
        """Loop forward play over [start, end) (end None: the end of the video); None: no loop.
        Play started outside the range begins at its start."""
        if loop is not None and loop[1] is not None and loop[1] <= loop[0]:
            raise ValueError(f"a loop must end after it starts ({loop[0]:.3f} to {loop[1]:.3f} s)")
        self._loop = loop
        if self.is_playing():
            self._schedule_edge()

    def loop_range(self) -> tuple[float, float | None] | None:
        return self._loop

    def _set_rate(self, rate: float, at: float | None = None, hold_player: bool = False,
                  stop_at: float | None = None) -> None:
        """Every play/pause/seek-while-playing goes through here. stop_at: a one-shot stop for
        forward play (play in to out); any other rate change or seek drops it."""
        was_playing = self.is_playing()
        self._pos = self._clock() if at is None else at
        self._anchor = time.monotonic()
        self._rate = rate
        self._stop_at = stop_at if rate > 0 else None
        self._shuttle_timer.stop()
        self._join_timer.stop()
        self._hold_player = hold_player and rate == PLAYER_RATE
        if self._hold_player:
            self._join_timer.start()
        if self._player_drives():
            self.player.setPosition(round(self._pos * 1000))
            self.player.setPlaybackRate(PLAYER_RATE)
            self.player.play()
        else:
            if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
                self.player.pause()
            if self._player_ok and rate == 0.0:
                self.player.setPosition(round(self._pos * 1000))
            if self.path is not None:
                self._stills.request(self.path, self._pos)
            if rate != 0.0:
                self._shuttle_timer.start()
        self._schedule_edge()
        if was_playing != self.is_playing():
            self.playingChanged.emit(self.is_playing())

    def play(self, hold_player: bool = False) -> None:
        """Play forward at 1x. hold_player: start on stills and let the media player (and the
        sound) join after PLAYER_JOIN_MS unless the rate changes first (L taps)."""
        if self.path is None:
            return
        start = self._clock()
        if self.duration > 0 and start >= self.duration - 1e-6:
            start = 0.0  # play from the top when parked at the end, as editors expect
        if self._loop is not None:
            a, b = self._loop
            if start < a or (b is not None and start >= b):
                start = a  # looping plays the range: from its start when parked outside it
        self._set_rate(PLAYER_RATE, at=start, hold_player=hold_player)

    def pause(self) -> None:
        if self.is_playing():
            self._set_rate(0.0, at=self._snap(self.position()))
            self.positionChanged.emit(self._pos)

    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def shuttle_forward(self) -> None:
        """L: play; again = faster (1x, 2x, 4x, 8x); from reverse it slows down first."""
        if self.path is None:
            return
        r = self._rate
        if r < 0:
            self._set_rate(self._next_rate(-r, slower=True) * -1 if -r > 1 else 0.0)
        elif r == 0:
            self.play(hold_player=True)
        else:
            self._set_rate(self._next_rate(r, slower=False))

    def shuttle_reverse(self) -> None:
        """J: play backwards; again = faster backwards; from forward it slows down first."""
        if self.path is None:
            return
        r = self._rate
        if r > 1:
            self._set_rate(self._next_rate(r, slower=True))
        elif r > 0:
            self._set_rate(0.0)
            self._set_rate(-1.0)
        elif r == 0:
            self._set_rate(-1.0)
        else:
            self._set_rate(-self._next_rate(-r, slower=False))

    @staticmethod
    def _next_rate(r: float, slower: bool) -> float:
        rates = SHUTTLE_RATES
        i = min(range(len(rates)), key=lambda k: abs(rates[k] - r))
        i = max(0, i - 1) if slower else min(len(rates) - 1, i + 1)
        return rates[i]

    def _player_join(self) -> None:
        if self._hold_player and self._rate == PLAYER_RATE:
            self._set_rate(PLAYER_RATE, stop_at=self._stop_at)

    def _shuttle_tick(self) -> None:
        """Ask for the picture under the moving playhead; a request still being decoded is
        replaced, so a slow decoder shows fewer pictures but never falls behind or piles up."""
        t = self.position()
        if self.path is not None and self.is_playing():
            self._stills.request(self.path, t)

    def _snap(self, t: float) -> float:
        """Nearest frame boundary, so stepping after a pause lands on whole frames."""
        return round(t * self.fps) / self.fps

    def seek(self, t: float) -> None:
        t = max(0.0, min(float(t), self.duration)) if self.duration > 0 else max(0.0, float(t))
        if self.is_playing():
            self._set_rate(self._rate, at=t)
        else:
            self._pos = t
            if self._player_ok:
                self.player.setPosition(round(t * 1000))
            if self.path is not None:
                self._stills.request(self.path, t)
        self.positionChanged.emit(t)

    def step(self, frames: int) -> None:
        """Move by whole frames (pauses, like the arrow keys in an editor)."""
        if self.is_playing():
            self.pause()
        index = frame_index(self._clock(), self.fps) + frames
        if self.duration > 0:  # End then Right stays on the last frame, never past the picture
            index = min(index, round(self.last_frame_time() * self.fps))
        self.seek(max(0, index) / self.fps)

    def step_seconds(self, seconds: float) -> None:
        if self.is_playing():
            self.pause()
        t = self._snap(self._clock() + seconds)
        self.seek(min(t, self.last_frame_time()) if self.duration > 0 else t)

    def last_frame_time(self) -> float:
        """The start of the last frame (0 when the length is unknown)."""
        if self.duration <= 0:
            return 0.0
        return self._snap(max(0.0, self.duration - self.frame_duration()))

    def go_start(self) -> None:
        self.seek(0.0)

    def go_end(self) -> None:
        # The last frame's start, so the picture shows the last frame rather than nothing.
        self.seek(self.last_frame_time())
