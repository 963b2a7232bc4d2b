"""Waveform peaks: min/max per time bin, what a waveform strip or an effect block draws.

Drawing a waveform from raw samples would push millions of points through the GUI per repaint;
a (M, 2) array of per-bin minimum and maximum draws the same picture at any zoom down to one
bin per pixel. Computed with one reshape + min/max (no Python loop over samples), and cached
per file by (path, mtime, size), so reopening a project, or a second block of the same sound,
costs nothing. Decoding goes through media.audio_io: a video's own soundtrack via
`decode_video_audio` (aligned to its first frame, as the export mixes it), any other file via
`decode_audio`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from sfxstudio.core.errors import BadInputError
from sfxstudio.media.audio_io import MIX_RATE, decode_audio, decode_video_audio
from sfxstudio.media.containers import open_container

DEFAULT_BINS_PER_SECOND = 200.0
CACHE_SIZE = 32  # files; 200 bins/s is ~1.6 kB per second of audio, so 32 long videos fit easily

_cache: OrderedDict[tuple[str, int, int, float], tuple[np.ndarray, float]] = OrderedDict()
_lock = threading.Lock()


def samples_per_bin(rate: int, bins_per_second: float) -> int:
    """Whole samples per bin: round(rate / bins_per_second), at least 1.

    Bin i covers samples [i * spb, (i + 1) * spb); a caller placing bins on a time axis uses
    spb / rate seconds per bin (exactly 1 / bins_per_second when it divides the rate, as 200
    does 48 kHz).
    """
    if not bins_per_second > 0:
        raise ValueError(f"bins_per_second must be positive, not {bins_per_second}")
    return max(1, round(rate / bins_per_second))


def peaks_of(samples: np.ndarray, rate: int, bins_per_second: float) -> np.ndarray:
    """(M, 2) float32 [min, max] per bin of `samples` ((n,) mono or (n, channels)).

    Channels are folded by taking the minimum and maximum over all of them (not their mean),
    so a sound on one side only, or two sides in opposite phase, still shows at full height.
    The last bin may be partial; M = ceil(n / samples_per_bin). Empty input gives (0, 2).
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"samples must be (n,) or (n, channels), not shape {x.shape}")
    spb = samples_per_bin(rate, bins_per_second)
    n, ch = x.shape
    full = n // spb
    out = np.empty((full + (1 if n % spb else 0), 2), dtype=np.float32)
    if full:
        blocks = x[: full * spb].reshape(full, spb * ch)  # a bin's samples of every channel in one row
        out[:full, 0] = blocks.min(axis=1)
        out[:full, 1] = blocks.max(axis=1)
    if n % spb:
        tail = x[full * spb :]
        out[full] = (tail.min(), tail.max())
    return out


def _is_video(path: Path) -> bool:
    """True when the file holds a picture stream: its sound is then the video's soundtrack,
    timed from the first frame (decode_video_audio), not from the start of the audio stream."""
    container = open_container(path, "media")
    try:
        return len(container.streams.video) > 0
    finally:
        container.close()


def decode_for_peaks(path: Path) -> np.ndarray | None:
    """(n, 2) float32 at MIX_RATE of a sound or of a video's soundtrack; None for a video without
    one. BadInputError (naming the file) when it cannot be read."""
    if _is_video(path):
        return decode_video_audio(path, MIX_RATE)
    return decode_audio(path, MIX_RATE)


def file_peaks(path: str | Path,
               bins_per_second: float = DEFAULT_BINS_PER_SECOND) -> tuple[np.ndarray, float]:
    """(peaks (M, 2) read-only float32, duration in seconds) of a sound file or a video's audio.

    A video without an audio track gives ((0, 2), 0.0): callers show "No audio". Results are
    cached by (path, mtime, size, bins_per_second) in a small LRU (CACHE_SIZE files), so an
    edited file is decoded again; safe to call from worker threads. The arrays are shared with
    the cache, hence read-only.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise BadInputError(path, "file not found" if isinstance(exc, FileNotFoundError)
                            else f"cannot be read ({exc.strerror or exc})") from exc
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, float(bins_per_second))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    # Decoded outside the lock: two threads may decode one file at once, but nothing waits.
    audio = decode_for_peaks(path)
    if audio is None:
        peaks, duration = np.zeros((0, 2), dtype=np.float32), 0.0
    else:
        peaks, duration = peaks_of(audio, MIX_RATE, bins_per_second), audio.shape[0] / MIX_RATE
    peaks.setflags(write=False)
    with _lock:
        _cache[key] = (peaks, duration)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return peaks, duration


def clear_cache() -> None:
    """Forget every cached file (tests; a caller that knows files changed within one mtime tick)."""
    with _lock:
        _cache.clear()
