"""The paused preview shows the frame under the playhead, even before the player has played."""

import numpy as np
import pytest

from sfxstudio.gui.video_view import VideoView
from tests.fixtures.media import color_at


def _center_rgb(view):
    img = view.canvas._image
    c = img.pixelColor(img.width() // 2, img.height() // 2)
    return np.array([c.red(), c.green(), c.blue()])


def test_paused_preview_shows_frames_after_load_and_seek(qtbot, make_video):
    video = make_video(seconds=3.0, fps=10)
    view = VideoView()
    qtbot.addWidget(view)
    view.load(video, fps=10, duration=3.0)
    qtbot.waitUntil(view.canvas.has_image, timeout=5000)
    assert np.abs(_center_rgb(view) - color_at(0.0)).max() < 40
    view.seek(2.2)
    qtbot.waitUntil(lambda: np.abs(_center_rgb(view) - color_at(2.2)).max() < 40, timeout=5000)
    view.close_stills()


def test_fast_shuttle_runs_on_stills_not_on_the_media_player(qtbot, make_video):
    """Issue 15 #1: L to 8x made the media player decode at 8x (2 GB, a minute of frozen window).
    Beyond 1x the player stays paused at 1x rate, the clock runs and pictures come from the
    still decoder, which keeps only the newest request."""
    from PySide6.QtMultimedia import QMediaPlayer

    video = make_video(seconds=20.0, fps=10)
    view = VideoView()
    qtbot.addWidget(view)
    view.load(video, fps=10, duration=20.0)
    qtbot.waitUntil(view.canvas.has_image, timeout=5000)
    asked: list[float] = []
    original = view._stills.request
    view._stills.request = lambda path, t: (asked.append(t), original(path, t))
    for _ in range(4):
        view.shuttle_forward()  # 1x, 2x, 4x, 8x
    assert view.rate() == 8.0
    qtbot.wait(600)
    assert view.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState
    assert view.player.playbackRate() == 1.0
    t = view.position()
    assert 3.0 < t < 8.0  # ~0.6 s at 8x (plus the few ms of the ramp)
    assert len(asked) >= 5 and asked == sorted(asked)  # the picture follows the clock
    qtbot.waitUntil(lambda: view._stills._want is None, timeout=5000)  # nothing piles up
    view.pause()
    assert not view.is_playing()
    view.close_stills()


def test_quick_l_taps_never_start_the_player_but_resting_on_1x_does(qtbot, make_video):
    from PySide6.QtMultimedia import QMediaPlayer

    from sfxstudio.gui.video_view import PLAYER_JOIN_MS

    video = make_video(seconds=6.0, fps=10)
    view = VideoView()
    qtbot.addWidget(view)
    view.load(video, fps=10, duration=6.0)
    plays: list[int] = []
    view.player.playbackStateChanged.connect(
        lambda s: plays.append(1) if s == QMediaPlayer.PlaybackState.PlayingState else None)
    view.shuttle_forward()
    view.shuttle_forward()  # 2x before the player joined
    qtbot.wait(PLAYER_JOIN_MS + 200)
    assert plays == [] and view.rate() == 2.0
    view.pause()
    view.shuttle_forward()  # 1x and stay there: the player joins (sound and all)
    qtbot.waitUntil(lambda: bool(plays), timeout=PLAYER_JOIN_MS + 3000)
    view.pause()
    view.close_stills()


def test_play_from_the_first_frame_keeps_playing(qtbot, make_video, monkeypatch):
    """Issue 15 #3: Home, Space stayed at 0 half the time: the first clock read after Play came
    before the clock had moved, and 'at 0 while playing' was taken for 'reverse hit the start'."""
    from sfxstudio.gui import video_view

    video = make_video(seconds=3.0, fps=10)
    view = VideoView()
    qtbot.addWidget(view)
    view.load(video, fps=10, duration=3.0)
    view.go_start()
    frozen = video_view.time.monotonic()
    monkeypatch.setattr(video_view.time, "monotonic", lambda: frozen)
    view.play()
    assert view.position() == 0.0
    assert view.is_playing()
    monkeypatch.undo()
    qtbot.waitUntil(lambda: view.position() > 0.3, timeout=5000)
    assert view.is_playing()
    view.pause()
    # Going backwards still stops at the start.
    view.seek(0.2)
    view.shuttle_reverse()
    qtbot.waitUntil(lambda: not view.is_playing(), timeout=3000)
    assert view.position() == 0.0
    view.close_stills()


def test_end_then_right_stays_on_the_last_frame(qtbot, make_video):
    """Issue 15 #4: End then Right went one frame past the end (no picture)."""
    view = VideoView()
    qtbot.addWidget(view)
    view.load(make_video(seconds=3.0, fps=10), fps=10, duration=3.0)
    view.go_end()
    assert view.position() == pytest.approx(2.9)
    view.step(1)
    assert view.position() == pytest.approx(2.9)
    view.step_seconds(1.0)
    assert view.position() == pytest.approx(2.9)
    view.step(-1)
    assert view.position() == pytest.approx(2.8)
    view.close_stills()
