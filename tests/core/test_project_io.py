import json
import os

import numpy as np
import pytest

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.project_io import FORMAT, VERSION, load_project, save_project
from sfxstudio.core.segments import Segment


def _project(tmp_path):
    video = tmp_path / "media" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x")
    cache = AnalysisCache(
        times=np.arange(5) / 10.0,
        probs=np.full((5, 3), 1 / 3, np.float32),
        embeddings=np.ones((5, 4), np.float16),
        class_names=["fire", "river", "otherwise"],
        frame_duration=0.1,
        duration=0.5,
        model="models/x",
    )
    return Project(
        video=str(video),
        params=AnalysisParams(k=0.5, threshold=0.4, analysis_fps=6.0, model=str(tmp_path / "m")),
        class_attributes={"fire": SoundAttributes(mode="loop", gain_db=-3.0)},
        class_variations={"fire": ["fire/a.ogg", "fire/b.ogg"]},
        segments=[Segment("fire", 0.0, 0.3, origin="auto"),
                  Segment("river", 0.3, 0.5, origin="manual", variation="river/x.ogg", gain_db=2.0),
                  Segment("fire", 0.4, 0.5, origin="mute")],
        analysis=cache,
    )


def test_round_trip_with_sidecar(tmp_path):
    p = _project(tmp_path)
    path = tmp_path / "work" / "edit.sfxproj"
    path.parent.mkdir()
    save_project(p, path)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert data["video"] == os.path.join("..", "media", "clip.mp4")  # relative to the project file
    assert data["segments"][1] == {"class": "river", "start": 0.3, "end": 0.5, "origin": "manual",
                                   "variation": "river/x.ogg", "gain_db": 2.0, "mode": None}
    back = load_project(path)
    assert back.video == p.video
    assert back.params == p.params
    assert back.class_attributes == p.class_attributes
    assert back.class_variations == p.class_variations
    assert back.segments == p.segments
    assert back.analysis is not None
    np.testing.assert_array_equal(back.analysis.probs, p.analysis.probs)
    assert back.analysis.class_names == ["fire", "river", "otherwise"]


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    p = _project(tmp_path)
    path = tmp_path / "a.sfxproj"
    save_project(p, path)
    before = path.read_bytes()
    import sfxstudio.core.project_io as pio

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pio.json, "dumps", boom)
    with pytest.raises(RuntimeError):
        save_project(p, path)
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".a.sfxproj")] == []


def test_migrates_version_1(tmp_path):
    path = tmp_path / "old.sfxproj"
    path.write_text(json.dumps({
        "format": FORMAT, "version": 1, "video": "v.mp4",
        "params": {"k": 2, "threshold": 0.3, "analysis_fps": "all"},
        "segments": [{"class": "fire", "start": 0, "end": 1, "origin": "manual"}],
    }))
    p = load_project(path)
    assert p.params.analysis_fps is None and p.params.k == 2.0
    assert p.segments[0].class_name == "fire"
    assert p.video == str(tmp_path / "v.mp4")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x00\x01garbage", "not a valid project file"),
        (b"[1, 2]", "top level must be a JSON object"),
        (json.dumps({"format": "other", "version": 1}).encode(), "format is 'other'"),
        (json.dumps({"format": FORMAT, "version": 99}).encode(), "newer than this SFX Studio"),
        (json.dumps({"format": FORMAT, "version": VERSION,
                     "segments": [{"class": "fire", "start": 2, "end": 1}]}).encode(), "segment 1"),
        (json.dumps({"format": FORMAT, "version": VERSION,
                     "class_attributes": {"fire": {"mode": "wobble"}}}).encode(), "class fire"),
        (json.dumps({"format": FORMAT, "version": VERSION, "params": {"threshold": 3}}).encode(),
         "threshold"),
    ],
)
def test_rejects_bad_files_naming_the_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "bad.sfxproj"
    path.write_bytes(content)
    with pytest.raises(BadInputError) as err:
        load_project(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(BadInputError, match=r"nope\.sfxproj: project file not found"):
        load_project(tmp_path / "nope.sfxproj")


def test_sidecar_is_not_pickle(tmp_path):
    p = _project(tmp_path)
    path = tmp_path / "a.sfxproj"
    save_project(p, path)
    [sidecar] = tmp_path.glob("a.sfxproj.*.analysis.npz")
    assert json.loads(path.read_text())["analysis"] == sidecar.name
    with np.load(sidecar, allow_pickle=False) as z:  # would raise if any array were pickled
        assert set(z.files) >= {"times", "probs", "embeddings", "class_names"}
