"""Hits on the action: visual onsets inside an effect, and the pan that follows the motion."""

import numpy as np
import pytest

from sfxstudio.analysis.motion import motion_features
from sfxstudio.analysis.onsets import effect_pan, onsets_in, pan_curve

FA = 10.0
T = np.arange(100) / FA


def _energy(spikes, base=0.002):
    e = np.full(100, base)
    for i, v in spikes:
        e[i] = v
    return e


def test_spikes_inside_the_effect_are_its_onsets():
    e = _energy([(30, 0.3), (31, 0.28), (60, 0.2), (61, 0.2), (90, 0.5)])
    assert onsets_in(2.0, 8.0, T, energy=e) == [3.0, 6.0]  # 9.0 is outside the effect


def test_onset_is_the_first_frame_of_the_rise():
    e = _energy([(40, 0.15), (41, 0.3), (42, 0.1)])
    assert onsets_in(2.0, 8.0, T, energy=e) == [4.0]


def test_min_gap_keeps_the_stronger_hit():
    e = _energy([(30, 0.2), (33, 0.4)])
    assert onsets_in(2.0, 8.0, T, energy=e, min_gap=0.5) == [3.3]
    assert onsets_in(2.0, 8.0, T, energy=e, min_gap=0.2) == [3.0, 3.3]


def test_small_wiggles_are_not_onsets():
    e = _energy([(30, 0.006), (50, 0.3)])
    assert onsets_in(2.0, 8.0, T, energy=e) == [5.0]
    assert onsets_in(2.0, 4.5, T, energy=e) == [2.0]  # nothing: the start, for a one-shot
    assert onsets_in(2.0, 4.5, T, energy=e, fallback_start=False) == []


def test_effect_starting_on_an_event_hits_its_start():
    e = _energy([(20, 0.4), (21, 0.35)])
    assert onsets_in(2.0, 8.0, T, energy=e) == [2.0]


def test_the_cut_at_the_effect_start_does_not_mask_a_later_small_event():
    """The scene change into an effect moves every pixel (0.4); the drop 3 s later moves a
    little (0.03). Both are hits: the start, and the drop at its first frame."""
    e = _energy([(20, 0.4), (50, 0.03), (51, 0.02)], base=0.001)
    assert onsets_in(2.0, 8.0, T, energy=e) == [2.0, 5.0]
    # measured against the cut (no settle window) the drop is lost: what the window is for
    assert onsets_in(2.0, 8.0, T, energy=e, settle_s=0.0) == [2.0]
    # a cut just before the start (a smoothing boundary a few frames late) is as harmless
    assert onsets_in(2.2, 8.0, T, energy=e) == [5.0]


def test_a_short_effect_takes_its_threshold_from_all_its_frames():
    e = _energy([(20, 0.4), (23, 0.03)], base=0.001)
    assert onsets_in(2.0, 2.45, T, energy=e) == [2.0]  # inside the settle window: too small


def test_small_events_from_drawn_frames_after_a_cut_are_found():
    """Frames end to end: a cut into a still scene, then a small splash in a corner."""
    rng = np.random.default_rng(3)
    frames = np.clip(rng.normal(60, 1.0, (100, 72, 128)), 0, 255).astype(np.uint8)
    frames[20:] = np.clip(rng.normal(150, 1.0, (80, 72, 128)), 0, 255).astype(np.uint8)  # the cut
    frames[55:, 2:10, 4:14] = 230  # something of 8 x 10 pixels lands top left and stays
    energy, centre = motion_features(frames)
    assert onsets_in(2.0, 9.0, T, energy=energy) == [2.0, 5.5]
    assert effect_pan(T, centre, energy, 5.0, 6.0) < -0.8


def test_steady_motion_before_the_effect_is_the_baseline():
    e = np.full(100, 0.2)
    e[55] = 0.5
    assert onsets_in(3.0, 8.0, T, energy=e) == [5.5]


def test_class_score_when_there_is_no_motion():
    s = np.full(100, 0.1)
    s[35:38] = 0.9
    s[70:72] = 0.8
    assert onsets_in(3.0, 9.0, T, score=s) == [3.5, 7.0]


def test_onsets_are_deterministic_on_ties():
    e = _energy([(30, 0.3), (32, 0.3)])
    assert onsets_in(2.0, 8.0, T, energy=e, min_gap=0.5) == [3.0]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="energy or a class score"):
        onsets_in(0.0, 1.0, T)
    with pytest.raises(ValueError, match="end after start"):
        onsets_in(2.0, 2.0, T, energy=_energy([]))
    with pytest.raises(ValueError, match="energy must have one value per frame"):
        onsets_in(0.0, 1.0, T, energy=np.zeros(5))


