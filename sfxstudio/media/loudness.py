"""Loudness to spec: ITU-R BS.1770-4 / EBU R128 integrated loudness and 4x true peak.

The K-weighting filters are pyloudnorm's (its Meter is the reference the tests compare with),
run as float32 second-order sections;
the gating runs on 100 ms sub-block powers computed chunk by chunk, so a two-hour mix is
measured without a float64 copy of it, and a mix of two signals (original audio + effects at
gain g) can be measured for any g from three sets of sub-block powers (K-weighting is linear:
power(a + g b) = P(a) + g (P(a+b) - P(a) - P(b)) + g^2 P(b)). That is what lets an MP4 export
find the effects gain that brings the whole mix to the target in a few milliseconds.

True peak: 4x oversampling with a windowed-sinc polyphase FIR (scipy.signal.resample_poly).
Only the blocks that could hold the peak are oversampled: an oversampled value is a weighted
sum of nearby input samples, so it can exceed the sample peak of its block and the blocks
beside it by at most the filter's largest polyphase L1 norm; blocks are visited loudest first
and the search stops once no remaining block can beat the peak found. The result is the same
as oversampling everything.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sfxstudio.media.audio_io import MIX_RATE

OVERSAMPLE = 4
BLOCK_S = 0.400  # gating block
HOP_S = 0.100  # 75 % overlap
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
# Delivery specs an editor picks by name: integrated loudness target in LUFS/LKFS.
SPECS: dict[str, float] = {"ebu": -23.0, "atsc": -24.0}
DEFAULT_TRUE_PEAK = -1.0
# Normalisation aims this far below a binding true-peak ceiling, so a meter with another
# oversampling filter (ffmpeg's ebur128, a broadcaster's QC) still reads at most the ceiling.
TRUE_PEAK_SAFETY_DB = 0.1
_CHUNK_HOPS = 200  # sub-blocks per filtering chunk (20 s at any rate)
# True-peak search blocks: small, so that on noise-like material only the few blocks near the
# peak are oversampled (a 10-minute mix: tens of blocks, not all 112 500); the batch keeps the
# cost of a full search (a loud sine) near that of oversampling everything in one go.
_TP_BLOCK = 256  # samples per true-peak search block
_TP_BATCH = 256  # blocks oversampled per call
_TP_PAD = 16  # input samples of context each side (> the filter's half length in input samples)


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS, -inf for silence) and true peak (dBTP, -inf for silence)."""

    integrated: float
    true_peak: float

    def to_json(self) -> dict[str, float | None]:
        return {"integrated_lufs": _finite_or_none(self.integrated),
                "true_peak_dbtp": _finite_or_none(self.true_peak)}

    def describe(self) -> str:
        return f"{fmt_db(self.integrated)} LUFS integrated, true peak {fmt_db(self.true_peak)} dBTP"


def _finite_or_none(x: float) -> float | None:
    return round(x, 2) if math.isfinite(x) else None


