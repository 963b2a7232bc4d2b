"""The demo's procedural scenes: shapes, determinism, variety, speed; and the shipped demo model."""

import time

import numpy as np
import pytest

from sfxstudio.core.classes import default_classes
from sfxstudio.core.paths import DEMO_MODEL
from sfxstudio.demo.scenes import CLASSES, Clip, render_clip, render_frame_samples


def test_classes_are_canonical_and_in_id_order():
    known = default_classes()
    assert "otherwise" in CLASSES and len(CLASSES) >= 7
    ids = [known.id_of(c) for c in CLASSES]
    assert ids == sorted(ids)


@pytest.mark.parametrize("cls", CLASSES)
def test_clip_shapes_dtype_and_motion(cls):
    frames = list(render_clip(cls, 3, size=(160, 90), fps=12, seed=5))
    assert len(frames) == 3
    for f in frames:
        assert f.shape == (90, 160, 3) and f.dtype == np.uint8
    assert frames[0].std() > 1.0  # a picture, not a flat fill
    same = list(render_clip(cls, 3, size=(160, 90), fps=12, seed=5))
    assert all(np.array_equal(a, b) for a, b in zip(frames, same, strict=True))


@pytest.mark.parametrize("cls", CLASSES)
def test_seeds_differ_and_sizes_are_honoured(cls):
    a = render_frame_samples(cls, 2, size=(96, 96), seed=1)
    b = render_frame_samples(cls, 2, size=(96, 96), seed=2)
    assert a.shape == (2, 96, 96, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, b)
    assert not np.array_equal(a[0], a[1])  # each sample is its own clip
    assert np.array_equal(a, render_frame_samples(cls, 2, size=(96, 96), seed=1))
    big = Clip(cls, (1280, 720), seed=3).frame(0.5)
    assert big.shape == (720, 1280, 3)


def test_animation_is_temporally_coherent():
    # Consecutive frames at 24 fps are much closer to each other than frames a few seconds apart.
    clip = Clip("wave", (128, 72), seed=11)
    f0, f1, f9 = (clip.frame(t).astype(np.float32) for t in (2.0, 2.0 + 1 / 24, 5.0))
    assert np.abs(f0 - f1).mean() < np.abs(f0 - f9).mean()
    assert np.abs(f0 - f1).mean() > 0  # it moves


def test_lightning_flashes_repeatedly():
    clip = Clip("lightning", (128, 72), seed=4)
    brightness = np.array([clip.frame(i / 24).mean() for i in range(0, 24 * 6, 2)])
    flashes = brightness > np.median(brightness) + 10
    assert np.count_nonzero(np.diff(flashes.astype(int)) == 1) + flashes[0] >= 3


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="dog_barking"):
        Clip("dog_barking", (64, 64), 0)


def test_render_time_sane():
    # CPU time, so a busy shared machine does not fail the test; the budget is generous.
    clips = [Clip(c, (1280, 720), seed=9) for c in CLASSES]
    t0 = time.process_time()
    for i, clip in enumerate(clips):
        clip.frame(i / 24)
        clip.frame(i / 24 + 0.5)
    per_frame = (time.process_time() - t0) / (2 * len(clips))
    assert per_frame < 0.05


def test_demo_model_accuracy_on_fresh_heldout_frames():
    if not (DEMO_MODEL / "bundle.json").is_file():
        pytest.skip("models/demo has not been generated yet (python -m sfxstudio.demo.demo_model)")
    from sfxstudio.demo.demo_model import model_classes, to_model_input
    from sfxstudio.ml.bundle import ModelBundle

    bundle = ModelBundle.load(DEMO_MODEL)
    assert bundle.class_names == model_classes()
    # Seed 9090 is used by neither training (101), validation (303), held-out (202) nor the video.
    x, y = [], []
    for label, cls in enumerate(bundle.class_names):
        frames = render_frame_samples(cls, 7, size=(256, 144), seed=9090)
        x.append(to_model_input(frames))
        y += [label] * len(frames)
    probs, emb = bundle.predict(np.concatenate(x))
    assert emb.shape[0] == len(y)
    accuracy = float((probs.argmax(1) == np.array(y)).mean())
    assert accuracy >= 0.9, accuracy
