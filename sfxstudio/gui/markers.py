"""In/out points, loop playback, markers and "go to" for the transport (issue 15's NLE conventions).

`MarkerController` holds the editor's in and out points (view state, not project data: G3 keeps
them in the project's session and restores them with `set_in_out`), tells the VideoView what to
loop or where to stop (the video's own edge timer makes the stop frame-exact), and edits the
project's markers only through core.commands (AddMarker/DeleteMarker: undoable, named).

The probability timeline draws the markers itself (it listens to the DocumentModel) and the in/out
range once `attach_timeline` connected it; the lanes get snap targets from `snapTargetsChanged`.
"""

from __future__ import annotations

import bisect
import math
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from sfxstudio.core.commands import AddMarker, DeleteMarker
from sfxstudio.core.segments import audible
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.timecode import frame_index
from sfxstudio.gui.transport import Transport
from sfxstudio.gui.video_view import VideoView


class InOutView(Protocol):
    """What draws the in/out range (timeline.ProbabilityTimeline)."""

    def set_in_out(self, in_point: float | None, out_point: float | None) -> None: ...


class MarkerController(QObject):
    """I/O/clear, play in to out, loop, markers, next/previous point, go to a timecode.

    Signals: inOutChanged() after in or out changed; markersChanged(list[float]) with the marker
    times whenever they change (edits, undo, another project); snapTargetsChanged(list[float])
    with marker times plus the in and out points; loopChanged(bool); statusMessage(str) when an
    action had nothing to do (no marker here, no next point), for the status bar.
    """

    inOutChanged = Signal()
    markersChanged = Signal(list)
    snapTargetsChanged = Signal(list)
    loopChanged = Signal(bool)
    statusMessage = Signal(str)

    def __init__(self, model: DocumentModel, video: VideoView, transport: Transport,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.video = video
        self.transport = transport
        self._in: float | None = None
        self._out: float | None = None
        self._loop = False
        self._marker_times = self.marker_times()
        model.markersChanged.connect(self._on_markers)
        model.projectChanged.connect(self._on_project)

    # -- in and out ----------------------------------------------------------------------------
    @property
    def in_point(self) -> float | None:
        return self._in

    @property
    def out_point(self) -> float | None:
        return self._out

    def mark_in(self) -> None:
        """I: in at the frame under the playhead; an out point at or before it is cleared."""
        t = self._frame_time()
        if self._out is not None and self._out <= t:
            self._out = None
        self._in = t
        self._in_out_changed()

    def mark_out(self) -> None:
        """O: out at the frame under the playhead; an in point at or after it is cleared."""
        t = self._frame_time()
        if self._in is not None and self._in >= t:
            self._in = None
        self._out = t
        self._in_out_changed()

    def clear_in_out(self) -> None:
        if self._in is None and self._out is None:
            return
        self._in = self._out = None
        self._in_out_changed()

    def set_in_out(self, in_point: float | None, out_point: float | None) -> None:
        """Both at once (restoring a session). ValueError when the out is not after the in or a
        time is not a finite time at or after 0 (nothing changes then)."""
        for name, t in (("in point", in_point), ("out point", out_point)):
            if t is not None and not (math.isfinite(t) and t >= 0):
                raise ValueError(f"{name} must be a time of the video, not {t!r}")
        if in_point is not None and out_point is not None and out_point <= in_point:
            raise ValueError(f"the out point ({out_point:.3f} s) must be after the in point "
                             f"({in_point:.3f} s)")
        self._in = None if in_point is None else float(in_point)
        self._out = None if out_point is None else float(out_point)
        self._in_out_changed()

    def play_in_to_out(self) -> None:
        """Play from the in point (the start without one) and stop on the out point (the end
        without one); with loop on, play the range round and round instead."""
        start = self._in or 0.0
        end = self._out if self._out is not None else self.video.duration
        if self._loop or end <= start:
            self.video.seek(start)
            self.video.play()
            return
        self.video.play_range(start, end)

    # -- loop ----------------------------------------------------------------------------------
    @property
    def loop(self) -> bool:
        return self._loop

    def set_loop(self, on: bool) -> None:
        """Loop playback over the in/out range (the whole video without in and out)."""
        if on == self._loop:
            return
        self._loop = on
        self._apply_loop()
        self.loopChanged.emit(on)

    def _apply_loop(self) -> None:
        self.video.set_loop((self._in or 0.0, self._out) if self._loop else None)

    # -- markers -------------------------------------------------------------------------------
    def marker_times(self) -> list[float]:
        return [m.time for m in self.model.document.project.markers]

    def add_marker(self, name: str = "") -> bool:
        """M: a marker on the frame under the playhead (one undo step); not a second one there."""
        t = self._frame_time()
        if self._marker_near(t) is not None:
            self.statusMessage.emit("There is a marker here already")
            return False
        return self.model.push(AddMarker(t, name))

    def delete_marker_at_playhead(self) -> bool:
        t = self._marker_near(self.video.position())
        if t is None:
            self.statusMessage.emit("No marker at the playhead")
            return False
        return self.model.push(DeleteMarker(t))

    def _marker_near(self, t: float) -> float | None:
        """The marker within half a frame of t, if any."""
        tol = 0.5 * self.video.frame_duration()
        near = [m for m in self._marker_times if abs(m - t) <= tol]
        return min(near, key=lambda m: abs(m - t)) if near else None

    # -- next / previous point -----------------------------------------------------------------
    def points(self) -> list[float]:
        """Where Up/Down stop: markers and the edges of every effect (mutes are no effects)."""
        times = set(self._marker_times)
        for s in audible(self.model.document.segments):
            times.update((s.start, s.end))
        return sorted(times)

    def next_point(self) -> bool:
        """Down: the playhead to the next marker or effect edge; False when there is none."""
        points, t = self.points(), self.video.position()
        i = bisect.bisect_right(points, t + 1e-6)
        if i >= len(points):
            self.statusMessage.emit("No marker or effect edge after the playhead")
            return False
        self.video.seek(points[i])
        return True

    def previous_point(self) -> bool:
        """Up: the playhead to the previous marker or effect edge; False when there is none."""
        points, t = self.points(), self.video.position()
        i = bisect.bisect_left(points, t - 1e-6) - 1
        if i < 0:
            self.statusMessage.emit("No marker or effect edge before the playhead")
            return False
        self.video.seek(points[i])
        return True

    # -- go to ---------------------------------------------------------------------------------
    def goto_timecode(self, text: str) -> bool:
        """Jump to a typed time (HH:MM:SS:FF, MM:SS, seconds, +/-frames); False, with the reason
        shown beside the transport's timecode, when the text names no time in the video."""
        return self.transport.goto_timecode(text)

    def focus_timecode(self) -> None:
        """Ctrl+G: type a timecode into the transport."""
        self.transport.focus_timecode()

    # -- wiring --------------------------------------------------------------------------------
    def attach_timeline(self, timeline: InOutView) -> None:
        """Keep `timeline` drawing the in/out range (call again for a replaced timeline)."""
        self.inOutChanged.connect(lambda: timeline.set_in_out(self._in, self._out))
        timeline.set_in_out(self._in, self._out)

    def snap_targets(self) -> list[float]:
        extra = [t for t in (self._in, self._out) if t is not None]
        return sorted({*self._marker_times, *extra})

    def _frame_time(self) -> float:
        """The start of the frame shown under the playhead (as the timecode reads it)."""
        return frame_index(self.video.position(), self.video.fps) / self.video.fps

    def _in_out_changed(self) -> None:
        self._apply_loop()
        self.inOutChanged.emit()
        self.snapTargetsChanged.emit(self.snap_targets())

    def _on_markers(self, _markers: object = None) -> None:
        times = self.marker_times()
        if times == self._marker_times:
            return
        self._marker_times = times
        self.markersChanged.emit(list(times))
        self.snapTargetsChanged.emit(self.snap_targets())

    def _on_project(self) -> None:
        """Another document: its markers; in/out and loop range start empty (G3 restores them
        from the session after `DocumentModel.set_document`)."""
        if self._in is not None or self._out is not None:
            self._in = self._out = None
            self._apply_loop()
            self.inOutChanged.emit()
        self._marker_times = self.marker_times()
        self.markersChanged.emit(list(self._marker_times))
        self.snapTargetsChanged.emit(self.snap_targets())
