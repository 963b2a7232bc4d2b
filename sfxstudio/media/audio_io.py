"""Audio in and out: anything ffmpeg reads becomes float32 stereo at 48 kHz; WAVs are written atomically.

Decoding keeps the source rate and channels, then downmixes and resamples in numpy/scipy so the
result does not depend on swresample's defaults (which do not normalise a 5.1 downmix for float
output, so loud surround material would clip).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_path
from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.media.containers import open_container

# The one mix rate: every sound is decoded to it, every mix and export is rendered at it.
MIX_RATE = 48000
SAMPLE_RATE = MIX_RATE  # the name most callers import

_MINUS_3DB = math.sqrt(0.5)

# (left gain, right gain) per FFmpeg channel name, after ITU-R BS.775 / ffmpeg's default
# downmix: centre and surrounds at -3 dB, LFE dropped (it is not meant to be heard as is).
_DOWNMIX: dict[str, tuple[float, float]] = {
    "FL": (1.0, 0.0),
    "FR": (0.0, 1.0),
    "FC": (_MINUS_3DB, _MINUS_3DB),
    "LFE": (0.0, 0.0),
    "LFE2": (0.0, 0.0),
    "BL": (_MINUS_3DB, 0.0),
    "BR": (0.0, _MINUS_3DB),
    "SL": (_MINUS_3DB, 0.0),
    "SR": (0.0, _MINUS_3DB),
    "BC": (0.5, 0.5),
    "FLC": (1.0, 0.0),
    "FRC": (0.0, 1.0),
    "TFL": (_MINUS_3DB, 0.0),
    "TFR": (0.0, _MINUS_3DB),
    "TFC": (0.5, 0.5),
    "TC": (0.5, 0.5),
    "TBL": (_MINUS_3DB, 0.0),
    "TBR": (0.0, _MINUS_3DB),
    "TBC": (0.5, 0.5),
    "WL": (_MINUS_3DB, 0.0),
    "WR": (0.0, _MINUS_3DB),
    "DL": (1.0, 0.0),
    "DR": (0.0, 1.0),
}

_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif"}


def downmix_matrix(channel_names: list[str]) -> np.ndarray:
    """(channels, 2) gains to stereo. Mono goes to both sides at full level; stereo is untouched.

    Multichannel gains are scaled so each output's gains sum to at most 1: a full-scale signal
    on every channel at once still cannot clip.
    """
    n = len(channel_names)
    if n == 1:
        return np.ones((1, 2), dtype=np.float32)
    if n == 2:
        return np.eye(2, dtype=np.float32)
    matrix = np.zeros((n, 2), dtype=np.float64)
    for i, name in enumerate(channel_names):
        # Unknown or unnamed channels alternate left/right so nothing is silently dropped.
        matrix[i] = _DOWNMIX.get(name, (1.0, 0.0) if i % 2 == 0 else (0.0, 1.0))
    matrix /= np.maximum(matrix.sum(axis=0), 1.0)
    return matrix.astype(np.float32)


def _default_names(channels: int) -> list[str]:
    """The WAV/FLAC default channel order, used when the file does not name its channels."""
    order = ["FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"]
    if channels == 1:
        return ["FC"]
    if channels <= len(order):
        return order[:channels]
    return order + [f"USR{i}" for i in range(channels - len(order))]


def to_stereo(data: np.ndarray, channel_names: list[str] | None = None) -> np.ndarray:
    """(n, c) float -> (n, 2) float32 using `downmix_matrix`."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    names = channel_names or _default_names(data.shape[1])
    if data.shape[1] == 2:
        return np.ascontiguousarray(data)
    if data.shape[1] == 1:
        return np.ascontiguousarray(np.repeat(data, 2, axis=1))
    return (data @ downmix_matrix(names)).astype(np.float32)


def resample(data: np.ndarray, src_rate: int, rate: int) -> np.ndarray:
    """Band-limited polyphase resampling, float32 in and out.

    Kaiser beta 8.6 instead of scipy's default 5: about -90 dB of error on a 1 kHz tone instead
    of -67 dB, for the same filter length (only a slightly wider transition band near Nyquist).
    """
    if src_rate == rate or data.shape[0] == 0:
        return np.ascontiguousarray(data, dtype=np.float32)
    from scipy.signal import resample_poly

    g = math.gcd(int(src_rate), int(rate))
    out = resample_poly(data, rate // g, src_rate // g, axis=0, window=("kaiser", 8.6))
    return np.ascontiguousarray(out, dtype=np.float32)


def _read_soundfile(path: Path) -> tuple[np.ndarray, int] | None:
    """Fast path for WAV/FLAC/OGG/AIFF mono or stereo; None when libsndfile can't (use FFmpeg)."""
    if path.suffix.lower() not in _SOUNDFILE_SUFFIXES:
        return None
    import soundfile as sf

    try:
        info = sf.info(str(path))
        if info.channels > 2:
            return None  # libsndfile does not say which channel is which; FFmpeg does
        data, src_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception:
        return None
    return data, int(src_rate)


def _decode_stream(
    container: Any, stream: Any, path: Path
) -> tuple[np.ndarray, int, list[str], float | None]:
    """Decode one audio stream -> (samples (n, c) float32 at the source rate, rate, channel names,
    time of the first sample in seconds or None)."""
    import av

    src_rate = int(stream.codec_context.sample_rate or 0)
    chunks: list[np.ndarray] = []
    names: list[str] = []
    first_time: float | None = None
    resampler: Any = None
    decoded_seconds = 0.0
    try:
        for frame in container.decode(stream):
            if resampler is None:
                names = [c.name for c in frame.layout.channels]
                src_rate = int(frame.sample_rate or src_rate)
                first_time = float(frame.time) if frame.time is not None else None
                # Only unifies the sample format (s16, s32p, flt, ...) to planar float.
                resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=src_rate)
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().T.copy())
            decoded_seconds += frame.samples / max(src_rate, 1)
        if resampler is not None:
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().T.copy())
    except av.error.FFmpegError as exc:
        raise BadInputError(
            path, f"audio cannot be decoded at {decoded_seconds:.2f} s ({exc.strerror or exc})"
        ) from exc
    if not chunks or src_rate <= 0:
        raise BadInputError(path, "contains no audio samples")
    data = np.concatenate(chunks, axis=0).astype(np.float32, copy=False)
    declared = stream.duration * stream.time_base if stream.duration and stream.time_base else None
    if declared is not None:
        # AAC/MP3 decoders return whole codec frames; the container knows where the sound ends.
        data = data[: max(1, round(float(declared) * src_rate))]
    if data.shape[0] == 0:
        raise BadInputError(path, "contains no audio samples")
    return data, src_rate, names or _default_names(data.shape[1]), first_time


