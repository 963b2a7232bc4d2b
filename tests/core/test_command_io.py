"""Markers in the project (issue 15) and the undo history as plain data (core.command_io)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.commands import AddMarker, DeleteMarker, MoveMarker, apply
from sfxstudio.core.document import Document
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, Marker, Project
from sfxstudio.core.project_io import FORMAT, VERSION, load_project, save_project


def _cache(duration: float = 2.0) -> AnalysisCache:
    n = int(duration * 10)
    return AnalysisCache(times=np.arange(n) / 10.0, probs=np.full((n, 2), 0.5, np.float32),
                         embeddings=np.zeros((n, 0), np.float32), class_names=["fire", "otherwise"],
                         frame_duration=0.1, duration=duration)


def test_marker_commands_add_move_delete_and_undo_in_time_order() -> None:
    doc = Document(Project(analysis=_cache()))
    events: list[str] = []
    doc.add_listener(lambda e, _p: events.append(e))
    a = apply(doc, AddMarker(1.5, "door"))
    b = apply(doc, AddMarker(0.5))
    assert [m.time for m in doc.project.markers] == [0.5, 1.5]
    assert a.name == "Add Marker" and "markers" in events and doc.dirty
    m = apply(doc, MoveMarker(1.52, 0.2))  # within half a frame of 1.5
    assert doc.project.markers == [Marker(0.2, "door"), Marker(0.5)]
    d = apply(doc, DeleteMarker(0.5))
    assert d.name == "Delete Marker" and doc.project.markers == [Marker(0.2, "door")]
    for cmd in (d, m, b):
        cmd.undo(doc)
    assert doc.project.markers == [Marker(1.5, "door")]
    m.do(doc)  # redo replays the recorded move
    assert doc.project.markers == [Marker(0.2, "door")]


def test_marker_commands_clamp_into_the_video_and_refuse_a_missing_marker() -> None:
    doc = Document(Project(analysis=_cache(2.0)))
    apply(doc, AddMarker(5.0))
    assert doc.project.markers == [Marker(2.0)]
    with pytest.raises(ValueError, match="no marker"):
        apply(doc, DeleteMarker(1.0))
    with pytest.raises(ValueError, match="finite"):
        AddMarker(float("nan"))
    with pytest.raises(ValueError, match="control"):
        AddMarker(1.0, "a\nb")


def test_markers_are_saved_and_loaded(tmp_path: Path) -> None:
    path = tmp_path / "p.sfxproj"
    save_project(Project(markers=[Marker(1.25, "hit"), Marker(0.5)]), path)
    data = json.loads(path.read_text())
    assert data["version"] == VERSION == 5
    assert data["markers"] == [{"time": 0.5, "name": ""}, {"time": 1.25, "name": "hit"}]
    assert load_project(path).markers == [Marker(0.5), Marker(1.25, "hit")]


def test_a_version_4_file_loads_without_markers(tmp_path: Path) -> None:
    path = tmp_path / "old.sfxproj"
    path.write_text(json.dumps({"format": FORMAT, "version": 4, "segments": []}))
    project = load_project(path)
    assert project.markers == [] and project.session == {}


@pytest.mark.parametrize(("markers", "message"), [
    ([{"time": "x"}], "marker 1: time must be a number"),
    ([{"time": 1.0}, {"time": -1.0}], "marker 2: time must be at least 0"),
    ([{"time": 1.0, "name": "a\u0000"}], "marker 1: name"),
    ([{"time": 1.0, "colour": "red"}], "unknown field 'colour'"),
    ({"time": 1.0}, "markers must be a list"),
])
def test_bad_markers_are_refused_by_name(tmp_path: Path, markers: object, message: str) -> None:
    path = tmp_path / "bad.sfxproj"
    path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "markers": markers}))
    with pytest.raises(BadInputError, match=message):
        load_project(path)


def test_a_marker_after_the_end_of_the_video_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.sfxproj"
    save_project(Project(analysis=_cache(2.0), markers=[Marker(1.0)]), path)
    data = json.loads(path.read_text())
    data["markers"] = [{"time": 9.0, "name": ""}]
    path.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=r"marker 1 is at 9\.0 s, after the end"):
        load_project(path)


def test_a_broken_session_is_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "p.sfxproj"
    path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "session": [1, 2]}))
    with caplog.at_level("WARNING"):
        project = load_project(path)
    assert project.session == {}
    assert "session" in caplog.text


# -- the undo history as plain data -------------------------------------------------------

from sfxstudio.core.classes import SoundAttributes  # noqa: E402
from sfxstudio.core.command_io import (  # noqa: E402
    MAX_HISTORY,
    history_from_json,
    history_to_json,
)
from sfxstudio.core.commands import (  # noqa: E402
    AddSegment,
    Command,
    CompositeCommand,
    DeleteSegment,
    EditSegment,
    SetClassAttributes,
    SetClassVariations,
    SetMixLevels,
    SetParams,
    SetSegmentProperties,
    SplitSegment,
)
from sfxstudio.core.segments import Segment  # noqa: E402
from tests.core.test_document import make_doc  # noqa: E402


def _state(doc: Document) -> tuple[object, ...]:
    p = doc.project
    return (sorted((s.class_name, s.start, s.end, s.origin, s.variation, s.gain_db, s.mode)
                   for s in doc.edited_segments()),
            list(p.markers), p.params, dict(p.class_attributes), dict(p.class_variations),
            p.mix.to_json())


def _edits(doc: Document) -> list[Command]:
    """One of every command of core.commands, done on doc."""
    done: list[Command] = []

    def run(cmd: Command) -> None:
        cmd.do(doc)
        done.append(cmd)

    run(AddSegment(Segment("fire", 1.0, 3.0)))
    drawn = done[0]._added[0].id  # type: ignore[attr-defined]
    assert doc.find(drawn) is not None
    run(EditSegment(drawn, start=1.2, end=3.4))
    run(SplitSegment(drawn, 2.0))
    auto = next(s for s in doc.segments if s.origin == "auto")
    run(DeleteSegment(auto.id))
    run(SetSegmentProperties(drawn, gain_db=-4.0))
    run(SetParams(k=0.3, threshold=0.6))
    run(SetClassAttributes("fire", SoundAttributes(mode="loop", gain_db=-2.0)))
    run(SetClassVariations("fire", ["fire/a.wav", "fire/b.wav"]))
    run(AddMarker(4.0, "door"))
    run(MoveMarker(4.0, 5.0))
    run(SetMixLevels(effects_gain_db=-6.0))
    run(SetMixLevels(original_gain_db=-3.0, effects_gain_db=2.5))
    run(CompositeCommand("Delete 2 effects", [AddMarker(6.0), DeleteMarker(5.0)]))
    return done


def _reload(doc: Document, tmp_path: Path) -> Document:
    """The document saved with its history and loaded again, as a new Document."""
    path = tmp_path / "p.sfxproj"
    save_project(doc.project, path)
    return Document(load_project(path), segmenter=doc.segmenter)


def test_every_command_survives_save_and_load_and_undoes_exactly(tmp_path: Path) -> None:
    doc = make_doc()
    states = [_state(doc)]
    commands = _edits(doc)
    for cmd in commands:
        assert cmd.name
    history = json.loads(json.dumps(history_to_json(commands, len(commands), doc)))
    doc.project.session = {"history": history}
    loaded = _reload(doc, tmp_path)
    restored, index = history_from_json(loaded.project.session["history"], loaded)
    assert index == len(commands) == len(restored)
    assert [c.name for c in restored] == [c.name for c in commands]
    assert _state(loaded) == _state(doc)
    for original, again in zip(reversed(commands), reversed(restored), strict=True):
        original.undo(doc)
        again.undo(loaded)
        assert _state(loaded) == _state(doc), f"after undoing {again.name}"
    assert _state(loaded) == states[0]
    for original, again in zip(commands, restored, strict=True):
        original.do(doc)
        again.do(loaded)
        assert _state(loaded) == _state(doc), f"after redoing {again.name}"


def test_a_history_at_an_earlier_index_keeps_its_redo_part(tmp_path: Path) -> None:
    doc = make_doc()
    commands = _edits(doc)[:3]
    commands[2].undo(doc)
    commands[2].do(doc)
    after_redo = _state(doc)
    commands[2].undo(doc)
    doc.project.session = {"history": history_to_json(commands, 2, doc)}
    loaded = _reload(doc, tmp_path)
    restored, index = history_from_json(loaded.project.session["history"], loaded)
    assert index == 2 and len(restored) == 3
    restored[2].do(loaded)
    assert _state(loaded) == after_redo


@pytest.mark.parametrize("change", [lambda doc: AddMarker(1.0).do(doc),
                                    lambda doc: doc.set_mix_levels(original_gain_db=-1.0)],
                         ids=["marker", "mix"])
def test_a_history_of_another_state_is_refused(change: Callable[[Document], None]) -> None:
    doc = make_doc()
    commands = _edits(doc)[:2]
    history = history_to_json(commands, 2, doc)
    change(doc)  # changed after the history was taken
    with pytest.raises(ValueError, match="does not match"):
        history_from_json(history, doc)


@pytest.mark.parametrize("breakage", [
    lambda h: h["commands"][0].update(type="Explode"),
    lambda h: h["commands"][0]["added"][0].update(start=float("nan")),
    lambda h: h.update(index=99),
    lambda h: h["commands"][1].update(changes={"k": -1.0}, old={"k": 1.0}),
    lambda h: h.update(commands="x"),
    lambda h: h["commands"][1].update(type="SetMixLevels", changes={"effects_gain_db": float("nan")},
                                      old={"effects_gain_db": 0.0}),
    lambda h: h["commands"][1].update(type="SetMixLevels", changes={"volume": 1.0}, old={"volume": 0.0}),
    lambda h: h["commands"][1].update(type="SetMixLevels", changes={"effects_gain_db": 1.0},
                                      old={"original_gain_db": 0.0}),
])
def test_a_broken_history_is_refused(breakage) -> None:  # type: ignore[no-untyped-def]
    doc = make_doc()
    commands = _edits(doc)[:1]
    commands.append(SetParams(k=0.2))
    commands[-1].do(doc)
    history = json.loads(json.dumps(history_to_json(commands, 2, doc)))
    breakage(history)
    with pytest.raises(ValueError):
        history_from_json(history, doc)


class _Foreign(Command):
    name = "Panel edit"

    def do(self, doc: Document) -> None: ...
    def undo(self, doc: Document) -> None: ...


def test_the_history_is_capped_and_stops_at_a_command_it_cannot_save() -> None:
    doc = make_doc()
    commands: list[Command] = []
    for i in range(MAX_HISTORY + 20):
        commands.append(AddMarker(i * 0.01))
        commands[-1].do(doc)
        if i == 5:
            commands.append(_Foreign())
    history = history_to_json(commands, len(commands), doc)
    assert len(history["commands"]) == MAX_HISTORY and history["index"] == MAX_HISTORY
    short = history_to_json(commands[:10], 10, doc)
    assert [c["name"] for c in short["commands"]] == ["Add Marker"] * 3  # after the foreign one


# -- the mix levels as undoable edits ----------------------------------------------------------


def test_set_mix_levels_is_named_undoable_and_tells_the_listeners() -> None:
    doc = Document(Project())
    events: list[tuple[str, object]] = []
    doc.add_listener(lambda e, p: events.append((e, p)))
    cmd = apply(doc, SetMixLevels(effects_gain_db=-6.0))
    assert cmd.name == "Set Effects Level to -6.0 dB"
    assert SetMixLevels(original_gain_db=0.0).name == "Set Original Audio Level to 0.0 dB"
    assert SetMixLevels(original_gain_db=3.5, effects_gain_db=1.0).name == "Set Mix Levels"
    assert (doc.project.mix.original_gain_db, doc.project.mix.effects_gain_db) == (0.0, -6.0)
    assert ("mix", doc.project.mix) in events and ("dirty", True) in events
    cmd.undo(doc)
    assert doc.project.mix.effects_gain_db == 0.0
    assert [e for e, _p in events].count("mix") == 2
    cmd.do(doc)
    assert doc.project.mix.effects_gain_db == -6.0


def test_set_mix_levels_refuses_bad_levels_and_changes_nothing_then() -> None:
    doc = Document(Project())
    with pytest.raises(ValueError, match="finite"):
        SetMixLevels(effects_gain_db=float("nan"))
    with pytest.raises(ValueError, match="at most"):
        SetMixLevels(original_gain_db=1000.0)
    with pytest.raises(TypeError):
        SetMixLevels()
    with pytest.raises(ValueError, match="effects_gain_db"):
        doc.set_mix_levels(original_gain_db=-3.0, effects_gain_db=float("inf"))
    with pytest.raises(TypeError, match="volume"):
        doc.set_mix_levels(volume=1.0)
    assert doc.project.mix.to_json() == {"original_gain_db": 0.0, "effects_gain_db": 0.0}
    assert not doc.dirty


def test_set_mix_levels_merges_a_drag_of_one_fader_only() -> None:
    doc = Document(Project())
    first = apply(doc, SetMixLevels(effects_gain_db=-1.0, merge=True))
    second = apply(doc, SetMixLevels(effects_gain_db=-2.5, merge=True))
    assert first.merge_with(second) and first.name == "Set Effects Level to -2.5 dB"
    first.undo(doc)
    assert doc.project.mix.effects_gain_db == 0.0  # back to before the drag
    other = SetMixLevels(original_gain_db=-1.0, merge=True)
    assert not first.merge_with(other)
    assert not first.merge_with(SetMixLevels(effects_gain_db=-3.0))  # a one-shot change
    assert not first.merge_with(SetParams(k=0.2, merge=True))


def test_set_markers_sorts_and_emits() -> None:
    doc = Document(Project())
    events: list[tuple[str, object]] = []
    doc.add_listener(lambda e, p: events.append((e, p)))
    doc.set_markers([Marker(2.0), Marker(1.0, "a")])
    assert doc.project.markers == [Marker(1.0, "a"), Marker(2.0)]
    assert ("markers", [Marker(1.0, "a"), Marker(2.0)]) in events and doc.dirty
