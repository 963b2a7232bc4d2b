"""Issue 15 problem 9 (timeline part) and the markers / in-out range the timeline draws.

- every class quiet with View > Hide Quiet Classes on: a centred hint, not an empty panel;
- an empty project's time axis read "0:00.0 0:00.0" (negative ticks clamped to zero);
- the hover readout stayed from the previous project;
- markers (from the project, through the DocumentModel) and the in/out range are drawn.
"""

from __future__ import annotations

import pytest

from sfxstudio.core.commands import AddMarker, DeleteMarker, SetParams
from sfxstudio.core.project import Project
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.gui.timeline import ProbabilityTimeline, TimeAxis
from tests.gui.test_lanes import make_model


def _timeline(qtbot, model: DocumentModel) -> ProbabilityTimeline:  # type: ignore[no-untyped-def]
    widget = ProbabilityTimeline(model)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_all_quiet_with_hide_quiet_shows_a_centred_hint(qtbot) -> None:  # type: ignore[no-untyped-def]
    timeline = _timeline(qtbot, make_model(500, threshold=0.5))
    timeline.set_hide_quiet(True)
    assert timeline.shown_classes() and not timeline.hint.isVisible()
    n = len(timeline._curves)
    timeline.model.push(SetParams(threshold=1.0))  # nothing reaches 1.0: every class is quiet
    assert timeline.shown_classes() == []
    assert timeline.hint.isVisible()
    assert timeline.hint.text() == f"All {n} classes are quiet \u2014 View > Hide Quiet Classes is on"
    # Centred over the plot.
    plot, hint = timeline.plot.geometry(), timeline.hint.geometry()
    assert abs(hint.center().x() - plot.center().x()) <= 2
    assert abs(hint.center().y() - plot.center().y()) <= 2
    timeline.set_hide_quiet(False)  # the rows come back, the hint goes
    assert len(timeline.shown_classes()) == n and not timeline.hint.isVisible()


def test_empty_project_axis_has_no_duplicate_or_negative_labels(qtbot) -> None:  # type: ignore[no-untyped-def]
    timeline = _timeline(qtbot, DocumentModel(make_document(Project())))
    axis = timeline.plot.getAxis("bottom")
    (x0, x1), _ = timeline.view_box().viewRange()
    assert x0 >= -1e-9 and x1 > x0 + 1.0  # a sensible empty range starting at 0
    labels = [s for _spacing, values in axis.tickValues(x0, x1, axis.width() or 800)
              for s in axis.tickStrings(values, 1.0, _spacing)]
    assert labels and len(labels) == len(set(labels)), labels
    assert not any(s.startswith("-") for s in labels)
    # Ticks left of zero are dropped, not all shown as "0:00.0".
    values = [v for _s, vs in axis.tickValues(-1.0, 0.5, 800) for v in vs]
    assert values and min(values) >= 0.0


def test_tick_labels_keep_enough_decimals_to_differ() -> None:
    axis = TimeAxis("bottom")
    assert axis.tickStrings([0.0, 0.05, 0.1], 1.0, 0.05) == ["0:00.00", "0:00.05", "0:00.10"]
    assert axis.tickStrings([59.96], 1.0, 0.5) == ["1:00.0"]
    assert axis.tickStrings([3600.0, 3660.0], 1.0, 60.0) == ["1:00:00", "1:01:00"]


def test_hover_readout_is_cleared_by_a_new_project(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = make_model(500)
    timeline = _timeline(qtbot, model)
    timeline.readout.setText(timeline.readout_at(3.0, 0.5))
    assert timeline.readout.text().strip()
    model.set_document(make_document(Project()))
    assert timeline.readout.text().strip() == ""


def test_markers_and_in_out_range_are_drawn_and_follow_changes(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = make_model(500)
    timeline = _timeline(qtbot, model)
    assert timeline.marker_times() == []
    model.push(AddMarker(4.0, "door"))
    model.push(AddMarker(2.0))
    assert timeline.marker_times() == pytest.approx([2.0, 4.0])
    xs = list(timeline._marker_lines.xData)
    assert xs == pytest.approx([2.0, 2.0, 4.0, 4.0])  # one vertical line per marker
    assert timeline._marker_lines.isVisible()
    model.push(DeleteMarker(2.0))
    assert timeline.marker_times() == pytest.approx([4.0])
    model.undo_stack.undo()
    assert timeline.marker_times() == pytest.approx([2.0, 4.0])

    assert not timeline.in_out_region.isVisible()
    timeline.set_in_out(1.0, 3.0)
    assert timeline.in_out_region.isVisible()
    assert timeline.in_out_region.getRegion() == pytest.approx((1.0, 3.0))
    timeline.set_in_out(5.0, None)  # only an in point: shaded to the end of the video
    assert timeline.in_out_region.getRegion() == pytest.approx((5.0, model.document.duration))
    timeline.set_in_out(None, None)
    assert not timeline.in_out_region.isVisible()

    model.set_document(make_document(Project()))  # another project: its (no) markers
    assert timeline.marker_times() == []
    assert not timeline._marker_lines.isVisible()
