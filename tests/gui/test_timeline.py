"""Probability timeline: built from a cache, threshold drag = one undo step, streaming, seeking."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.gui.timeline import ROW_HEIGHT, ProbabilityTimeline
from tests.core.test_document import synthetic_cache
from tests.gui.test_lanes import make_model


@pytest.fixture
def timeline(qtbot) -> ProbabilityTimeline:  # type: ignore[no-untyped-def]
    widget = ProbabilityTimeline(make_model(1500, k=0.5, threshold=0.5))
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_builds_one_row_per_effect_class(timeline: ProbabilityTimeline) -> None:
    cache = timeline.model.document.analysis
    assert cache is not None
    rows = timeline.shown_classes()
    assert rows == [n for n in cache.class_names if n != OTHERWISE]
    curve = timeline._curves[rows[0]]
    x, y = curve.xData, curve.yData  # the data set (getData() is the downsampled view)
    assert len(x) == cache.frames
    np.testing.assert_allclose(y, cache.probs[:, 0])
    assert curve.opts["clipToView"] and curve.opts["autoDownsample"]
    assert curve.opts["downsampleMethod"] == "peak"
    (x0, x1), _ = timeline.view_box().viewRange()
    assert (x0, x1) == pytest.approx((0.0, cache.duration))


def test_threshold_line_drag_is_one_undo_step(timeline: ProbabilityTimeline) -> None:
    model = timeline.model
    line = timeline.threshold_line()
    row = len(timeline.shown_classes()) - 1  # the first class is the top row
    for tau in (0.45, 0.4, 0.33, 0.3):  # the drag moves the line many times...
        line.setValue(row + tau * ROW_HEIGHT)
    other = timeline.threshold_line(timeline.shown_classes()[-1])
    assert other.value() == pytest.approx(0.3 * ROW_HEIGHT)  # every row follows live
    assert model.undo_stack.count() == 0 and model.document.params.threshold == 0.5
    line.sigPositionChangeFinished.emit(line)  # ...and commits once, on release
    assert model.undo_stack.count() == 1
    assert model.document.params.threshold == pytest.approx(0.3)
    model.undo_stack.undo()
    assert model.document.params.threshold == 0.5
    assert line.value() == pytest.approx(row + 0.5 * ROW_HEIGHT)


def test_hide_quiet_folds_classes_below_threshold(timeline: ProbabilityTimeline) -> None:
    cache = timeline.model.document.analysis
    assert cache is not None
    timeline.set_hide_quiet(True)
    peaks = cache.probs.max(axis=0)
    expected = [n for i, n in enumerate(cache.class_names)
                if n != OTHERWISE and peaks[i] >= 0.5]
    assert timeline.shown_classes() == expected and 0 < len(expected) < 20
    tau = float(np.median([peaks[cache.class_names.index(n)] for n in expected]))
    timeline.model.document.set_params(threshold=tau)
    assert timeline.shown_classes() == [n for n in expected if peaks[cache.class_names.index(n)] >= tau]
    assert len(timeline.shown_classes()) < len(expected)
    timeline.set_hide_quiet(False)
    assert len(timeline.shown_classes()) == 20


def test_click_seeks_and_zoom_fit(timeline: ProbabilityTimeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    vb = timeline.view_box()
    scene = vb.mapViewToScene(QPointF(12.0, 0.5))
    pos = timeline.plot.mapFromScene(scene)
    with qtbot.waitSignal(timeline.seekRequested) as seek:
        QTest.mouseClick(timeline.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert seek.args[0] == pytest.approx(12.0, abs=0.2)
    assert timeline.playhead.value() == pytest.approx(seek.args[0])
    timeline.zoom(4.0)
    (x0, x1), _ = vb.viewRange()
    assert x1 - x0 == pytest.approx(60.0 / 4.0) and x0 <= 12.0 <= x1  # zoomed around the playhead
    timeline.fit()
    assert vb.viewRange()[0] == pytest.approx([0.0, 60.0])


def test_hover_readout(timeline: ProbabilityTimeline) -> None:
    cache = timeline.model.document.analysis
    assert cache is not None
    top = len(timeline.shown_classes()) - 1 + 0.4
    text = timeline.readout_at(10.0, top)
    p = cache.probs[int(10.0 * 25), 0]
    assert text.startswith("00:00:10.000") and "Train passing" in text and f"{p:.2f}" in text


def test_streaming_append_is_cheap_and_throttled(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = DocumentModel(make_document())
    widget = ProbabilityTimeline(model)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    cache = synthetic_cache(30_000, fps=30.0)
    calls = 0
    first = None

    def count(*_a, **_k) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1

    t0 = time.perf_counter()
    for i in range(0, 30_000, 64):  # what analyze() streams: a batch at a time
        widget.append_chunk(cache.times[i:i + 64], cache.probs[i:i + 64], cache.class_names)
        if first is None:
            first = widget._curves["fire"]
            first.sigPlotChanged.connect(count)
    elapsed = time.perf_counter() - t0
    assert calls == 0  # nothing redrawn per chunk: the refresh waits for the timer
    assert elapsed < 1.0, elapsed  # 469 appends; measured ~15 ms
    qtbot.waitUntil(lambda: calls >= 1, timeout=2000)
    x, y = widget._curves["fire"].xData, widget._curves["fire"].yData
    assert len(x) == 30_000
    np.testing.assert_allclose(y, cache.probs[:, cache.class_names.index("fire")])
    model.document.set_analysis(cache)  # the finished analysis replaces the stream
    assert len(widget._curves["fire"].xData) == 30_000


def test_the_view_follows_the_playhead_and_has_a_scrollbar(qtbot, make_window, make_video):
    """Issue 15 #4: zoomed to 12 s and playing, the playhead left the screen; no scrollbar."""
    from PySide6.QtWidgets import QScrollBar

    from sfxstudio.core.project import AnalysisCache, Project

    fps, seconds = 10, 40
    n = fps * seconds
    probs = np.zeros((n, 2), np.float32)
    probs[:, 1] = 1.0
    cache = AnalysisCache(np.arange(n) / fps, probs, np.zeros((n, 0), np.float32),
                          ["fire", "otherwise"], 1 / fps, float(seconds))
    w = make_window()
    w.resize(1280, 800)
    w.show()
    w.set_document(Project(video=str(make_video(seconds=2.0, fps=fps))), None)
    w.model.document.set_analysis(cache)
    vb = w.timeline.view_box()
    bar = w.findChild(QScrollBar, "timeScrollBar")
    assert bar is not None and bar.isVisible()
    assert bar.orientation() == Qt.Orientation.Horizontal
    vb.setXRange(0.0, 12.0, padding=0.0)
    assert bar.maximum() == pytest.approx(28_000, abs=50) and bar.pageStep() == pytest.approx(12_000, abs=50)
    # The playhead moving past the right edge (as while playing) pages the view along.
    w.transport.show_position(13.0)
    (x0, x1), _ = vb.viewRange()
    assert x0 <= 13.0 <= x1 and x1 - x0 == pytest.approx(12.0, rel=1e-3)
    assert bar.value() == pytest.approx(1000 * x0, abs=2)
    # Dragging the scrollbar scrolls the time axis (lanes share it), keeping the zoom.
    bar.setValue(20_000)
    (x0, x1), _ = vb.viewRange()
    assert x0 == pytest.approx(20.0, abs=0.01) and x1 - x0 == pytest.approx(12.0, rel=1e-3)
    (l0, _l1), _ = w.lanes.view_box().viewRange()
    assert l0 == pytest.approx(x0, abs=0.05)
    # Near the end the page stops at the end of the video.
    w.transport.show_position(39.0)
    (x0, x1), _ = vb.viewRange()
    assert x0 <= 39.0 <= x1 and x1 <= 40.0 + 0.6 + 1e-6
