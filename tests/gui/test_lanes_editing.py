"""Editing in the lanes as in an NLE (issue 15): split where the timecode says after a click,
snapping, multi-select, copy/paste/duplicate/Alt-drag, nudge, delete and move of a selection
(each one undo step), block tooltips, labels and waveforms."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from sfxstudio.core.segments import Segment
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.gui.lanes import EffectLanes
from sfxstudio.gui.timecode import format_timecode, parse_timecode
from tests.gui.test_lanes import make_model

NO = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton
FRAME = 0.04  # 25 fps: the synthetic analysis and the grid without analysis


def build(qtbot, model: DocumentModel) -> EffectLanes:
    widget = EffectLanes(model)
    qtbot.addWidget(widget)
    widget.view_box().setLimits(xMin=None, xMax=None)  # as in the window, where the timeline owns them
    widget.resize(1000, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def manual(qtbot, *segments: Segment) -> EffectLanes:
    """Lanes over a document holding only these manual effects (no analysis, no autos)."""
    doc = make_document()
    doc.replace_segments(add=list(segments))
    return build(qtbot, DocumentModel(doc))


def at(lanes: EffectLanes, x: float, y: float) -> QPoint:
    return lanes.plot.mapFromScene(lanes.view_box().mapViewToScene(QPointF(x, y)))


def px(lanes: EffectLanes) -> float:
    """Seconds per screen pixel of the lanes' view."""
    (x0, x1), _ = lanes.view_box().viewRange()
    return float((x1 - x0) / lanes.view_box().width())


def mouse(lanes: EffectLanes, kind: QEvent.Type, p: QPoint, modifier: Qt.KeyboardModifier,
          buttons: Qt.MouseButton) -> None:
    """A mouse event with the modifier held (QTest.mouseMove cannot say one is held)."""
    vp = lanes.plot.viewport()
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else LEFT
    QApplication.sendEvent(vp, QMouseEvent(kind, QPointF(p), QPointF(vp.mapToGlobal(p)), button,
                                           buttons, modifier))


def mouse_drag(lanes: EffectLanes, qtbot, points: list[tuple[float, float]],
               modifier: Qt.KeyboardModifier = NO) -> None:
    mouse(lanes, QEvent.Type.MouseButtonPress, at(lanes, *points[0]), modifier, LEFT)
    for p in points[1:]:
        qtbot.wait(15)  # pyqtgraph drops moves closer than 10 ms
        mouse(lanes, QEvent.Type.MouseMove, at(lanes, *p), modifier, LEFT)
    qtbot.wait(15)
    mouse(lanes, QEvent.Type.MouseButtonRelease, at(lanes, *points[-1]), modifier,
          Qt.MouseButton.NoButton)


def on_grid(t: float) -> bool:
    return abs(round(t / FRAME) * FRAME - t) < 1e-9


# -- problem 8: split after a click; snapping -------------------------------------------------

def test_split_after_a_click_cuts_at_the_frame_the_timecode_shows(qtbot) -> None:
    """Click at 3/4 of a frame (in the gap above a block: a seek), select the block, split: the
    cut is on the frame the transport's timecode shows, not the next one."""
    seg = Segment("fire", 2.0, 6.0, origin="manual")
    lanes = manual(qtbot, seg)
    lanes.view_box().setXRange(3.0, 4.0, padding=0)  # ~1 ms per pixel: the click lands mid-frame
    x = 3.0 + 10 * FRAME + 0.75 * FRAME
    with qtbot.waitSignal(lanes.seekRequested) as seek:
        QTest.mouseClick(lanes.plot.viewport(), LEFT, NO, at(lanes, x, lanes.lane_y("fire") - 0.45))
    t = seek.args[0]
    shown = parse_timecode(format_timecode(t, 1 / FRAME), 1 / FRAME)  # what the transport says
    lanes.select(seg.id)
    lanes.split_at_playhead()
    left = lanes.model.document.find(seg.id)
    assert left is not None
    assert left.end == pytest.approx(shown, abs=1e-9)
    assert lanes.playhead_time() == pytest.approx(shown, abs=1e-9)  # the line is drawn there too


