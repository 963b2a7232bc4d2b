"""Which sound file each effect plays: chosen once, recorded, and never shuffled by other edits.

Picking a class's file by an effect's rank (the n-th dog gets file n mod 3) made one added
effect change the sound of every later effect of its class. Here each effect gets its file
once, the project records it (`Segment.variation`), and later assignments only fill in the
effects that have none, so adding, moving or deleting an effect changes no other effect.

The choice, per class (the audio-visual matching study's recipe: a cost matrix, the Hungarian
algorithm, "no match" allowed), is scipy.optimize.linear_sum_assignment over the effects still
without a file, in time order, in blocks of as many effects as the class has files (at most
MAX_BLOCK). Columns are copies of every file plus one "no match" column per effect. The cost
of effect e playing file f as its (c+1)-th use in the block:

    fit(e, f)                          length mismatch, see fit_cost; fit >= 1: f does not fit
  + NEIGHBOUR_COST x [neighbours of e, already decided, that play f]
  + REUSE_COST x c                     a second use inside one block may be a neighbour
  + spread(f)                         SPREAD_COST x (uses of f - uses of the least used file),
                                       at most SPREAD_MAX: spread files over the timeline
  + attack(e, f)                      only for a one-shot/retrigger effect with visual onsets
                                       (its hits land on events): ATTACK_COST x min(1, rise(f) /
                                       SLOW_RISE_S), rise = media.render.attack_rise; and when
                                       the class has two or more files that arrive at once
                                       (rise < FAST_RISE_S, enough to alternate), SLOW_PENALTY
                                       more for the others: a flash gets a crack, never a swell
  + TIE_NOISE x u(seed, e, f)          u in [0, 1): a seeded shuffle among equal choices

and "no match" costs NO_MATCH_COST, far above any fitting file, so an effect is left without
a sound only when no file of its class fits it. Inside a block the reuse cost deals the files
like a shuffled deck; between blocks the neighbour cost stops the last effect of one block and
the first of the next from sharing a file. NEIGHBOUR_COST exceeds the whole fit range, so two
neighbouring effects share a file only when the class has a single fitting file for them;
the soft attack cost stays below it, and the slow-file penalty applies only when two quick
files can alternate (the blocks are then as wide as the quick files, so a block's reuse is
never forced onto a slow file or a neighbour).
Neighbours are the previous and next effect of the same class in time order.

Deterministic: the same effects, files and seed give the same answer (the shuffle is keyed on
each effect's times, not on ids or ranks).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sfxstudio.core.classes import OTHERWISE, SoundAttributes
from sfxstudio.core.errors import BadInputError, warn
from sfxstudio.core.segments import Segment, audible
from sfxstudio.media.audio_io import MIX_RATE
from sfxstudio.media.render import attack_rise

# One-shot/retrigger: cost = cut fraction / MAX_CUT; a file of which less than 5 % would
# play before the effect ends does not fit. Cutting a long tail is normal (it fades out), so
# a 3 s thunder on a 1 s flash still fits, just worse than a 1 s one.
MAX_CUT = 0.95
# Loop: repeating up to LOOP_FREE_REPEATS times is free; beyond, the cost grows with the log
# of the repeat count and reaches 1 (does not fit) at LOOP_MAX_REPEATS, where a loop stops
# sounding like a place and starts sounding like a buzz.
LOOP_FREE_REPEATS = 16.0
LOOP_MAX_REPEATS = 1000.0

NEIGHBOUR_COST = 2.0
# A swell this long (or longer) before a sound arrives costs a hit effect the whole
# ATTACK_COST: a flash wants a crack, and a 0.2 s swell is heard well after the flash.
ATTACK_COST = 1.0
SLOW_RISE_S = 0.2
FAST_RISE_S = 0.05  # arrives at once: a crack, a knock, a drop
SLOW_PENALTY = 10.0  # above neighbours and reuse, far below "no match"
REUSE_COST = 2.0
SPREAD_COST = 0.05
SPREAD_MAX = 0.5  # the spread nudges; it never outweighs a neighbour or turns into "no match"
TIE_NOISE = 0.1
NO_MATCH_COST = 100.0
MAX_BLOCK = 16  # effects per assignment: keeps each matrix small for classes with many files
_INFEASIBLE = 1e9


def fit_cost(mode: str, effect_seconds: float, sound_seconds: float) -> float:
    """How badly a sound of `sound_seconds` fits an effect of `effect_seconds` in `mode`.

    0 is a perfect fit, 1 or more means it does not fit (see MAX_CUT and LOOP_MAX_REPEATS).
    """
    if not (sound_seconds > 0 and math.isfinite(sound_seconds)):
        return math.inf
    effect_seconds = max(effect_seconds, 0.0)
    if mode == "loop":
        repeats = effect_seconds / sound_seconds
        if repeats <= LOOP_FREE_REPEATS:
            return 0.0
        return math.log(repeats / LOOP_FREE_REPEATS) / math.log(LOOP_MAX_REPEATS / LOOP_FREE_REPEATS)
    cut = max(0.0, sound_seconds - effect_seconds) / sound_seconds
    return cut / MAX_CUT


def _fit_costs(mode: str, effect_seconds: float, sounds: np.ndarray) -> np.ndarray:
    """fit_cost for many sound lengths at once (all positive and finite)."""
    effect_seconds = max(effect_seconds, 0.0)
    if mode == "loop":
        repeats = np.maximum(effect_seconds / sounds, LOOP_FREE_REPEATS)
        return np.log(repeats / LOOP_FREE_REPEATS) / math.log(LOOP_MAX_REPEATS / LOOP_FREE_REPEATS)
    return np.maximum(0.0, sounds - effect_seconds) / sounds / MAX_CUT


class _Context:
    """What the assignment needs from the library, looked up once per class."""

    def __init__(self, library: Any, class_variations: Mapping[str, Sequence[str]] | None,
                 class_attributes: Mapping[str, SoundAttributes] | None,
                 durations: Mapping[str, float] | None,
                 onsets: Mapping[int, Sequence[float]] | None) -> None:
        self.library = library
        self.class_variations = class_variations or {}
        self.class_attributes = class_attributes or {}
        self.durations = dict(durations or {})
        self.onsets = onsets or {}
        self._bad: set[str] = set()
        self._rise: dict[str, float] = {}

    def files(self, cls: str) -> list[str]:
        """The class's candidate files: the project's override list, else the library's files
        (only the first under the library policy "first")."""
        override = self.class_variations.get(cls)
        if override:
            files = list(dict.fromkeys(override))
        else:
            files = list(self.library.variations(cls))
            policy = getattr(self.library, "policy", None)
            if files and policy is not None and policy(cls) == "first":
                files = files[:1]
        return [f for f in files if (d := self.duration(f)) is not None and d > 0 and math.isfinite(d)]

    def duration(self, path: str) -> float | None:
        if path in self.durations:
            return self.durations[path]
        if path in self._bad:
            return None
        try:
            seconds = float(np.shape(self.library.samples(path))[0]) / MIX_RATE
        except BadInputError as exc:
            self._bad.add(path)
            warn(exc.path, f"{exc.problem}; no effect is given this sound")
            return None
        self.durations[path] = seconds
        return seconds

    def rises(self, files: Sequence[str]) -> np.ndarray:
        """attack_rise of each file (seconds), measured once; 0 for a file that cannot be read
        (durations given without samples: no preference)."""
        for f in files:
            if f not in self._rise:
                try:
                    self._rise[f] = attack_rise(np.asarray(self.library.samples(f)), MIX_RATE)
                except (BadInputError, AttributeError, ValueError):
                    self._rise[f] = 0.0
        return np.array([self._rise[f] for f in files])

    def hits_on_events(self, seg: Segment, mode: str) -> bool:
        """Whether the effect's hits land on visual onsets (it has any inside)."""
        return mode != "loop" and any(seg.start <= t < seg.end for t in self.onsets.get(seg.id, ()))

    def mode(self, seg: Segment) -> str:
        if seg.mode:
            return seg.mode
        attrs = self.class_attributes.get(seg.class_name) or self.library.attributes(seg.class_name)
        return str(attrs.mode)

    def length(self, seg: Segment, mode: str) -> float:
        """Seconds the sound has: a one-shot or retrigger on onsets starts at the first one."""
        if mode != "loop":
            inside = [t for t in self.onsets.get(seg.id, ()) if seg.start <= t < seg.end]
            if inside:
                return seg.end - min(inside)
        return seg.duration


