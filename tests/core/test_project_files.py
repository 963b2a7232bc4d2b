"""Project files and their analysis sidecars: exact round trips of every field, the project and
its analysis as one unit (failures and crashes at every step), migrations, and a corpus of bad
project and sidecar files that must each give one line naming the file, the field and the value."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib import format as npformat

from sfxstudio.core import atomic
from sfxstudio.core import project_io as pio
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError, ExportError, collect_warnings, set_strict
from sfxstudio.core.project import AnalysisCache, AnalysisParams, MixSettings, Project
from sfxstudio.core.project_io import (
    FORMAT,
    SIDECAR_SUFFIX,
    VERSION,
    load_analysis_file,
    load_project,
    save_analysis,
    save_project,
)
from sfxstudio.core.segments import Segment

REPO = Path(__file__).resolve().parents[2]


def cache(marker: str = "m", frames: int = 30, fps: float = 3.0, duration: float = 10.25,
          classes: tuple[str, ...] = ("fire", "river", "otherwise"), dims: int = 4) -> AnalysisCache:
    rng = np.random.default_rng(len(marker))
    probs = rng.dirichlet(np.ones(len(classes)), frames).astype(np.float32)
    return AnalysisCache(
        times=np.arange(frames) / fps,
        probs=probs,
        embeddings=rng.standard_normal((frames, dims)).astype(np.float32),
        class_names=list(classes),
        frame_duration=1.0 / fps,
        duration=duration,
        model=marker,
    )


def full_project(tmp_path: Path) -> Project:
    """A project where every field differs from its default, with awkward exact times."""
    return Project(
        video=str(tmp_path / "media" / "clip.mp4"),
        params=AnalysisParams(k=1 / 3, threshold=0.1 + 0.2, analysis_fps=29.97002997002997,
                              model=str(tmp_path / "models" / "m1")),
        library=str(tmp_path / "lib"),
        class_attributes={"fire": SoundAttributes(mode="retrigger", gain_db=-3.5, fade_in=0.25,
                                                  fade_out=0.75, interval=1.5, jitter=0.125),
                          "river": SoundAttributes(mode="one_shot", enabled=False)},
        class_variations={"fire": ["fire/b.ogg", "fire/a.ogg"], "river": ["river/x.wav"]},
        segments=[Segment("fire", 1 / 3, 35.333333333333336, origin="auto"),
                  Segment("river", 0.1 + 0.2, 2 / 3, origin="manual", variation="river/x.wav",
                          gain_db=-1 / 7, mode="loop"),
                  Segment("fire", 5.000000000000001, 7.1, origin="mute")],
        mix=MixSettings(original_gain_db=-7.25, effects_gain_db=3.5),
        analysis=cache("full", frames=120, fps=3.0, duration=40.0),
    )


def sidecars(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(f"*{SIDECAR_SUFFIX}"))


def one_line(err: pytest.ExceptionInfo[BaseException], path: Path, *fragments: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert msg.startswith(f"{path}: "), msg
    for f in fragments:
        assert f in msg, msg
    return msg


# -- exact round trips (mutants: mix gains swapped, duration from the wrong field, times
# rounded on save, the library or any other field not saved) ----------------------------------


def test_every_field_round_trips_exactly(tmp_path: Path) -> None:
    p = full_project(tmp_path)
    path = tmp_path / "work" / "edit.sfxproj"
    path.parent.mkdir()
    save_project(p, path)
    back = load_project(path)
    assert back.video == p.video
    assert back.library == p.library
    assert back.params == p.params and back.params.model == p.params.model
    assert back.params.k == 1 / 3 and back.params.threshold == 0.1 + 0.2
    assert back.class_attributes == p.class_attributes
    assert back.class_variations == p.class_variations
    assert list(back.class_variations["fire"]) == ["fire/b.ogg", "fire/a.ogg"]  # order kept
    assert back.mix.original_gain_db == -7.25 and back.mix.effects_gain_db == 3.5
    assert back.segments == p.segments
    for a, b in zip(back.segments, p.segments, strict=True):  # bit for bit, not approximately
        assert (a.start, a.end, a.gain_db) == (b.start, b.end, b.gain_db)
    assert back.segments[0].end == 35.333333333333336 and back.segments[0].start == 1 / 3
    assert back.analysis is not None and p.analysis is not None
    assert back.analysis.duration == 40.0 and back.analysis.frame_duration == 1 / 3.0
    assert back.analysis.model == "full"
    assert back.analysis.class_names == p.analysis.class_names
    for name in ("times", "probs", "embeddings"):
        got, want = getattr(back.analysis, name), getattr(p.analysis, name)
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_saving_twice_gives_the_same_project(tmp_path: Path) -> None:
    p = full_project(tmp_path)
    a, b = tmp_path / "a.sfxproj", tmp_path / "b.sfxproj"
    save_project(p, a)
    save_project(load_project(a), b)
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    for d in (da, db):
        d.pop("saved_at")
        d.pop("analysis")
    assert da == db


@pytest.mark.parametrize("value", [0.0, None])
def test_library_and_video_none_round_trip(tmp_path: Path, value: float | None) -> None:
    p = Project(video=None, library=None, params=AnalysisParams(k=0.0, threshold=0.0, analysis_fps=None),
                mix=MixSettings(0.0, -48.0))
    path = tmp_path / "p.sfxproj"
    save_project(p, path)
    back = load_project(path)
    assert back.video is None and back.library is None and back.analysis is None
    assert back.params == p.params and back.mix == p.mix


def test_analysis_scalars_are_read_from_their_own_fields(tmp_path: Path) -> None:
    c = cache(frames=10, fps=4.0, duration=2.75)
    save_analysis(c, tmp_path / "x.npz")
    back = load_analysis_file(tmp_path / "x.npz")
    assert (back.duration, back.frame_duration) == (2.75, 0.25)


# -- one unit: the project and its analysis ---------------------------------------------------


def pair_state(path: Path) -> tuple[float, str, float]:
    """(params.k, analysis model marker, analysis duration) of what is on disk."""
    p = load_project(path)
    assert p.analysis is not None
    return p.params.k, p.analysis.model, p.analysis.duration


def two_versions(tmp_path: Path) -> tuple[Path, Project, Project]:
    old = Project(video=str(tmp_path / "v.mp4"), params=AnalysisParams(k=1.0),
                  segments=[Segment("fire", 0.0, 9.0)], analysis=cache("old", duration=10.0))
    new = Project(video=str(tmp_path / "v.mp4"), params=AnalysisParams(k=2.0),
                  segments=[Segment("fire", 0.0, 19.0)], analysis=cache("new", duration=20.0))
    path = tmp_path / "p.sfxproj"
    save_project(old, path)
    return path, old, new


OLD, NEW = (1.0, "old", 10.0), (2.0, "new", 20.0)


def test_sidecar_is_content_named_recorded_and_the_old_one_removed(tmp_path: Path) -> None:
    path, _, new = two_versions(tmp_path)
    [first] = sidecars(tmp_path)
    assert first == pio.sidecar_name(path, pio.analysis_digest(cache("old", duration=10.0)))
    save_project(new, path)
    [second] = sidecars(tmp_path)
    assert second != first and json.loads(path.read_text())["analysis"] == second
    assert new.analysis_file == second
    assert pair_state(path) == NEW


def test_identical_analysis_is_not_rewritten(tmp_path: Path) -> None:
    path, old, _ = two_versions(tmp_path)
    [name] = sidecars(tmp_path)
    before = os.stat(tmp_path / name)
    old.segments = [Segment("fire", 1.0, 2.0)]
    save_project(old, path)
    assert sidecars(tmp_path) == [name]
    assert os.stat(tmp_path / name).st_ino == before.st_ino
    assert load_project(path).segments == [Segment("fire", 1.0, 2.0)]


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_failed_save_leaves_the_old_pair_and_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    """Step 1 renames the new sidecar, step 2 the project file: a failure at either leaves the
    complete old pair and no file of the failed save."""
    path, _, new = two_versions(tmp_path)
    before = sorted(os.listdir(tmp_path))
    project_bytes = path.read_bytes()
    real = os.replace
    calls = []

    def replace(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == fail_at:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(ExportError, match="No space left on device"):
        save_project(new, path)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == before
    assert path.read_bytes() == project_bytes
    assert pair_state(path) == OLD


def test_a_crash_at_any_moment_leaves_one_complete_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshot the folder before and after every rename and removal of a save, as a crash
    there would leave it; every snapshot must load as the old pair or the new pair."""
    path, _, new = two_versions(tmp_path)
    snapshots: list[dict[str, bytes]] = []

    def snap() -> None:
        snapshots.append({p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()})

    real_replace, real_unlink = os.replace, Path.unlink

    def replace(src: Any, dst: Any) -> None:
        snap()
        real_replace(src, dst)
        snap()

    def unlink(self: Path, missing_ok: bool = False) -> None:
        snap()
        real_unlink(self, missing_ok)
        snap()

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    save_project(new, path)
    monkeypatch.undo()
    assert len(snapshots) >= 6  # two renames and at least one removal
    seen = set()
    for i, files in enumerate(snapshots):
        folder = tmp_path / f"crash{i}"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        state = pair_state(folder / path.name)
        assert state in (OLD, NEW), (i, state)
        seen.add(state)
    assert seen == {OLD, NEW}


