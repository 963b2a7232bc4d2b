"""Edit commands with do/undo and a readable name (glue / Orange canvas style).

Every user edit is one command; a drag is one command (the GUI commits on mouse release).
Commands record what they changed the first time they run, so redo replays exactly that
even when automatic segments were recomputed in between (their ids are not stable across a
k/threshold change, the editor's segments are).

Rules from DESIGN.md section 2 that live here:
- editing (move, resize, relabel, split, properties) an automatic segment makes it manual;
- deleting an automatic segment leaves a "mute" range so it does not come back;
- a range an edited segment leaves (move, trim, delete) gets a mute where automatic effects
  would otherwise reappear, like an overwrite in an NLE: what the editor's range covered
  stays gone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.document import Document
from sfxstudio.core.segments import Segment, new_segment_id, subtract_ranges

_UNSET: Any = object()


def snap(t: float, frame_duration: float) -> float:
    """Round a time to the nearest frame boundary (never negative)."""
    if frame_duration <= 0:
        return max(0.0, t)
    # round() of the frame count, then back to seconds; the small epsilon keeps x.5 stable.
    return max(0.0, round(t / frame_duration + 1e-9) * frame_duration)


class Command:
    """Base class. Subclasses implement do/undo; `name` is what Edit > Undo shows."""

    name: str = "Edit"

    def do(self, doc: Document) -> None:
        raise NotImplementedError

    def undo(self, doc: Document) -> None:
        raise NotImplementedError

    def merge_with(self, other: Command) -> bool:
        """Absorb a following command into this one (slider drags). False = keep separate."""
        return False


class _SegmentDiff(Command):
    """A change of the editor's segments, recorded as (removed, added) on the first do."""

    def __init__(self) -> None:
        self._removed: list[Segment] | None = None  # editor segments taken out
        self._added: list[Segment] = []

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        raise NotImplementedError

    def do(self, doc: Document) -> None:
        if self._removed is None:
            removed, added = self._plan(doc)
            self._removed = [s for s in removed if s.origin != "auto"]
            self._added = added
        doc.replace_segments(remove=[s.id for s in self._removed], add=self._added)

    def undo(self, doc: Document) -> None:
        assert self._removed is not None, "undo before do"
        doc.replace_segments(remove=[s.id for s in self._added], add=self._removed)

    @staticmethod
    def _get(doc: Document, segment_id: int) -> Segment:
        seg = doc.find(segment_id)
        if seg is None:
            raise KeyError(f"no effect with id {segment_id}")
        return seg

    @staticmethod
    def _mutes(doc: Document, seg: Segment, vacated: Sequence[tuple[float, float]]) -> list[Segment]:
        return [Segment(seg.class_name, a, b, origin="mute")
                for a, b in doc.mute_pieces(vacated, ignore_ids=[seg.id])]


class AddSegment(_SegmentDiff):
    """Draw a new effect (always manual)."""

    def __init__(self, segment: Segment) -> None:
        super().__init__()
        self.segment = segment if segment.origin == "manual" else segment.with_(origin="manual")
        self.name = f"Add {segment.class_name.replace('_', ' ')}"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        return [], [self.segment]


class DeleteSegment(_SegmentDiff):
    """Delete an effect. An automatic one leaves a mute over its range; a manual one leaves a
    mute only where automatic effects lay under it; deleting a mute lets autos come back."""

    def __init__(self, segment_id: int) -> None:
        super().__init__()
        self.segment_id = segment_id
        self.name = "Delete effect"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        seg = self._get(doc, self.segment_id)
        if seg.origin == "mute":
            self.name = "Remove mute"
            return [seg], []
        self.name = f"Delete {seg.class_name.replace('_', ' ')}"
        if seg.origin == "auto":
            return [seg], [Segment(seg.class_name, seg.start, seg.end, origin="mute")]
        return [seg], self._mutes(doc, seg, [(seg.start, seg.end)])


class EditSegment(_SegmentDiff):
    """Move, resize and/or relabel an effect. An automatic effect becomes manual."""

    def __init__(self, segment_id: int, start: float | None = None, end: float | None = None,
                 class_name: str | None = None) -> None:
        super().__init__()
        self.segment_id = segment_id
        self.start, self.end, self.class_name = start, end, class_name
        if class_name is not None and start is None and end is None:
            self.name = f"Change class to {class_name.replace('_', ' ')}"
        elif start is not None and end is not None:
            self.name = "Move effect"
        else:
            self.name = "Trim effect"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        seg = self._get(doc, self.segment_id)
        start = seg.start if self.start is None else max(0.0, self.start)
        end = seg.end if self.end is None else self.end
        duration = doc.duration
        if duration is not None:
            end = min(end, duration)
        if not end > start:
            raise ValueError(f"an effect must end after it starts ({start:.3f} >= {end:.3f})")
        origin = "mute" if seg.origin == "mute" else "manual"
        new = seg.with_(start=start, end=end, origin=origin,
                        class_name=self.class_name or seg.class_name)
        vacated = subtract_ranges(seg.start, seg.end, [(start, end)])
        return [seg], [new, *self._mutes(doc, seg, vacated)]


