"""Motion energy and its horizontal centre from low-resolution frame differences."""

import numpy as np
import pytest

from sfxstudio.analysis.motion import MotionTracker, motion_features, shrink


def _frames(n=6, h=72, w=128):
    return np.full((n, h, w), 40, np.uint8)


def test_still_picture_has_no_motion():
    energy, centre = motion_features(_frames())
    assert energy.tolist() == [0.0] * 6 and centre.tolist() == [0.0] * 6


def test_sensor_noise_below_the_floor_is_not_motion():
    rng = np.random.default_rng(0)
    f = (_frames().astype(np.int16) + rng.integers(-1, 2, (6, 72, 128))).astype(np.uint8)
    energy, _ = motion_features(f, width=128)  # no shrinking: the noise stays 1 level
    assert (energy == 0).all()


@pytest.mark.parametrize(("x0", "side"), [(96, 1), (8, -1)])
def test_object_appearing_on_one_side(x0, side):
    f = _frames()
    f[3:, 20:50, x0:x0 + 24] = 250  # appears at frame 3 and stays
    energy, centre = motion_features(f)
    assert energy[3] > 0.05
    assert energy[[0, 1, 2, 4, 5]].tolist() == [0.0] * 5
    assert centre[3] * side > 0.5
    # energy = mean |difference| over the picture: 30 x 24 pixels of 210 levels out of 72 x 128
    assert energy[3] == pytest.approx(30 * 24 * 210 / 255 / (72 * 128), rel=0.02)


def test_colour_frames_and_grey_frames_agree():
    f = _frames()
    f[2:, 10:40, 60:100] = 200
    rgb = np.repeat(f[..., None], 3, axis=-1)
    e1, c1 = motion_features(f)
    e2, c2 = motion_features(rgb)
    assert np.allclose(e1, e2, atol=1e-3) and np.allclose(c1, c2, atol=1e-3)


def test_streaming_equals_one_batch():
    rng = np.random.default_rng(1)
    f = rng.integers(0, 256, (11, 36, 64), dtype=np.uint8)
    whole = motion_features(f)
    tracker = MotionTracker()
    parts = [tracker.update(f[a:b]) for a, b in [(0, 1), (1, 5), (5, 5), (5, 11)]]
    assert np.allclose(np.concatenate([p[0] for p in parts]), whole[0])
    assert np.allclose(np.concatenate([p[1] for p in parts]), whole[1])
    tracker.reset()
    e, _ = tracker.update(f[:2])
    assert e[0] == 0.0


def test_shrink_averages_blocks_to_about_the_width():
    f = np.arange(2 * 8 * 16, dtype=np.float32).reshape(2, 8, 16)
    s = shrink(f, width=4)
    assert s.shape == (2, 2, 4)
    assert s[0, 0, 0] == pytest.approx(f[0, :4, :4].mean())


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="frames must be"):
        motion_features(np.zeros((4, 5), np.uint8))