def test_split_with_the_playhead_mid_frame_from_elsewhere_cuts_at_the_shown_frame(qtbot) -> None:
    """The playhead can come mid-frame from outside the lanes (a click in the probability
    timeline, a pause during playback): S still cuts at the frame the timecode shows."""
    seg = Segment("fire", 2.0, 6.0, origin="manual")
    lanes = manual(qtbot, seg)
    t = 3.0 + 10 * FRAME + 0.75 * FRAME
    lanes.set_playhead(t)
    shown = parse_timecode(format_timecode(t, 1 / FRAME), 1 / FRAME)
    assert shown < t - FRAME / 2  # nearest-frame rounding would cut one frame late
    lanes.select(seg.id)
    lanes.split_at_playhead()
    left = lanes.model.document.find(seg.id)
    assert left is not None and left.end == pytest.approx(shown, abs=1e-9)


def test_trim_dropped_3px_from_the_playhead_snaps_to_it(qtbot) -> None:
    seg = Segment("fire", 2.0, 4.0, origin="manual")
    lanes = manual(qtbot, seg)
    lanes.view_box().setXRange(0.0, 30.0, padding=0)
    assert 3 * px(lanes) > 1.5 * FRAME  # 3 px is more than a frame here: snapping must do it
    playhead = 5.0
    lanes.set_playhead(playhead)
    y = lanes.lane_y("fire")
    assert lanes.snapping  # on by default
    mouse_drag(lanes, qtbot, [(seg.end, y), (4.5, y), (playhead + 3 * px(lanes), y)])
    trimmed = lanes.model.document.find(seg.id)
    assert trimmed is not None and trimmed.start == seg.start
    assert trimmed.end == pytest.approx(playhead, abs=1e-9)
    lanes.model.undo_stack.undo()
    lanes.set_snapping(False)
    assert not lanes.snapping
    mouse_drag(lanes, qtbot, [(seg.end, y), (4.5, y), (playhead + 3 * px(lanes), y)])
    free = lanes.model.document.find(seg.id)
    assert free is not None and free.end > playhead + FRAME / 2 and on_grid(free.end)


def test_moves_snap_to_edges_of_other_lanes_and_to_extra_targets(qtbot) -> None:
    fire = Segment("fire", 2.0, 3.0, origin="manual")
    dog = Segment("dog_barking", 6.0, 7.0, origin="manual")
    lanes = manual(qtbot, fire, dog)
    lanes.view_box().setXRange(0.0, 20.0, padding=0)
    c = lanes.canvas
    y = lanes.lane_y("fire")
    # Fire's end dropped 5 px before the dog's start: it lands on it.
    grab = 2.5
    c.drag = c.start_drag(grab, y)
    c.update_drag(grab + (dog.start - fire.end) - 5 * px(lanes), y)
    c.finish_drag()
    moved = lanes.model.document.find(fire.id)
    assert moved is not None and moved.end == pytest.approx(dog.start, abs=1e-9)
    assert moved.duration == pytest.approx(fire.duration)
    # An extra target (a marker, not on a frame): the start lands on the frame nearest it.
    lanes.set_snap_targets([11.31])
    c.drag = c.start_drag(dog.start + 0.5, lanes.lane_y("dog_barking"))
    c.update_drag(dog.start + 0.5 + (11.31 - dog.start) + 4 * px(lanes), lanes.lane_y("dog_barking"))
    c.finish_drag()
    moved_dog = lanes.model.document.find(dog.id)
    assert moved_dog is not None and moved_dog.start == pytest.approx(11.32, abs=1e-9)
    assert on_grid(moved_dog.start) and on_grid(moved_dog.end)


# -- multi-select ------------------------------------------------------------------------------

