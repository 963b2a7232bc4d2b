"""Edits of several effects at once (the lanes' selection) and snapping, kept out of the
widget so the rules read in one place and are tested without a mouse.

Every edit here is built as ONE core command (a CompositeCommand of the existing
Add/Edit/DeleteSegment), so undo takes back a whole paste, nudge or move in one step, and a
refused part (too short, out of range) refuses the whole edit with its reason.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from sfxstudio.core.commands import AddSegment, Command, CompositeCommand, DeleteSegment, EditSegment, snap
from sfxstudio.core.document import Document
from sfxstudio.core.segments import Segment

SNAP_PX = 8  # how close (screen pixels) an edge must come to a target to snap to it


class EditRefused(Exception):
    """An edit of the selection that makes no sense; the message is for the status bar."""


def effects_name(verb: str, count: int) -> str:
    """Undo text: "Paste Effect", "Paste 3 Effects"."""
    return f"{verb} Effect" if count == 1 else f"{verb} {count} Effects"


def _one(verb: str, commands: Sequence[Command]) -> Command:
    return CompositeCommand(effects_name(verb, len(commands)), commands)


def copy_of(segment: Segment, start: float) -> Segment:
    """A new manual effect like `segment` (class, sound, gain, mode, length) starting at `start`;
    a new id, so it is a different effect from the original."""
    return Segment(segment.class_name, start, start + segment.duration, origin="manual",
                   variation=segment.variation, gain_db=segment.gain_db, mode=segment.mode)


def clip_of(segments: Iterable[Segment]) -> list[Segment]:
    """What Copy keeps: the audible effects (a mute is an absence, not something to paste),
    sorted by start."""
    return sorted((s for s in segments if s.origin != "mute"), key=lambda s: (s.start, s.class_name))


def place_command(verb: str, clip: Sequence[Segment], at: float, frame: float,
                  duration: float | None) -> tuple[Command, list[int]]:
    """Add copies of `clip` so the earliest starts at `at`, relative times kept: the command
    and the new ids. Refused when nothing is copied or a copy would start past the video's end."""
    if not clip:
        raise EditRefused(f"Nothing to {verb.lower()}: select effects and copy them first")
    # The anchor goes on the grid; the others keep their exact offsets from it.
    at = snap(at, frame)
    first = min(s.start for s in clip)
    copies = [copy_of(s, at + (s.start - first)) for s in clip]
    if duration is not None and any(c.start >= duration - 1e-9 for c in copies):
        raise EditRefused(f"Cannot {verb.lower()} there: the effects would start after the "
                          f"video's end ({duration:.2f} s)")
    return _one(verb, [AddSegment(c) for c in copies]), [c.id for c in copies]


def shift_command(verb: str, segments: Sequence[Segment], delta: float, frame: float,
                  duration: float | None) -> Command:
    """Move every segment by `delta` seconds (frame-aligned starts stay frame-aligned), lengths
    and lanes kept. Refused when one would leave [0, video end]: nothing is squeezed."""
    if not segments:
        raise EditRefused(f"Nothing to {verb.lower()}: select effects first")
    lo = min(s.start for s in segments)
    hi = max(s.end for s in segments)
    if lo + delta < -1e-9:
        raise EditRefused(f"Cannot {verb.lower()}: an effect would start before 0:00")
    if duration is not None and hi + delta > duration + 1e-9:
        raise EditRefused(f"Cannot {verb.lower()}: an effect would end after the video's end "
                          f"({duration:.2f} s)")
    cmds: list[Command] = []
    for s in segments:
        start = s.start + delta
        if abs(snap(s.start, frame) - s.start) < 1e-6:
            start = snap(start, frame)
        cmds.append(EditSegment(s.id, start=max(0.0, start), end=max(0.0, start) + s.duration))
    return _one(verb, cmds)


def delete_command(segments: Sequence[Segment]) -> Command:
    """Delete every segment (one effect: the single command, named after its class)."""
    if len(segments) == 1:
        return DeleteSegment(segments[0].id)
    return _one("Delete", [DeleteSegment(s.id) for s in segments])


def in_band(doc: Document, lanes: Sequence[str], t0: float, t1: float, lane0: int, lane1: int) -> list[int]:
    """Ids of the effects a rubber band from (t0, lane0) to (t1, lane1) touches."""
    a, b = min(t0, t1), max(t0, t1)
    names = set(lanes[max(0, min(lane0, lane1)):max(lane0, lane1) + 1])
    return [s.id for s in doc.segments if s.class_name in names and s.start <= b and s.end >= a]


class SnapTargets:
    """Times an edge dragged near snaps to: the nearest within a tolerance, by bisection."""

    def __init__(self, times: Iterable[float]) -> None:
        self.times = sorted(set(times))

    @classmethod
    def of(cls, segments: Iterable[Segment], exclude: set[int], extra: Iterable[float]) -> SnapTargets:
        """Edges of every audible effect but `exclude` (the ones being dragged), plus `extra`."""
        times = [t for s in segments if s.origin != "mute" and s.id not in exclude for t in (s.start, s.end)]
        return cls([*times, *extra])

    def nearest(self, t: float, tolerance: float) -> float | None:
        """The target closest to t when within `tolerance`, else None."""
        if tolerance <= 0 or not self.times:
            return None
        i = bisect.bisect_left(self.times, t)
        best = min((self.times[j] for j in (i - 1, i) if 0 <= j < len(self.times)),
                   key=lambda v: abs(v - t))
        return best if abs(best - t) <= tolerance else None

    def snap_edges(self, edges: Sequence[float], tolerance: float) -> float | None:
        """The shift that puts the one of `edges` closest to a target onto it (None: none near)."""
        best: float | None = None
        for e in edges:
            hit = self.nearest(e, tolerance)
            if hit is not None and (best is None or abs(hit - e) < abs(best)):
                best = hit - e
        return best
