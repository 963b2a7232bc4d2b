"""Exports: the effects track as WAV, one WAV per class (stems), and the video with effects mixed in.

Every output is written to a temporary file beside the target and renamed onto it at the end
(sfxstudio.core.atomic), so a failed or cancelled export never leaves a partial file and never
damages an earlier export at the same path.

MP4: the video stream is copied bit for bit (`-c:v copy`); re-encoding would cost quality and
minutes. Only codecs MP4 cannot carry (VP8, Theora, MPEG-1/2, ...) are re-encoded with libx264,
and the result says so. The single audio track is original audio + effects, peak-guarded and
encoded AAC; its length is the video's, so the file's duration is the video's.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_path
from sfxstudio.core.errors import BadInputError, Cancelled, ExportError
from sfxstudio.media.audio_io import write_wav
from sfxstudio.media.bwf import BextInfo, write_bwf_regions
from sfxstudio.media.render import SAMPLE_RATE, apply_peak_guard, db_to_gain, peak_dbfs, peak_guard_limit

PEAK_DBFS = -1.0
AAC_BITRATE = "192k"
# The AAC encoder's settings, each for a measured reason (bench/bench_delivery.py, 10 minutes):
# - cutoff at the Nyquist frequency: at 192k the encoder's own low-pass sits at 18 kHz, and the
#   energy it drops above that is energy BS.1770's K-weighting counts (white-noise effects read
#   1.2 LU quieter after encoding); keeping the band keeps the loudness the mix was set to;
# - the fast coder: the default two-loop search costs about twice the CPU time (18 s against
#   9 s for 10 minutes of noise at 192k) for a difference a 192k stereo track does not show.
AAC_ARGS = ("-aac_coder", "fast", "-cutoff", str(SAMPLE_RATE // 2))
# Video codecs the MP4 muxer carries and editors/players read; anything else is re-encoded.
MP4_COPYABLE = frozenset({"h264", "hevc", "av1", "mpeg4", "vp9"})
_CHUNK_FRAMES = 1 << 18  # audio frames per pipe write (~5 s): progress/cancel granularity

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool] | Any  # a callable returning True to stop, or a threading.Event


@dataclass(frozen=True)
class Mp4Result:
    path: Path
    video_copied: bool
    note: str = ""
    # Integrated loudness of the audio as encoded, read by ffmpeg's ebur128 on the encoder's own
    # output while encoding (export_mp4(measure=True)); None when not asked or not possible.
    encoded_lufs: float | None = None


# ------------------------------------------------------------------------------- WAV


def _stereo_frames(data: np.ndarray, frames: int | None) -> np.ndarray:
    x = np.asarray(data, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise ValueError(f"audio must be (n, 2), got shape {x.shape}")
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    if frames is not None and x.shape[0] != frames:
        if x.shape[0] > frames:
            x = x[:frames]
        else:
            x = np.concatenate([x, np.zeros((frames - x.shape[0], 2), dtype=np.float32)])
    return x


def export_wav(mix: np.ndarray, path: str | Path, duration: float, rate: int = SAMPLE_RATE,
               bext: BextInfo | None = None, gain_db: float = 0.0) -> Path:
    """The effects track: 24-bit Broadcast WAV of exactly round(duration * rate) frames (padded
    or trimmed), `gain_db` applied (a loudness normalisation). `bext` says what the bext chunk
    holds; None writes a plain one (originator SFX Studio, time reference 0)."""
    frames = round(duration * rate)
    audio = _stereo_frames(mix, frames)
    if gain_db:
        audio = audio * np.float32(db_to_gain(gain_db))
    info = bext if bext is not None else BextInfo(description=f"SFX Studio effects track: {Path(path).stem}")
    return write_wav(path, audio, rate, "PCM_24", bext=info)


_UNSAFE = re.compile(r"[^\w.-]+")
# Names Windows reserves for devices in any folder, with any extension ("NUL.wav" is NUL).
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$",
                              *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)),
                              "com\u00b9", "com\u00b2", "com\u00b3", "lpt\u00b9", "lpt\u00b2", "lpt\u00b3"})
_MAX_STEM_NAME = 120


def stem_file_name(class_name: str) -> str:
    """A file name stem made from a class name that stays inside the stems folder everywhere:
    word characters, '.', '-' and '_' only, no leading or trailing dots, never empty, never
    '.'/'..', never a Windows device name, at most 120 characters."""
    safe = _UNSAFE.sub("_", class_name)
    safe = re.sub(r"\.{2,}", "_", safe).strip("._-")[:_MAX_STEM_NAME].strip("._-") or "stem"
    if safe.split(".")[0].lower() in _WINDOWS_DEVICES:
        safe = f"_{safe}"
    return safe


def stem_file_names(class_names: list[str]) -> dict[str, str]:
    """class name -> "<safe name>.wav", distinct even when two names sanitise alike ("a/b",
    "a_b") or differ only in case (one folder on macOS and Windows)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in class_names:
        base = stem_file_name(name)
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate.lower())
        out[name] = f"{candidate}.wav"
    return out


