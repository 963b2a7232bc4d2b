"""Layered mode: every class decided on its own, so effects of different classes may overlap.

DESIGN.md section 2 ("Layered mode"). For each class c other than `otherwise`:
1. on/off per frame: p_j(c) >= tau_c (tau_c per class, default the global tau);
2. smoothed on its own, either
   - "majority": frame j is on when more than half of the frames max(0, j-r)..min(N-1, j+r)
     are on, off when fewer than half are, its own value on a tie; r = round(k * f_a); or
   - "hmm": the on/off hidden Markov model of `temporal` (Viterbi, `stickiness`);
3. maximal on-runs a..b -> Segment(class, t_a, t_b + 1/f_a clipped to the duration).
Runs shorter than `min_frames` frames are dropped (1 keeps all: no run is shorter than one frame).

Everything is vectorised over frames and classes; the per-class work after smoothing is only
over the run boundaries. Callers that re-segment often (sliders) keep a `LayeredCache` of the
probabilities: it holds what does not depend on k, tau or stickiness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sfxstudio.analysis.temporal import MAX_MARGIN, hmm_on_off, log_odds
from sfxstudio.core import validate
from sfxstudio.core.segments import Segment

Smoothing = Literal["majority", "hmm"]
SMOOTHINGS: tuple[str, ...] = ("majority", "hmm")
# Measured (bench/bench_placement_targets.py): the HMM at 0.5 ties the majority on the demo and
# trades segment F1 (0.59 -> 0.57) for event F1 (0.32 -> 0.38) on the real clips; majority stays.
DEFAULT_SMOOTHING: Smoothing = "majority"
DEFAULT_STICKINESS = 0.5  # a fully confident blip or gap shorter than 1 s is smoothed away


@dataclass
class LayeredCache:
    """Per-analysis data that k, tau and stickiness do not change (computed on first use)."""

    probs: np.ndarray
    _logits: np.ndarray | None = field(default=None, repr=False)

    @property
    def logits(self) -> np.ndarray:
        if self._logits is None:
            self._logits = log_odds(self.probs)
        return self._logits


def class_thresholds(
    class_names: Sequence[str], otherwise_id: int, tau: float,
    class_tau: Mapping[str, float] | None = None,
) -> np.ndarray:
    """(C,) float64 thresholds: class_tau[name] where given, else tau; `otherwise` gets +inf (never on)."""
    tau = validate.number(tau, "threshold", 0.0, 1.0)
    out = np.full(len(class_names), tau, dtype=np.float64)
    if class_tau:
        index = {name: i for i, name in enumerate(class_names)}
        for name, value in class_tau.items():
            if name not in index:
                raise ValueError(f"class threshold for unknown class {name!r}")
            out[index[name]] = validate.number(value, f"threshold of {name}", 0.0, 1.0)
    out[otherwise_id] = np.inf
    return out


def majority_on_off(on: np.ndarray, radius: int) -> np.ndarray:
    """Binary majority over +-radius frames per class: (N, C) bool -> (C, N) bool (class-major).

    Ties (only where the window is cut by the ends, or even-sized) keep the frame's own value.
    Prefix sums per class, so the cost does not depend on the radius.
    """
    on = np.asarray(on, dtype=bool)
    if on.ndim != 2:
        raise ValueError(f"on/off must be 2-D (frames x classes), got shape {on.shape}")
    radius = int(radius)
    if radius < 0:
        raise ValueError(f"radius must not be negative, not {radius!r}")
    n, c = on.shape
    x = np.ascontiguousarray(on.T)
    if n == 0 or radius == 0:
        return x
    r = min(radius, n)
    cs = np.empty((c, n + 1 + r), dtype=np.int32)
    cs[:, 0] = 0
    np.cumsum(x, axis=1, dtype=np.int32, out=cs[:, 1:n + 1])
    cs[:, n + 1:] = cs[:, n:n + 1]  # windows running past the end see the total
    twice = cs[:, r + 1:r + 1 + n] * 2  # 2 * count over [j - r, j + r] ...
    if r < n:
        twice[:, r:] -= cs[:, : n - r] * 2
    # ... minus the window size: > 0 on, < 0 off, 0 a tie
    size = np.minimum(np.arange(n) + r, n - 1) - np.maximum(np.arange(n) - r, 0) + 1
    twice -= size.astype(np.int32)
    out = twice > 0
    out |= (twice == 0) & x
    return out


def on_runs(mask: np.ndarray, class_major: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True per class: (class ids, first frames, last frames), sorted by class then start.

    mask: (N, C) time-major, or (C, N) with class_major=True.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    if class_major:
        m = m.T  # a view: the work below is on the few boundaries
    n = m.shape[0]
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    f, c = _nonzero_sparse(m[1:] != m[:-1])
    first_on = np.flatnonzero(m[0])
    last_on = np.flatnonzero(m[-1])
    pos = np.concatenate((f + 1, np.zeros(first_on.size, np.int64), np.full(last_on.size, n, np.int64)))
    cls = np.concatenate((c, first_on, last_on))
    order = np.lexsort((pos, cls))
    pos, cls = pos[order], cls[order]
    # per class the boundaries alternate start, end (runs are half-open [start, end))
    return cls[0::2], pos[0::2], pos[1::2] - 1


def _nonzero_sparse(change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of a mostly-False 2-D bool array, scanning it 8 bytes at a time."""
    cols = change.shape[1]
    flat = np.ascontiguousarray(change).reshape(-1).view(np.uint8)
    pad = -flat.size % 8
    if pad:
        flat = np.concatenate((flat, np.zeros(pad, np.uint8)))
    words = np.flatnonzero(flat.view(np.uint64))
    hits = np.flatnonzero(flat.reshape(-1, 8)[words])
    idx = words[hits // 8] * 8 + hits % 8
    return idx // cols, idx % cols


def layered_on_off(
    probs: np.ndarray | LayeredCache,
    frame_duration: float,
    thresholds: np.ndarray,
    k: float,
    smoothing: Smoothing = DEFAULT_SMOOTHING,
    stickiness: float = DEFAULT_STICKINESS,
    max_margin: float = MAX_MARGIN,
) -> tuple[np.ndarray, bool]:
    """Smoothed on/off per frame and class, and whether it is class-major ((C, N)) or not ((N, C))."""
    cache = probs if isinstance(probs, LayeredCache) else LayeredCache(np.asarray(probs))
    if smoothing == "hmm":
        return hmm_on_off(cache.logits, thresholds, frame_duration, stickiness, max_margin), False
    if smoothing == "majority":
        radius = round(k / frame_duration)
        return majority_on_off(cache.probs >= thresholds.astype(np.float32), radius), True
    raise ValueError(f"smoothing must be one of {', '.join(SMOOTHINGS)}, not {smoothing!r}")


def layered_segments(
    probs: np.ndarray | LayeredCache, times: np.ndarray, frame_duration: float,  # the analysis
    class_names: Sequence[str], otherwise_id: int,  # the classes
    k: float, tau: float, duration: float | None = None,  # the settings, the video's length
    class_tau: Mapping[str, float] | None = None,
    smoothing: Smoothing = DEFAULT_SMOOTHING,
    stickiness: float = DEFAULT_STICKINESS,
    min_frames: int = 1,
) -> list[Segment]:
    """Layered mode: automatic Segments of every class decided on its own (they may overlap).

    probs: (N, C) probabilities (or a LayeredCache of them); times: (N,) frame times (s);
    k: the majority's half width (s); tau: the global threshold; class_tau: per-class
    thresholds by class name; smoothing "majority" or "hmm"; stickiness in [0, 1) for "hmm".
    Returns segments sorted by start, then class id.
    """
    cache = probs if isinstance(probs, LayeredCache) else LayeredCache(np.asarray(probs))
    p = cache.probs
    if p.ndim != 2:
        raise ValueError(f"probabilities must be 2-D (frames x classes), got shape {p.shape}")
    n, c = p.shape
    times = np.asarray(times, dtype=np.float64)
    if times.shape != (n,):
        raise ValueError(f"times must have one entry per frame ({n}), not shape {times.shape}")
    if len(class_names) != c:
        raise ValueError(f"{len(class_names)} class names for {c} probability columns")
    if not 0 <= otherwise_id < c:
        raise ValueError(f"otherwise id must be a class id below {c}, not {otherwise_id!r}")
    if not (math.isfinite(frame_duration) and frame_duration > 0):
        raise ValueError(f"frame duration must be a positive number, not {frame_duration!r}")
    validate.number(k, "k", 0.0, validate.MAX_K)
    min_frames = validate.integer(min_frames, "min_frames", 1, None)
    thresholds = class_thresholds(class_names, otherwise_id, tau, class_tau)
    mask, class_major = layered_on_off(cache, frame_duration, thresholds, k, smoothing, stickiness)
    cls, first, last = on_runs(mask, class_major)
    keep = (cls != otherwise_id) & (last - first + 1 >= min_frames)
    cls, first, last = cls[keep], first[keep], last[keep]
    t0 = times[first]
    t1 = times[last] + frame_duration
    if duration is not None:
        t1 = np.minimum(t1, duration)
    order = np.lexsort((cls, t0))
    return [Segment(class_names[ci], a, b, origin="auto")
            for ci, a, b in zip(cls[order].tolist(), t0[order].tolist(), t1[order].tolist(), strict=True)
            if b > a]
