"""Audio meters: sample peak (dBFS, with hold) and momentary loudness (LUFS, EBU R128).

Nothing is measured while the video plays: `MeterFeed` precomputes, in a worker, one value pair
per 50 ms of the mix the player plays (original audio + effects at the current gains), so the
playback timer's lookup at time t is one array index. Momentary loudness is BS.1770 / EBU R128:
K-weighted (media.loudness's filter, which is pyloudnorm's) mean power over the last 400 ms,
channels summed with BS.1770 weights, -0.691 + 10 log10(power).
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from sfxstudio.media.audio_io import MIX_RATE
from sfxstudio.media.loudness import _channel_weights, _hop_sums, _k_weighted_chunks

FEED_HOP_S = 0.05  # 20 values per second: the rate the playback timer asks at
MOMENTARY_S = 0.4  # EBU R128 momentary window
SILENCE = (-math.inf, -math.inf)


class MeterFeed:
    """Peak (dBFS) and momentary loudness (LUFS) per FEED_HOP_S of one mix, looked up by time.

    Value i describes the audio up to (i + 1) * hop: the sample peak of hop i, and the
    loudness of the 400 ms ending with it (the part before the start counts as silence).
    """

    def __init__(self, peak_db: np.ndarray, lufs: np.ndarray, hop_s: float = FEED_HOP_S) -> None:
        if peak_db.shape != lufs.shape:
            raise ValueError("peak and loudness curves must have the same length")
        self.peak_db = peak_db
        self.lufs = lufs
        self.hop_s = hop_s

    @property
    def duration(self) -> float:
        return len(self.peak_db) * self.hop_s

    def at(self, t: float) -> tuple[float, float]:
        """(peak dBFS, momentary LUFS) at time t; silence before 0 and after the end. O(1)."""
        if not math.isfinite(t) or t < 0:
            return SILENCE
        i = int(t / self.hop_s)
        if i >= len(self.peak_db):
            return SILENCE
        return float(self.peak_db[i]), float(self.lufs[i])

    @classmethod
    def from_mix(cls, mix: np.ndarray | None, rate: int = MIX_RATE, hop_s: float = FEED_HOP_S) -> MeterFeed:
        """Curves of `mix` ((n,) or (n, channels) float). None or empty gives an empty feed.

        Vectorised: K-weighting by media.loudness in chunks (float64 of one chunk at a time),
        then reshape-sums per hop and a cumulative sum for the sliding 400 ms window; the
        last partial hop is dropped (at most 50 ms at the very end).
        """
        if mix is None or np.asarray(mix).shape[0] == 0:
            return cls(np.zeros(0), np.zeros(0), hop_s)
        x = np.asarray(mix, dtype=np.float32)
        x = x[:, None] if x.ndim == 1 else x
        hop = max(1, round(hop_s * rate))
        n = (x.shape[0] // hop) * hop
        if n == 0:
            return cls(np.zeros(0), np.zeros(0), hop_s)
        blocks = np.abs(x[:n]).reshape(n // hop, hop * x.shape[1])
        peak = blocks.max(axis=1).astype(np.float64)
        with np.errstate(divide="ignore"):
            peak_db = 20.0 * np.log10(peak)
        # media.loudness chunks are whole 100 ms hops (a multiple of 50 ms), so per-hop sums
        # of each chunk line up with the peak blocks.
        sums = np.concatenate([_hop_sums(y, hop) for y in _k_weighted_chunks(x[:n], rate)])
        weighted = sums @ _channel_weights(x.shape[1])  # (hops,) K-weighted energy per hop
        per = max(1, round(MOMENTARY_S / hop_s))
        c = np.concatenate([np.zeros(per), np.cumsum(weighted)])
        # cumsum from the start: c[per + i] - c[i] is the energy of hops i - per + 1 .. i.
        window = c[per:] - c[: len(c) - per]
        with np.errstate(divide="ignore"):
            lufs = -0.691 + 10.0 * np.log10(np.maximum(window, 0.0) / (per * hop))
        return cls(peak_db, lufs, hop_s)

    @classmethod
    def from_sources(cls, original: np.ndarray | None, original_gain: float,
                     effects: np.ndarray | None, effects_gain: float, rate: int = MIX_RATE) -> MeterFeed:
        """The feed of original * original_gain + effects * effects_gain (linear gains), as the
        two players sound together; the shorter part is padded with silence."""
        parts = [(a, g) for a, g in ((original, original_gain), (effects, effects_gain))
                 if a is not None and a.shape[0] > 0 and g > 0]
        if not parts:
            return cls.from_mix(None, rate)
        n = max(a.shape[0] for a, _ in parts)
        mix = np.zeros((n, 2), dtype=np.float32)
        for a, g in parts:
            a2 = a[:, None] if a.ndim == 1 else a
            mix[: a2.shape[0]] += a2[:, :2] * np.float32(g)
        return cls.from_mix(mix, rate)


# --------------------------------------------------------------------------- widget

METER_FLOOR_DB = -60.0
HOLD_S = 1.5  # a peak stays marked this long
RELEASE_DB_PER_S = 24.0  # the peak bar falls at most this fast (a PPM-like release)
_ZONES = ((-18.0, QColor("#3fb950")), (-6.0, QColor("#d29922")), (0.0, QColor("#f85149")))


def fmt_level(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "-inf"


class LevelMeters(QWidget):
    """Two horizontal bars: sample peak in dBFS (with a peak-hold tick and a release) and
    momentary loudness in LUFS, each with its value written beside it. -inf clears both."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.peak_db = -math.inf  # the bar (with release)
        self.lufs = -math.inf
        self.hold_db = -math.inf
        self._hold_at = 0.0
        self._last_at = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Peak: sample peak in dBFS (tick: highest peak of the last 1.5 s)\n"
                        "LUFS M: momentary loudness (EBU R128, 400 ms)")

    def sizeHint(self) -> QSize:
        return QSize(260, 34)

    def minimumSizeHint(self) -> QSize:
        return QSize(140, 34)

    def set_levels(self, peak_db: float, momentary_lufs: float, now: float | None = None) -> None:
        """Show new levels. `now` (seconds, monotonic) only for tests; a -inf peak (paused,
        at the end) clears the bars and the hold at once."""
        now = time.monotonic() if now is None else now
        if not math.isfinite(peak_db):
            self.peak_db = self.lufs = self.hold_db = -math.inf
        else:
            dt = max(0.0, now - self._last_at)
            fallen = self.peak_db - RELEASE_DB_PER_S * dt if math.isfinite(self.peak_db) else -math.inf
            self.peak_db = max(peak_db, fallen)
            if peak_db >= self.hold_db or now - self._hold_at > HOLD_S:
                self.hold_db, self._hold_at = peak_db, now
            self.lufs = momentary_lufs
        self._last_at = now
        self.update()

    def texts(self) -> tuple[str, str]:
        """What the two readouts say (tests, accessibility)."""
        return f"Peak {fmt_level(self.hold_db)} dBFS", f"LUFS M {fmt_level(self.lufs)}"

    @staticmethod
    def _fraction(db: float) -> float:
        if not math.isfinite(db):
            return 0.0
        return min(1.0, max(0.0, (db - METER_FLOOR_DB) / -METER_FLOOR_DB))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        fm = p.fontMetrics()  # room for the widest readout of either row
        samples = ("Peak -99.9 dBFS ", "LUFS M -99.9 ", *self.texts())
        text_w = max(fm.horizontalAdvance(t) for t in samples) + 4
        bar_w = max(20.0, self.width() - text_w - 4)
        row_h = (self.height() - 6) / 2
        peak_text, lufs_text = self.texts()
        for row, (value, label) in enumerate(((self.peak_db, peak_text), (self.lufs, lufs_text))):
            top = 2 + row * (row_h + 2)
            back = QRectF(2, top, bar_w, row_h)
            p.fillRect(back, QColor("#1e1e1e"))
            # Coloured zones up to the value: green to -18, amber to -6, red above.
            start = METER_FLOOR_DB
            for limit, color in _ZONES:
                end = min(limit, value)
                if end > start:
                    x0 = 2 + bar_w * self._fraction(start)
                    x1 = 2 + bar_w * self._fraction(end)
                    p.fillRect(QRectF(x0, top, x1 - x0, row_h), color)
                start = limit
            if row == 0 and math.isfinite(self.hold_db):
                x = 2 + bar_w * self._fraction(self.hold_db)
                p.fillRect(QRectF(x - 1, top, 2, row_h), QColor("#ffffff"))
            p.setPen(QColor("#d0d0d0"))
            p.drawText(QRectF(bar_w + 6, top, text_w, row_h),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
        p.end()
