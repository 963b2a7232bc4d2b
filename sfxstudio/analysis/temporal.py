"""The temporal model: a two-state (off/on) hidden Markov model per class, decoded with Viterbi.

Each class is decided on its own. Frame t of class c has an evidence cost ``cost[t, c]`` =
cost(on) - cost(off) (negative: the frame says "on"), and every switch between off and on
costs ``switch_cost``. Viterbi finds the on/off path of least total cost, which is the most
probable path of an HMM whose switch probability is ``1 / (1 + exp(switch_cost))`` and whose
emission log-likelihood ratio is ``-cost``.

Fast and exact. With two states only the difference D_t = V_t(on) - V_t(off) of the Viterbi
costs matters, and it follows ``D_t = cost_t + clip(D_{t-1}, -lam, lam)``; the backtrack is
"on where D_t < -lam, off where D_t > lam, otherwise the state of the next frame" (ties keep
the state: fewer switches). The forward recursion is a composition of functions
``x -> clip(x + a, lo, hi)``, a family closed under composition, so it is computed per block
of L frames for all blocks and classes at once (L vectorised steps), then across blocks (B
small steps), then in closed form everywhere; the backtrack is a backward fill done the same
way. About 2 * sqrt(N) numpy calls instead of N: 216,000 frames x 21 classes take ~40 ms.

Stickiness. Evidence is counted per second, not per frame: a frame's evidence rate is M/2
just past its class's threshold, growing with the log-odds margin to M = ``max_margin`` when
confident (the threshold decides the side; confidence at most doubles the weight), times the
frame duration. The switch cost is ``M * dwell / 2`` with ``dwell = stickiness / (1 - stickiness)``
seconds: a fully confident blip (or gap) shorter than ``dwell`` is smoothed away, a borderline
one shorter than twice that, and the same signal at 10 or 30 fps decodes alike. Stickiness 0
is the plain threshold p >= tau.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_MARGIN = 4.0  # log-odds: more confidence than ~98 % is not trusted more (classifiers are overconfident)
_EPS = 1e-4  # probabilities are clipped into [eps, 1 - eps] before the log-odds (|logit| <= 9.2)


def dwell_seconds(stickiness: float) -> float:
    """Stickiness in [0, 1) -> the length (s) under which a fully confident blip is smoothed away."""
    s = float(stickiness)
    if not (math.isfinite(s) and 0.0 <= s < 1.0):
        raise ValueError(f"stickiness must be a number in [0, 1), not {stickiness!r}")
    return s / (1.0 - s)


def switch_cost(stickiness: float, max_margin: float = MAX_MARGIN) -> float:
    """The cost of one off/on switch, in (log-odds x seconds), for a stickiness in [0, 1)."""
    return max_margin * dwell_seconds(stickiness) / 2.0


def log_odds(probs: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) as float32, p clipped into [1e-4, 1 - 1e-4].

    It does not depend on thresholds or stickiness: callers that re-decode often keep it.
    """
    p = np.clip(np.asarray(probs, dtype=np.float32), _EPS, 1.0 - _EPS)
    # one log of the odds (float32 rounding near p = 1 is far below the margin cap)
    q = np.subtract(1.0, p, dtype=np.float32)
    np.divide(p, q, out=q)
    return np.log(q, out=q)


def _log_odds_of(tau: np.ndarray) -> np.ndarray:
    t = np.clip(np.asarray(tau, dtype=np.float64), _EPS, 1.0 - _EPS)
    return (np.log(t) - np.log1p(-t)).astype(np.float32)


def evidence_costs(
    logits: np.ndarray, tau: np.ndarray, frame_duration: float, max_margin: float = MAX_MARGIN,
) -> np.ndarray:
    """Per-frame cost(on) - cost(off) = -rate * frame_duration, rate = (clip(m, -M, M) + M sign m) / 2.

    m = logit p - logit tau (sign m = + for m = +0: p = tau counts as on, like the threshold).
    The rate is M/2 just past the threshold and M when confident: the threshold decides the
    side, confidence at most doubles the weight. logits: (N, C) from `log_odds`; tau: (C,).
    Returns (N, C) float32.
    """
    margin = np.subtract(logits, _log_odds_of(tau), dtype=np.float32)
    return _rate_to_cost(margin, frame_duration, max_margin)