def output_folder(folder: str | Path, what: str) -> Path:
    """The folder a multi-file export (stems, clips) writes into, created with its parents.

    ExportError naming it when a file stands there or it cannot be created.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(folder, f"is a file, not a folder for {what}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(folder, f"cannot create the folder ({exc.strerror or exc})") from exc
    return folder


def export_stems(stems: Mapping[str, np.ndarray], folder: str | Path, duration: float,
                 rate: int = SAMPLE_RATE, gain_db: float = 0.0,
                 bext: BextInfo | None = None) -> dict[str, float]:
    """<class>.wav (24-bit Broadcast WAV) per stem in `folder` (created if needed), `gain_db`
    applied to each (the effects track's normalisation, so the stems still sum to it); returns
    each stem's peak dBFS as written. `bext` is the template of each file's bext chunk (the
    description names the class).

    File names come from `stem_file_names` (sanitised, distinct). Stems are not peak-guarded
    (that would change their balance); a peak above 0 dBFS is clipped in the file, so callers
    should warn about stems whose peak is > 0.
    """
    frames = round(duration * rate)
    return export_sparse_stems({name: [(0, _stereo_frames(audio, frames))] for name, audio in stems.items()},
                               folder, duration, rate, gain_db, bext)


StemBlocks = Sequence[tuple[int, np.ndarray]]  # (first frame, rendered (m, 2) float32 audio)


def export_sparse_stems(stems: Mapping[str, StemBlocks], folder: str | Path, duration: float,
                        rate: int = SAMPLE_RATE, gain_db: float = 0.0,
                        bext: BextInfo | None = None) -> dict[str, float]:
    """export_stems from each class's rendered effect blocks (media.render.render_mix(keep=...)):
    the same files, byte for byte, as export_stems(render_stems(...)), but only the stretches
    where the class sounds are summed, converted and written (media.bwf.write_bwf_regions); a
    10-minute stem with a minute of effects costs a minute. Blocks overlapping in time are
    summed in the order given (the order render_stems adds them). A class with no blocks gets
    a silent stem."""
    folder = output_folder(folder, "stems")
    frames = round(duration * rate)
    peaks: dict[str, float] = {}
    names = stem_file_names(list(stems))
    template = bext or BextInfo()
    for name, blocks in stems.items():
        info = replace(template, description=f"SFX Studio stem: {name}"[:256])
        peak = [-math.inf]
        write_bwf_regions(folder / names[name], frames, 2, _stem_regions(blocks, frames, gain_db, peak),
                          rate, info)
        peaks[name] = peak[0] + gain_db
    return peaks


def _stem_regions(blocks: StemBlocks, frames: int, gain_db: float, peak: list[float]
                  ) -> Iterator[tuple[int, np.ndarray]]:
    """The stretches of [0, frames) that `blocks` cover, each the sum of its blocks (in their
    given order), overflow replaced as render_stems does, then `gain_db` applied; peak[0] is
    raised to each stretch's peak before the gain."""
    spans = sorted((max(0, s0), min(frames, s0 + b.shape[0]), i) for i, (s0, b) in enumerate(blocks))
    groups: list[tuple[int, int, list[int]]] = []
    for lo, hi, i in spans:
        if hi <= lo:
            continue
        if groups and lo < groups[-1][1]:
            first, end, members = groups[-1]
            groups[-1] = (first, max(end, hi), [*members, i])
        else:
            groups.append((lo, hi, [i]))
    gain = np.float32(db_to_gain(gain_db))
    big = float(np.finfo(np.float32).max)
    for first, end, members in groups:
        region = np.zeros((end - first, 2), dtype=np.float32)
        for i in sorted(members):
            s0, block = blocks[i]
            a, z = max(s0, first), min(s0 + block.shape[0], end)
            view = region[a - first : z - first]
            with np.errstate(over="ignore"):  # an overflow becomes inf, cleared below
                np.add(view, block[a - s0 : z - s0], out=view)
        if not (np.isfinite(region.min()) and np.isfinite(region.max())):
            np.nan_to_num(region, copy=False, nan=0.0, posinf=big, neginf=-big)
        peak[0] = max(peak[0], peak_dbfs(region))
        if gain_db:
            np.multiply(region, gain, out=region)
        yield first, region


# ------------------------------------------------------------------------------ ffmpeg


def find_ffmpeg() -> str:
    """The system ffmpeg when on PATH (users may have a build with more codecs), else imageio-ffmpeg's."""
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # ImportError or its own "no binary for this platform" RuntimeError
        raise ExportError("ffmpeg", "no ffmpeg found: install ffmpeg or the imageio-ffmpeg package "
                          f"({exc})") from exc


@dataclass(frozen=True)
class _VideoTiming:
    codec: str
    offset: float  # where the first frame lands in the output (ffmpeg shifts by the file start)
    duration: float  # first frame to end of the last frame


def _video_timing(path: Path) -> _VideoTiming:
    """Where the copied video starts and how long it runs, from its packets (no decoding).

    Container and tag durations can be estimates (MPEG-PS) or measured from the file start
    (MKV DURATION tags); the packets say exactly what the output's video track will hold,
    so the audio track is made exactly that long.
    """
    import av

    from sfxstudio.media.video import probe

    info = probe(path)  # BadInputError naming the file for anything unusable
    lo, hi = math.inf, -math.inf
    frame = 1.0 / info.fps if info.fps > 0 else 0.0
    try:
        with av.open(str(path)) as container:
            # ffmpeg shifts every stream of an input by the file's start time (no -copyts), so
            # the first frame lands at (first frame time - file start) in the output.
            file_start = container.start_time / 1e6 if container.start_time is not None else 0.0
            stream = container.streams.video[0]
            tb = float(stream.time_base or 0.0)
            for pkt in container.demux(stream):
                if pkt.pts is None or not pkt.size:
                    continue
                t = pkt.pts * tb
                lo = min(lo, t)
                hi = max(hi, t + (pkt.duration * tb if pkt.duration else frame))
    except (av.FFmpegError, OSError) as exc:
        raise BadInputError(path, f"cannot read the video ({exc})") from exc
    if not math.isfinite(lo):  # no timestamps at all: trust the probe
        lo, hi = info.start_time, info.start_time + info.duration
    return _VideoTiming(info.codec, max(0.0, lo - file_start), max(0.0, hi - lo))


def _cancelled(cancel: CancelFn | None) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if callable(is_set) else cancel())