class SplitSegment(_SegmentDiff):
    """Cut an effect in two at time t; both halves are manual (the first keeps the id)."""

    def __init__(self, segment_id: int, t: float) -> None:
        super().__init__()
        self.segment_id, self.t = segment_id, t
        self.name = "Split effect"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        seg = self._get(doc, self.segment_id)
        if not seg.start < self.t < seg.end:
            raise ValueError(f"the split point {self.t:.3f} s is outside the effect")
        origin = "mute" if seg.origin == "mute" else "manual"
        left = seg.with_(end=self.t, origin=origin)
        right = seg.with_(start=self.t, origin=origin, id=new_segment_id())
        return [seg], [left, right]


class SetSegmentProperties(_SegmentDiff):
    """Variation, extra gain or mode override of one effect (an automatic one becomes manual).

    Pass only what changes: None is a real value (the library default / the class's mode).
    """

    def __init__(self, segment_id: int, variation: Any = _UNSET, gain_db: Any = _UNSET,
                 mode: Any = _UNSET) -> None:
        super().__init__()
        self.segment_id = segment_id
        self.changes = {k: v for k, v in
                        (("variation", variation), ("gain_db", gain_db), ("mode", mode))
                        if v is not _UNSET}
        self.name = "Change " + ", ".join(k.replace("_db", "") for k in self.changes) if self.changes \
            else "Change effect"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        seg = self._get(doc, self.segment_id)
        origin = "mute" if seg.origin == "mute" else "manual"
        return [seg], [seg.with_(origin=origin, **self.changes)]


class SetParams(Command):
    """Change k and/or the threshold; automatic effects follow, manual ones stay.

    merge=True lets consecutive pushes of the same parameters (a slider being dragged)
    collapse into one undo step; a one-shot commit (threshold line released) leaves it False.
    """

    def __init__(self, merge: bool = False, **changes: Any) -> None:
        unknown = set(changes) - {"k", "threshold", "analysis_fps", "model"}
        if unknown:
            raise TypeError(f"unknown analysis parameter(s): {', '.join(sorted(unknown))}")
        self.changes = changes
        self.merge = merge
        self._old: dict[str, Any] | None = None
        parts = []
        for key, value in changes.items():
            label = {"k": "smoothing", "analysis_fps": "analysis rate"}.get(key, key)
            parts.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
        self.name = "Set " + ", ".join(parts)

    def do(self, doc: Document) -> None:
        if self._old is None:
            self._old = {k: getattr(doc.params, k) for k in self.changes}
        doc.set_params(**self.changes)

    def undo(self, doc: Document) -> None:
        assert self._old is not None, "undo before do"
        doc.set_params(**self._old)

    def merge_with(self, other: Command) -> bool:
        if not (isinstance(other, SetParams) and self.merge and other.merge
                and set(other.changes) == set(self.changes)):
            return False
        self.changes = dict(other.changes)
        self.name = other.name
        return True

    def is_noop(self) -> bool:
        return self._old is not None and all(
            (isinstance(v, float) and math.isclose(v, self._old[k], abs_tol=1e-12)) or v == self._old[k]
            for k, v in self.changes.items())


class SetClassAttributes(Command):
    """Change a class's sound attributes (mode, gain, fades, on/off...)."""

    def __init__(self, class_name: str, attributes: SoundAttributes, name: str | None = None) -> None:
        self.class_name = class_name
        self.attributes = attributes
        self._old: SoundAttributes | None = None
        self._done = False
        self.name = name or f"Change {class_name.replace('_', ' ')} sound"

    def do(self, doc: Document) -> None:
        if not self._done:
            self._old = doc.project.class_attributes.get(self.class_name)
            self._done = True
        doc.set_class_attributes(self.class_name, self.attributes)

    def undo(self, doc: Document) -> None:
        doc.set_class_attributes(self.class_name, self._old)


class SetClassVariations(Command):
    """Set a class's ordered list of sound variations (files)."""

    def __init__(self, class_name: str, variations: Sequence[str], name: str | None = None) -> None:
        self.class_name = class_name
        self.variations = list(variations)
        self._old: list[str] | None = None
        self._done = False
        self.name = name or f"Change {class_name.replace('_', ' ')} variations"

    def do(self, doc: Document) -> None:
        if not self._done:
            self._old = doc.class_variations(self.class_name)
            self._done = True
        doc.set_class_variations(self.class_name, self.variations)

    def undo(self, doc: Document) -> None:
        doc.set_class_variations(self.class_name, self._old)


class CompositeCommand(Command):
    """Several commands as one undo step (undone in reverse order)."""

    def __init__(self, name: str, commands: Sequence[Command]) -> None:
        self.name = name
        self.commands = list(commands)

    def do(self, doc: Document) -> None:
        for cmd in self.commands:
            cmd.do(doc)

    def undo(self, doc: Document) -> None:
        for cmd in reversed(self.commands):
            cmd.undo(doc)


def apply(doc: Document, command: Command) -> Command:
    """Run a command without an undo stack (CLI, tests); returns it for a later undo()."""
    command.do(doc)
    return command
