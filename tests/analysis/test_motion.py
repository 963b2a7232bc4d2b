"""Motion energy and its horizontal centre from low-resolution frame differences."""

import numpy as np
import pytest

from sfxstudio.analysis.motion import GRID, MIN_CELL, MotionTracker, motion_features, shrink


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
    # energy = the busiest cell's mean |difference|: the object covers at least one whole cell
    assert energy[3] == pytest.approx(210 / 255, rel=0.02)


def test_a_small_event_in_a_corner_of_a_still_picture_is_strong_motion():
    """A key press in a corner: 2 % of the picture, but it fills a cell of the grid."""
    f = _frames(n=4, h=72, w=128)
    f[2, 60:72, 112:128] = 120  # 12 x 16 pixels, bottom right, for one frame
    energy, centre = motion_features(f)
    whole_frame_mean = 12 * 16 * 80 / 255 / (72 * 128)
    assert whole_frame_mean < 0.01  # below the onsets' floor: the old measure missed it
    assert energy[2] == pytest.approx(80 / 255, rel=0.02)  # a whole cell changed by 80 levels
    assert energy[3] == pytest.approx(80 / 255, rel=0.02)  # and changed back
    assert energy[[0, 1]].tolist() == [0.0, 0.0]
    assert centre[2] > 0.8  # the pan still follows it to the right


def test_regional_energy_of_a_whole_frame_change_is_its_mean():
    """A cut or a flash lights every cell alike: the busiest cell is the whole-frame mean."""
    f = _frames(n=3)
    f[1:] = 140
    energy, _ = motion_features(f)
    assert energy[1] == pytest.approx(100 / 255, rel=1e-5)


@pytest.mark.parametrize("shape", [(3, 5, 7), (3, 1, 1), (3, 40, 3), (3, 36, 64)])
def test_pictures_smaller_than_the_grid_still_work(shape):
    f = np.zeros(shape, np.uint8)
    f[1:, 0, 0] = 255
    energy, _ = motion_features(f, width=64)
    cells_h, cells_w = (max(1, min(GRID, n // MIN_CELL)) for n in shape[1:])
    # the changed pixel's cell: rows 0 .. h/cells_h, columns 0 .. w/cells_w (near-equal cells)
    cell = (shape[1] // cells_h) * (shape[2] // cells_w)
    assert energy[1] == pytest.approx(1.0 / cell, rel=1e-5) and energy[2] == 0.0


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
