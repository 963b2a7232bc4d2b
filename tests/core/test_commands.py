"""Edit commands: do/undo/redo for each, and the "manual edits win" rules of DESIGN.md section 2."""

from __future__ import annotations

import pytest

from sfxstudio.core.commands import (
    AddSegment,
    CompositeCommand,
    DeleteSegment,
    EditSegment,
    SetClassAttributes,
    SetClassVariations,
    SetParams,
    SetSegmentProperties,
    SplitSegment,
    snap,
)
from sfxstudio.core.document import Document
from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from tests.core.test_document import key, make_doc


def first_auto(doc: Document, min_len: float = 1.0) -> Segment:
    return next(s for s in doc.segments if s.origin == "auto" and s.duration >= min_len)


def checked(check_after) -> None:  # type: ignore[no-untyped-def]
    """Run a check: one that asserts inside returns None, a predicate must return True."""
    result = check_after()
    assert result is None or result is True, f"check after the edit failed ({result!r})"


def full(segs: list[Segment]) -> list[tuple[object, ...]]:
    """Everything about the segments, ids included, exact times."""
    return [(s.id, s.class_name, s.start, s.end, s.origin, s.variation, s.gain_db, s.mode)
            for s in segs]


def roundtrip(doc: Document, cmd, check_after) -> None:  # type: ignore[no-untyped-def]
    """do -> check, undo -> state exactly as before, redo -> exactly as after, check again."""
    before = full(doc.segments)
    cmd.do(doc)
    checked(check_after)
    after = full(doc.segments)
    cmd.undo(doc)
    assert full(doc.segments) == before
    cmd.do(doc)
    assert full(doc.segments) == after
    checked(check_after)


def test_roundtrip_fails_when_the_check_says_false() -> None:
    doc = Document()
    with pytest.raises(AssertionError):
        roundtrip(doc, AddSegment(Segment("fire", 1.0, 2.0)), lambda: False)


def test_snap() -> None:
    assert snap(1.02, 0.04) == pytest.approx(1.04)
    assert snap(1.01, 0.04) == pytest.approx(1.0)
    assert snap(-0.3, 0.04) == 0.0
    assert snap(0.7, 0.0) == 0.7


def test_add_segment_is_manual() -> None:
    doc = make_doc()
    seg = Segment("cheer", 2.0, 3.0, origin="auto")
    cmd = AddSegment(seg)
    roundtrip(doc, cmd, lambda: doc.find(seg.id) is not None and doc.find(seg.id).origin == "manual")  # type: ignore[union-attr]
    assert cmd.name == "Add cheer"


def test_delete_auto_leaves_mute_that_survives_set_params() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc)
    cmd = DeleteSegment(auto.id)

    def check() -> None:
        assert doc.find(auto.id) is None
        mutes = [s for s in doc.segments if s.origin == "mute"]
        assert [(m.start, m.end) for m in mutes] == [(auto.start, auto.end)]

    roundtrip(doc, cmd, check)
    for changes in ({"k": 0.2}, {"threshold": 0.1}, {"k": 1.5, "threshold": 0.3}):
        doc.set_params(**changes)
        autos_inside = [s for s in doc.segments
                        if s.origin == "auto" and s.overlaps(auto.start, auto.end)]
        assert autos_inside == []  # the deleted effect does not come back
    cmd.undo(doc)  # undo after recomputes: the mute goes, autos there come back
    assert not [s for s in doc.segments if s.origin == "mute"]
    assert any(s.origin == "auto" and s.overlaps(auto.start, auto.end) for s in doc.segments)


def test_delete_manual_removes_it_and_mute_removes_mute() -> None:
    doc = Document()
    seg = Segment("fire", 1.0, 2.0, origin="manual")
    doc.replace_segments(add=[seg])
    roundtrip(doc, DeleteSegment(seg.id), lambda: doc.segments == [])
    mute = Segment("fire", 4.0, 5.0, origin="mute")
    doc.replace_segments(add=[mute])
    cmd = DeleteSegment(mute.id)
    cmd.do(doc)
    assert doc.segments == [] and cmd.name == "Remove mute"