_LOG_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")


def _ffmpeg_error(stderr: bytes, tmp: Path, out_path: Path) -> str:
    """ffmpeg's last error line, plus the first line that names the actual cause.

    The last line is often generic ("Error opening output files: Invalid argument"); the
    cause ('Unable to parse "b" option value ...') comes earlier. The temporary file's name
    is replaced by the target's, which is the name the user knows.
    """
    text = stderr.decode("utf-8", "replace").replace(str(tmp), str(out_path))
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        return "ffmpeg failed without a message"
    last = lines[-1]
    cause = next((ln for ln in lines[:-1] if not ln.startswith("Error opening")), None)
    return f"{last} ({cause})" if cause and cause != last else last


def _original_audio(video_path: Path) -> np.ndarray | None:
    from sfxstudio.media.audio_io import decode_video_audio

    return decode_video_audio(video_path)


def export_mp4(
    video_path: str | Path,
    effects: np.ndarray,
    out_path: str | Path,
    original_gain_db: float = 0.0,
    effects_gain_db: float = 0.0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    original: np.ndarray | bool | None = True,
    master_gain_db: float = 0.0,
    measure: bool = False,
) -> Mp4Result:
    """The video with one audio track: original * original gain + effects * effects gain.

    effects: (n, 2) float32 at 48 kHz, sample 0 = the first video frame (padded/trimmed to
    the video's duration). original: True decodes the video's own audio (audio_io
    .decode_video_audio); pass an array already decoded to save the work, or None for
    effects only. master_gain_db scales the whole mix (a true-peak ceiling); the peak guard
    still follows. progress(fraction) is called as audio is encoded; cancel (a callable or an
    Event) stops ffmpeg and raises Cancelled. The video stream is copied unless MP4 cannot
    carry its codec; then it is re-encoded with libx264 and the result's note says so.
    measure: also read the encoded audio's integrated loudness with ffmpeg's ebur128 meter, in
    the same ffmpeg run (a loopback decoder, ffmpeg 7.1+; on an older ffmpeg encoded_lufs stays
    None and the caller measures the file).
    """
    video_path = Path(video_path)
    out_path = Path(out_path)
    if not video_path.is_file():
        raise BadInputError(video_path, "video file not found")
    timing = _video_timing(video_path)
    ffmpeg = find_ffmpeg()

    frames = round(timing.duration * SAMPLE_RATE)
    orig = _original_audio(video_path) if original is True else (None if original is False else original)
    mix = _MixSource(effects, orig, frames, effects_gain_db, original_gain_db, master_gain_db,
                     round(timing.offset * SAMPLE_RATE))

    copy = timing.codec in MP4_COPYABLE
    if copy:
        video_args = ["-c:v", "copy"]
        note = ""
    else:
        # libx264 yuv420p needs even dimensions; scale by at most one pixel.
        video_args = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                      "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2"]
        note = (f"MP4 cannot hold {timing.codec} video, so the picture was re-encoded with "
                "H.264 (libx264, CRF 18)")

    # The meter needs an ffmpeg that decodes its own output; without one no folder is made.
    metered = measure and _loopback_decoders(ffmpeg)
    meter_dir = tempfile.TemporaryDirectory() if metered else contextlib.nullcontext(None)
    with atomic_path(out_path, suffix=".mp4") as tmp, meter_dir as work:
        cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-i", str(video_path),
               "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "2", "-i", "pipe:0",
               "-map", "0:v:0", "-map", "1:a:0", *video_args,
               "-c:a", "aac", "-b:a", AAC_BITRATE, *AAC_ARGS,
               "-movflags", "+faststart", "-f", "mp4", str(tmp)]
        meter = Path(work) / "r128.txt" if work is not None else None
        if meter is not None:
            # Output 0's stream 1 (the AAC track) decoded again and metered: the reading is of
            # what the file holds, at the cost of a decode on ffmpeg's other threads.
            cmd += ["-dec", "0:1", "-filter_complex",
                    f"[dec:0]ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.I"
                    f":file={_filter_value(meter.as_posix())}[r128]",
                    "-map", "[r128]", "-f", "null", "-"]
        _run_ffmpeg(cmd, mix, tmp, out_path, progress, cancel)
        encoded = _last_r128(meter) if meter is not None else None
    if progress is not None:
        progress(1.0)
    return Mp4Result(out_path, copy, note, encoded)


