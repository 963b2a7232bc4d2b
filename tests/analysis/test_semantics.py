"""The exact semantics of DESIGN.md section 2, checked against a literal reference."""

from collections import Counter

import numpy as np
import pytest

from sfxstudio.analysis import mode_filter, segments_from_labels, threshold_labels
from sfxstudio.analysis.segmentation import auto_segments


def reference_mode(labels, r):
    n = len(labels)
    out = []
    for j in range(n):
        window = labels[max(0, j - r): min(n - 1, j + r) + 1]
        counts = Counter(window)
        top = max(counts.values())
        best = [c for c, v in counts.items() if v == top]
        out.append(labels[j] if labels[j] in best else min(best))
    return np.array(out)


@pytest.mark.parametrize("seed", range(30))
def test_mode_filter_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    labels = rng.integers(0, int(rng.integers(1, 6)), n) * int(rng.integers(1, 4))
    r = int(rng.integers(0, 12))
    assert np.array_equal(mode_filter(labels, r), reference_mode(list(labels), r))


def test_mode_filter_tie_prefers_own_label_then_smallest_id():
    # window of j=1 with r=1 is [5, 3, 2... ] -> counts all 1: own label 3 wins
    assert mode_filter(np.array([5, 3, 2]), 1)[1] == 3
    # j=0 with r=1: window [4, 2] tie, own label 4 is among the most frequent -> 4
    assert mode_filter(np.array([4, 2, 7]), 1)[0] == 4
    # j=1 r=1: window [2, 9, 2, ...] -> 2 is the mode
    assert mode_filter(np.array([2, 9, 2]), 1)[1] == 2
    # own label not among the most frequent, tie between 6 and 1 -> smallest id 1
    assert mode_filter(np.array([6, 6, 0, 1, 1]), 2)[2] == 1


def test_mode_filter_removes_flicker():
    labels = np.array([0] * 10 + [1] + [0] * 10)
    assert (mode_filter(labels, 2) == 0).all()


def test_threshold_demotes_weak_effects_but_not_otherwise():
    probs = np.array([[0.6, 0.3, 0.1], [0.4, 0.35, 0.25], [0.2, 0.3, 0.5], [0.1, 0.45, 0.45]])
    # otherwise_id = 2
    assert threshold_labels(probs, 0.5, 2).tolist() == [0, 2, 2, 2]
    assert threshold_labels(probs, 0.0, 2).tolist() == [0, 0, 2, 1]


def test_segments_cover_runs_and_clip_to_duration():
    labels = np.array([2, 0, 0, 2, 1, 1, 1])
    times = np.arange(7) * 0.5
    segs = segments_from_labels(labels, times, 0.5, otherwise_id=2, duration=3.2)
    assert segs == [(0, 0.5, 1.5), (1, 2.0, 3.2)]


def test_segments_use_real_timestamps():
    labels = np.array([1, 1, 1])
    times = np.array([0.0, 0.04, 0.1])  # variable frame rate
    assert segments_from_labels(labels, times, 0.04, otherwise_id=0) == [(1, 0.0, 0.14)]


def test_auto_segments_end_to_end():
    fa = 10.0
    n = 100
    probs = np.zeros((n, 3), np.float32)
    probs[:, 2] = 1.0
    probs[20:60, 0] = 0.9
    probs[20:60, 2] = 0.1
    probs[40, :] = [0.0, 0.9, 0.1]  # one-frame glitch, smoothed away
    segs = auto_segments(probs, np.arange(n) / fa, 1 / fa, ["a", "b", "otherwise"], 2, k=0.3, tau=0.5)
    assert [(s.class_name, round(s.start, 6), round(s.end, 6), s.origin) for s in segs] == [
        ("a", 2.0, 6.0, "auto")
    ]


def test_cost_does_not_depend_on_k():
    import time

    labels = np.random.default_rng(1).integers(0, 4, 200_000)
    t0 = time.perf_counter()
    a = mode_filter(labels, 3)
    t1 = time.perf_counter()
    b = mode_filter(labels, 3000)
    t2 = time.perf_counter()
    assert a.shape == b.shape
    # generous bound; the real numbers are in bench/
    assert (t2 - t1) < 5 * (t1 - t0) + 0.05


