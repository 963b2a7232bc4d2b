"""Place effect sounds on the timeline and mix them: float32, 48 kHz, stereo.

Each audible segment becomes a Placement: a sound (already decoded to (n, 2) float32 at the
mix rate), the class's SoundAttributes and the segment's extra gain. Rendering a placement
builds one block covering the segment's samples [round(start*rate), round(end*rate)):

- loop: the sound repeats, each seam an equal-power crossfade of `crossfade` seconds
  (at least MIN_FADE, so a seam never clicks even when the library says 0);
- one_shot: the sound plays once from the onset; when it is longer than the segment it is
  cut at the segment end with a `fade_out` ramp. With several onsets it plays once per
  onset, and each hit chokes the one before it (as a drum machine's choke group): a hit
  runs to its sound's end or to the next hit, where it is cut with a MIN_FADE declick that
  ends on the next hit's sample; later hits get the same fade-in as the first. So a storm's
  flashes each get their thunder without one-shots piling up into a retrigger, and the
  cost stays linear (each output sample comes from one hit);
- retrigger: a hit every `interval` seconds from the onset, each later hit moved by up to
  +-`jitter` seconds (deterministic from the placement's seed); hits overlap freely and are
  cut at the segment end. Many overlapping hits (short interval, long sound) are summed by
  FFT overlap-add of an impulse train with the sound, so the cost stays linear in the
  effect's length whatever the interval.

The onset is the segment start, unless the placement carries `onsets` (absolute seconds of
visual events inside the effect, e.g. motion peaks): then a one-shot plays from each onset
(see above) and a retrigger plays exactly one hit per onset (no grid, no jitter: the picture
says where). Onsets outside [start, end) are ignored; none inside means "as without onsets". A
loop always starts at the segment start (an ambience is there for the whole effect). A one-shot
or retrigger hit plays its sound from its attack (the first sample within ATTACK_DB of its
peak): a file that opens with silence would otherwise be heard that much after the onset.

Every block gets a fade-in (`fade_in`) and a fade-out at the segment end (`fade_out`), each at
least MIN_FADE long and at most half the segment, because a cut through a waveform clicks.
The mix is the sum of all blocks with a final peak guard (scale down, never clip) so the
result never exceeds `peak_dbfs`. A placement whose gain or samples are not finite is skipped
with a warning, and the mix never holds NaN or infinity.

Pan: see media.pan (equal-power, a constant or a smoothed curve); it is applied inside
render_placement, so the mix and the stems are panned alike.

Everything is numpy slices (np.add into views, cached ramps and loop tiles); there is no
per-sample Python code, so a 10-minute timeline renders in well under a second.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from sfxstudio.core.classes import OTHERWISE, SOUND_MODES, SoundAttributes
from sfxstudio.core.errors import BadInputError, warn
from sfxstudio.core.segments import Segment, audible
from sfxstudio.core.validate import is_finite
from sfxstudio.media.audio_io import MIX_RATE
from sfxstudio.media.pan import Pan, apply_pan

log = logging.getLogger(__name__)

SAMPLE_RATE = MIX_RATE  # export, the benches and tests import the mix rate under this name
MIN_FADE = 0.005  # seconds; shortest ramp at a cut, below this a cut is audible as a click
DEFAULT_PEAK_DBFS = -1.0


@dataclass
class Placement:
    """One sound placed on the timeline over [start, end) seconds."""

    start: float
    end: float
    samples: np.ndarray  # (n, 2) float32 at the mix rate
    attributes: SoundAttributes
    gain_db: float = 0.0  # on top of attributes.gain_db
    seed: int = 0  # makes retrigger jitter reproducible
    class_name: str = ""
    onsets: Sequence[float] | None = None  # absolute seconds of visual events inside the effect
    pan: Pan = 0.0  # constant position or a (times, values) curve; see the module docstring
    auto_pan: bool = True  # the class's auto-pan switch: False keeps the effect centred
    variation: str | None = None  # the sound file this placement plays (for reports/exports)
    segment_id: int | None = None  # the effect it comes from


class SoundSource(Protocol):
    """What placements_for needs from a sound library (media.library.SoundLibrary)."""

    def attributes(self, cls: str) -> SoundAttributes: ...

    def variations(self, cls: str) -> list[str]: ...

    def samples(self, path: str) -> np.ndarray: ...

    def pick_variation(self, cls: str, index: int, seed: int) -> str | None:
        """The sound file for the index-th effect of cls (None: the class has none); `seed`
        is the render's seed, which a random policy must use so a re-render sounds the same."""
        ...


