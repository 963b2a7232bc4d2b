"""Video probe and frame streams (PyAV: real presentation timestamps, decoding in C).

All times are seconds relative to the video's first frame: an MPEG-PS file whose first frame
is stamped 0.54 s yields its first frame at t = 0.0 and reports its duration from there.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.errors import BadInputError
from sfxstudio.media.containers import open_container, reason

# Packets read while probing to decide whether the frame rate is variable. Demuxing is cheap
# (no decoding); 240 packets cover 8-24 s of a typical clip.
_VFR_PROBE_PACKETS = 240


@dataclass(frozen=True)
class VideoInfo:
    """What the app needs to know about a video before analysing or exporting it.

    width/height are the displayed size (rotation applied), i.e. the shape of the frames
    `iter_frames(size=None)` yields. duration and all times are relative to the first frame;
    start_time is that first frame's own timestamp in the file.
    """

    path: Path
    duration: float
    fps: float
    frame_count: int
    width: int
    height: int
    rotation: int = 0
    has_audio: bool = False
    codec: str = ""
    audio_codec: str | None = None
    audio_channels: int = 0
    audio_rate: int = 0
    start_time: float = 0.0
    variable_frame_rate: bool = False


def _video_stream(container: Any, path: Path) -> Any:
    import av

    for stream in container.streams.video:
        # Cover art in MP3/M4A files is a one-picture "video" stream; it is not a video.
        if stream.disposition & av.stream.Disposition.attached_pic:
            continue
        return stream
    raise BadInputError(path, "no video stream (is this an audio or image file?)")


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _parse_tag_duration(text: str | None) -> float | None:
    """Matroska stores per-stream durations as a "HH:MM:SS.nnnnnnnnn" tag."""
    if not text:
        return None
    try:
        h, m, s = text.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    except ValueError:
        return None


def _rotation_from(frame_rotation: int, metadata: dict[str, str]) -> int:
    """Clockwise degrees (0/90/180/270) a player turns the picture.

    PyAV reports the display matrix counter-clockwise in [-180, 180]; older files carry a
    clockwise `rotate` tag instead.
    """
    degrees = -float(frame_rotation)
    if not frame_rotation and metadata.get("rotate"):
        try:
            degrees = float(metadata["rotate"])
        except ValueError:
            degrees = 0.0
    return round(degrees / 90.0) % 4 * 90


def _is_variable_rate(pts: list[int], time_base: Fraction) -> bool:
    if len(pts) < 3:
        return False
    deltas = np.diff(np.unique(np.asarray(pts, dtype=np.int64)))
    if deltas.size < 2:
        return False
    median = float(np.median(deltas))
    # Containers round timestamps (MKV to 1 ms, so 30 fps alternates 33/34 ms): a spread of a
    # couple of ticks is rounding, anything beyond 10 % of a frame period is a real rate change.
    tolerance = max(2.0, 0.1 * median)
    return float(deltas.max() - deltas.min()) > tolerance


def probe(path: str | Path) -> VideoInfo:
    """Read a video's facts; decodes the first frame so an undecodable file fails here, not later.

    Raises BadInputError (naming the file) for a missing, empty, unreadable or corrupt file, a
    file without a video stream, or a video without any frame.
    """
    import av

    path = Path(path)
    container = open_container(path, "video")
    try:
        stream = _video_stream(container, path)
        time_base = stream.time_base
        first: Any = None
        pts: list[int] = []
        try:
            for packet in container.demux(stream):
                if packet.pts is not None:
                    pts.append(packet.pts)
                if first is None:
                    for frame in packet.decode():
                        first = frame
                        break
                if first is not None and len(pts) >= _VFR_PROBE_PACKETS:
                    break
        except av.error.FFmpegError as exc:
            if first is None:
                raise BadInputError(path, f"cannot be decoded ({reason(exc)})") from exc
            # The first frame decoded, so the file is usable; later damage is reported by
            # iter_frames with the time where it happens.
        if first is None:
            raise BadInputError(path, "contains no decodable video frames")

        first_time = _seconds(first.pts, first.time_base or time_base)
        if first_time is None:
            first_time = _seconds(stream.start_time, time_base) or 0.0

        # The video stream's own end, measured from its first frame: the container duration can
        # include a longer audio track. Fall back to MKV tags, then to the container's end.
        end: float | None = None
        stream_start = _seconds(stream.start_time, time_base)
        stream_duration = _seconds(stream.duration, time_base)
        if stream_duration:
            end = (stream_start if stream_start is not None else first_time) + stream_duration
        else:
            tagged = _parse_tag_duration(stream.metadata.get("DURATION"))
            if tagged:
                end = (stream_start if stream_start is not None else first_time) + tagged
            elif container.duration:
                container_start = (container.start_time or 0) / 1_000_000
                end = container_start + container.duration / 1_000_000
        duration = (end - first_time) if end is not None else 0.0

        fps = 0.0
        for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
            if rate and float(rate) > 0:
                fps = float(rate)
                break
        if stream.frames and duration > 0 and not fps:
            fps = stream.frames / duration
        if duration <= 0 and fps > 0 and stream.frames:
            duration = stream.frames / fps
        if duration <= 0:
            raise BadInputError(path, "has zero length")
        if fps <= 0:
            raise BadInputError(path, "has no usable frame rate")
        frame_count = int(stream.frames) if stream.frames else max(1, round(duration * fps))

        rotation = _rotation_from(first.rotation, dict(stream.metadata))
        width, height = stream.codec_context.width or first.width, stream.codec_context.height or first.height
        if rotation in (90, 270):
            width, height = height, width

        audio = next(iter(container.streams.audio), None)
        return VideoInfo(
            path=path,
            duration=float(duration),
            fps=fps,
            frame_count=frame_count,
            width=int(width),
            height=int(height),
            rotation=rotation,
            has_audio=audio is not None,
            codec=stream.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_channels=audio.codec_context.channels if audio is not None else 0,
            audio_rate=audio.codec_context.sample_rate if audio is not None else 0,
            start_time=float(first_time),
            variable_frame_rate=_is_variable_rate(pts, time_base) if time_base else False,
        )
    finally:
        container.close()


def analysis_rate(info: VideoInfo, analysis_fps: float | None) -> float:
    """f_a: the video's own rate, or the requested rate when that is lower."""
    if analysis_fps is None:
        return info.fps
    if analysis_fps <= 0:
        raise ValueError("analysis_fps must be positive")
    return min(float(analysis_fps), info.fps)