def test_a_failed_removal_of_the_old_sidecar_is_harmless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, new = two_versions(tmp_path)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "unlink", unlink)
    save_project(new, path)
    monkeypatch.undo()
    assert pair_state(path) == NEW
    save_project(new, path)  # the next save sweeps the leftover
    assert len(sidecars(tmp_path)) == 1


_KILL_SCRIPT = """
import sys
import numpy as np
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.project_io import save_project
from sfxstudio.core.segments import Segment
path = sys.argv[1]
n = 20000
for i in range(1, 10**6):
    c = AnalysisCache(times=np.arange(n) / 10.0, probs=np.full((n, 3), 1 / 3, np.float32),
                      embeddings=np.full((n, 256), i % 1000, np.float32), class_names=["a", "b", "otherwise"],
                      frame_duration=0.1, duration=n / 10.0, model=f"save {i}")
    save_project(Project(params=AnalysisParams(k=i / 1000.0), segments=[Segment("a", 0.0, 1.0)],
                         analysis=c), path)
    if i == 1:
        print("ready", flush=True)
"""


def test_sigkill_during_saves_leaves_a_saved_pair(tmp_path: Path) -> None:
    """A real process saving a 20 MB analysis in a loop, killed with SIGKILL at random moments."""
    path = tmp_path / "p.sfxproj"
    rng = random.Random(1234)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(path)], cwd=REPO,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        p = load_project(path)
        assert p.analysis is not None
        i = round(p.params.k * 1000)
        assert p.analysis.model == f"save {i}"  # the analysis saved with this very project
        assert float(p.analysis.embeddings[0, 0]) == i % 1000
        assert p.analysis.duration == 2000.0
    assert len(sidecars(tmp_path)) <= 3  # leftovers of killed saves are swept by later saves


