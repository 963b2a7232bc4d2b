"""Learn from corrections: labels from edits, a head trained on cached embeddings, provenance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, Project
from sfxstudio.core.segments import Segment
from sfxstudio.ml import teach
from sfxstudio.ml.bundle import ModelBundle
from tests.fixtures.models import make_bundle

NAMES = default_classes().names
FPS = 10.0


def _cache(emb: np.ndarray, names: list[str] = NAMES) -> AnalysisCache:
    n = len(emb)
    probs = np.full((n, len(names)), 1.0 / len(names), np.float32)
    return AnalysisCache(
        times=np.arange(n) / FPS,
        probs=probs,
        embeddings=emb.astype(np.float16),
        class_names=list(names),
        frame_duration=1.0 / FPS,
        duration=n / FPS,
        model="base",
    )


def test_frame_labels_follow_the_edits() -> None:
    emb = np.arange(30 * 4, dtype=np.float32).reshape(30, 4)
    project = Project(
        video="v.mp4",
        analysis=_cache(emb),
        segments=[
            Segment("fire", 0.0, 0.5, origin="manual"),  # frames 0-4
            Segment("river", 1.0, 1.5, origin="mute"),  # frames 10-14 -> otherwise
            Segment("wave", 1.3, 1.6, origin="manual"),  # frames 13-15: manual beats the mute
            Segment("cars", 2.0, 2.3, origin="manual"),
            Segment("typing", 2.1, 2.5, origin="manual"),  # frames 21-22 in both: half each
            Segment("dog_barking", 2.6, 3.0, origin="auto"),  # not a correction
        ],
    )
    d = teach.collect_frames([project], pseudo_weight=0.0)  # corrections only
    rows = sorted((round(float(e[0]) / 4), NAMES[lab], float(w))
                  for e, lab, w in zip(d.embeddings, d.labels, d.weights, strict=True))
    expected = {i: "fire" for i in range(5)} | {i: OTHERWISE for i in range(10, 13)}
    expected |= {13: "wave", 14: "wave", 15: "wave", 20: "cars", 23: "typing", 24: "typing"}
    both = [(f, c, 0.5) for f in (21, 22) for c in ("cars", "typing")]
    assert rows == sorted([(f, c, 1.0) for f, c in expected.items()] + both)
    assert d.corrected.all() and d.frame_index[0].tolist() == sorted([*expected, 21, 21, 22, 22])
    assert d.sources[0]["corrected_frames"] == len(expected) + 2  # frames, not rows

    pseudo = teach.collect_frames([project], pseudo_weight=0.25)
    labels = dict(zip((round(float(e[0]) / 4) for e in pseudo.embeddings), pseudo.labels, strict=True))
    assert NAMES[labels[27]] == "dog_barking" and NAMES[labels[7]] == OTHERWISE  # left alone
    assert pseudo.weights[~pseudo.corrected].tolist() == [0.25] * int((~pseudo.corrected).sum())


def test_collect_frames_rejects_what_it_cannot_use() -> None:
    with pytest.raises(BadInputError, match="no analysis"):
        teach.collect_frames([Project(video="v.mp4")])
    auto = [Segment("fire", 0, 1, origin="auto")]
    p = Project(video="v.mp4", analysis=_cache(np.ones((5, 4))), segments=auto)
    with pytest.raises(BadInputError, match="no corrections"):
        teach.collect_frames([p])
    manual = [Segment("fire", 0, 1, origin="manual")]
    q = Project(video="w.mp4", analysis=_cache(np.ones((5, 8))), segments=manual)
    p.segments = [Segment("fire", 0, 1, origin="manual")]
    with pytest.raises(BadInputError, match="embedding size"):
        teach.collect_frames([p, q])


def test_fit_head_learns_separable_labels_and_keeps_the_rest() -> None:
    rng = np.random.default_rng(0)
    centres = rng.random((3, 16)) * 4
    y = rng.integers(0, 3, 600)
    x = centres[y] + rng.normal(0, 0.3, (600, 16))
    k0 = rng.normal(0, 0.1, (16, 5)).astype(np.float32)
    fit = teach.fit_head(x, y, k0, np.zeros(5, np.float32), epochs=20)
    assert (teach.softmax(x @ fit.kernel + fit.bias).argmax(1) == y).mean() > 0.98
    assert fit.loss[-1] < fit.loss[0]


def _separable_project(rng: np.random.Generator, dim: int) -> tuple[Project, dict[str, np.ndarray]]:
    """Four stretches with distinct embeddings: fire and river corrected by hand, a deleted
    automatic effect (otherwise), and a stretch the editor never touched."""
    centres = {c: rng.random(dim).astype(np.float32) * 3 for c in ("fire", "river", OTHERWISE, "free")}
    emb = np.concatenate(
        [
            centres[c] + rng.normal(0, 0.15, (40, dim)).astype(np.float32)
            for c in ("fire", "river", OTHERWISE, "free")
        ]
    )
    emb = np.maximum(emb, 0)  # embeddings come out of a ReLU
    segments = [
        Segment("fire", 0.0, 4.0, origin="manual"),
        Segment("river", 4.0, 8.0, origin="manual"),
        Segment("cars", 8.0, 12.0, origin="mute"),
    ]
    return Project(video="clip.mp4", analysis=_cache(emb), segments=segments), centres


def test_teach_learns_the_corrections_and_records_provenance(tmp_path: Path) -> None:
    base = make_bundle(tmp_path, name="base")  # untrained tiny model, embedding size 32
    project, _ = _separable_project(np.random.default_rng(1), 32)
    events: list[dict] = []
    out = teach.teach([project], base, tmp_path / "taught", epochs=40, progress=events.append)

    meta = json.loads((out / "bundle.json").read_text())
    tr = meta["training"]
    assert meta["parent"]["name"] == "base" and meta["parent"]["path"] == str(base.resolve())
    assert meta["parent"]["model_version"] == 1 and tr["model_version"] == 2
    assert tr["corrected_frames_per_class"] == {"fire": 40, "river": 40, OTHERWISE: 40}
    assert tr["accuracy_on_corrections_after"] >= 0.99
    assert tr["accuracy_on_corrections_before"] < 0.9
    assert tr["projects"][0]["video"] == "clip.mp4" and "taught_at" in tr
    assert meta["classes"] == NAMES and meta["embedding_layer"] == "embedding"
    assert any(e.get("phase") == "teach" for e in events) and events[-1]["phase"] == "done"

    # The new bundle is a normal bundle (safe_mode load) whose head is the trained one:
    # reclassifying the cached embeddings gives the corrected labels back.
    bundle = ModelBundle.load(out)
    probs = teach.reclassify(project.analysis, bundle)
    assert probs.shape == (160, 21)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    got = probs.argmax(1)
    assert (got[:40] == NAMES.index("fire")).all() and (got[40:80] == NAMES.index("river")).all()
    assert (got[80:120] == NAMES.index(OTHERWISE)).all()
    new_cache = teach.reclassified_cache(project.analysis, bundle)
    assert new_cache.class_names == NAMES and new_cache.model == str(out)

    # Teaching again starts from the taught bundle (here the loaded one, as the GUI holds it):
    # version 3, parent version 2.
    again = teach.teach([project], bundle, tmp_path / "again", epochs=2)
    meta2 = json.loads((again / "bundle.json").read_text())
    assert meta2["training"]["model_version"] == 3 and meta2["parent"]["model_version"] == 2


def test_new_model_is_base_backbone_plus_new_head(tmp_path: Path) -> None:
    """Frames through the saved model == cached embeddings through reclassify (no video needed)."""
    base_dir = make_bundle(tmp_path, name="base", seed=3)
    base = ModelBundle.load(base_dir)
    frames = np.random.default_rng(2).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    _, emb = base.predict(frames)
    cache = _cache(emb)
    cache.embeddings = emb  # float32 here so the comparison is exact up to float rounding
    edits = [Segment("fire", 0.0, 1.2, origin="manual"), Segment("wave", 1.2, 2.4, origin="manual")]
    project = Project(video="v.mp4", analysis=cache, segments=edits)
    out = teach.teach([project], base_dir, tmp_path / "new", epochs=5)
    new = ModelBundle.load(out)
    probs, new_emb = new.predict(frames)
    np.testing.assert_allclose(new_emb, emb, rtol=1e-5, atol=1e-5)  # backbone unchanged
    np.testing.assert_allclose(teach.reclassify(cache, out), probs, atol=1e-5)


def test_a_manual_segment_of_a_new_class_adds_the_class(tmp_path: Path) -> None:
    base = make_bundle(tmp_path, name="base")
    project, _ = _separable_project(np.random.default_rng(4), 32)
    project.segments[1] = Segment("thunder", 4.0, 8.0, origin="manual")
    out = teach.teach([project], base, tmp_path / "t", epochs=30)
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["classes"] == [*NAMES, "thunder"]
    probs = teach.reclassify(project.analysis, out)
    assert probs.shape == (160, 22) and (probs[40:80].argmax(1) == 21).all()


def test_reclassify_rejects_embeddings_of_another_model(tmp_path: Path) -> None:
    base = make_bundle(tmp_path, name="base")
    with pytest.raises(BadInputError, match="analyse the video again"):
        teach.reclassify(_cache(np.ones((3, 7))), base)
    project, _ = _separable_project(np.random.default_rng(0), 12)
    with pytest.raises(BadInputError, match="another model"):
        teach.teach([project], base, tmp_path / "x", epochs=1)
    assert not (tmp_path / "x").exists()


def test_teach_from_an_imagenet_mapped_base(tmp_path: Path) -> None:
    from sfxstudio.ml import imagenet

    base = imagenet.create_imagenet_bundle(tmp_path / "inet", weights="none", architecture="tiny")
    project, _ = _separable_project(np.random.default_rng(5), 16)
    out = teach.teach([project], base, tmp_path / "taught", epochs=40)
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["kind"] == "keras" and meta["embedding_layer"] == "avg_pool"
    assert meta["parent"]["kind"] == "imagenet_mapped"
    # fire and river have no ImageNet counterpart; taught, they are supported now.
    assert {"fire", "river", OTHERWISE} <= set(meta["supported_classes"])
    assert meta["training"]["accuracy_on_corrections_after"] >= 0.99
    bundle = ModelBundle.load(out)
    assert bundle.embedding_dim == 16
    assert bundle.predict(np.zeros((1, 32, 32, 3), np.uint8))[0].shape == (1, 21)


@pytest.fixture(scope="module")
def tiny_mapped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An imagenet_mapped bundle on the tiny architecture (random weights, seeded)."""
    import keras

    from sfxstudio.ml import imagenet

    keras.utils.set_random_seed(7)
    return imagenet.create_imagenet_bundle(tmp_path_factory.mktemp("inet") / "inet", weights="none",
                                           architecture="tiny")


