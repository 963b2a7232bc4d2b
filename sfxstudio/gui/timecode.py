"""Timecode text for editors: HH:MM:SS.mmm, or HH:MM:SS:FF (frames) when a frame rate is known."""

from __future__ import annotations

import math
import re

_MS = re.compile(r"^\s*(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d*)?)\s*$")
_FF = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2}):(\d{1,3})\s*$")


def frame_index(seconds: float, fps: float) -> int:
    """The frame shown at `seconds` (the one the timecode names); the epsilon keeps a
    frame-aligned time that float arithmetic left a hair short on its own frame."""
    return math.floor(seconds * fps + 1e-6)


def format_timecode(seconds: float, fps: float | None = None) -> str:
    """HH:MM:SS.mmm; with fps, HH:MM:SS:FF (frame number within the second)."""
    seconds = max(0.0, float(seconds))
    if fps:
        # Non-drop-frame timecode as NLEs show it: frame count at the nominal (rounded) rate,
        # so frame-aligned times round-trip exactly at any rate, including 29.97.
        nominal = max(1, round(fps))
        frames = frame_index(seconds, fps)
        secs, ff = divmod(frames, nominal)
        h, rem = divmod(secs, 3600)
        m, s = divmod(rem, 60)
        return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}"
    ms_total = round(seconds * 1000)
    h, rem = divmod(ms_total, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def parse_timecode(text: str, fps: float | None = None) -> float:
    """Seconds from HH:MM:SS.mmm, MM:SS.mmm, SS.mmm or (with fps) HH:MM:SS:FF.

    Raises ValueError with a message an editor can act on.
    """
    m = _FF.match(text)
    if m:
        if not fps:
            raise ValueError("frame timecode (HH:MM:SS:FF) needs a frame rate; use HH:MM:SS.mmm")
        h, mi, s, ff = (int(g) for g in m.groups())
        if mi >= 60 or s >= 60:
            raise ValueError(f"{text.strip()!r}: minutes and seconds must be below 60")
        nominal = max(1, round(fps))
        if ff >= nominal:
            raise ValueError(f"{text.strip()!r}: frame {ff} does not exist at {fps:g} fps")
        return (((h * 60 + mi) * 60 + s) * nominal + ff) / fps
    m = _MS.match(text)
    if not m:
        raise ValueError(f"{text.strip()!r} is not a timecode (HH:MM:SS.mmm)")
    hours, minutes, secs = m.groups()
    has_colon = ":" in text
    if has_colon and float(secs) >= 60:
        raise ValueError(f"{text.strip()!r}: seconds must be below 60")
    if hours is not None and int(minutes) >= 60:
        raise ValueError(f"{text.strip()!r}: minutes must be below 60")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs)


def format_duration(seconds: float | None) -> str:
    """A length as M:SS, or H:MM:SS from an hour on; "--:--" when unknown."""
    if seconds is None:
        return "--:--"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def parse_goto(text: str, fps: float, current: float, duration: float | None = None) -> float:
    """Where "go to timecode" lands: HH:MM:SS:FF, HH:MM:SS.mmm, MM:SS, seconds, or a move
    relative to `current`: +N / -N frames, +/- a timecode. Raises ValueError saying why not
    (not a timecode, before the start, past the end) so the field can show it."""
    s = text.strip()
    if not s:
        raise ValueError("type a timecode (HH:MM:SS:FF), seconds, or +/- frames")
    if s[0] in "+-":
        rest = s[1:].strip()
        sign = 1 if s[0] == "+" else -1
        if rest.isdigit():  # whole frames from the frame under the playhead
            t = (frame_index(current, fps) + sign * int(rest)) / fps
        else:
            t = current + sign * parse_timecode(rest, fps)
    else:
        t = parse_timecode(s, fps)
    if t < -1e-9:
        raise ValueError(f"{s!r} is before the start of the video")
    if duration and t > duration + 1e-9:
        raise ValueError(f"{s!r} is past the end of the video ({format_timecode(duration, fps)})")
    return max(0.0, t)
