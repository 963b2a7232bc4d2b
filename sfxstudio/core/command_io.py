"""The undo history as plain JSON, so it is kept with the project (issue 15, problem 10).

Every command of `core.commands` becomes a dict and back. A command records what it changed
the first time it ran (the editor's segments it removed and added, the parameters and class
settings and mix levels it replaced, the markers it placed); that record is what is saved, so Undo after
reopening undoes the last edit exactly, and Redo replays it.

Segments are saved with a local number instead of their id (ids are not stable across runs):
the document's current editor segments carry theirs, so after loading the numbers are mapped
to the ids of the loaded segments; segments the document no longer holds get fresh ids.

A history is only used with the document it was saved with: a checksum of the editable state
(editor segments, markers, mix levels, parameters, class settings) is compared on load, and a history that
does not match, or that breaks any check, is refused with a ValueError (the caller drops it
with a warning; it never stops a project from opening).

Commands this module does not know (a panel's own command) cannot be saved: the history keeps
only the commands after the last such command up to the current index (and the redo part up
to the next one).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sfxstudio.core import commands as c
from sfxstudio.core import validate as v
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.document import Document
from sfxstudio.core.project import AnalysisParams, Marker
from sfxstudio.core.segments import Segment, new_segment_id

HISTORY_VERSION = 1
MAX_HISTORY = 200  # commands kept with the project (the oldest are dropped)
MAX_NESTING = 8  # composites inside composites
MAX_SEGMENTS_PER_COMMAND = 1_000_000


class Unserialisable(ValueError):
    """A command this module cannot write (not one of core.commands)."""


# -- ids ----------------------------------------------------------------------------------


class _Writer:
    """Real segment id -> a small local number, in order of first use."""

    def __init__(self) -> None:
        self.local: dict[int, int] = {}

    def num(self, segment_id: int) -> int:
        return self.local.setdefault(segment_id, len(self.local) + 1)

    def seg(self, s: Segment) -> dict[str, Any]:
        return {"n": self.num(s.id), **s.to_json()}

    def segs(self, segments: Sequence[Segment]) -> list[dict[str, Any]]:
        return [self.seg(s) for s in segments]


class _Reader:
    """Local number -> id in the loaded document (fresh ids for segments it no longer holds)."""

    def __init__(self, ids: dict[int, int]) -> None:
        self.ids = dict(ids)

    def num(self, value: Any, field: str) -> int:
        n = v.integer(value, field, 1, 1 << 40)
        if n not in self.ids:
            self.ids[n] = new_segment_id()
        return self.ids[n]

    def seg(self, d: Any, field: str) -> Segment:
        d = v.obj(d, field)
        try:
            seg = Segment.from_json({k: x for k, x in d.items() if k != "n"})
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{field}: {exc}") from None
        return seg.with_(id=self.num(d.get("n"), f"{field}: n"))

    def segs(self, value: Any, field: str) -> list[Segment]:
        return [self.seg(d, f"{field} {i + 1}")
                for i, d in enumerate(v.array(value, field, MAX_SEGMENTS_PER_COMMAND))]


# -- one command --------------------------------------------------------------------------

_DIFF_TYPES: dict[str, type[c._SegmentDiff]] = {
    t.__name__: t for t in (c.AddSegment, c.DeleteSegment, c.EditSegment, c.SplitSegment,
                            c.SetSegmentProperties)}
_MARKER_TYPES = ("AddMarker", "DeleteMarker", "MoveMarker")


def _marker(m: Marker | None) -> dict[str, Any] | None:
    return None if m is None else m.to_json()


def command_to_dict(cmd: c.Command, w: _Writer | None = None) -> dict[str, Any]:
    """A done command as plain JSON; Unserialisable for a command of another module."""
    w = w or _Writer()
    kind = type(cmd).__name__
    out: dict[str, Any] = {"type": kind, "name": cmd.name}
    if isinstance(cmd, c._SegmentDiff) and kind in _DIFF_TYPES:
        if cmd._removed is None:
            raise Unserialisable(f"{kind} was never done")
        sid = getattr(cmd, "segment_id", None)
        out |= {"removed": w.segs(cmd._removed), "added": w.segs(cmd._added),
                "segment": None if sid is None else w.num(sid)}
    elif isinstance(cmd, c.SetParams):
        if cmd._old is None:
            raise Unserialisable("SetParams was never done")
        out |= {"changes": dict(cmd.changes), "old": dict(cmd._old)}
    elif isinstance(cmd, c.SetMixLevels):
        if cmd._old is None:
            raise Unserialisable("SetMixLevels was never done")
        out |= {"changes": dict(cmd.changes), "old": dict(cmd._old)}
    elif isinstance(cmd, c.SetClassAttributes):
        out |= {"class": cmd.class_name, "attributes": cmd.attributes.to_json(),
                "old": None if cmd._old is None else cmd._old.to_json()}
    elif isinstance(cmd, c.SetClassVariations):
        out |= {"class": cmd.class_name, "variations": list(cmd.variations),
                "old": None if cmd._old is None else list(cmd._old)}
    elif isinstance(cmd, c.AddMarker):
        out |= {"marker": _marker(cmd._placed)}
    elif isinstance(cmd, c.DeleteMarker):
        out |= {"marker": _marker(cmd._removed)}
    elif isinstance(cmd, c.MoveMarker):
        if cmd._moved is None:
            raise Unserialisable("MoveMarker was never done")
        out |= {"before": _marker(cmd._moved[0]), "after": _marker(cmd._moved[1])}
    elif type(cmd) is c.CompositeCommand:
        out |= {"commands": [command_to_dict(x, w) for x in cmd.commands]}
    else:
        raise Unserialisable(f"{kind} cannot be saved")
    if out.get("marker", 0) is None:
        raise Unserialisable(f"{kind} was never done")
    return out


def _params(d: Any, field: str) -> dict[str, Any]:
    """Parameter changes, checked by building AnalysisParams from them."""
    d = v.obj(d, field)
    unknown = sorted(set(d) - set(c.PARAM_NAMES))
    if unknown:
        raise ValueError(f"{field}: unknown parameter {unknown[0]!r}")
    try:
        AnalysisParams().with_(**d)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: {exc}") from None
    return dict(d)


def _levels(d: Any, field: str) -> dict[str, float]:
    """Mix level changes: known names, each a gain MixSettings accepts."""
    d = v.obj(d, field)
    unknown = sorted(set(d) - set(c.MIX_LABELS))
    if unknown or not d:
        raise ValueError(f"{field}: unknown mix level {unknown[0]!r}" if unknown else f"{field}: no level")
    return {k: v.number(x, f"{field}: {k}", -v.MAX_GAIN_DB, v.MAX_GAIN_DB) for k, x in d.items()}


def _variations(value: Any, field: str) -> list[str] | None:
    from sfxstudio.core.project_io import _inside_path

    if value is None:
        return None
    return [_inside_path(p, field) for p in v.array(value, field, 100_000)]


def command_from_dict(d: Any, r: _Reader, depth: int = 0) -> c.Command:
    """A command rebuilt as done (ready for undo); ValueError naming the field and the value."""
    d = v.obj(d, "command")
    kind = v.text(d.get("type"), "command type", max_len=64)
    name = v.text(d.get("name"), f"{kind}: name", max_len=1024)
    cmd: Any
    if kind in _DIFF_TYPES:
        cmd = _DIFF_TYPES[kind].__new__(_DIFF_TYPES[kind])
        cmd._removed = r.segs(d.get("removed"), f"{kind}: removed")
        cmd._added = r.segs(d.get("added"), f"{kind}: added")
        if d.get("segment") is not None:
            cmd.segment_id = r.num(d["segment"], f"{kind}: segment")
    elif kind == "SetParams":
        cmd = c.SetParams.__new__(c.SetParams)
        cmd.changes, cmd._old = _params(d.get("changes"), "changes"), _params(d.get("old"), "old")
        if set(cmd.changes) != set(cmd._old):
            raise ValueError("SetParams: changes and old name different parameters")
        cmd.merge = False
    elif kind == "SetMixLevels":
        changes = _levels(d.get("changes"), "changes")
        cmd = c.SetMixLevels(changes.get("original_gain_db"), changes.get("effects_gain_db"))
        cmd._old = _levels(d.get("old"), "old")
        if set(cmd.changes) != set(cmd._old):
            raise ValueError("SetMixLevels: changes and old name different levels")
    elif kind in ("SetClassAttributes", "SetClassVariations"):
        cls_name = v.safe_name(d.get("class"), f"{kind}: class")
        if kind == "SetClassAttributes":
            old = d.get("old")
            new = SoundAttributes.from_json(v.obj(d.get("attributes"), "attributes"))
            cmd = c.SetClassAttributes(cls_name, new)
            cmd._old = None if old is None else SoundAttributes.from_json(v.obj(old, "old"))
        else:
            cmd = c.SetClassVariations(cls_name, _variations(d.get("variations"), "variations") or [])
            cmd._old = _variations(d.get("old"), "old")
        cmd._done = True
    elif kind in _MARKER_TYPES:
        cmd = getattr(c, kind).__new__(getattr(c, kind))
        if kind == "MoveMarker":
            cmd._moved = (Marker.from_json(d.get("before")), Marker.from_json(d.get("after")))
        else:
            setattr(cmd, "_placed" if kind == "AddMarker" else "_removed", Marker.from_json(d.get("marker")))
    elif kind == "CompositeCommand":
        if depth >= MAX_NESTING:
            raise ValueError(f"commands nested more than {MAX_NESTING} deep")
        cmd = c.CompositeCommand(name, [command_from_dict(x, r, depth + 1)
                                        for x in v.array(d.get("commands"), "commands", MAX_HISTORY * 1000)])
    else:
        raise ValueError(f"unknown command type {kind!r}")
    cmd.name = name
    result: c.Command = cmd
    return result


# -- the history --------------------------------------------------------------------------


def document_checksum(doc: Document) -> str:
    """sha256 of what commands change: the editor's segments, markers, the mix levels, the
    parameters (the model folder aside: its path is stored relative to the project) and the
    class settings."""
    p = doc.project
    state = {
        "segments": sorted(json.dumps(s.to_json(), sort_keys=True) for s in doc.edited_segments()),
        "markers": [m.to_json() for m in p.markers],
        "mix": p.mix.to_json(),
        "params": p.params.to_json() | {"model": None},
        "attributes": {k: a.to_json() for k, a in sorted(p.class_attributes.items())},
        "variations": {k: list(x) for k, x in sorted(p.class_variations.items())},
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, allow_nan=False).encode()).hexdigest()


def _saveable_window(commands: Sequence[c.Command], index: int, limit: int) -> tuple[int, int]:
    """[lo, hi) of the commands that can be saved around `index` (see the module notes)."""
    lo = index
    while lo > 0 and index - lo < limit:
        try:
            command_to_dict(commands[lo - 1])
        except Unserialisable:
            break
        lo -= 1
    hi = index
    while hi < len(commands) and hi - lo < limit:
        try:
            command_to_dict(commands[hi])
        except Unserialisable:
            break
        hi += 1
    return lo, hi


def history_to_json(commands: Sequence[c.Command], index: int, doc: Document,
                    limit: int = MAX_HISTORY) -> dict[str, Any]:
    """The undo stack (commands[:index] done, the rest undone) as the session's "history"."""
    lo, hi = _saveable_window(commands, index, limit)
    w = _Writer()
    current = w.segs(doc.edited_segments())
    return {"version": HISTORY_VERSION, "checksum": document_checksum(doc), "index": index - lo,
            "current": current, "commands": [command_to_dict(x, w) for x in commands[lo:hi]]}