def _rate_to_cost(margin: np.ndarray, frame_duration: float, max_margin: float) -> np.ndarray:
    """In place: margin -> -(clip(margin) + copysign(M, margin)) * frame_duration / 2."""
    sign = np.copysign(np.float32(max_margin), margin)
    np.clip(margin, -max_margin, max_margin, out=margin)
    margin += sign
    margin *= np.float32(-frame_duration / 2.0)
    return margin


def _block_length(n: int) -> int:
    # L steps over (B x C) arrays plus B steps over (C,) vectors: balance the two, with the
    # block steps a few times dearer (bigger arrays).
    return max(8, int(math.sqrt(n / 4.0)) + 1)


def _switch_vector(switch: float | Sequence[float] | np.ndarray, c: int) -> np.ndarray:
    lam = np.broadcast_to(np.asarray(switch, dtype=np.float64), (c,))
    if not (np.isfinite(lam).all() and (lam >= 0).all()):
        raise ValueError(f"switch cost must be a finite number >= 0, not {switch!r}")
    return lam


def _blocks(src: np.ndarray, block: int | None, dtype: type) -> tuple[np.ndarray, np.ndarray, int]:
    """(N, C) -> (L, B, C) copy (zero padded) whose step i of every block is one contiguous slice.

    Returns the copy, a (B, L, C) view of it in time order, and the number of full blocks.
    """
    n, c = src.shape
    big_l = int(block) if block else _block_length(n)
    big_b = -(-n // big_l)
    d = np.empty((big_l, big_b, c), dtype=dtype)
    timed = d.transpose(1, 0, 2)
    full = n // big_l
    if full < big_b:
        d[n - full * big_l:, full] = 0.0
    return d, timed, full


def decode_on_off(cost: np.ndarray, switch: float | Sequence[float] | np.ndarray,
                  block: int | None = None) -> np.ndarray:
    """Viterbi path of the on/off model for every class: (N, C) bool, True = on.

    cost: (N, C) cost(on) - cost(off) per frame; switch: the cost of one switch (>= 0), one
    for all classes or one per class. No prior on the first state. Ties keep the state of the
    next frame; the last frame is on when its cost difference is <= 0.
    """
    cost = np.asarray(cost)
    if cost.ndim != 2:
        raise ValueError(f"costs must be 2-D (frames x classes), got shape {cost.shape}")
    n, c = cost.shape
    lam = _switch_vector(switch, c)
    if n == 0 or c == 0:
        return np.zeros((n, c), dtype=bool)
    dtype = np.float64 if cost.dtype == np.float64 else np.float32
    d, timed, full = _blocks(cost, block, dtype)
    big_l = d.shape[0]
    timed[:full] = cost[: full * big_l].reshape(full, big_l, c)
    if full < d.shape[1]:
        timed[full, : n - full * big_l] = cost[full * big_l:]
    return _viterbi_blocks(d, n, lam)


def hmm_on_off(
    logits: np.ndarray, tau: np.ndarray, frame_duration: float, stickiness: float,
    max_margin: float = MAX_MARGIN, block: int | None = None,
) -> np.ndarray:
    """On/off decision per frame and class with the temporal model: (N, C) bool.

    logits: (N, C) from `log_odds(probs)`; tau: (C,) thresholds; stickiness in [0, 1).
    Equal to `decode_on_off(evidence_costs(...), switch_cost(stickiness))`, built straight into
    the decoder's layout (one pass over the data less).
    """
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"log-odds must be 2-D (frames x classes), got shape {logits.shape}")
    if not (math.isfinite(max_margin) and max_margin > 0):
        raise ValueError(f"max_margin must be a positive number, not {max_margin!r}")
    n, c = logits.shape
    lam = _switch_vector(switch_cost(stickiness, max_margin), c)
    if n == 0 or c == 0:
        return np.zeros((n, c), dtype=bool)
    ltau = _log_odds_of(tau)
    d, timed, full = _blocks(logits, block, np.float32)
    big_l = d.shape[0]
    np.subtract(logits[: full * big_l].reshape(full, big_l, c), ltau, out=timed[:full])
    if full < d.shape[1]:
        np.subtract(logits[full * big_l:], ltau, out=timed[full, : n - full * big_l])
    _rate_to_cost(d, frame_duration, max_margin)  # padding: -M/2 per frame, never read back
    return _viterbi_blocks(d, n, lam)


