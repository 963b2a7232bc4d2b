"""Issue 15 conventions: in/out points, play in to out, loop, markers, next/previous point, go to.

The parts are built directly (DocumentModel, VideoView, Transport, MarkerController); G3 wires
the keys. Timing-critical checks (stop on the out point, loop back to the in point) run on a
frozen clock that the test moves, so they are exact and never flaky.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sfxstudio.core.segments import audible
from sfxstudio.gui import video_view
from sfxstudio.gui.markers import MarkerController
from sfxstudio.gui.playback import EffectsPlayback
from sfxstudio.gui.transport import Transport
from sfxstudio.gui.video_view import VideoView
from tests.gui.test_lanes import make_model

FPS = 10
SECONDS = 6.0


class Parts:
    def __init__(self, qtbot: Any, video_file: Path) -> None:
        self.model = make_model(int(SECONDS * FPS), fps=FPS, k=0.0, threshold=0.3)
        self.video = VideoView()
        qtbot.addWidget(self.video)
        self.video.load(video_file, fps=FPS, duration=SECONDS)
        self.effects = EffectsPlayback(self.video)
        self.transport = Transport(self.video, self.effects)
        qtbot.addWidget(self.transport)
        self.markers = MarkerController(self.model, self.video, self.transport)


@pytest.fixture
def parts(qtbot: Any, make_video: Callable[..., Path]) -> Iterator[Parts]:
    p = Parts(qtbot, make_video(seconds=SECONDS, fps=FPS))
    yield p
    p.video.pause()
    p.video.close_stills()


def logical_clock_only(video: VideoView) -> None:
    """No media player: when it plays at 1x its position is the master clock, and how soon a
    test machine's backend starts playing is no part of what these tests check."""
    video._player_ok = False