# -- migrations ---------------------------------------------------------------------------


def test_a_hand_written_version_1_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.sfxproj"
    path.write_text(json.dumps({
        "format": FORMAT, "version": 1, "video": "v.mp4",
        "params": {"k": 2, "threshold": 0.3, "analysis_fps": "all"},
        "segments": [{"class": "fire", "start": 0, "end": 1.5}],
    }))
    p = load_project(path)
    assert p.params == AnalysisParams(k=2.0, threshold=0.3, analysis_fps=None)
    assert p.segments == [Segment("fire", 0.0, 1.5, origin="manual")]
    assert p.video == str(tmp_path / "v.mp4") and p.mix == MixSettings() and p.class_variations == {}


def test_a_version_1_file_finds_its_unrecorded_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "old.sfxproj"
    save_analysis(cache("v1", duration=10.0), tmp_path / ("old.sfxproj" + SIDECAR_SUFFIX))
    path.write_text(json.dumps({"format": FORMAT, "version": 1, "segments": []}))
    p = load_project(path)
    assert p.analysis is not None and p.analysis.model == "v1"


def test_a_hand_written_version_2_file_with_its_sidecar_loads_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "two.sfxproj"
    old_sidecar = tmp_path / ("two.sfxproj" + SIDECAR_SUFFIX)
    save_analysis(cache("v2", duration=10.0), old_sidecar)
    path.write_text(json.dumps({
        "format": FORMAT, "version": 2, "app_version": "0.9", "saved_at": "2024-01-01T00:00:00+00:00",
        "video": "v.mp4", "library": "lib",
        "params": {"k": 0.5, "threshold": 0.4, "analysis_fps": 6.0, "model": "models/m"},
        "class_attributes": {"fire": {"mode": "loop", "gain_db": -3.0}},
        "class_variations": {"fire": ["fire/a.ogg"]},
        "mix": {"original_gain_db": -2.0, "effects_gain_db": 1.0},
        "segments": [{"class": "fire", "start": 0.333333, "end": 9.9, "origin": "auto",
                      "variation": None, "gain_db": 0.0, "mode": None}],
        "analysis": old_sidecar.name,
    }))
    p = load_project(path)
    assert p.analysis is not None and p.analysis.model == "v2"
    assert p.library == str(tmp_path / "lib") and p.params.model == str(tmp_path / "models" / "m")
    assert p.mix == MixSettings(-2.0, 1.0) and p.segments[0].start == 0.333333
    save_project(p, path)  # the next save moves to v3 and a content-named sidecar
    data = json.loads(path.read_text())
    assert data["version"] == VERSION == 5
    assert not old_sidecar.exists() and sidecars(tmp_path) == [data["analysis"]]
    back = load_project(path)
    assert back.analysis is not None and back.analysis.model == "v2"
    assert back.segments == p.segments and back.mix == p.mix


