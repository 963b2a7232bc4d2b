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


def roundtrip(doc: Document, cmd, check_after) -> None:  # type: ignore[no-untyped-def]
    """do -> check, undo -> state as before, redo -> check again."""
    before = key(doc.segments)
    cmd.do(doc)
    check_after()
    after = key(doc.segments)
    cmd.undo(doc)
    assert key(doc.segments) == before
    cmd.do(doc)
    assert key(doc.segments) == after
    check_after()


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


def test_delete_manual_over_autos_keeps_them_away() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc)
    draw = Segment("cheer", auto.start, auto.end, origin="manual")  # overwrites the auto
    AddSegment(draw).do(doc)
    DeleteSegment(draw.id).do(doc)
    assert not any(s.origin == "auto" and s.overlaps(auto.start, auto.end) for s in doc.segments)


def test_edited_auto_becomes_manual_and_survives_params() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc, 1.0)
    new_end = auto.end - 0.4
    cmd = EditSegment(auto.id, end=new_end)

    def check() -> None:
        edited = doc.find(auto.id)
        assert edited is not None and edited.origin == "manual"
        assert (edited.start, edited.end) == (auto.start, new_end)
        # the trimmed-off tail does not reappear as an auto: it is muted
        assert [(s.start, s.end) for s in doc.segments if s.origin == "mute"] == [(new_end, auto.end)]
        assert not any(s.origin == "auto" and s.overlaps(auto.start, auto.end) for s in doc.segments)

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


def test_relabel_auto_in_place_needs_no_mute() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc)
    EditSegment(auto.id, class_name="helicopter").do(doc)
    assert doc.find(auto.id) == auto.with_(class_name="helicopter", origin="manual")
    assert not [s for s in doc.segments if s.origin == "mute"]


def test_split() -> None:
    doc = make_doc(k=0.5)
    auto = first_auto(doc, 1.0)
    t = snap((auto.start + auto.end) / 2, doc.frame_duration)
    cmd = SplitSegment(auto.id, t)

    def check() -> None:
        halves = [s for s in doc.segments if s.overlaps(auto.start, auto.end)]
        assert [(s.start, s.end, s.origin, s.class_name) for s in halves] == [
            (auto.start, t, "manual", auto.class_name), (t, auto.end, "manual", auto.class_name)]
        assert halves[0].id == auto.id

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
