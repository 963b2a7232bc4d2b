"""The one GraphicsObject that paints every effect block of the lanes and turns mouse
gestures into commands (no item per block, so thousands of effects stay responsive).

A drag only changes a preview; the edit is pushed as one undoable command on mouse release.
Times snap to the editing frame, and, with snapping on, an edge dragged within SNAP_PX
pixels of the playhead, another effect's edge or an extra target (markers, in/out) lands on
it (still on a frame).

Mouse: click selects (Shift/Ctrl-click adds or removes), click on empty space seeks; drag a
block moves it (with the rest of the selection when it is selected; Alt-drag duplicates
instead), drag an edge trims, drag on empty space draws a new effect, Ctrl/Shift-drag on
empty space selects with a rubber band (Shift adds to the selection).

Look: automatic = translucent fill with a dashed outline; manual = solid fill with a bright
outline; mute (a deleted automatic effect) = hatched grey; selected blocks get a white
outline and a light veil. Wide blocks show "class · sound" and their sound's waveform.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QMenu

from sfxstudio.core.commands import AddSegment, CompositeCommand, EditSegment, snap
from sfxstudio.core.segments import Segment
from sfxstudio.gui.colors import MUTE_COLOR, class_color
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.lane_edit import (
    SNAP_PX,
    SnapTargets,
    clip_of,
    copy_of,
    effects_name,
    in_band,
    shift_command,
)
from sfxstudio.gui.lane_paint import BlockWaveforms, paint_labels, tooltip_text

BLOCK_TOP, BLOCK_BOTTOM = 0.12, 0.88  # of a lane, leaves a gap between lanes
EDGE_PX = 6  # how close to an edge (in pixels) grabs it for trimming
NAME_MIN_PX = 48  # a block this wide on screen shows its name
WAVE_MIN_PX = 16  # a block this wide on screen shows its sound's waveform
MAX_NAMES = 300  # names (and waveforms) drawn per paint at most (zoomed out on thousands: none)
_ADD = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier


def _cosmetic(pen: QPen) -> QPen:
    pen.setCosmetic(True)  # pixel widths whatever the zoom
    return pen


_SELECTED_PEN = _cosmetic(QPen(QColor("#ffffff"), 2.5))
_SELECTED_VEIL = QBrush(QColor(255, 255, 255, 45))
_BAND_PEN = _cosmetic(QPen(QColor("#ffffff"), 1, Qt.PenStyle.DashLine))
_BAND_BRUSH = QBrush(QColor(255, 255, 255, 30))


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


class LaneOwner(Protocol):
    """What the canvas needs from the lanes widget (gui.lanes.EffectLanes)."""

    model: DocumentModel
    waveforms: BlockWaveforms

    def selected_id(self) -> int | None: ...
    def selected_ids(self) -> list[int]: ...
    def is_selected(self, segment_id: int) -> bool: ...
    def select(self, segment_id: int | None) -> None: ...
    def select_ids(self, ids: list[int]) -> None: ...
    def toggle_selected(self, segment_id: int) -> None: ...
    def request_seek(self, t: float) -> None: ...
    def frame(self) -> float: ...
    def duration(self) -> float | None: ...
    def snap_times(self) -> list[float] | None: ...
    def push(self, command: Any) -> bool: ...
    def edit(self, build: Callable[[], Any]) -> bool: ...
    def build_context_menu(self, segment_id: int | None, lane_class: str | None) -> QMenu: ...


@dataclass
class _Drag:
    mode: str  # "move" | "start" | "end" | "draw" | "band"
    anchor: float
    segment: Segment | None
    lane: int
    start: float
    end: float
    class_name: str
    group: list[Segment] = field(default_factory=list)  # the blocks a move takes along
    delta: float = 0.0  # how far a move has taken them
    copy: bool = False  # Alt-drag: duplicate instead of moving
    adding: bool = False  # rubber band adds to the selection (Shift)
    lanes: tuple[float, float] = (0.0, 0.0)  # rubber band's y range
    targets: SnapTargets | None = None  # None: snapping off


class LaneCanvas(pg.GraphicsObject):
    """Paints every effect block and turns mouse gestures into commands."""

    def __init__(self, lanes: LaneOwner) -> None:
        super().__init__()
        self.lanes = lanes
        self._lane_names: list[str] = []
        self._by_lane: list[list[Segment]] = []
        self._starts: list[list[float]] = []
        self._max_len: list[float] = []
        self._extent = 10.0
        self._tip: int | None = None
        self.drag: _Drag | None = None
        self.names_drawn: list[tuple[int, str]] = []  # (segment id, sound name) of the last paint
        self.labels_drawn: list[tuple[int, str]] = []  # (segment id, whole label) of the last paint
        self.waves_drawn = 0  # waveforms drawn by the last paint
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
        self._tip = None
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
        for s in reversed(segs[lo:hi]):  # later blocks are painted on top
            edge_tol = min(tol, s.duration / 3)
            if not s.start - edge_tol <= x <= s.end + edge_tol:
                continue
            part = ("start" if abs(x - s.start) <= edge_tol else
                    "end" if abs(x - s.end) <= edge_tol else "body")
            if self.lanes.is_selected(s.id):
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
        drag = self.drag
        moving = drag is not None and drag.mode in ("move", "start", "end") and not drag.copy
        hidden = {s.id for s in drag.group} if drag is not None and moving else set()
        # Group rectangles by look and draw each group with one drawRects call: thousands of
        # blocks cost a few ms instead of one pen/brush switch per block.
        groups: dict[tuple[str, str], list[QRectF]] = {}
        named: list[tuple[Segment, QRectF]] = []
        waves: list[tuple[Segment, QRectF]] = []
        selected: list[QRectF] = []
        h = BLOCK_BOTTOM - BLOCK_TOP
        px = self.pixelWidth() or 0.0
        is_selected = self.lanes.is_selected
        for lane, segs in enumerate(self._by_lane):
            starts = self._starts[lane]
            lo = bisect.bisect_left(starts, x0 - self._max_len[lane])
            hi = bisect.bisect_right(starts, x1)
            for s in segs[lo:hi]:
                if s.end < x0 or s.id in hidden:
                    continue
                rect = QRectF(s.start, lane + BLOCK_TOP, s.end - s.start, h)
                groups.setdefault((s.class_name, s.origin), []).append(rect)
                if px > 0 and s.variation and s.origin != "mute":
                    wide = s.end - s.start
                    if wide >= WAVE_MIN_PX * px:
                        waves.append((s, rect))
                        if wide >= NAME_MIN_PX * px:
                            named.append((s, rect))
                if is_selected(s.id):
                    selected.append(rect)
        # Mutes first: a mute under a manual effect (an automatic effect the editor took
        # over) must not hide it.
        for (class_name, origin), rects in sorted(groups.items(), key=lambda kv: kv[0][1] != "mute"):
            pen, brush = _style(class_name, origin)
            painter.setPen(pen)
            painter.setBrush(brush)
            painter.drawRects(rects)
        self.waves_drawn = self.lanes.waveforms.paint(painter, waves if len(waves) <= MAX_NAMES else [])
        if drag is not None:
            selected += self._paint_drag(painter, drag, h)
        self.names_drawn, self.labels_drawn = paint_labels(painter, named if len(named) <= MAX_NAMES else [])
        if selected:
            painter.setPen(_SELECTED_PEN)
            painter.setBrush(_SELECTED_VEIL)
            painter.drawRects(selected)

    def _paint_drag(self, painter: QPainter, drag: _Drag, h: float) -> list[QRectF]:
        """The preview of a gesture; returns the rectangles to outline as selected."""
        if drag.mode == "band":
            painter.setPen(_BAND_PEN)
            painter.setBrush(_BAND_BRUSH)
            a, b = drag.lanes
            painter.drawRect(QRectF(drag.start, min(a, b), drag.end - drag.start, abs(b - a)))
            return []
        if drag.end <= drag.start:
            return []
        if drag.mode == "move" and len(drag.group) > 1:
            rects = []
            for s in drag.group:
                lane = self._lane_names.index(s.class_name)
                pen, brush = _style(s.class_name, "mute" if s.origin == "mute" else "manual")
                painter.setPen(pen)
                painter.setBrush(brush)
                rect = QRectF(s.start + drag.delta, lane + BLOCK_TOP, s.duration, h)
                painter.drawRect(rect)
                rects.append(rect)
            return rects
        origin = "mute" if drag.segment is not None and drag.segment.origin == "mute" else "manual"
        pen, brush = _style(drag.class_name, origin)
        painter.setPen(pen)
        painter.setBrush(brush)
        rect = QRectF(drag.start, drag.lane + BLOCK_TOP, drag.end - drag.start, h)
        painter.drawRect(rect)
        return [rect]

    # -- mouse -------------------------------------------------------------------------------
    def hoverEvent(self, ev: Any) -> None:
        if ev.isExit():
            self.setCursor(Qt.CursorShape.ArrowCursor)
            self._tip = None
            self.setToolTip("")
            return
        p = ev.pos()
        seg, part = self.segment_at(p.x(), p.y())
        shape = (Qt.CursorShape.SizeHorCursor if part in ("start", "end") else
                 Qt.CursorShape.OpenHandCursor if seg is not None else Qt.CursorShape.CrossCursor)
        self.setCursor(shape)
        tip = seg.id if seg is not None else None
        if tip != self._tip:
            self._tip = tip
            self.setToolTip(tooltip_text(seg, self.lanes.frame()) if seg is not None else "")

    def mouseClickEvent(self, ev: Any) -> None:
        p = ev.pos()
        seg, _part = self.segment_at(p.x(), p.y())
        adding = bool(ev.modifiers() & _ADD)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if seg is not None:
                if adding:
                    self.lanes.toggle_selected(seg.id)
                else:
                    self.lanes.select(seg.id)
            else:
                if not adding:
                    self.lanes.select(None)
                self.lanes.request_seek(p.x())
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            if seg is not None and not self.lanes.is_selected(seg.id):
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
            self.drag = self.start_drag(p0.x(), p0.y(), ev.modifiers())
        if self.drag is None:
            return
        p = ev.pos()
        self.update_drag(p.x(), p.y())
        if ev.isFinish():
            self.finish_drag()

    # The gesture logic, callable without a mouse (tests, keyboard nudges).
    def start_drag(self, x: float, y: float,
                   modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> _Drag | None:
        seg, part = self.segment_at(x, y)
        lane = self.lane_at(y)
        adding = bool(modifiers & _ADD)
        if seg is not None:
            mode = {"start": "start", "end": "end"}.get(part, "move")
            if not self.lanes.is_selected(seg.id):
                if adding:
                    self.lanes.toggle_selected(seg.id)
                else:
                    self.lanes.select(seg.id)
            else:
                # The block grabbed becomes the primary (the one the inspector shows).
                self.lanes.select_ids([i for i in self.lanes.selected_ids() if i != seg.id] + [seg.id])
            group = [seg]
            if mode == "move" and len(self.lanes.selected_ids()) > 1:
                doc = self.lanes.model.document
                group = [s for s in (doc.find(i) for i in self.lanes.selected_ids()) if s is not None]
            copy = mode == "move" and bool(modifiers & Qt.KeyboardModifier.AltModifier)
            return _Drag(mode, x, seg, self._lane_names.index(seg.class_name), seg.start, seg.end,
                         seg.class_name, group=group, copy=copy,
                         targets=self._targets({s.id for s in group} if not copy else set()))
        if lane is None:
            return None
        if adding:  # rubber band
            return _Drag("band", x, None, lane, x, x, self._lane_names[lane], lanes=(y, y),
                         adding=bool(modifiers & Qt.KeyboardModifier.ShiftModifier))
        self.lanes.select(None)
        # A new effect snaps to the playhead and the extra targets only: the automatic lanes
        # are dense with edges, which would pull a freely drawn range off where it was drawn.
        extra = self.lanes.snap_times()
        targets = SnapTargets(extra) if extra is not None else None
        t = self._time_at(x, targets)
        return _Drag("draw", t, None, lane, t, t, self._lane_names[lane], targets=targets)

    def _targets(self, exclude: set[int]) -> SnapTargets | None:
        extra = self.lanes.snap_times()
        if extra is None:
            return None
        return SnapTargets.of(self.lanes.model.document.segments, exclude, extra)

    def _tolerance(self) -> float:
        return SNAP_PX * (self.pixelWidth() or 0.0)

    def _time_at(self, x: float, targets: SnapTargets | None) -> float:
        """The frame-aligned time an edge dropped at x lands on: a snap target within
        tolerance, else the nearest frame; never past the video's end."""
        hit = targets.nearest(x, self._tolerance()) if targets is not None else None
        t = snap(hit if hit is not None else x, self.lanes.frame())
        limit = self.lanes.duration()
        return min(t, limit) if limit is not None else t

    def update_drag(self, x: float, y: float) -> None:
        d = self.drag
        if d is None:
            return
        frame = self.lanes.frame()
        if d.mode == "band":
            d.start, d.end = min(d.anchor, x), max(d.anchor, x)
            d.lanes = (d.lanes[0], y)
        elif d.mode == "draw":
            t = self._time_at(x, d.targets)
            d.start, d.end = min(d.anchor, t), max(d.anchor, t)
        elif d.mode == "start" and d.segment is not None:
            d.start = min(self._time_at(x, d.targets), d.segment.end - frame)
        elif d.mode == "end" and d.segment is not None:
            d.end = max(self._time_at(x, d.targets), d.segment.start + frame)
        elif d.mode == "move" and d.segment is not None:
            self._update_move(d, x, y)
        self.update()

    def _update_move(self, d: _Drag, x: float, y: float) -> None:
        seg = d.segment
        assert seg is not None
        frame, limit = self.lanes.frame(), self.lanes.duration()
        delta = x - d.anchor
        if d.targets is not None:
            shift = d.targets.snap_edges([seg.start + delta, seg.end + delta], self._tolerance())
            delta += shift or 0.0
        delta = snap(seg.start + delta, frame) - seg.start
        lo = min(s.start for s in d.group)
        hi = max(s.end for s in d.group)
        delta = max(delta, -lo)
        if limit is not None:
            delta = min(delta, max(-lo, limit - hi))
        d.delta = delta
        d.start, d.end = seg.start + delta, seg.end + delta
        lane = self.lane_at(y)
        # A lone block dragged to another lane is relabelled (a mute keeps its class).
        if lane is not None and len(d.group) == 1 and seg.origin != "mute":
            d.lane, d.class_name = lane, self._lane_names[lane]

    def finish_drag(self) -> None:
        d, self.drag = self.drag, None
        self.update()
        if d is None:
            return
        lanes = self.lanes
        if d.mode == "band":
            a, b = sorted(d.lanes)
            lane0, lane1 = max(0, int(a)), min(len(self._lane_names) - 1, int(b))
            ids = in_band(lanes.model.document, self._lane_names, d.start, d.end, lane0, lane1)
            lanes.select_ids([*lanes.selected_ids(), *ids] if d.adding else ids)
            return
        if d.mode == "draw":
            if d.end - d.start >= lanes.frame() * 0.999:
                seg = Segment(d.class_name, d.start, d.end, origin="manual")
                if lanes.push(AddSegment(seg)):
                    lanes.select(seg.id)
            return
        s = d.segment
        assert s is not None
        if d.copy:
            self._finish_copy(d)
            return
        if d.mode == "move" and len(d.group) > 1:
            if abs(d.delta) > 1e-9:
                group, delta = d.group, d.delta
                lanes.edit(lambda: shift_command("Move", group, delta, lanes.frame(), lanes.duration()))
            return
        changes: dict[str, object] = {}
        if abs(d.start - s.start) > 1e-9:
            changes["start"] = d.start
        if abs(d.end - s.end) > 1e-9:
            changes["end"] = d.end
        if d.class_name != s.class_name:
            changes["class_name"] = d.class_name
        if changes:
            lanes.push(EditSegment(s.id, **changes))  # type: ignore[arg-type]
            lanes.select(s.id)

    def _finish_copy(self, d: _Drag) -> None:
        """Alt-drag: copies where the blocks were dropped, the originals stay."""
        lanes = self.lanes
        if abs(d.delta) < 1e-9 and d.class_name == (d.segment.class_name if d.segment else ""):
            return  # dropped where it was: no copy on top of the original
        clip = clip_of(d.group)
        copies = [copy_of(s, s.start + d.delta) for s in clip]
        if len(copies) == 1 and d.class_name != copies[0].class_name:
            copies = [copies[0].with_(class_name=d.class_name)]
        if not copies:
            return
        if lanes.push(CompositeCommand(effects_name("Duplicate", len(copies)),
                                       [AddSegment(c) for c in copies])):
            lanes.select_ids([c.id for c in copies])