class _MixSource:
    """The MP4's audio, made chunk by chunk as ffmpeg takes it: silence for the picture's lead,
    then effects * effects gain + original * original gain, times the master gain, padded or
    trimmed to the video, scaled by the peak guard.

    Why not one array: the full mix of a 10-minute video is 230 MB, and building it (a copy
    per gain, a pass for the peak, one more for the guard) cost more CPU than measuring its
    loudness; here each chunk is made in cache, once for the peak and once for ffmpeg. The
    samples are those of the whole-array mix (the same float32 operations in the same order).
    """

    def __init__(self, effects: np.ndarray, original: np.ndarray | None, frames: int, effects_gain_db: float,
                 original_gain_db: float, master_gain_db: float, lead: int) -> None:
        self.effects = _stereo_frames(effects, None)
        self.original = _stereo_frames(original, None) if original is not None else None
        self.frames = frames
        self.lead = lead
        self.g_e = np.float32(db_to_gain(effects_gain_db))
        self.g_o = np.float32(db_to_gain(original_gain_db))
        self.master = np.float32(db_to_gain(master_gain_db)) if master_gain_db else None
        self.guard = np.float32(1.0)
        self.limit: np.float32 | None = None  # set when the guard scales (and clips) the mix
        self.nan_limit: np.float32 | None = None  # set when the mix holds NaN/inf
        self.shape = (lead + frames, 2)
        self._guard(PEAK_DBFS)

    def _mix(self, a: int, b: int) -> np.ndarray:
        """Frames [a, b) of the mix before the peak guard (b <= frames)."""
        out = np.zeros((b - a, 2), dtype=np.float32)
        z = min(b, self.effects.shape[0])
        if z > a:
            np.multiply(self.effects[a:z], self.g_e, out=out[: z - a])
        if self.original is not None:
            z = min(b, self.original.shape[0])
            if z > a:
                out[: z - a] += self.original[a:z] * self.g_o
        if self.master is not None:
            out *= self.master
        return out

    def _guard(self, peak_dbfs_limit: float) -> None:
        """apply_peak_guard's gain for the whole mix, from one chunked pass."""
        peak = 0.0
        finite = True
        for a in range(0, self.frames, _CHUNK_FRAMES):
            chunk = self._mix(a, min(self.frames, a + _CHUNK_FRAMES))
            if not (np.isfinite(chunk.min()) and np.isfinite(chunk.max())):
                finite = False
                break
            peak = max(peak, float(chunk.max()), -float(chunk.min()))
        if finite:
            probe = np.array([[peak, -peak]], dtype=np.float32)
            gain = apply_peak_guard(probe, peak_dbfs_limit)
            if gain < 1.0:
                self.guard, self.limit = np.float32(gain), peak_guard_limit(peak_dbfs_limit)
            return
        # NaN/inf somewhere: the guard's own rules (nan_to_num, then the peak) on each chunk.
        limit = peak_guard_limit(peak_dbfs_limit)
        peak = 0.0
        for a in range(0, self.frames, _CHUNK_FRAMES):
            chunk = self._mix(a, min(self.frames, a + _CHUNK_FRAMES))
            np.nan_to_num(chunk, copy=False, nan=0.0, posinf=float(limit), neginf=-float(limit))
            peak = max(peak, float(chunk.max()), -float(chunk.min()))
        self.nan_limit = limit
        if peak > float(limit):
            self.guard, self.limit = np.float32(float(limit) / peak), limit

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        """The mix (lead silence included) in pieces of at most `size` frames."""
        if self.lead:
            for a in range(0, self.lead, size):
                yield np.zeros((min(size, self.lead - a), 2), dtype=np.float32)
        for a in range(0, self.frames, size):
            chunk = self._mix(a, min(self.frames, a + size))
            if self.nan_limit is not None:
                lim = float(self.nan_limit)
                np.nan_to_num(chunk, copy=False, nan=0.0, posinf=lim, neginf=-lim)
            if self.limit is not None:
                np.multiply(chunk, self.guard, out=chunk)
                np.clip(chunk, -self.limit, self.limit, out=chunk)
            yield chunk