# -- missing or misplaced sidecars, segments outside the video --------------------------------


def test_a_missing_sidecar_is_a_warning_naming_it(tmp_path: Path) -> None:
    path, _, _ = two_versions(tmp_path)
    [name] = sidecars(tmp_path)
    (tmp_path / name).unlink()
    with collect_warnings() as lines:
        p = load_project(path)
    assert p.analysis is None and p.params.k == 1.0
    assert len(lines) == 1 and lines[0].startswith(str(tmp_path / name)) and "missing" in lines[0]
    set_strict(True)
    try:
        with pytest.raises(BadInputError, match="missing"):
            load_project(path)
    finally:
        set_strict(False)


def test_segments_must_lie_within_the_video(tmp_path: Path) -> None:
    path = tmp_path / "p.sfxproj"
    c = cache(duration=10.0, fps=4.0)
    save_project(Project(segments=[Segment("fire", 9.0, 10.1)], analysis=c), path)  # within half a frame
    assert load_project(path).segments[0].end == 10.1
    save_project(Project(segments=[Segment("fire", 1.0, 2.0), Segment("fire", 9.0, 12.5)], analysis=c), path)
    with pytest.raises(BadInputError) as err:
        load_project(path)
    one_line(err, path, "segment 2 ends at 12.5 s, after the end of the video (10.0 s)")
    assert load_project(path, load_analysis=False).segments[1].end == 12.5


def test_saving_over_a_project_never_removes_files_it_does_not_own(tmp_path: Path) -> None:
    """The sidecar name in an existing file is untrusted: only this project's own sidecars go."""
    work = tmp_path / "work"
    work.mkdir()
    victim = tmp_path / "victim.analysis.npz"
    victim.write_bytes(b"precious")
    other = work / ("other.sfxproj" + SIDECAR_SUFFIX)
    other.write_bytes(b"other project's")
    path = work / "p.sfxproj"
    for name in ("../victim.analysis.npz", other.name):
        path.write_text(json.dumps({"format": FORMAT, "version": 3, "analysis": name}))
        save_project(Project(analysis=cache()), path)
    assert victim.read_bytes() == b"precious" and other.read_bytes() == b"other project's"


def test_saving_onto_a_folder_or_into_a_missing_folder_names_the_project(tmp_path: Path) -> None:
    (tmp_path / "d.sfxproj").mkdir()
    for target, fragment in ((tmp_path / "d.sfxproj", "is a folder, not a file"),
                             (tmp_path / "missing" / "p.sfxproj", "does not exist")):
        with pytest.raises(ExportError) as err:
            save_project(Project(analysis=cache()), target)
        one_line(err, target, fragment)
    assert names_in(tmp_path) == ["d.sfxproj"]


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_nan_gain_is_not_written(tmp_path: Path) -> None:
    path, _, _ = two_versions(tmp_path)
    before = sorted(os.listdir(tmp_path)), path.read_bytes()
    p = load_project(path)
    p.segments = [Segment("fire", 0.0, 1.0, gain_db=float("nan"))]
    with pytest.raises(ExportError, match="not finite"):
        save_project(p, path)
    assert (sorted(os.listdir(tmp_path)), path.read_bytes()) == before
    with pytest.raises(ValueError, match="nan"):
        MixSettings(original_gain_db=float("nan"))
    with pytest.raises(ValueError, match="effects_gain_db"):
        p.mix.effects_gain_db = float("inf")
    for bad in ({"k": float("nan")}, {"threshold": float("nan")}, {"analysis_fps": float("inf")},
                {"k": -1.0}, {"analysis_fps": 0.0}, {"k": 1e9}):
        with pytest.raises(ValueError):
            AnalysisParams(**bad)  # type: ignore[arg-type]


