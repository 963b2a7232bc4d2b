"""Effect segments and the rule that manual edits win over automatic ones, per class
(DESIGN.md section 2).

A segment is a time range [start, end) in seconds with a class. Its origin says who made it:
- "auto": produced by analysis; replaced whenever k, tau or the model change;
- "manual": created, moved, resized or relabelled by the editor; never replaced;
- "mute": a range where the editor deleted (or relabelled away) an automatic effect of its
  class; keeps that class's automatic effects from coming back there.

Merging is per class: an automatic segment is clipped around the manual and mute ranges of
ITS OWN class only, so a manual "river" drawn over an automatic "fire" leaves the fire
whole (several effects may sound at once). Clipped fragments shorter than `min_length`
(the editor uses one analysed frame) are dropped.

Times are plain floats and are written to JSON unrounded: Python writes the shortest repr,
which reads back as the very same number, so save and load never move an edge.
"""

from __future__ import annotations

import bisect
import itertools
import math
import ntpath
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sfxstudio.core import validate
from sfxstudio.core.classes import SOUND_MODES

Origin = Literal["auto", "manual", "mute"]
ORIGINS: tuple[str, ...] = ("auto", "manual", "mute")

# Relative slack when comparing a length with one frame: float error on times up to 48 h is
# far below it, a sliver from a misplaced split far above it.
FRAME_TOLERANCE = 1e-6

_ids = itertools.count(1)


def min_frame_length(frame_duration: float) -> float:
    """The shortest length a segment may have: one frame, less float slack."""
    return frame_duration * (1.0 - FRAME_TOLERANCE)


def new_segment_id() -> int:
    return next(_ids)


def check_variation(value: Any, field_name: str = "variation") -> str | None:
    """A segment's sound file: None, or a relative path inside its library (no '..', not absolute)."""
    if value is None or value == "":
        return None
    path = validate.text(value, field_name, max_len=1024)
    parts = path.replace("\\", "/").split("/")
    if (posixpath.isabs(path) or ntpath.isabs(path) or ntpath.splitdrive(path)[0]
            or ".." in parts or not path.strip()):
        raise ValueError(f"{field_name} {value!r} must be a file inside the sound library "
                         "(a relative path without '..')")
    return path