def test_delete_manual_over_autos_leaves_no_mute_and_autos_come_back() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc)
    draw = Segment(auto.class_name, auto.start, auto.end, origin="manual")  # overwrites the auto
    AddSegment(draw).do(doc)
    assert not any(s.origin == "auto" and s.overlaps(auto.start, auto.end)
                   and s.class_name == auto.class_name for s in doc.segments)
    DeleteSegment(draw.id).do(doc)
    assert not [s for s in doc.segments if s.origin == "mute"]
    back = [s for s in doc.segments if s.overlaps(auto.start, auto.end) and s.class_name == auto.class_name]
    assert [(s.start, s.end, s.origin) for s in back] == [(auto.start, auto.end, "auto")]


def test_edited_auto_becomes_manual_and_survives_params() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc, 1.0)
    new_end = auto.end - 0.4
    cmd = EditSegment(auto.id, end=new_end)

    def check() -> None:
        edited = doc.find(auto.id)
        assert edited is not None and edited.origin == "manual"
        assert (edited.start, edited.end) == (auto.start, new_end)
        # the automatic effect was taken over: its range is muted for its class, so the
        # trimmed-off tail does not reappear as an auto
        assert [(s.class_name, s.start, s.end) for s in doc.segments if s.origin == "mute"] == [
            (auto.class_name, auto.start, auto.end)]
        assert not any(s.origin == "auto" and s.class_name == auto.class_name
                       and s.overlaps(auto.start, auto.end) for s in doc.segments)

    roundtrip(doc, cmd, check)
    assert cmd.name == "Trim effect"
    for changes in ({"k": 0.1}, {"threshold": 0.9}, {"k": 2.0, "threshold": 0.2}):
        doc.set_params(**changes)
        assert doc.find(auto.id) == auto.with_(end=new_end, origin="manual")


def test_move_and_relabel() -> None:
    doc = Document()
    seg = Segment("fire", 1.0, 2.0, origin="manual")
    doc.replace_segments(add=[seg])
    move = EditSegment(seg.id, start=5.0, end=6.0)
    roundtrip(doc, move, lambda: key(doc.segments) == [("fire", 5.0, 6.0, "manual")])
    relabel = EditSegment(seg.id, class_name="cheer")
    roundtrip(doc, relabel, lambda: key(doc.segments) == [("cheer", 5.0, 6.0, "manual")])
    assert relabel.name == "Change class to cheer"
    with pytest.raises(ValueError):
        EditSegment(seg.id, start=7.0).do(doc)


def test_move_earlier_keeps_exact_times() -> None:
    doc = Document()
    seg = Segment("fire", 5.0, 6.5, origin="manual")
    doc.replace_segments(add=[seg])
    roundtrip(doc, EditSegment(seg.id, start=1.25, end=2.75),
              lambda: [(s.id, s.start, s.end) for s in doc.segments] == [(seg.id, 1.25, 2.75)])
    roundtrip(doc, EditSegment(seg.id, start=0.5),  # trim the start earlier
              lambda: [(s.start, s.end) for s in doc.segments] == [(0.5, 2.75)])
    roundtrip(doc, EditSegment(seg.id, start=-3.0, end=-1.0 + 2.0),  # clamped at 0, not refused
              lambda: [(s.start, s.end) for s in doc.segments] == [(0.0, 1.0)])


def test_move_auto_earlier_mutes_its_original_range() -> None:
    from tests.core.test_document import runs_doc

    doc = runs_doc("." * 30 + "f" * 20 + "." * 30)  # fire 3-5 s at 10 fps
    auto = doc.segments[0]
    EditSegment(auto.id, start=2.0, end=4.0).do(doc)
    assert key(doc.segments) == [("fire", 2.0, 4.0, "manual"), ("fire", 3.0, 5.0, "mute")]
    assert doc.find(auto.id).start == 2.0  # type: ignore[union-attr]


