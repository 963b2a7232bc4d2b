"""Effect lanes: one lane per class, effects as blocks the editor selects, moves, trims, splits,
deletes, relabels, draws, copies, pastes, duplicates and nudges, like clips on an NLE track.

The blocks are painted, and mouse gestures handled, by one GraphicsObject
(`lane_canvas.LaneCanvas`); edits of several effects at once are built in `lane_edit`, each
as ONE undo step; labels, waveforms and tooltips of blocks are drawn by `lane_paint`.

This widget holds the selection (several effects, one of them primary: the one the inspector
shows and `selectionChanged` names), the clipboard, and the snapping settings, and is the
public API the window's actions call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QMenu, QVBoxLayout, QWidget

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.commands import (
    Command,
    CompositeCommand,
    EditSegment,
    SplitSegment,
    can_split,
    snap,
)
from sfxstudio.core.segments import Segment
from sfxstudio.gui.colors import display_name
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.lane_canvas import LaneCanvas
from sfxstudio.gui.lane_edit import EditRefused, clip_of, delete_command, place_command, shift_command
from sfxstudio.gui.lane_paint import BlockWaveforms, sound_name
from sfxstudio.gui.timeline import LABEL_WIDTH, TimeAxis, cache_axes

__all__ = ["EffectLanes", "LaneCanvas", "sound_name"]

LANE_PX = 22  # minimum height of a lane on screen (lanes grow with the splitter)
CLIPBOARD_MIME_KEY = "sfxstudio_effects"  # the key of the JSON put on the system clipboard


class EffectLanes(QWidget):
    seekRequested = Signal(float)
    selectionChanged = Signal(object)  # the primary selected segment's id, or None

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._selected: int | None = None  # the primary selection
        self._selection: list[int] = []  # every selected id, in the order they were selected
        self._selection_set: set[int] = set()
        self._clipboard: list[Segment] = []
        self._snapping = True
        self._snap_extra: list[float] = []
        self._extra_lanes: list[str] = []
        self._show_all = False
        self._lanes: list[str] = []
        self._library: Callable[[], Any] | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.waveforms = BlockWaveforms(self._sound_library, self)
        self.waveforms.ready.connect(self._on_peaks)

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
        model.projectChanged.connect(self.waveforms.clear)
        self.destroyed.connect(self.waveforms.shutdown)
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

    def playhead_frame(self) -> float:
        """The playhead on the editing grid: where a split cuts and a paste lands.

        The start of the frame the playhead is in, the frame the timecode shows (it counts
        whole frames), so S cuts where the display says whatever put the playhead mid-frame
        (a click in the probability timeline, a pause during playback)."""
        f = self.frame()
        if f <= 0:
            return max(0.0, self.playhead_time())
        return max(0.0, math.floor(self.playhead_time() / f + 1e-6) * f)

    def set_library_provider(self, provider: Callable[[], Any] | None) -> None:
        """Where blocks' sound files are found (a callable answering a media.library
        SoundLibrary); default: the document's sound assigner's library, the one the effects'
        files were chosen from and the render plays."""
        self._library = provider
        self.waveforms.clear()
        self.canvas.update()

    # -- selection -------------------------------------------------------------------------
    def selected_id(self) -> int | None:
        """The primary selected effect (the inspector's), or None."""
        return self._selected

    def selected_ids(self) -> list[int]:
        """Every selected effect, in the order they were selected (the primary last)."""
        return list(self._selection)

    def is_selected(self, segment_id: int) -> bool:
        return segment_id in self._selection_set

    def select(self, segment_id: int | None) -> None:
        """Select one effect alone (None: nothing)."""
        self.select_ids([] if segment_id is None else [segment_id])

    def select_ids(self, ids: list[int]) -> None:
        """Select these effects (unknown ids are dropped); the last one becomes the primary."""
        doc = self.model.document
        valid = [i for i in dict.fromkeys(ids) if doc.find(i) is not None]
        self._set_selection(valid, valid[-1] if valid else None)

    def toggle_selected(self, segment_id: int) -> None:
        """Shift/Ctrl-click: add an effect to the selection, or take it out."""
        if segment_id in self._selection_set:
            rest = [i for i in self._selection if i != segment_id]
            self._set_selection(rest, rest[-1] if rest else None)
        else:
            self.select_ids([*self._selection, segment_id])

    def select_all(self) -> None:
        """Every audible effect (mutes are absences and stay unselected)."""
        self.select_ids([s.id for s in self.model.document.segments if s.origin != "mute"])

    def _set_selection(self, ids: list[int], primary: int | None) -> None:
        if ids != self._selection:
            self._selection, self._selection_set = ids, set(ids)
            self.canvas.update()
        if primary != self._selected:
            self._selected = primary
            self.selectionChanged.emit(primary)

    def _selected_segments(self) -> list[Segment]:
        doc = self.model.document
        segs = [s for s in (doc.find(i) for i in self._selection) if s is not None]
        return sorted(segs, key=lambda s: (s.start, s.class_name))

    # -- snapping ----------------------------------------------------------------------------
    @property
    def snapping(self) -> bool:
        """Whether dragged edges snap to the playhead, effect edges and the extra targets."""
        return self._snapping

    def set_snapping(self, on: bool) -> None:
        self._snapping = bool(on)

    def set_snap_targets(self, times: list[float]) -> None:
        """Further times edges snap to (the window gives the markers and the in/out points)."""
        self._snap_extra = [float(t) for t in times]

    def snap_times(self) -> list[float] | None:
        """The playhead and the extra targets (effect edges are added by the canvas); None
        while snapping is off."""
        if not self._snapping:
            return None
        return [self.playhead_frame(), *self._snap_extra]

    # -- edits -------------------------------------------------------------------------------
    def push(self, command: Command) -> bool:
        return self.model.push(command)

    def edit(self, build: Callable[[], Command]) -> bool:
        """Build an edit and push it as one undo step; a refusal is said in the status bar."""
        try:
            command = build()
        except EditRefused as exc:
            self.model.editRefused.emit(str(exc))
            return False
        return self.model.push(command)

    def copy_selection(self) -> int:
        """Copy the selected effects to the lanes' clipboard (and the system clipboard as
        JSON text, for a look or another program); returns how many were copied."""
        clip = clip_of(self._selected_segments())
        if not clip:
            self.model.editRefused.emit("Select effects to copy")
            return 0
        self._clipboard = clip
        board = QGuiApplication.clipboard()
        if board is not None:
            board.setText(json.dumps({CLIPBOARD_MIME_KEY: [s.to_json() for s in clip]}, indent=1))
        return len(clip)

    def paste_at_playhead(self) -> bool:
        """New manual copies of the clipboard's effects, the earliest at the playhead, classes,
        sounds, gains and relative times kept; they become the selection."""
        return self._place("Paste", self._clipboard, self.playhead_frame())

    def duplicate_selection(self) -> bool:
        """Copies of the selected effects right after the selection's end."""
        clip = clip_of(self._selected_segments())
        at = max((s.end for s in clip), default=0.0)
        return self._place("Duplicate", clip, at)

    def _place(self, verb: str, clip: list[Segment], at: float) -> bool:
        new_ids: list[int] = []

        def build() -> Command:
            command, ids = place_command(verb, clip, at, self.frame(), self.duration())
            new_ids.extend(ids)
            return command

        if self.edit(build):
            self.select_ids(new_ids)
            return True
        return False

    def nudge_selection(self, frames: int) -> bool:
        """Move the selected effects by whole frames (negative: earlier), as one undo step."""
        segs = self._selected_segments()
        return self.edit(lambda: shift_command("Nudge", segs, frames * self.frame(), self.frame(),
                                               self.duration()))

    def delete_selected(self) -> None:
        """Delete every selected effect, as one undo step."""
        segs = self._selected_segments()
        if segs:
            self.edit(lambda: delete_command(segs))
            self.select(None)

    def change_class(self, segment_id: int, class_name: str) -> None:
        self.model.push(EditSegment(segment_id, class_name=class_name))

    def split_at_playhead(self) -> None:
        """Split the selected effect at the playhead; with no effect selected (or the playhead
        outside it), split every effect under the playhead, as one undo step.

        Effects where the playhead is less than a frame from an edge are left whole (a split
        there would make a sliver); when the selected one is such, the refusal is shown."""
        t = self.playhead_frame()
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

    # -- lanes -------------------------------------------------------------------------------
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
        """A click on empty space: the playhead goes to the nearest frame boundary, so what
        the timecode shows, where the line is drawn and where S cuts are the same frame."""
        limit = self.duration()
        t = snap(max(0.0, t), self.frame())
        t = min(t, limit) if limit is not None else t
        self.set_playhead(t)
        self.seekRequested.emit(t)

    def build_context_menu(self, segment_id: int | None, lane_class: str | None) -> QMenu:
        menu = QMenu(self)
        doc = self.model.document
        seg = doc.find(segment_id) if segment_id is not None else None
        if seg is not None:
            several = self.is_selected(seg.id) and len(self._selection) > 1
            if not several:
                self.select(seg.id)
            menu.addAction("Delete", self.delete_selected)
            menu.addAction("Copy", self.copy_selection)
            menu.addAction("Duplicate", self.duplicate_selection)
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
        paste = menu.addAction("Paste at playhead", self.paste_at_playhead)
        paste.setEnabled(bool(self._clipboard))
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
        if any(doc.find(i) is None for i in self._selection):
            kept = [i for i in self._selection if doc.find(i) is not None]
            self._set_selection(kept, self._selected if self._selected in kept else
                                (kept[-1] if kept else None))

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

    # -- waveforms ---------------------------------------------------------------------------
    def _sound_library(self) -> Any:
        """The library blocks' sound files are resolved in (called in the peaks thread)."""
        if self._library is not None:
            return self._library()
        doc = self.model.document
        library = getattr(doc.assigner, "library", None)
        return library(doc.project) if callable(library) else None

    @Slot()
    def _on_peaks(self) -> None:
        self.canvas.update()
