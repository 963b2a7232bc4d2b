"""Recovery files: atomic snapshots of unsaved work, found again after a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.segments import Segment
from sfxstudio.gui.recovery import RecoveryStore, discard_entry, list_stale, read_entry


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def project_with_analysis(video: str = "/videos/clip.mp4") -> Project:
    cache = AnalysisCache(times=np.arange(5) / 10, probs=np.full((5, 2), 0.5, np.float32),
                          embeddings=np.zeros((5, 0), np.float32), class_names=["fire", "otherwise"],
                          frame_duration=0.1, duration=0.5)
    return Project(video=video, params=AnalysisParams(k=0.3), analysis=cache,
                   segments=[Segment("fire", 0.1, 0.3, origin="manual")])


def fake_crash(store: RecoveryStore) -> None:
    """Make the session look like it belonged to a process that died."""
    meta = json.loads(store.meta_file.read_text())
    meta["pid"] = dead_pid()
    store.meta_file.write_text(json.dumps(meta))


def test_write_then_recover_after_crash(tmp_path: Path) -> None:
    tmp_path = tmp_path / "recovery"
    store = RecoveryStore(tmp_path)
    project = project_with_analysis()
    store.write(project, source=tmp_path / "work.sfxproj")
    assert list_stale(tmp_path) == []  # our own live session is not offered to ourselves
    fake_crash(store)
    [entry] = list_stale(tmp_path)
    assert entry.source == str(tmp_path / "work.sfxproj")
    assert "work.sfxproj" in entry.label()
    recovered = read_entry(entry)
    assert recovered.video == "/videos/clip.mp4"
    assert recovered.params.k == 0.3
    assert [(s.class_name, s.start, s.end, s.origin) for s in recovered.segments] == [
        ("fire", 0.1, 0.3, "manual")]
    assert recovered.analysis is not None
    np.testing.assert_array_equal(recovered.analysis.times, project.analysis.times)
    discard_entry(entry)
    assert list(tmp_path.iterdir()) == []


def test_write_leaves_no_temporary_files_and_does_not_touch_the_project(tmp_path: Path) -> None:
    tmp_path = tmp_path / "recovery"
    store = RecoveryStore(tmp_path)
    project = project_with_analysis()
    store.write(project)
    store.write(project)
    assert project.analysis_file is None  # the live project's sidecar name is not changed
    names = sorted(p.name for p in tmp_path.iterdir())
    [sidecar] = [n for n in names if n.endswith(".analysis.npz")]  # content-named, one only
    assert sidecar.startswith(store.project_file.name + ".")
    assert names == sorted([store.project_file.name, store.meta_file.name, sidecar])
    assert json.loads(store.project_file.read_text())["analysis"] == sidecar


def test_sidecar_written_once_while_only_effects_change(tmp_path: Path) -> None:
    store = RecoveryStore(tmp_path)
    project = project_with_analysis()
    store.write(project)
    [sidecar] = tmp_path.glob("*.analysis.npz")
    first = sidecar.stat().st_mtime_ns
    project.segments.append(Segment("fire", 0.3, 0.4, origin="manual"))
    store.write(project)
    assert sidecar.stat().st_mtime_ns == first
    assert len(json.loads(store.project_file.read_text())["segments"]) == 2


def test_remove_and_damaged_files(tmp_path: Path) -> None:
    tmp_path = tmp_path / "recovery"
    store = RecoveryStore(tmp_path)
    store.write(Project(video="/v.mp4"))
    store.remove()
    assert list(tmp_path.iterdir()) == []
    # A damaged meta file is skipped, a damaged project is reported as a BadInputError.
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "broken.sfxproj").write_text("{}")
    assert list_stale(tmp_path) == []
    (tmp_path / "bad.json").write_text(json.dumps({"pid": dead_pid(), "saved_at": "x"}))
    (tmp_path / "bad.sfxproj").write_text("garbage")
    [entry] = list_stale(tmp_path)
    with pytest.raises(BadInputError, match=r"bad\.sfxproj"):
        read_entry(entry)
