"""A thin strip with the waveform of the video's own audio, on the lanes' time axis.

The editor lines effects up with what is already heard (a door slam, a footstep) by eye; the
strip shows media.peaks' min/max bins of the soundtrack, decoded in a background worker (a long
video takes seconds to decode: never on the GUI thread), cached per file by media.peaks. Its x
range follows a linked view box one way (it has no mouse interaction of its own), and its left
axis reserves the same width as the timeline and lanes so a time sits at the same x pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from sfxstudio.gui.timeline import LABEL_WIDTH
from sfxstudio.gui.workers import JobWorker, run_in_background
from sfxstudio.media.audio_io import MIX_RATE
from sfxstudio.media.peaks import DEFAULT_BINS_PER_SECOND, file_peaks, samples_per_bin

STRIP_HEIGHT = 56
QUIET_HEIGHT = 22  # "No audio": a thin line, leaving the room to the lanes
WAVE_COLOR = "#6cb6ff"


def envelope_xy(peaks: np.ndarray, bin_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Zig-zag points (t_i, min_i), (t_i, max_i), ... of (M, 2) peaks: drawn as one connected
    line they fill each bin from its minimum to its maximum, like a DAW's overview."""
    t = (np.arange(len(peaks)) + 0.5) * bin_seconds
    return np.repeat(t, 2), np.asarray(peaks, dtype=np.float64).reshape(-1)


class WaveformView(QWidget):
    """The original audio's waveform. `set_source(path)` (None: no video), `link_x(view_box)`.

    States: empty ("No audio": no video or a video without sound), loading ("Reading audio…"),
    failed (the reason, also in the tooltip), drawn.
    """

    loaded = Signal(float)  # duration of the audio now drawn (0.0: none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(STRIP_HEIGHT)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideAxis("bottom")
        left = self.plot.getAxis("left")
        left.setWidth(LABEL_WIDTH)
        left.setTicks([[], []])
        left.setLabel("Audio")
        self._vb: pg.ViewBox = self.plot.getViewBox()
        self._vb.disableAutoRange()
        self._vb.setYRange(-1.0, 1.0, padding=0.05)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(WAVE_COLOR, width=1))
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.plot.addItem(self.curve)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen("#ffffff", width=1.5))
        self.plot.addItem(self.playhead, ignoreBounds=True)
        self.message = QLabel("No audio", self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet(f"color: {QColor('#8b949e').name()};")
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.plot)
        self._stack.addWidget(self.message)
        self._show_message("No audio")
        self.source: Path | None = None
        self.duration = 0.0
        self._worker: JobWorker | None = None
        self._linked: pg.ViewBox | None = None

    # -- public API ------------------------------------------------------------------------
    def view_box(self) -> pg.ViewBox:
        return self._vb

    def link_x(self, view_box: pg.ViewBox) -> None:
        """Follow `view_box`'s x range (the lanes' or the timeline's), one way: the strip has
        no zoom or pan of its own, so there is no feedback loop to guard against."""
        if self._linked is not None:
            self._linked.sigXRangeChanged.disconnect(self._follow)
        self._linked = view_box
        view_box.sigXRangeChanged.connect(self._follow)
        self._follow()

    def set_playhead(self, t: float) -> None:
        self.playhead.setValue(float(t))

    def set_source(self, path: Path | str | None) -> None:
        """Show the soundtrack of `path` (decoded in the background); None shows "No audio"."""
        path = Path(path) if path is not None else None
        if path == self.source and self._worker is None:
            return
        self.source = path
        self.curve.setData([], [])
        self.duration = 0.0
        if path is None:
            self._show_message("No audio")
            self.loaded.emit(0.0)
            return
        self._show_message("Reading audio…")
        worker = run_in_background(lambda: (path, file_peaks(path)), name="waveform", parent=self)
        worker.finished.connect(self._on_peaks)
        worker.failed.connect(lambda msg, p=path: self._on_failed(p, msg))
        worker.stopped.connect(lambda w=worker: self._forget(w))
        self._worker = worker
        worker.start()

    def wait(self, timeout_ms: int = 10_000) -> None:
        """Block until a decode in progress ends (closing, tests)."""
        if self._worker is not None:
            self._worker.wait(timeout_ms)

    def status_text(self) -> str:
        """What the strip says instead of a waveform ("" when it draws one)."""
        return "" if self._stack.currentWidget() is self.plot else self.message.text()

    # -- internals -------------------------------------------------------------------------
    def _follow(self, *_args: object) -> None:
        if self._linked is None:
            return
        (x0, x1), _ = self._linked.viewRange()
        self._vb.setXRange(x0, x1, padding=0.0)

    def _forget(self, worker: JobWorker) -> None:
        if self._worker is worker:
            self._worker = None

    def _show_message(self, text: str, tooltip: str = "") -> None:
        # A video without sound keeps only a thin labelled line; reading and errors keep the
        # strip's height so it does not jump while a soundtrack loads.
        self.setFixedHeight(QUIET_HEIGHT if text == "No audio" else STRIP_HEIGHT)
        self.message.setText(text)
        self.message.setToolTip(tooltip)
        self._stack.setCurrentWidget(self.message)

    def _on_peaks(self, result: tuple[Path, tuple[np.ndarray, float]]) -> None:
        path, (peaks, duration) = result
        if path != self.source:
            return  # a newer source was chosen while this one decoded
        self.duration = duration
        if len(peaks) == 0:
            self._show_message("No audio")
        else:
            bin_s = samples_per_bin(MIX_RATE, DEFAULT_BINS_PER_SECOND) / MIX_RATE
            self.curve.setData(*envelope_xy(peaks, bin_s))
            self.setFixedHeight(STRIP_HEIGHT)
            self._stack.setCurrentWidget(self.plot)
            self._follow()
        self.loaded.emit(duration)

    def _on_failed(self, path: Path, message: str) -> None:
        if path == self.source:
            self._show_message("Audio cannot be read", message)
            self.loaded.emit(0.0)
