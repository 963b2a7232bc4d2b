"""Per-frame labels from probabilities: argmax, demoted to `otherwise` below the threshold."""

from __future__ import annotations

import numpy as np


def threshold_labels(probs: np.ndarray, tau: float, otherwise_id: int) -> np.ndarray:
    """C_j = argmax_c p_j(c); C_j = otherwise when C_j != otherwise and p_j(C_j) < tau.

    probs: (N, C) array. Returns (N,) int32 labels.
    """
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ValueError(f"probabilities must be 2-D (frames x classes), got shape {probs.shape}")
    if probs.shape[0] == 0:
        return np.zeros(0, dtype=np.int32)
    labels = probs.argmax(axis=1).astype(np.int32)
    best = np.take_along_axis(probs, labels[:, None].astype(np.intp), axis=1)[:, 0]
    labels[(best < tau) & (labels != otherwise_id)] = otherwise_id
    return labels