# --------------------------------------------------------------------------- helpers


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def peak_dbfs(audio: np.ndarray) -> float:
    """Peak level in dBFS (-inf for silence or an empty array)."""
    if audio.size == 0:
        return -math.inf
    # max/min instead of abs().max(): no temporary the size of the mix.
    peak = max(float(audio.max()), -float(audio.min()))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def peak_guard_limit(peak_dbfs_limit: float) -> np.float32:
    """The float32 sample limit of a peak_dbfs_limit: never above the promised level."""
    limit64 = 10.0 ** (peak_dbfs_limit / 20.0)
    limit = np.float32(limit64)
    if float(limit) > limit64:  # float32 rounding must not put the limit above the promise
        limit = np.nextafter(limit, np.float32(0))
    return limit


def apply_peak_guard(audio: np.ndarray, peak_dbfs_limit: float = DEFAULT_PEAK_DBFS) -> float:
    """Scale `audio` in place so its peak is <= peak_dbfs_limit; returns the gain applied (<= 1).

    Scaling the whole mix keeps the balance between effects (a limiter would pump). The final
    clip only absorbs float32 rounding, so the guarantee holds exactly.
    """
    limit = peak_guard_limit(peak_dbfs_limit)
    if audio.size == 0:
        return 1.0
    peak = max(float(audio.max()), -float(audio.min()))
    if not math.isfinite(peak):  # NaN/inf would make the gain NaN and the whole mix with it
        np.nan_to_num(audio, copy=False, nan=0.0, posinf=float(limit), neginf=-float(limit))
        peak = max(float(audio.max()), -float(audio.min()))
    if peak <= float(limit):
        return 1.0
    gain = float(limit) / peak
    np.multiply(audio, np.float32(gain), out=audio)
    np.clip(audio, -limit, limit, out=audio)
    return gain


@lru_cache(maxsize=256)
def _fade_in_ramp(n: int) -> np.ndarray:
    """Raised-cosine ramp (n, 1) rising from just above 0 to just below 1.

    (i + 1) / (n + 1) keeps the first sample non-zero, so the onset stays sample-accurate
    (the first audible sample is the onset sample), and the curve has no corner at either end.
    """
    t = (np.arange(n, dtype=np.float64) + 1.0) / (n + 1.0)
    ramp = (np.sin(0.5 * np.pi * t) ** 2).astype(np.float32).reshape(n, 1)
    ramp.setflags(write=False)
    return ramp


@lru_cache(maxsize=256)
def _fade_out_ramp(n: int) -> np.ndarray:
    ramp = np.ascontiguousarray(_fade_in_ramp(n)[::-1])
    ramp.setflags(write=False)
    return ramp