def test_probability_exactly_at_the_threshold_keeps_its_class():
    """The rule is p < tau demotes: p == tau stays the class (binary fractions, exact in float32)."""
    probs = np.array([[0.5, 0.25, 0.25], [0.25, 0.75, 0.0], [0.25, 0.375, 0.375], [0.5, 0.5, 0.0]])
    # otherwise_id = 2; row 2 is a tie broken by argmax to class 1 (p = 0.375)
    assert threshold_labels(probs, 0.5, 2).tolist() == [0, 1, 2, 0]
    assert threshold_labels(probs, 0.75, 2).tolist() == [2, 1, 2, 2]
    assert threshold_labels(probs, 0.375, 2).tolist() == [0, 1, 1, 0]
    assert threshold_labels(probs, 0.5000001, 2).tolist() == [2, 1, 2, 2]


def test_threshold_exactly_at_tau_through_auto_segments():
    probs = np.zeros((10, 2), np.float32)
    probs[:, 1] = 1.0
    probs[3:7] = [0.5, 0.5]  # class 0 at exactly tau (argmax picks the first of a tie)
    segs = auto_segments(probs, np.arange(10) / 10, 0.1, ["a", "otherwise"], 1, k=0.0, tau=0.5)
    assert [(s.class_name, s.start, s.end) for s in segs] == [("a", 0.3, pytest.approx(0.7))]


def test_mode_filter_radius_is_rounded_not_truncated():
    """r = round(k * f_a): k * f_a = 1.6 gives r = 2 (int() would give 1)."""
    fa = 10.0
    labels = "aaa..aaa"  # a two-frame gap: r = 1 keeps it, r = 2 fills it
    n = len(labels)
    probs = np.zeros((n, 2), np.float32)
    for j, ch in enumerate(labels):
        probs[j] = [0.9, 0.1] if ch == "a" else [0.1, 0.9]
    times = np.arange(n) / fa
    assert round(0.16 * fa) == 2 and int(0.16 * fa) == 1
    assert mode_filter(np.array([0, 0, 0, 1, 1, 0, 0, 0]), 1).tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    filled = auto_segments(probs, times, 1 / fa, ["a", "otherwise"], 1, k=0.16, tau=0.5)
    assert [(s.class_name, s.start, round(s.end, 9)) for s in filled] == [("a", 0.0, 0.8)]
    kept = auto_segments(probs, times, 1 / fa, ["a", "otherwise"], 1, k=0.14, tau=0.5)  # 1.4 -> 1
    assert [(s.class_name, s.start, round(s.end, 9)) for s in kept] == [("a", 0.0, 0.3), ("a", 0.5, 0.8)]


def test_runs_at_or_after_the_video_end_are_dropped():
    """A run whose clipped end is not after its start (frames at/after the duration) is empty."""
    labels = np.array([1, 1, 0, 2, 2])
    times = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    assert segments_from_labels(labels, times, 0.5, otherwise_id=0, duration=1.5) == [(1, 0.0, 1.0)]
    assert segments_from_labels(labels, times, 0.5, otherwise_id=0, duration=1.6) == [
        (1, 0.0, 1.0), (2, 1.5, 1.6)]
    probs = np.eye(3, dtype=np.float32)[labels]
    segs = auto_segments(probs, times, 0.5, ["otherwise", "a", "b"], 0, k=0.0, tau=0.5, duration=1.5)
    assert [(s.class_name, s.start, s.end) for s in segs] == [("a", 0.0, 1.0)]


def test_huge_radius_is_the_whole_array_and_costs_no_memory():
    labels = np.array([2, 0, 1, 1, 1, 1, 0])  # 1 is the majority of the whole array
    whole = mode_filter(labels, len(labels))
    assert whole.tolist() == [1] * 7
    assert mode_filter(labels, 10**15).tolist() == whole.tolist()  # no 10**15-long buffer


@pytest.mark.parametrize("k, tau, frame", [(float("nan"), 0.5, 0.1), (float("inf"), 0.5, 0.1),
                                           (-1.0, 0.5, 0.1), (1.0, float("nan"), 0.1),
                                           (1.0, 0.5, 0.0), (1.0, 0.5, float("nan"))])
def test_auto_segments_refuses_non_finite_settings(k, tau, frame):
    probs = np.array([[0.9, 0.1]] * 3, np.float32)
    with pytest.raises(ValueError):
        auto_segments(probs, np.arange(3) * 0.1, frame, ["a", "otherwise"], 1, k=k, tau=tau)