def test_relabel_auto_mutes_its_old_class_over_its_range() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc)
    cmd = EditSegment(auto.id, class_name="helicopter")

    def check() -> None:
        assert doc.find(auto.id) == auto.with_(class_name="helicopter", origin="manual")
        assert [(s.class_name, s.start, s.end) for s in doc.segments if s.origin == "mute"] == [
            (auto.class_name, auto.start, auto.end)]

    roundtrip(doc, cmd, check)


def test_edits_shorter_than_a_frame_are_refused_and_change_nothing() -> None:
    doc = make_doc(k=0.5)
    frame = doc.frame_duration
    seg = Segment("fire", 2.0, 3.0, origin="manual")
    AddSegment(seg).do(doc)
    before = full(doc.segments)
    for cmd in (AddSegment(Segment("cheer", 1.0, 1.0 + 0.5 * frame)),
                EditSegment(seg.id, end=2.0 + 0.9 * frame),
                EditSegment(seg.id, start=3.0 - 1e-7),
                EditSegment(seg.id, start=5.0, end=5.0 + 1e-9),
                SplitSegment(seg.id, 2.0 + 1e-12),
                SplitSegment(seg.id, 3.0 - 0.5 * frame)):
        with pytest.raises(ValueError):
            cmd.do(doc)
        assert full(doc.segments) == before
    # exactly one frame is fine
    roundtrip(doc, SplitSegment(seg.id, 2.0 + frame), lambda: [
        (s.start, s.end) for s in doc.segments if s.origin == "manual"] == [(2.0, 2.0 + frame),
                                                                              (2.0 + frame, 3.0)])


def test_split_at_an_analysis_frame_edge_is_refused() -> None:
    """The demo's lightning at 35.333333 s: the decoder's timestamps are rounded to the
    microsecond, the snapped playhead (848 / 24 s) lies a third of a microsecond inside."""
    import numpy as np

    from tests.core.test_document import runs_doc

    fps = 24.0
    spec = "." * 848 + "f" * 96 + "." * 56
    doc = runs_doc(spec, fps=fps, times=np.round(np.arange(len(spec)) / fps, 6))
    auto = next(s for s in doc.segments if s.class_name == "fire")
    assert auto.start == 35.333333
    first, last = snap(35.333333, doc.frame_duration), snap(39.333333, doc.frame_duration)
    assert auto.start < first < auto.start + 1e-6 and auto.end - 1e-6 < last < auto.end
    for t in (first, last):
        with pytest.raises(ValueError, match="less than one frame"):
            SplitSegment(auto.id, t).do(doc)
        assert [s.class_name for s in doc.segments] == ["fire"] and doc.segments[0] is auto
    roundtrip(doc, SplitSegment(auto.id, snap(37.0, doc.frame_duration)),
              lambda: sorted(s.origin for s in doc.segments) == ["manual", "manual", "mute"])


def test_composite_refused_part_leaves_nothing_done() -> None:
    doc = Document()
    a = Segment("fire", 1.0, 2.0, origin="manual")
    b = Segment("cheer", 1.0, 3.0, origin="manual")
    doc.replace_segments(add=[a, b])
    before = full(doc.segments)
    comp = CompositeCommand("Split effects", [SplitSegment(b.id, 1.5), SplitSegment(a.id, 1.99)])
    with pytest.raises(ValueError):
        comp.do(doc)
    assert full(doc.segments) == before


def test_redo_after_a_recompute_replays_exactly() -> None:
    doc = make_doc(k=0.5)
    manual = Segment("fire", 2.0, 4.0, origin="manual")
    AddSegment(manual).do(doc)
    auto = first_auto(doc)
    for cmd in (SplitSegment(manual.id, 3.0), EditSegment(auto.id, end=auto.end - 0.2),
                DeleteSegment(auto.id)):
        cmd.do(doc)
        done = [s for s in full(doc.segments) if s[4] != "auto"]
        cmd.undo(doc)
        SetParams(k=1.5).do(doc)  # autos recomputed: the auto's id may be gone
        cmd.do(doc)  # redo
        assert [s for s in full(doc.segments) if s[4] != "auto"] == done
        cmd.undo(doc)
        doc.set_params(k=0.5)


