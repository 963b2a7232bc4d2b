"""Timing helpers shared by the model benchmarks.

`median_ms_per_frame` times a batched model call the way issue 11's benchmarks report it:
two warm-up calls (graph tracing, interpreter allocation), then the median of `repeats` calls,
divided by the batch size, in milliseconds rounded to 0.01.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_ms_per_frame(fn: Callable[[np.ndarray], object], frames: np.ndarray, repeats: int) -> float:
    for _ in range(2):
        fn(frames)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(frames)
        times.append(time.perf_counter() - t)
    return round(1000 * float(np.median(times)) / len(frames), 2)