@pytest.fixture
def three(qtbot) -> tuple[EffectLanes, list[Segment]]:
    segs = [Segment("fire", 1.0, 2.0, origin="manual", variation="fire/a.wav", gain_db=-3.0),
            Segment("dog_barking", 1.52, 2.52, origin="manual", variation="dog_barking/b.wav"),
            Segment("fire", 5.0, 6.0, origin="manual", variation="fire/c.wav")]
    lanes = manual(qtbot, *segs)
    lanes.view_box().setXRange(0.0, 10.0, padding=0)
    assert [lanes.model.document.find(s.id) for s in segs] == segs
    return lanes, segs


def test_shift_and_ctrl_click_toggle_and_escape_clears(three, qtbot) -> None:
    lanes, (a, b, c) = three
    vp = lanes.plot.viewport()

    def click(s: Segment, mod: Qt.KeyboardModifier = NO) -> None:
        QTest.mouseClick(vp, LEFT, mod, at(lanes, (s.start + s.end) / 2, lanes.lane_y(s.class_name)))

    click(a)
    with qtbot.waitSignal(lanes.selectionChanged) as sel:
        click(b, Qt.KeyboardModifier.ShiftModifier)
    assert sel.args == [b.id]  # the primary is the last one added
    click(c, Qt.KeyboardModifier.ControlModifier)
    assert lanes.selected_ids() == [a.id, b.id, c.id]
    click(b, Qt.KeyboardModifier.ControlModifier)  # toggles it off again
    assert lanes.selected_ids() == [a.id, c.id] and lanes.selected_id() == c.id
    click(b)  # a plain click selects it alone
    assert lanes.selected_ids() == [b.id]
    lanes.select_all()
    assert sorted(lanes.selected_ids()) == sorted(s.id for s in (a, b, c))
    lanes.setFocus()
    QTest.keyClick(lanes, Qt.Key.Key_Escape)
    assert lanes.selected_ids() == [] and lanes.selected_id() is None
    lanes.select_ids([c.id, 999_999, a.id])  # unknown ids are dropped
    assert lanes.selected_ids() == [c.id, a.id] and lanes.selected_id() == a.id


def test_ctrl_drag_on_empty_space_is_a_rubber_band_plain_drag_draws(three, qtbot) -> None:
    lanes, (a, b, _c) = three
    top, bottom = lanes.lane_y("fire"), lanes.lane_y("dog_barking")
    y0, y1 = min(top, bottom) - 0.45, max(top, bottom) + 0.3
    mouse_drag(lanes, qtbot, [(0.5, y0), (1.5, y1), (3.0, y1)], Qt.KeyboardModifier.ControlModifier)
    assert sorted(lanes.selected_ids()) == sorted([a.id, b.id])  # c (5-6 s) is outside
    assert lanes.model.undo_stack.count() == 0
    mouse_drag(lanes, qtbot, [(7.0, top), (8.0, top), (9.0, top)])  # no modifier: draws
    assert lanes.model.undo_stack.count() == 1 and lanes.model.undo_stack.text(0) == "Add fire"


def test_selected_blocks_are_drawn_highlighted(three, qtbot) -> None:
    lanes, (a, _b, c) = three
    point = at(lanes, (c.start + c.end) / 2, lanes.lane_y("fire") + 0.2)
    before = lanes.plot.grab().toImage().pixelColor(point).lightness()
    lanes.select_ids([a.id, c.id])
    after = lanes.plot.grab().toImage().pixelColor(point).lightness()
    assert after > before + 10


# -- copy, paste, duplicate, Alt-drag, delete, move, nudge: one undo step each -------------------