@lru_cache(maxsize=64)
def _equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(fade_in, fade_out) with fade_in**2 + fade_out**2 == 1: uncorrelated material keeps its level."""
    t = (np.arange(n, dtype=np.float64) + 0.5) / n
    fin = np.sin(0.5 * np.pi * t).astype(np.float32).reshape(n, 1)
    fout = np.cos(0.5 * np.pi * t).astype(np.float32).reshape(n, 1)
    fin.setflags(write=False)
    fout.setflags(write=False)
    return fin, fout


def _as_stereo(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise ValueError(f"sound samples must be (n, 2), got shape {x.shape}")
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    return x


def _fade_len(seconds: float, rate: int, limit: int) -> int:
    return max(0, min(round(max(seconds, MIN_FADE) * rate), limit))


# ------------------------------------------------------------------------ rendering


_TileCache = dict[tuple[int, int], tuple[np.ndarray, int]]


def _loop_tile(x: np.ndarray, xfade: int, cache: _TileCache) -> tuple[np.ndarray, int]:
    """The repeating part of a seamless loop of x and its period.

    With period p = n - c, the stream is x[:p] followed by copies of
    tile = [x[n-c:] * fade_out + x[:c] * fade_in, x[c:n-c]], so every seam is a crossfade.
    Built once per (sound, crossfade) and reused by every placement in a render.
    """
    key = (id(x), xfade)
    hit = cache.get(key)
    if hit is not None:
        return hit
    n = x.shape[0]
    c = xfade
    p = n - c
    tile = np.empty((p, 2), dtype=np.float32)
    if c:
        fin, fout = _equal_power(c)
        np.multiply(x[n - c :], fout, out=tile[:c])
        tile[:c] += x[:c] * fin
    tile[c:] = x[c : n - c]
    cache[key] = (tile, p)
    return tile, p


def _render_loop(x: np.ndarray, length: int, attrs: SoundAttributes, rate: int,
                 cache: _TileCache) -> np.ndarray:
    n = x.shape[0]
    block = np.empty((length, 2), dtype=np.float32)
    # A seam needs at least MIN_FADE and at most half the sound (else the tile has no body).
    xfade = min(round(max(attrs.crossfade, MIN_FADE) * rate), n // 2)
    tile, period = _loop_tile(x, xfade, cache)
    first = min(period, length)
    block[:first] = x[:first]
    if length > period:
        # Fill the rest by copying the tile once, then doubling what is already filled:
        # O(log reps) memcpy calls however short the sound is.
        filled = min(period, length - period)
        block[period : period + filled] = tile[:filled]
        pos = period + filled
        while pos < length:
            take = min(pos - period, length - pos)
            block[pos : pos + take] = block[period : period + take]
            pos += take
    return block


# Above this many overlapping hits per output sample, summing copies of the sound costs more
# than an FFT overlap-add; below it the direct sum is cheap (linear) and exact.
RETRIGGER_DIRECT_OVERLAP = 16
RETRIGGER_FFT_CHUNK = 1 << 20  # output samples per FFT pass (at least 8 sound lengths)


def _render_retrigger(x: np.ndarray, length: int, offs: np.ndarray) -> np.ndarray:
    """Hits of x at the sorted, unique sample offsets `offs` (0 <= off < length), cut at length."""
    if _retrigger_work(offs, x.shape[0], length) <= RETRIGGER_DIRECT_OVERLAP * length:
        return _retrigger_direct(x, length, offs)
    return _retrigger_fft(x, length, offs)


def _retrigger_work(offs: np.ndarray, n: int, length: int) -> int:
    """Samples the direct sum would copy: each hit adds the sound up to the segment end."""
    return int(np.minimum(n, length - offs).sum()) if offs.size else 0


def _retrigger_direct(x: np.ndarray, length: int, offs: np.ndarray) -> np.ndarray:
    block = np.zeros((length, 2), dtype=np.float32)
    for off in offs.tolist():
        m = min(x.shape[0], length - off)
        block[off : off + m] += x[:m]
    return block


def _retrigger_fft(x: np.ndarray, length: int, offs: np.ndarray) -> np.ndarray:
    """The same sum as _retrigger_direct as a convolution of the hit train with the sound.

    Overlap-add FFT convolution costs O((length + n) log n) however many hits overlap. It runs
    over output chunks of a few times the sound's length, so temporaries stay bounded by the
    chunk, not the effect. Computed in float64 and rounded once to float32, it agrees with the
    direct float32 sum to float32 rounding; the FFT's round-off floor (~1e-16 of the level)
    lies far below one float32 step of any audible sample.
    """
    from scipy.signal import oaconvolve

    n = min(x.shape[0], length)
    block = np.empty((length, 2), dtype=np.float32)
    same = bool(np.array_equal(x[:n, 0], x[:n, 1]))
    kernels = [x[:n, ch].astype(np.float64) for ch in range(1 if same else 2)]
    chunk = max(8 * n, RETRIGGER_FFT_CHUNK)
    for a in range(0, length, chunk):
        b = min(a + chunk, length)
        lo = max(0, a - (n - 1))  # hits up to n-1 samples before the chunk still sound in it
        i, j = np.searchsorted(offs, [lo, b])
        train = np.bincount(offs[i:j] - lo, minlength=b - lo).astype(np.float64)
        for ch, kernel in enumerate(kernels):
            block[a:b, ch] = oaconvolve(train, kernel, mode="full")[a - lo : b - lo]
    if same:
        block[:, 1] = block[:, 0]
    return block


def _render_one_shots(x: np.ndarray, length: int, offs: np.ndarray, fade_in: int, declick: int
                      ) -> np.ndarray:
    """One-shot hits of x at the sorted, unique offsets `offs` (offs[0] == 0), each choked by
    the next: hit k plays x up to the next hit (declicked over its last `declick` samples) or
    to its end; the block ends where the last hit's sound or the segment ends. Hits after the
    first are faded in over `fade_in` samples (the first gets the block's own fade-in)."""
    ends = np.append(offs[1:], length)
    stop = int(min(offs[-1] + x.shape[0], length))
    block = np.zeros((stop, 2), dtype=np.float32)
    for k, (off, nxt) in enumerate(zip(offs.tolist(), ends.tolist(), strict=True)):
        m = min(x.shape[0], nxt - off)
        piece = block[off : off + m]
        piece[:] = x[:m]
        fi = min(fade_in, m // 2)
        if k and fi:
            piece[:fi] *= _fade_in_ramp(fi)
        if off + x.shape[0] > nxt and k + 1 < len(offs):  # choked by the next hit
            fo = min(declick, m // 2)
            if fo:
                piece[m - fo :] *= _fade_out_ramp(fo)
    return block


ATTACK_DB = -40.0  # a hit's sound starts where it first reaches this level below its peak
RISE_DB = -6.0  # ... and has arrived where a 10 ms block first comes within this of the loudest
RISE_BLOCK_S = 0.01


def attack_sample(x: np.ndarray) -> int:
    """The sound's attack: its first sample within ATTACK_DB of its peak (0 when silent)."""
    level = np.abs(x).max(axis=1) if x.ndim == 2 else np.abs(x)
    peak = float(level.max()) if level.size else 0.0
    return int(np.argmax(level >= peak * 10 ** (ATTACK_DB / 20))) if peak > 0 else 0


def attack_rise(x: np.ndarray, rate: int = MIX_RATE) -> float:
    """Seconds from a sound's attack to its arrival: the start of the first 10 ms block within
    RISE_DB of its loudest. A crack arrives at once (0-10 ms); a distant rumble that swells
    for a fifth of a second is heard that late after the event it is placed on, and against
    the previous hit's tail its soft start is no hit at all (media.assign prefers sounds that
    arrive at once for effects with visual hits)."""
    level = np.abs(x).max(axis=1) if x.ndim == 2 else np.abs(x)
    block = max(1, round(RISE_BLOCK_S * rate))
    n = level.shape[0] // block
    if n == 0 or not float(level.max()) > 0:
        return 0.0
    env = level[: n * block].reshape(n, block).max(axis=1)
    arrived = int(np.argmax(env >= float(env.max()) * 10 ** (RISE_DB / 20))) * block
    return max(0, arrived - attack_sample(x)) / rate


def _from_attack(x: np.ndarray, cache: _TileCache) -> np.ndarray:
    """x from its attack: the leading samples quieter than ATTACK_DB under its peak dropped.

    A file may open with silence (a distant thunder's 110 ms before its rumble); placed from
    its first sample, such a hit is heard that late after the flash. Cached per sound.
    """
    key = (id(x), -1)
    hit = cache.get(key)
    if hit is None:
        lead = attack_sample(x)
        hit = cache[key] = (x[lead:], lead)
    return hit[0]


def retrigger_offsets(length: int, interval: float, jitter: float, rate: int, seed: int) -> np.ndarray:
    """Hit positions (samples from the onset) inside a segment of `length` samples.

    Hit k sits at k * interval + u_k, u_k uniform in [-jitter, +jitter] from `seed`; the first
    hit is exactly at the onset (the segment start is where the picture says the sound is).
    """
    step = max(interval, 1.0 / rate) * rate
    count = math.ceil(length / step) if length > 0 else 0
    grid = np.arange(count, dtype=np.float64) * step
    if jitter > 0 and count > 1:
        rng = np.random.default_rng(seed)
        grid[1:] += rng.uniform(-jitter, jitter, size=count - 1) * rate
    offs = np.rint(grid).astype(np.int64)
    offs = offs[(offs >= 0) & (offs < length)]
    return np.sort(offs)


def render_placement(p: Placement, rate: int = SAMPLE_RATE, total: int | None = None,
                     cache: _TileCache | None = None) -> tuple[int, np.ndarray] | None:
    """(onset sample, block) for one placement, or None when it makes no sound.

    The segment is first clipped to [0, total) samples so fades land where the sound stops.
    The block is (length, 2) float32, already panned.
    """
    attrs = p.attributes
    if not attrs.enabled:
        return None
    if attrs.mode not in SOUND_MODES:
        raise ValueError(f"unknown sound mode {attrs.mode!r}")
    what = f"{p.class_name or 'effect'} at {_seconds(p.start)} s"
    if not (is_finite(p.start) and is_finite(p.end)):
        warn(None, f"{what}: the effect's times are not finite numbers ({p.start!r}, {p.end!r}); skipped")
        return None
    gain_db = attrs.gain_db + p.gain_db if is_finite(p.gain_db) else math.nan
    if not is_finite(gain_db):
        warn(None, f"{what}: gain_db must be a finite number, not {p.gain_db!r}; skipped")
        return None
    s0 = round(p.start * rate)
    s1 = round(p.end * rate)
    s0 = max(s0, 0)
    if total is not None:
        s1 = min(s1, total)
    hits = onset_samples(p.onsets, p.start, p.end, rate, s0, s1) if attrs.mode != "loop" else None
    if hits is not None:
        s0 = int(hits[0])  # the sound lands on the first visual event, not the segment start
    length = s1 - s0
    x = _as_stereo(p.samples)
    if length <= 0 or x.shape[0] == 0:
        return None
    cache = {} if cache is None else cache
    if attrs.mode != "loop":
        x = _from_attack(x, cache)  # a hit lands with its attack, not with its file's silence

    if attrs.mode == "loop":
        block = _render_loop(x, length, attrs, rate, cache)
    elif attrs.mode == "retrigger":
        offs = (hits - s0 if hits is not None
                else retrigger_offsets(length, attrs.interval, attrs.jitter, rate, p.seed))
        block = _render_retrigger(x, length, offs)
    elif hits is not None and hits.size > 1:
        fade = _fade_len(attrs.fade_in, rate, length)
        block = _render_one_shots(x, length, hits - s0, fade, round(MIN_FADE * rate))
    else:
        block = x[: min(x.shape[0], length)].copy()

    gain = db_to_gain(gain_db)
    if gain != 1.0:
        np.multiply(block, np.float32(gain), out=block)
    # One bad sample (a NaN in a float WAV, an overflow) would poison the whole mix.
    if not (np.isfinite(block.min()) and np.isfinite(block.max())):
        warn(None, f"{what}: the sound holds samples that are not finite numbers; skipped")
        return None

    m = block.shape[0]
    half = length // 2
    fi = _fade_len(attrs.fade_in, rate, min(half, m))
    if fi:
        block[:fi] *= _fade_in_ramp(fi)
    # Reaching the segment end means the sound is cut there: fade_out. A one-shot that ends
    # on its own only gets its tail declicked.
    cut = m == length
    fo = _fade_len(attrs.fade_out, rate, half) if cut else min(round(MIN_FADE * rate), m // 2)
    if fo:
        block[m - fo :] *= _fade_out_ramp(fo)
    if p.auto_pan:
        apply_pan(block, p.pan, s0, rate, what)
    return s0, block


def onset_samples(onsets: Sequence[float] | None, start: float, end: float, rate: int,
                  s0: int, s1: int) -> np.ndarray | None:
    """Sorted unique sample positions round(t * rate) of the onsets t in [start, end) that fall
    inside the rendered range [s0, s1); None when there are none (render as without onsets).

    Two onsets on the same sample are one hit: doubling a hit would only make it louder.
    """
    if onsets is None:
        return None
    t = np.asarray(onsets, dtype=np.float64).reshape(-1)
    if t.size == 0:
        return None
    t = t[np.isfinite(t) & (t >= start) & (t < end)]
    pos = np.unique(np.rint(t * rate).astype(np.int64))
    pos = pos[(pos >= s0) & (pos < s1)]
    return pos if pos.size else None


def _seconds(t: Any) -> str:
    return f"{t:.3f}" if is_finite(t) else repr(t)


def _mix_into(out: np.ndarray, placements: Iterable[Placement], rate: int, cache: _TileCache,
              keep: dict[str, list[tuple[int, np.ndarray]]] | None = None) -> None:
    total = out.shape[0]
    for p in placements:
        blocks = keep.setdefault(p.class_name or "effects", []) if keep is not None else None
        r = render_placement(p, rate, total, cache)
        if r is None:
            continue
        if blocks is not None:
            blocks.append(r)
        s0, block = r
        view = out[s0 : s0 + block.shape[0]]
        with np.errstate(over="ignore"):  # an overflow becomes inf, which the guards clear
            np.add(view, block, out=view)


def render_mix(placements: Sequence[Placement], duration: float, rate: int = SAMPLE_RATE,
               peak_dbfs: float = DEFAULT_PEAK_DBFS,
               keep: dict[str, list[tuple[int, np.ndarray]]] | None = None) -> np.ndarray:
    """All placements mixed: (round(duration * rate), 2) float32, peak <= peak_dbfs.

    keep: when given, filled with each class's rendered blocks [(first sample, block)] in
    render order (a class whose effects all render to nothing gets an empty list), so the
    stems can be written from them (media.export.export_sparse_stems) without rendering
    every effect again."""
    if not is_finite(duration) or duration < 0:
        raise ValueError(f"duration must be a finite number of seconds, not {duration!r}")
    out = np.zeros((round(duration * rate), 2), dtype=np.float32)
    _mix_into(out, placements, rate, {}, keep)
    apply_peak_guard(out, peak_dbfs)  # also clears any NaN/inf a sum of huge blocks could make
    return out


def render_stems(placements: Sequence[Placement], duration: float,
                 rate: int = SAMPLE_RATE) -> dict[str, np.ndarray]:
    """One mix per class_name (no peak guard: stems keep their level relative to each other).

    Use peak_dbfs(stem) to report a stem that goes over full scale.
    """
    n = round(duration * rate)
    by_class: dict[str, list[Placement]] = {}
    for p in placements:
        by_class.setdefault(p.class_name or "effects", []).append(p)
    cache: _TileCache = {}
    stems: dict[str, np.ndarray] = {}
    for name in sorted(by_class):
        out = np.zeros((n, 2), dtype=np.float32)
        _mix_into(out, by_class[name], rate, cache)
        if out.size and not (np.isfinite(out.min()) and np.isfinite(out.max())):
            big = float(np.finfo(np.float32).max)  # a sum of huge blocks overflowed
            np.nan_to_num(out, copy=False, nan=0.0, posinf=big, neginf=-big)
        stems[name] = out
    return stems


# ------------------------------------------------------------------ segment -> sound


def _placement_seed(seed: int, cls: str, start: float) -> int:
    # Keyed on the effect's own start, not its rank among the class's effects: adding or
    # deleting another effect must not change this one's jitter. crc32, not hash(): str
    # hashes change between runs, and a re-render must sound the same.
    return zlib.crc32(f"{seed}:{cls}:{float(start)!r}".encode())


def _ordered(segments: Iterable[Segment]) -> list[Segment]:
    return sorted(audible(segments), key=lambda s: (s.start, s.class_name, s.end))


def placements_for(
    segments: Iterable[Segment],
    library: SoundSource,
    class_attributes: Mapping[str, SoundAttributes] | None = None,
    class_variations: Mapping[str, Sequence[str]] | None = None,
    seed: int = 0,
    *,
    assignment: Mapping[int, str | None] | None = None,
    onsets: Mapping[int, Sequence[float]] | None = None,
    pans: Mapping[int, Pan] | None = None,
    auto_pan: Mapping[str, bool] | None = None,
) -> list[Placement]:
    """Placements for the audible segments, in timeline order.

    Sound file: the segment's own record (`segment.variation`), else `assignment[segment.id]`
    (media.assign.assign_sounds; None there means "no file fits": silent, one warning per
    class). Only a segment that has neither falls back to the old rule (the class's override
    list cycled by occurrence, else the library's policy); that fallback depends on the
    segment's rank, so record assignments in the project to keep every effect's sound fixed.

    Per segment id, `onsets` (absolute seconds) put one-shot and retrigger hits on visual
    events and `pans` gives the pan (constant or curve). `auto_pan` maps a class to its switch
    (default: the attributes' `auto_pan` when they have one, else on).

    Attributes: the override for the class, else the library's; the segment's mode and gain
    are applied on top. Segments whose class has no usable sound are skipped with a warning
    line (once per class, naming the library folder: "no sound for class 'x'"); a sound that
    cannot be used (decode failure, a path outside the library) is skipped with a warning
    naming the file. With --strict each warning is an error. `otherwise` and disabled classes
    never warn.
    """
    class_attributes = class_attributes or {}
    class_variations = class_variations or {}
    assignment = assignment or {}
    onsets = onsets or {}
    pans = pans or {}
    auto_pan = auto_pan or {}
    occurrence: dict[str, int] = {}
    out: list[Placement] = []
    warned: set[str] = set()
    unmatched: set[str] = set()
    broken: set[str] = set()
    root = getattr(library, "root", None)
    for seg in _ordered(segments):
        cls = seg.class_name
        if cls == OTHERWISE:
            continue  # "no effect" by definition
        idx = occurrence.get(cls, 0)
        occurrence[cls] = idx + 1
        attrs = class_attributes.get(cls) or library.attributes(cls)
        if seg.mode:
            attrs = attrs.with_(mode=seg.mode)
        if seg.variation:
            variation: str | None = seg.variation
        elif seg.id in assignment:
            variation = assignment[seg.id]
            if variation is None:
                if attrs.enabled and cls not in unmatched:
                    unmatched.add(cls)
                    warn(root, f"no sound of class {cls!r} fits some of its effects; they are silent")
                continue
        elif class_variations.get(cls):
            options = class_variations[cls]
            variation = options[idx % len(options)]
        else:
            variation = library.pick_variation(cls, idx, seed)
        if variation is None:
            if attrs.enabled and cls not in warned:
                warned.add(cls)
                warn(root, f"no sound for class {cls!r}; its effects are silent")
            continue
        if variation in broken:
            continue
        try:
            samples = library.samples(variation)
        except BadInputError as exc:
            # One bad file must not stop a render: a warning naming the file, once per file.
            broken.add(variation)
            warn(exc.path, f"{exc.problem}; {cls} effects using it are silent")
            continue
        switch = auto_pan.get(cls, getattr(attrs, "auto_pan", True))
        out.append(Placement(seg.start, seg.end, samples, attrs, gain_db=seg.gain_db,
                             seed=_placement_seed(seed, cls, seg.start), class_name=cls,
                             onsets=onsets.get(seg.id), pan=pans.get(seg.id, 0.0),
                             auto_pan=bool(switch), variation=variation, segment_id=seg.id))
    return out


def missing_sounds(segments: Iterable[Segment], library: SoundSource) -> list[str]:
    """Classes of audible segments for which the library has no sound (sorted, unique)."""
    classes = {s.class_name for s in audible(segments)}
    return sorted(c for c in classes if not library.variations(c))
