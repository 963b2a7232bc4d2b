"""Effect segments and the rule that manual edits win over automatic ones (DESIGN.md section 2).

A segment is a time range [start, end) in seconds with a class. Its origin says who made it:
- "auto": produced by analysis; replaced whenever k, tau or the model change;
- "manual": created, moved, resized or relabelled by the editor; never replaced;
- "mute": a range where the editor deleted an automatic effect; keeps it from coming back.

Merging: automatic segments are clipped around every manual and mute range (whatever their
class), so the editor's ranges always win; fragments shorter than `min_length` are dropped.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Origin = Literal["auto", "manual", "mute"]
ORIGINS: tuple[str, ...] = ("auto", "manual", "mute")

_ids = itertools.count(1)


def new_segment_id() -> int:
    return next(_ids)


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
        if not self.end > self.start:
            raise ValueError(f"segment end {self.end} must be after start {self.start}")
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, not {self.origin!r}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlaps(self, start: float, end: float) -> bool:
        return self.start < end and start < self.end

    def with_(self, **changes: Any) -> Segment:
        """A copy with changes; keeps the id (the same effect, edited)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.class_name,
            "start": round(self.start, 6),
            "end": round(self.end, 6),
            "origin": self.origin,
            "variation": self.variation,
            "gain_db": self.gain_db,
            "mode": self.mode,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(
            class_name=str(data["class"]),
            start=float(data["start"]),
            end=float(data["end"]),
            origin=data.get("origin", "manual"),
            variation=data.get("variation"),
            gain_db=float(data.get("gain_db", 0.0) or 0.0),
            mode=data.get("mode"),
        )


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
    """Automatic segments clipped around the editor's manual and mute ranges, plus those ranges.

    Each automatic segment only looks at the ranges near it (bisect), so thousands of each stay
    fast. An untouched automatic segment is kept as it is (same object, same id); the first
    piece of a clipped one keeps its id unless an edited segment already has it (an automatic
    effect the editor turned manual), and other pieces get new ids, memoised in `fragment_ids`
    when given so the same piece keeps its id across recomputes.
    Returns all segments (auto pieces, manual, mute) sorted by start then class.
    """
    edited = [s for s in edited if s.origin != "auto"]
    holes = union_ranges((s.start, s.end) for s in edited)
    hole_ends = [h[1] for h in holes]
    taken = {s.id for s in edited}
    out: list[Segment] = list(edited)
    for seg in auto:
        i = bisect.bisect_right(hole_ends, seg.start)  # first hole ending after seg.start
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
            else:
                sid = new_segment_id()
            out.append(replace(seg, start=a, end=b, origin="auto", id=sid))
    out.sort(key=lambda s: (s.start, s.class_name, s.end))
    return out


def audible(segments: Iterable[Segment]) -> list[Segment]:
    """The segments that make sound (mutes only keep automatic effects away)."""
    return [s for s in segments if s.origin != "mute"]