def test_split() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc, 1.0)
    t = snap((auto.start + auto.end) / 2, doc.frame_duration)
    cmd = SplitSegment(auto.id, t)

    def check() -> None:
        halves = [s for s in doc.segments if s.overlaps(auto.start, auto.end) and s.origin != "mute"]
        assert [(s.start, s.end, s.origin, s.class_name) for s in halves] == [
            (auto.start, t, "manual", auto.class_name), (t, auto.end, "manual", auto.class_name)]
        assert halves[0].id == auto.id
        assert [(s.class_name, s.start, s.end) for s in doc.segments if s.origin == "mute"] == [
            (auto.class_name, auto.start, auto.end)]  # the automatic effect was taken over

    roundtrip(doc, cmd, check)
    with pytest.raises(ValueError):
        SplitSegment(auto.id, auto.end + 1).do(doc)


def test_segment_properties() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc)
    cmd = SetSegmentProperties(auto.id, variation="fire/b.wav", gain_db=-4.0)
    roundtrip(doc, cmd, lambda: doc.find(auto.id) == auto.with_(
        variation="fire/b.wav", gain_db=-4.0, origin="manual"))
    back = SetSegmentProperties(auto.id, variation=None)
    back.do(doc)
    assert doc.find(auto.id).variation is None  # type: ignore[union-attr]
    assert doc.find(auto.id).gain_db == -4.0  # type: ignore[union-attr]


def test_set_params_undo_and_merge() -> None:
    doc = make_doc(k=1.0, threshold=0.5)
    before = key(doc.segments)
    cmd = SetParams(threshold=0.3)
    cmd.do(doc)
    assert doc.params.threshold == 0.3 and key(doc.segments) != before
    cmd.undo(doc)
    assert doc.params.threshold == 0.5 and key(doc.segments) == before
    drag = SetParams(merge=True, k=1.5)
    drag.do(doc)
    nxt = SetParams(merge=True, k=2.0)
    nxt.do(doc)
    assert drag.merge_with(nxt)
    assert not drag.merge_with(SetParams(merge=True, threshold=0.2))
    assert not SetParams(k=1.0).merge_with(SetParams(k=2.0))
    drag.undo(doc)  # the merged command goes back to before the first
    assert doc.params.k == 1.0 and key(doc.segments) == before
    with pytest.raises(TypeError):
        SetParams(kk=1.0)


def test_class_attributes_and_variations() -> None:
    doc = Document()
    attrs = doc.class_attributes("river").with_(enabled=False, gain_db=-12.0)
    cmd = SetClassAttributes("river", attrs)
    cmd.do(doc)
    assert doc.class_attributes("river") == attrs
    cmd.undo(doc)
    assert "river" not in doc.project.class_attributes
    var = SetClassVariations("river", ["river/a.wav", "/abs/b.flac"])
    var.do(doc)
    assert doc.class_variations("river") == ["river/a.wav", "/abs/b.flac"]
    var.undo(doc)
    assert doc.class_variations("river") is None


def test_composite_undoes_in_reverse() -> None:
    doc = Document(Project())
    a = Segment("fire", 1.0, 2.0, origin="manual")
    comp = CompositeCommand("Paste effects", [AddSegment(a), EditSegment(a.id, start=3.0, end=4.0),
                                               SplitSegment(a.id, 3.5)])
    roundtrip(doc, comp, lambda: key(doc.segments) == [("fire", 3.0, 3.5, "manual"),
                                                       ("fire", 3.5, 4.0, "manual")])
    comp.undo(doc)
    assert doc.segments == []
