"""Edit commands with do/undo and a readable name (glue / Orange canvas style).

Every user edit is one command; a drag is one command (the GUI commits on mouse release).
Commands record what they changed the first time they run, so redo replays exactly that
even when automatic segments were recomputed in between (their ids are not stable across a
k/threshold change, the editor's segments are).

Rules from DESIGN.md section 2 that live here (all per class: a manual effect or a mute only
keeps automatic effects of its own class away, see core.segments):
- editing (move, resize, relabel, split, properties) an automatic segment makes it manual,
  and the editor has then taken that automatic effect over: a mute of its class covers its
  original range, so it never pops back, also after the manual piece is moved, trimmed or
  deleted later (split an automatic effect and delete one half: that half stays silent);
- deleting an automatic segment leaves a mute for its class over its range;
- relabelling an automatic segment from A to B leaves a mute for A over its range;
- moving, trimming, relabelling, splitting or deleting a manual segment leaves no mute:
  automatic effects of its class come back where the classifier puts them;
- no edit creates a segment shorter than one frame (`Document.min_length`): such an edit is
  refused with a ValueError that says why (the GUI shows it in the status bar).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sfxstudio.core import validate as v
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.document import Document
from sfxstudio.core.project import MAX_MARKERS, Marker
from sfxstudio.core.segments import Segment, new_segment_id

_UNSET: Any = object()


def snap(t: float, frame_duration: float) -> float:
    """Round a time to the nearest frame boundary (never negative)."""
    if frame_duration <= 0:
        return max(0.0, t)
    # round() of the frame count, then back to seconds; the small epsilon keeps x.5 stable.
    return max(0.0, round(t / frame_duration + 1e-9) * frame_duration)


def can_split(segment: Segment, t: float, min_length: float) -> bool:
    """Whether cutting `segment` at t leaves two parts of at least `min_length` each."""
    return t - segment.start >= min_length and segment.end - t >= min_length


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
            # New effects record their sound now (issue 13): redo replays the very same files,
            # and later edits elsewhere never change them.
            self._added = doc.record_sounds(added, remove=[s.id for s in removed])
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
    def _mutes(doc: Document, class_name: str, vacated: Sequence[tuple[float, float]]) -> list[Segment]:
        """Mutes of `class_name` over the parts of `vacated` where its autos would come back."""
        return [Segment(class_name, a, b, origin="mute")
                for a, b in doc.mute_pieces(vacated, class_name)]

    @staticmethod
    def _taken_over(seg: Segment) -> list[Segment]:
        """The mute an automatic effect leaves when the editor turns it into manual ones."""
        return [Segment(seg.class_name, seg.start, seg.end, origin="mute")] if seg.origin == "auto" else []

    @staticmethod
    def _check_length(doc: Document, start: float, end: float) -> None:
        if not end > start:
            raise ValueError(f"an effect must end after it starts ({start:.3f} s >= {end:.3f} s)")
        if end - start < doc.min_length:
            raise ValueError(f"an effect must be at least one frame long "
                             f"({doc.frame_duration:.3f} s); this one would last {end - start:.3g} s")


def _clamp(doc: Document, start: float, end: float) -> tuple[float, float]:
    """Times kept inside [0, video duration]."""
    start = max(0.0, start)
    duration = doc.duration
    if duration is not None:
        end = min(end, duration)
    return start, end


class AddSegment(_SegmentDiff):
    """Draw a new effect (always manual); it keeps only automatic effects of its class away."""

    def __init__(self, segment: Segment) -> None:
        super().__init__()
        self.segment = segment if segment.origin == "manual" else segment.with_(origin="manual")
        self.name = f"Add {segment.class_name.replace('_', ' ')}"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        seg = self.segment
        start, end = _clamp(doc, seg.start, seg.end)
        self._check_length(doc, start, end)
        if (start, end) != (seg.start, seg.end):
            seg = self.segment = seg.with_(start=start, end=end)
        return [], [seg]


class DeleteSegment(_SegmentDiff):
    """Delete an effect. An automatic one leaves a mute of its class over its range; a manual
    one leaves nothing (autos of its class come back); deleting a mute lets them come back."""

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
        return [seg], []


class EditSegment(_SegmentDiff):
    """Move, resize and/or relabel an effect. An automatic effect becomes manual and leaves a
    mute of its class over its original range; a manual effect leaves nothing behind."""

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
        start, end = _clamp(doc, seg.start if self.start is None else self.start,
                            seg.end if self.end is None else self.end)
        self._check_length(doc, start, end)
        class_name = self.class_name or seg.class_name
        if seg.origin == "mute" and class_name != seg.class_name:
            raise ValueError("a mute range cannot change class; delete it instead")
        origin = "mute" if seg.origin == "mute" else "manual"
        new = seg.with_(start=start, end=end, origin=origin, class_name=class_name)
        return [seg], [new, *self._taken_over(seg)]


class SplitSegment(_SegmentDiff):
    """Cut an effect in two at time t; both halves are manual (the first keeps the id and its
    sound; the second is a new effect and gets its own, so neighbours do not share a file).

    Refused when either half would be shorter than one frame."""

    def __init__(self, segment_id: int, t: float) -> None:
        super().__init__()
        self.segment_id, self.t = segment_id, t
        self.name = "Split effect"

    def _plan(self, doc: Document) -> tuple[list[Segment], list[Segment]]:
        seg = self._get(doc, self.segment_id)
        if not seg.start < self.t < seg.end:
            raise ValueError(f"the split point {self.t:.3f} s is outside the effect")
        if not can_split(seg, self.t, doc.min_length):
            raise ValueError(f"the split point {self.t:.3f} s is less than one frame from the "
                             "effect's edge")
        origin = "mute" if seg.origin == "mute" else "manual"
        left = seg.with_(end=self.t, origin=origin)
        right = seg.with_(start=self.t, origin=origin, id=new_segment_id(),
                          variation=seg.variation if doc.assigner is None else None)
        return [seg], [left, right, *self._taken_over(seg)]


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
        return [seg], [seg.with_(origin=origin, **self.changes), *self._taken_over(seg)]


PARAM_LABELS = {"k": "smoothing", "analysis_fps": "analysis rate", "smoothing": "temporal model",
                "class_thresholds": "class thresholds"}
PARAM_NAMES = ("k", "threshold", "analysis_fps", "model", "mode", "smoothing", "stickiness",
               "class_thresholds")


def _param_text(key: str, value: Any) -> str:
    label = PARAM_LABELS.get(key, key)
    if key == "mode":
        return f"{value} mode"
    if key == "class_thresholds" and isinstance(value, dict):
        return label + (" " + ", ".join(f"{c.replace('_', ' ')} {t:g}" for c, t in sorted(value.items()))
                        if value else " off")
    return f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}"


class SetParams(Command):
    """Change analysis parameters (k, the threshold, layered mode, its temporal model,
    stickiness and per-class thresholds...); automatic effects follow, manual ones stay.

    merge=True lets consecutive pushes of the same parameters (a slider being dragged)
    collapse into one undo step; a one-shot commit (threshold line released) leaves it False.
    """

    def __init__(self, merge: bool = False, **changes: Any) -> None:
        unknown = set(changes) - set(PARAM_NAMES)
        if unknown:
            raise TypeError(f"unknown analysis parameter(s): {', '.join(sorted(unknown))}")
        if isinstance(changes.get("class_thresholds"), dict):
            changes["class_thresholds"] = dict(changes["class_thresholds"])  # the caller may reuse it
        self.changes = changes
        self.merge = merge
        self._old: dict[str, Any] | None = None
        self.name = "Set " + ", ".join(_param_text(k, v) for k, v in changes.items())

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


def db_text(db: float) -> str:
    """A level as the editor reads it: "+3.5 dB", "-6.0 dB", "0.0 dB" (never "-0.0")."""
    return f"{db:+.1f} dB" if abs(db) >= 0.05 else "0.0 dB"


MIX_LABELS = {"original_gain_db": "Original Audio", "effects_gain_db": "Effects"}


class SetMixLevels(Command):
    """Change the mix's levels: the original audio's and the effects' gain in dB (what the
    MP4 export and the preview players apply). Pass only what changes.

    Named "Set Effects Level to -6.0 dB" (both: "Set Mix Levels"). merge=True lets
    consecutive pushes of the same fader (a slider or spin box being dragged) collapse into
    one undo step, as SetParams does."""

    def __init__(self, original_gain_db: float | None = None, effects_gain_db: float | None = None,
                 merge: bool = False) -> None:
        changes = {k: val for k, val in (("original_gain_db", original_gain_db),
                                         ("effects_gain_db", effects_gain_db)) if val is not None}
        if not changes:
            raise TypeError("SetMixLevels needs original_gain_db or effects_gain_db")
        self.changes = {k: v.number(val, MIX_LABELS[k].lower() + " level", -v.MAX_GAIN_DB, v.MAX_GAIN_DB)
                        for k, val in changes.items()}
        self.merge = merge
        self._old: dict[str, float] | None = None
        self.name = self._name()

    def _name(self) -> str:
        if len(self.changes) > 1:
            return "Set Mix Levels"
        (key, db), = self.changes.items()
        return f"Set {MIX_LABELS[key]} Level to {db_text(db)}"

    def do(self, doc: Document) -> None:
        if self._old is None:
            self._old = {k: getattr(doc.project.mix, k) for k in self.changes}
        doc.set_mix_levels(**self.changes)

    def undo(self, doc: Document) -> None:
        assert self._old is not None, "undo before do"
        doc.set_mix_levels(**self._old)

    def merge_with(self, other: Command) -> bool:
        if not (isinstance(other, SetMixLevels) and self.merge and other.merge
                and set(other.changes) == set(self.changes)):
            return False
        self.changes = dict(other.changes)
        self.name = other.name
        return True


# -- markers ------------------------------------------------------------------------------


def _marker_time(doc: Document, t: float, field: str) -> float:
    """A marker time: finite, inside [0, video duration] (clamped onto the video's ends)."""
    t = v.number(t, field, -v.MAX_DURATION, v.MAX_DURATION)
    duration = doc.duration
    return min(max(0.0, t), duration) if duration is not None else max(0.0, t)


def _marker_at(doc: Document, t: float) -> int:
    """Index of the marker nearest to t, within half a frame; ValueError when none is there."""
    best, tol = -1, max(doc.frame_duration / 2, 1e-6)
    for i, m in enumerate(doc.project.markers):
        if abs(m.time - t) <= tol and (best < 0 or abs(m.time - t) < abs(doc.project.markers[best].time - t)):
            best = i
    if best < 0:
        raise ValueError(f"there is no marker at {t:.3f} s")
    return best


class AddMarker(Command):
    """Put a marker at `time` (clamped into the video), optionally named."""

    def __init__(self, time: float, name: str = "") -> None:
        self.marker = Marker(max(0.0, v.number(time, "marker time", -v.MAX_DURATION, v.MAX_DURATION)),
                             name)
        self.name = "Add Marker"
        self._placed: Marker | None = None

    def do(self, doc: Document) -> None:
        if self._placed is None:
            if len(doc.project.markers) >= MAX_MARKERS:
                raise ValueError(f"a project holds at most {MAX_MARKERS} markers")
            self._placed = Marker(_marker_time(doc, self.marker.time, "marker time"), self.marker.name)
        doc.set_markers([*doc.project.markers, self._placed])

    def undo(self, doc: Document) -> None:
        assert self._placed is not None, "undo before do"
        markers = list(doc.project.markers)
        markers.remove(self._placed)
        doc.set_markers(markers)


class DeleteMarker(Command):
    """Remove the marker at `time` (the nearest within half a frame)."""

    def __init__(self, time: float) -> None:
        self.time = v.number(time, "marker time", -v.MAX_DURATION, v.MAX_DURATION)
        self.name = "Delete Marker"
        self._removed: Marker | None = None

    def do(self, doc: Document) -> None:
        markers = list(doc.project.markers)
        if self._removed is None:
            self._removed = markers[_marker_at(doc, self.time)]
        markers.remove(self._removed)
        doc.set_markers(markers)

    def undo(self, doc: Document) -> None:
        assert self._removed is not None, "undo before do"
        doc.set_markers([*doc.project.markers, self._removed])


class MoveMarker(Command):
    """Move the marker at `old` (the nearest within half a frame) to `new` (clamped into the
    video); it keeps its name."""

    def __init__(self, old: float, new: float) -> None:
        self.old = v.number(old, "marker time", -v.MAX_DURATION, v.MAX_DURATION)
        self.new = v.number(new, "new marker time", -v.MAX_DURATION, v.MAX_DURATION)
        self.name = "Move Marker"
        self._moved: tuple[Marker, Marker] | None = None

    def do(self, doc: Document) -> None:
        markers = list(doc.project.markers)
        if self._moved is None:
            before = markers[_marker_at(doc, self.old)]
            self._moved = (before, Marker(_marker_time(doc, self.new, "new marker time"), before.name))
        markers.remove(self._moved[0])
        doc.set_markers([*markers, self._moved[1]])

    def undo(self, doc: Document) -> None:
        assert self._moved is not None, "undo before do"
        markers = list(doc.project.markers)
        markers.remove(self._moved[1])
        doc.set_markers([*markers, self._moved[0]])


class CompositeCommand(Command):
    """Several commands as one undo step (undone in reverse order).

    All or nothing: when one of them refuses, those already done are undone before the
    error goes on, so a refused composite leaves the document as it was."""

    def __init__(self, name: str, commands: Sequence[Command]) -> None:
        self.name = name
        self.commands = list(commands)

    def do(self, doc: Document) -> None:
        done: list[Command] = []
        try:
            for cmd in self.commands:
                cmd.do(doc)
                done.append(cmd)
        except Exception:
            for cmd in reversed(done):
                cmd.undo(doc)
            raise

    def undo(self, doc: Document) -> None:
        for cmd in reversed(self.commands):
            cmd.undo(doc)


def apply(doc: Document, command: Command) -> Command:
    """Run a command without an undo stack (CLI, tests); returns it for a later undo()."""
    command.do(doc)
    return command
