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