def test_untaught_a_mapped_base_is_kept_exactly(tiny_mapped: Path, tmp_path: Path) -> None:
    """No teaching passes: the taught model is the base's ImageNet mapping, through Keras
    (folded offsets, the 0/1 class sums) and through reclassify on the embeddings, up to the
    taught logits' starting mass (NEW_MASS_SHARE of a typical frame's, per class)."""
    base = ModelBundle.load(tiny_mapped, runtime="tf")
    project, _ = _separable_project(np.random.default_rng(6), 16)
    out = teach.teach([project], base, tmp_path / "t0", epochs=0)
    taught = ModelBundle.load(out, runtime="tf")
    frames = np.random.default_rng(3).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    p_base, e_base = base.predict(frames)
    p_new, e_new = taught.predict(frames)
    np.testing.assert_allclose(e_new, e_base, atol=1e-5)
    start = 3 * len(NAMES) * teach.NEW_MASS_SHARE
    np.testing.assert_allclose(p_new, p_base, atol=start)
    assert (p_new.argmax(1) == p_base.argmax(1)).all()
    np.testing.assert_allclose(teach.reclassify(_cache(e_base), out), p_new, atol=1e-3)


def test_a_new_class_is_taught_from_the_editors_effects_alone(
    tiny_mapped: Path, tmp_path: Path, make_video: Any
) -> None:
    """A name the base does not have, on one corrected second of a real (synthetic) video,
    becomes an output that the taught model proposes when the video is analysed again, on the
    uncorrected second that looks the same and nowhere else."""
    from sfxstudio.core.project import AnalysisParams
    from sfxstudio.pipeline import analyze_to_cache, compute_auto_segments

    blue, red = (0, 0, 255), (255, 0, 0)
    video = make_video(colors=[blue] * 20 + [red] * 20 + [blue] * 20, fps=10)
    params = AnalysisParams(k=0.0, threshold=0.5)
    base = ModelBundle.load(tiny_mapped, runtime="tf")
    cache = analyze_to_cache(video, base, params)
    assert compute_auto_segments(cache, params) == []  # the base proposes nothing here
    project = Project(video=str(video), analysis=cache, params=params,
                      segments=[Segment("thunder", 2.0, 3.0, origin="manual")])  # one second
    # The tiny model's 16-d embedding of red and blue differ little: it needs bigger steps than
    # the real 1280-d one (where the defaults teach a new class, bench/bench_teach_real.py).
    out = teach.teach([project], base, tmp_path / "thunder", epochs=60, learning_rate=0.05)
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["classes"] == [*NAMES, "thunder"] and "thunder" in meta["supported_classes"]
    assert meta["parent"]["kind"] == "imagenet_mapped"

    again = analyze_to_cache(video, ModelBundle.load(out, runtime="tf"), params)
    np.testing.assert_allclose(again.probs, teach.reclassify(cache, out), atol=1e-3)
    got = [(s.class_name, round(s.start, 2), round(s.end, 2)) for s in compute_auto_segments(again, params)]
    assert got == [("thunder", 2.0, 4.0)]


def test_reteaching_a_model_taught_from_a_mapped_base(tiny_mapped: Path, tmp_path: Path) -> None:
    project, _ = _separable_project(np.random.default_rng(8), 16)
    first = teach.teach([project], tiny_mapped, tmp_path / "v2", epochs=20)
    project.segments.append(Segment("thunder", 12.0, 16.0, origin="manual"))  # the untouched stretch
    second = teach.teach([project], first, tmp_path / "v3", epochs=40)
    meta = json.loads((second / "bundle.json").read_text())
    assert meta["training"]["model_version"] == 3 and meta["classes"][-1] == "thunder"
    probs = teach.reclassify(project.analysis, second)
    assert (probs[120:].argmax(1) == len(NAMES)).mean() > 0.9
    assert (probs[:40].argmax(1) == NAMES.index("fire")).all()
