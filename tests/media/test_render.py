"""Placement and mixing semantics of media/render.py on synthetic sounds."""

from __future__ import annotations

import numpy as np
import pytest

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.segments import Segment
from sfxstudio.media import render
from sfxstudio.media.render import (
    MIN_FADE,
    Placement,
    apply_peak_guard,
    missing_sounds,
    peak_dbfs,
    placements_for,
    render_mix,
    render_stems,
    retrigger_offsets,
)

RATE = 48000


def tone(seconds: float, freq: float = 440.0, amp: float = 0.5, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)
    return np.stack([x, x], axis=1)


def const(seconds: float, value: float = 0.5) -> np.ndarray:
    return np.full((round(seconds * RATE), 2), value, dtype=np.float32)


def nonzero_range(x: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(np.any(x != 0, axis=1))
    return int(idx[0]), int(idx[-1]) + 1


def test_shape_and_silence() -> None:
    mix = render_mix([], 2.5)
    assert mix.shape == (120000, 2) and mix.dtype == np.float32
    assert not mix.any()


@pytest.mark.parametrize("mode", ["one_shot", "loop", "retrigger"])
def test_onset_is_sample_accurate_and_segment_bounds_hold(mode: str) -> None:
    start, end = 0.123457, 0.9
    p = Placement(start, end, const(2.0), SoundAttributes(mode=mode))
    mix = render_mix([p], 1.5, peak_dbfs=0.0)
    first, last = nonzero_range(mix)
    assert first == round(start * RATE)
    assert last == round(end * RATE)  # nothing leaks past the segment end


def test_loop_fills_the_segment_and_seams_do_not_click() -> None:
    # 0.3 s of a 437 Hz tone: it does not end on a whole period, so a hard seam would jump.
    snd = tone(0.3, 437.0)
    attrs = SoundAttributes(mode="loop", crossfade=0.02, fade_in=0.0, fade_out=0.0)
    seg_start, seg_end = 0.5, 3.0
    mix = render_mix([Placement(seg_start, seg_end, snd, attrs)], 4.0, peak_dbfs=0.0)
    s0, s1 = round(seg_start * RATE), round(seg_end * RATE)
    body = mix[s0 + 480 : s1 - 480, 0]  # inside the edge fades
    # Filled: the envelope never drops out over the whole segment (a gap or a dip would).
    win = 480
    env = np.abs(body[: len(body) // win * win]).reshape(-1, win).max(axis=1)
    assert env.min() > 0.3
    # Seams: the largest sample-to-sample step anywhere stays near that of the tone itself.
    natural = float(np.abs(np.diff(snd[:, 0])).max())
    assert float(np.abs(np.diff(body)).max()) < 1.6 * natural
    # Without a crossfade the raw seam would jump far more than that.
    raw_jump = abs(float(snd[0, 0]) - float(snd[-1, 0]))
    assert raw_jump > 3 * natural
    assert not mix[s1:].any() and not mix[:s0].any()


def test_loop_zero_crossfade_still_has_a_minimum_seam() -> None:
    snd = const(0.25, 0.5)
    snd[:, :] *= np.linspace(1.0, 0.2, snd.shape[0], dtype=np.float32)[:, None]  # saw: hard seam
    attrs = SoundAttributes(mode="loop", crossfade=0.0)
    mix = render_mix([Placement(0.0, 2.0, snd, attrs)], 2.0, peak_dbfs=0.0)
    body = mix[RATE // 10 : -RATE // 10, 0]
    assert float(np.abs(np.diff(body)).max()) < 0.8 / (MIN_FADE * RATE) * 2


def test_one_shot_longer_than_segment_is_faded_to_zero_at_the_end() -> None:
    attrs = SoundAttributes(mode="one_shot", fade_out=0.05)
    p = Placement(1.0, 1.5, const(2.0, 0.5), attrs)
    mix = render_mix([p], 3.0, peak_dbfs=0.0)
    s1 = round(1.5 * RATE)
    assert not mix[s1:].any()
    assert abs(mix[s1 - 1, 0]) < 0.5 / 1000  # last sample of the fade is ~0
    assert mix[s1 - round(0.05 * RATE) - 1, 0] == pytest.approx(0.5, abs=1e-6)  # before the fade
    # Monotone fade: no bumps.
    fade = mix[s1 - round(0.05 * RATE) : s1, 0]
    assert np.all(np.diff(fade) <= 1e-7)


def test_one_shot_shorter_than_segment_plays_once() -> None:
    snd = tone(0.2, 300.0, phase=1.0)  # non-zero first sample
    p = Placement(0.5, 2.0, snd, SoundAttributes(mode="one_shot", fade_in=0.0))
    mix = render_mix([p], 3.0, peak_dbfs=0.0)
    first, last = nonzero_range(mix)
    assert first == RATE // 2 and last <= first + snd.shape[0]
    mid = slice(first + 1000, first + 5000)
    np.testing.assert_allclose(mix[mid], snd[1000:5000], atol=1e-6)  # played as is


def test_retrigger_count_and_intervals() -> None:
    click = const(0.05, 0.5)
    attrs = SoundAttributes(mode="retrigger", interval=0.5, jitter=0.0, fade_in=0.0, fade_out=0.0)
    mix = render_mix([Placement(1.0, 3.2, click, attrs)], 4.0, peak_dbfs=0.0)
    on = np.any(mix != 0, axis=1).astype(np.int8)
    starts = np.flatnonzero(np.diff(on) == 1) + 1
    assert len(starts) == 5  # 1.0, 1.5, 2.0, 2.5, 3.0
    np.testing.assert_array_equal(starts, [round(t * RATE) for t in (1.0, 1.5, 2.0, 2.5, 3.0)])


def test_retrigger_jitter_is_bounded_and_deterministic() -> None:
    a = retrigger_offsets(10 * RATE, 1.0, 0.1, RATE, seed=7)
    b = retrigger_offsets(10 * RATE, 1.0, 0.1, RATE, seed=7)
    c = retrigger_offsets(10 * RATE, 1.0, 0.1, RATE, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a[0] == 0 and len(a) == 10
    dev = a - np.arange(10) * RATE
    assert np.abs(dev).max() <= 0.1 * RATE and np.abs(dev[1:]).max() > 0


def test_retrigger_hit_cut_at_segment_end() -> None:
    attrs = SoundAttributes(mode="retrigger", interval=1.0)
    mix = render_mix([Placement(0.0, 1.5, const(0.8), attrs)], 3.0, peak_dbfs=0.0)
    assert not mix[round(1.5 * RATE) :].any()
    assert mix[round(1.2 * RATE), 0] == pytest.approx(0.5)  # second hit plays until the cut


def test_gains_in_db_add_up() -> None:
    attrs = SoundAttributes(mode="one_shot", gain_db=-6.0)
    p = Placement(0.0, 1.0, const(1.0, 0.5), attrs, gain_db=-3.0)
    mix = render_mix([p], 1.0, peak_dbfs=0.0)
    assert mix[RATE // 2, 0] == pytest.approx(0.5 * 10 ** (-9 / 20), rel=1e-5)


def test_disabled_class_is_silent() -> None:
    p = Placement(0.0, 1.0, const(1.0), SoundAttributes(enabled=False))
    assert not render_mix([p], 1.0).any()


def test_peak_guard_on_an_overloaded_mix() -> None:
    ps = [Placement(0.0, 2.0, tone(2.0, 200.0 + 10 * i, 0.9), SoundAttributes(mode="loop"))
          for i in range(6)]
    mix = render_mix(ps, 2.0)
    assert peak_dbfs(mix) <= -1.0
    assert peak_dbfs(mix) > -1.01  # scaled to the limit, not further
    quiet = render_mix([Placement(0.0, 1.0, const(1.0, 0.1), SoundAttributes())], 1.0)
    assert peak_dbfs(quiet) == pytest.approx(20 * np.log10(0.1), abs=1e-4)  # untouched


def test_apply_peak_guard_exact() -> None:
    x = np.array([[1.7, -2.3], [0.2, 0.1]], dtype=np.float32)
    gain = apply_peak_guard(x, -1.0)
    assert gain < 1.0 and peak_dbfs(x) <= -1.0


def test_stems_by_class_without_guard() -> None:
    ps = [Placement(0.0, 1.0, const(1.0, 0.9), SoundAttributes(), class_name="dog_barking"),
          Placement(0.0, 1.0, const(1.0, 0.9), SoundAttributes(), class_name="dog_barking"),
          Placement(0.5, 1.0, const(1.0, 0.1), SoundAttributes(), class_name="river")]
    stems = render_stems(ps, 1.0)
    assert set(stems) == {"dog_barking", "river"}
    assert peak_dbfs(stems["dog_barking"]) > 0  # 1.8: stems report, they do not limit
    assert stems["river"].shape == (RATE, 2)
    assert not stems["river"][: RATE // 2].any()


class FakeLibrary:
    def __init__(self) -> None:
        self.sounds = {"dog/a.wav": const(0.5, 0.1), "dog/b.wav": const(0.5, 0.2),
                       "river/r.wav": const(1.0, 0.3)}
        self.picks: list[tuple[str, int, int]] = []

    def attributes(self, cls: str) -> SoundAttributes:
        return SoundAttributes(mode="loop" if cls == "river" else "one_shot", gain_db=-2.0)

    def variations(self, cls: str) -> list[str]:
        return sorted(k for k in self.sounds if k.startswith(f"{cls}/"))

    def samples(self, path: str) -> np.ndarray:
        return self.sounds[path]

    def pick_variation(self, cls: str, index: int, seed: int = 0) -> str | None:
        self.picks.append((cls, index, seed))
        v = self.variations(cls)
        return v[index % len(v)] if v else None


def test_the_render_seed_reaches_every_library_whatever_it_names_the_parameter() -> None:
    # The seed is part of SoundSource.pick_variation: a library is never asked without it
    # (it used to be dropped for libraries whose parameter had another name).
    class SaltedLibrary(FakeLibrary):
        def pick_variation(self, cls: str, index: int, salt: int, /) -> str | None:  # type: ignore[override]
            self.picks.append((cls, index, salt))
            v = self.variations(cls)
            return v[(index + salt) % len(v)] if v else None

    lib = SaltedLibrary()
    segs = [Segment("dog", 0.0, 1.0), Segment("dog", 2.0, 3.0)]
    ps = placements_for(segs, lib, seed=1)
    assert lib.picks == [("dog", 0, 1), ("dog", 1, 1)]
    assert [p.variation for p in ps] == ["dog/b.wav", "dog/a.wav"]


def test_placements_for_variations_attributes_and_missing() -> None:
    lib = FakeLibrary()
    segs = [
        Segment("dog", 0.0, 1.0),
        Segment("river", 0.5, 3.0, gain_db=2.0, mode="one_shot"),
        Segment("dog", 2.0, 3.0),
        Segment("dog", 4.0, 5.0, variation="dog/a.wav"),
        Segment("cat", 1.0, 2.0),
        Segment("dog", 6.0, 7.0, origin="mute"),
    ]
    ps = placements_for(segs, lib, seed=3)
    assert [(p.class_name, p.start) for p in ps] == [("dog", 0.0), ("river", 0.5), ("dog", 2.0), ("dog", 4.0)]
    assert ps[0].samples is lib.sounds["dog/a.wav"] and ps[2].samples is lib.sounds["dog/b.wav"]
    assert ps[3].samples is lib.sounds["dog/a.wav"]  # the segment's own choice wins
    assert ps[1].attributes.mode == "one_shot" and ps[1].gain_db == 2.0
    assert ps[1].attributes.gain_db == -2.0
    assert ("dog", 1, 3) in lib.picks
    assert missing_sounds(segs, lib) == ["cat"]

    over = placements_for(segs, lib, class_attributes={"dog": SoundAttributes(mode="retrigger")},
                          class_variations={"dog": ["dog/b.wav"]})
    dogs = [p for p in over if p.class_name == "dog"]
    assert all(p.attributes.mode == "retrigger" for p in dogs)
    assert dogs[0].samples is lib.sounds["dog/b.wav"]
    # Same input, same seeds: a re-render sounds the same.
    assert [p.seed for p in placements_for(segs, lib, seed=3)] == [p.seed for p in ps]


# ------------------------------------------------------------------ hits on visual onsets


def rising_edges(x: np.ndarray) -> list[int]:
    on = np.concatenate([[0], np.any(x != 0, axis=1).astype(np.int8)])
    return (np.flatnonzero(np.diff(on) == 1)).tolist()


def test_one_shot_with_three_onsets_renders_three_hits_at_those_exact_samples() -> None:
    onsets = [1.61, 1.234567, 2.0, 9.0, float("nan")]  # unsorted; one outside, one not a number
    p = Placement(1.0, 2.5, const(0.3), SoundAttributes(mode="one_shot", fade_in=0.0), onsets=onsets)
    mix = render_mix([p], 3.0, peak_dbfs=0.0)
    hits = [round(t * RATE) for t in (1.234567, 1.61, 2.0)]
    assert rising_edges(mix) == hits  # the first audible sample of each hit is its onset sample
    first, last = nonzero_range(mix)
    assert first == hits[0] and last == hits[2] + round(0.3 * RATE)  # each played whole
    for h in hits:
        assert mix[h + round(0.3 * RATE) - 1, 0] != 0 and not mix[h + round(0.3 * RATE):][:10].any()


def test_a_one_shot_hit_is_choked_by_the_next_with_a_declick() -> None:
    """A 1 s sound hit every 0.3 s: each hit is cut where the next starts (never two at once),
    fading out over MIN_FADE so the cut does not click; the last runs to its end."""
    attrs = SoundAttributes(mode="one_shot", fade_in=0.0, fade_out=0.05)
    hits = [1.0, 1.3, 1.6]
    mix = render_mix([Placement(1.0, 4.0, const(1.0, 0.5), attrs, onsets=hits)], 5.0, peak_dbfs=0.0)
    fade = round(MIN_FADE * RATE)
    assert float(mix.max()) == pytest.approx(0.5)  # no pile-up: one hit sounds at a time
    for t in hits[1:]:
        s = round(t * RATE)
        assert 0 < mix[s - 1, 0] < 0.05 * 0.5  # the previous hit has faded to almost nothing
        assert mix[s - fade - 1, 0] == pytest.approx(0.5)  # and was whole until the declick
        assert 0 < mix[s, 0] < 0.05  # the next starts on its own sample, faded in (MIN_FADE)
        assert mix[s + fade + 1, 0] == pytest.approx(0.5)
    assert nonzero_range(mix)[1] == round(2.6 * RATE)  # the last hit plays to its end


def test_dense_one_shot_onsets_each_restart_the_sound() -> None:
    """400 hits of a 2 s sound over 4 s: each restarts it (no sum of 200 overlapping copies)."""
    snd = tone(2.0, 300.0)
    onsets = (np.arange(400) * 0.01 + 0.005).tolist()  # a hit every 10 ms over 4 s
    attrs = SoundAttributes(mode="one_shot", fade_in=0.0, fade_out=0.0)
    r = render.render_placement(Placement(0.0, 4.0, snd, attrs, onsets=onsets), RATE)
    assert r is not None
    s0, block = r
    assert s0 == round(0.005 * RATE) and block.shape[0] == round(3.995 * RATE)
    # every 10 ms the sound starts again from its first sample (sin 0 -> rising)
    starts = [round(t * RATE) - s0 for t in onsets]
    assert all(block[i + 1, 0] > 0 for i in starts[1:])
    assert float(np.abs(block).max()) <= 0.5 + 1e-6  # one copy at a time


def test_retrigger_puts_one_hit_on_each_onset_and_no_grid_hit() -> None:
    click = const(0.02, 0.5)
    attrs = SoundAttributes(mode="retrigger", interval=0.25, jitter=0.1, fade_in=0.0, fade_out=0.0)
    onsets = [1.1, 1.7003, 2.45, 2.45 + 0.1 / RATE, 0.5, 3.0]  # a duplicate sample, two outside
    mix = render_mix([Placement(1.0, 3.0, click, attrs, onsets=onsets)], 4.0, peak_dbfs=0.0)
    assert rising_edges(mix) == [round(t * RATE) for t in (1.1, 1.7003, 2.45)]
    assert float(mix.max()) == pytest.approx(0.5)  # the duplicate did not stack a second hit


def test_dense_onsets_take_the_fft_path_and_match_the_direct_sum() -> None:
    rng = np.random.default_rng(2)
    snd = rng.uniform(-0.3, 0.3, size=(RATE, 2)).astype(np.float32)  # 1 s hits
    onsets = np.sort(rng.uniform(0.0, 4.0, 1500))  # ~375 hits overlapping at every sample
    attrs = SoundAttributes(mode="retrigger", fade_in=0.0, fade_out=0.0)
    r = render.render_placement(Placement(0.0, 4.0, snd, attrs, onsets=onsets.tolist()), RATE)
    assert r is not None
    s0, block = r
    offs = np.unique(np.rint(onsets * RATE).astype(np.int64)) - s0
    work = render._retrigger_work(offs, snd.shape[0], block.shape[0])
    assert work > render.RETRIGGER_DIRECT_OVERLAP * block.shape[0]
    direct = render._retrigger_direct(snd, block.shape[0], offs)
    fade = round(MIN_FADE * RATE)  # the minimum declick ramps at both ends differ from the raw sum
    np.testing.assert_allclose(block[fade:-fade], direct[fade:-fade], atol=375 * 0.3 * 4e-7)
    assert s0 == round(onsets[0] * RATE)


def test_loop_ignores_onsets_and_no_onset_inside_means_as_before() -> None:
    snd = tone(0.4, 300.0)
    for mode in ("loop", "one_shot", "retrigger"):
        attrs = SoundAttributes(mode=mode)  # type: ignore[arg-type]
        plain = render_mix([Placement(0.5, 2.0, snd, attrs)], 3.0, peak_dbfs=0.0)
        outside = render_mix([Placement(0.5, 2.0, snd, attrs, onsets=[0.1, 2.0, 7.0])], 3.0, peak_dbfs=0.0)
        np.testing.assert_array_equal(plain, outside)
        if mode == "loop":
            inside = render_mix([Placement(0.5, 2.0, snd, attrs, onsets=[1.2])], 3.0, peak_dbfs=0.0)
            np.testing.assert_array_equal(plain, inside)


def test_onset_hit_is_faded_in_and_cut_at_the_segment_end() -> None:
    attrs = SoundAttributes(mode="one_shot", fade_in=0.01, fade_out=0.05)
    p = Placement(1.0, 2.0, const(2.0, 0.5), attrs, onsets=[1.5])
    mix = render_mix([p], 3.0, peak_dbfs=0.0)
    s = round(1.5 * RATE)
    assert 0 < mix[s, 0] < 0.01 and mix[s + round(0.01 * RATE) + 1, 0] == pytest.approx(0.5)
    assert not mix[round(2.0 * RATE) :].any()
    assert abs(mix[round(2.0 * RATE) - 1, 0]) < 1e-3


def test_placements_for_hands_onsets_pans_and_assignment_by_segment_id() -> None:
    lib = FakeLibrary()
    a, b = Segment("dog", 0.0, 1.0), Segment("dog", 2.0, 3.0)
    ps = placements_for([a, b], lib, assignment={a.id: "dog/b.wav", b.id: "dog/b.wav"},
                        onsets={b.id: [2.5]}, pans={a.id: -0.5}, auto_pan={"dog": False})
    assert [p.variation for p in ps] == ["dog/b.wav", "dog/b.wav"]
    assert ps[0].pan == -0.5 and ps[0].onsets is None and ps[1].onsets == [2.5]
    assert not any(p.auto_pan for p in ps)
    assert [p.segment_id for p in ps] == [a.id, b.id]
    assert lib.picks == []  # assigned effects never fall back to picking by rank


def test_adding_an_effect_keeps_every_other_effects_jitter() -> None:
    lib = FakeLibrary()
    segs = [Segment("dog", t, t + 1.0, variation="dog/a.wav") for t in (1.0, 3.0, 5.0)]
    before = {p.start: p.seed for p in placements_for(segs, lib)}
    after = {p.start: p.seed for p in placements_for([Segment("dog", 0.0, 0.5), *segs], lib)}
    assert all(after[t] == s for t, s in before.items())
