"""k and threshold: slider plus spin box, live re-segmentation, one undo step per gesture."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from sfxstudio.core.commands import AddSegment
from sfxstudio.core.segments import Segment
from sfxstudio.gui.params_bar import ParamsBar
from tests.gui.test_lanes import make_model


@pytest.fixture
def bar(qtbot):
    model = make_model(k=0.5, threshold=0.5)
    w = ParamsBar(model)
    qtbot.addWidget(w)
    w.show()
    return w


def test_spin_box_changes_k_and_resegments_keeping_manual_effects(bar):
    model = bar.model
    model.push(AddSegment(Segment("fire", 1.0, 2.0, origin="manual")))
    autos_before = [s for s in model.document.segments if s.origin == "auto"]
    bar.k.spin.setValue(3.0)
    assert model.document.params.k == 3.0
    assert bar.k.slider.value() == 30  # slider follows the spin box
    autos_after = [s for s in model.document.segments if s.origin == "auto"]
    assert autos_after != autos_before  # wider smoothing, other segments
    assert [(s.class_name, s.start, s.end) for s in model.document.segments if s.origin == "manual"] == [
        ("fire", 1.0, 2.0)]


def test_a_slider_drag_is_one_undo_step(bar, qtbot):
    model = bar.model
    steps = model.undo_stack.count()
    slider = bar.threshold.slider
    slider.setSliderDown(True)
    for v in (55, 60, 70, 80):
        slider.setValue(v)
    slider.setSliderDown(False)
    bar.end_gesture()  # sliderReleased does this on a real release
    assert model.document.params.threshold == pytest.approx(0.8)
    assert bar.threshold.spin.value() == pytest.approx(0.8)
    assert model.undo_stack.count() == steps + 1
    model.undo_stack.undo()
    assert model.document.params.threshold == pytest.approx(0.5)
    assert bar.threshold.slider.value() == 50  # controls follow undo
    # a second drag is a second step
    slider.setSliderDown(True)
    slider.setValue(30)
    slider.setSliderDown(False)
    bar.end_gesture()
    assert model.undo_stack.count() == steps + 1  # the redo branch was replaced
    assert model.document.params.threshold == pytest.approx(0.3)


def test_typing_a_value_in_the_spin_box(bar, qtbot):
    spin = bar.k.spin
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin.lineEdit(), "2.5")
    QTest.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert bar.model.document.params.k == pytest.approx(2.5)


def test_two_drags_are_two_steps(bar):
    model = bar.model
    steps = model.undo_stack.count()
    slider = bar.threshold.slider
    for target in (70, 40):
        slider.setSliderDown(True)
        slider.setValue(target - 5)
        slider.setValue(target)
        slider.setSliderDown(False)
        bar.end_gesture()
    assert model.undo_stack.count() == steps + 2
    model.undo_stack.undo()
    assert model.document.params.threshold == pytest.approx(0.7)



def overlap_model():
    """30 s at 10 fps: `otherwise`, then 10-20 s fire and cars both on screen (0.45 each)."""
    import numpy as np

    from sfxstudio.core.classes import OTHERWISE
    from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
    from sfxstudio.gui.document_model import DocumentModel, make_document

    names = ["fire", "cars", OTHERWISE]
    n, fps = 300, 10.0
    probs = np.tile(np.array([0.05, 0.05, 0.9], np.float32), (n, 1))
    probs[100:200] = [0.46, 0.44, 0.10]
    probs[150] = [0.44, 0.46, 0.10]  # one frame where cars lead: a single-mode blip
    cache = AnalysisCache(times=np.arange(n) / fps, probs=probs, embeddings=np.zeros((n, 0), np.float16),
                          class_names=names, frame_duration=1 / fps, duration=n / fps, model="t")
    doc = make_document(Project(params=AnalysisParams(k=0.5, threshold=0.4)))
    doc.set_analysis(cache)
    doc.mark_saved()
    return DocumentModel(doc)


def _autos(model):
    return sorted((s.class_name, round(s.start, 6), round(s.end, 6))
                  for s in model.document.segments if s.origin == "auto")


def _overlaps(segments) -> bool:
    autos = sorted((s for s in segments if s.origin == "auto"), key=lambda s: s.start)
    return any(b.start < a.end and b.class_name != a.class_name
               for i, a in enumerate(autos) for b in autos[i + 1:])


@pytest.fixture
def overlap_bar(qtbot):
    w = ParamsBar(overlap_model())
    qtbot.addWidget(w)
    w.show()
    return w


def test_layered_switch_is_one_undo_step_and_shows_its_controls(overlap_bar):
    bar = overlap_bar
    model = bar.model
    _label, box = bar.mode
    assert box.currentData() == "single" and bar.smoothing[1].isHidden() and bar.stickiness.spin.isHidden()
    single = _autos(model)
    assert single == [("fire", 10.0, 20.0)]  # the paper's mode: one effect at a time
    steps = model.undo_stack.count()
    box.setCurrentIndex(box.findData("layered"))
    assert model.document.params.mode == "layered"
    assert model.undo_stack.count() == steps + 1
    assert "layered" in model.undo_stack.undoText()
    assert not bar.smoothing[1].isHidden()
    assert bar.stickiness.spin.isHidden()  # the majority vote has no stickiness
    assert _autos(model) == [("cars", 10.0, 20.0), ("fire", 10.0, 20.0)]  # both, overlapping
    assert _overlaps(model.document.segments)
    model.undo_stack.undo()
    assert model.document.params.mode == "single" and box.currentData() == "single"
    assert _autos(model) == single
    assert bar.smoothing[1].isHidden()


def test_temporal_model_and_stickiness_resegment(bar):
    model = bar.model
    bar.mode[1].setCurrentIndex(bar.mode[1].findData("layered"))
    bar.smoothing[1].setCurrentIndex(bar.smoothing[1].findData("hmm"))
    assert model.document.params.smoothing == "hmm"
    assert not bar.stickiness.spin.isHidden()
    loose = len(model.document.segments)
    bar.stickiness.spin.setValue(0.95)
    assert model.document.params.stickiness == 0.95
    assert len(model.document.segments) < loose  # stickier: short blips and gaps smoothed away
    bar.end_gesture()
    model.undo_stack.undo()
    assert model.document.params.stickiness == 0.5 and bar.stickiness.spin.value() == 0.5
