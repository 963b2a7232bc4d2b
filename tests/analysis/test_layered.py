"""Layered mode (DESIGN.md section 2): every class decided on its own; effects may overlap."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfxstudio.analysis.layered import (
    LayeredCache,
    class_thresholds,
    layered_segments,
    majority_on_off,
    on_runs,
)

NAMES = ["rain", "cars", "dog", "otherwise"]
OTHER = 3


def reference_majority(x: list[bool], r: int) -> list[bool]:
    n = len(x)
    out = []
    for j in range(n):
        window = x[max(0, j - r): min(n - 1, j + r) + 1]
        on = sum(window)
        off = len(window) - on
        out.append(x[j] if on == off else on > off)
    return out


def reference_runs(x: list[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for j, v in enumerate([*x, False]):
        if v and start is None:
            start = j
        elif not v and start is not None:
            runs.append((start, j - 1))
            start = None
    return runs


def seg_tuples(segs):
    return [(s.class_name, round(s.start, 9), round(s.end, 9), s.origin) for s in segs]


@pytest.mark.parametrize("seed", range(30))
def test_majority_matches_literal_reference(seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 70)), int(rng.integers(1, 4))
    x = rng.random((n, c)) < rng.uniform(0.1, 0.9)
    r = int(rng.integers(0, 12))
    got = majority_on_off(x, r)
    for j in range(c):
        assert got[j].tolist() == reference_majority(x[:, j].tolist(), r)


@pytest.mark.parametrize("seed", range(20))
def test_on_runs_match_reference(seed):
    rng = np.random.default_rng(50 + seed)
    x = rng.random((int(rng.integers(1, 60)), 3)) < 0.5
    cls, first, last = on_runs(x)
    rows = list(zip(cls.tolist(), first.tolist(), last.tolist(), strict=True))
    got = {j: [(a, b) for cc, a, b in rows if cc == j] for j in range(3)}
    assert got == {j: reference_runs(x[:, j].tolist()) for j in range(3)}
    cls2, first2, last2 = on_runs(np.ascontiguousarray(x.T), class_major=True)
    assert np.array_equal(cls, cls2) and np.array_equal(first, first2) and np.array_equal(last, last2)


def _scene(fa: float = 10.0, n: int = 100) -> np.ndarray:
    probs = np.zeros((n, 4), np.float32)
    probs[:, OTHER] = 1.0
    # rain 1.0-6.0 s, cars 3.0-8.0 s: they overlap from 3 to 6 s
    probs[int(1.0 * fa):int(6.0 * fa), 0] = 0.7
    probs[int(3.0 * fa):int(8.0 * fa), 1] = 0.6
    return probs


@pytest.mark.parametrize("smoothing", ["majority", "hmm"])
def test_overlapping_classes_both_produced(smoothing):
    fa = 10.0
    probs = _scene(fa)
    segs = layered_segments(probs, np.arange(100) / fa, 1 / fa, NAMES, OTHER, k=0.3, tau=0.5,
                            smoothing=smoothing, stickiness=0.3)
    assert seg_tuples(segs) == [("rain", 1.0, 6.0, "auto"), ("cars", 3.0, 8.0, "auto")]


def test_single_frame_blip_removed_by_majority_and_hmm_kept_without_smoothing():
    fa = 10.0
    probs = _scene(fa)
    probs[80, 2] = 0.9  # one frame of dog
    t = np.arange(100) / fa
    for kw in ({"smoothing": "majority", "k": 0.2}, {"smoothing": "hmm", "k": 0.0, "stickiness": 0.5}):
        segs = layered_segments(probs, t, 1 / fa, NAMES, OTHER, tau=0.5, **kw)
        assert "dog" not in {s.class_name for s in segs}, kw
    for kw in ({"smoothing": "majority", "k": 0.0}, {"smoothing": "hmm", "k": 0.0, "stickiness": 0.0}):
        segs = layered_segments(probs, t, 1 / fa, NAMES, OTHER, tau=0.5, **kw)
        assert ("dog", 8.0, 8.1, "auto") in seg_tuples(segs), kw


@pytest.mark.parametrize("smoothing", ["majority", "hmm"])
def test_per_class_threshold(smoothing):
    fa = 10.0
    probs = _scene(fa)
    t = np.arange(100) / fa
    kw = {"k": 0.3, "stickiness": 0.3, "smoothing": smoothing}
    both = layered_segments(probs, t, 1 / fa, NAMES, OTHER, tau=0.5, **kw)
    assert {s.class_name for s in both} == {"rain", "cars"}
    # cars (0.6) demoted by its own threshold; rain (0.7) stays with the global one
    only_rain = layered_segments(probs, t, 1 / fa, NAMES, OTHER, tau=0.5, class_tau={"cars": 0.65}, **kw)
    assert {s.class_name for s in only_rain} == {"rain"}
    # a class threshold below the global one lets a weak class in
    low = layered_segments(probs * np.float32(0.8), t, 1 / fa, NAMES, OTHER, tau=0.55,
                           class_tau={"cars": 0.4}, **kw)
    assert {s.class_name for s in low} == {"rain", "cars"}
    assert {s.class_name for s in layered_segments(probs * np.float32(0.8), t, 1 / fa, NAMES, OTHER,
                                                   tau=0.55, **kw)} == {"rain"}


def test_runs_are_clipped_to_the_duration_and_use_real_times():
    probs = np.zeros((5, 4), np.float32)
    probs[:, OTHER] = 1.0
    probs[2:, 0] = 0.9
    times = np.array([0.0, 0.1, 0.25, 0.3, 0.4])  # variable frame times
    segs = layered_segments(probs, times, 0.1, NAMES, OTHER, k=0.0, tau=0.5, duration=0.45,
                            smoothing="majority")
    assert seg_tuples(segs) == [("rain", 0.25, 0.45, "auto")]


def test_otherwise_never_becomes_a_segment_and_min_frames_drops_short_runs():
    probs = np.zeros((30, 4), np.float32)
    probs[:, OTHER] = 1.0
    probs[5:7, 2] = 0.9
    probs[10:20, 1] = 0.9
    t = np.arange(30) / 10
    segs = layered_segments(probs, t, 0.1, NAMES, OTHER, k=0.0, tau=0.5, smoothing="majority")
    assert [s.class_name for s in segs] == ["dog", "cars"]
    segs = layered_segments(probs, t, 0.1, NAMES, OTHER, k=0.0, tau=0.5, smoothing="majority", min_frames=3)
    assert [s.class_name for s in segs] == ["cars"]


def test_cache_gives_the_same_result_as_raw_probabilities():
    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.ones(4) * 0.3, 500).astype(np.float32)
    t = np.arange(500) / 25
    cache = LayeredCache(probs)
    for sm in ("majority", "hmm"):
        a = layered_segments(probs, t, 0.04, NAMES, OTHER, 0.5, 0.4, smoothing=sm)
        b = layered_segments(cache, t, 0.04, NAMES, OTHER, 0.5, 0.4, smoothing=sm)
        assert seg_tuples(a) == seg_tuples(b)


def test_bad_inputs_are_refused_with_the_field_named():
    probs = _scene()
    t = np.arange(100) / 10
    with pytest.raises(ValueError, match="threshold of cars"):
        layered_segments(probs, t, 0.1, NAMES, OTHER, 0.3, 0.5, class_tau={"cars": 1.5})
    with pytest.raises(ValueError, match="unknown class 'cat'"):
        class_thresholds(NAMES, OTHER, 0.5, {"cat": 0.5})
    with pytest.raises(ValueError, match="smoothing"):
        layered_segments(probs, t, 0.1, NAMES, OTHER, 0.3, 0.5, smoothing="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stickiness"):
        layered_segments(probs, t, 0.1, NAMES, OTHER, 0.3, 0.5, smoothing="hmm", stickiness=1.0)
    with pytest.raises(ValueError, match=r"^k must"):
        layered_segments(probs, t, 0.1, NAMES, OTHER, float("nan"), 0.5)
    with pytest.raises(ValueError, match="times"):
        layered_segments(probs, t[:-1], 0.1, NAMES, OTHER, 0.3, 0.5)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 80),
    seed=st.integers(0, 10_000),
    fa=st.sampled_from([5.0, 10.0, 24.0, 30.0]),
    k=st.floats(0.0, 2.0),
    tau=st.floats(0.0, 1.0),
    smoothing=st.sampled_from(["majority", "hmm"]),
    stickiness=st.floats(0.0, 0.95),
    cut=st.floats(0.3, 1.2),
)
def test_property_segments_are_valid(n, seed, fa, k, tau, smoothing, stickiness, cut):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(4) * 0.5, n).astype(np.float32)
    times = np.arange(n) / fa
    duration = n / fa * cut
    segs = layered_segments(probs, times, 1 / fa, NAMES, OTHER, k, tau, duration=duration,
                            smoothing=smoothing, stickiness=stickiness)
    starts = [s.start for s in segs]
    assert starts == sorted(starts)
    by_class: dict[str, list] = {}
    for s in segs:
        assert s.class_name != "otherwise" and s.origin == "auto"
        assert 0.0 <= s.start < s.end <= duration + 1e-12
        assert s.end - s.start >= min(1 / fa, duration - s.start) - 1e-9  # a frame, unless clipped
        by_class.setdefault(s.class_name, []).append(s)
    for same in by_class.values():  # one class never overlaps itself
        for a, b in itertools.pairwise(same):
            assert a.end <= b.start