def estimate_analysis_frames(info: VideoInfo, analysis_fps: float | None) -> int:
    """How many frames iter_frames will yield (exact for constant-rate files, for progress/ETA)."""
    if analysis_fps is None:
        return info.frame_count
    fa = analysis_rate(info, analysis_fps)
    if fa >= info.fps:
        return info.frame_count
    return max(1, math.ceil(info.duration * fa - 1e-6))


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 0:
        return image
    # np.rot90 turns counter-clockwise; the copy makes the array contiguous for cv2/TF.
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90)))


def iter_frames(
    path: str | Path,
    size: tuple[int, int] | None = None,
    analysis_fps: float | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (t, RGB uint8 (h, w, 3)) frames in presentation order, with rotation applied.

    t is the frame's real timestamp relative to the first frame. size=(width, height) of the
    displayed (rotated) picture; resized by swscale with area averaging. analysis_fps=None:
    every frame; otherwise the first frame at or after each grid time n / f_a, where f_a =
    analysis_rate(). Frames that are not selected are decoded (codecs need them) but never
    converted or resized. When at most one frame in SKIP_NONREF_RATIO is wanted, frames no other
    frame refers to (H.264/MPEG B-frames) are not decoded at all: the first frame at or after a
    grid time may then be a frame or two later (its own timestamp is reported). Memory stays
    constant: one frame at a time.
    Raises BadInputError naming the file and the time if decoding fails part-way.
    """
    # Probe eagerly so a bad file fails at the call, not at the first next().
    path = Path(path)
    info = probe(path)
    fa = analysis_rate(info, analysis_fps) if analysis_fps is not None else None
    if size is not None and (int(size[0]) <= 0 or int(size[1]) <= 0):
        raise ValueError(f"size must be positive, not {size}")
    return _frames(info, size, fa)


# Skip decoding non-reference frames when the analysis wants at most one frame in this many: a
# 30 fps H.264 stream analysed at 4 fps decodes ~40 % fewer frames (the decoder dominates the
# analysis of a 720p video). Encoders rarely put more than 3 non-reference frames in a row, so at
# this ratio a grid interval always holds a decoded frame.
SKIP_NONREF_RATIO = 6.0


def _frames(
    info: VideoInfo, size: tuple[int, int] | None, fa: float | None
) -> Iterator[tuple[float, np.ndarray]]:
    import av

    path = info.path
    rotation = info.rotation
    scale_w = scale_h = 0
    if size is not None:
        out_w, out_h = int(size[0]), int(size[1])
        # Resize in the stored orientation, then rotate, so the result has the requested shape.
        scale_w, scale_h = (out_h, out_w) if rotation in (90, 270) else (out_w, out_h)

    container = open_container(path, "video")
    try:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        skipping = fa is not None and fa * SKIP_NONREF_RATIO <= info.fps
        if skipping:
            stream.codec_context.skip_frame = "NONREF"
        time_base = stream.time_base
        # Timestamps are quantised to the time base (1 ms in MKV): a frame stamped 0.033 is the
        # frame for grid time 1/30. Capped at a quarter frame so it never picks a wrong frame.
        tolerance = min(float(time_base) if time_base else 0.0, 0.25 / info.fps) + 1e-9
        origin = info.start_time
        next_grid = 0  # index n of the next grid time n / fa
        last_t = -math.inf  # last decoded frame time: keeps the time axis increasing
        t = 0.0
        decoded = 0
        try:
            for frame in container.decode(stream):
                if frame.pts is not None:
                    # Rounded to 1 us so 1.033 - 0.033 reads 1.0, not 0.9999999999999999.
                    t = round(float(frame.pts * (frame.time_base or time_base)) - origin, 6)
                else:
                    # No timestamp (rare raw streams): assume the nominal rate.
                    t = last_t + 1.0 / info.fps if last_t > -math.inf else 0.0
                if t <= last_t or t < -tolerance:
                    # Out-of-order or pre-roll frames would break the increasing time axis.
                    continue
                last_t = t
                decoded += 1
                if fa is not None:
                    if t < next_grid / fa - tolerance:
                        continue
                    next_grid = math.floor((t + tolerance) * fa) + 1
                if size is None:
                    image = frame.to_ndarray(format="rgb24")
                else:
                    image = frame.reformat(
                        width=scale_w, height=scale_h, format="rgb24", interpolation="AREA"
                    ).to_ndarray()
                yield max(t, 0.0), _rotate(image, rotation)
        except av.error.FFmpegError as exc:
            where = max(t, 0.0)
            raise BadInputError(path, f"cannot be decoded at {where:.2f} s ({reason(exc)})") from exc
        # MP4/MOV store the exact frame count; a file cut short after its index (e.g. an
        # interrupted copy of a "faststart" file) just runs out of packets without an error.
        expected = int(stream.frames or 0)
        # When skipping, fewer frames are decoded than the file holds: judge by where they stop.
        stop = 0.9 * info.duration - 2.0 / info.fps
        short = last_t < stop if skipping else decoded < 0.9 * expected - 2
        if expected and short:
            raise BadInputError(
                path,
                f"ends early: frames stop at {max(last_t, 0.0):.2f} s of {info.duration:.2f} s"
                " (the file is truncated or damaged)",
            )
    finally:
        container.close()


def frame_at(path: str | Path, t: float, max_size: tuple[int, int] | None = None) -> np.ndarray:
    """The RGB frame shown at time t (relative to the first frame), rotation applied.

    Seeks to the keyframe before t and decodes forward, so it costs one GOP at most: meant for
    still previews (a paused player), not for streaming. max_size=(w, h) scales it down to fit.
    """
    import av

    info = probe(path)
    container = open_container(info.path, "video")
    try:
        stream = _video_stream(container, info.path)
        time_base = stream.time_base
        target = max(0.0, min(float(t), info.duration)) + info.start_time
        if time_base:
            container.seek(int(target / float(time_base)), stream=stream, backward=True, any_frame=False)
        half = 0.5 / info.fps
        chosen = None
        try:
            for frame in container.decode(stream):
                ft = float(frame.pts * (frame.time_base or time_base)) if frame.pts is not None else None
                if chosen is not None and ft is not None and ft > target + half:
                    break
                chosen = frame
                if ft is not None and ft >= target - half:
                    break
        except av.error.FFmpegError as exc:
            raise BadInputError(info.path, f"cannot be decoded at {t:.2f} s ({reason(exc)})") from exc
        if chosen is None:
            raise BadInputError(info.path, f"no frame at {t:.2f} s")
        w, h = chosen.width, chosen.height
        if max_size is not None:
            scale = min(1.0, max_size[0] / w, max_size[1] / h)
            w, h = max(2, round(w * scale)), max(2, round(h * scale))
        image = chosen.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
        return _rotate(image, info.rotation)
    finally:
        container.close()
