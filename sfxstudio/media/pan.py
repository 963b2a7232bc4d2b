"""Equal-power panning of a rendered block, by a constant position or a curve over time.

Pan: a placement is panned by an equal-power law, theta = (pan + 1) * pi / 4, left gain
sqrt(2) * cos(theta), right gain sqrt(2) * sin(theta). The sqrt(2) makes the centre unity gain,
so a centred effect renders exactly as before panning existed (no -3 dB change to existing
mixes), while L^2 + R^2 = 2 stays constant at every position: a sound keeps its loudness
(R128 sums channel powers) wherever it sits, and hard left leaves the right channel silent.
Applied to a stereo sound the law is a balance control (each channel scaled by its gain), the
behaviour of a stereo track's pan knob. The pan is a constant or a curve (times, values) that
is interpolated every PAN_BLOCK samples, smoothed over PAN_SMOOTH seconds so a jumpy motion
centre does not make the sound jump, and ramped linearly between blocks (no zipper noise).
It is applied inside media.render.render_placement, so the mix and the stems are panned alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sfxstudio.core.errors import warn
from sfxstudio.core.validate import is_finite
from sfxstudio.media.audio_io import MIX_RATE

PAN_BLOCK = 256  # samples between pan-curve points (5.3 ms at 48 kHz); gains ramp in between
PAN_SMOOTH = 0.1  # seconds: moving-average width applied to a pan curve

# A pan position in [-1, 1] (-1 hard left, 0 centre, 1 hard right), or a curve of them:
# (times in absolute seconds, increasing; values), held constant before the first and after
# the last point.
PanCurve = tuple[Sequence[float], Sequence[float]]
Pan = float | PanCurve


def pan_gains(pan: float | np.ndarray) -> tuple[Any, Any]:
    """(left, right) equal-power gains for pan positions in [-1, 1], unity at the centre.

    theta = (pan + 1) * pi / 4; left = sqrt(2) cos(theta), right = sqrt(2) sin(theta), so
    left^2 + right^2 == 2 everywhere (constant power) and pan 0 gives (1, 1). Positions
    outside [-1, 1] are clipped.
    """
    pan = np.clip(pan, -1.0, 1.0)
    # cos(theta) written as sin((1 - pan) * pi / 4): exactly 0 at hard right (cos(pi/2) is not).
    return (math.sqrt(2.0) * np.sin((1.0 - pan) * (np.pi / 4.0)),
            math.sqrt(2.0) * np.sin((1.0 + pan) * (np.pi / 4.0)))


def apply_pan(block: np.ndarray, pan: Pan, s0: int, rate: int = MIX_RATE, what: str = "effect") -> None:
    """Pan `block` (rendered from absolute sample s0) in place by a constant or a curve.

    A pan that is not a finite number (or a curve without any finite point) leaves the effect
    centred, with a warning: a bad motion estimate must not silence or hard-pan an effect.
    """
    if isinstance(pan, tuple):
        curve = _pan_curve(pan)
        if curve is None:
            warn(None, f"{what}: the pan curve has no finite point; the effect stays centred")
            return
        times, values = curve
        if times.size == 1 or float(values.min()) == float(values.max()):
            pan = float(values[0])  # a flat curve is a constant: one multiply, no ramps
        else:
            _apply_pan_curve(block, times, values, s0, rate)
            return
    if isinstance(pan, bool) or not is_finite(pan):
        warn(None, f"{what}: pan must be a finite number between -1 and 1, not {pan!r}; "
             "the effect stays centred")
        return
    pan = float(pan)
    if pan == 0.0:
        return  # centre is unity gain: the block stays bit-identical
    left, right = pan_gains(pan)
    block[:, 0] *= np.float32(left)
    block[:, 1] *= np.float32(right)


def _pan_curve(curve: PanCurve) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, values) as float64 arrays sorted by time, non-finite points dropped, values clipped."""
    if len(curve) != 2:
        return None
    try:
        times = np.asarray(curve[0], dtype=np.float64).reshape(-1)
        values = np.asarray(curve[1], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if times.shape != values.shape:
        return None
    keep = np.isfinite(times) & np.isfinite(values)
    times, values = times[keep], np.clip(values[keep], -1.0, 1.0)
    if times.size == 0:
        return None
    order = np.argsort(times, kind="stable")
    return times[order], values[order]


# Pan blocks per pass when applying a curve: the gain buffer (256 x 256 floats) stays in cache
# and bounded whatever the effect length.
_PAN_CHUNK_BLOCKS = 256


def _apply_pan_curve(block: np.ndarray, times: np.ndarray, values: np.ndarray, s0: int, rate: int) -> None:
    m = block.shape[0]
    nb = -(-m // PAN_BLOCK)  # ceil
    points = np.arange(nb + 1, dtype=np.float64) * PAN_BLOCK  # block edges, relative to s0
    pans = np.interp((s0 + points) / rate, times, values)
    width = max(1, round(PAN_SMOOTH * rate / PAN_BLOCK)) | 1  # odd: the average stays centred
    if width > 1 and pans.size > 1:
        pad = width // 2
        padded = np.concatenate([np.full(pad, pans[0]), pans, np.full(pad, pans[-1])])
        kernel = np.full(width, 1.0 / width)
        pans = np.convolve(padded, kernel, mode="valid")
    ramp = np.arange(PAN_BLOCK, dtype=np.float32) / np.float32(PAN_BLOCK)
    chunk = min(nb, _PAN_CHUNK_BLOCKS)
    buf = np.empty((chunk, PAN_BLOCK), dtype=np.float32)
    for ch, g64 in enumerate(pan_gains(pans)):
        g = g64.astype(np.float32)  # gains at the block edges
        step = np.diff(g)
        for b0 in range(0, nb, chunk):
            b1 = min(b0 + chunk, nb)
            a, z = b0 * PAN_BLOCK, min(b1 * PAN_BLOCK, m)
            # Linear ramp from each block edge to the next: the gain at sample j of block k is
            # g[k] + (g[k+1] - g[k]) * j / PAN_BLOCK. Built one channel at a time into a reused
            # buffer: numpy is several times faster along 256 samples than across 2 channels.
            gain = buf[: b1 - b0]
            np.multiply(step[b0:b1, None], ramp, out=gain)
            gain += g[b0:b1, None]
            view = block[a:z, ch]
            view *= gain.reshape(-1)[: z - a]
