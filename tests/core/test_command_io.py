"""Markers in the project (issue 15) and the undo history as plain data (core.command_io)."""

from __future__ import annotations

import json
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
