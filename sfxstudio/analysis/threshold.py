"""Per-frame labels from probabilities: argmax, demoted to `otherwise` below the threshold.

The argmax and its probability do not depend on tau, so callers that re-threshold often
(sliders) compute them once with `top_labels` and re-apply `apply_threshold`.
"""

from __future__ import annotations

import numpy as np


def top_labels(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(argmax class per frame as int32, its probability as float32)."""
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ValueError(f"probabilities must be 2-D (frames x classes), got shape {probs.shape}")
    if probs.shape[0] == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    labels = probs.argmax(axis=1).astype(np.int32)
    best = np.take_along_axis(probs, labels[:, None].astype(np.intp), axis=1)[:, 0]
    return labels, best.astype(np.float32, copy=False)


def apply_threshold(labels: np.ndarray, best: np.ndarray, tau: float, otherwise_id: int) -> np.ndarray:
    """Demote effect labels whose probability is below tau to `otherwise` (returns a new array)."""
    return np.where((best < tau) & (labels != otherwise_id), np.int32(otherwise_id), labels).astype(
        np.int32, copy=False)


def threshold_labels(probs: np.ndarray, tau: float, otherwise_id: int) -> np.ndarray:
    """C_j = argmax_c p_j(c); C_j = otherwise when C_j != otherwise and p_j(C_j) < tau.

    probs: (N, C) array. Returns (N,) int32 labels.
    """
    labels, best = top_labels(probs)
    return apply_threshold(labels, best, tau, otherwise_id)