@dataclass(frozen=True)
class Segment:
    class_name: str
    start: float
    end: float
    origin: Origin = "auto"
    variation: str | None = None  # sound file relative to its library; None = library policy
    gain_db: float = 0.0  # extra gain on top of the class gain
    mode: str | None = None  # override of the class's sound mode
    id: int = field(default_factory=new_segment_id, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"segment times must be finite numbers, not {self.start!r} .. {self.end!r}")
        if not self.end > self.start:
            raise ValueError(f"segment end {self.end!r} must be after start {self.start!r}")
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, not {self.origin!r}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlaps(self, start: float, end: float) -> bool:
        return self.start < end and start < self.end

    def with_(self, **changes: Any) -> Segment:
        """A copy with changes; keeps the id (the same effect, edited)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        # Unrounded floats: json writes the shortest repr, which round-trips bit-exactly.
        return {
            "class": self.class_name,
            "start": float(self.start),
            "end": float(self.end),
            "origin": self.origin,
            "variation": self.variation,
            "gain_db": float(self.gain_db),
            "mode": self.mode,
        }

    @classmethod
    def from_json(cls, data: Any) -> Segment:
        """A segment read from a file: every field checked (ValueError naming field and value).

        A missing origin means "manual" (files of early versions); a wrong one is refused.
        """
        d = validate.obj(data, "segment")
        for key in ("class", "start", "end"):
            if key not in d:
                raise ValueError(f"{key} is missing")
        name = validate.safe_name(d["class"], "class")
        start = validate.number(d["start"], "start", 0.0, validate.MAX_DURATION)
        end = validate.number(d["end"], "end", 0.0, validate.MAX_DURATION)
        if not end > start:
            raise ValueError(f"end {d['end']!r} must be after start {d['start']!r}")
        origin = d.get("origin", "manual")
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, not {origin!r}")
        variation = check_variation(d.get("variation"))
        gain = d.get("gain_db")
        gain_db = 0.0 if gain is None else validate.number(
            gain, "gain_db", -validate.MAX_GAIN_DB, validate.MAX_GAIN_DB)
        mode = d.get("mode")
        if mode is not None and mode not in SOUND_MODES:
            raise ValueError(f"mode must be one of {', '.join(SOUND_MODES)}, not {mode!r}")
        return cls(class_name=name, start=start, end=end, origin=origin, variation=variation,
                   gain_db=gain_db, mode=mode)


def subtract_ranges(
    start: float, end: float, holes: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """[start, end) minus the union of `holes` (sorted by start), as a list of ranges."""
    out: list[tuple[float, float]] = []
    cur = start
    for h0, h1 in holes:
        if h1 <= cur:
            continue
        if h0 >= end:
            break
        if h0 > cur:
            out.append((cur, min(h0, end)))
        cur = max(cur, h1)
        if cur >= end:
            break
    if cur < end:
        out.append((cur, end))
    return out


def union_ranges(ranges: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint union of [a, b) ranges (touching ranges are joined)."""
    out: list[list[float]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def merge_segments(
    auto: Iterable[Segment],
    edited: Iterable[Segment],
    min_length: float = 1e-3,
    fragment_ids: dict[tuple[int, float, float], int] | None = None,
) -> list[Segment]:
    """Automatic segments clipped around the manual and mute ranges of their own class, plus
    those ranges.

    Automatic segments of other classes are untouched: a manual "river" over an automatic
    "fire" leaves the fire whole. Each automatic segment only looks at its class's ranges near
    it (bisect), so thousands of each stay fast. An untouched automatic segment is kept as it
    is (same object, same id); the first piece of a clipped one keeps its id unless an edited
    segment already has it (an automatic effect the editor turned manual), and other pieces
    get new ids, memoised in `fragment_ids` when given so the same piece keeps its id across
    recomputes. Clipped pieces shorter than `min_length` are dropped.
    Returns all segments (auto pieces, manual, mute) sorted by start then class.
    """
    edited = [s for s in edited if s.origin != "auto"]
    by_class: dict[str, list[tuple[float, float]]] = {}
    for s in edited:
        by_class.setdefault(s.class_name, []).append((s.start, s.end))
    holes_of = {c: union_ranges(r) for c, r in by_class.items()}
    ends_of = {c: [h[1] for h in hs] for c, hs in holes_of.items()}
    taken = {s.id for s in edited}
    out: list[Segment] = list(edited)
    for seg in auto:
        holes = holes_of.get(seg.class_name, [])
        i = bisect.bisect_right(ends_of.get(seg.class_name, []), seg.start)  # first hole ending after
        j = i
        while j < len(holes) and holes[j][0] < seg.end:
            j += 1
        if i == j and seg.id not in taken:
            out.append(seg)
            continue
        first = True
        for a, b in subtract_ranges(seg.start, seg.end, holes[i:j]):
            if b - a < min_length:
                continue
            if first and seg.id not in taken:
                sid = seg.id
                first = False
            elif fragment_ids is not None:
                sid = fragment_ids.setdefault((seg.id, a, b), new_segment_id())
                if sid in taken:  # the editor took this very piece over since: it is theirs now
                    sid = fragment_ids[(seg.id, a, b)] = new_segment_id()
            else:
                sid = new_segment_id()
            out.append(replace(seg, start=a, end=b, origin="auto", id=sid))
    out.sort(key=lambda s: (s.start, s.class_name, s.end))
    return out


def audible(segments: Iterable[Segment]) -> list[Segment]:
    """The segments that make sound (mutes only keep automatic effects away)."""
    return [s for s in segments if s.origin != "mute"]
