"""The demo truth's events are where the rendered video draws them (issue 13: sounds on the
action are measured against these times, so a truth off by a few frames makes every hit late)."""

import av
import numpy as np

from sfxstudio.demo.demo_video import plan_stretches, render_demo_video, scripted_events
from sfxstudio.demo.events import load_events
from sfxstudio.demo.run import DEMO_SEED


def _sky_luma(video):
    """Per decoded frame: the mean grey of the top third (the sky, where a flash lights up)."""
    with av.open(str(video)) as c:
        return np.array([f.to_ndarray(format="gray")[: f.height // 3].mean() for f in c.decode(video=0)])


def test_truth_flashes_are_the_frames_where_the_rendered_sky_lights_up(tmp_path):
    fps, size = 24, (96, 54)
    video, truth = render_demo_video(tmp_path / "d.mp4", seconds=14.0, size=size, fps=fps, seed=DEMO_SEED)
    events = load_events(truth)
    flashes = [t for c, t in events if c == "lightning"]
    assert len(flashes) >= 2
    rise = np.diff(_sky_luma(video), prepend=0.0)
    for t in flashes:
        k = round(t * fps)
        assert rise[k] > 8.0, (t, rise[k - 2: k + 3])  # the sky lights up on the truth's frame
        assert rise[k - 1] < 8.0  # and not a frame before it
    # The same scripts at another frame size are other times (textures and scripts share a
    # random stream): the truth must come from the clips at the video's size, as it does.
    plan = plan_stretches(14.0, fps, DEMO_SEED)
    assert scripted_events(plan, fps, size, DEMO_SEED) == events
    assert scripted_events(plan, fps, (64, 36), DEMO_SEED) != events
