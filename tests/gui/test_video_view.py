"""The paused preview shows the frame under the playhead, even before the player has played."""

import numpy as np

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
