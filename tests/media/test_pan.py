"""Equal-power auto pan in media/render.py: the law, constant power, curves, mix and stems alike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import collect_warnings
from sfxstudio.media.pan import PAN_BLOCK, pan_gains
from sfxstudio.media.render import Placement, render_mix, render_placement, render_stems

RATE = 48000
FLAT = SoundAttributes(mode="one_shot", fade_in=0.0, fade_out=0.0)


def mono_noise(seconds: float, seed: int = 0, amp: float = 0.3) -> np.ndarray:
    x = np.random.default_rng(seed).uniform(-amp, amp, round(seconds * RATE)).astype(np.float32)
    return np.stack([x, x], axis=1)


def block(p: Placement) -> np.ndarray:
    r = render_placement(p, RATE)
    assert r is not None
    return r[1]


def test_pan_law_constant_power_unity_centre_and_hard_sides() -> None:
    pans = np.linspace(-1.0, 1.0, 41)
    left, right = pan_gains(pans)
    np.testing.assert_allclose(left**2 + right**2, 2.0, rtol=1e-12)
    assert pan_gains(0.0) == pytest.approx((1.0, 1.0))
    assert pan_gains(-1.0) == pytest.approx((math.sqrt(2.0), 0.0))
    assert pan_gains(1.0) == pytest.approx((0.0, math.sqrt(2.0)))
    assert np.all(np.diff(left) < 0) and np.all(np.diff(right) > 0)  # monotone sweep
    assert pan_gains(-3.0) == pan_gains(-1.0)  # clipped


@pytest.mark.parametrize("pan", [-1.0, -0.6, -0.2, 0.3, 0.8, 1.0])
def test_a_panned_effect_keeps_its_energy(pan: float) -> None:
    snd = mono_noise(0.5)
    centre = block(Placement(0.0, 1.0, snd, FLAT))
    panned = block(Placement(0.0, 1.0, snd, FLAT, pan=pan))
    assert float((panned.astype(np.float64) ** 2).sum()) == pytest.approx(
        float((centre.astype(np.float64) ** 2).sum()), rel=1e-5)
    theta = (pan + 1) * math.pi / 4
    np.testing.assert_allclose(panned[:, 0], centre[:, 0] * math.sqrt(2) * math.cos(theta), atol=1e-6)
    np.testing.assert_allclose(panned[:, 1], centre[:, 1] * math.sqrt(2) * math.sin(theta), atol=1e-6)


def test_hard_left_silences_the_right_channel_and_centre_changes_nothing() -> None:
    snd = mono_noise(0.5)
    hard = render_mix([Placement(0.2, 1.0, snd, FLAT, pan=-1.0)], 1.0, peak_dbfs=6.0)
    assert not hard[:, 1].any() and hard[:, 0].any()
    plain = render_mix([Placement(0.2, 1.0, snd, FLAT)], 1.0, peak_dbfs=0.0)
    centred = render_mix([Placement(0.2, 1.0, snd, FLAT, pan=0.0)], 1.0, peak_dbfs=0.0)
    off = render_mix([Placement(0.2, 1.0, snd, FLAT, pan=-1.0, auto_pan=False)], 1.0, peak_dbfs=0.0)
    np.testing.assert_array_equal(centred, plain)  # bit-identical: no -3 dB change at the centre
    np.testing.assert_array_equal(off, plain)  # the class switch off: centred whatever the pan


def test_a_pan_curve_follows_the_motion_smoothly_at_constant_power() -> None:
    snd = np.full((4 * RATE, 2), 0.25, np.float32)
    curve = ([1.0, 3.0], [-1.0, 1.0])  # the object crosses the frame left to right
    out = block(Placement(0.5, 3.5, snd, SoundAttributes(mode="loop", fade_in=0.0, fade_out=0.0),
                          pan=curve))
    t = 0.5 + np.arange(out.shape[0]) / RATE
    power = out[:, 0].astype(np.float64) ** 2 + out[:, 1].astype(np.float64) ** 2
    body = slice(round(0.01 * RATE), -round(0.01 * RATE))  # the minimum edge ramps aside
    np.testing.assert_allclose(power[body], 2 * 0.25**2, rtol=2e-3)
    early, late = out[t < 0.9], out[t > 3.1]
    assert not early[:, 1].any() or float(np.abs(early[:, 1]).max()) < 1e-3  # held hard left
    assert float(np.abs(late[:, 0]).max()) < 1e-3  # held hard right
    mid = out[np.abs(t - 2.0) < 0.001]
    np.testing.assert_allclose(mid[:, 0], mid[:, 1], atol=0.01)  # centred half-way
    # Smooth: no step between samples beyond what the sweep itself needs.
    steps = np.abs(np.diff(out[body], axis=0)).max()
    assert steps < 0.25 * math.sqrt(2) * (math.pi / 4) / (2.0 * RATE) * 20


def test_a_jumping_motion_centre_is_smoothed_not_followed_sample_by_sample() -> None:
    snd = np.full((2 * RATE, 2), 0.25, np.float32)
    curve = ([0.0, 0.999999, 1.0, 2.0], [-1.0, -1.0, 1.0, 1.0])  # a jump at 1 s
    out = block(Placement(0.0, 2.0, snd, FLAT, pan=curve))
    # The jump becomes a ramp of about PAN_SMOOTH (0.1 s), never a click.
    steps = np.abs(np.diff(out[PAN_BLOCK:-PAN_BLOCK], axis=0)).max()
    assert steps < 0.25 * math.sqrt(2) / (0.05 * RATE)
    right = out[:, 1]
    assert right[round(0.9 * RATE)] < 0.05 and right[round(1.1 * RATE)] > 0.3


def test_stems_are_panned_like_the_mix() -> None:
    ps = [Placement(0.0, 1.0, mono_noise(1.0, 1, 0.1), FLAT, class_name="dog_barking", pan=-0.7),
          Placement(0.2, 1.0, mono_noise(1.0, 2, 0.1), FLAT, class_name="cars",
                    pan=([0.2, 1.0], [1.0, -1.0]))]
    mix = render_mix(ps, 1.0, peak_dbfs=0.0)
    stems = render_stems(ps, 1.0)
    np.testing.assert_allclose(stems["dog_barking"] + stems["cars"], mix, atol=1e-7)
    dog = stems["dog_barking"]
    assert float(np.abs(dog[:, 0]).sum()) > 3 * float(np.abs(dog[:, 1]).sum())


def test_a_bad_pan_leaves_the_effect_centred_with_a_warning() -> None:
    snd = mono_noise(0.5)
    plain = block(Placement(0.0, 1.0, snd, FLAT))
    for bad in (float("nan"), float("inf"), ([float("nan")], [0.5]), ([0.0, 1.0], [0.5])):
        with collect_warnings() as lines:
            out = block(Placement(0.0, 1.0, snd, FLAT, pan=bad))  # type: ignore[arg-type]
        np.testing.assert_array_equal(out, plain)
        assert len(lines) == 1 and "pan" in lines[0]
    # NaN points in a curve are dropped, the rest is used; out-of-range values are clipped.
    curve = ([0.0, 0.5, 1.0], [2.0, float("nan"), 2.0])
    out = block(Placement(0.0, 1.0, snd, FLAT, pan=curve))
    assert not out[:, 0].any()
