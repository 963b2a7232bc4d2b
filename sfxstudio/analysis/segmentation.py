"""Segments from smoothed labels: maximal runs of equal labels that are not `otherwise`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sfxstudio.analysis.smoothing import mode_filter
from sfxstudio.analysis.threshold import apply_threshold, top_labels
from sfxstudio.core.segments import Segment


def segments_from_labels(
    labels: np.ndarray,
    times: np.ndarray,
    frame_duration: float,
    otherwise_id: int,
    duration: float | None = None,
) -> list[tuple[int, float, float]]:
    """Maximal runs a..b of equal labels != otherwise -> (class_id, t_a, t_b + frame_duration).

    End times are clipped to `duration` when given. Returns a list sorted by start.
    """
    labels = np.asarray(labels)
    times = np.asarray(times, dtype=np.float64)
    if labels.shape != times.shape:
        raise ValueError("labels and times must have the same length")
    n = labels.shape[0]
    if n == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n])) - 1
    keep = labels[starts] != otherwise_id
    starts, ends = starts[keep], ends[keep]
    t0 = times[starts]
    t1 = times[ends] + frame_duration
    if duration is not None:
        t1 = np.minimum(t1, duration)
    cls = labels[starts]
    return [(int(c), float(a), float(b)) for c, a, b in zip(cls, t0, t1, strict=True) if b > a]


def auto_segments(
    probs: np.ndarray, times: np.ndarray, frame_duration: float,  # the analysis
    class_names: Sequence[str], otherwise_id: int,  # the classes
    k: float, tau: float, duration: float | None = None,  # the settings, the video's length
    top: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Segment]:
    """Threshold, mode filter with r = round(k * f_a), segmentation -> automatic Segments.

    `top` is `top_labels(probs)` when the caller keeps it between calls (it does not depend on
    k or tau), which makes a slider move cost only the mode filter and the segmentation.
    """
    if not (math.isfinite(frame_duration) and frame_duration > 0):
        raise ValueError(f"frame duration must be a positive number, not {frame_duration!r}")
    if not (math.isfinite(k) and k >= 0):
        raise ValueError(f"k must be a finite number of seconds, not {k!r}")
    if not math.isfinite(tau):
        raise ValueError(f"threshold must be a finite number, not {tau!r}")
    fa = 1.0 / frame_duration
    radius = round(k * fa)
    argmax, best = top if top is not None else top_labels(probs)
    labels = mode_filter(apply_threshold(argmax, best, tau, otherwise_id), radius)
    runs = segments_from_labels(labels, times, frame_duration, otherwise_id, duration)
    return [Segment(class_names[c], a, b, origin="auto") for c, a, b in runs]
