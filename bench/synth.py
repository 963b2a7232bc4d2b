"""Synthetic but realistic per-frame model output for benchmarks.

A piecewise-constant 'true' class sequence (effects of 2-20 s between stretches of nothing),
turned into softmax probabilities with per-frame noise, so that the argmax flickers on
roughly one frame in ten like a real frame classifier's does.
"""

from __future__ import annotations

import numpy as np


def realistic_probs(n: int, classes: int = 21, fps: float = 30.0, seed: int = 0,
                    noise: float = 1.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    otherwise = classes - 1
    truth = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        length = int(rng.uniform(2, 20) * fps)
        truth[i:i + length] = rng.integers(0, classes - 1) if rng.random() < 0.6 else otherwise
        i += length
    logits = rng.normal(0.0, noise, size=(n, classes)).astype(np.float32)
    logits[np.arange(n), truth] += 3.0
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return p.astype(np.float32)
