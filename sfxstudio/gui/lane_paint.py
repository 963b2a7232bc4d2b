"""What is drawn inside an effect block besides its fill: its label ("class · sound"), its
sound's waveform, and its tooltip text.

Cheap by design, since the lanes repaint while the playhead moves:
- a sound's peaks are read once per file, in a background thread (never in paint); a block
  whose peaks are not there yet is drawn without them and repainted when they arrive;
- each block's waveform is ONE path, downsampled to the block's width in pixels and cached
  by (file, pixel size, length shown), so a repaint with nothing zoomed only translates it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPen, QTransform

from sfxstudio.core.segments import Segment
from sfxstudio.gui.colors import display_name
from sfxstudio.gui.timecode import format_timecode

log = logging.getLogger(__name__)

PEAKS_PER_SECOND = 200.0  # what a block of a few seconds needs at any zoom up to ~200 px/s
MAX_COLUMNS = 2048  # a block wider on screen is drawn with this many columns, stretched
PATH_CACHE = 1024  # waveform paths kept (a few kB each)
_NAME_PEN = QPen(QColor("#f4f4f4"))
_CLASS_PEN = QPen(QColor(244, 244, 244, 150))  # the class part of a label, dimmer than the sound
_WAVE_PEN = QPen(QColor(255, 255, 255, 80), 1.0)
_WAVE_PEN.setCosmetic(True)
SEPARATOR = " · "


def sound_name(segment: Segment) -> str:
    """What a block says: its sound file's name without folder and extension ("" for none)."""
    if not segment.variation or segment.origin == "mute":
        return ""
    return PurePosixPath(segment.variation.replace("\\", "/")).stem


def tooltip_text(segment: Segment, frame: float) -> str:
    """Class, sound file, in/out timecode, duration and origin of an effect, one fact a line."""
    fps = 1.0 / frame if frame > 0 else None
    origin = {"auto": "automatic", "manual": "manual",
              "mute": "mute (a deleted automatic effect)"}[segment.origin]
    sound = PurePosixPath(segment.variation.replace("\\", "/")).name if segment.variation else "none"
    frames = round(segment.duration / frame) if frame > 0 else 0
    lines = [f"{display_name(segment.class_name)} ({origin})"]
    if segment.origin != "mute":
        lines.append(f"Sound: {sound}")
    lines += [f"In {format_timecode(segment.start, fps)}   Out {format_timecode(segment.end, fps)}",
              f"Duration {segment.duration:.2f} s ({frames} frames)"]
    return "\n".join(lines)


