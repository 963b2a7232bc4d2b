"""Effect lanes: select, move, trim, delete, split, draw, relabel; each one undo step."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from sfxstudio.core.commands import AddSegment, EditSegment, SetParams
from sfxstudio.core.project import AnalysisParams, Project
from sfxstudio.core.segments import Segment
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.gui.lanes import EffectLanes
from tests.core.test_document import key, synthetic_cache


def make_model(frames: int = 750, fps: float = 25.0, seed: int = 0, **params: float) -> DocumentModel:
    """A DocumentModel over a synthetic analysis (no model needed)."""
    doc = make_document(Project(params=AnalysisParams(**params)))
    doc.set_analysis(synthetic_cache(frames, fps=fps, seed=seed))
    doc.mark_saved()
    return DocumentModel(doc)


@pytest.fixture
def lanes(qtbot) -> EffectLanes:  # type: ignore[no-untyped-def]
    model = make_model(k=0.5)
    widget = EffectLanes(model)
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def long_auto(lanes: EffectLanes, min_len: float = 1.0) -> Segment:
    return next(s for s in lanes.model.document.segments if s.origin == "auto" and s.duration >= min_len)


def to_widget(lanes: EffectLanes, x: float, y: float) -> QPoint:
    scene = lanes.view_box().mapViewToScene(QPointF(x, y))
    return lanes.plot.mapFromScene(scene)


def test_lanes_show_classes_with_effects(lanes: EffectLanes) -> None:
    doc = lanes.model.document
    expected = {s.class_name for s in doc.segments}
    assert set(lanes.lanes()) == expected
    lanes.add_lane("helicopter")
    assert "helicopter" in lanes.lanes()
    lanes.set_show_all_lanes(True)
    assert len(lanes.lanes()) == 20  # every effect class, not `otherwise`


def test_real_mouse_drag_moves_block_as_one_undo_step(lanes: EffectLanes, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc, stack = lanes.model.document, lanes.model.undo_stack
    lanes.plot.getViewBox().setXRange(0, 30, padding=0)
    seg = long_auto(lanes)
    y = lanes.lane_y(seg.class_name)
    mid = (seg.start + seg.end) / 2
    vp = lanes.plot.viewport()
    p0 = to_widget(lanes, mid, y)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p0)
    for dx in (0.3, 0.6, 1.0, 1.5, 2.0):
        QTest.mouseMove(vp, to_widget(lanes, mid + dx, y))
        qtbot.wait(5)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       to_widget(lanes, mid + 2.0, y))
    moved = doc.find(seg.id)
    assert moved is not None and moved.origin == "manual"
    assert moved.start == pytest.approx(seg.start + 2.0, abs=0.05)  # snapped to 1/25 s frames
    assert moved.duration == pytest.approx(seg.duration)
    assert round(moved.start / 0.04, 6) == round(moved.start / 0.04)
    assert stack.count() == 1 and lanes.selected_id() == seg.id
    stack.undo()
    assert doc.find(seg.id) == seg
    stack.redo()
    assert doc.find(seg.id) == moved


def test_click_selects_and_click_empty_seeks(lanes: EffectLanes, qtbot) -> None:  # type: ignore[no-untyped-def]
    lanes.plot.getViewBox().setXRange(0, 30, padding=0)
    seg = long_auto(lanes)
    vp = lanes.plot.viewport()
    with qtbot.waitSignal(lanes.selectionChanged) as sel:
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=to_widget(
            lanes, (seg.start + seg.end) / 2, lanes.lane_y(seg.class_name)))
    assert sel.args == [seg.id]
    free_lane = lanes.lanes()[0]
    busy = [(s.start, s.end) for s in lanes.model.document.segments if s.class_name == free_lane]
    x = next(t + 0.25 for t in range(30) if not any(a - 0.3 <= t + 0.25 <= b + 0.3 for a, b in busy))
    with qtbot.waitSignal(lanes.seekRequested) as seek:
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=to_widget(lanes, x, lanes.lane_y(free_lane)))
    assert seek.args[0] == pytest.approx(x, abs=0.05)
    assert lanes.selected_id() is None


def test_trim_edges_and_undo(lanes: EffectLanes) -> None:
    doc, stack = lanes.model.document, lanes.model.undo_stack
    lanes.plot.getViewBox().setXRange(0, 30, padding=0)
    seg = long_auto(lanes)
    y = lanes.lane_y(seg.class_name)
    c = lanes.canvas
    c.drag = c.start_drag(seg.start, y)
    assert c.drag is not None and c.drag.mode == "start"
    c.update_drag(seg.start + 0.51, y)
    c.finish_drag()
    trimmed = doc.find(seg.id)
    assert trimmed is not None and trimmed.start == pytest.approx(seg.start + 0.52)
    c.drag = c.start_drag(seg.end, y)
    assert c.drag is not None and c.drag.mode == "end"
    c.update_drag(seg.end - 0.2, y)
    c.finish_drag()
    assert doc.find(seg.id).end == pytest.approx(seg.end - 0.2)  # type: ignore[union-attr]
    assert stack.count() == 2
    stack.undo()
    stack.undo()
    assert doc.find(seg.id) == seg and not any(s.origin == "mute" for s in doc.segments)


def test_draw_new_effect_on_empty_lane(lanes: EffectLanes) -> None:
    lanes.add_lane("helicopter")
    y = lanes.lane_y("helicopter")
    c = lanes.canvas
    c.drag = c.start_drag(3.01, y)
    assert c.drag is not None and c.drag.mode == "draw"
    c.update_drag(5.0, y)
    c.finish_drag()
    new = [s for s in lanes.model.document.segments if s.class_name == "helicopter"]
    assert [(s.start, s.end, s.origin) for s in new] == [(pytest.approx(3.0), pytest.approx(5.0), "manual")]
    assert lanes.selected_id() == new[0].id
    assert lanes.model.undo_stack.text(0) == "Add helicopter"


def test_drag_to_another_lane_changes_class(lanes: EffectLanes) -> None:
    lanes.add_lane("helicopter")
    seg = long_auto(lanes)
    c = lanes.canvas
    mid = (seg.start + seg.end) / 2
    c.drag = c.start_drag(mid, lanes.lane_y(seg.class_name))
    c.update_drag(mid, lanes.lane_y("helicopter"))
    c.finish_drag()
    moved = lanes.model.document.find(seg.id)
    assert moved is not None and moved.class_name == "helicopter" and moved.start == seg.start


def test_delete_key_split_and_context_menu(lanes: EffectLanes, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc, stack = lanes.model.document, lanes.model.undo_stack
    seg = long_auto(lanes)
    lanes.select(seg.id)
    lanes.set_playhead(seg.start + 0.48)
    lanes.split_at_playhead()
    assert [(s.start, s.end) for s in doc.segments
            if s.overlaps(seg.start, seg.end) and s.origin != "mute"] == [
        (seg.start, pytest.approx(seg.start + 0.48)), (pytest.approx(seg.start + 0.48), seg.end)]
    lanes.setFocus()
    QTest.keyClick(lanes, Qt.Key.Key_Delete)
    assert lanes.selected_id() is None
    # the split took the automatic effect over (a mute of its class over its range), so the
    # deleted half stays silent: nothing audible of its class there any more
    assert doc.find(seg.id) is None
    assert [s.origin for s in doc.segments if s.class_name == seg.class_name
            and s.overlaps(seg.start, seg.start + 0.48)] == ["mute"]
    stack.undo()
    stack.undo()
    assert doc.find(seg.id) == seg

    menu = lanes.build_context_menu(seg.id, seg.class_name)
    change = next(a for a in menu.actions() if a.text() == "Change class").menu()
    next(a for a in change.actions() if a.text() == "Helicopter").trigger()
    assert doc.find(seg.id).class_name == "helicopter"  # type: ignore[union-attr]
    assert "helicopter" in lanes.lanes()
    menu = lanes.build_context_menu(seg.id, "helicopter")
    next(a for a in menu.actions() if a.text() == "Delete").trigger()
    assert doc.find(seg.id) is None
    stack.undo()
    stack.undo()
    assert doc.find(seg.id) == seg


def test_split_at_playhead_never_leaves_a_sliver(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The playhead snaps (1/25 s grid, no analysis) to 35.36 s, two thirds of a frame into an
    effect that starts at 35.333333 s: splitting the selected effect there is refused with the
    reason in editRefused (the status bar); without a selection it is left whole while the
    other effect under the playhead is split, as one undo step."""
    doc = make_document()
    edge = Segment("lightning", 35.333333, 39.333333, origin="manual")
    other = Segment("fire", 30.0, 40.0, origin="manual")
    doc.replace_segments(add=[edge, other])
    model = DocumentModel(doc)
    widget = EffectLanes(model)
    qtbot.addWidget(widget)
    refused: list[str] = []
    model.editRefused.connect(refused.append)
    widget.set_playhead(35.36)
    before = key(doc.segments)
    widget.select(edge.id)
    widget.split_at_playhead()
    assert len(refused) == 1 and "less than one frame" in refused[0]
    assert key(doc.segments) == before and model.undo_stack.count() == 0
    menu = widget.build_context_menu(edge.id, "lightning")
    assert not next(a for a in menu.actions() if a.text() == "Split at playhead").isEnabled()
    widget.select(None)
    widget.split_at_playhead()
    assert key(doc.segments) == [("fire", 30.0, 35.36, "manual"),
                                 ("lightning", 35.333333, 39.333333, "manual"),
                                 ("fire", 35.36, 40.0, "manual")]
    assert model.undo_stack.count() == 1 and len(refused) == 1


