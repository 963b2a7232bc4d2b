"""Issue 13 wired end to end in the Qt-free layers: layered mode through the Document (one undo
step per change), motion from the analysis's own decode pass, hits on the action and auto pan
in the render, and sounds recorded per effect that no other edit changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sfxstudio import pipeline
from sfxstudio.analysis import LayeredCache, layered_segments, motion_features
from sfxstudio.core.classes import OTHERWISE, SoundAttributes
from sfxstudio.core.commands import AddSegment, DeleteSegment, EditSegment, SetParams, SplitSegment, apply
from sfxstudio.core.document import Document
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.segments import Segment, audible
from sfxstudio.media.pan import pan_gains
from sfxstudio.media.render import SAMPLE_RATE

CLASSES = ["fire", "river", "door_opening", OTHERWISE]
FPS = 10.0


class MemoryLibrary:
    """A sound library in memory: files per class, attributes per class."""

    root = None

    def __init__(self, files: dict[str, np.ndarray], attributes: dict[str, SoundAttributes] | None = None):
        self.files = files
        self.attrs = attributes or {}
        self.loads = 0

    def class_names(self) -> list[str]:
        return sorted({f.split("/")[0] for f in self.files} | set(self.attrs))

    def attributes(self, cls: str) -> SoundAttributes:
        return self.attrs.get(cls, SoundAttributes())

    def variations(self, cls: str) -> list[str]:
        return sorted(f for f in self.files if f.startswith(cls + "/"))

    def policy(self, cls: str) -> str:
        return "sequential"

    def samples(self, path: str) -> np.ndarray:
        self.loads += 1
        return self.files[path]

    def pick_variation(self, cls: str, index: int) -> str | None:
        v = self.variations(cls)
        return v[index % len(v)] if v else None


def burst(seconds: float, level: float = 0.5) -> np.ndarray:
    return np.full((round(seconds * SAMPLE_RATE), 2), level, np.float32)


def library(files_per_class: int = 3) -> MemoryLibrary:
    files = {f"{c}/{k}.wav": burst(0.2 + 0.05 * k) for c in CLASSES[:-1] for k in range(files_per_class)}
    return MemoryLibrary(files, {"fire": SoundAttributes(mode="loop"), "river": SoundAttributes(mode="loop"),
                                 "door_opening": SoundAttributes(mode="one_shot", fade_out=0.0)})


def overlapping_cache(seconds: float = 30.0, seed: int = 0,
                      motion: np.ndarray | None = None) -> AnalysisCache:
    """fire on 2-12 s and river on 8-20 s (both above 0.5 where they overlap, neither the
    argmax everywhere), door_opening in short bursts, noise elsewhere."""
    n = round(seconds * FPS)
    t = np.arange(n) / FPS
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 0.08, (n, len(CLASSES))).astype(np.float32)
    p[(t >= 2) & (t < 12), 0] = 0.6
    p[(t >= 8) & (t < 20), 1] = 0.55
    for a in (22.0, 25.0):
        p[(t >= a) & (t < a + 1.5), 2] = 0.9
    p[:, 3] = np.clip(1.0 - p[:, :3].sum(axis=1), 0.0, 1.0)
    return AnalysisCache(times=t, probs=p, embeddings=np.zeros((n, 0), np.float16), class_names=list(CLASSES),
                         frame_duration=1.0 / FPS, duration=seconds, model="synthetic", motion=motion)


def ranges(segments: list[Segment]) -> list[tuple[str, float, float]]:
    return [(s.class_name, round(s.start, 3), round(s.end, 3)) for s in segments if s.origin != "mute"]


# -- layered mode -------------------------------------------------------------------------------


def test_compute_auto_segments_layered_is_layered_segments_with_the_projects_settings() -> None:
    cache = overlapping_cache()
    params = AnalysisParams(mode="layered", smoothing="hmm", stickiness=0.3, threshold=0.5,
                            class_thresholds={"river": 0.6, "cheer": 0.1})  # cheer: not in this analysis
    got = pipeline.compute_auto_segments(cache, params)
    assert isinstance(cache.derived["layered"], LayeredCache)
    want = layered_segments(cache.probs, cache.times, 0.1, CLASSES, 3, 1.0, 0.5, 30.0,
                            class_tau={"river": 0.6}, smoothing="hmm", stickiness=0.3)
    assert ranges(got) == ranges(want)
    assert "river" not in {s.class_name for s in got}  # its own threshold (0.6) is above its 0.55
    single = pipeline.compute_auto_segments(cache, AnalysisParams())
    layered = pipeline.compute_auto_segments(cache, AnalysisParams(mode="layered"))
    overlaps = [(a.class_name, b.class_name) for a in layered for b in layered
                if a.class_name < b.class_name and a.overlaps(b.start, b.end)]
    assert overlaps == [("fire", "river")]
    assert not any(a.overlaps(b.start, b.end) for a in single for b in single if a is not b)


def test_layered_recompute_through_the_document_one_undo_step_per_change() -> None:
    doc = pipeline.make_document(Project(), library=library())
    doc.set_analysis(overlapping_cache())
    single = ranges(doc.segments)
    history = []
    for change in ({"mode": "layered"}, {"smoothing": "hmm"}, {"stickiness": 0.9},
                   {"class_thresholds": {"fire": 0.7}}):
        history.append((ranges(doc.segments), doc.params))
        cmd = apply(doc, SetParams(**change))
        assert cmd.name.startswith("Set ")
    assert ranges(doc.segments) == [(c, a, b) for c, a, b in ranges(doc.segments) if c != "fire"]  # fire off
    assert doc.params.class_thresholds == {"fire": 0.7}
    layered_fire = history[1][0]
    assert ("fire", 2.0, 12.0) in layered_fire and ("river", 8.0, 20.0) in layered_fire
    # undo, one step each, back to each earlier state; single mode exactly as before
    for before, params in reversed(history):
        keys = ("mode", "smoothing", "stickiness", "class_thresholds")
        cmd = SetParams(**{k: getattr(params, k) for k in keys})
        apply(doc, cmd)
        assert ranges(doc.segments) == before and doc.params == params
    assert ranges(doc.segments) == single


def test_layered_only_settings_recompute_nothing_in_single_mode() -> None:
    doc = pipeline.make_document(Project(), library=library())
    doc.set_analysis(overlapping_cache())
    seen: list[str] = []
    doc.add_listener(lambda event, payload: seen.append(event))
    before = list(doc.segments)
    doc.set_params(smoothing="hmm", stickiness=0.2)
    assert "segments" not in seen and doc.segments == before
    assert all(a is b for a, b in zip(doc.segments, before, strict=True))


def test_set_params_undo_restores_the_same_effects_and_their_files() -> None:
    doc = pipeline.make_document(Project(), library=library())
    doc.set_analysis(overlapping_cache())
    before = {(s.class_name, s.start, s.end): s.variation for s in doc.segments}
    cmd = apply(doc, SetParams(mode="layered"))
    cmd.undo(doc)
    assert {(s.class_name, s.start, s.end): s.variation for s in doc.segments} == before
    assert all(before.values())


# -- motion from the analysis's own decode pass ----------------------------------------------


def test_analyze_stores_and_streams_motion_of_the_frames_the_model_saw(make_video, color_bundle) -> None:
    from sfxstudio.media.video import iter_frames

    colors = [(20, 200, 30)] * 10 + [(230, 20, 20)] * 10 + [(20, 30, 220)] * 10
    video = make_video(colors=colors, fps=10)
    steps = list(pipeline.analyze(video, color_bundle, AnalysisParams(),
                                  options=pipeline.AnalyzeOptions(batch_size=4)))
    cache = steps[-1].result
    assert cache.motion is not None and cache.motion.shape == (30, 2) and cache.motion.dtype == np.float32
    chunks = [p.partial for p in steps if isinstance(p.partial, pipeline.AnalysisChunk)]
    streamed = np.concatenate([c.motion for c in chunks])
    assert np.array_equal(streamed, cache.motion)
    frames = np.stack([f for _, f in iter_frames(video, size=color_bundle.input_size)])
    energy, centre = motion_features(frames)
    assert np.allclose(cache.motion[:, 0], energy, atol=1e-6)
    assert np.allclose(cache.motion[:, 1], centre, atol=1e-6)
    assert np.flatnonzero(cache.motion[:, 0] > 0.1).tolist() == [10, 20]  # the two cuts


def test_motion_is_saved_with_the_project(tmp_path) -> None:
    from sfxstudio.core.project_io import load_project, save_project

    motion = np.zeros((300, 2), np.float32)
    motion[100, :] = (0.4, -0.5)
    project = Project(analysis=overlapping_cache(motion=motion))
    pipeline.resegment(project)
    save_project(project, tmp_path / "m.sfxproj")
    back = load_project(tmp_path / "m.sfxproj")
    assert back.analysis is not None and np.array_equal(back.analysis.motion, motion)


# -- hits on the action, auto pan --------------------------------------------------------------


def one_shot_project(motion: np.ndarray, auto_pan: bool = True) -> Project:
    cache = overlapping_cache(motion=motion)
    seg = Segment("door_opening", 10.0, 14.0, origin="manual", variation="door_opening/0.wav")
    attrs = {"door_opening": SoundAttributes(mode="one_shot", fade_out=0.0, auto_pan=auto_pan)}
    return Project(analysis=cache, segments=[seg], class_attributes=attrs)


def test_a_one_shot_hits_on_the_motion_spike_inside_its_effect() -> None:
    motion = np.zeros((300, 2), np.float32)
    motion[123, 0] = 0.3  # something happens at 12.3 s, inside the effect 10-14 s
    project = one_shot_project(motion)
    mix = pipeline.render_project(project, library(), duration=30.0)
    loud = np.flatnonzero(np.abs(mix).max(axis=1) > 1e-4)
    assert 0 <= loud[0] - round(12.3 * SAMPLE_RATE) < 48  # within 1 ms (a click-free ramp), not at 10 s
    assert loud[-1] < round((12.3 + 0.2) * SAMPLE_RATE)
    # without motion, the class score decides; a flat score: the effect start
    project.analysis.motion = None
    mix = pipeline.render_project(project, library(), duration=30.0)
    assert 0 <= np.flatnonzero(np.abs(mix).max(axis=1) > 1e-4)[0] - round(10.0 * SAMPLE_RATE) < 48


def test_the_stems_play_what_the_mix_plays() -> None:
    from sfxstudio.media.render import render_stems

    motion = np.zeros((300, 2), np.float32)
    motion[123] = (0.3, 0.6)
    project = one_shot_project(motion)
    lib = library()
    stems = render_stems(pipeline.project_placements(project, lib), 30.0)
    mix = pipeline.render_project(project, lib, duration=30.0)
    assert np.allclose(stems["door_opening"], mix, atol=1e-6)


@pytest.mark.parametrize("auto_pan", [True, False])
def test_pan_follows_the_motion_centre_on_the_left(auto_pan: bool) -> None:
    motion = np.zeros((300, 2), np.float32)
    motion[100:140, 0] = 0.2
    motion[100:140, 1] = -0.8  # the action is on the left
    mix = pipeline.render_project(one_shot_project(motion, auto_pan=auto_pan), library(), duration=30.0)
    loud = np.abs(mix).max(axis=1) > 1e-4
    left, right = np.abs(mix[loud]).mean(axis=0)
    if auto_pan:
        want_l, want_r = pan_gains(-0.8)
        assert left > 3 * right and math.isclose(left / right, want_l / want_r, rel_tol=1e-3)
    else:
        assert left == right


def test_pans_are_constant_by_default_or_follow_the_motion() -> None:
    motion = np.zeros((300, 2), np.float32)
    motion[100:140, 0] = 0.2
    motion[100:120, 1] = -0.8
    motion[120:140, 1] = 0.8
    project = one_shot_project(motion)
    attrs = pipeline.class_attributes(project, library())
    [seg] = project.segments
    const = pipeline.effect_pans(project, project.segments, attrs)[seg.id]
    assert const == pytest.approx(0.0, abs=1e-6)
    times, values = pipeline.effect_pans(project, project.segments, attrs, follow=True)[seg.id]
    assert values[0] < -0.7 and values[-1] > 0.7 and times[0] == 10.0


# -- each effect records its sound, and keeps it -------------------------------------------------


def files(doc: Document) -> dict[int, str | None]:
    return {s.id: s.variation for s in audible(doc.segments)}


def test_every_effect_records_a_file_and_neighbours_of_a_class_differ() -> None:
    doc = pipeline.make_document(Project(params=AnalysisParams(mode="layered")), library=library())
    doc.set_analysis(overlapping_cache())
    assert all(files(doc).values())
    doors = [s for s in doc.segments if s.class_name == "door_opening"]
    assert len(doors) == 2 and doors[0].variation != doors[1].variation


def test_adding_moving_or_deleting_one_effect_changes_no_other_effects_sound() -> None:
    lib = library()
    doc = pipeline.make_document(Project(params=AnalysisParams(mode="layered")), library=lib)
    doc.set_analysis(overlapping_cache(seconds=30.0))
    before = files(doc)
    door = next(s for s in doc.segments if s.class_name == "door_opening")

    add = apply(doc, AddSegment(Segment("door_opening", 27.5, 28.5)))
    new = next(s for s in doc.segments if s.start == 27.5)
    assert new.variation and {k: v for k, v in files(doc).items() if k != new.id} == before
    neighbour = next(s for s in doc.segments if s.class_name == "door_opening" and s.start == 25.0)
    assert new.variation != neighbour.variation

    move = apply(doc, EditSegment(door.id, start=door.start - 1.0, end=door.end - 1.0))
    after_move = files(doc)
    assert after_move[door.id] == before[door.id]  # the moved effect keeps its sound
    assert {k: v for k, v in after_move.items() if k not in (new.id, door.id)} == \
        {k: v for k, v in before.items() if k != door.id}

    delete = apply(doc, DeleteSegment(new.id))
    assert {k: v for k, v in files(doc).items()} == {k: v for k, v in after_move.items() if k != new.id}

    # undo and redo replay the very same files
    for cmd in (delete, move, add):
        cmd.undo(doc)
    assert files(doc) == before
    for cmd in (add, move):
        cmd.do(doc)
    assert files(doc) == after_move


def test_many_single_edits_never_change_another_effects_sound() -> None:
    rng = np.random.default_rng(5)
    doc = pipeline.make_document(Project(params=AnalysisParams(mode="layered")), library=library(4))
    doc.set_analysis(overlapping_cache(seconds=30.0))
    for _ in range(25):
        before = files(doc)
        doors = [s for s in doc.segments if s.class_name == "door_opening" and s.origin != "mute"]
        pick = rng.integers(3)
        if pick == 0 or len(doors) < 2:
            start = float(rng.integers(0, 280)) / FPS
            cmd = AddSegment(Segment("door_opening", start, start + 0.5))
        elif pick == 1:
            d = doors[int(rng.integers(len(doors)))]
            start = max(0.0, d.start + float(rng.integers(-10, 10)) / FPS)
            cmd = EditSegment(d.id, start=start, end=start + d.duration)
        else:
            cmd = DeleteSegment(doors[int(rng.integers(len(doors)))].id)
        apply(doc, cmd)
        after = files(doc)
        assert all(after[k] == f for k, f in before.items() if k in after), cmd.name
        assert all(after.values())


def test_recomputes_keep_the_files_of_effects_that_survive_and_split_halves_differ() -> None:
    doc = pipeline.make_document(Project(params=AnalysisParams(mode="layered")), library=library())
    doc.set_analysis(overlapping_cache())
    by_range = {(s.class_name, s.start, s.end): s.variation for s in doc.segments}
    doc.set_params(stickiness=0.1)
    doc.set_params(smoothing="hmm")  # effects move a little: they inherit the file they replace
    for s in audible(doc.segments):
        same = [f for (c, a, b), f in by_range.items() if c == s.class_name and a < s.end and s.start < b]
        assert s.variation == same[0]
    fire = next(s for s in doc.segments if s.class_name == "fire")
    apply(doc, SplitSegment(fire.id, 6.0))
    left, right = sorted((s for s in doc.segments if s.class_name == "fire" and s.origin == "manual"),
                         key=lambda s: s.start)
    assert left.variation == fire.variation and right.variation and right.variation != left.variation


def test_an_old_project_gets_files_when_opened_and_stays_clean() -> None:
    project = Project(analysis=overlapping_cache(), params=AnalysisParams(mode="layered"))
    pipeline.resegment(project)
    assert not any(s.variation for s in project.segments)
    doc = pipeline.make_document(project, library=library())
    assert all(files(doc).values()) and not doc.dirty


def test_no_fitting_file_is_asked_once_and_left_silent() -> None:
    lib = library()
    lib.files = {k: v for k, v in lib.files.items() if not k.startswith("door_opening/")}
    doc = pipeline.make_document(Project(params=AnalysisParams(mode="layered")), library=lib)
    doc.set_analysis(overlapping_cache())
    doors = [s for s in doc.segments if s.class_name == "door_opening"]
    assert doors and all(s.variation is None for s in doors)
    calls = []
    inner = doc.assigner
    doc.assigner = lambda *a: calls.append(1) or inner(*a)  # type: ignore[misc, operator]
    apply(doc, DeleteSegment(next(s for s in doc.segments if s.class_name == "fire").id))
    assert calls == []


def test_record_sounds_for_the_command_line() -> None:
    project = Project(analysis=overlapping_cache(), params=AnalysisParams(mode="layered"))
    pipeline.resegment(project)
    n = pipeline.record_sounds(project, library())
    assert n == len(audible(project.segments)) and all(s.variation for s in project.segments)
    first = [s.variation for s in project.segments]
    assert pipeline.record_sounds(project, library()) == 0
    assert [s.variation for s in project.segments] == first
