"""The open project as an editable document: state, listeners, and the fast recompute path.

Qt-free. The GUI wraps it in `gui.document_model.DocumentModel`; edits arrive as commands
(`core.commands`) that call the low-level mutators here.

State that matters for undo is (params, the editor's manual and mute segments, the per-class
overrides). Automatic segments are derived: the segmenter turns (analysis, params) into raw
automatic segments, and `merge` clips each one around the editor's ranges of its own class
(DESIGN.md section 2, "manual edits win, per class"). Raw autos are kept, so an edit only
re-merges (cheap) and a k/threshold change only re-segments (no argmax over the whole (N, C)
array: it is cached here). Clipped fragments shorter than one frame are dropped.

Sounds (issue 13): every audible effect records the file it plays (`Segment.variation`) and
keeps it. With an injected `assigner` (the pipeline's, over the sound library: core may not
import media), effects without a file get one after every recompute and edit: automatic
effects that replace others after a recompute inherit their files, the rest are assigned
(Hungarian assignment, no neighbour sharing a file). Files of automatic effects live in the
raw autos (so clipping and re-merging keep them) and, for extra pieces of a clipped effect,
by piece id; the editor's new effects get theirs when the command creates them
(`record_sounds`), so redo replays the same files.

Layering: core may not import analysis or pipeline, so the segmenter and assigner are injected.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sfxstudio.core.classes import OTHERWISE, ClassSet, SoundAttributes, default_classes
from sfxstudio.core.project import (
    AnalysisCache,
    AnalysisParams,
    Marker,
    MixSettings,
    Project,
    sorted_markers,
)
from sfxstudio.core.segments import (
    Segment,
    merge_segments,
    min_frame_length,
    subtract_ranges,
    union_ranges,
)

Segmenter = Callable[[AnalysisCache, AnalysisParams], list[Segment]]
# assigner(project, segments, previous) -> {segment id: sound file, or None when none fits} for
# the audible effects of `segments` that have no file yet; `previous` are automatic effects a
# recompute replaced (their files carry over to the effects that take their place).
Assigner = Callable[[Project, Sequence[Segment], Sequence[Segment]], Mapping[int, "str | None"]]
Listener = Callable[[str, object], None]

EVENTS = ("segments", "params", "analysis", "classes", "project", "dirty", "markers", "mix")
DEFAULT_FRAME = 1.0 / 25.0  # snapping grid when there is no analysis


def intersect_ranges(
    ranges: Sequence[tuple[float, float]], union: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Each range intersected with a sorted disjoint union, as a flat sorted list."""
    starts = [u[0] for u in union]
    out: list[tuple[float, float]] = []
    for a, b in ranges:
        i = max(0, bisect.bisect_right(starts, a) - 1)
        while i < len(union) and union[i][0] < b:
            lo, hi = max(a, union[i][0]), min(b, union[i][1])
            if hi > lo:
                out.append((lo, hi))
            i += 1
    return out


