"""The demo's overlap stretches (two classes on screen at once) and its scripted events."""

import itertools
import json

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.demo.demo_video import plan_stretches, scripted_events, stretch_clip
from sfxstudio.demo.events import load_events, load_truth, write_demo_truth
from sfxstudio.demo.run import DEMO_SEED
from sfxstudio.demo.scenes import CLASSES, OVERLAP_PAIRS, Clip, OverlapClip


def test_the_demo_plan_has_overlaps_and_every_class_on_its_own():
    plan = plan_stretches(64.0, 24, DEMO_SEED)
    overlaps = [s for s in plan if s.also]
    assert len(overlaps) == 2
    assert all((s.class_name, s.also) in OVERLAP_PAIRS for s in overlaps)
    assert len({s.class_name for s in overlaps}) == 2  # one per sky class
    alone = {s.class_name for s in plan if not s.also}
    assert alone == set(CLASSES)  # every class (and `otherwise`) also appears alone
    assert sum(s.n_frames for s in plan) == 64 * 24
    # effects never touch: every effect stretch is followed by `otherwise`
    for a, b in itertools.pairwise(plan):
        assert "otherwise" in (a.class_name, b.class_name)
    assert any(s.also for s in plan_stretches(14.0, 24, DEMO_SEED))  # a short demo shows one too


def test_overlap_clip_puts_the_sky_above_the_ground():
    sky, ground = OVERLAP_PAIRS[0]
    clip = OverlapClip(sky, ground, (160, 90), 3, 0)
    f = clip.frame(1.0)
    a, b = clip.sky.frame(1.0), clip.ground.frame(1.0)
    assert f.shape == (90, 160, 3) and f.dtype == np.uint8
    assert np.array_equal(f[:20], a[:20]) and not np.array_equal(f[:20], b[:20])
    assert np.array_equal(f[-20:], b[-20:]) and not np.array_equal(f[-20:], a[-20:])
    with pytest.raises(ValueError, match="no demo overlap"):
        OverlapClip(ground, sky, (160, 90), 3, 0)


def test_lightning_events_are_the_frames_where_the_flash_starts():
    fps = 24
    clip = Clip("lightning", (96, 54), 11, 0)
    events = clip.events(0.0, 6.0)
    assert len(events) >= 3 and all(c == "lightning" for c, _ in events)
    grey = np.array([clip.frame(i / fps).mean() for i in range(6 * fps)])
    rise = np.diff(grey, prepend=grey[0])
    for _, t in events:
        k = int(np.ceil(t * fps - 1e-9))  # the first frame at or after the scripted time
        if k < len(grey):
            assert rise[k] > 10.0  # the picture lights up on that frame
    quiet = np.ones(len(grey), bool)
    for _, t in events:
        quiet[int(np.ceil(t * fps - 1e-9))] = False
    assert np.percentile(rise[quiet], 90) < 10.0  # and not on most other frames


def test_drop_and_key_events_follow_their_scripts():
    drops = Clip("water_drop", (96, 54), 4, 0)
    t = [e[1] for e in drops.events(0.0, 5.0)]
    assert t == sorted(t) and len(t) >= 5 and all(0.0 <= x < 5.0 for x in t)
    keys = Clip("typing", (96, 54), 4, 0).events(1.0, 3.0)
    assert len(keys) >= 6 and all(c == "typing" for c, _ in keys)
    assert Clip("fire", (96, 54), 4, 0).events(0.0, 5.0) == []  # continuous: no events


def test_scripted_events_sit_on_frames_inside_their_stretches():
    fps = 24
    plan = plan_stretches(30.0, fps, DEMO_SEED)
    events = scripted_events(plan, fps, (64, 36), seed=DEMO_SEED)
    assert events == sorted(events, key=lambda e: (e[1], e[0]))
    for cls, t in events:
        frame = round(t * fps)
        assert abs(frame / fps - t) < 1e-6  # frame-exact
        st = next(s for s in plan if s.first_frame <= frame < s.first_frame + s.n_frames)
        assert cls in st.classes
    # the overlap's sky events are there too
    storm = next(s for s in plan if s.also)
    clip = stretch_clip(storm, (64, 36), DEMO_SEED, plan.index(storm))
    assert isinstance(clip, OverlapClip)


def test_demo_truth_round_trip_with_events(tmp_path):
    path = tmp_path / "demo.truth.json"
    write_demo_truth(path, "demo.mp4", 10.0, 24, [("lightning", 1.0, 4.0), ("cars", 1.0, 4.0)],
                     [("lightning", 1.5), ("lightning", 2.25)])
    data = json.loads(path.read_text())
    assert data["events"] == [{"class": "lightning", "time": 1.5}, {"class": "lightning", "time": 2.25}]
    assert load_truth(path).segments == [("lightning", 1.0, 4.0), ("cars", 1.0, 4.0)]
    assert load_events(path) == [("lightning", 1.5), ("lightning", 2.25)]
    data["events"] = [{"class": "lightning", "time": "soon"}]
    path.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=r"demo\.truth\.json.*event 0"):
        load_events(path)
