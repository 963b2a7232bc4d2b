"""Issue 13's project fields: layered mode settings, the class auto-pan switch and the motion
stored with the analysis: validated, round-tripped exactly, and old files load with defaults."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.project_io import (
    FORMAT,
    VERSION,
    load_analysis_file,
    load_project,
    save_analysis,
    save_project,
)
from sfxstudio.core.segments import Segment


def cache(frames: int = 40, fps: float = 4.0, motion: bool = True) -> AnalysisCache:
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(3), frames).astype(np.float32)
    mo = None
    if motion:
        mo = np.stack([rng.uniform(0, 1, frames), rng.uniform(-1, 1, frames)], axis=1).astype(np.float32)
    return AnalysisCache(times=np.arange(frames) / fps, probs=probs,
                         embeddings=np.zeros((frames, 0), np.float16),
                         class_names=["fire", "river", "otherwise"], frame_duration=1.0 / fps,
                         duration=frames / fps, model="m", motion=mo)


def test_defaults_are_single_mode_and_the_papers_semantics() -> None:
    p = AnalysisParams()
    assert (p.mode, p.smoothing, p.stickiness, p.class_thresholds) == ("single", "majority", 0.5, {})
    assert p.class_threshold("fire") == p.threshold
    assert SoundAttributes().auto_pan is True


@pytest.mark.parametrize(("changes", "words"), [
    ({"mode": "both"}, ("mode", "'both'")),
    ({"mode": None}, ("mode", "None")),
    ({"smoothing": "rnn"}, ("smoothing", "'rnn'")),
    ({"stickiness": 1.0}, ("stickiness", "at most 0.99")),
    ({"stickiness": -0.1}, ("stickiness",)),
    ({"stickiness": math.nan}, ("stickiness", "finite")),
    ({"stickiness": True}, ("stickiness", "number")),
    ({"class_thresholds": {"fire": 1.5}}, ("fire", "at most 1")),
    ({"class_thresholds": {"fire": "0.5"}}, ("fire", "number")),
    ({"class_thresholds": {"../x": 0.5}}, ("class name",)),
    ({"class_thresholds": [("fire", 0.5)]}, ("class thresholds",)),
])
def test_bad_layered_params_are_refused_naming_the_field(changes: dict, words: tuple[str, ...]) -> None:
    with pytest.raises(ValueError) as err:
        AnalysisParams(**changes)
    for w in words:
        assert w in str(err.value)


def test_class_thresholds_are_a_private_sorted_copy_and_params_stay_hashable() -> None:
    given = {"river": 0.3, "fire": np.float32(0.75)}
    p = AnalysisParams(mode="layered", class_thresholds=given)
    given["river"] = 0.9
    assert p.class_thresholds == {"fire": 0.75, "river": pytest.approx(0.3)}
    assert list(p.class_thresholds) == ["fire", "river"] and type(p.class_thresholds["fire"]) is float
    assert p.class_threshold("river") == 0.3 and p.class_threshold("cheer") == 0.5
    assert hash(p) == hash(AnalysisParams(mode="layered", class_thresholds={"river": 0.3, "fire": 0.75}))
    # single mode ignores the layered-only settings, layered mode does not
    assert AnalysisParams(stickiness=0.9).segmentation_key() == AnalysisParams().segmentation_key()
    assert p.segmentation_key() != p.with_(stickiness=0.9).segmentation_key()


def test_layered_project_round_trips_exactly(tmp_path: Path) -> None:
    params = AnalysisParams(k=0.7, threshold=0.35, mode="layered", smoothing="hmm", stickiness=0.1 + 0.2,
                            class_thresholds={"fire": 1 / 3, "river": 0.9})
    attrs = {"fire": SoundAttributes(mode="loop", auto_pan=False)}
    segs = [Segment("fire", 0.1 + 0.2, 1 / 3 + 2, origin="auto", variation="fire/a.wav"),
            Segment("river", 0.25, 7.75, origin="manual", variation="river/b.wav")]
    c = cache()
    path = tmp_path / "p.sfxproj"
    save_project(Project(params=params, class_attributes=attrs, segments=segs, analysis=c), path)
    data = json.loads(path.read_text())
    assert data["version"] == VERSION == 5
    assert data["params"]["mode"] == "layered"
    assert data["params"]["class_thresholds"] == {"fire": 1 / 3, "river": 0.9}
    back = load_project(path)
    assert back.params == params and back.params.stickiness == 0.1 + 0.2  # bit-exact
    assert back.class_attributes == attrs and back.class_attributes["fire"].auto_pan is False
    assert back.segments == segs and [s.variation for s in back.segments] == ["fire/a.wav", "river/b.wav"]
    assert back.analysis is not None and back.analysis.motion is not None
    assert np.array_equal(back.analysis.motion, c.motion) and back.analysis.motion.dtype == np.float32


def test_a_version_3_file_loads_with_single_mode_defaults(tmp_path: Path) -> None:
    path = tmp_path / "old.sfxproj"
    path.write_text(json.dumps({
        "format": FORMAT, "version": 3,
        "params": {"k": 0.5, "threshold": 0.25, "analysis_fps": None, "model": None},
        "class_attributes": {"fire": {"mode": "loop", "gain_db": -3.0, "fade_in": 0.0, "fade_out": 0.05,
                                      "crossfade": 0.0, "interval": 1.0, "jitter": 0.0, "enabled": True}},
        "segments": [{"class": "fire", "start": 0.1 + 0.2, "end": 2.0, "origin": "auto"}]}))
    p = load_project(path)
    assert p.params == AnalysisParams(k=0.5, threshold=0.25) and p.params.mode == "single"
    assert p.class_attributes["fire"].auto_pan is True
    assert p.segments[0].start == 0.1 + 0.2 and p.segments[0].variation is None


def test_a_newer_file_and_bad_layered_fields_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "p.sfxproj"
    for params, words in [({"mode": "stacked"}, "params: mode"),
                          ({"stickiness": 2}, "params: stickiness"),
                          ({"class_thresholds": {"fire": -1}}, "params: class_thresholds: fire"),
                          ({"class_thresholds": 3}, "params: class_thresholds")]:
        path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "params": params}))
        with pytest.raises(BadInputError) as err:
            load_project(path)
        assert str(path) in str(err.value) and words in str(err.value) and "\n" not in str(err.value)
    path.write_text(json.dumps({"format": FORMAT, "version": 1,
                                "class_attributes": {"fire": {"auto_pan": "no"}}}))
    with pytest.raises(BadInputError, match="auto_pan"):
        load_project(path)


def test_auto_pan_is_a_validated_boolean_in_json() -> None:
    a = SoundAttributes.from_json({"auto_pan": False})
    assert a.auto_pan is False and a.to_json()["auto_pan"] is False
    assert SoundAttributes.from_json(a.to_json()) == a
    for bad in ("false", 0, None):
        with pytest.raises(ValueError, match="auto_pan"):
            SoundAttributes(auto_pan=bad)  # type: ignore[arg-type]


def test_old_sidecars_load_without_motion_and_bad_motion_is_refused(tmp_path: Path) -> None:
    plain = cache(motion=False)
    save_analysis(plain, tmp_path / "a.npz")
    assert load_analysis_file(tmp_path / "a.npz").motion is None
    with pytest.raises(ValueError, match="motion"):
        AnalysisCache(times=plain.times, probs=plain.probs, embeddings=plain.embeddings,
                      class_names=plain.class_names, frame_duration=0.25, duration=10.0,
                      motion=np.zeros((3, 2), np.float32))
    for column, value, words in [(0, 1.5, "energy"), (1, -2.0, "centre"), (0, np.nan, "finite")]:
        c = cache()
        assert c.motion is not None
        c.motion[5, column] = value
        save_analysis(c, tmp_path / "b.npz")
        with pytest.raises(BadInputError) as err:
            load_analysis_file(tmp_path / "b.npz")
        assert "motion" in str(err.value) and words in str(err.value)
    c = cache()
    arrays = {"times": c.times, "probs": c.probs, "embeddings": c.embeddings,
              "class_names": np.array(c.class_names), "frame_duration": np.array(0.25),
              "duration": np.array(10.0), "motion": np.zeros((7, 2), np.float32)}
    np.savez(tmp_path / "c.npz", **arrays)
    with pytest.raises(BadInputError, match=r"motion must be a float array of shape \(40, 2\)"):
        load_analysis_file(tmp_path / "c.npz")
