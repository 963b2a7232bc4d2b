"""Document: live recompute with manual edits winning per class, listeners, the fast path."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sfxstudio.analysis import apply_threshold, auto_segments, threshold_labels
from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.document import Document, intersect_ranges, union_ranges
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.segments import Segment
from sfxstudio.pipeline import compute_auto_segments

CLASS_NAMES = default_classes().names  # 21, `otherwise` last


def synthetic_cache(
    frames: int = 600, fps: float = 25.0, seed: int = 0, mean_scene: float = 4.0,
    classes: list[str] | None = None,
) -> AnalysisCache:
    """Realistic-looking probabilities without a model: scenes of a few seconds, each with
    one dominant class (mostly `otherwise` or a few favourites), softmax over noisy logits."""
    names = list(classes or CLASS_NAMES)
    rng = np.random.default_rng(seed)
    c = len(names)
    other = names.index(OTHERWISE)
    favourites = rng.choice([i for i in range(c) if i != other], size=min(4, c - 1), replace=False)
    n_scenes = max(1, int(frames / (mean_scene * fps)) + 1)
    lengths = rng.integers(int(0.5 * fps), int(2 * mean_scene * fps) + 2, n_scenes * 2)
    bounds = np.cumsum(lengths)
    scene_of = np.searchsorted(bounds, np.arange(frames), side="right")
    pick = rng.random(len(lengths))
    dominant = np.where(pick < 0.45, other,
                        np.where(pick < 0.9, rng.choice(favourites, len(lengths)),
                                 rng.integers(0, c, len(lengths))))
    strength = rng.uniform(2.5, 6.5, len(lengths)).astype(np.float32)
    logits = rng.normal(0.0, 0.9, (frames, c)).astype(np.float32)
    logits[np.arange(frames), dominant[scene_of]] += strength[scene_of]
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    times = np.arange(frames, dtype=np.float64) / fps
    return AnalysisCache(times=times, probs=probs.astype(np.float32),
                         embeddings=np.zeros((frames, 0), np.float16), class_names=names,
                         frame_duration=1.0 / fps, duration=frames / fps, model="synthetic")


def segmenter(cache: AnalysisCache, params: AnalysisParams) -> list[Segment]:
    return auto_segments(cache.probs, cache.times, cache.frame_duration, cache.class_names,
                         cache.class_names.index(OTHERWISE), params.k, params.threshold, cache.duration)


def make_doc(frames: int = 600, seed: int = 0, fast: bool = True, **params: float) -> Document:
    project = Project(params=AnalysisParams(**params))
    # fast: the GUI's segmenter, which keeps the per-frame argmax between slider moves
    doc = Document(project, segmenter=compute_auto_segments if fast else segmenter)
    doc.set_analysis(synthetic_cache(frames, seed=seed))
    return doc


def key(segs: list[Segment]) -> list[tuple[str, float, float, str]]:
    return [(s.class_name, round(s.start, 9), round(s.end, 9), s.origin) for s in segs]


RUN_CLASSES = ["fire", "river", "cheer", OTHERWISE]
RUN_CHARS = {"f": "fire", "r": "river", "c": "cheer", ".": OTHERWISE}


def runs_cache(spec: str, fps: float = 10.0, strength: float = 0.9,
               times: np.ndarray | None = None) -> AnalysisCache:
    """A cache whose frame j is confidently the class of spec[j] ('f' fire, 'r' river,
    'c' cheer, '.' otherwise): with k=0 the automatic effects are exactly the runs of spec.
    `times` (default j / fps) lets a test use timestamps as a decoder reports them."""
    n = len(spec)
    probs = np.full((n, len(RUN_CLASSES)), (1.0 - strength) / (len(RUN_CLASSES) - 1), np.float32)
    for j, ch in enumerate(spec):
        probs[j, RUN_CLASSES.index(RUN_CHARS[ch])] = strength
    if times is None:
        times = np.arange(n, dtype=np.float64) / fps
    return AnalysisCache(times=times, probs=probs,
                         embeddings=np.zeros((n, 0), np.float16), class_names=list(RUN_CLASSES),
                         frame_duration=1.0 / fps, duration=n / fps, model="runs")


def runs_doc(spec: str, fps: float = 10.0, k: float = 0.0, threshold: float = 0.5,
             times: np.ndarray | None = None) -> Document:
    doc = Document(Project(params=AnalysisParams(k=k, threshold=threshold)),
                   segmenter=compute_auto_segments)
    doc.set_analysis(runs_cache(spec, fps, times=times))
    return doc


def test_set_analysis_computes_autos_from_the_runs() -> None:
    doc = runs_doc("..ff.f..rr...c.")
    assert key(doc.segments) == [("fire", 0.2, 0.4, "auto"), ("fire", 0.5, 0.6, "auto"),
                                 ("river", 0.8, 1.0, "auto"), ("cheer", 1.3, 1.4, "auto")]
    assert doc.dirty
    # k = 0.1 s at 10 fps: radius 1 fills the one-frame gap (frame 4) and removes the lone
    # fire frame 5 (window . f .) and the lone cheer frame
    doc.set_params(k=0.1)
    assert key(doc.segments) == [("fire", 0.2, 0.5, "auto"), ("river", 0.8, 1.0, "auto")]
    doc.set_params(k=0.0, threshold=0.95)  # nothing is that sure
    assert doc.segments == []


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.55, 0.9])
def test_cached_threshold_labels_match_threshold_labels(threshold: float) -> None:
    doc = make_doc(900, seed=3)
    cache = doc.analysis
    assert cache is not None
    ref = threshold_labels(cache.probs, threshold, cache.class_names.index(OTHERWISE))
    compute_auto_segments(cache, doc.params)  # fills the argmax cache
    np.testing.assert_array_equal(apply_threshold(*cache.derived["top"], threshold,
                                                  cache.class_names.index(OTHERWISE)), ref)


def test_fast_and_plain_segmenters_agree_through_param_changes() -> None:
    fast, plain = make_doc(1500, seed=1), make_doc(1500, seed=1, fast=False)
    for changes in ({"k": 0.2}, {"threshold": 0.7}, {"k": 2.0, "threshold": 0.3}):
        fast.set_params(**changes)
        plain.set_params(**changes)
        assert key(fast.segments) == key(plain.segments)


def test_set_params_keeps_manual_and_mute_segments() -> None:
    doc = make_doc(k=0.5)
    manual = Segment("dog_barking", 3.0, 5.0, origin="manual")
    mute = Segment("fire", 10.0, 12.0, origin="mute")
    doc.replace_segments(add=[manual, mute])
    for changes in ({"k": 0.1}, {"threshold": 0.2}, {"k": 3.0, "threshold": 0.8}):
        doc.set_params(**changes)
        assert doc.find(manual.id) == manual and doc.find(mute.id) == mute
        for s in doc.segments:
            if s.origin == "auto":  # autos are clipped around the editor's ranges of their class
                assert not (s.class_name == "dog_barking" and s.overlaps(3.0, 5.0))
                assert not (s.class_name == "fire" and s.overlaps(10.0, 12.0))


def test_remerge_clips_each_class_around_its_own_ranges_only() -> None:
    # 10 fps: fire 0-3 s, with river 1-2.5 s (frames 10..24) in its middle; cheer 4-6 s
    spec = "f" * 10 + "r" * 15 + "f" * 5 + "." * 10 + "c" * 20 + "." * 10
    doc = runs_doc(spec)
    assert key(doc.segments) == [("fire", 0.0, 1.0, "auto"), ("river", 1.0, 2.5, "auto"),
                                 ("fire", 2.5, 3.0, "auto"), ("cheer", 4.0, 6.0, "auto")]
    doc.replace_segments(add=[
        Segment("fire", 0.5, 0.7, origin="manual"),    # cuts the first fire only
        Segment("river", 1.2, 1.4, origin="mute"),     # cuts the river only
        Segment("cheer", 0.0, 3.0, origin="manual"),   # over fire and river: both untouched
        Segment("fire", 5.6, 5.9, origin="mute"),      # over the cheer: it stays whole
        Segment("cheer", 4.07, 5.5, origin="mute"),    # leaves 0.07 s (< a frame) before it: dropped
    ])
    assert key(doc.segments) == [
        ("cheer", 0.0, 3.0, "manual"),
        ("fire", 0.0, 0.5, "auto"),
        ("fire", 0.5, 0.7, "manual"),
        ("fire", 0.7, 1.0, "auto"),
        ("river", 1.0, 1.2, "auto"),
        ("river", 1.2, 1.4, "mute"),
        ("river", 1.4, 2.5, "auto"),
        ("fire", 2.5, 3.0, "auto"),
        ("cheer", 4.07, 5.5, "mute"),
        ("cheer", 5.5, 6.0, "auto"),
        ("fire", 5.6, 5.9, "mute"),
    ]
    ids = [s.id for s in doc.segments]
    assert len(ids) == len(set(ids))  # fragments never share an id


def test_remerge_at_scale_keeps_the_per_class_rule() -> None:
    doc = make_doc(3000, seed=7, k=0.3, threshold=0.3)
    rng = np.random.default_rng(1)
    edited = []
    for _ in range(40):
        a = float(rng.uniform(0, 115))
        edited.append(Segment(str(rng.choice(["cat_meowing", "fire", "cheer"])), a,
                              a + float(rng.uniform(0.1, 5)),
                              origin="manual" if rng.random() < 0.5 else "mute"))
    doc.replace_segments(add=edited)
    autos = [s for s in doc.segments if s.origin == "auto"]
    assert autos
    for s in autos:
        assert s.duration >= doc.min_length
        assert not any(e.class_name == s.class_name and e.overlaps(s.start, s.end) for e in edited)
    ids = [s.id for s in doc.segments]
    assert len(ids) == len(set(ids))


def test_listeners_receive_events_in_order() -> None:
    doc = Document(segmenter=compute_auto_segments)
    events: list[str] = []
    doc.add_listener(lambda e, p: events.append(e))
    doc.set_analysis(synthetic_cache(200))
    assert events[:4] == ["analysis", "classes", "dirty", "segments"]
    events.clear()
    doc.set_params(threshold=0.2)
    assert events == ["params", "segments"]  # already dirty: no second "dirty"
    events.clear()
    doc.set_params(analysis_fps=5.0)  # no recompute until the next analysis
    assert events == ["params"]
    events.clear()
    doc.set_class_attributes("fire", doc.class_attributes("fire").with_(gain_db=-3.0))
    assert events == ["classes"]
    doc.mark_saved()
    assert events[-1] == "dirty" and not doc.dirty
    events.clear()
    doc.set_params(threshold=0.2)  # unchanged: nothing happens
    assert events == [] and not doc.dirty


def test_classes_follow_the_analysis() -> None:
    doc = Document()
    assert len(doc.classes) == 21
    doc.set_analysis(synthetic_cache(50, classes=["fire", "cheer", OTHERWISE]))
    assert doc.classes.names == ["fire", "cheer", OTHERWISE]
    assert doc.class_attributes("fire") == default_classes()["fire"].sound


def test_frame_duration_defaults_to_25_fps() -> None:
    assert Document().frame_duration == pytest.approx(0.04)
    assert make_doc(100).frame_duration == pytest.approx(0.04)


def test_range_helpers() -> None:
    assert union_ranges([(3, 4), (0, 1), (0.5, 2), (2, 2.5)]) == [(0, 2.5), (3, 4)]
    assert intersect_ranges([(0.5, 3.5)], [(0, 1), (2, 3), (3.2, 9)]) == [(0.5, 1), (2, 3), (3.2, 3.5)]


def test_no_segmenter_keeps_stored_autos() -> None:
    auto = Segment("fire", 1.0, 2.0)
    doc = Document(Project(segments=[auto]))
    doc.replace_segments(add=[Segment("cheer", 1.5, 3.0, origin="manual")])
    assert key(doc.segments) == [("fire", 1.0, 2.0, "auto"), ("cheer", 1.5, 3.0, "manual")]
    doc.replace_segments(add=[Segment("fire", 1.5, 3.0, origin="manual")])
    assert key(doc.segments) == [("fire", 1.0, 1.5, "auto"), ("cheer", 1.5, 3.0, "manual"),
                                 ("fire", 1.5, 3.0, "manual")]


def test_recompute_two_hours_is_fast() -> None:
    """216,000 frames x 21 classes (2 h at 30 fps): a k or threshold change stays interactive.

    The budget here is loose (shared CI cores); the measured numbers are in the report."""
    project = Project(params=AnalysisParams(k=1.0, threshold=0.5))
    doc = Document(project, segmenter=compute_auto_segments)
    cache = synthetic_cache(216_000, fps=30.0, seed=2)
    doc.set_analysis(cache)
    doc.replace_segments(add=[Segment("fire", 60.0 * i, 60.0 * i + 5, origin="manual") for i in range(100)])
    times = []
    for changes in ({"threshold": 0.45}, {"k": 0.8}, {"threshold": 0.6}, {"k": 1.2}):
        t0 = time.perf_counter()
        doc.set_params(**changes)
        times.append(time.perf_counter() - t0)
    assert len(doc.segments) > 100
    assert min(times) < 0.5, times