# -- a corpus of bad project files ------------------------------------------------------------


def proj(**fields: Any) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, **fields}


SEG = {"class": "fire", "start": 0.0, "end": 1.0, "origin": "manual"}

BAD_PROJECTS: list[tuple[str, Any, str]] = [
    ("list top level", [1, 2], "top level must be a JSON object, not list"),
    ("string top level", "x", "top level must be a JSON object"),
    ("null top level", None, "top level must be a JSON object"),
    ("no format", {"version": 3}, "format is None"),
    ("wrong format", {"format": "other", "version": 3}, "format is 'other'"),
    ("version text", proj(version="3"), "version must be a whole number, not '3'"),
    ("version float", proj(version=2.5), "version must be a whole number"),
    ("version bool", proj(version=True), "version must be a whole number"),
    ("version newer", proj(version=99), "newer than this SFX Studio"),
    ("version zero", proj(version=0), "too old to migrate"),
    ("params list", proj(params=[1]), "params must be an object, not list"),
    ("params k nan", proj(params={"k": float("nan")}), "k must be a finite number, not nan"),
    ("params k inf", proj(params={"k": float("inf")}), "k must be a finite number"),
    ("params k negative", proj(params={"k": -1}), "k must be at least 0"),
    ("params k huge", proj(params={"k": 1e12}), "k must be at most"),
    ("params k text", proj(params={"k": "2"}), "k must be a number, not '2'"),
    ("params k bool", proj(params={"k": True}), "k must be a number, not True"),
    ("params threshold 3", proj(params={"threshold": 3}), "threshold must be at most 1"),
    ("params threshold -0.1", proj(params={"threshold": -0.1}), "threshold must be at least 0"),
    ("params threshold nan", proj(params={"threshold": float("nan")}), "threshold must be a finite number"),
    ("params fps zero", proj(params={"analysis_fps": 0}), "analysis_fps must be more than 0"),
    ("params fps negative", proj(params={"analysis_fps": -5}), "analysis_fps"),
    ("params fps huge", proj(params={"analysis_fps": 1e9}), "analysis_fps must be at most"),
    ("params fps text", proj(params={"analysis_fps": "fast"}), "analysis_fps must be a number, not 'fast'"),
    ("params model number", proj(params={"model": 3}), "model must be text, not 3"),
    ("params unknown", proj(params={"treshold": 0.5}), "unknown field 'treshold'"),
    ("mix list", proj(mix=[0, 0]), "mix must be an object, not list"),
    ("mix nan", proj(mix={"original_gain_db": float("nan")}), "original_gain_db must be a finite number"),
    ("mix huge", proj(mix={"effects_gain_db": 1000}), "effects_gain_db must be at most 48"),
    ("mix -inf", proj(mix={"effects_gain_db": float("-inf")}), "effects_gain_db must be a finite"),
    ("mix text", proj(mix={"original_gain_db": "loud"}), "original_gain_db must be a number"),
    ("mix unknown", proj(mix={"master": 1}), "unknown field 'master'"),
    ("video number", proj(video=5), "video must be text, not 5"),
    ("video list", proj(video=["a"]), "video must be text"),
    ("library number", proj(library=1.5), "library must be text, not 1.5"),
    ("library nul", proj(library="a\x00b"), "library is not usable text"),
    ("segments object", proj(segments={"0": SEG}), "segments must be a list, not dict"),
    ("segment list", proj(segments=[[0, 1]]), "segment 1"),
    ("segment missing end", proj(segments=[{"class": "fire", "start": 0}]), "segment 1"),
    ("segment reversed", proj(segments=[SEG, {**SEG, "start": 2, "end": 1}]), "segment 2"),
    ("segment nan start", proj(segments=[{**SEG, "start": float("nan")}]), "segment 1"),
    ("segment huge end", proj(segments=[{**SEG, "end": 1e300}]), "segment 1"),
    ("segment bad origin", proj(segments=[{**SEG, "origin": "robot"}]), "segment 1"),
    ("segment bad mode", proj(segments=[{**SEG, "mode": "wobble"}]), "segment 1"),
    ("segment nan gain", proj(segments=[{**SEG, "gain_db": float("nan")}]), "segment 1"),
    ("segment class path", proj(segments=[{**SEG, "class": "../x"}]), "segment 1"),
    ("segment variation escape", proj(segments=[{**SEG, "variation": "../../etc/passwd"}]), "segment 1"),
    ("attributes list", proj(class_attributes=[]), "class_attributes must be an object, not list"),
    ("attribute list", proj(class_attributes={"fire": [1]}), "class fire"),
    ("attribute mode", proj(class_attributes={"fire": {"mode": "wobble"}}), "class fire"),
    ("attribute interval", proj(class_attributes={"fire": {"interval": 1e-7}}), "class fire"),
    ("attribute gain nan", proj(class_attributes={"fire": {"gain_db": float("nan")}}), "class fire"),
    ("attribute class path", proj(class_attributes={"a/b": {}}), "class name 'a/b' is not a usable name"),
    ("variations list", proj(class_variations=[]), "class_variations must be an object, not list"),
    ("variations not list", proj(class_variations={"fire": "a.ogg"}),
     "class_variations: fire must be a list"),
    ("variation number", proj(class_variations={"fire": [1]}), "class_variations: fire must be text, not 1"),
    ("variation dotdot", proj(class_variations={"fire": ["../secret.wav"]}), "must not contain '..'"),
    ("variation deep dotdot", proj(class_variations={"fire": ["a/../../b.wav"]}), "must not contain '..'"),
    ("variation absolute", proj(class_variations={"fire": ["/etc/passwd"]}), "must be a path inside"),
    ("variation windows abs", proj(class_variations={"fire": ["C:\\x.wav"]}), "must be a path inside"),
    ("variation backslash up", proj(class_variations={"fire": ["..\\x.wav"]}), "must not contain '..'"),
    ("variation empty", proj(class_variations={"fire": [""]}), "must be a path inside"),
    ("variation class path", proj(class_variations={"..": []}), "class name '..' is not a usable name"),
    ("analysis path escape", proj(analysis="../other.analysis.npz"), "analysis '../other.analysis.npz'"),
    ("analysis absolute", proj(analysis="/etc/passwd"), "analysis '/etc/passwd'"),
    ("analysis hidden", proj(analysis=".x.npz"), "analysis '.x.npz'"),
    ("analysis number", proj(analysis=7), "analysis must be text, not 7"),
]