def test_two_thousand_effects_stay_responsive(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = make_document()
    segs = [Segment(["fire", "cheer", "dog_barking", "river"][i % 4], i * 1.0, i * 1.0 + 0.8,
                    origin="manual" if i % 3 else "mute") for i in range(2000)]
    doc.replace_segments(add=segs)
    model = DocumentModel(doc)
    widget = EffectLanes(model)
    qtbot.addWidget(widget)
    widget.resize(1200, 300)
    widget.show()
    widget.view_box().setXRange(0, 2000, padding=0)
    widget.grab()
    t0 = time.perf_counter()
    model.push(EditSegment(segs[1000].id, start=1000.5, end=1001.3))
    widget.grab()
    elapsed = time.perf_counter() - t0
    assert doc.find(segs[1000].id).start == pytest.approx(1000.5)  # type: ignore[union-attr]
    assert elapsed < 1.0, elapsed  # measured ~20-40 ms; loose for shared CI cores


def test_undo_restores_after_param_change(lanes: EffectLanes) -> None:
    model = lanes.model
    seg = long_auto(lanes)
    lanes.select(seg.id)
    lanes.delete_selected()
    before = key(model.document.segments)
    model.push(SetParams(threshold=0.2))
    assert not any(s.origin == "auto" and s.class_name == seg.class_name and s.overlaps(seg.start, seg.end)
                   for s in model.document.segments)
    model.undo_stack.undo()
    assert key(model.document.segments) == before
    model.undo_stack.undo()
    assert model.document.find(seg.id) == seg
    assert not model.document.dirty  # back at the saved state


def test_lanes_follow_the_timeline_time_range(qtbot):
    from sfxstudio.gui.timeline import ProbabilityTimeline

    model = make_model()
    timeline = ProbabilityTimeline(model)
    lanes = EffectLanes(model)
    for w in (timeline, lanes):
        qtbot.addWidget(w)
    lanes.link_x(timeline.view_box())
    timeline.view_box().setXRange(3.0, 7.0, padding=0.0)
    assert lanes.view_box().viewRange()[0] == pytest.approx([3.0, 7.0])
    lanes.view_box().setXRange(1.0, 2.0, padding=0.0)
    assert timeline.view_box().viewRange()[0] == pytest.approx([1.0, 2.0])
    timeline.fit()
    assert lanes.view_box().viewRange()[0] == pytest.approx(timeline.view_box().viewRange()[0])


def test_lanes_stay_linked_when_a_longer_project_is_opened(qtbot):
    """The window links the views while empty (10 s); opening a 60 s project must show 0-60 in both."""
    from sfxstudio.gui.timeline import ProbabilityTimeline

    model = DocumentModel(make_document(Project()))
    timeline = ProbabilityTimeline(model)  # created first: its slots run first, as in the window
    lanes = EffectLanes(model)
    for w in (timeline, lanes):
        qtbot.addWidget(w)
    lanes.link_x(timeline.view_box())
    longer = make_model(frames=1500, fps=25.0)  # 60 s
    model.set_document(longer.document)
    assert timeline.view_box().viewRange()[0] == pytest.approx([0.0, 60.0])
    assert lanes.view_box().viewRange()[0] == pytest.approx([0.0, 60.0])


def test_linked_lanes_follow_a_streaming_timeline_past_the_old_duration(qtbot):
    """During an analysis the timeline widens as frames arrive; the lanes must not be clamped."""
    import numpy as np

    from sfxstudio.gui.timeline import ProbabilityTimeline

    model = DocumentModel(make_document(Project()))  # nothing loaded yet (10 s default)
    timeline = ProbabilityTimeline(model)
    lanes = EffectLanes(model)
    for w in (timeline, lanes):
        qtbot.addWidget(w)
    lanes.link_x(timeline.view_box())
    names = ["fire", "otherwise"]
    times = np.arange(0, 30, 0.1)
    probs = np.tile([0.2, 0.8], (len(times), 1)).astype(np.float32)
    timeline.append_chunk(times, probs, names)
    timeline.flush()
    x0, x1 = timeline.view_box().viewRange()[0]
    assert x1 > 29.0
    assert lanes.view_box().viewRange()[0] == pytest.approx([x0, x1])


def test_blocks_show_their_sound_name_when_wide_enough(qtbot) -> None:  # type: ignore[no-untyped-def]
    from sfxstudio.gui.lanes import sound_name

    model = make_model(k=0.5)
    seg = Segment("fire", 2.0, 3.2, origin="manual", variation="fire/02_campfire_crackle.ogg")
    model.push(AddSegment(seg))
    widget = EffectLanes(model)
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.show()
    qtbot.waitExposed(widget)
    canvas = widget.canvas
    widget.plot.getViewBox().setXRange(0, 4, padding=0)  # 1.2 s of 4 on ~900 px: wide
    widget.grab()
    drawn = dict(canvas.names_drawn)
    assert drawn.get(seg.id) == "02_campfire_crackle"
    widget.plot.getViewBox().setXRange(0, 30, padding=0)  # 1.2 s of 30: too narrow for a name
    widget.grab()
    assert seg.id not in dict(canvas.names_drawn)
    assert sound_name(Segment("fire", 0.0, 1.0, origin="mute", variation="fire/a.ogg")) == ""
    assert sound_name(Segment("fire", 0.0, 1.0, variation=None)) == ""