class FakeClock:
    """time.monotonic as the VideoView sees it, moved by the test (the player left out)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, video: VideoView) -> None:
        logical_clock_only(video)
        self.now = 1000.0
        monkeypatch.setattr(video_view.time, "monotonic", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_in_and_out_points(parts: Parts) -> None:
    m, video = parts.markers, parts.video
    changes: list[int] = []
    m.inOutChanged.connect(lambda: changes.append(1))
    targets: list[list[float]] = []
    m.snapTargetsChanged.connect(targets.append)
    video.seek(1.23)  # the frame under the playhead starts at 1.2
    m.mark_in()
    video.seek(3.0)
    m.mark_out()
    assert (m.in_point, m.out_point) == pytest.approx((1.2, 3.0))
    assert len(changes) == 2 and targets[-1] == pytest.approx([1.2, 3.0])
    video.seek(4.0)
    m.mark_in()  # an in after the out: the out goes
    assert (m.in_point, m.out_point) == (pytest.approx(4.0), None)
    video.seek(2.0)
    m.mark_out()  # an out before the in: the in goes
    assert (m.in_point, m.out_point) == (None, pytest.approx(2.0))
    m.clear_in_out()
    assert (m.in_point, m.out_point) == (None, None)
    m.set_in_out(0.5, 1.5)
    assert (m.in_point, m.out_point) == (0.5, 1.5)
    with pytest.raises(ValueError, match="after the in point"):
        m.set_in_out(2.0, 1.0)
    with pytest.raises(ValueError, match="in point"):
        m.set_in_out(float("nan"), None)
    assert (m.in_point, m.out_point) == (0.5, 1.5)  # a refused restore changes nothing


def test_play_in_to_out_stops_exactly_on_the_out_point(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    m, video = parts.markers, parts.video
    m.set_in_out(0.5, 0.8)
    clock = FakeClock(monkeypatch, video)
    video.seek(4.0)
    m.play_in_to_out()
    assert video.is_playing() and video.position() == pytest.approx(0.5)
    # The stop is scheduled for the moment the clock reaches the out point, not the next tick.
    assert video._edge_timer.isActive()
    assert abs(video._edge_timer.remainingTime() - 300) <= 5
    clock.advance(0.25)
    assert video.position() == pytest.approx(0.75) and video.is_playing()
    clock.advance(0.2)  # a late look (a busy event loop) still never shows a time past out
    assert video.position() == 0.8
    assert not video.is_playing()


def test_play_in_to_out_on_the_real_clock_stops_within_a_frame(qtbot: Any, parts: Parts) -> None:
    import time

    m, video = parts.markers, parts.video
    m.set_in_out(1.0, 1.5)
    logical_clock_only(video)
    stopped: list[float] = []
    video.playingChanged.connect(lambda playing: stopped.append(time.monotonic()) if not playing else None)
    started = time.monotonic()
    m.play_in_to_out()
    qtbot.waitUntil(lambda: bool(stopped), timeout=3000)
    assert video.position() == 1.5
    assert abs((stopped[0] - started) - 0.5) < 1.0 / FPS  # within one frame of the out point
    # A later plain play is not stopped by the old out point.
    video.play()
    assert video._stop_at is None


def test_loop_plays_the_in_out_range_round(qtbot: Any, parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    m, video = parts.markers, parts.video
    m.set_in_out(0.5, 0.8)
    m.set_loop(True)
    assert m.loop and video.loop_range() == (0.5, 0.8)
    clock = FakeClock(monkeypatch, video)
    video.seek(3.0)
    video.play()  # parked outside the range: looping play starts at the in point
    assert video.position() == pytest.approx(0.5)
    clock.advance(0.35)  # past the out point: shown on it until the edge timer jumps back
    assert video.position() == pytest.approx(0.8)
    qtbot.waitUntil(lambda: video.position() == pytest.approx(0.5), timeout=2000)
    assert video.is_playing()
    clock.advance(0.1)
    assert video.position() == pytest.approx(0.6)
    # Without in and out, the loop is the whole video.
    m.clear_in_out()
    assert video.loop_range() == (0.0, None)
    video.seek(SECONDS - 0.2)
    clock.advance(0.3)
    assert video.position() == pytest.approx(SECONDS)
    qtbot.waitUntil(lambda: video.position() == pytest.approx(0.0), timeout=2000)
    assert video.is_playing()
    m.set_loop(False)
    assert video.loop_range() is None


def test_markers_are_undoable_commands(parts: Parts) -> None:
    m, video, model = parts.markers, parts.video, parts.model
    seen: list[list[float]] = []
    m.markersChanged.connect(seen.append)
    video.seek(2.0)
    assert m.add_marker()
    assert model.undo_stack.text(model.undo_stack.count() - 1) == "Add Marker"
    assert seen[-1] == pytest.approx([2.0])
    messages: list[str] = []
    m.statusMessage.connect(messages.append)
    assert not m.add_marker()  # one marker a frame
    assert messages and model.undo_stack.count() == 1
    video.seek(4.5)
    m.add_marker()
    assert m.marker_times() == pytest.approx([2.0, 4.5])
    video.seek(1.0)
    assert not m.delete_marker_at_playhead()
    video.seek(2.0)
    assert m.delete_marker_at_playhead()
    assert seen[-1] == pytest.approx([4.5])
    model.undo_stack.undo()
    assert seen[-1] == pytest.approx([2.0, 4.5])


def test_next_and_previous_point_visit_markers_and_effect_edges(parts: Parts) -> None:
    m, video, model = parts.markers, parts.video, parts.model
    video.seek(2.55)
    m.add_marker()
    edges = {t for s in audible(model.document.segments) for t in (s.start, s.end)}
    assert edges  # the synthetic analysis made effects
    expected = sorted(edges | {2.5})
    video.seek(0.0)
    visited = []
    while m.next_point():
        visited.append(video.position())
    assert visited == pytest.approx([t for t in expected if t > 1e-6])
    back = []
    while m.previous_point():
        back.append(video.position())
    assert back == pytest.approx([t for t in reversed(expected) if t < visited[-1] - 1e-6])


def test_goto_timecode(parts: Parts) -> None:
    m, video, transport = parts.markers, parts.video, parts.transport
    assert m.goto_timecode("00:00:01:05") and video.position() == pytest.approx(1.5)
    assert m.goto_timecode("2.5") and video.position() == pytest.approx(2.5)
    assert m.goto_timecode("0:03") and video.position() == pytest.approx(3.0)
    assert m.goto_timecode("+3") and video.position() == pytest.approx(3.3)
    assert m.goto_timecode("-5") and video.position() == pytest.approx(2.8)
    for bad in ("abc", "00:00:01:12", "1:75", "9:00", "-100"):
        assert not m.goto_timecode(bad), bad
        assert video.position() == pytest.approx(2.8)  # the playhead stays
        assert transport.timecode_error.text()  # and the field says why
    assert "past the end" in (transport.goto_timecode("9:00") or transport.timecode_error.text())
    assert m.goto_timecode("1")
    assert transport.timecode_error.isHidden()


def test_timecode_field_enter_jumps_escape_reverts(qtbot: Any, parts: Parts) -> None:
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    video, transport = parts.video, parts.transport
    transport.show()
    qtbot.waitExposed(transport)
    video.seek(1.0)
    qtbot.mouseClick(transport.timecode, Qt.MouseButton.LeftButton)  # a click opens the field
    edit = transport.timecode_edit
    assert transport.is_editing_timecode() and transport.focusWidget() is edit
    assert edit.text() == "00:00:01:00" and edit.selectedText() == edit.text()
    qtbot.keyClicks(edit, "00:00:02:05")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert video.position() == pytest.approx(2.5)
    assert not transport.is_editing_timecode() and transport.timecode.text() == "00:00:02:05"
    transport.focus_timecode()  # Ctrl+G
    qtbot.keyClicks(edit, "nonsense")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert transport.is_editing_timecode() and "not a timecode" in transport.timecode_error.text()
    assert video.position() == pytest.approx(2.5)
    # The window's own Escape shortcut (deselect) must not steal the key while typing: the
    # field claims it when Qt asks who wants it as a shortcut.
    override = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(edit, override)
    assert override.isAccepted()
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert not transport.is_editing_timecode()
    assert transport.timecode.text() == "00:00:02:05" and video.position() == pytest.approx(2.5)


def test_a_new_project_clears_in_out_and_reports_its_markers(parts: Parts) -> None:
    from sfxstudio.core.project import Marker, Project
    from sfxstudio.gui.document_model import make_document

    m = parts.markers
    m.set_in_out(1.0, 2.0)
    m.set_loop(True)
    seen: list[list[float]] = []
    m.markersChanged.connect(seen.append)
    parts.model.set_document(make_document(Project(markers=[Marker(1.5, "hit")])))
    assert (m.in_point, m.out_point) == (None, None)
    assert parts.video.loop_range() == (0.0, None)  # still looping, now the whole video
    assert seen[-1] == [1.5]


def test_in_the_main_window_the_timeline_draws_them(window: Any) -> None:
    """The wiring G3 does: attach_timeline for the in/out band; markers reach the timeline
    through the DocumentModel by themselves."""
    from sfxstudio.core.commands import AddMarker

    m = MarkerController(window.model, window.video, window.transport, window)
    m.attach_timeline(window.timeline)
    m.set_in_out(1.0, 2.0)
    assert window.timeline.in_out_region.isVisible()
    assert window.timeline.in_out_region.getRegion() == pytest.approx((1.0, 2.0))
    m.clear_in_out()
    assert not window.timeline.in_out_region.isVisible()
    window.model.push(AddMarker(1.5))
    assert window.timeline.marker_times() == [1.5] and m.marker_times() == [1.5]
