"""Effect lanes: one lane per class, effects as blocks the editor selects, moves, trims, splits,
deletes, relabels and draws, like clips on an NLE track.

All blocks are painted by one GraphicsObject (`LaneCanvas`) that also does the hit testing,
so thousands of effects stay responsive (no item per block). A drag only changes a preview;
the edit is pushed as one undoable command on mouse release. Times snap to the analysis
frame (1/25 s without analysis).

Look: automatic = translucent fill with a dashed outline; manual = solid fill with a bright
outline; mute (a deleted automatic effect) = hatched grey; the selection has a white outline.
A block at least NAME_MIN_PX wide shows the name of the sound file it plays, in screen pixels
(the view is scaled and flipped, so the text is drawn with the painter's transform undone).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import QMenu, QVBoxLayout, QWidget

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.commands import (
    AddSegment,
    CompositeCommand,
    DeleteSegment,
    EditSegment,
    SplitSegment,
    can_split,
    snap,
)
from sfxstudio.core.segments import Segment
from sfxstudio.gui.colors import MUTE_COLOR, class_color, display_name
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.timeline import LABEL_WIDTH, TimeAxis, cache_axes

LANE_PX = 22  # minimum height of a lane on screen (lanes grow with the splitter)
BLOCK_TOP, BLOCK_BOTTOM = 0.12, 0.88  # of a lane, leaves a gap between lanes
EDGE_PX = 6  # how close to an edge (in pixels) grabs it for trimming
NAME_MIN_PX = 48  # a block this wide on screen shows its sound's name
MAX_NAMES = 300  # names drawn per paint at most (a zoomed-out view of thousands shows none)
_NAME_PEN = QPen(QColor("#f4f4f4"))


def sound_name(segment: Segment) -> str:
    """What a block says: its sound file's name without folder and extension ("" for none)."""
    if not segment.variation or segment.origin == "mute":
        return ""
    return PurePosixPath(segment.variation.replace("\\", "/")).stem


def _cosmetic(pen: QPen) -> QPen:
    pen.setCosmetic(True)  # pixel widths whatever the zoom
    return pen


_SELECTED_PEN = _cosmetic(QPen(QColor("#ffffff"), 2.5))


@lru_cache(maxsize=512)
def _style(class_name: str, origin: str) -> tuple[QPen, QBrush]:
    """Pen and brush of a block: auto translucent + dashed, manual solid + bright, mute hatched."""
    color = class_color(class_name)
    if origin == "mute":
        return (_cosmetic(QPen(MUTE_COLOR, 1, Qt.PenStyle.DotLine)),
                QBrush(MUTE_COLOR, Qt.BrushStyle.BDiagPattern))
    if origin == "auto":
        fill = QColor(color)
        fill.setAlpha(90)
        return _cosmetic(QPen(color.lighter(120), 1, Qt.PenStyle.DashLine)), QBrush(fill)
    return _cosmetic(QPen(color.lighter(170), 1.5)), QBrush(color)


@dataclass
class _Drag:
    mode: str  # "move" | "start" | "end" | "draw"
    anchor: float
    segment: Segment | None
    lane: int
    start: float
    end: float
    class_name: str


