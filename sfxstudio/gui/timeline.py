"""Probability timeline: one row per class showing the model's confidence over time.

One pyqtgraph plot with stacked rows (row r spans y in [r, r + ROW_HEIGHT)); each curve is
the raw probability column placed in its row with an item transform, so two hours of frames
(216,000 x 21) never get copied into offset arrays. Curves use clipToView and peak
downsampling; the time axis is shared with the effect lanes through `view_box()`.

Mouse: left click/drag scrubs (seekRequested), wheel zooms time, middle drag pans, the
dashed line in each row is the threshold (drag it; the change is one undo step on release).
`scrollbar` (placed under the lanes by the window) scrolls the shared time axis, and
`follow_playhead` pages the view when the playhead leaves it, as editing software does.

Markers (the project's, through the DocumentModel) are thin lines with a flag at the top; the
in/out range (`set_in_out`, fed by gui.markers.MarkerController) is a shaded band. When View >
Hide Quiet Classes has folded away every row, a centred hint says so instead of an empty panel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainterPath, QResizeEvent, QTransform
from PySide6.QtWidgets import QGraphicsItem, QLabel, QScrollBar, QVBoxLayout, QWidget

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.commands import SetParams
from sfxstudio.gui.colors import class_color, display_name
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.timecode import format_timecode

LABEL_WIDTH = 110  # px of the left axis; the effect lanes use the same so times line up
ROW_HEIGHT = 0.85  # of 1.0 per row: a gap keeps neighbouring curves apart
STREAM_REDRAW_MS = 200  # at most 5 curve refreshes per second while analysis streams in
SCROLL_UNITS = 1000  # scrollbar steps per second of video (ms resolution)
FOLLOW_MARGIN = 0.05  # when the playhead leaves the view, it lands this fraction into the new page
EMPTY_SPAN = 10.0  # seconds the time axis shows when there is nothing to show yet
MARKER_COLOR = "#ffb000"
IN_OUT_BRUSH = QColor(120, 170, 255, 40)
IN_OUT_PEN = QColor(120, 170, 255, 170)


def _flag_symbol() -> QPainterPath:
    """A marker's flag: a triangle hanging below its point, so a flag on the top edge of the
    view stays whole. Symbol space is y down, and pyqtgraph renders only the unit box around
    the point: the flag fills its lower half (half the symbol size wide and tall)."""
    path = QPainterPath()
    path.moveTo(-0.25, 0.0)
    path.lineTo(0.25, 0.0)
    path.lineTo(0.0, 0.5)
    path.closeSubpath()
    return path


def cache_axes(plot: pg.PlotWidget) -> None:
    """Keep the axes' rendering: the class-name axis would otherwise redraw its text on every
    playhead step (~20 ms per paint), though it only changes with the rows or the zoom."""
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class TimeAxis(pg.AxisItem):
    """Time ticks as editors read them (1:02:03, 2:05.5), not SI-prefixed seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        """pyqtgraph's ticks without those before 0: the view may show a little before the
        start, and clamped to zero they all read "0:00.0" side by side."""
        return [(spacing, [v for v in values if v >= -1e-9])
                for spacing, values in super().tickValues(minVal, maxVal, size)]

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:
        # As many decimals as the tick spacing needs, so neighbouring ticks never read alike.
        decimals = 0 if spacing >= 1.0 else min(3, max(1, math.ceil(-math.log10(spacing) - 1e-9)))
        out = []
        for v in values:
            # Round the whole value first so 59.96 s shows as 1:00.0, never 0:60.0.
            v = round(max(0.0, float(v)), decimals)
            h, rem = divmod(v, 3600.0)
            m, sec = divmod(rem, 60.0)
            secs = f"{sec:0{3 + decimals}.{decimals}f}" if decimals else f"{int(sec):02d}"
            out.append(f"{int(h)}:{int(m):02d}:{secs}" if h else f"{int(m)}:{secs}")
        return out


