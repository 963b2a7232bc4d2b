"""Per-effect media: each effect as its own 48 kHz / 24-bit Broadcast WAV with handles.

A clip file is the effect rendered over [start - handle_before, end + handle_after): the
loop's crossfaded seams, the retrigger hits, gain and pan are baked in, and the class's fades
sit at the file's own ends, so the file plays clean on its own and an editor can extend the
clip into the handles in the NLE. Handles are as long as the sound allows (1 s by default):
a loop extends both ways (not before the video's start), a retrigger keeps hitting after the
end, a one-shot gives the rest of its own tail after the end and nothing before its start.

Names: "<timecode>_<class>_<number>.wav", e.g. "00-00-12-05_dog_barking_003.wav": the
effect's start as timecode (the video's start timecode added) and its number in timeline order.
TimeReference in each file's bext chunk is the file's first sample since midnight, so a DAW
can spot it without a timeline.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxstudio.media.audio_io import MIX_RATE, write_wav
from sfxstudio.media.bwf import BextInfo, seconds_to_timecode
from sfxstudio.media.export import output_folder, stem_file_name
from sfxstudio.media.render import Placement, db_to_gain, render_placement

DEFAULT_HANDLES = 1.0


@dataclass(frozen=True)
class ClipFile:
    """One effect's media file: media time `handle_before` is timeline time `start`; the media
    runs from start - handle_before to end + handle_after on the timeline."""

    path: Path
    start: float
    end: float
    handle_before: float
    handle_after: float
    rate: int = MIX_RATE
    class_name: str = ""
    sound: str | None = None

    @property
    def media_duration(self) -> float:
        return self.handle_before + (self.end - self.start) + self.handle_after


def clip_handles(p: Placement, handles: float, rate: int = MIX_RATE) -> tuple[float, float]:
    """(before, after) seconds of handle the sound allows for placement `p`, each <= handles."""
    mode = p.attributes.mode
    if mode == "loop":
        return min(handles, max(0.0, p.start)), handles
    if mode == "retrigger":
        return 0.0, handles
    # One-shot: the sound plays from its first hit; after the end only its own remaining tail.
    sound_len = p.samples.shape[0] / rate
    hits = [t for t in (p.onsets or []) if p.start <= t < p.end]
    begin = min(hits) if hits else p.start
    tail = sound_len - (p.end - begin)
    return 0.0, min(handles, max(0.0, tail))


def render_clip(p: Placement, handles: float = DEFAULT_HANDLES, rate: int = MIX_RATE,
                gain_db: float = 0.0) -> tuple[np.ndarray, float, float] | None:
    """(audio (n, 2) float32, handle_before, handle_after) for one placement; None when silent."""
    before, after = clip_handles(p, handles, rate)
    first = round((p.start - before) * rate)
    last = round((p.end + after) * rate)
    ext = dataclasses.replace(p, start=first / rate, end=last / rate)
    rendered = render_placement(ext, rate)
    if rendered is None:
        return None
    s0, block = rendered
    out = np.zeros((max(0, last - first), 2), dtype=np.float32)
    at = s0 - first
    take = max(0, min(block.shape[0], out.shape[0] - at))
    out[at : at + take] = block[:take]
    if gain_db:
        out *= np.float32(db_to_gain(gain_db))
    return out, (round(p.start * rate) - first) / rate, (last - round(p.end * rate)) / rate


def clip_file_name(start: float, class_name: str, number: int, fps: float, tc_start: float = 0.0) -> str:
    tc = seconds_to_timecode(tc_start + start, fps, "-")
    return f"{tc}_{stem_file_name(class_name)}_{number:03d}.wav"


def export_clips(placements: Sequence[Placement], folder: str | Path, fps: float,
                 handles: float = DEFAULT_HANDLES, gain_db: float = 0.0, tc_start: float = 0.0,
                 rate: int = MIX_RATE, reference: str = "") -> dict[int, ClipFile]:
    """Write one BWF per audible placement into `folder`; returns segment id -> ClipFile
    (placements without an id are keyed by -1, -2, ... in timeline order)."""
    if not (math.isfinite(handles) and handles >= 0):
        raise ValueError(f"handles must be a finite number of seconds >= 0, not {handles!r}")
    folder = output_folder(folder, "clips")
    out: dict[int, ClipFile] = {}
    ordered = sorted(placements, key=lambda q: (q.start, q.class_name, q.end))
    number = 0
    for p in ordered:
        rendered = render_clip(p, handles, rate, gain_db)
        if rendered is None:
            continue
        audio, before, after = rendered
        number += 1
        name = clip_file_name(p.start, p.class_name or "effect", number, fps, tc_start)
        media_start = tc_start + p.start - before
        info = BextInfo(
            description=f"{p.class_name} effect {number} at {seconds_to_timecode(tc_start + p.start, fps)}"
                        + (f", sound {p.variation}" if p.variation else ""),
            originator_reference=reference[:32],
            time_reference=max(0, round(media_start * rate)),
        )
        path = write_wav(folder / name, audio, rate, "PCM_24", bext=info)
        key = p.segment_id if p.segment_id is not None else -number
        out[key] = ClipFile(path, p.start, p.end, before, after, rate, p.class_name, p.variation)
    return out
