"""Where in an effect its sound should hit, and where it sits left to right (numpy only).

Onsets: visual events inside an effect, from the motion energy of `motion` (or the class's
score): a frame whose signal rises above its local baseline (the mean of the previous
`baseline_s` seconds, frames before the effect included) by at least a threshold is a
candidate; local maxima of that rise are kept strongest first, at least `min_gap` apart, and
each is moved back to the first frame of its rise (the sound starts when the picture starts
to change). Deterministic: ties go to the earlier frame.

The relative threshold (a fraction of the effect's biggest rise) is taken from the frames at
least `settle_s` after the effect start: an effect usually starts where the scene changes,
and that cut moves every pixel far more than the event the sound is for (a drop's splash, a
key press), so measured against it nothing later would count. The start may still be a hit
(its rise only has to pass the threshold like any other); an effect shorter than the settle
window takes its threshold from all its frames.

Pan: the energy-weighted horizontal centre of motion over the effect, either one constant
(`effect_pan`) or a curve that follows it, smoothed (`pan_curve`); both in [-1, 1].
"""

from __future__ import annotations

import bisect
import math

import numpy as np

DEFAULT_MIN_GAP = 0.25  # s between two hits of one effect
BASELINE_S = 0.25  # s of history a rise is measured against
# A candidate rises at least this fraction of the effect's biggest rise. Events of one effect
# differ in size (a drop close to the camera moves five times the pixels of a far one; on the
# demo's pool the smaller splashes rise 0.2-0.25 of the biggest), while a scene's own restless
# motion (rings, shimmer, flicker) stays below 0.15 of it there.
RELATIVE = 0.2
MIN_RISE_ENERGY = 0.01  # of the mean absolute grey difference (motion energy in [0, 1])
MIN_RISE_SCORE = 0.2  # of a class probability
# s after an effect start left out of the relative threshold: the cut into the effect plus
# the BASELINE_S its rise baseline needs to forget it (and a few frames of slack for an effect
# boundary set by smoothing rather than exactly on the cut).
SETTLE_S = 0.5


def _frames_in(times: np.ndarray, start: float, end: float) -> tuple[int, int]:
    a = int(np.searchsorted(times, start, side="left"))
    b = int(np.searchsorted(times, end, side="left"))
    return a, b


def _check(start: float, end: float, times: np.ndarray, signal: np.ndarray, name: str) -> None:
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise ValueError(f"effect range must be finite with end after start, not {start!r} .. {end!r}")
    if signal.shape != times.shape:
        raise ValueError(f"{name} must have one value per frame ({times.shape[0]}), not shape {signal.shape}")