@pytest.mark.parametrize(("case", "content", "fragment"), BAD_PROJECTS, ids=[c[0] for c in BAD_PROJECTS])
def test_bad_project_files_give_one_line_naming_file_field_and_value(
    tmp_path: Path, case: str, content: Any, fragment: str
) -> None:
    path = tmp_path / "bad.sfxproj"
    path.write_text(json.dumps(content))  # NaN/Infinity written as JSON's common extension
    with pytest.raises(BadInputError) as err:
        load_project(path)
    one_line(err, path, fragment)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "broken JSON"),
        (b"\x00\x01garbage", "not a valid project file"),
        (b"\xff\xfe{}", "not a valid project file"),
        (b"{" * 100_000, "not a valid project file"),
        (b"[" * 100_000 + b"]" * 100_000, "not a valid project file"),
        (b'{"format": "sfxstudio-project", "version": 3', "broken JSON"),
    ],
    ids=["empty", "binary", "bom-latin1", "unclosed-deep", "nested-deep", "truncated"],
)
def test_broken_project_bytes(tmp_path: Path, raw: bytes, fragment: str) -> None:
    path = tmp_path / "bad.sfxproj"
    path.write_bytes(raw)
    with pytest.raises(BadInputError) as err:
        load_project(path)
    one_line(err, path, fragment)


def test_a_folder_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "d.sfxproj").mkdir()
    with pytest.raises(BadInputError) as err:
        load_project(tmp_path / "d.sfxproj")
    one_line(err, tmp_path / "d.sfxproj", "folder")


# -- a corpus of bad sidecars -----------------------------------------------------------------