def test_copy_and_paste_at_the_playhead(three) -> None:
    lanes, (a, b, _c) = three
    doc, stack = lanes.model.document, lanes.model.undo_stack
    lanes.select_ids([b.id, a.id])
    assert lanes.copy_selection() == 2
    text = QGuiApplication.clipboard().text()
    assert [e["class"] for e in json.loads(text)["sfxstudio_effects"]] == ["fire", "dog_barking"]
    lanes.set_playhead(7.01)  # pastes on the frame under the playhead
    assert lanes.paste_at_playhead()
    assert stack.count() == 1 and stack.text(0) == "Paste 2 Effects"
    new = [doc.find(i) for i in lanes.selected_ids()]
    assert all(s is not None for s in new) and not {a.id, b.id} & set(lanes.selected_ids())
    got = sorted((s.class_name, s.start, s.end, s.origin, s.variation, s.gain_db) for s in new if s)
    assert got == [("dog_barking", pytest.approx(7.52), pytest.approx(8.52), "manual",
                    "dog_barking/b.wav", 0.0),
                   ("fire", pytest.approx(7.0), pytest.approx(8.0), "manual", "fire/a.wav", -3.0)]
    stack.undo()
    assert len(doc.segments) == 3


def test_duplicate_places_copies_after_the_selection(three) -> None:
    lanes, (a, b, _c) = three
    stack = lanes.model.undo_stack
    lanes.select_ids([a.id, b.id])
    assert lanes.duplicate_selection()
    assert stack.text(0) == "Duplicate 2 Effects"
    copies = sorted((s.class_name, s.start, s.end) for s in (lanes.model.document.find(i)
                                                             for i in lanes.selected_ids()) if s)
    assert copies == [("dog_barking", pytest.approx(3.04), pytest.approx(4.04)),
                      ("fire", pytest.approx(2.52), pytest.approx(3.52))]


def test_alt_drag_duplicates_instead_of_moving(three, qtbot) -> None:
    lanes, (_a, _b, c) = three
    doc, stack = lanes.model.document, lanes.model.undo_stack
    y = lanes.lane_y("fire")
    mouse_drag(lanes, qtbot, [(5.5, y), (6.0, y), (7.5, y)], Qt.KeyboardModifier.AltModifier)
    assert doc.find(c.id) == c  # the original stays
    assert stack.count() == 1 and stack.text(0) == "Duplicate Effect"
    copy = doc.find(lanes.selected_id())
    assert copy is not None and copy.id != c.id and copy.start == pytest.approx(7.0, abs=0.05)
    assert copy.duration == pytest.approx(c.duration) and on_grid(copy.start)


def test_dragging_a_selected_block_moves_the_whole_selection(three, qtbot) -> None:
    lanes, (a, b, c) = three
    doc, stack = lanes.model.document, lanes.model.undo_stack
    lanes.set_snapping(False)
    lanes.select_ids([a.id, b.id])
    y = lanes.lane_y("fire")
    mouse_drag(lanes, qtbot, [(1.5, y), (2.0, y), (2.5, y)])
    assert stack.count() == 1 and stack.text(0) == "Move 2 Effects"
    ma, mb = doc.find(a.id), doc.find(b.id)
    assert ma is not None and mb is not None and doc.find(c.id) == c
    assert ma.start - a.start == pytest.approx(mb.start - b.start) == pytest.approx(1.0, abs=0.05)
    assert ma.class_name == "fire" and mb.class_name == "dog_barking"
    assert lanes.selected_ids() == [b.id, a.id] and lanes.selected_id() == a.id  # the one grabbed
    stack.undo()
    assert doc.find(a.id) == a and doc.find(b.id) == b


def test_delete_selected_is_one_step(three) -> None:
    lanes, segs = three
    stack = lanes.model.undo_stack
    lanes.select_all()
    lanes.delete_selected()
    assert lanes.model.document.segments == [] and stack.text(0) == "Delete 3 Effects"
    assert lanes.selected_ids() == []
    stack.undo()
    assert sorted(s.id for s in lanes.model.document.segments) == sorted(s.id for s in segs)


def test_nudge_by_frames_and_refusals_say_why(three) -> None:
    lanes, (a, b, _c) = three
    stack = lanes.model.undo_stack
    refused: list[str] = []
    lanes.model.editRefused.connect(refused.append)
    lanes.select_ids([a.id, b.id])
    assert lanes.nudge_selection(2)
    assert stack.text(0) == "Nudge 2 Effects"
    na = lanes.model.document.find(a.id)
    assert na is not None and na.start == pytest.approx(a.start + 2 * FRAME) and on_grid(na.start)
    assert not lanes.nudge_selection(-100)  # 4 s earlier: before 0:00
    assert stack.count() == 1 and refused and "before 0:00" in refused[-1]
    lanes.select(None)
    assert not lanes.paste_at_playhead()  # nothing copied yet
    assert "copy" in refused[-1]


