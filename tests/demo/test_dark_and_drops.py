"""The demo's dark `otherwise` frames (black, slates, fades to black) and its falling drops."""

import numpy as np
import pytest

from sfxstudio.demo.scenes import CLASSES, VARIANTS, Clip, render_frame_samples
from sfxstudio.demo.scenes_nature import WaterDrop


def test_dark_variant_is_otherwise_and_dark():
    assert VARIANTS["otherwise_dark"] == "otherwise"
    assert "otherwise_dark" not in CLASSES  # training only: the demo video never cuts to it
    frames = render_frame_samples("otherwise_dark", 16, size=(128, 72), seed=3, per_clip=2)
    assert frames.shape == (16, 72, 128, 3)
    means = frames.reshape(16, -1).mean(axis=1)
    assert means.max() < 80 and np.median(means) < 40  # black to dark grey, never a lit scene
    again = render_frame_samples("otherwise_dark", 16, size=(128, 72), seed=3, per_clip=2)
    assert np.array_equal(frames, again)
    clip = Clip("otherwise_dark", (64, 36), seed=1)
    assert clip.class_name == "otherwise" and clip.events(0.0, 10.0) == []


def test_training_data_holds_dark_frames_as_otherwise():
    from sfxstudio.demo.demo_model import DARK_SHARE, model_classes, render_dataset

    x, y = render_dataset(4, seed=11, jpeg_fraction=0.0)
    names = model_classes()
    other = y == names.index("otherwise")
    assert other.sum() == 4 + round(4 * DARK_SHARE)
    counts = np.bincount(y, minlength=len(names))
    assert all(counts[i] == 4 for i, c in enumerate(names) if c != "otherwise")
    # the dark ones come last among the otherwise frames: darker than the drawn rooms and skies
    dark = x[np.flatnonzero(other)[-round(4 * DARK_SHARE):]]
    assert float(dark.mean()) < 60


def _one_drop(seed: int) -> tuple[WaterDrop, WaterDrop]:
    """A pool scene with a single drop hitting the water at t = 1 s, and its twin with none
    (same water: the difference of their frames is the drop, its splash and rings)."""
    import copy

    scene = Clip("water_drop", (320, 180), seed=seed).scene
    assert isinstance(scene, WaterDrop)
    scene.d_t, scene.d_x, scene.d_y = np.array([1.0]), np.array([0.8]), np.array([0.95])
    empty = copy.copy(scene)
    empty.d_t = np.array([100.0])
    return scene, empty


def _drop_row(scene: WaterDrop, empty: WaterDrop, t: float) -> float:
    d = np.abs(scene.frame(t).astype(np.float32) - empty.frame(t).astype(np.float32)).sum(axis=2)
    rows = d.sum(axis=1)
    assert rows.sum() > 0, "the drop is drawn"
    return float((rows * np.arange(rows.size)).sum() / rows.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_drop_falls_fastest_at_the_impact(seed):
    """Released from rest, it accelerates: each frame's step down is longer than the one before,
    the longest is the last before the splash (so the picture changes most at the impact)."""
    scene, empty = _one_drop(seed)
    times = 1.0 - scene.fall + np.linspace(0.0, scene.fall, 6, endpoint=False)[1:]
    ys = np.array([_drop_row(scene, empty, t) for t in times] + [0.95 * scene.h])
    steps = np.diff(ys)
    assert (steps > 0).all() and steps[-1] == steps.max() and steps[-1] > 2 * steps[0], steps


def test_the_splash_fades_back_into_the_water():
    """No jump when a splash ends (0.3 s after the impact): it sinks away instead of vanishing
    in one frame, which would move the picture as much as the impact itself."""
    scene, empty = _one_drop(7)
    scene.rings = 0  # the splash alone (the rings spread on as long as before)

    def splash(t: float) -> np.ndarray:
        return np.asarray(scene.frame(t).astype(np.float32) - empty.frame(t).astype(np.float32))

    at_impact = np.abs(splash(1.0 + 1e-3) - splash(1.0 - 1e-3)).sum()  # the drop becomes a splash
    at_end = np.abs(splash(1.3 + 1e-3) - splash(1.3 - 1e-3)).sum()
    assert at_end < 0.25 * at_impact, (at_end, at_impact)