def _filter_value(text: str) -> str:
    """`text` escaped as a filter option value inside a filtergraph (both escaping levels)."""
    for ch in "\\':":
        text = text.replace(ch, "\\" + ch)
    for ch in "\\'[],;":
        text = text.replace(ch, "\\" + ch)
    return text


def _last_r128(meter: Path) -> float | None:
    """The last integrated loudness ametadata printed (the whole stream's), None without one."""
    try:
        text = meter.read_text(encoding="ascii", errors="replace")
        found = re.findall(r"lavfi\.r128\.I=(-?[\d.]+|-?inf)", text)
    except OSError:
        return None
    return float(found[-1]) if found else None


@functools.lru_cache(maxsize=4)
def _loopback_decoders(ffmpeg: str) -> bool:
    """Whether this ffmpeg decodes its own encoder's output (-dec, ffmpeg 7.1+): a 0.1 s try."""
    try:
        r = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                            "-i", "anullsrc=r=48000:cl=stereo:d=0.1", "-c:a", "aac", "-f", "null", "-",
                            "-dec", "0:0", "-filter_complex", "[dec:0]anull[o]", "-map", "[o]",
                            "-f", "null", "-"],
                           capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def _run_ffmpeg(cmd: list[str], audio: _MixSource, tmp: Path, out_path: Path, progress: ProgressFn | None,
                cancel: CancelFn | None) -> None:
    """Run ffmpeg feeding `audio` as raw f32le on stdin; raise ExportError / Cancelled on failure."""
    # stderr goes to a file, not a pipe: an unread pipe that fills up would deadlock ffmpeg.
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        except OSError as exc:
            raise ExportError(out_path, f"cannot start ffmpeg ({exc.strerror or exc})") from exc
        assert proc.stdin is not None
        total = max(1, audio.shape[0])
        broken = False
        try:
            pos = 0
            for piece in audio.chunks(_CHUNK_FRAMES):
                if _cancelled(cancel):
                    proc.kill()
                    proc.wait()
                    raise Cancelled("export cancelled")
                chunk = np.ascontiguousarray(piece, dtype="<f4")
                pos += chunk.shape[0]
                try:
                    proc.stdin.write(chunk.data.cast("B"))
                except (BrokenPipeError, OSError):
                    broken = True  # ffmpeg stopped reading: it failed; its stderr says why
                    break
                if progress is not None:
                    progress(0.95 * min(1.0, pos / total))
            with contextlib.suppress(BrokenPipeError, OSError):
                proc.stdin.close()
            rc = proc.wait()
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        if rc != 0 or broken:
            err.seek(0)
            raise ExportError(out_path, f"ffmpeg failed: {_ffmpeg_error(err.read(), tmp, out_path)}")