class ScrubViewBox(pg.ViewBox):
    """Left click/drag seeks instead of panning; other buttons keep pyqtgraph's behaviour."""

    def __init__(self, on_seek: Callable[[float], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_seek = on_seek

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._on_seek(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and not ev.modifiers():
            ev.accept()
            self._on_seek(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseDragEvent(ev, axis)


class TimeScrollBar(QScrollBar):
    """A horizontal scrollbar over a view box's time range (the whole video is the track)."""

    def __init__(self, view_box: pg.ViewBox, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("timeScrollBar")
        self.setToolTip("Scroll the timeline")
        self._vb = view_box
        self._duration = 0.0
        self._updating = False
        view_box.sigXRangeChanged.connect(lambda *_a: self.sync())
        self.valueChanged.connect(self._on_value)
        self.sync()

    def set_duration(self, seconds: float) -> None:
        self._duration = max(0.0, float(seconds))
        self.sync()

    def sync(self) -> None:
        """Follow the view (zoom, pan, fit)."""
        (x0, x1), _ = self._vb.viewRange()
        width = max(x1 - x0, 1e-3)
        self._updating = True
        try:
            self.setPageStep(max(1, round(width * SCROLL_UNITS)))
            self.setSingleStep(max(1, round(width * SCROLL_UNITS / 20)))
            self.setRange(0, max(0, round((self._duration - width) * SCROLL_UNITS)))
            self.setValue(round(max(0.0, x0) * SCROLL_UNITS))
        finally:
            self._updating = False

    def _on_value(self, value: int) -> None:
        if self._updating:
            return
        (x0, x1), _ = self._vb.viewRange()
        left = value / SCROLL_UNITS
        self._vb.setXRange(left, left + (x1 - x0), padding=0.0)


class _Buffer:
    """Growing (C, capacity) float32 columns + times: appends are amortised O(chunk)."""

    def __init__(self, n_classes: int, capacity: int = 4096) -> None:
        self.times = np.zeros(capacity, np.float64)
        self.probs = np.zeros((n_classes, capacity), np.float32)
        self.n = 0
        self.peaks = np.zeros(n_classes, np.float32)

    def append(self, times: np.ndarray, probs: np.ndarray) -> None:
        m = len(times)
        need = self.n + m
        if need > self.times.shape[0]:
            cap = max(need, 2 * self.times.shape[0])
            t = np.zeros(cap, np.float64)
            t[: self.n] = self.times[: self.n]
            p = np.zeros((self.probs.shape[0], cap), np.float32)
            p[:, : self.n] = self.probs[:, : self.n]
            self.times, self.probs = t, p
        self.times[self.n:need] = times
        self.probs[:, self.n:need] = np.asarray(probs, np.float32).T
        if m:
            self.peaks = np.maximum(self.peaks, np.asarray(probs).max(axis=0))
        self.n = need


class ProbabilityTimeline(QWidget):
    seekRequested = Signal(float)

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._hide_quiet = False
        self._names: list[str] = []  # classes in the data (model order)
        self._rows: list[str] = []  # classes shown, top to bottom
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._lines: dict[str, pg.InfiniteLine] = {}
        self._times = np.zeros(0)
        self._cols = np.zeros((0, 0), np.float32)  # (C, N), contiguous per class
        self._peaks = np.zeros(0, np.float32)
        self._buffer: _Buffer | None = None
        self._syncing_lines = False
        self._duration = 0.0

        self._vb = ScrubViewBox(self._seek, enableMenu=False)
        self.plot = pg.PlotWidget(viewBox=self._vb, axisItems={"bottom": TimeAxis("bottom")})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.15)
        self.plot.getAxis("left").setWidth(LABEL_WIDTH)  # class names, aligned with the lanes
        self.plot.getAxis("left").setTicks([[], []])  # no rows yet: no numbers either
        cache_axes(self.plot)
        self._vb.disableAutoRange()
        # Plot-level on purpose: PlotItem.addItem overwrites per-item downsampling/clipping.
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False,
                                        pen=pg.mkPen("#ffffff", width=1.5))
        self.playhead.setZValue(100)
        self.plot.addItem(self.playhead, ignoreBounds=True)
        self._y_top = 1.05  # top of the rows' y range (the markers' flags hang from it)
        self._marker_times: list[float] = []
        self._marker_names: list[str] = []
        self._marker_lines = pg.PlotCurveItem(pen=pg.mkPen(MARKER_COLOR, width=1), connect="pairs")
        self._marker_lines.setZValue(90)
        self._marker_flags = pg.ScatterPlotItem(symbol=_flag_symbol(), size=20, pxMode=True,
                                                pen=pg.mkPen(MARKER_COLOR), brush=pg.mkBrush(MARKER_COLOR),
                                                hoverable=True, tip=self._marker_tip)
        self._marker_flags.setZValue(91)
        self.plot.addItem(self._marker_lines, ignoreBounds=True)
        self.plot.addItem(self._marker_flags, ignoreBounds=True)
        self._in_out: tuple[float | None, float | None] = (None, None)
        self.in_out_region = pg.LinearRegionItem((0.0, 0.0), movable=False, brush=IN_OUT_BRUSH,
                                                 pen=pg.mkPen(IN_OUT_PEN, width=1))
        self.in_out_region.setZValue(-10)  # under the curves
        self.in_out_region.hide()
        self.plot.addItem(self.in_out_region, ignoreBounds=True)

        self.scrollbar = TimeScrollBar(self._vb, self)
        self.readout = QLabel(" ")
        self.readout.setObjectName("timelineReadout")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.readout)
        layout.addWidget(self.plot, 1)
        # Over the plot (not in the layout): shown when Hide Quiet Classes left no row.
        self.hint = QLabel("", self)
        self.hint.setObjectName("timelineHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #9a9a9a; background: transparent;")
        self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hint.hide()

        self._hover = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_hover)
        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(STREAM_REDRAW_MS)
        self._stream_timer.timeout.connect(self._flush_stream)

        model.analysisChanged.connect(self._load_from_document)
        model.paramsChanged.connect(self._on_params)
        model.projectChanged.connect(self._on_project)
        model.markersChanged.connect(self._show_markers)
        self._load_from_document()
        self._show_markers()

    # -- public API ------------------------------------------------------------------------
    def view_box(self) -> pg.ViewBox:
        return self._vb

    def set_playhead(self, t: float) -> None:
        self.playhead.setValue(float(t))

    def follow_playhead(self, t: float) -> bool:
        """Page the view when the playhead has left it (playing, stepping); True if it moved."""
        (x0, x1), _ = self._vb.viewRange()
        width = x1 - x0
        if x0 <= t <= x1 or width <= 0:
            return False
        left = t - FOLLOW_MARGIN * width
        if self._duration > 0:
            left = min(left, self._duration - (1.0 - FOLLOW_MARGIN) * width)
        left = max(0.0, left)
        self._vb.setXRange(left, left + width, padding=0.0)
        return True

    def fit(self) -> None:
        """Show the whole video (the first EMPTY_SPAN seconds when there is none yet)."""
        end = self._duration or (float(self._times[-1]) if len(self._times) else EMPTY_SPAN)
        self._vb.setXRange(0.0, max(end, 1e-3), padding=0.0)

    def set_in_out(self, in_point: float | None, out_point: float | None) -> None:
        """Shade the in/out range: in to out, in to the end, or the start to out; none: hidden."""
        self._in_out = (in_point, out_point)
        self._show_in_out()

    def marker_times(self) -> list[float]:
        """The marker times drawn (the project's markers)."""
        return list(self._marker_times)

    def zoom(self, factor: float) -> None:
        """factor > 1 zooms in (around the playhead when it is visible, else the centre)."""
        (x0, x1), _ = self._vb.viewRange()
        centre = self.playhead.value()
        if not x0 <= centre <= x1:
            centre = 0.5 * (x0 + x1)
        width = max((x1 - x0) / factor, 0.05)
        left = centre - (centre - x0) / factor
        self._vb.setXRange(left, left + width, padding=0.0)

    def set_hide_quiet(self, hide: bool) -> None:
        """Fold away classes whose probability never reaches the threshold."""
        self._hide_quiet = hide
        self._layout_rows(force=True)

    def shown_classes(self) -> list[str]:
        return list(self._rows)

    def threshold_line(self, class_name: str | None = None) -> pg.InfiniteLine:
        """The draggable threshold line of a row (the first shown row by default)."""
        return self._lines[class_name or self._rows[0]]

    def append_chunk(self, times: np.ndarray, probs: np.ndarray, class_names: list[str]) -> None:
        """Frames analysed so far (streaming). Cheap: buffered, curves refreshed <= 5 per s."""
        if self._buffer is None or list(class_names) != self._names:
            self._names = list(class_names)
            self._buffer = _Buffer(len(class_names))
            self._build_curves()
        self._buffer.append(np.asarray(times, np.float64), np.asarray(probs))
        if not self._stream_timer.isActive():
            self._stream_timer.start()

    def flush(self) -> None:
        """Apply buffered streaming data now (tests, end of analysis)."""
        self._stream_timer.stop()
        self._flush_stream()

    # -- data --------------------------------------------------------------------------------
    def _load_from_document(self) -> None:
        self._stream_timer.stop()
        self._buffer = None
        cache = self.model.document.analysis
        if cache is None:
            self._names, self._times = [], np.zeros(0)
            self._cols = np.zeros((0, 0), np.float32)
            self._peaks = np.zeros(0, np.float32)
            self._duration = 0.0
        else:
            self._names = list(cache.class_names)
            self._times = np.asarray(cache.times, np.float64)
            # One transposed copy so each class's curve is a contiguous row.
            self._cols = np.ascontiguousarray(np.asarray(cache.probs, np.float32).T)
            self._peaks = (self._cols.max(axis=1) if self._cols.shape[1]
                           else np.zeros(len(self._names), np.float32))
            self._duration = float(cache.duration)
        self._build_curves()
        self._set_curve_data()
        self._vb.setLimits(xMin=-1.0, xMax=(self._duration or EMPTY_SPAN) + 1.0)
        self.scrollbar.set_duration(self._duration)
        self.fit()
        self._show_in_out()

    def _flush_stream(self) -> None:
        buf = self._buffer
        if buf is None:
            return
        # Views into the buffer: no copy; a later grow makes new arrays, the curves keep theirs.
        self._times = buf.times[: buf.n]
        self._cols = buf.probs[:, : buf.n]
        self._peaks = buf.peaks
        self._set_curve_data()
        if buf.n:
            end = float(buf.times[buf.n - 1])
            self._duration = max(self._duration, end)
            self._vb.setLimits(xMin=-1.0, xMax=max(self._duration, EMPTY_SPAN) + 1.0)
            self.scrollbar.set_duration(self._duration)
            (_x0, x1), _ = self._vb.viewRange()
            if end > x1:  # keep the newest frames in view while it streams
                self._vb.setXRange(0.0, end * 1.1, padding=0.0)
        if self._hide_quiet:
            self._layout_rows()

    def _build_curves(self) -> None:
        wanted = [n for n in self._names if n != OTHERWISE]
        if wanted == list(self._curves):
            return  # same classes (e.g. streaming -> finished): keep the items, new data only
        for item in [*self._curves.values(), *self._lines.values()]:
            self.plot.removeItem(item)
        self._curves.clear()
        self._lines.clear()
        for name in self._names:
            if name == OTHERWISE:  # no effect: it has no row, like it has no lane
                continue
            color = class_color(name)
            # width 1 keeps the pen cosmetic-thin: wide pens cost several times more to raster.
            curve = pg.PlotDataItem(pen=pg.mkPen(color, width=1), skipFiniteCheck=True,
                                    autoDownsampleFactor=1.0)  # ~1 peak pair per pixel
            # Cache the rendered curve: a threshold change or a playhead move repaints the
            # view, and re-rastering 20 long curves each time would cost ~100 ms.
            curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            # No area fill: lines read fine on stacked rows and rasterise faster.
            self.plot.addItem(curve)
            self._curves[name] = curve
            line = pg.InfiniteLine(0.0, angle=0, movable=True,
                                   pen=pg.mkPen(QColor(255, 255, 255, 150), width=1,
                                                style=Qt.PenStyle.DashLine),
                                   hoverPen=pg.mkPen("#ffcc00", width=2))
            line.setZValue(50)
            line.setToolTip("Threshold: drag to change (applies to every class)")
            line.sigPositionChanged.connect(self._on_line_moved)
            line.sigPositionChangeFinished.connect(self._on_line_finished)
            self.plot.addItem(line, ignoreBounds=True)
            self._lines[name] = line
        self._layout_rows(force=True)

    def _set_curve_data(self) -> None:
        index = {n: i for i, n in enumerate(self._names)}
        n = len(self._times)
        for name, curve in self._curves.items():
            if n:
                curve.setData(self._times, self._cols[index[name]])
            else:
                curve.setData([], [])

    # -- layout ------------------------------------------------------------------------------
    def _layout_rows(self, force: bool = False) -> None:
        threshold = self.model.document.params.threshold
        index = {n: i for i, n in enumerate(self._names)}
        rows = []
        for name in self._curves:
            quiet = len(self._peaks) == len(self._names) and self._peaks[index[name]] < threshold
            if not (self._hide_quiet and quiet):
                rows.append(name)
        if force or rows != self._rows:
            # Geometry only when the rows change: touching a curve's transform throws away
            # its cached rendering, and a threshold drag must not re-raster 20 curves.
            self._rows = rows
            shown = set(rows)
            ticks = []
            for name, curve in self._curves.items():
                visible = name in shown
                curve.setVisible(visible)
                self._lines[name].setVisible(visible)
                if not visible:
                    continue
                r = self._row_of(name)
                curve.setTransform(QTransform.fromScale(1.0, ROW_HEIGHT))
                curve.setPos(0.0, float(r))
                ticks.append((r + 0.5 * ROW_HEIGHT, display_name(name)))
            self.plot.getAxis("left").setTicks([ticks, []])
            # Labels need ~16 px a row to stay apart; the splitter cannot squeeze them tighter.
            self.setMinimumHeight(16 * max(1, len(rows)) + 30)
            self._y_top = max(1, len(rows)) + 0.05
            self._vb.setYRange(-0.1, self._y_top, padding=0.0)
            self._show_markers()
            self._show_hint()
        self._syncing_lines = True  # bounds/value changes here are not user drags
        for name in rows:
            line, r = self._lines[name], self._row_of(name)
            line.setBounds((None, None))
            line.setValue(r + threshold * ROW_HEIGHT)
            line.setBounds((r, r + ROW_HEIGHT))
        self._syncing_lines = False

    def _row_of(self, name: str) -> int:
        return len(self._rows) - 1 - self._rows.index(name)

    def _show_hint(self) -> None:
        quiet_all = self._hide_quiet and bool(self._curves) and not self._rows
        if quiet_all:
            self.hint.setText(f"All {len(self._curves)} classes are quiet \u2014 "
                              "View > Hide Quiet Classes is on")
            self._place_hint()
        self.hint.setVisible(quiet_all)

    def _place_hint(self) -> None:
        self.hint.setGeometry(self.plot.geometry())
        self.hint.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.hint.isVisible():
            self._place_hint()

    # -- markers and in/out --------------------------------------------------------------------
    def _show_markers(self, _markers: object = None) -> None:
        markers = self.model.document.project.markers
        self._marker_times = [m.time for m in markers]
        self._marker_names = [m.name for m in markers]
        if not markers:
            self._marker_lines.setData([], [])
            self._marker_flags.setData([], [])
            self._marker_lines.hide()
            self._marker_flags.hide()
            return
        xs = np.repeat(np.asarray(self._marker_times, np.float64), 2)
        ys = np.tile(np.asarray([-1000.0, 1000.0]), len(markers))  # beyond any row: full height
        self._marker_lines.setData(xs, ys)
        self._marker_flags.setData(x=self._marker_times, y=[self._y_top] * len(markers),
                                   data=list(range(len(markers))))
        self._marker_lines.show()
        self._marker_flags.show()

    def _marker_tip(self, x: float, y: float, data: int) -> str:
        name = self._marker_names[data] if 0 <= data < len(self._marker_names) else ""
        return f"Marker {format_timecode(x)}" + (f"  {name}" if name else "")

    def _show_in_out(self) -> None:
        a, b = self._in_out
        if a is None and b is None:
            self.in_out_region.hide()
            return
        start = a if a is not None else 0.0
        end = b if b is not None else max(self._duration, start)
        self.in_out_region.setRegion((start, end))
        self.in_out_region.show()

    # -- interaction -------------------------------------------------------------------------
    def _seek(self, t: float) -> None:
        t = max(0.0, t if not self._duration else min(t, self._duration))
        self.set_playhead(t)
        self.seekRequested.emit(t)

    def _line_threshold(self, line: pg.InfiniteLine) -> float:
        name = next(n for n, ln in self._lines.items() if ln is line)
        return float(np.clip((line.value() - self._row_of(name)) / ROW_HEIGHT, 0.0, 1.0))

    def _on_line_moved(self, line: pg.InfiniteLine) -> None:
        # Move every row's line together while dragging; nothing is committed yet.
        if self._syncing_lines:
            return
        tau = self._line_threshold(line)
        self._syncing_lines = True
        for name, other in self._lines.items():
            if other is not line and other.isVisible():
                other.setValue(self._row_of(name) + tau * ROW_HEIGHT)
        self._syncing_lines = False
        self.readout.setText(f"Threshold {tau:.2f}")

    def _on_line_finished(self, line: pg.InfiniteLine) -> None:
        tau = round(self._line_threshold(line), 3)
        if abs(tau - self.model.document.params.threshold) > 1e-9:
            self.model.push(SetParams(threshold=tau))
        else:
            self._layout_rows()

    def _on_params(self) -> None:
        self._layout_rows()

    def _on_project(self) -> None:
        """Another document: nothing of the old one stays (the hover readout included)."""
        self.readout.setText(" ")
        self._load_from_document()
        self._show_markers()

    def _on_hover(self, args: Sequence[QPointF]) -> None:
        pos: QPointF = args[0]
        if not self.plot.sceneBoundingRect().contains(pos) or not len(self._times):
            return
        p = self._vb.mapSceneToView(pos)
        self.readout.setText(self.readout_at(p.x(), p.y()))

    def readout_at(self, t: float, y: float) -> str:
        """'HH:MM:SS.mmm  Class 0.87' for a point in view coordinates (the hover text)."""
        text = format_timecode(max(0.0, t))
        if not len(self._times) or not self._rows:
            return text
        r = int(np.floor(y))
        if not 0 <= r < len(self._rows):
            return text
        name = self._rows[len(self._rows) - 1 - r]
        j = int(np.clip(np.searchsorted(self._times, t, side="right") - 1, 0, len(self._times) - 1))
        p = float(self._cols[self._names.index(name), j])
        return f"{text}   {display_name(name)}  {p:.2f}"

    def visible_time_range(self) -> QRectF:
        return self._vb.viewRect()