def test_flashes_drawn_in_frames_are_found_at_their_frames():
    rng = np.random.default_rng(2)
    frames = np.clip(rng.normal(60, 1.0, (100, 72, 128)), 0, 255).astype(np.uint8)
    flashes = [23, 47, 48, 71]  # 47-48: a two-frame flash
    for i in flashes:
        frames[i] = 230
    energy, _ = motion_features(frames)
    assert onsets_in(1.0, 9.0, T, energy=energy) == [2.3, 4.7, 7.1]


def test_effect_pan_is_the_energy_weighted_centre():
    centre = np.where(T < 5, -0.8, 0.6)
    energy = np.where(T < 5, 0.01, 0.03)
    assert effect_pan(T, centre, energy, 0.0, 10.0) == pytest.approx((-0.8 * 1 + 0.6 * 3) / 4)
    assert effect_pan(T, centre, np.zeros(100), 0.0, 10.0) == 0.0


def test_pan_curve_follows_motion_smoothly_and_holds_when_still():
    centre = np.linspace(-1, 1, 100)
    energy = np.full(100, 0.05)
    energy[60:70] = 0.0  # still: hold the last position
    t, pan = pan_curve(T, centre, energy, 1.0, 9.0, smooth_s=0.4)
    assert t[0] == 1.0 and t[-1] == pytest.approx(8.9)
    assert (np.diff(pan[:45]) > 0).all()  # follows left to right
    assert np.ptp(pan[52:58]) < 0.05  # held while still (the average sees the hold)
    assert np.abs(np.diff(pan)).max() < 0.1  # no jumps
    assert (np.abs(pan) <= 1).all()


@pytest.mark.timeout(60)
def test_spacing_check_is_not_quadratic_on_noisy_motion() -> None:
    """Two hours of noisy motion at 30 fps: thousands of candidate peaks, each checked against
    its neighbours only (the old all-pairs check took minutes here)."""
    rng = np.random.default_rng(0)
    n = 216_000
    times = np.arange(n) / 30.0
    hits = onsets_in(0.0, n / 30.0, times, energy=rng.random(n), min_gap=0.25)
    assert len(hits) > 1000
    assert np.all(np.diff(hits) >= 0.25 - 1e-9)


def test_an_event_just_after_the_cut_into_the_effect_gets_the_hit():
    """The start frame's difference is the cut (two shots compared); a flash three frames later,
    after the picture went still, is the event the sound is for (issue 13: a storm's flash)."""
    times = np.arange(48) / 24
    energy = np.full(48, 0.005)
    energy[12] = 0.77  # the cut into the effect at 0.5 s
    energy[15] = 0.35  # a flash 125 ms later
    energy[30] = 0.40  # and another
    assert onsets_in(0.5, 2.0, times, energy=energy) == [0.625, 1.25]
    # a flash on the cut that keeps flickering (never still in between) keeps the start
    energy[13:16] = [0.2, 0.15, 0.3]
    assert onsets_in(0.5, 2.0, times, energy=energy)[0] == 0.5


def test_a_small_event_beside_a_big_one_is_still_a_hit():
    """One effect's events differ in size (a drop near the camera, one far away): a splash
    rising a quarter of the biggest is a hit, a restless scene's wiggle at a tenth is not."""
    e = _energy([(30, 0.2), (50, 0.05), (70, 0.02)], base=0.001)
    assert onsets_in(1.0, 9.0, T, energy=e) == [3.0, 5.0]


def test_an_event_one_frame_before_the_start_is_the_starts_hit():
    # A boundary set one frame late (by hand, or by smoothing): the flash on the frame before
    # the start puts the hit on the start, so its afterglow (frame 21) is no hit of its own
    # that would block the next flash (frame 23) by the min gap.
    assert onsets_in(2.0, 8.0, T, energy=_energy([(19, 0.8), (21, 0.3), (23, 0.35)])) == [2.0, 2.3]
    assert onsets_in(2.0, 8.0, T, energy=_energy([(21, 0.3), (23, 0.35)])) == [2.1]
    # two frames before the start is another shot's business
    assert onsets_in(2.0, 8.0, T, energy=_energy([(18, 0.8), (21, 0.3), (23, 0.35)]))[0] != 2.0