def paint_labels(painter: QPainter, named: list[tuple[Segment, QRectF]]
                 ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Each block's "Class · sound" left-aligned inside it in screen pixels; where the whole
    label does not fit, the sound's name alone, elided (the lane already says the class).

    Returns (sound names drawn, whole labels drawn), each as (segment id, text)."""
    names: list[tuple[int, str]] = []
    labels: list[tuple[int, str]] = []
    if not named:
        return names, labels
    transform = painter.transform()
    painter.save()
    painter.resetTransform()
    metrics = QFontMetrics(painter.font())
    align = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
    for s, rect in named:
        box = transform.mapRect(rect).adjusted(4, 0, -4, 0)
        if box.height() < metrics.height() - 2 or box.width() < 8:
            continue
        sound = sound_name(s)
        prefix = display_name(s.class_name) + SEPARATOR
        if metrics.horizontalAdvance(prefix + sound) <= box.width():
            painter.setPen(_CLASS_PEN)
            painter.drawText(box, align, prefix)
            painter.setPen(_NAME_PEN)
            painter.drawText(box.adjusted(metrics.horizontalAdvance(prefix), 0, 0, 0), align, sound)
            names.append((s.id, sound))
            labels.append((s.id, prefix + sound))
            continue
        text = metrics.elidedText(sound, Qt.TextElideMode.ElideRight, int(box.width()))
        if text:
            painter.setPen(_NAME_PEN)
            painter.drawText(box, align, text)
            names.append((s.id, text))
            labels.append((s.id, text))
    painter.restore()
    return names, labels


def envelope_path(peaks: np.ndarray, columns: int, width: float, height: float) -> QPainterPath:
    """One closed outline of the peaks (max along the top, min back along the bottom),
    `columns` wide, scaled to width x height pixels with 0 in the middle."""
    m = len(peaks)
    columns = max(1, min(columns, MAX_COLUMNS))
    edges = np.minimum((np.arange(columns) * m) // columns, m - 1)
    hi = np.maximum.reduceat(peaks[:, 1], edges)
    lo = np.minimum.reduceat(peaks[:, 0], edges)
    xs = np.linspace(0.0, width, columns)
    mid = height / 2.0
    top = mid - np.clip(hi, -1.0, 1.0) * mid
    bottom = mid - np.clip(lo, -1.0, 1.0) * mid
    x = np.concatenate([xs, xs[::-1], xs[:1]])
    y = np.concatenate([top, bottom[::-1], top[:1]])
    path: QPainterPath = pg.arrayToQPath(x, y, connect="all")
    return path


class BlockWaveforms(QObject):
    """Peaks of the effects' sound files, read in one background thread, and the paths drawn.

    `library` answers the sound library the renderer plays from (its `resolve` turns a
    segment's variation into a file); the default is the document's sound assigner's.
    `ready` is emitted (in the GUI thread) when new peaks arrived: the lanes repaint then."""

    ready = Signal()

    def __init__(self, library: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._peaks: dict[str, tuple[np.ndarray, float] | None] = {}  # None: no file / unreadable
        self._pending: dict[str, Future[None]] = {}
        self._paths: OrderedDict[tuple[str, int, int, int], QPainterPath] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lane-peaks")

    def clear(self) -> None:
        """Forget every sound (another project or library: the same name may be another file)."""
        with self._lock:
            self._peaks.clear()
        self._paths.clear()

    def peaks(self, variation: str) -> tuple[np.ndarray, float] | None:
        """The peaks and length of a sound, or None while they are being read (or unreadable)."""
        with self._lock:
            if variation in self._peaks:
                return self._peaks[variation]
            if variation in self._pending:
                return None
            self._pending[variation] = self._pool.submit(self._read, variation)
        return None

    def wait(self) -> None:
        """Block until every requested sound is read (tests, screenshots)."""
        while True:
            with self._lock:
                pending = list(self._pending.values())
            if not pending:
                return
            for f in pending:
                f.result()

    def _read(self, variation: str) -> None:
        got: tuple[np.ndarray, float] | None = None
        try:
            from sfxstudio.media.peaks import file_peaks

            library = self.library()
            if library is not None:
                peaks, duration = file_peaks(library.resolve(variation), PEAKS_PER_SECOND)
                got = (peaks, duration) if len(peaks) and duration > 0 else None
        except Exception as exc:  # a missing or broken sound file: the block just has no waveform
            log.info("no waveform for %s: %s", variation, exc)
        with self._lock:
            self._peaks[variation] = got
            self._pending.pop(variation, None)
        self.ready.emit()

    def path(self, segment: Segment, box: QRectF) -> QPainterPath | None:
        """The waveform of a block drawn in `box` (screen pixels), or None (no peaks yet).

        The sound plays from the block's start; a sound shorter than the block covers only
        its part of the width."""
        assert segment.variation is not None
        got = self.peaks(segment.variation)
        if got is None:
            return None
        peaks, length = got
        shown = min(1.0, length / segment.duration) if segment.duration > 0 else 1.0
        width = box.width() * shown
        if width < 2:
            return None
        key = (segment.variation, int(width), int(box.height()), int(shown * 1000))
        path = self._paths.get(key)
        if path is None:
            used = peaks[: max(1, int(len(peaks) * min(1.0, segment.duration / length)))]
            path = envelope_path(used, int(width), float(int(width)), float(int(box.height())))
            self._paths[key] = path
            if len(self._paths) > PATH_CACHE:
                self._paths.popitem(last=False)
        else:
            self._paths.move_to_end(key)
        return path

    def paint(self, painter: QPainter, blocks: list[tuple[Segment, QRectF]]) -> int:
        """Each block's waveform (one path each), faint, inside the block; returns how many."""
        if not blocks:
            return 0
        transform: QTransform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setPen(_WAVE_PEN)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        drawn = 0
        for s, rect in blocks:
            box = transform.mapRect(rect).adjusted(1, 2, -1, -2)
            if box.height() < 4:
                continue
            path = self.path(s, box)
            if path is None:
                continue
            painter.translate(box.left(), box.top())
            painter.drawPath(path)
            painter.translate(-box.left(), -box.top())
            drawn += 1
        painter.restore()
        return drawn

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