def rise(signal: np.ndarray, frames: int) -> np.ndarray:
    """signal_t - mean(signal over the previous `frames` frames) (0 for the first frame)."""
    x = np.asarray(signal, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return x.copy()
    cs = np.concatenate(([0.0], np.cumsum(x)))
    j = np.arange(n)
    lo = np.maximum(j - frames, 0)
    count = j - lo
    base = np.where(count > 0, (cs[j] - cs[lo]) / np.maximum(count, 1), x)
    return x - base


QUIET = 0.25  # of an event's signal: the picture went still between a cut and that event


def t_gap_frames(times: np.ndarray, gap: float) -> int:
    """How many frames of `times` span `gap` seconds (at least 1)."""
    step = float(np.median(np.diff(times))) if times.shape[0] > 1 else 1.0
    return max(1, math.ceil(gap / step - 1e-9)) if step > 0 else 1


def _cut_then_event(signal: np.ndarray, peaks: np.ndarray, gap: int) -> bool:
    """True when the effect's first frame (a peak) is followed within `gap` frames by another
    peak, with the signal falling below QUIET of that peak's in between: the first frame's
    difference is the cut into the effect (two shots compared), the later one a separate event
    in the new shot (a flash three frames after the cut into a storm), which the hit is for. A
    flash on the cut itself that keeps flickering never falls still, so it keeps its start."""
    for i in peaks[(peaks > 0) & (peaks <= gap)].tolist():
        between = signal[1:i]
        if between.size and float(between.min()) < QUIET * float(signal[i]):
            return True
    return False


def onsets_in(
    start: float,
    end: float,
    times: np.ndarray,
    energy: np.ndarray | None = None,
    score: np.ndarray | None = None,
    min_gap: float = DEFAULT_MIN_GAP,
    min_rise: float | None = None,
    relative: float = RELATIVE,
    baseline_s: float = BASELINE_S,
    fallback_start: bool = True,
    settle_s: float = SETTLE_S,
) -> list[float]:
    """Times (s, frame times, sorted) of the visual onsets inside [start, end).

    energy: motion energy per analysed frame (preferred); score: the class's probability per
    frame (used when no energy is given). min_rise: the smallest rise that counts (default
    0.01 for energy, 0.2 for a score). settle_s: seconds after the start left out of the
    relative threshold (see the module doc). With no onset, [start] when fallback_start (a one-shot
    still plays once), else []. An effect that starts on an event gets its first hit on the
    start frame, unless a separate event follows the start within min_gap (see
    _cut_then_event): then that event gets the hit.
    """
    times = np.asarray(times, dtype=np.float64)
    if energy is not None:
        signal, name = np.asarray(energy, dtype=np.float64), "energy"
        floor = MIN_RISE_ENERGY if min_rise is None else min_rise
    elif score is not None:
        signal, name = np.asarray(score, dtype=np.float64), "score"
        floor = MIN_RISE_SCORE if min_rise is None else min_rise
    else:
        raise ValueError("onsets need a motion energy or a class score per frame")
    _check(start, end, times, signal, name)
    if not (math.isfinite(min_gap) and min_gap >= 0):
        raise ValueError(f"min_gap must be a number of seconds >= 0, not {min_gap!r}")
    if not (math.isfinite(settle_s) and settle_s >= 0):
        raise ValueError(f"settle_s must be a number of seconds >= 0, not {settle_s!r}")
    fallback = [float(start)] if fallback_start else []
    a, b = _frames_in(times, start, end)
    if b <= a:
        return fallback
    step = float(np.median(np.diff(times))) if times.shape[0] > 1 else 1.0
    frames = max(1, round(baseline_s / step)) if step > 0 else 1
    lo = max(0, a - frames - 1)
    whole = rise(signal[lo:b], frames)
    r = whole[a - lo:].copy()
    if not np.isfinite(whole).all():
        raise ValueError(f"{name} must be finite numbers")
    top = float(r.max())
    settled = r[int(np.searchsorted(times[a:b], start + settle_s, side="left")):]
    threshold = max(floor, relative * float(settled.max() if settled.size else top))
    if a > lo and times[a] - times[a - 1] <= 1.5 * step:
        # An event on the frame just before the start belongs to the effect (its boundary was
        # set a frame late, by hand or by smoothing): the start takes its rise, so the sound
        # starts as early as the effect allows instead of at the event's next wiggle.
        before = float(whole[a - lo - 1])
        if before >= threshold and before > r[0] and (a - lo < 2 or before >= whole[a - lo - 2]):
            r[0] = before
            top = max(top, before)
    if top < threshold or top <= 0:
        return fallback
    # local maxima inside the effect; the effect's edges count as lower neighbours
    left = np.concatenate(([-np.inf], r[:-1]))
    right = np.concatenate((r[1:], [-np.inf]))
    peaks = np.flatnonzero((r >= threshold) & (r >= left) & (r > right))
    order = sorted(peaks.tolist(), key=lambda i: (-r[i], i))
    if order and 0 in peaks and _cut_then_event(signal[a:b], peaks, t_gap_frames(times[a:b], min_gap)):
        order.remove(0)
        order.append(0)  # the start is a hit only when no event follows it within min_gap
    kept: list[float] = []  # sorted onset times: each candidate checks its two neighbours only
    t = times[a:b]
    for i in order:
        # back to the first frame of the rise: the previous frame already rose by half as much
        j = i
        while j > 0 and r[j - 1] >= 0.5 * r[i] and signal[a + j - 1] < signal[a + j]:
            j -= 1
        tj = float(t[j])
        at = bisect.bisect_left(kept, tj)
        if (at == 0 or tj - kept[at - 1] >= min_gap) and (at == len(kept) or kept[at] - tj >= min_gap):
            kept.insert(at, tj)
    return kept or fallback


def effect_pan(times: np.ndarray, centre: np.ndarray, energy: np.ndarray, start: float, end: float) -> float:
    """One pan position in [-1, 1] for an effect: the energy-weighted mean centre of motion inside
    it (0, the middle, when nothing moved)."""
    times = np.asarray(times, dtype=np.float64)
    centre = np.asarray(centre, dtype=np.float64)
    energy = np.asarray(energy, dtype=np.float64)
    _check(start, end, times, centre, "centre")
    _check(start, end, times, energy, "energy")
    a, b = _frames_in(times, start, end)
    w = np.clip(energy[a:b], 0.0, None)
    total = float(w.sum())
    if not (total > 0 and math.isfinite(total)):
        return 0.0
    return float(np.clip((w * centre[a:b]).sum() / total, -1.0, 1.0))


def pan_curve(times: np.ndarray, centre: np.ndarray, energy: np.ndarray, start: float, end: float,
              smooth_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A pan that follows the motion over an effect: (frame times inside it, pan in [-1, 1]).

    Frames without motion hold the last position (the effect's mean before any); the curve is
    the moving average of that over `smooth_s` seconds, so a pan glides instead of jumping.
    """
    times = np.asarray(times, dtype=np.float64)
    centre = np.asarray(centre, dtype=np.float64)
    energy = np.clip(np.asarray(energy, dtype=np.float64), 0.0, None)
    _check(start, end, times, centre, "centre")
    _check(start, end, times, energy, "energy")
    if not (math.isfinite(smooth_s) and smooth_s >= 0):
        raise ValueError(f"smooth_s must be a number of seconds >= 0, not {smooth_s!r}")
    a, b = _frames_in(times, start, end)
    t = times[a:b]
    if b <= a:
        return t, np.zeros(0)
    mean = effect_pan(times, centre, energy, start, end)
    c = centre[a:b].copy()
    e = energy[a:b]
    moved = e > 0
    # hold the last position where nothing moved
    idx = np.where(moved, np.arange(b - a), -1)
    np.maximum.accumulate(idx, out=idx)
    held = np.where(idx >= 0, c[np.maximum(idx, 0)], mean)
    step = float(np.median(np.diff(times))) if times.shape[0] > 1 else 1.0
    half = max(0, round(smooth_s / step / 2)) if step > 0 else 0
    if half == 0:
        return t, np.clip(held, -1.0, 1.0)
    # box average of the held positions: a jump in the picture becomes a glide over smooth_s
    cs = np.concatenate(([0.0], np.cumsum(held)))
    j = np.arange(b - a)
    lo = np.maximum(j - half, 0)
    hi = np.minimum(j + half + 1, b - a)
    pan = (cs[hi] - cs[lo]) / (hi - lo)
    return t, np.clip(pan, -1.0, 1.0)