class LaneCanvas(pg.GraphicsObject):
    """Paints every effect block and turns mouse gestures into commands."""

    def __init__(self, lanes: EffectLanes) -> None:
        super().__init__()
        self.lanes = lanes
        self._lane_names: list[str] = []
        self._by_lane: list[list[Segment]] = []
        self._starts: list[list[float]] = []
        self._max_len: list[float] = []
        self._extent = 10.0
        self.drag: _Drag | None = None
        self.names_drawn: list[tuple[int, str]] = []  # (segment id, text) of the last paint
        self.setAcceptHoverEvents(True)

    # -- data --------------------------------------------------------------------------------
    def set_data(self, lane_names: list[str], segments: list[Segment], extent: float) -> None:
        self.prepareGeometryChange()
        self._lane_names = lane_names
        index = {n: i for i, n in enumerate(lane_names)}
        self._by_lane = [[] for _ in lane_names]
        for s in segments:  # already sorted by start
            i = index.get(s.class_name)
            if i is not None:
                self._by_lane[i].append(s)
        self._starts = [[s.start for s in lane] for lane in self._by_lane]
        self._max_len = [max((s.duration for s in lane), default=0.0) for lane in self._by_lane]
        self._extent = extent
        self.update()

    def boundingRect(self) -> QRectF:
        # Generous to the right so drawing past the last effect still reaches the canvas.
        return QRectF(0.0, 0.0, self._extent, max(1, len(self._lane_names)))

    # -- geometry ----------------------------------------------------------------------------
    def lane_at(self, y: float) -> int | None:
        i = int(y) if y >= 0 else -1
        return i if 0 <= i < len(self._lane_names) else None

    def segment_at(self, x: float, y: float) -> tuple[Segment | None, str]:
        """The block under a point and which part: "body", "start" or "end" edge."""
        lane = self.lane_at(y)
        if lane is None or not BLOCK_TOP <= y - lane <= BLOCK_BOTTOM:
            return None, ""
        px = self.pixelWidth() or 0.01
        tol = EDGE_PX * px
        starts, segs = self._starts[lane], self._by_lane[lane]
        hi = bisect.bisect_right(starts, x + tol)
        lo = bisect.bisect_left(starts, x - self._max_len[lane] - tol)
        best: tuple[Segment | None, str] = (None, "")
        selected = self.lanes.selected_id()
        for s in reversed(segs[lo:hi]):  # later blocks are painted on top
            edge_tol = min(tol, s.duration / 3)
            if not s.start - edge_tol <= x <= s.end + edge_tol:
                continue
            part = ("start" if abs(x - s.start) <= edge_tol else
                    "end" if abs(x - s.end) <= edge_tol else "body")
            if s.id == selected:
                return s, part
            # An effect wins over a mute range lying under it.
            if best[0] is None or (best[0].origin == "mute" and s.origin != "mute"):
                best = (s, part)
        return best

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        view = self.viewRect()
        if view is None:
            return
        x0, x1 = view.left(), view.right()
        selected = self.lanes.selected_id()
        drag = self.drag
        hidden = drag.segment.id if drag is not None and drag.segment is not None else None
        # Group rectangles by look and draw each group with one drawRects call: thousands of
        # blocks cost a few ms instead of one pen/brush switch per block.
        groups: dict[tuple[str, str], list[QRectF]] = {}
        named: list[tuple[Segment, QRectF]] = []
        sel_rect: QRectF | None = None
        h = BLOCK_BOTTOM - BLOCK_TOP
        px = self.pixelWidth() or 0.0
        for lane, segs in enumerate(self._by_lane):
            starts = self._starts[lane]
            lo = bisect.bisect_left(starts, x0 - self._max_len[lane])
            hi = bisect.bisect_right(starts, x1)
            for s in segs[lo:hi]:
                if s.end < x0 or s.id == hidden:
                    continue
                rect = QRectF(s.start, lane + BLOCK_TOP, s.end - s.start, h)
                groups.setdefault((s.class_name, s.origin), []).append(rect)
                if px > 0 and s.variation and (s.end - s.start) >= NAME_MIN_PX * px:
                    named.append((s, rect))
                if s.id == selected:
                    sel_rect = rect
        # Mutes first: a mute under a manual effect (an automatic effect the editor took
        # over) must not hide it.
        for (class_name, origin), rects in sorted(groups.items(), key=lambda kv: kv[0][1] != "mute"):
            pen, brush = _style(class_name, origin)
            painter.setPen(pen)
            painter.setBrush(brush)
            painter.drawRects(rects)
        if drag is not None and drag.end > drag.start:
            origin = "mute" if drag.segment is not None and drag.segment.origin == "mute" else "manual"
            pen, brush = _style(drag.class_name, origin)
            painter.setPen(pen)
            painter.setBrush(brush)
            sel_rect = QRectF(drag.start, drag.lane + BLOCK_TOP, drag.end - drag.start, h)
            painter.drawRect(sel_rect)
        self._paint_names(painter, named if len(named) <= MAX_NAMES else [])
        if sel_rect is not None:
            painter.setPen(_SELECTED_PEN)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(sel_rect)

    def _paint_names(self, painter: QPainter, named: list[tuple[Segment, QRectF]]) -> None:
        """Each block's sound name, left-aligned inside it, elided to fit, in screen pixels."""
        self.names_drawn = []
        if not named:
            return
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setPen(_NAME_PEN)
        metrics = QFontMetrics(painter.font())
        for s, rect in named:
            box = transform.mapRect(rect).adjusted(4, 0, -4, 0)
            if box.height() < metrics.height() - 2 or box.width() < 8:
                continue
            text = metrics.elidedText(sound_name(s), Qt.TextElideMode.ElideRight, int(box.width()))
            if text:
                painter.drawText(box, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
                self.names_drawn.append((s.id, text))
        painter.restore()

    # -- mouse -------------------------------------------------------------------------------
    def hoverEvent(self, ev: Any) -> None:
        if ev.isExit():
            self.setCursor(Qt.CursorShape.ArrowCursor)
            return
        p = ev.pos()
        seg, part = self.segment_at(p.x(), p.y())
        shape = (Qt.CursorShape.SizeHorCursor if part in ("start", "end") else
                 Qt.CursorShape.OpenHandCursor if seg is not None else Qt.CursorShape.CrossCursor)
        self.setCursor(shape)

    def mouseClickEvent(self, ev: Any) -> None:
        p = ev.pos()
        seg, _part = self.segment_at(p.x(), p.y())
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if seg is not None:
                self.lanes.select(seg.id)
            else:
                self.lanes.select(None)
                self.lanes.request_seek(p.x())
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            if seg is not None:
                self.lanes.select(seg.id)
            lane = self.lane_at(p.y())
            menu = self.lanes.build_context_menu(
                seg.id if seg is not None else None,
                self._lane_names[lane] if lane is not None else None)
            menu.exec(ev.screenPos().toPoint())

    def mouseDragEvent(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()  # middle drag pans, right drag zooms (the ViewBox's defaults)
            return
        ev.accept()
        if ev.isStart():
            p0 = ev.buttonDownPos()
            self.drag = self.start_drag(p0.x(), p0.y())
        if self.drag is None:
            return
        p = ev.pos()
        self.update_drag(p.x(), p.y())
        if ev.isFinish():
            self.finish_drag()

    # The gesture logic, callable without a mouse (tests, keyboard nudges).
    def start_drag(self, x: float, y: float) -> _Drag | None:
        seg, part = self.segment_at(x, y)
        lane = self.lane_at(y)
        if seg is not None:
            self.lanes.select(seg.id)
            mode = {"start": "start", "end": "end"}.get(part, "move")
            return _Drag(mode, x, seg, self._lane_names.index(seg.class_name), seg.start, seg.end,
                         seg.class_name)
        if lane is None:
            return None
        self.lanes.select(None)
        t = snap(x, self.lanes.frame())
        return _Drag("draw", t, None, lane, t, t, self._lane_names[lane])

    def update_drag(self, x: float, y: float) -> None:
        d = self.drag
        if d is None:
            return
        frame = self.lanes.frame()
        limit = self.lanes.duration()
        t = snap(x, frame)
        if limit is not None:
            t = min(t, limit)
        if d.mode == "draw":
            d.start, d.end = min(d.anchor, t), max(d.anchor, t)
        elif d.mode == "start" and d.segment is not None:
            d.start = min(t, d.segment.end - frame)
        elif d.mode == "end" and d.segment is not None:
            d.end = max(t, d.segment.start + frame)
        elif d.mode == "move" and d.segment is not None:
            length = d.segment.duration
            start = max(0.0, snap(d.segment.start + (x - d.anchor), frame))
            if limit is not None:
                start = min(start, max(0.0, limit - length))
            d.start, d.end = start, start + length
            lane = self.lane_at(y)
            if lane is not None and d.segment.origin != "mute":  # drag to another lane = relabel
                d.lane, d.class_name = lane, self._lane_names[lane]
        self.update()

    def finish_drag(self) -> None:
        d, self.drag = self.drag, None
        self.update()
        if d is None:
            return
        if d.mode == "draw":
            if d.end - d.start >= self.lanes.frame() * 0.999:
                seg = Segment(d.class_name, d.start, d.end, origin="manual")
                if self.lanes.model.push(AddSegment(seg)):
                    self.lanes.select(seg.id)
            return
        s = d.segment
        assert s is not None
        changes: dict[str, object] = {}
        if abs(d.start - s.start) > 1e-9:
            changes["start"] = d.start
        if abs(d.end - s.end) > 1e-9:
            changes["end"] = d.end
        if d.class_name != s.class_name:
            changes["class_name"] = d.class_name
        if changes:
            self.lanes.model.push(EditSegment(s.id, **changes))  # type: ignore[arg-type]
            self.lanes.select(s.id)


class EffectLanes(QWidget):
    seekRequested = Signal(float)
    selectionChanged = Signal(object)  # segment id or None

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._selected: int | None = None
        self._extra_lanes: list[str] = []
        self._show_all = False
        self._lanes: list[str] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.plot = pg.PlotWidget(axisItems={"bottom": TimeAxis("bottom")})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getAxis("left").setWidth(LABEL_WIDTH)
        cache_axes(self.plot)
        self._linked: pg.ViewBox | None = None
        self.plot.getAxis("left").setTicks([[], []])  # no lanes yet: no numbers on the side
        self._vb: pg.ViewBox = self.plot.getViewBox()
        self._vb.invertY(True)  # lane 0 at the top, like the class list
        self._vb.disableAutoRange()
        self.canvas = LaneCanvas(self)
        self.plot.addItem(self.canvas)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False,
                                        pen=pg.mkPen("#ffffff", width=1.5))
        self.playhead.setZValue(100)
        self.plot.addItem(self.playhead, ignoreBounds=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

        model.segmentsChanged.connect(self.refresh)
        model.analysisChanged.connect(self._on_analysis)
        model.projectChanged.connect(self._on_analysis)
        self._on_analysis()

    # -- public API ------------------------------------------------------------------------
    def view_box(self) -> pg.ViewBox:
        return self._vb

    def link_x(self, view_box: pg.ViewBox) -> None:
        """Share the time axis with another view (the probability timeline).

        Ranges are copied both ways rather than with ViewBox.setXLink, which aligns views by
        their on-screen geometry and drifts when one of them is laid out after linking. Both
        views reserve the same label width, so equal ranges put a time at the same x pixel.
        """
        self._linked = view_box
        self._vb.setLimits(xMin=None, xMax=None)
        syncing = [False]

        def copy(src: pg.ViewBox, dst: pg.ViewBox) -> None:
            if syncing[0]:
                return
            syncing[0] = True
            try:
                (x0, x1), _ = src.viewRange()
                dst.setXRange(x0, x1, padding=0.0)
            finally:
                syncing[0] = False

        view_box.sigXRangeChanged.connect(lambda *_: copy(view_box, self._vb))
        self._vb.sigXRangeChanged.connect(lambda *_: copy(self._vb, view_box))
        copy(view_box, self._vb)

    def set_playhead(self, t: float) -> None:
        self.playhead.setValue(float(t))

    def playhead_time(self) -> float:
        return float(self.playhead.value())

    def selected_id(self) -> int | None:
        return self._selected

    def select(self, segment_id: int | None) -> None:
        if segment_id is not None and self.model.document.find(segment_id) is None:
            segment_id = None
        if segment_id != self._selected:
            self._selected = segment_id
            self.canvas.update()
            self.selectionChanged.emit(segment_id)

    def lanes(self) -> list[str]:
        return list(self._lanes)

    def lane_y(self, class_name: str) -> float:
        """The middle of a lane in view coordinates."""
        return self._lanes.index(class_name) + 0.5

    def add_lane(self, class_name: str) -> None:
        if class_name not in self._extra_lanes:
            self._extra_lanes.append(class_name)
            self.refresh()

    def set_show_all_lanes(self, show: bool) -> None:
        self._show_all = show
        self.refresh()

    def frame(self) -> float:
        return self.model.document.frame_duration

    def duration(self) -> float | None:
        return self.model.document.duration

    def request_seek(self, t: float) -> None:
        limit = self.duration()
        t = max(0.0, min(t, limit) if limit is not None else t)
        self.set_playhead(t)
        self.seekRequested.emit(t)

    def delete_selected(self) -> None:
        if self._selected is not None:
            sid = self._selected
            self.model.push(DeleteSegment(sid))
            self.select(None)

    def change_class(self, segment_id: int, class_name: str) -> None:
        self.model.push(EditSegment(segment_id, class_name=class_name))

    def split_at_playhead(self) -> None:
        """Split the selected effect at the playhead; with no effect selected (or the playhead
        outside it), split every effect under the playhead, as one undo step.

        Effects where the playhead is less than a frame from an edge are left whole (a split
        there would make a sliver); when the selected one is such, the refusal is shown."""
        t = snap(self.playhead_time(), self.frame())
        doc = self.model.document
        sel = doc.find(self._selected) if self._selected is not None else None
        if sel is not None and sel.start < t < sel.end:
            targets = [sel]  # a split too near its edge is refused with a message
        else:
            targets = [s for s in doc.segments
                       if s.origin != "mute" and can_split(s, t, doc.min_length)]
        if not targets:
            return
        cmds = [SplitSegment(s.id, t) for s in targets]
        self.model.push(cmds[0] if len(cmds) == 1 else CompositeCommand("Split effects", cmds))

    def build_context_menu(self, segment_id: int | None, lane_class: str | None) -> QMenu:
        menu = QMenu(self)
        doc = self.model.document
        seg = doc.find(segment_id) if segment_id is not None else None
        if seg is not None:
            menu.addAction("Delete", lambda: (self.select(seg.id), self.delete_selected()))  # type: ignore[func-returns-value]
            split = menu.addAction("Split at playhead", self.split_at_playhead)
            split.setEnabled(can_split(seg, snap(self.playhead_time(), self.frame()), doc.min_length))
            if seg.origin != "mute":
                sub = menu.addMenu("Change class")
                for c in doc.classes.effect_classes():
                    act = sub.addAction(c.display_name,
                                        lambda name=c.name: self.change_class(seg.id, name))  # type: ignore[misc]
                    act.setCheckable(True)
                    act.setChecked(c.name == seg.class_name)
            menu.addSeparator()
        add = menu.addMenu("Add lane")
        for c in doc.classes.effect_classes():
            if c.name not in self._lanes:
                add.addAction(c.display_name, lambda name=c.name: self.add_lane(name))  # type: ignore[misc]
        show_all = menu.addAction("Show all classes", lambda: self.set_show_all_lanes(not self._show_all))
        show_all.setCheckable(True)
        show_all.setChecked(self._show_all)
        return menu

    # -- updates -----------------------------------------------------------------------------
    def _on_analysis(self) -> None:
        self.refresh()
        end = self.duration() or max((s.end for s in self.model.document.segments), default=10.0)
        if self._linked is None:
            self._vb.setLimits(xMin=-1.0, xMax=end + 1.0)
            self._vb.setXRange(0.0, end, padding=0.0)
        else:
            # Linked: the timeline owns the limits (it knows the duration while streaming);
            # limits of our own would clamp its range. Take its range again in case it was set
            # before this document reached us (slot order).
            (x0, x1), _ = self._linked.viewRange()
            self._vb.setXRange(x0, x1, padding=0.0)

    def refresh(self) -> None:
        doc = self.model.document
        segments = doc.segments
        classes = doc.classes
        used = {s.class_name for s in segments}
        wanted = used | set(self._extra_lanes)
        if self._show_all:
            wanted |= {c.name for c in classes.effect_classes()}
        wanted.discard(OTHERWISE)
        ordered = [c.name for c in classes.classes if c.name in wanted]
        ordered += sorted(wanted - set(ordered))  # classes of an earlier model stay visible
        if ordered != self._lanes:
            self._lanes = ordered
            self.plot.getAxis("left").setTicks(
                [[(i + 0.5, display_name(n)) for i, n in enumerate(ordered)], []])
            self._vb.setYRange(0.0, max(1, len(ordered)), padding=0.0)
            self.setMinimumHeight(LANE_PX * max(1, len(ordered)) + 30)
        limit = doc.duration
        extent = (limit if limit is not None else max((s.end for s in segments), default=0.0) + 3600.0)
        self.canvas.set_data(self._lanes, segments, max(extent, 1.0))
        if self._selected is not None and doc.find(self._selected) is None:
            self.select(None)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
            event.accept()
        elif event.key() == Qt.Key.Key_Escape:
            self.select(None)
            event.accept()
        else:
            super().keyPressEvent(event)

    def block_scene_pos(self, segment_id: int, fraction: float = 0.5) -> QPointF:
        """Scene position of a point inside a block (fraction along it); for tests and tours."""
        s = self.model.document.find(segment_id)
        assert s is not None
        x = s.start + fraction * s.duration
        return self._vb.mapViewToScene(QPointF(x, self.lane_y(s.class_name)))