def good_arrays(**changes: Any) -> dict[str, Any]:
    arrays: dict[str, Any] = {
        "times": np.arange(5) / 10.0,
        "probs": np.full((5, 3), 1 / 3, np.float32),
        "embeddings": np.ones((5, 2), np.float32),
        "class_names": np.array(["fire", "river", "otherwise"]),
        "frame_duration": np.float64(0.1),
        "duration": np.float64(0.5),
        "model": np.array("m"),
    }
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def huge_header_npz(path: Path, shape: tuple[int, ...]) -> None:
    """An .npz whose times.npy header claims `shape` but holds a few bytes."""
    head = io.BytesIO()
    npformat.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": shape})
    good = io.BytesIO()
    np.savez(good, **good_arrays())
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = head.getvalue() + b"\0" * 16 if info.filename == "times.npy" else src.read(info)
            dst.writestr(info.filename, data)


def sv(**changes: Any) -> Callable[[Path], None]:
    """Writes the good sidecar with `changes` (None drops a member)."""
    return lambda p: np.savez(p, **good_arrays(**changes))


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


BAD_SIDECARS: list[tuple[str, Callable[[Path], None], str]] = [
    ("not a zip", lambda p: p.write_bytes(b"hello"), "not an .npz archive"),
    ("empty file", lambda p: p.write_bytes(b""), "not an .npz archive"),
    ("a bare npy", lambda p: p.write_bytes(npy_bytes(np.arange(3))), "not an .npz archive"),
    ("missing times", sv(times=None), "no 'times' array"),
    ("missing duration", sv(duration=None), "no 'duration' array"),
    ("extra member", sv(extra=np.zeros(3)), "unexpected member 'extra.npy'"),
    ("object class names", sv(class_names=np.array(["a", 1, None], dtype=object)),
     "class_names holds Python objects"),
    ("huge header", lambda p: huge_header_npz(p, (10**12,)), "does not fit"),
    ("huge 2-d header", lambda p: huge_header_npz(p, (10**6, 10**6)), "does not fit"),
    ("times 2-d", sv(times=np.zeros((5, 1))), "times must be a 1-D float array"),
    ("times text", sv(times=np.array(["a"] * 5)), "times must be a 1-D float"),
    ("times nan", sv(times=np.array([0, 0.1, np.nan, 0.3, 0.4])),
     "times must be finite"),
    ("times decreasing", sv(times=np.array([0, 0.2, 0.1, 0.3, 0.4])),
     "times must be non-decreasing"),
    ("times negative", sv(times=np.array([-1, 0.1, 0.2, 0.3, 0.4])),
     "times must be non-decreasing within"),
    ("times past the end", sv(times=np.array([0, 0.1, 0.2, 0.3, 9.0])),
     "times must be non-decreasing within"),
    ("probs wrong rows", sv(probs=np.zeros((4, 3), np.float32)),
     "probs must be a float array of shape (5, 3)"),
    ("probs wrong columns", sv(probs=np.zeros((5, 2), np.float32)),
     "probs must be a float array of shape (5, 3)"),
    ("probs nan", sv(probs=np.full((5, 3), np.nan, np.float32)),
     "probs must be finite"),
    ("probs above one", sv(probs=np.full((5, 3), 7.0, np.float32)),
     "probs must lie between 0 and 1"),
    ("probs negative", sv(probs=np.full((5, 3), -0.5, np.float32)),
     "probs must lie between 0 and 1"),
    ("probs ints", sv(probs=np.zeros((5, 3), np.int64)), "probs must be a float"),
    ("embeddings rows", sv(embeddings=np.zeros((3, 2), np.float32)),
     "embeddings must be a float array of 5 rows"),
    ("embeddings 1-d", sv(embeddings=np.zeros(5, np.float32)),
     "embeddings must be a float array"),
    ("embeddings inf", sv(embeddings=np.full((5, 2), np.inf, np.float32)),
     "embeddings must be finite"),
    ("class names numbers", sv(class_names=np.arange(3)),
     "class_names must be a list of 1 to"),
    ("class names duplicate", sv(class_names=np.array(["a", "a", "b"])),
     "class_names lists 'a' twice"),
    ("class name empty", sv(class_names=np.array(["", "a", "b"])),
     "class_names entry 1 '' is not a usable class name"),
    ("no classes", lambda p: np.savez(p, **good_arrays(class_names=np.array([], dtype=str),
                                                       probs=np.zeros((5, 0), np.float32))), "class_names"),
    ("frame duration zero", sv(frame_duration=np.float64(0)),
     "frame_duration must be a finite number in (0, 60] s, not 0.0"),
    ("frame duration nan", sv(frame_duration=np.float64(np.nan)),
     "frame_duration must be a finite number"),
    ("frame duration huge", sv(frame_duration=np.float64(1e9)),
     "frame_duration must be a finite number"),
    ("frame duration array", sv(frame_duration=np.zeros(2)),
     "frame_duration must be a single number"),
    ("duration zero", sv(duration=np.float64(0)),
     "duration must be a finite number in (0, 172800] s, not 0.0"),
    ("duration 49 h", sv(duration=np.float64(49 * 3600)),
     "duration must be a finite number in (0, 172800] s"),
    ("duration inf", sv(duration=np.float64(np.inf)), "duration must be a finite"),
    ("duration text", sv(duration=np.array("long")),
     "duration must be a single number"),
    ("model number", sv(model=np.float64(3)), "model must be a single text"),
]


