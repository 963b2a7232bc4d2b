"""What each effect plays, when its hits land and where it sits (issue 13, points 4 to 6).

- `effect_onsets`: per one-shot/retrigger effect, the visual onsets inside it (peaks of the
  analysis's motion energy, or of its class score when the analysis has no motion); loops
  start at the effect start and get none.
- `effect_pans`: per effect, where it sits left to right: the energy-weighted centre of
  motion over the effect (constant by default, or a curve following it), centred when the
  class's auto pan is off or there is no motion.
- `SoundAssigner`: the Document's injected `assigner` (core may not import media): files for
  the effects that have none, by media.assign (Hungarian assignment per class; files of
  replaced automatic effects inherited first).
- `record_sounds`: the same for a Project without a Document (the command line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.analysis import effect_pan, onsets_in, pan_curve
from sfxstudio.analysis.onsets import BASELINE_S
from sfxstudio.core.classes import OTHERWISE, SoundAttributes
from sfxstudio.core.errors import BadInputError, warn
from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment, audible

HIT_MODES = ("one_shot", "retrigger")

Pan = float | tuple[Sequence[float], Sequence[float]]  # as media.render.Pan


def _mode(seg: Segment, attributes: Mapping[str, SoundAttributes]) -> str:
    if seg.mode:
        return seg.mode
    attrs = attributes.get(seg.class_name)
    return str(attrs.mode) if attrs is not None else SoundAttributes().mode


def _window(times: np.ndarray, start: float, end: float, margin: float) -> slice:
    """The frames from `margin` seconds before `start` to `end`: what one effect's onsets need
    (their baseline looks back BASELINE_S), so a 2-hour analysis is not scanned per effect."""
    a = int(np.searchsorted(times, start - margin, side="left"))
    b = int(np.searchsorted(times, end, side="left"))
    return slice(a, b)


def effect_onsets(project: Project, segments: Iterable[Segment],
                  attributes: Mapping[str, SoundAttributes]) -> dict[int, list[float]]:
    """Segment id -> onset times (s) for the audible one-shot and retrigger effects.

    Uses the analysis's motion energy, else the effect's class score (an effect of a class the
    analysis does not have gets none: its hit stays at its start). Without an analysis: {}.
    """
    cache = project.analysis
    if cache is None or cache.frames == 0:
        return {}
    times = cache.times
    energy = cache.motion_energy
    column = {name: i for i, name in enumerate(cache.class_names)}
    margin = 2 * BASELINE_S + 2 * cache.frame_duration
    out: dict[int, list[float]] = {}
    for seg in audible(segments):
        if seg.class_name == OTHERWISE or _mode(seg, attributes) not in HIT_MODES:
            continue
        w = _window(times, seg.start, seg.end, margin)
        if w.stop <= w.start:
            continue
        if energy is not None:
            out[seg.id] = onsets_in(seg.start, seg.end, times[w], energy=energy[w])
        elif seg.class_name in column:
            score = cache.probs[w, column[seg.class_name]]
            out[seg.id] = onsets_in(seg.start, seg.end, times[w], score=score)
    return out


def effect_pans(project: Project, segments: Iterable[Segment],
                attributes: Mapping[str, SoundAttributes], follow: bool = False) -> dict[int, Pan]:
    """Segment id -> pan for the audible effects whose class has auto pan on, from the
    analysis's motion: a constant (the effect's energy-weighted centre of motion) or, with
    `follow`, a smoothed curve (frame times, positions). Without motion: {} (all centred)."""
    cache = project.analysis
    if cache is None or cache.motion is None or cache.frames == 0:
        return {}
    times, energy, centre = cache.times, cache.motion[:, 0], cache.motion[:, 1]
    out: dict[int, Pan] = {}
    for seg in audible(segments):
        attrs = attributes.get(seg.class_name)
        if seg.class_name == OTHERWISE or (attrs is not None and not attrs.auto_pan):
            continue
        w = _window(times, seg.start, seg.end, cache.frame_duration)
        if w.stop <= w.start:
            continue
        if follow:
            t, values = pan_curve(times[w], centre[w], energy[w], seg.start, seg.end)
            if t.size:
                out[seg.id] = (t.tolist(), values.tolist())
        else:
            out[seg.id] = effect_pan(times[w], centre[w], energy[w], seg.start, seg.end)
    return out


def class_attributes(project: Project, library: Any) -> dict[str, SoundAttributes]:
    """Library defaults overridden by the project's per-class settings."""
    names = set(library.class_names()) | set(project.class_attributes)
    return {n: project.class_attributes.get(n) or library.attributes(n) for n in names}