def fmt_db(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "-inf"


# ----------------------------------------------------------------------- loudness


@lru_cache(maxsize=8)
def _k_sos(rate: int) -> np.ndarray:
    """pyloudnorm's two K-weighting biquads as float32 second-order sections.

    Why sections in float32: the filtering is most of an export's loudness time, and sosfilt
    in float32 is faster than lfilter in float64 (pair_powers of 10 minutes of stereo: 0.90 s
    instead of 1.07 s, best of 3), and a cascade of biquads
    stays accurate in float32 where the same 4th-order filter as one (b, a) does not (the
    high pass's poles sit near z = 1): 1e-4 of full scale at most, a loudness error far below
    0.001 LU (tests compare with pyloudnorm)."""
    import pyloudnorm

    rows = [np.concatenate([np.asarray(f.b, np.float64) * float(f.passband_gain),
                            np.asarray(f.a, np.float64)])
            for f in pyloudnorm.Meter(rate)._filters.values()]
    sos = np.array(rows)
    sos[:, :3] /= sos[:, 3:4]
    sos[:, 3:] /= sos[:, 3:4]
    return sos.astype(np.float32)


def _as_2d(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio)
    return x[:, None] if x.ndim == 1 else x


def _k_weighted_chunks(audio: np.ndarray, rate: int) -> Iterator[np.ndarray]:
    """K-weighted float32 chunks of `audio` (n, ch) as (ch, m) rows, filter state carried."""
    from scipy.signal import sosfilt

    x = _as_2d(audio)
    hop = max(1, round(HOP_S * rate))
    step = hop * _CHUNK_HOPS
    sos = _k_sos(rate)
    # Zero initial state, as pyloudnorm: a signal starts from silence.
    state = np.zeros((sos.shape[0], x.shape[1], 2), np.float32)
    for pos in range(0, x.shape[0], step):
        # Channels as contiguous rows: filtering along a strided axis is several times slower.
        y = np.ascontiguousarray(x[pos : pos + step].T, dtype=np.float32)
        y, state = sosfilt(sos, y, axis=-1, zi=state)
        yield y


def _hop_sums(y: np.ndarray, hop: int) -> np.ndarray:
    """Sum of squares per `hop` samples of y (ch, n) -> (n // hop, ch) float64; a partial tail is
    dropped. (float32 sums of one hop's 4800 squares are pairwise: relative error ~1e-7.)"""
    n = (y.shape[1] // hop) * hop
    return np.square(y[:, :n]).reshape(y.shape[0], -1, hop).sum(axis=2).T.astype(np.float64)


def sub_block_powers(audio: np.ndarray, rate: int = MIX_RATE) -> np.ndarray:
    """K-weighted sums of squares per 100 ms, (n_hops, ch). Chunks are whole hops, so only
    the signal's last partial hop (which no complete gating block covers) is dropped."""
    hop = max(1, round(HOP_S * rate))
    parts = [_hop_sums(y, hop) for y in _k_weighted_chunks(audio, rate)]
    ch = _as_2d(audio).shape[1]
    return np.concatenate(parts) if parts else np.zeros((0, ch))


def pair_powers(a: np.ndarray, b: np.ndarray,
                rate: int = MIX_RATE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sub-block powers of a, b and a + b (same shapes), filtering each signal once."""
    hop = max(1, round(HOP_S * rate))
    pa, pb, pab = [], [], []
    for ya, yb in zip(_k_weighted_chunks(a, rate), _k_weighted_chunks(b, rate), strict=True):
        pa.append(_hop_sums(ya, hop))
        pb.append(_hop_sums(yb, hop))
        ya += yb  # a + b filtered, in place: K-weighting is linear
        pab.append(_hop_sums(ya, hop))
    ch = _as_2d(a).shape[1]
    empty = np.zeros((0, ch))
    return (np.concatenate(pa) if pa else empty, np.concatenate(pb) if pb else empty,
            np.concatenate(pab) if pab else empty)


def _channel_weights(channels: int) -> np.ndarray:
    # BS.1770: L, R, C at 1.0, surrounds at 1.41 (pyloudnorm's order). Stereo here.
    return np.array([1.0, 1.0, 1.0, 1.41, 1.41][:channels], dtype=np.float64)


def gated_loudness(powers: np.ndarray, rate: int = MIX_RATE) -> float:
    """Integrated loudness from 100 ms sub-block powers (n_hops, ch): 400 ms blocks with 75 %
    overlap, absolute gate -70 LUFS, relative gate -10 LU (BS.1770-4). -inf when no block
    passes the gates (silence, or shorter than one block)."""
    hop = max(1, round(HOP_S * rate))
    per = round(BLOCK_S / HOP_S)
    if powers.shape[0] < per:
        return -math.inf
    c = np.cumsum(np.vstack([np.zeros((1, powers.shape[1])), powers]), axis=0)
    z = (c[per:] - c[:-per]) / (per * hop)  # (blocks, ch) mean squares
    weighted = z @ _channel_weights(z.shape[1])
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10.0 * np.log10(weighted)
    keep = lk >= ABSOLUTE_GATE
    if not keep.any():
        return -math.inf
    gamma_r = -0.691 + 10.0 * math.log10(float(weighted[keep].mean())) + RELATIVE_GATE
    keep &= lk > gamma_r
    if not keep.any():
        return -math.inf
    return -0.691 + 10.0 * math.log10(float(weighted[keep].mean()))


def integrated_loudness(audio: np.ndarray, rate: int = MIX_RATE) -> float:
    """BS.1770-4 integrated loudness of (n, ch) audio in LUFS; -inf for silence."""
    return gated_loudness(sub_block_powers(audio, rate), rate)


def mix_loudness(pa: np.ndarray, pb: np.ndarray, pab: np.ndarray, gain: float,
                 rate: int = MIX_RATE) -> float:
    """Integrated loudness of a + gain * b from `pair_powers(a, b)` (exact: K-weighting is linear)."""
    cross = pab - pa - pb
    return gated_loudness(np.maximum(pa + gain * cross + gain * gain * pb, 0.0), rate)


def sound_loudness(audio: np.ndarray, rate: int = MIX_RATE) -> float:
    """Loudness of one sound for matching variations: integrated when it lasts a gating block,
    else the K-weighted mean power of the whole sound (a 200 ms bark has no gated loudness)."""
    x = _as_2d(audio)
    if x.shape[0] == 0:
        return -math.inf
    if x.shape[0] >= round(BLOCK_S * rate):
        value = integrated_loudness(x, rate)
        if math.isfinite(value):
            return value
    total = sum(float(np.square(y).sum(axis=1) @ _channel_weights(y.shape[0]))
                for y in _k_weighted_chunks(x, rate))
    mean = total / x.shape[0]
    return -0.691 + 10.0 * math.log10(mean) if mean > 0 else -math.inf


# ----------------------------------------------------------------------- true peak


@lru_cache(maxsize=4)
def _oversampling_filter(up: int) -> tuple[np.ndarray, float]:
    """The interpolation filter and its largest polyphase L1 norm (no oversampled value can
    exceed a block's sample peak times that norm).

    A Hann-windowed sinc of 12 taps per phase cut at the original Nyquist frequency: the design
    of BS.1770-4's reference filter length and of libebur128 / ffmpeg's ebur128 meter, so the
    two read the same peaks (the short filter's passband ripple reads up to ~0.6 dB over the
    continuous wave near 12-20 kHz; a delivery measured by that meter must count it).
    """
    from scipy.signal import firwin

    h = firwin(12 * up + 1, 1.0 / up, window="hann")
    # resample_poly multiplies the filter by `up` itself; the bound is for the scaled branches.
    bound = max(float(np.abs(up * h[p::up]).sum()) for p in range(up))
    return h, bound


def true_peak(audio: np.ndarray, rate: int = MIX_RATE, oversample: int = OVERSAMPLE) -> float:
    """Peak of the 4x oversampled signal in dBTP (-inf for silence), over all channels."""
    from scipy.signal import resample_poly

    x = _as_2d(np.asarray(audio, dtype=np.float32))
    n = x.shape[0]
    if n == 0:
        return -math.inf
    h, bound = _oversampling_filter(oversample)
    peak = _block_peaks(x)
    if not np.isfinite(peak).all():
        return math.inf
    if float(peak.max()) == 0.0:
        return -math.inf
    # An oversampled value near a block's edge also weighs the neighbour's first samples (the
    # filter reaches ~6 input samples): bound each block by its neighbours' peaks too.
    key = peak.copy()
    key[1:] = np.maximum(key[1:], peak[:-1])
    key[:-1] = np.maximum(key[:-1], peak[1:])
    best = float(peak.max())  # the samples themselves are on the oversampled signal
    candidates = np.flatnonzero(key * bound > best)
    if candidates.size * _TP_BLOCK * 8 > n:
        # Noise-like material: the bound rules out too little for a search to pay.
        best = max(best, _oversampled_peak(x, h, oversample))
        return 20.0 * math.log10(best)
    order = candidates[np.argsort(-key[candidates], kind="stable")]
    seg = _TP_BLOCK + 2 * _TP_PAD
    offsets = np.arange(seg) - _TP_PAD
    for start in range(0, order.size, _TP_BATCH):
        batch = order[start : start + _TP_BATCH]
        if best >= float(key[batch[0]]) * bound:
            break  # no block left can hold a higher inter-sample peak
        # (batch, seg, ch) windows with context (zeros beyond the signal), oversampled along
        # time in one call; only these windows are copied, never the whole signal.
        idx = batch[:, None] * _TP_BLOCK + offsets[None, :]
        inside = (idx >= 0) & (idx < n)
        windows = np.where(inside[:, :, None], x[np.clip(idx, 0, n - 1)], np.float32(0)).astype(np.float64)
        up = resample_poly(windows, oversample, 1, axis=1, window=h)
        core = np.abs(up[:, _TP_PAD * oversample : (_TP_PAD + _TP_BLOCK) * oversample])
        # Beyond the signal's end the padding holds only the filter's ringing.
        core[~inside[:, _TP_PAD : _TP_PAD + _TP_BLOCK].repeat(oversample, axis=1)] = 0.0
        best = max(best, float(core.max()))
    return 20.0 * math.log10(best) if best > 0 else -math.inf


_TP_CHUNK = 1 << 15  # frames per pass of the full oversampling (temporaries stay in cache)


def _oversampled_peak(x: np.ndarray, h: np.ndarray, up: int) -> float:
    """max |y| over the phases between the samples of x oversampled `up` times with the filter h
    (resample_poly's output without its sample phase), in cache-sized chunks.

    Output up*i + p of resample_poly is sum_m up*h[p + up*m] * x[i + k - m] with k = the filter's
    half length in input samples; each phase is that short sum done as whole-chunk float32
    multiply-adds (4x faster than resample_poly in float64, within 1e-6 dB of it).
    """
    k = (len(h) - 1) // 2 // up
    phases = [(up * h[p::up]).astype(np.float32) for p in range(1, up)]
    n, ch = x.shape
    best = 0.0
    buf = np.zeros((_TP_CHUNK + 2 * k, ch), np.float32)
    acc = np.empty((_TP_CHUNK, ch), np.float32)
    tmp = np.empty_like(acc)
    for a in range(0, n, _TP_CHUNK):
        m = min(n, a + _TP_CHUNK) - a
        lo, hi = a - k, a + m + k
        if lo >= 0 and hi <= n:
            seg = x[lo:hi]
        else:  # zeros beyond the signal, as resample_poly pads
            seg = buf[: m + 2 * k]
            seg[:] = 0.0
            seg[max(0, -lo) : m + 2 * k - max(0, hi - n)] = x[max(0, lo) : min(n, hi)]
        y, t = acc[:m], tmp[:m]
        for taps in phases:
            np.multiply(seg[2 * k : 2 * k + m], taps[0], out=y)
            for j in range(1, len(taps)):
                np.multiply(seg[2 * k - j : 2 * k - j + m], taps[j], out=t)
                y += t
            best = max(best, float(y.max()), -float(y.min()))
    return best


def _block_peaks(x: np.ndarray) -> np.ndarray:
    """Sample peak |x| of each _TP_BLOCK frames (the last block may be short), all channels."""
    n = x.shape[0]
    full = n // _TP_BLOCK
    view = x[: full * _TP_BLOCK].reshape(full, _TP_BLOCK * x.shape[1])
    peaks = np.maximum(view.max(axis=1), -view.min(axis=1)) if full else np.zeros(0, np.float32)
    if n > full * _TP_BLOCK:
        tail = x[full * _TP_BLOCK :]
        peaks = np.append(peaks, max(float(tail.max()), -float(tail.min()))).astype(np.float32)
    return peaks


def measure(audio: np.ndarray, rate: int = MIX_RATE) -> Loudness:
    return Loudness(integrated_loudness(audio, rate), true_peak(audio, rate))


# ----------------------------------------------------------------------- normalisation


@dataclass(frozen=True)
class Normalisation:
    """The gain that takes a signal to a loudness target under a true-peak ceiling."""

    gain_db: float
    before: Loudness
    after: Loudness
    limited_by_peak: bool  # the ceiling kept it below the target

    def note(self, target: float) -> str:
        if self.limited_by_peak:
            return (f"loudness {fmt_db(self.after.integrated)} LUFS, below the {target:g} LUFS target: "
                    f"the true-peak ceiling allows no more (peak {fmt_db(self.after.true_peak)} dBTP)")
        return ""


def normalisation_gain(before: Loudness, target: float, ceiling: float = DEFAULT_TRUE_PEAK) -> Normalisation:
    """Gain for a signal measured `before`: target - loudness, lowered when the true peak would
    pass the ceiling. Silence gets 0 dB."""
    if not math.isfinite(before.integrated):
        return Normalisation(0.0, before, before, False)
    gain = target - before.integrated
    limited = False
    if math.isfinite(before.true_peak) and before.true_peak + gain > ceiling:
        gain = ceiling - TRUE_PEAK_SAFETY_DB - before.true_peak
        limited = True
    after = Loudness(before.integrated + gain, before.true_peak + gain)
    return Normalisation(gain, before, after, limited)


def effects_gain_for_mix(original: np.ndarray, effects: np.ndarray, target: float,
                         rate: int = MIX_RATE, lo_db: float = -60.0, hi_db: float = 40.0) -> float | None:
    """The gain (dB) on `effects` that brings original + effects to `target` LUFS, or None when no
    gain in [lo_db, hi_db] reaches it (the original alone is louder, or the effects are silent).
    Bisection on exact mix loudness from one filtering pass of each signal."""
    return solve_effects_gain(pair_powers(original, effects, rate), target, rate, lo_db=lo_db, hi_db=hi_db)


def solve_effects_gain(powers: tuple[np.ndarray, np.ndarray, np.ndarray], target: float,
                       rate: int = MIX_RATE, offset_db: float = 0.0, lo_db: float = -60.0,
                       hi_db: float = 40.0) -> float | None:
    """effects_gain_for_mix from `pair_powers(original, effects)` already computed, for the mix
    original + effects at `offset_db` + the gain returned (so the caller that needs the powers
    again, to know the final mix's loudness, filters each signal only once)."""
    pa, pb, pab = powers

    def loud(db: float) -> float:
        return mix_loudness(pa, pb, pab, 10.0 ** ((offset_db + db) / 20.0), rate)

    low, high = loud(lo_db), loud(hi_db)
    if not (math.isfinite(high) and low <= target <= high):
        return None
    a, b = lo_db, hi_db
    for _ in range(50):
        mid = 0.5 * (a + b)
        if loud(mid) < target:
            a = mid
        else:
            b = mid
        if b - a < 1e-4:
            break
    return 0.5 * (a + b)