@pytest.mark.parametrize(("case", "make", "fragment"), BAD_SIDECARS, ids=[c[0] for c in BAD_SIDECARS])
def test_bad_sidecars_give_one_line_naming_the_sidecar_and_field(
    tmp_path: Path, case: str, make: Callable[[Path], None], fragment: str
) -> None:
    sidecar = tmp_path / ("p.sfxproj" + SIDECAR_SUFFIX)
    make(sidecar)
    if not sidecar.exists():  # np.savez adds .npz only to names without it; ours has it
        pytest.fail("the corpus case wrote nothing")
    with pytest.raises(BadInputError) as err:
        load_analysis_file(sidecar)
    one_line(err, sidecar, fragment)
    # Through the project too: the project loads only with its analysis.
    path = tmp_path / "p.sfxproj"
    path.write_text(json.dumps(proj(analysis=sidecar.name)))
    with pytest.raises(BadInputError) as err:
        load_project(path)
    one_line(err, sidecar, fragment)


def test_the_good_sidecar_of_the_corpus_loads(tmp_path: Path) -> None:
    sidecar = tmp_path / "ok.npz"
    np.savez(sidecar, **good_arrays())
    c = load_analysis_file(sidecar)
    assert c.frames == 5 and c.duration == 0.5 and c.class_names == ["fire", "river", "otherwise"]
    np.savez(sidecar, **good_arrays(model=None))  # older sidecars may lack the model name
    assert load_analysis_file(sidecar).model == ""


def test_a_v2_file_with_a_split_sliver_still_opens(tmp_path: Path) -> None:
    """v2 rounded times to the microsecond: a split on a frame edge saved a zero-length effect.
    Such a file opens, the sliver is dropped with a warning naming the file, the rest is kept."""
    from sfxstudio.core.errors import collect_warnings

    p = tmp_path / "old.sfxproj"
    p.write_text(json.dumps({"format": "sfxstudio-project", "version": 2, "segments": [
        {"class": "lightning", "start": 35.333333, "end": 35.333333, "origin": "manual"},
        {"class": "lightning", "start": 35.333333, "end": 36.5, "origin": "manual"}]}))
    with collect_warnings() as lines:
        project = load_project(p)
    assert [(s.class_name, s.start, s.end) for s in project.segments] == [("lightning", 35.333333, 36.5)]
    assert len(lines) == 1 and "old.sfxproj" in lines[0] and "1 effect" in lines[0]
    # A current file with a zero-length effect is damaged, not old: refused, naming the segment.
    data = json.loads(p.read_text())
    data["version"] = 3
    p.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match="segment 1"):
        load_project(p)


def test_effects_of_an_unknown_class_are_a_warning_when_the_project_opens(tmp_path: Path) -> None:
    """Every opener (command line and window) hears of them, naming the project."""
    from sfxstudio.core.errors import collect_warnings

    p = tmp_path / "p.sfxproj"
    p.write_text(json.dumps({"format": "sfxstudio-project", "version": 3, "segments": [
        {"class": "unicorn", "start": 1.0, "end": 2.0, "origin": "manual"},
        {"class": "fire", "start": 1.0, "end": 2.0, "origin": "manual"}]}))
    with collect_warnings() as lines:
        load_project(p)
    assert len(lines) == 1 and "p.sfxproj" in lines[0] and "'unicorn'" in lines[0]
