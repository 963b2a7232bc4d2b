"""The paper's temporal smoothing: a mode (majority) filter over +-radius frames.

Vectorised with prefix sums of per-class counts, so the cost is O(N * classes present)
whatever the radius.
"""

from __future__ import annotations

import numpy as np


def mode_filter(labels: np.ndarray, radius: int) -> np.ndarray:
    """T_j = most frequent label among labels[max(0, j-r) : min(N-1, j+r) + 1].

    Ties: labels[j] if it is among the most frequent, otherwise the smallest class id
    among them. labels: (N,) non-negative integers. Returns (N,) int32.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError("labels must be 1-D")
    n = labels.shape[0]
    radius = int(radius)
    if radius < 0:
        raise ValueError("radius must not be negative")
    if n == 0 or radius == 0:
        return labels.astype(np.int32, copy=True)
    # A window wider than the array sees all of it for every j: the same as r = n, and the
    # padded prefix sums below stay O(N) whatever radius a settings file asks for.
    radius = min(radius, n)
    if labels.min() < 0:
        raise ValueError("labels must be non-negative")
    # Class ids are small integers: a lookup table compacts them without sorting.
    present = np.flatnonzero(np.bincount(labels))
    m = present.shape[0]
    if m == 1:
        return labels.astype(np.int32, copy=True)
    lut = np.zeros(int(present[-1]) + 1, dtype=np.int32)
    lut[present] = np.arange(m, dtype=np.int32)
    compact = lut[labels]
    # Counts over the window [j - r, j + r] come from prefix sums with plain slices (no gathers).
    # Keep the best count and its (smallest) class while sweeping classes in id order:
    # one (N,) pass per present class, never an (N, classes) matrix.
    best_count = np.full(n, -1, dtype=np.int32)
    best_class = np.zeros(n, dtype=np.int32)
    own_count = np.zeros(n, dtype=np.int32)
    cs = np.zeros(n + 1 + radius, dtype=np.int32)
    count = np.empty(n, dtype=np.int32)
    better = np.empty(n, dtype=bool)
    mine = np.empty(n, dtype=bool)
    for c in range(m):
        np.equal(compact, c, out=mine)
        np.cumsum(mine, out=cs[1:n + 1])
        cs[n + 1:] = cs[n]  # windows running past the end see the total
        _window_counts(cs, n, radius, count)
        np.greater(count, best_count, out=better)  # strict: ties keep the smaller class id
        np.maximum(count, best_count, out=best_count)
        np.copyto(best_class, c, where=better)
        np.copyto(own_count, count, where=mine)
    out = np.where(own_count == best_count, compact, best_class)
    return present[out].astype(np.int32)


def _window_counts(cs: np.ndarray, n: int, radius: int, out: np.ndarray) -> None:
    """out[j] = cs[min(j + r + 1, n)] - cs[max(j - r, 0)], with cs padded past n by its total."""
    # upper end: cs[j + r + 1] for all j thanks to the padding
    np.copyto(out, cs[radius + 1: radius + 1 + n])
    # lower end: cs[j - r] for j >= r, cs[0] = 0 before
    if radius < n:
        out[radius:] -= cs[: n - radius]
