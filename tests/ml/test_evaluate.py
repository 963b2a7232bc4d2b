"""Evaluation: metrics on constructed predictions with exact numbers, the folder report, video F1."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache
from sfxstudio.core.segments import Segment
from sfxstudio.ml import evaluate as ev
from tests.fixtures.models import SOLID

# --- metrics ---------------------------------------------------------------------------------------


def test_hand_computed_three_class_confusion_matrix() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 0, 1, 1, 2, 0, 2, 1])
    cm = ev.confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 2, 0], [1, 1, 2]]
    norm = ev.normalize_rows(cm)
    np.testing.assert_allclose(norm, [[2 / 3, 1 / 3, 0], [0, 1, 0], [0.25, 0.25, 0.5]])
    s = ev.per_class_scores(cm)
    np.testing.assert_allclose(s["precision"], [2 / 3, 2 / 4, 2 / 2])
    np.testing.assert_allclose(s["recall"], [2 / 3, 2 / 2, 2 / 4])
    np.testing.assert_allclose(s["f1"], [2 / 3, 2 / 3, 2 / 3])
    assert s["support"].tolist() == [3, 2, 4]


def test_classification_metrics_from_probabilities() -> None:
    names = ["fire", "river", "otherwise"]
    y_true = np.array([0, 0, 1, 2, 2])
    probs = np.array(
        [
            [0.7, 0.2, 0.1],  # fire, right
            [0.2, 0.3, 0.5],  # fire predicted otherwise
            [0.1, 0.8, 0.1],  # river, right
            [0.1, 0.1, 0.8],  # otherwise, right
            [0.5, 0.1, 0.4],  # otherwise predicted fire
        ]
    )
    m = ev.classification_metrics(y_true, probs, names)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["confusion_matrix"] == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    fire = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2}
    assert m["per_class"]["fire"] == fire
    # has-an-effect scores 1 - p(otherwise): positives 0.9, 0.5, 0.9; negatives 0.2, 0.6.
    # Pairs won by the positive: 0.9>0.2, 0.9>0.6 (x2 positives) = 4, 0.5>0.2 = 1 -> 5 of 6.
    assert m["roc"]["positives"] == 3 and m["roc"]["negatives"] == 2
    assert m["roc"]["auc"] == pytest.approx(5 / 6)
    # Rows of a class without images stay zero instead of NaN.
    m2 = ev.classification_metrics(np.array([0, 2]), probs[[0, 3]], names)
    assert m2["confusion_matrix_normalized"][1] == [0.0, 0.0, 0.0]
    assert m2["macro_recall"] == 1.0  # the river class has no images and is left out


def test_auc_perfect_reversed_and_all_tied() -> None:
    pos = np.array([True, True, False, False])
    assert ev.auc(*ev.roc_curve(np.array([0.9, 0.8, 0.2, 0.1]), pos)[:2]) == 1.0
    assert ev.auc(*ev.roc_curve(np.array([0.1, 0.2, 0.8, 0.9]), pos)[:2]) == 0.0
    fpr, tpr, thr = ev.roc_curve(np.full(4, 0.5), pos)
    assert fpr.tolist() == [0.0, 1.0] and tpr.tolist() == [0.0, 1.0]  # one diagonal step
    assert ev.auc(fpr, tpr) == 0.5
    assert np.isinf(thr[0]) and thr[1] == 0.5


def test_auc_interleaved_and_ties_count_half() -> None:
    fpr, tpr, _ = ev.roc_curve(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0], bool))
    assert ev.auc(fpr, tpr) == pytest.approx(3 / 4)
    # A positive tied with a negative wins half the pair: (0.5 + 1) / 2.
    fpr, tpr, _ = ev.roc_curve(np.array([0.5, 0.5, 0.2]), np.array([1, 0, 0], bool))
    assert ev.auc(fpr, tpr) == pytest.approx(0.75)


def test_auc_equals_mann_whitney_with_many_ties() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, 200).astype(float)  # six values: ties everywhere
    pos = rng.random(200) < 0.4 + 0.1 * scores / 5
    p, n = scores[pos], scores[~pos]
    expected = ((p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()) / (p.size * n.size)
    assert ev.auc(*ev.roc_curve(scores, pos)[:2]) == pytest.approx(expected, abs=1e-12)


def test_random_ranking_auc_is_one_half() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random(20000)
    pos = rng.random(20000) < 0.3
    assert ev.auc(*ev.roc_curve(scores, pos)[:2]) == pytest.approx(0.5, abs=0.015)


def test_roc_needs_both_kinds() -> None:
    with pytest.raises(ValueError, match="both"):
        ev.roc_curve(np.array([0.1, 0.2]), np.array([True, True]))


# --- the folder report -----------------------------------------------------------------------------


def _write_images(folder: Path, color: str, n: int, size: tuple[int, int] = (40, 30)) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    for i in range(n):
        arr = np.broadcast_to(np.asarray(SOLID[color], np.uint8), (h, w, 3)).copy()
        Image.fromarray(arr).save(folder / f"{color}{i}.png")


def test_evaluate_folder_writes_a_complete_report(tmp_path: Path, color_bundle: object) -> None:
    data = tmp_path / "data"
    _write_images(data / "fire", "red", 3)
    _write_images(data / "fire", "green", 1)  # mislabelled on purpose: the model says otherwise
    _write_images(data / "river", "blue", 2)
    _write_images(data / "otherwise", "green", 2)
    _write_images(data / "unicorn", "grey", 2)  # the model has no such class
    (data / "river" / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "report"

    m = ev.evaluate_folder(color_bundle, data, out, batch_size=4)

    assert m["images"] == 8  # the broken file is skipped and reported
    assert any("broken.jpg" in p for p in m["problems"])
    assert m["skipped_classes"] == {"unicorn": 2}
    assert m["accuracy"] == pytest.approx(7 / 8)
    assert m["per_class"]["fire"]["recall"] == pytest.approx(3 / 4)
    assert m["per_class"]["otherwise"]["precision"] == pytest.approx(2 / 3)
    # 6 positives, 2 negatives; the green "fire" image scores exactly like the two green
    # negatives (a tie counts half): (5 * 2 + 1 * 0.5 * 2) / 12.
    assert m["roc"]["auc"] == pytest.approx(11 / 12)

    for name in ("report.html", "confusion_matrix.png", "confusion_matrix.csv", "roc.png", "metrics.json"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left
    from PIL import Image

    with Image.open(out / "confusion_matrix.png") as im:
        assert im.format == "PNG" and im.size[0] > 200
    rows = list(csv.reader((out / "confusion_matrix.csv").open()))
    names = color_bundle.class_names  # type: ignore[attr-defined]
    assert rows[0][1:] == names and [r[0] for r in rows[1:]] == names
    fire_row = rows[1 + names.index("fire")]
    assert float(fire_row[1 + names.index("fire")]) == pytest.approx(0.75)
    assert float(fire_row[1 + names.index("otherwise")]) == pytest.approx(0.25)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["accuracy"] == pytest.approx(7 / 8) and saved["model"]["name"] == "color"
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2  # both figures embedded
    assert "87.5 %" in page and "0.917" in page and "unicorn" in page and "color" in page
    assert "<script" not in page


def test_evaluate_folder_without_otherwise_images_has_no_roc(tmp_path: Path, color_bundle: object) -> None:
    data = tmp_path / "data"
    _write_images(data / "fire", "red", 2)
    out = tmp_path / "r"
    out.mkdir()
    (out / "roc.png").write_bytes(b"stale")
    m = ev.evaluate_folder(color_bundle, data, out)
    assert m["accuracy"] == 1.0 and m["roc"]["auc"] is None
    assert not (out / "roc.png").exists()
    assert "No ROC curve" in (out / "report.html").read_text()


def test_evaluate_folder_rejects_data_without_model_classes(tmp_path: Path, color_bundle: object) -> None:
    _write_images(tmp_path / "data" / "unicorn", "red", 1)
    with pytest.raises(BadInputError, match="unicorn"):
        ev.evaluate_folder(color_bundle, tmp_path / "data", tmp_path / "r")
    with pytest.raises(BadInputError, match="does not exist"):
        ev.evaluate_folder(color_bundle, tmp_path / "nowhere", tmp_path / "r")


# --- event and segment F1 ----------------------------------------------------------------------------


def test_event_f1_collar_and_one_to_one_matching() -> None:
    truth = [("fire", 1.0, 4.0), ("wave", 10.0, 12.0)]
    assert ev.event_f1([("fire", 1.2, 4.0), ("wave", 9.8, 12.0)], truth)["overall"]["f1"] == 1.0
    out = ev.event_f1([("fire", 1.21, 4.0), ("wave", 9.79, 12.0)], truth)
    assert (out["overall"]["tp"], out["overall"]["fp"], out["overall"]["fn"]) == (0, 2, 2)
    # The maximum matching pairs 0.85->1.0 and 1.1->1.25; greedy-nearest would find one pair.
    r = ev.event_f1([("fire", 0.85, 1.0), ("fire", 1.1, 1.2)], [("fire", 1.0, 1.1), ("fire", 1.25, 2.0)])
    assert r["overall"]["tp"] == 2 and r["per_class"] is r["classes"]


def test_event_f1_counts_only_pairs_within_the_collar() -> None:
    # 0.0 <-> 0.1 lies within the collar; the other pair (5.0 <-> 9.0) does not. A one-to-one
    # assignment pairs both, so a match counted without its own distance check gives tp = 2.
    r = ev.event_f1([("fire", 0.0, 1.0), ("fire", 5.0, 6.0)], [("fire", 0.1, 1.0), ("fire", 9.0, 10.0)],
                    collar=0.2)
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (1, 1, 1)
    assert r["matches"] == [("fire", 0.0, 0.1)]
    assert r["overall"]["f1"] == pytest.approx(0.5)
    # Exactly on the collar is inside (<=), a hair beyond is outside.
    assert ev.event_f1([("fire", 1.2, 2.0)], [("fire", 1.0, 2.0)], collar=0.2)["overall"]["tp"] == 1
    assert ev.event_f1([("fire", 1.2001, 2.0)], [("fire", 1.0, 2.0)], collar=0.2)["overall"]["tp"] == 0
    assert ev.event_f1([("fire", 0.5, 2.0)], [("fire", 0.25, 2.0)], collar=0.25)["overall"]["tp"] == 1
    # The assignment with the least total error (0 -> 0.25, 0.3 -> 10) has no pair within the
    # collar; counting valid pairs first finds 0.3 -> 0.25.
    r = ev.event_f1([("fire", 0.0, 1.0), ("fire", 0.3, 1.0)], [("fire", 0.25, 1.0), ("fire", 10.0, 11.0)],
                    collar=0.2)
    assert r["overall"]["tp"] == 1 and r["matches"] == [("fire", 0.3, 0.25)]
    # Three predictions, two truths, one far away: only the near pairs count, each truth once.
    r = ev.event_f1([("wave", 2.0, 3.0), ("wave", 2.05, 3.0), ("wave", 40.0, 41.0)],
                    [("wave", 2.1, 3.0), ("wave", 20.0, 21.0)], collar=0.2)
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (1, 2, 1)
    assert r["matches"] == [("wave", 2.05, 2.1)]  # the nearer of the two candidates


def test_event_f1_maximises_matches_then_minimises_onset_error() -> None:
    # Greedy nearest-first takes 1.15 -> 1.1 (0.05) and leaves 1.0 without a partner within
    # 0.2; the optimal one-to-one matching pairs 1.0 -> 1.1 and 1.15 -> 1.3: two matches.
    r = ev.event_f1([("fire", 1.0, 2.0), ("fire", 1.15, 2.0)], [("fire", 1.1, 2.0), ("fire", 1.3, 2.0)],
                    collar=0.2)
    assert r["overall"]["tp"] == 2
    assert r["matches"] == [("fire", 1.0, 1.1), ("fire", 1.15, 1.3)]
    # Both assignments are within the collar: the one with the smaller total error is reported.
    r = ev.event_f1([("fire", 1.0, 2.0), ("fire", 1.1, 2.0)], [("fire", 1.05, 2.0), ("fire", 1.12, 2.0)])
    assert r["matches"] == [("fire", 1.0, 1.05), ("fire", 1.1, 1.12)]
    # Pairs only form within a class.
    r = ev.event_f1([("fire", 1.0, 2.0)], [("wave", 1.0, 2.0)])
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (0, 1, 1)


def test_event_f1_exact_numbers_and_segments() -> None:
    truth = [("fire", 0.0, 3.0), ("fire", 10.0, 12.0), ("wave", 5.0, 8.0), ("cars", 20.0, 25.0)]
    pred = [Segment("fire", 0.1, 3.0), Segment("wave", 4.9, 8.0), Segment("fire", 13.0, 14.0, origin="mute")]
    r = ev.event_f1(pred, truth)  # the mute range is not an effect
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (2, 0, 2)
    assert r["overall"]["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert r["per_class"]["cars"]["recall"] == 0.0
    assert ev.event_f1([], [])["overall"]["f1"] == 1.0


def test_segment_f1_blocks() -> None:
    # truth covers blocks 0, 1, 2; prediction [0.5, 2.0) covers blocks 0, 1 (ends on a boundary).
    r = ev.segment_f1([("fire", 0.5, 2.0)], [("fire", 0.0, 3.0)], duration=5.0)
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (2, 0, 1)
    assert r["overall"]["f1"] == pytest.approx(0.8)
    assert r["blocks"] == 5
    r = ev.segment_f1([("fire", 0.0, 1.0), ("wave", 3.0, 4.5)], [("fire", 0.0, 1.0)], duration=4.5)
    assert r["per_class"]["wave"]["fp"] == 2 and r["overall"]["precision"] == pytest.approx(1 / 3)


def test_truth_files_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    ev.write_truth(path, "v.mp4", 6.0, 25.0, [("fire", 1.0, 2.0), Segment("otherwise", 2.0, 3.0)])
    gt = ev.load_truth(path)
    assert gt.segments == [("fire", 1.0, 2.0)] and gt.duration == 6.0
    path.write_text('{"format": "something"}')
    with pytest.raises(BadInputError, match=r"t\.json"):
        ev.load_truth(path)


def _cache(labels: list[int], names: list[str], fps: float = 10.0) -> AnalysisCache:
    n = len(labels)
    probs = np.full((n, len(names)), 0.01, np.float32)
    probs[np.arange(n), labels] = 0.9
    return AnalysisCache(
        times=np.arange(n) / fps,
        probs=probs,
        embeddings=np.zeros((n, 4), np.float16),
        class_names=names,
        frame_duration=1.0 / fps,
        duration=n / fps,
        model="m",
    )


def test_evaluate_cache_scores_the_proposed_segments(tmp_path: Path) -> None:
    names = ["fire", "river", "otherwise"]
    cache = _cache([0] * 10 + [2] * 10 + [1] * 10 + [2] * 10, names)
    truth = tmp_path / "t.json"
    ev.write_truth(truth, "v.mp4", 4.0, 10.0, [("fire", 0.0, 1.0), ("river", 2.1, 3.0)])
    r = ev.evaluate_cache(cache, truth, k=0.0, tau=0.5)
    assert [p[0] for p in r["predicted"]] == ["fire", "river"]
    assert [p[1:] for p in r["predicted"]] == [pytest.approx([0.0, 1.0]), pytest.approx([2.0, 3.0])]
    assert r["event"]["overall"]["f1"] == 1.0  # river starts 100 ms early: inside the collar
    assert r["segment"]["overall"]["f1"] == 1.0
    r = ev.evaluate_cache(cache, truth, k=0.0, tau=0.95)  # nothing clears the threshold
    assert r["predicted"] == [] and r["event"]["overall"]["recall"] == 0.0


def test_evaluate_video_end_to_end(tmp_path: Path, make_video: object, color_bundle: object) -> None:
    from sfxstudio.pipeline import analyze

    red, green, blue = SOLID["red"], SOLID["green"], SOLID["blue"]
    video = make_video(colors=[red] * 10 + [green] * 10 + [blue] * 10 + [green] * 10, fps=10)  # type: ignore[operator]
    truth = tmp_path / "truth.json"
    ev.write_truth(truth, video.name, 4.0, 10.0, [("fire", 0.0, 1.0), ("river", 2.0, 3.0)])

    def run(v: Path, bundle: object, params: object) -> AnalysisCache:
        *_, last = analyze(v, bundle, params)  # type: ignore[arg-type]
        return last.result  # type: ignore[no-any-return]

    r = ev.evaluate_video(color_bundle, video, truth, k=0.2, tau=0.5, analyze=run)
    assert r["event"]["overall"]["f1"] == 1.0
    assert r["segment"]["overall"]["f1"] == 1.0
    assert r["frames"] == 40 and r["video"] == str(video)
    assert [p[0] for p in r["predicted"]] == ["fire", "river"]


def test_metrics_are_json_serialisable() -> None:
    m = ev.classification_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), ["fire", "otherwise"])
    json.dumps(m)
    assert list(itertools.chain.from_iterable(m["confusion_matrix"])) == [1, 0, 0, 1]


# --- hand-made multi-label truth (the videos_real layout) ------------------------------------------


def _real_truth(path: Path, segments: list[dict], duration: float = 10.0, **extra: object) -> Path:
    path.write_text(json.dumps({"video": "clip.mp4", "duration": duration, "segments": segments,
                                "notes": "hand-made", **extra}))
    return path


def test_multi_label_truth_is_read_with_overlapping_classes(tmp_path: Path) -> None:
    path = _real_truth(tmp_path / "clip.json", [
        {"class": "ambulance", "start": 0.0, "end": 6.0},
        {"class": "cars", "start": 0.0, "end": 10.0},
        {"class": "otherwise", "start": 6.0, "end": 10.0},  # the absence of an effect: dropped
    ])
    gt = ev.load_truth(path)
    assert gt.segments == [("ambulance", 0.0, 6.0), ("cars", 0.0, 10.0)]
    assert gt.duration == 10.0 and gt.fps == 0.0 and gt.video == "clip.mp4"
    # Each class is scored on its own: predicting only cars over 0..10 finds all of cars and
    # none of ambulance (a single-label proposal cannot cover both).
    seg = ev.segment_f1([("cars", 0.0, 10.0)], gt.segments, gt.duration)
    assert seg["per_class"]["cars"]["f1"] == 1.0
    assert (seg["per_class"]["ambulance"]["tp"], seg["per_class"]["ambulance"]["fn"]) == (0, 6)
    assert (seg["overall"]["tp"], seg["overall"]["fp"], seg["overall"]["fn"]) == (10, 0, 6)
    assert seg["overall"]["f1"] == pytest.approx(2 * 10 / (2 * 10 + 6))
    evt = ev.event_f1([("cars", 0.15, 10.0), ("ambulance", 0.5, 6.0)], gt.segments, collar=0.2)
    assert evt["per_class"]["cars"]["tp"] == 1 and evt["per_class"]["ambulance"]["tp"] == 0
    assert evt["overall"]["f1"] == pytest.approx(0.5)
    empty = ev.load_truth(_real_truth(tmp_path / "neg.json", []))  # a hard negative
    assert empty.segments == []
    assert ev.segment_f1([], empty.segments, empty.duration)["overall"]["f1"] == 1.0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"video": "v", "segments": []}, "needs 'duration' and 'segments'"),
        ({"duration": 5, "segments": [{"class": "cars", "start": 2, "end": 1}]}, "start < end"),
        ({"duration": 5, "segments": [{"class": "cars", "start": -1, "end": 1}]}, "start < end"),
        ({"duration": 5, "segments": [{"class": "", "start": 0, "end": 1}]}, "class must be a name"),
        ({"duration": 5, "segments": [{"class": "cars", "start": "0", "end": 1}]}, "finite number"),
        ({"duration": 5, "segments": [{"class": "cars", "end": 1}]}, "missing 'start'"),
        ({"duration": 5, "segments": {"cars": [0, 1]}}, "'segments' must be a list"),
        ({"duration": 0, "segments": []}, "duration must be positive"),
        ({"duration": True, "segments": []}, "finite number"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_multi_label_truth_is_one_line_naming_the_file(tmp_path: Path, content: object,
                                                           problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(BadInputError, match=problem) as err:
        ev.load_truth(path)
    assert "bad.json" in str(err.value) and "\n" not in str(err.value)


def test_evaluate_cache_names_truth_classes_the_model_lacks(tmp_path: Path) -> None:
    names = ["fire", "river", "otherwise"]
    cache = _cache([0] * 10 + [2] * 30, names)
    truth = _real_truth(tmp_path / "t.json", [{"class": "fire", "start": 0.0, "end": 1.0},
                                              {"class": "helicopter", "start": 0.0, "end": 4.0}],
                        duration=4.0)
    r = ev.evaluate_cache(cache, truth, k=0.0, tau=0.5)
    assert r["classes_not_in_model"] == ["helicopter"]
    assert r["segment"]["per_class"]["fire"]["f1"] == 1.0
    assert r["segment"]["per_class"]["helicopter"]["fn"] == 4
    r2 = ev.evaluate_cache(cache, truth, k=0.0, tau=0.5, collar=0.05, resolution=0.5)
    assert r2["segment"]["resolution"] == 0.5 and r2["segment"]["per_class"]["helicopter"]["fn"] == 8
    assert r2["event"]["collar"] == 0.05


def test_a_truth_file_that_is_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    import pytest

    from sfxstudio.core.errors import BadInputError
    from sfxstudio.ml.evaluate import load_truth

    fifo = tmp_path / "truth.json"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match=r"truth\.json: is a named pipe \(FIFO\), not a ground-truth"):
        load_truth(fifo)