def _viterbi_blocks(d: np.ndarray, n: int, lam: np.ndarray) -> np.ndarray:
    """The decoder on costs in the (L, B, C) layout of `_blocks` (d is overwritten)."""
    big_l, big_b, c = d.shape
    dtype = d.dtype.type
    lam_d = lam.astype(dtype)
    neg = -lam_d
    # Forward, per block: the composition of the block's steps is x -> clip(x + a, lo, hi);
    # lo and hi are the recursion run from -inf and +inf (after one step: -lam and lam).
    a_end = d.sum(axis=0, dtype=dtype)
    bounds = np.empty((2, big_b, c), dtype=dtype)
    bounds[0] = neg
    bounds[1] = lam_d
    for i in range(1, big_l):
        np.add(bounds, d[i], out=bounds)
        np.maximum(bounds, neg, out=bounds)
        np.minimum(bounds, lam_d, out=bounds)
    # Across blocks: the clipped state entering each block (0 before the first frame).
    e_in = np.empty((big_b, c), dtype=dtype)
    state = np.zeros(c, dtype=dtype)
    lo_end, hi_end = bounds[0], bounds[1]
    for b in range(big_b):
        e_in[b] = state
        state = np.minimum(np.maximum(state + a_end[b], lo_end[b]), hi_end[b])
    # Inside every block again, from its known entry state: d becomes D_t = cost_t + E_{t-1}.
    e = e_in
    for i in range(big_l):
        row = d[i]
        row += e
        e = np.maximum(row, neg)
        np.minimum(e, lam_d, out=e)
    # Backtrack codes: 2 = on, 1 = off, 0 = keep the next frame's state.
    code = (d > lam_d).view(np.int8)
    low = (d < neg).view(np.int8)
    code += low
    code += low
    del low
    last_i, last_b = (n - 1) % big_l, (n - 1) // big_l
    code[last_i, last_b] = np.where(d[last_i, last_b] <= 0, 2, 1)
    if last_i + 1 < big_l:
        code[last_i + 1:, last_b] = 1  # padding: never read back
    del d
    # Backward fill inside each block, then across blocks.
    cur = code[big_l - 1]
    for i in range(big_l - 2, -1, -1):
        row = code[i]
        np.copyto(row, cur, where=row == 0)
        cur = row
    right = np.zeros(c, dtype=np.int8)
    first = code[0]
    enter = np.empty((big_b, c), dtype=np.int8)
    for b in range(big_b - 1, -1, -1):
        enter[b] = right
        right = np.where(first[b] != 0, first[b], right)
    np.copyto(code, enter, where=code == 0)
    on = code == 2
    return on.transpose(1, 0, 2).reshape(big_b * big_l, c)[:n]


def reference_viterbi(cost: np.ndarray, switch: float) -> np.ndarray:
    """A straightforward two-state Viterbi for one class (for tests): (N,) bool path.

    Same tie rules as `decode_on_off`: backpointers keep the state on ties, the last frame is
    on when V(on) <= V(off).
    """
    cost = np.asarray(cost, dtype=np.float64)
    n = cost.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    v_off, v_on = 0.0, float(cost[0])
    back_off = np.zeros(n, dtype=bool)  # predecessor of "off at t" was on
    back_on = np.zeros(n, dtype=bool)  # predecessor of "on at t" was off
    for t in range(1, n):
        stay_off, from_on = v_off, v_on + switch
        stay_on, from_off = v_on, v_off + switch
        back_off[t] = from_on < stay_off
        back_on[t] = from_off < stay_on
        v_off, v_on = min(stay_off, from_on), min(stay_on, from_off) + float(cost[t])
    path = np.zeros(n, dtype=bool)
    s = v_on <= v_off
    for t in range(n - 1, -1, -1):
        path[t] = s
        s = (not back_on[t]) if s else bool(back_off[t])
    return path


def path_cost(cost: np.ndarray, switch: float, path: np.ndarray) -> float:
    """Total cost of an on/off path for one class: on-frame costs plus switch costs."""
    path = np.asarray(path, dtype=bool)
    cost = np.asarray(cost, dtype=np.float64)
    return float(cost[path].sum() + switch * np.count_nonzero(path[1:] != path[:-1]))