def test_a_paste_at_the_end_is_refused_with_the_reason(qtbot) -> None:
    model = make_model(k=0.5)  # 30 s of analysis
    lanes = build(qtbot, model)
    seg = next(s for s in model.document.segments if s.origin == "auto" and s.duration >= 0.5)
    refused: list[str] = []
    model.editRefused.connect(refused.append)
    lanes.select(seg.id)
    lanes.copy_selection()
    lanes.set_playhead(30.0)  # the end
    before = model.undo_stack.count()
    assert not lanes.paste_at_playhead()
    assert model.undo_stack.count() == before and refused and "end" in refused[-1]


# -- blocks: tooltip, label, waveform ----------------------------------------------------------

def test_hovering_a_block_shows_its_tooltip(three, qtbot) -> None:
    lanes, _segs = three
    vp = lanes.plot.viewport()
    QTest.mouseMove(vp, at(lanes, 8.0, lanes.lane_y("fire")))
    qtbot.wait(15)
    QTest.mouseMove(vp, at(lanes, 1.5, lanes.lane_y("fire")))
    qtbot.waitUntil(lambda: lanes.canvas.toolTip() != "")
    tip = lanes.canvas.toolTip()
    for part in ("Fire", "manual", "a.wav", "00:00:01:00", "00:00:02:00", "1.00 s", "25 frames"):
        assert part in tip, (part, tip)
    qtbot.wait(15)
    QTest.mouseMove(vp, at(lanes, 8.0, lanes.lane_y("fire")))
    qtbot.waitUntil(lambda: lanes.canvas.toolTip() == "")


def write_tone(path: Path, seconds: float = 0.5) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    data = (0.8 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def test_blocks_are_named_and_draw_their_sounds_waveform(qtbot, tmp_path: Path) -> None:
    from sfxstudio.media.library import SoundLibrary
    from sfxstudio.pipeline.document import make_document as pipeline_document

    write_tone(tmp_path / "fire" / "crackle_of_a_big_campfire.wav")
    library = SoundLibrary.load(tmp_path)
    doc = pipeline_document(library=library)  # the sound files come from the document's library
    seg = Segment("fire", 1.0, 2.0, origin="manual", variation="fire/crackle_of_a_big_campfire.wav")
    doc.replace_segments(add=[seg])
    lanes = build(qtbot, DocumentModel(doc))
    lanes.view_box().setXRange(0.0, 3.0, padding=0)
    lanes.plot.grab()
    lanes.waveforms.wait()
    qtbot.waitUntil(lambda: lanes.waveforms.peaks("fire/crackle_of_a_big_campfire.wav") is not None)
    lanes.plot.grab()
    assert lanes.canvas.waves_drawn == 1
    assert dict(lanes.canvas.labels_drawn)[seg.id] == "Fire · crackle_of_a_big_campfire"
    assert dict(lanes.canvas.names_drawn)[seg.id] == "crackle_of_a_big_campfire"
    cached = len(lanes.waveforms._paths)
    lanes.plot.grab()  # a repaint at the same zoom reuses the path
    assert len(lanes.waveforms._paths) == cached == 1
    lanes.view_box().setXRange(0.0, 10.0, padding=0)  # 1 s of 10 on ~900 px: no room for "Fire · "
    lanes.plot.grab()
    label = dict(lanes.canvas.labels_drawn).get(seg.id, "")
    assert label.startswith("crackle") and "Fire" not in label
    lanes.view_box().setXRange(0.0, 200.0, padding=0)  # a few pixels: no name, no waveform
    lanes.plot.grab()
    assert lanes.canvas.waves_drawn == 0 and seg.id not in dict(lanes.canvas.labels_drawn)
