"""The render never lets one bad value spoil the mix, stays linear in effect length, and its
fades and peak guard do exactly what the module promises (each test below fails for a
specific deliberate bug in media/render.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sfxstudio.core import validate
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError, collect_warnings
from sfxstudio.core.segments import Segment
from sfxstudio.media import render
from sfxstudio.media.render import (
    MIN_FADE,
    Placement,
    apply_peak_guard,
    peak_dbfs,
    placements_for,
    render_mix,
    render_placement,
    render_stems,
    retrigger_offsets,
)

RATE = 48000


def const(seconds: float, value: float = 0.5) -> np.ndarray:
    return np.full((round(seconds * RATE), 2), value, dtype=np.float32)


def noise(seconds: float, seed: int = 0, stereo: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, size=(round(seconds * RATE), 2 if stereo else 1)).astype(np.float32)
    return x if stereo else np.repeat(x, 2, axis=1)


def finite(x: np.ndarray) -> bool:
    return bool(np.isfinite(x).all())


# ------------------------------------------------------------------ NaN and infinity


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_segment_gain_is_skipped_not_spread_over_the_mix(bad: float) -> None:
    """Reproduction: a NaN gain turned every sample of the WAV into full-scale DC."""
    good = Placement(0.0, 1.0, const(1.0, 0.25), SoundAttributes(), class_name="river")
    poisoned = Placement(0.2, 0.6, const(1.0, 0.25), SoundAttributes(), gain_db=bad, class_name="fire")
    with collect_warnings() as lines:
        mix = render_mix([good, poisoned], 1.0, peak_dbfs=0.0)
    assert finite(mix)
    np.testing.assert_array_equal(mix, render_mix([good], 1.0, peak_dbfs=0.0))  # the rest is intact
    assert len(lines) == 1 and "fire" in lines[0] and "gain_db" in lines[0] and "\n" not in lines[0]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_sound_with_non_finite_samples_is_skipped(bad: float) -> None:
    snd = const(1.0, 0.25)
    snd[1000, 1] = bad
    good = Placement(0.0, 1.0, const(1.0, 0.25), SoundAttributes(), class_name="river")
    with collect_warnings() as lines:
        mix = render_mix([good, Placement(0.0, 1.0, snd, SoundAttributes(mode="loop"), class_name="fire")],
                         1.0, peak_dbfs=0.0)
        stems = render_stems([Placement(0.0, 1.0, snd, SoundAttributes(), class_name="fire")], 1.0)
    assert finite(mix) and finite(stems["fire"]) and not stems["fire"].any()
    assert mix[RATE // 2, 0] == pytest.approx(0.25)
    assert any("fire" in line and "not finite" in line for line in lines)


def test_strict_turns_a_skipped_placement_into_an_error(strict: None) -> None:
    p = Placement(0.0, 1.0, const(1.0), SoundAttributes(), gain_db=math.nan, class_name="fire")
    with pytest.raises(BadInputError, match="gain_db"):
        render_mix([p], 1.0)


def test_a_sum_that_overflows_float32_still_gives_a_finite_guarded_mix() -> None:
    huge = const(0.5, 3e38)  # finite, but two of them overflow float32
    ps = [Placement(0.0, 0.5, huge, SoundAttributes()) for _ in range(2)]
    mix = render_mix(ps, 0.5)
    assert finite(mix) and peak_dbfs(mix) <= -1.0
    x = np.array([[np.nan, np.inf], [-np.inf, 0.5]], dtype=np.float32)
    apply_peak_guard(x, -1.0)
    assert finite(x) and peak_dbfs(x) <= -1.0


def test_non_finite_mix_duration_is_refused() -> None:
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match="duration"):
            render_mix([], bad)


# ------------------------------------------------------------------ retrigger cost


@pytest.mark.timeout(60)
def test_retrigger_at_the_smallest_interval_on_a_long_effect_finishes() -> None:
    """Reproduction: a tiny interval hung the render (cost grew with length x hits)."""
    snd = const(2.0, 0.001)
    attrs = SoundAttributes(mode="retrigger", interval=validate.MIN_INTERVAL, fade_in=0.0, fade_out=0.0)
    minutes = 10
    r = render_placement(Placement(0.0, minutes * 60.0, snd, attrs), RATE)
    assert r is not None
    s0, block = r
    assert s0 == 0 and block.shape == (minutes * 60 * RATE, 2) and finite(block)
    # Once 2 s have passed, 200 hits overlap at every sample: 200 * 0.001.
    mid = block[RATE * 60 : RATE * 61]
    np.testing.assert_allclose(mid, 0.2, rtol=1e-4)
    # The onset: one hit, then two, ... (hits every 480 samples).
    assert block[240, 0] == pytest.approx(0.001, rel=1e-4)
    assert block[480 + 240, 0] == pytest.approx(0.002, rel=1e-4)


@pytest.mark.parametrize(("interval", "jitter", "seconds", "stereo"), [
    (0.01, 0.0, 0.7, True),
    (0.013, 0.006, 0.5, True),
    (0.02, 0.02, 1.3, False),
    (0.05, 0.01, 0.05, True),  # hits shorter than the interval: gaps of silence
    (0.011, 0.0, 3.0, True),  # sound longer than the segment
])
def test_fft_and_direct_retrigger_agree(interval: float, jitter: float, seconds: float, stereo: bool) -> None:
    x = noise(seconds, seed=round(interval * 1000), stereo=stereo)
    length = round(2.0 * RATE)
    offs = retrigger_offsets(length, interval, jitter, RATE, seed=5)
    direct = render._retrigger_direct(x, length, offs)
    fft = render._retrigger_fft(x, length, offs)
    assert fft.shape == direct.shape == (length, 2) and fft.dtype == np.float32
    hits = max(1, math.ceil(min(seconds, 2.0) / interval))
    # float32 rounding of a sum of `hits` terms of size <= 0.5.
    np.testing.assert_allclose(fft, direct, rtol=0, atol=hits * 0.5 * 2e-7 + 1e-7)
    # Where no hit sounds the FFT path is silent too (to far below one float32 step of the level).
    silent = np.all(direct == 0, axis=1)
    if silent.any():
        assert np.abs(fft[silent]).max() < 1e-7


def test_fft_retrigger_in_chunks_matches_the_direct_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "RETRIGGER_FFT_CHUNK", 1000)  # chunks of 8 sound lengths
    x = noise(0.05, seed=3)
    length = round(2.0 * RATE) + 17
    offs = retrigger_offsets(length, 0.01, 0.004, RATE, seed=9)
    fft, direct = render._retrigger_fft(x, length, offs), render._retrigger_direct(x, length, offs)
    np.testing.assert_allclose(fft, direct, rtol=0, atol=5 * 0.5 * 2e-7 + 1e-7)


def test_retrigger_picks_the_fft_path_only_when_hits_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_direct, real_fft = render._retrigger_direct, render._retrigger_fft

    def direct(*args: Any) -> np.ndarray:
        calls.append("direct")
        return real_direct(*args)

    def fft(*args: Any) -> np.ndarray:
        calls.append("fft")
        return real_fft(*args)

    monkeypatch.setattr(render, "_retrigger_direct", direct)
    monkeypatch.setattr(render, "_retrigger_fft", fft)
    sparse = SoundAttributes(mode="retrigger", interval=0.5)
    dense = SoundAttributes(mode="retrigger", interval=validate.MIN_INTERVAL)
    render_placement(Placement(0.0, 3.0, const(0.05), sparse), RATE)
    render_placement(Placement(0.0, 3.0, const(2.0), dense), RATE)
    assert calls == ["direct", "fft"]


# ------------------------------------------------------------------ fades (mutants 6-8)


def test_fade_in_ramps_up_from_the_onset() -> None:
    """Mutant: fade_in ignored in render_placement."""
    attrs = SoundAttributes(mode="one_shot", fade_in=0.1, fade_out=0.0)
    mix = render_mix([Placement(0.5, 1.5, const(2.0, 0.5), attrs)], 2.0, peak_dbfs=0.0)
    s0, fi = RATE // 2, round(0.1 * RATE)
    ramp = mix[s0 : s0 + fi, 0]
    assert 0 < ramp[0] < 0.5 * 1e-3  # the first sample is barely above silence, not full level
    assert ramp[fi // 2] == pytest.approx(0.25, abs=0.01)  # raised cosine: half power midway
    assert np.all(np.diff(ramp) > 0)  # rises monotonically
    assert mix[s0 + fi + 10, 0] == pytest.approx(0.5)  # full level after the ramp


def test_fade_out_is_capped_at_half_the_segment() -> None:
    """Mutant: the fade-out cap at half the segment removed."""
    attrs = SoundAttributes(mode="one_shot", fade_in=0.0, fade_out=1.0)  # far longer than the segment
    start, end = 1.0, 1.2
    mix = render_mix([Placement(start, end, const(2.0, 0.5), attrs)], 2.0, peak_dbfs=0.0)
    s0, s1 = round(start * RATE), round(end * RATE)
    half = (s1 - s0) // 2
    declick = round(MIN_FADE * RATE)  # fade_in 0 still gets the shortest ramp
    np.testing.assert_array_equal(mix[s0 + declick : s1 - half, 0], 0.5)  # first half untouched
    tail = mix[s1 - half : s1, 0]
    assert tail[0] == pytest.approx(0.5, abs=1e-3) and tail[-1] < 0.5 * 1e-3
    assert np.all(np.diff(tail) <= 0)


def test_fade_in_is_capped_at_half_the_segment_too() -> None:
    attrs = SoundAttributes(mode="loop", fade_in=5.0, fade_out=0.0)
    start, end = 0.0, 0.3
    mix = render_mix([Placement(start, end, const(1.0, 0.5), attrs)], 1.0, peak_dbfs=0.0)
    half = round(0.3 * RATE) // 2
    assert mix[half - 1, 0] == pytest.approx(0.5, abs=1e-3)  # the ramp has ended by the middle
    assert mix[0, 0] < 1e-3


def test_a_one_shot_that_ends_on_its_own_keeps_its_body() -> None:
    """Mutant: a one-shot shorter than its segment given the segment-end fade_out."""
    attrs = SoundAttributes(mode="one_shot", fade_in=0.0, fade_out=0.3)
    snd = const(0.5, 0.5)
    start = 1.0
    mix = render_mix([Placement(start, 3.0, snd, attrs)], 4.0, peak_dbfs=0.0)
    s0, n = round(start * RATE), snd.shape[0]
    declick = round(MIN_FADE * RATE)
    np.testing.assert_array_equal(mix[s0 + declick : s0 + n - declick, 0], 0.5)  # full level to its end
    tail = mix[s0 + n - declick : s0 + n, 0]
    assert np.all(np.diff(tail) < 0) and tail[-1] < 0.5 * 1e-2  # only the short declick
    assert not mix[s0 + n :].any()


def test_a_one_shot_cut_by_the_segment_end_gets_the_fade_out() -> None:
    attrs = SoundAttributes(mode="one_shot", fade_in=0.0, fade_out=0.3)
    mix = render_mix([Placement(1.0, 2.0, const(3.0, 0.5), attrs)], 3.0, peak_dbfs=0.0)
    s1, fo = 2 * RATE, round(0.3 * RATE)
    assert mix[s1 - fo - 1, 0] == pytest.approx(0.5)
    assert mix[s1 - fo // 2, 0] == pytest.approx(0.25, abs=0.01)


# ------------------------------------------------------------------ peak guard (mutant 9)


def test_peak_guard_acts_from_minus_one_dbfs_not_from_full_scale() -> None:
    """Mutant: the guard acting only above 0 dBFS."""
    near_full = 10 ** (-0.5 / 20)
    mix = render_mix([Placement(0.0, 1.0, const(1.0, near_full), SoundAttributes())], 1.0)
    assert peak_dbfs(mix) <= -1.0
    assert peak_dbfs(mix) == pytest.approx(-1.0, abs=0.01)  # scaled to the limit, no further
    quiet_level = 10 ** (-3 / 20)
    quiet = render_mix([Placement(0.0, 1.0, const(1.0, quiet_level), SoundAttributes())], 1.0)
    assert peak_dbfs(quiet) == pytest.approx(-3.0, abs=1e-4)  # untouched
    x = np.full((4, 2), near_full, dtype=np.float32)
    assert apply_peak_guard(x) < 1.0 and peak_dbfs(x) <= -1.0
    y = np.full((4, 2), quiet_level, dtype=np.float32)
    assert apply_peak_guard(y) == 1.0 and float(y[0, 0]) == np.float32(quiet_level)


# ------------------------------------------------------------------ warnings in placements_for


class Library:
    root = "/libs/mine"

    def __init__(self, sounds: dict[str, np.ndarray], broken: tuple[str, ...] = ()) -> None:
        self.sounds = sounds
        self.broken = broken
        self.decodes: list[str] = []

    def attributes(self, cls: str) -> SoundAttributes:
        return SoundAttributes(enabled=cls != "muted_class")

    def variations(self, cls: str) -> list[str]:
        return sorted(k for k in self.sounds if k.startswith(f"{cls}/"))

    def samples(self, path: str) -> np.ndarray:
        self.decodes.append(path)
        if path in self.broken:
            raise BadInputError(f"{self.root}/{path}", "cannot be decoded")
        return self.sounds[path]

    def pick_variation(self, cls: str, index: int, seed: int = 0) -> str | None:
        v = self.variations(cls)
        return v[index % len(v)] if v else None


def test_missing_sounds_warn_once_per_class_naming_the_library() -> None:
    lib = Library({"dog/a.wav": const(0.1), "glass/x.wav": const(0.1)}, broken=("glass/x.wav",))
    segs = [Segment("dog", 0.0, 1.0), Segment("cat", 1.0, 2.0), Segment("cat", 3.0, 4.0),
            Segment("kazoo", 1.0, 2.0), Segment("otherwise", 0.0, 1.0), Segment("muted_class", 0.0, 1.0),
            Segment("glass", 0.0, 1.0), Segment("glass", 2.0, 3.0), Segment("owl", 0.0, 1.0, origin="mute")]
    with collect_warnings() as lines:
        ps = placements_for(segs, lib)
    assert [p.class_name for p in ps] == ["dog"]
    assert sorted(lines) == sorted([
        "/libs/mine: no sound for class 'cat'; its effects are silent",
        "/libs/mine: no sound for class 'kazoo'; its effects are silent",
        "/libs/mine/glass/x.wav: cannot be decoded; glass effects using it are silent",
    ])
    assert lib.decodes.count("glass/x.wav") == 1  # a broken file is tried once per render


def test_strict_makes_a_missing_sound_an_error(strict: None) -> None:
    with pytest.raises(BadInputError, match="no sound for class 'cat'"):
        placements_for([Segment("cat", 0.0, 1.0)], Library({}))
    with pytest.raises(BadInputError, match=r"x\.wav: cannot be decoded"):
        placements_for([Segment("dog", 0.0, 1.0)], Library({"dog/x.wav": const(0.1)}, broken=("dog/x.wav",)))
    placements_for([Segment("otherwise", 0.0, 1.0), Segment("muted_class", 0.0, 1.0)], Library({}))  # quiet