def decode_audio(path: str | Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode any audio file ffmpeg reads to float32 (n, 2) at `rate`.

    Mono is duplicated to both channels, more than two channels are downmixed without clipping,
    and resampling is band-limited (scipy polyphase). Raises BadInputError naming the file when
    it is missing, empty, not audio or corrupt.
    """
    path = Path(path)
    fast = _read_soundfile(path) if path.is_file() else None
    if fast is not None:
        data, src_rate = fast
        if data.shape[0] == 0:
            raise BadInputError(path, "contains no audio samples")
        names = _default_names(data.shape[1])
    else:
        container = open_container(path, "audio")
        try:
            stream = next(iter(container.streams.audio), None)
            if stream is None:
                raise BadInputError(path, "no audio stream (is this an audio file?)")
            data, src_rate, names, _ = _decode_stream(container, stream, path)
        finally:
            container.close()
    return resample(to_stereo(data, names), src_rate, rate)


def decode_video_audio(path: str | Path, rate: int = SAMPLE_RATE) -> np.ndarray | None:
    """The soundtrack of a video as float32 (n, 2) at `rate`, or None when it has none.

    Sample 0 is the time of the video's first frame (the same origin as iter_frames): audio
    that starts later is preceded by silence, audio that starts earlier is cut.
    """
    from sfxstudio.media.video import probe

    path = Path(path)
    info = probe(path)
    if not info.has_audio:
        return None
    container = open_container(path, "audio")
    try:
        stream = container.streams.audio[0]
        data, src_rate, names, first_time = _decode_stream(container, stream, path)
    finally:
        container.close()
    out = resample(to_stereo(data, names), src_rate, rate)
    offset = round(((first_time if first_time is not None else info.start_time) - info.start_time) * rate)
    if offset > 0:
        out = np.concatenate([np.zeros((offset, 2), dtype=np.float32), out], axis=0)
    elif offset < 0:
        out = np.ascontiguousarray(out[-offset:])
    return out


def _wav_failure(exc: Exception, tmp: Path, size: int) -> str:
    """libsndfile says only "System error." when the disk fills up; say what it was."""
    import shutil

    try:
        free = shutil.disk_usage(tmp.parent).free
    except OSError:
        return str(exc)
    if free < size:
        return f"No space left on device: it needs about {size / 1e6:.1f} MB, {free / 1e6:.1f} MB are free"
    return str(exc)


def write_wav(path: str | Path, data: np.ndarray, rate: int = SAMPLE_RATE, subtype: str = "PCM_24",
              bext: Any = None) -> Path:
    """Write audio (n, channels) as WAV atomically; ExportError names the file on failure.

    For integer subtypes libsndfile clips samples beyond +-1 (soundfile turns clipping on),
    so an over-full stem distorts mildly instead of wrapping round; tests check this.
    With `bext` (a media.bwf.BextInfo) and a PCM subtype the file is a Broadcast WAV, written
    by media.bwf (which clips the same way).
    """
    import soundfile as sf  # media-layer dependency, imported where used to keep import time low

    path = Path(path)
    pcm_bits = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}.get(subtype)
    if bext is not None and pcm_bits is not None:
        from sfxstudio.media.bwf import write_bwf

        return write_bwf(path, data, rate, bext, pcm_bits)
    x = np.asarray(data, dtype=np.float32)
    # RIFF sizes are 32-bit; beyond 4 GiB use RF64 (long timelines at 24-bit 48 kHz: ~6.9 h).
    bytes_per = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}.get(subtype, 4)
    channels = 1 if x.ndim == 1 else x.shape[1]
    fmt = "RF64" if x.shape[0] * channels * bytes_per >= (1 << 32) - 1024 else "WAV"
    if x.ndim not in (1, 2):
        raise ExportError(path, f"cannot write WAV (audio must be (frames, channels), not shape {x.shape})")
    with atomic_path(path, suffix=".wav") as tmp:
        try:
            sf.write(str(tmp), x, rate, subtype=subtype, format=fmt)
            # libsndfile can come up short without an error (a full disk on close): check what
            # actually landed before it replaces the earlier file.
            written = sf.info(str(tmp)).frames
        except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
            problem = _wav_failure(exc, tmp, x.size * bytes_per)
            raise ExportError(path, f"cannot write WAV ({problem})") from exc
        if written != x.shape[0]:
            raise ExportError(path, f"cannot write WAV (only {written} of {x.shape[0]} frames were "
                                    "written; is the disk full?)")
    return path