def load_library(project: Project) -> Any:
    from sfxstudio.core.paths import SOUNDS
    from sfxstudio.media.library import SoundLibrary

    return SoundLibrary.load(project.library or SOUNDS)


def assign_files(project: Project, segments: Sequence[Segment], library: Any,
                 previous: Sequence[Segment] = (), seed: int = 0) -> dict[int, str | None]:
    """Segment id -> file (None: no file of its class fits) for the audible effects of
    `segments` without a recorded file: inherited from the automatic effect of `previous`
    they replace (media.assign.inherit_variations), else assigned (assign_sounds), with their
    onsets shortening the room a one-shot has."""
    from sfxstudio.media.assign import assign_sounds, inherit_variations

    segs = list(segments)
    need = {s.id for s in audible(segs) if not s.variation and s.class_name != OTHERWISE}
    if not need:
        return {}
    out: dict[int, str | None] = {}
    if previous:
        autos = [s for s in segs if s.id in need and s.origin == "auto"]
        for s in inherit_variations(previous, autos):
            if s.variation:
                out[s.id] = s.variation
        if out:
            segs = [s.with_(variation=out[s.id]) if s.id in out else s for s in segs]
    if len(out) < len(need):
        attrs = class_attributes(project, library)
        onsets = effect_onsets(project, [s for s in segs if s.id in need and s.id not in out], attrs)
        got = assign_sounds(segs, library, project.class_variations or None, seed=seed,
                            class_attributes=attrs, onsets=onsets)
        out.update({sid: f for sid, f in got.items() if sid in need and sid not in out})
    return out


def record_sounds(project: Project, library: Any, seed: int = 0) -> int:
    """Record a file in every audible effect of the project that has none (the command line's
    analyze does this before saving or exporting); returns how many were recorded."""
    from sfxstudio.media.assign import record_assignment

    got = assign_files(project, project.segments, library, seed=seed)
    if got:
        project.segments = record_assignment(project.segments, got)
    return sum(1 for f in got.values() if f)


class SoundAssigner:
    """The Document's `assigner`: the project's sound library, loaded once per library folder.

    A library that cannot be loaded is one warning; the effects then stay without a file (the
    render says which classes are silent) instead of every edit failing.
    """

    def __init__(self, library: Any | None = None, seed: int = 0) -> None:
        self._given = library
        self._loaded: tuple[str | None, Any] | None = None
        self.seed = seed

    def library(self, project: Project) -> Any | None:
        if self._given is not None:
            return self._given
        key = str(Path(project.library)) if project.library else None
        if self._loaded is None or self._loaded[0] != key:
            try:
                self._loaded = (key, load_library(project))
            except BadInputError as exc:
                warn(exc.path, f"{exc.problem}; effects get no sound file until it is fixed")
                self._loaded = (key, None)
        return self._loaded[1]

    def __call__(self, project: Project, segments: Sequence[Segment],
                 previous: Sequence[Segment] = ()) -> dict[int, str | None]:
        library = self.library(project)
        if library is None:
            return {}
        return assign_files(project, segments, library, previous, seed=self.seed)


def project_placements(project: Project, library: Any | None = None, seed: int = 0,
                       follow_pan: bool = False) -> list[Any]:
    """The project's sound placements (media.render.Placement), as the mix and the stems play
    them: each effect's recorded file (effects without one get one by assignment, not by
    their rank), hits on its visual onsets (one-shot, retrigger) and its auto pan."""
    from sfxstudio.media.render import placements_for

    library = library if library is not None else load_library(project)
    attrs = class_attributes(project, library)
    segments = project.segments
    assignment = assign_files(project, segments, library, seed=seed)
    return placements_for(segments, library, attrs, project.class_variations or None, seed=seed,
                          assignment=assignment, onsets=effect_onsets(project, segments, attrs),
                          pans=effect_pans(project, segments, attrs, follow=follow_pan))