class Document:
    """One open project plus undo-relevant state and change notification."""

    def __init__(
        self,
        project: Project | None = None,
        path: Path | None = None,
        segmenter: Segmenter | None = None,
        assigner: Assigner | None = None,
    ) -> None:
        self.project = project if project is not None else Project()
        self.path = path
        self.dirty = False
        # The analysis layer's threshold + mode filter + segmentation (core cannot import it);
        # it keeps the per-frame argmax in cache.derived, so slider moves skip that pass.
        self.segmenter = segmenter
        self.assigner = assigner
        # Files of the extra pieces of clipped automatic effects, by piece id (the first piece
        # plays its raw effect's file), and effects for which no file fitted (not asked again
        # until the library settings, the analysis or the project change).
        self._fragment_files: dict[int, str] = {}
        self._no_match: set[int] = set()
        self._listeners: list[Listener] = []
        self._classes: ClassSet | None = None
        # Raw automatic segments (before clipping around the editor's ranges). Without a
        # segmenter or analysis, the autos stored in the project are the raw autos.
        self._raw_autos: list[Segment] = self.project.auto_segments()
        self._auto_union: dict[str, list[tuple[float, float]]] | None = None
        # Ids of fragments of a raw auto, stable while their range is unchanged.
        self._fragment_ids: dict[tuple[int, float, float], int] = {}
        # Every automatic effect seen since the analysis was set, by (class, start, end): one
        # that comes out the same again is the same object with the same id, so a selection
        # survives k/threshold changes, undo gives back the very same effects, and an
        # unchanged run costs no new Segment.
        self._auto_ids: dict[tuple[str, float, float], Segment] = {
            (s.class_name, s.start, s.end): s for s in self._raw_autos}
        self._by_id: dict[int, Segment] = {}
        self._index_segments()
        self._record_stored()

    # -- listeners ---------------------------------------------------------------------------
    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _emit(self, event: str, payload: object = None) -> None:
        for fn in list(self._listeners):
            fn(event, payload)

    def _touch(self) -> None:
        if not self.dirty:
            self.set_dirty(True)

    def set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self._emit("dirty", dirty)

    def mark_saved(self, path: Path | None = None) -> None:
        if path is not None:
            self.path = path
        self.set_dirty(False)

    # -- read access -------------------------------------------------------------------------
    @property
    def classes(self) -> ClassSet:
        if self._classes is None:
            cache = self.project.analysis
            defaults = default_classes()
            self._classes = defaults.subset(list(cache.class_names)) if cache else defaults
        return self._classes

    @property
    def segments(self) -> list[Segment]:
        return self.project.segments

    @property
    def params(self) -> AnalysisParams:
        return self.project.params

    @property
    def analysis(self) -> AnalysisCache | None:
        return self.project.analysis

    @property
    def frame_duration(self) -> float:
        """The editing grid: the analysis frame, or 1/25 s without analysis."""
        cache = self.project.analysis
        return cache.frame_duration if cache is not None and cache.frame_duration > 0 else DEFAULT_FRAME

    @property
    def duration(self) -> float | None:
        cache = self.project.analysis
        return cache.duration if cache is not None else None

    def find(self, segment_id: int) -> Segment | None:
        return self._by_id.get(segment_id)

    def edited_segments(self) -> list[Segment]:
        """The editor's segments (manual and mute): the undo-relevant part."""
        return [s for s in self.project.segments if s.origin != "auto"]

    def class_attributes(self, name: str) -> SoundAttributes:
        """The project override, else the class's default from classes.json."""
        override = self.project.class_attributes.get(name)
        if override is not None:
            return override
        classes = self.classes
        sound = classes[name].sound if name in classes else None
        return sound or SoundAttributes()

    def class_variations(self, name: str) -> list[str] | None:
        """The project's ordered variation list for a class, None = the library's."""
        v = self.project.class_variations.get(name)
        return list(v) if v is not None else None

    # -- mutators (used by commands) ---------------------------------------------------------
    def set_project(self, project: Project, path: Path | None = None) -> None:
        self.project = project
        self.path = path
        self._classes = None
        self._raw_autos = project.auto_segments()
        self._auto_ids = {(s.class_name, s.start, s.end): s for s in self._raw_autos}
        self._auto_union = None
        self._fragment_ids.clear()
        self._fragment_files.clear()
        self._no_match.clear()
        self._index_segments()
        self._record_stored()
        self.dirty = False
        self._emit("project", project)
        self._emit("dirty", False)

    def set_analysis(self, cache: AnalysisCache | None) -> None:
        """Store a new analysis (or drop it) and recompute the automatic segments."""
        previous = self.project.auto_segments()
        self.project.analysis = cache
        self._classes = None
        self._auto_ids.clear()
        if cache is not None:
            self._raw_autos = self._compute_raw_autos()
        else:
            self._raw_autos = []
        self._auto_union = None
        self._fragment_ids.clear()
        self._fragment_files.clear()
        self._no_match.clear()
        self._remerge(self.edited_segments(), previous)
        self._emit("analysis", cache)
        self._emit("classes", None)
        self._touch()
        self._emit("segments", None)

    def set_params(self, **changes: Any) -> None:
        """Change any analysis parameter (k, threshold, mode, smoothing, stickiness,
        class_thresholds, analysis_fps, model); automatic segments follow live when the change
        affects them (`AnalysisParams.segmentation_key`), keeping their sounds where they
        survive. Manual and mute segments stay as they are (manual edits win).
        """
        new = self.project.params.with_(**changes)
        if new == self.project.params:
            return
        old = self.project.params
        self.project.params = new
        if new.segmentation_key() != old.segmentation_key() and self.project.analysis is not None:
            previous = self.project.auto_segments()
            self._raw_autos = self._compute_raw_autos()
            self._auto_union = None
            self._fragment_ids.clear()
            self._fragment_files.clear()
            self._remerge(self.edited_segments(), previous)
            self._emit("params", new)
            self._touch()
            self._emit("segments", None)
        else:
            self._emit("params", new)
            self._touch()

    def replace_segments(self, remove: Iterable[int] = (), add: Iterable[Segment] = ()) -> None:
        """Remove editor segments by id, add editor segments; autos re-clip around them.

        Removing the id of an automatic segment is a no-op (autos are derived); adding an
        automatic segment is refused: edits make segments manual or mute.
        """
        drop = set(remove)
        added = list(add)
        for s in added:
            if s.origin == "auto":
                raise ValueError("only manual or mute segments can be added by an edit")
        edited = [s for s in self.edited_segments() if s.id not in drop]
        edited.extend(added)
        self._remerge(edited)
        self._touch()
        self._emit("segments", None)

    def set_class_attributes(self, name: str, attributes: SoundAttributes | None) -> None:
        """Set (or with None, drop) the project's override of a class's sound attributes."""
        if attributes is None:
            self.project.class_attributes.pop(name, None)
        else:
            self.project.class_attributes[name] = attributes
        self._no_match.clear()  # a new mode may make a file fit
        self._touch()
        self._emit("classes", name)

    def set_class_variations(self, name: str, variations: Sequence[str] | None) -> None:
        if variations is None:
            self.project.class_variations.pop(name, None)
        else:
            self.project.class_variations[name] = list(variations)
        self._no_match.clear()
        self._record_stored()
        self._touch()
        self._emit("classes", name)

    def set_markers(self, markers: Iterable[Marker]) -> None:
        """Replace the project's markers (kept sorted by time); a "markers" event carries the
        new list. The marker commands are the only callers: they check times and counts."""
        self.project.markers = sorted_markers(list(markers))
        self._touch()
        self._emit("markers", list(self.project.markers))

    def set_mix_levels(self, **levels: float) -> None:
        """Change the mix's levels (original_gain_db, effects_gain_db), all checked before any
        is set (MixSettings validates them: a NaN gain would make the mix full-scale DC); a
        "mix" event carries the MixSettings. Nothing happens when nothing changes."""
        mix = self.project.mix
        unknown = sorted(set(levels) - set(mix.to_json()))
        if unknown:
            raise TypeError(f"unknown mix level(s): {', '.join(unknown)}")
        checked = MixSettings(**(mix.to_json() | levels))
        if checked == mix:
            return
        for key in levels:
            # In place: the export dialog and the players hold this very object.
            setattr(mix, key, getattr(checked, key))
        self._touch()
        self._emit("mix", mix)

    def auto_coverage(self, class_name: str) -> list[tuple[float, float]]:
        """Union of the raw automatic ranges of one class: where vacating must leave a mute."""
        if self._auto_union is None:
            by_class: dict[str, list[tuple[float, float]]] = {}
            for s in self._raw_autos:
                by_class.setdefault(s.class_name, []).append((s.start, s.end))
            self._auto_union = {c: union_ranges(r) for c, r in by_class.items()}
        return self._auto_union.get(class_name, [])

    def mute_pieces(
        self, ranges: Sequence[tuple[float, float]], class_name: str, ignore_ids: Iterable[int] = ()
    ) -> list[tuple[float, float]]:
        """Parts of `ranges` where an automatic effect of `class_name` would reappear.

        That is the ranges intersected with the raw autos of that class, minus the editor's
        other ranges of that class (they already keep its autos away). Pieces shorter than one
        frame are left out: merging drops such fragments anyway.
        """
        cov = intersect_ranges(ranges, self.auto_coverage(class_name))
        if not cov:
            return []
        skip = set(ignore_ids)
        holes = union_ranges((s.start, s.end) for s in self.edited_segments()
                             if s.id not in skip and s.class_name == class_name)
        out: list[tuple[float, float]] = []
        for a, b in cov:
            out.extend(subtract_ranges(a, b, holes))
        min_len = self.min_length
        return [(a, b) for a, b in out if b - a >= min_len]

    @property
    def min_length(self) -> float:
        """The shortest segment an edit may create (one frame, less float slack)."""
        return min_frame_length(self.frame_duration)

    # -- internals ---------------------------------------------------------------------------
    def _index_segments(self) -> None:
        self._by_id = {s.id: s for s in self.project.segments}

    def _compute_raw_autos(self) -> list[Segment]:
        cache = self.project.analysis
        if cache is None:
            return []
        params = self.project.params
        known = self._auto_ids
        if len(known) > 200_000:  # bounded: a long slider session must not grow without end
            known.clear()
        if self.segmenter is None:
            # No segmenter injected (e.g. a Qt-free tool that only edits): keep what is stored.
            return self.project.auto_segments()
        out: list[Segment] = []
        for s in self.segmenter(cache, params):
            key = (s.class_name, s.start, s.end)
            out.append(known.setdefault(key, s))
        return out

    def _remerge(self, edited: list[Segment], previous: Sequence[Segment] = ()) -> None:
        """Autos clipped around the editor's ranges, piece ids kept stable across recomputes;
        then every effect without a sound gets one (`previous`: autos a recompute replaced)."""
        merged = merge_segments(self._raw_autos, edited, self.min_length, self._fragment_ids)
        self.project.segments = self._with_sounds(merged, previous)
        self._index_segments()

    # -- sounds ------------------------------------------------------------------------------
    def record_sounds(self, added: Sequence[Segment], remove: Iterable[int] = ()) -> list[Segment]:
        """`added` (an edit's new segments) with a sound file recorded in each audible one that
        has none, chosen among the segments as they will be (the current ones less `remove`,
        plus `added`). Unchanged without an assigner."""
        added = list(added)
        if self.assigner is None or not any(self._needs_sound(s) for s in added):
            return added
        drop = set(remove) | {s.id for s in added}
        context = [s for s in self.project.segments if s.id not in drop] + added
        got = self.assigner(self.project, context, ())
        return [s.with_(variation=got[s.id]) if self._needs_sound(s) and got.get(s.id) else s
                for s in added]

    def _needs_sound(self, s: Segment) -> bool:
        return s.origin != "mute" and not s.variation and s.class_name != OTHERWISE

    def _record_stored(self) -> None:
        """Files for the stored effects that have none (an older project, a new library list)."""
        if self.assigner is not None:
            self.project.segments = self._with_sounds(self.project.segments)
            self._index_segments()

    def _with_sounds(self, segments: list[Segment], previous: Sequence[Segment] = ()) -> list[Segment]:
        """`segments` with every audible effect's file recorded: automatic ones in the raw
        autos (or by piece id), the editor's in their segment. Without an assigner: unchanged."""
        if self.assigner is None:
            return segments
        raw_at = {s.id: i for i, s in enumerate(self._raw_autos)}
        out = list(segments)
        for i, s in enumerate(out):
            if s.origin == "auto" and s.id not in raw_at:
                # An extra piece of a clipped effect: its own file, not its raw effect's (the
                # first piece plays that one, and neighbours should not share a file).
                own = self._fragment_files.get(s.id)
                if s.variation != own:
                    out[i] = s.with_(variation=own)
        need = [s.id for s in out if self._needs_sound(s) and s.id not in self._no_match]
        if not need:
            return out
        got = self.assigner(self.project, out, [p for p in previous if p.origin == "auto"])
        for i, s in enumerate(out):
            if not self._needs_sound(s) or s.id in self._no_match:
                continue
            f = got.get(s.id)
            if not f:
                self._no_match.add(s.id)
                continue
            out[i] = s.with_(variation=f)
            if s.origin != "auto":
                continue
            j = raw_at.get(s.id)
            if j is None:
                self._fragment_files[s.id] = f
                continue
            raw = self._raw_autos[j]
            recorded = raw.with_(variation=f)
            self._raw_autos[j] = recorded
            key = (raw.class_name, raw.start, raw.end)
            if self._auto_ids.get(key) is raw:
                self._auto_ids[key] = recorded  # the same effect coming back keeps its file
        return out
