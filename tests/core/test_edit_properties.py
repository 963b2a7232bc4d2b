"""Random edit / undo / redo / save+load sequences on the demo project (issue 10, point 9).

"The demo project" is built without rendering video or running a model: the demo's cut list
(`plan_stretches` with the demo's seed, 64 s at 24 fps) gives the ground truth, and per-frame
probabilities are drawn around it (the truth's class dominant, some frames flickering to
another class or below the threshold), at the demo's analysis rate (every frame).

Invariants after every step:
- every segment is valid: end > start, at least one frame long, inside [0, duration];
  ids are unique;
- no automatic segment overlaps a manual or mute segment of its own class;
- a refused edit changes nothing;
- saving then loading gives exactly the same segments (bit-exact times, every field);
and at the end, undoing everything restores the initial segments exactly (times and ids).
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.commands import (
    AddSegment,
    Command,
    DeleteSegment,
    EditSegment,
    SetParams,
    SetSegmentProperties,
    SplitSegment,
    snap,
)
from sfxstudio.core.document import Document
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.project_io import load_project, save_project
from sfxstudio.core.segments import Segment
from sfxstudio.pipeline import compute_auto_segments

DEMO_FPS = 24
DEMO_SECONDS = 64.0


@lru_cache(maxsize=1)
def demo_cache() -> AnalysisCache:
    from sfxstudio.demo.demo_video import plan_stretches
    from sfxstudio.demo.run import DEMO_SEED
    from sfxstudio.demo.scenes import CLASSES

    names = list(CLASSES) if OTHERWISE in CLASSES else [*CLASSES, OTHERWISE]
    stretches = plan_stretches(DEMO_SECONDS, DEMO_FPS, DEMO_SEED)
    n = sum(s.n_frames for s in stretches)
    truth = np.empty(n, dtype=np.int64)
    for s in stretches:
        truth[s.first_frame: s.first_frame + s.n_frames] = names.index(str(s.class_name))
    rng = np.random.default_rng(10)
    c = len(names)
    label = truth.copy()
    flicker = rng.random(n) < 0.06  # the classifier is sometimes wrong for a frame
    label[flicker] = rng.integers(0, c, int(flicker.sum()))
    top = rng.uniform(0.35, 0.95, n)  # sometimes below the threshold
    probs = np.empty((n, c), np.float64)
    probs[:] = ((1.0 - top) / (c - 1))[:, None]
    probs[np.arange(n), label] = top
    return AnalysisCache(times=np.arange(n, dtype=np.float64) / DEMO_FPS,
                         probs=probs.astype(np.float32), embeddings=np.zeros((n, 0), np.float16),
                         class_names=names, frame_duration=1.0 / DEMO_FPS, duration=n / DEMO_FPS,
                         model="demo-truth")


def demo_document() -> Document:
    doc = Document(Project(params=AnalysisParams(k=1.0, threshold=0.5)),
                   segmenter=compute_auto_segments)
    doc.set_analysis(demo_cache())
    return doc


def full(segs: list[Segment]) -> list[tuple[object, ...]]:
    return [(s.id, s.class_name, s.start.hex(), s.end.hex(), s.origin, s.variation, s.gain_db, s.mode)
            for s in segs]


def content(segs: list[Segment]) -> list[tuple[object, ...]]:
    """Every saved field, times bit-exact (ids are not saved)."""
    return [row[1:] for row in full(segs)]


def check_invariants(doc: Document) -> None:
    duration = doc.duration
    assert duration is not None
    min_len = doc.min_length
    ids = [s.id for s in doc.segments]
    assert len(ids) == len(set(ids)), "two segments share an id"
    editor: dict[str, list[Segment]] = {}
    for s in doc.segments:
        assert s.end > s.start, s
        assert s.end - s.start >= min_len, f"shorter than one frame: {s}"
        assert s.start >= 0.0 and s.end <= duration, s
        if s.origin != "auto":
            editor.setdefault(s.class_name, []).append(s)
    for s in doc.segments:
        if s.origin == "auto":
            clash = [e for e in editor.get(s.class_name, []) if e.overlaps(s.start, s.end)]
            assert not clash, f"automatic {s} overlaps the editor's {clash}"


unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
OPS = st.one_of(
    st.tuples(st.just("add"), unit, unit, unit),
    st.tuples(st.just("move"), unit, unit, unit),
    st.tuples(st.just("trim"), unit, unit, unit),
    st.tuples(st.just("split"), unit, unit, unit),
    st.tuples(st.just("relabel"), unit, unit, unit),
    st.tuples(st.just("delete"), unit, unit, unit),
    st.tuples(st.just("props"), unit, unit, unit),
    st.tuples(st.just("k"), unit, unit, unit),
    st.tuples(st.just("threshold"), unit, unit, unit),
    st.tuples(st.just("undo"), unit, unit, unit),
    st.tuples(st.just("redo"), unit, unit, unit),
    st.tuples(st.just("save"), unit, unit, unit),
)


def pick(items: list, u: float):  # type: ignore[no-untyped-def, type-arg]
    return items[min(len(items) - 1, int(u * len(items)))]


def make_command(doc: Document, op: str, u1: float, u2: float, u3: float) -> Command | None:
    duration = doc.duration
    assert duration is not None
    frame = doc.frame_duration
    classes = [c for c in doc.analysis.class_names if c != OTHERWISE]  # type: ignore[union-attr]
    if op == "add":
        start = snap(u1 * duration, frame)
        return AddSegment(Segment(pick(classes, u3), start, start + frame * (1 + int(u2 * 120)),
                                  origin="manual"))
    if op in ("k", "threshold"):
        values = [0.0, 0.25, 0.5, 1.0, 1.5] if op == "k" else [0.3, 0.5, 0.7]
        return SetParams(**{op: pick(values, u1)})
    if not doc.segments:
        return None
    seg = pick(doc.segments, u1)
    if op == "move":
        start = snap(seg.start + (u2 - 0.5) * 20.0, frame)
        return EditSegment(seg.id, start=start, end=start + seg.duration,
                           class_name=pick(classes, u3) if u3 < 0.3 and seg.origin != "mute" else None)
    if op == "trim":
        t = snap(u2 * duration, frame)
        return EditSegment(seg.id, start=t) if u3 < 0.5 else EditSegment(seg.id, end=t)
    if op == "split":
        if u3 < 0.15:  # off the frame grid (a playhead between frames): slivers must be refused
            return SplitSegment(seg.id, seg.start + u2 * min(seg.duration, 3 * frame))
        where = u2 if u3 < 0.4 else 0.1 + 0.8 * u2  # edges (refused when < 1 frame) and inside
        return SplitSegment(seg.id, snap(seg.start + where * seg.duration, frame))
    if op == "relabel":
        return EditSegment(seg.id, class_name=pick(classes, u2))
    if op == "delete":
        return DeleteSegment(seg.id)
    if op == "props":
        return SetSegmentProperties(seg.id, gain_db=round(-24 + 30 * u2, 1),
                                    mode=pick(["loop", "one_shot", "retrigger", None], u3))
    raise AssertionError(op)


def save_and_load(doc: Document, folder: Path, n: int) -> None:
    path = folder / f"p{n}.sfxproj"
    save_project(doc.project, path)
    loaded = load_project(path)
    assert content(loaded.segments) == content(doc.segments)
    assert loaded.params == doc.params.with_(model=loaded.params.model)
    assert loaded.analysis is not None
    again = Document(loaded, path, segmenter=compute_auto_segments)
    check_invariants(again)
    assert content(again.segments) == content(doc.segments)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=30))
def test_random_edit_sequences_keep_the_invariants(ops: list[tuple[str, float, float, float]]) -> None:
    doc = demo_document()
    initial = full(doc.segments)
    initial_params = doc.params
    assert initial, "the demo project has automatic effects"
    check_invariants(doc)
    done: list[Command] = []
    redo: list[Command] = []
    saves = 0
    with tempfile.TemporaryDirectory() as tmp:
        for op, u1, u2, u3 in ops:
            if op == "undo":
                if done:
                    cmd = done.pop()
                    cmd.undo(doc)
                    redo.append(cmd)
            elif op == "redo":
                if redo:
                    cmd = redo.pop()
                    cmd.do(doc)
                    done.append(cmd)
            elif op == "save":
                saves += 1
                save_and_load(doc, Path(tmp), saves)
            else:
                cmd = make_command(doc, op, u1, u2, u3)  # type: ignore[assignment]
                if cmd is None:
                    continue
                before = full(doc.segments)
                try:
                    cmd.do(doc)
                except (ValueError, KeyError):
                    assert full(doc.segments) == before, f"a refused {op} changed the segments"
                    continue
                done.append(cmd)
                redo.clear()
            check_invariants(doc)
        save_and_load(doc, Path(tmp), saves + 1)
    while done:
        done.pop().undo(doc)
        check_invariants(doc)
    assert doc.params == initial_params
    assert full(doc.segments) == initial