def _by_class(segments: Iterable[Segment]) -> dict[str, list[Segment]]:
    out: dict[str, list[Segment]] = {}
    for s in audible(segments):
        if s.class_name != OTHERWISE:
            out.setdefault(s.class_name, []).append(s)
    for segs in out.values():
        segs.sort(key=lambda s: (s.start, s.end, s.id))
    return out


def _noise(seed: int, cls: str, seg: Segment, count: int) -> np.ndarray:
    """`count` uniform numbers in [0, 1) from the seed and the effect's times (splitmix64:
    a new numpy Generator per effect would cost more than the assignment itself)."""
    key = np.uint64(zlib.crc32(f"{seed}:{cls}:{seg.start!r}:{seg.end!r}".encode()))
    z = key + (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _recorded(seg: Segment, fixed: Mapping[int, str]) -> str | None:
    return seg.variation or fixed.get(seg.id) or None


def assign_sounds(
    segments: Iterable[Segment],
    library: Any,
    class_variations: Mapping[str, Sequence[str]] | None = None,
    fixed: Mapping[int, str] | None = None,
    seed: int = 0,
    *,
    class_attributes: Mapping[str, SoundAttributes] | None = None,
    durations: Mapping[str, float] | None = None,
    onsets: Mapping[int, Sequence[float]] | None = None,
) -> dict[int, str | None]:
    """Segment id -> sound file (relative to the library) for every audible effect; None when
    no file of its class fits (or the class has none).

    Effects that already have a file (`segment.variation`, else `fixed[segment.id]`) keep it;
    only the others are assigned (module docstring). `library` needs variations(cls),
    attributes(cls) and samples(path) (used for file lengths unless `durations` gives them in
    seconds, and for the attacks of a class with effects on visual onsets); `policy(cls)` is
    honoured when present. `class_attributes` overrides the library's modes; `onsets`
    (segment id -> absolute seconds) shortens the room a one-shot has and makes its hits
    prefer sounds that arrive at once. Record the answer in the project (record_assignment)
    so it never changes again.
    """
    fixed = fixed or {}
    ctx = _Context(library, class_variations, class_attributes, durations, onsets)
    result: dict[int, str | None] = {}
    for cls, segs in _by_class(segments).items():
        decided: dict[int, str | None] = {}
        for s in segs:
            rec = _recorded(s, fixed)
            if rec is not None:
                decided[s.id] = rec
        todo = [s for s in segs if s.id not in decided]
        if todo:
            decided.update(_assign_class(cls, segs, todo, decided, ctx, seed))
        result.update(decided)
    return result


def _assign_class(cls: str, segs: list[Segment], todo: list[Segment],
                  decided: dict[int, str | None], ctx: _Context, seed: int) -> dict[int, str | None]:
    files = ctx.files(cls)
    if not files:
        return {s.id: None for s in todo}
    index = {f: i for i, f in enumerate(files)}
    lengths = np.array([ctx.durations[f] for f in files])
    position = {s.id: i for i, s in enumerate(segs)}
    uses = np.zeros(len(files))
    for f in decided.values():
        if f in index:
            uses[index[f]] += 1
    width = min(len(files), MAX_BLOCK)
    attack: np.ndarray | None = None
    if any(ctx.hits_on_events(s, ctx.mode(s)) for s in todo):
        rise = ctx.rises(files)
        attack = ATTACK_COST * np.minimum(rise / SLOW_RISE_S, 1.0)
        quick = int((rise < FAST_RISE_S).sum())
        if quick >= 2:
            attack = attack + SLOW_PENALTY * (rise >= FAST_RISE_S)
            width = min(quick, MAX_BLOCK)
    out: dict[int, str | None] = {}
    for b in range(0, len(todo), width):
        block = todo[b : b + width]
        rows = len(block)
        copies = rows  # enough for every effect of the block to share one file if it must
        cost = np.full((rows, len(files) * copies + rows), NO_MATCH_COST)
        for r, seg in enumerate(block):
            mode = ctx.mode(seg)
            room = ctx.length(seg, mode)
            fit = _fit_costs(mode, room, lengths)
            spread = np.minimum(SPREAD_COST * (uses - uses.min()), SPREAD_MAX)
            base = fit + spread + TIE_NOISE * _noise(seed, cls, seg, len(files))
            if attack is not None and ctx.hits_on_events(seg, mode):
                base += attack
            i = position[seg.id]
            for j in (i - 1, i + 1):
                if 0 <= j < len(segs):
                    f = out.get(segs[j].id, decided.get(segs[j].id))
                    if f in index:
                        base[index[f]] += NEIGHBOUR_COST
            base[fit >= 1.0] = _INFEASIBLE
            # Column fi * copies + c: file fi as its (c+1)-th use in this block.
            cost[r, : len(files) * copies] = (base[:, None] + REUSE_COST * np.arange(copies)).reshape(-1)
        # Imported here: scipy.optimize costs about a second to import, paid only when a
        # class has effects to share files among.
        from scipy.optimize import linear_sum_assignment

        rows_idx, cols = linear_sum_assignment(cost)
        for r, col in zip(rows_idx.tolist(), cols.tolist(), strict=True):
            fi = col // copies
            if fi < len(files) and cost[r, col] < _INFEASIBLE:
                out[block[r].id] = files[fi]
                uses[fi] += 1
            else:
                out[block[r].id] = None
    return out


def record_assignment(segments: Iterable[Segment], assignment: Mapping[int, str | None]) -> list[Segment]:
    """The segments with their assigned file recorded (`variation`), ids kept; segments that
    already have one, mutes, and effects without a match are returned unchanged."""
    out = []
    for s in segments:
        f = assignment.get(s.id)
        if f and not s.variation and s.origin != "mute":
            s = s.with_(variation=f)
        out.append(s)
    return out


def inherit_variations(previous: Iterable[Segment], current: Iterable[Segment]) -> list[Segment]:
    """`current` (e.g. automatic effects recomputed after k or tau changed) with the files of
    `previous` carried over, so recomputing keeps the sounds the editor has been hearing.

    A current effect without a file takes the file of the previous effect with its id, else
    of the previous effect of its class it overlaps most. Each previous file goes to one
    current effect at most: when an effect splits in two, the second piece is left for
    assign_sounds, which gives it a file its neighbours do not play.
    """
    prev = [s for s in audible(previous) if s.variation]
    cur = list(current)
    taken: set[int] = set()
    chosen: dict[int, str] = {}
    by_id = {s.id: s for s in prev}
    for s in cur:
        p = by_id.get(s.id)
        if s.origin != "mute" and not s.variation and p is not None and p.class_name == s.class_name:
            chosen[s.id] = p.variation or ""
            taken.add(p.id)
    pairs = []
    for s in cur:
        if s.origin == "mute" or s.variation or s.id in chosen:
            continue
        for p in prev:
            if p.id in taken or p.class_name != s.class_name:
                continue
            overlap = min(s.end, p.end) - max(s.start, p.start)
            if overlap > 0:
                pairs.append((-overlap, s.start, p.start, s.id, p.id))
    pairs.sort()
    used_cur: set[int] = set()
    for _, _, _, sid, pid in pairs:
        if sid in used_cur or pid in taken:
            continue
        chosen[sid] = by_id[pid].variation or ""
        used_cur.add(sid)
        taken.add(pid)
    return [s.with_(variation=chosen[s.id]) if chosen.get(s.id) else s for s in cur]


def reroll(
    segment_id: int,
    segments: Iterable[Segment],
    library: Any,
    seed: int,
    *,
    assignment: Mapping[int, str | None] | None = None,
    class_variations: Mapping[str, Sequence[str]] | None = None,
    class_attributes: Mapping[str, SoundAttributes] | None = None,
    durations: Mapping[str, float] | None = None,
    onsets: Mapping[int, Sequence[float]] | None = None,
) -> str | None:
    """Another file for one effect (the inspector's "re-roll"): one that fits, differs from
    its current file and, when the class allows, from its neighbours' files; chosen by `seed`
    (give each click a new seed). Returns the current file when no other fits, None when the
    effect has none and nothing fits. Raises KeyError for an unknown or silent segment id.
    """
    assignment = assignment or {}
    ctx = _Context(library, class_variations, class_attributes, durations, onsets)
    segments = list(segments)
    target = next((s for s in audible(segments) if s.id == segment_id), None)
    if target is None:
        raise KeyError(f"no audible effect with id {segment_id}")
    segs = _by_class(segments).get(target.class_name, [])
    if not segs:
        return None  # `otherwise` makes no sound
    current = target.variation or assignment.get(target.id)
    i = next(k for k, s in enumerate(segs) if s.id == segment_id)
    near = {segs[j].variation or assignment.get(segs[j].id) for j in (i - 1, i + 1) if 0 <= j < len(segs)}
    mode = ctx.mode(target)
    room = ctx.length(target, mode)
    fitting = [f for f in ctx.files(target.class_name)
               if f != current and fit_cost(mode, room, ctx.durations[f]) < 1.0]
    if not fitting:
        return current
    fresh = [f for f in fitting if f not in near] or fitting
    rng = np.random.default_rng(zlib.crc32(f"{seed}:{target.class_name}:{target.start!r}".encode()))
    return fresh[int(rng.integers(len(fresh)))]