def history_from_json(data: Any, doc: Document) -> tuple[list[c.Command], int]:
    """Commands and the index to rebuild an undo stack for `doc` (the state after
    commands[:index]). ValueError when the history is broken or belongs to another state."""
    d = v.obj(data, "history")
    if d.get("version") != HISTORY_VERSION:
        raise ValueError(f"history version {d.get('version')!r} is not {HISTORY_VERSION}")
    if d.get("checksum") != document_checksum(doc):
        raise ValueError("the undo history does not match the project (it was changed elsewhere)")
    raw = v.array(d.get("commands"), "history: commands", MAX_HISTORY)
    index = v.integer(d.get("index"), "history: index", 0, len(raw))
    by_content: dict[str, list[int]] = {}
    for s in doc.edited_segments():
        by_content.setdefault(json.dumps(s.to_json(), sort_keys=True), []).append(s.id)
    ids: dict[int, int] = {}
    for i, cur in enumerate(v.array(d.get("current"), "history: current", MAX_SEGMENTS_PER_COMMAND)):
        cur = v.obj(cur, f"history: current {i + 1}")
        key = json.dumps({k: x for k, x in cur.items() if k != "n"}, sort_keys=True)
        if not by_content.get(key):
            raise ValueError("the undo history does not match the project's effects")
        ids[v.integer(cur.get("n"), "history: current: n", 1, 1 << 40)] = by_content[key].pop(0)
    reader = _Reader(ids)
    out = []
    for i, x in enumerate(raw):
        try:
            out.append(command_from_dict(x, reader))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"history: command {i + 1}: {exc}") from None
    return out, index

