"""Event-based and segment-based F1 on constructed cases with exact numbers."""

import json

import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.core.segments import Segment
from sfxstudio.demo.events import event_f1, load_truth, segment_f1, write_truth


def test_perfect_match():
    truth = [("fire", 1.0, 4.0), ("wave", 6.0, 9.0)]
    r = event_f1(truth, truth)
    assert r["overall"] == {"tp": 2, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert set(r["classes"]) == {"fire", "wave"}


def test_collar_edges_200ms_in_210ms_out():
    truth = [("fire", 1.0, 4.0), ("wave", 10.0, 12.0)]
    inside = event_f1([("fire", 1.2, 4.0), ("wave", 9.8, 12.0)], truth)
    assert inside["overall"]["tp"] == 2
    outside = event_f1([("fire", 1.21, 4.0), ("wave", 9.79, 12.0)], truth)
    assert outside["overall"]["tp"] == 0
    assert outside["overall"]["fp"] == 2 and outside["overall"]["fn"] == 2
    assert outside["overall"]["f1"] == 0.0


def test_offsets_do_not_matter_only_onsets():
    r = event_f1([("fire", 1.1, 2.0)], [("fire", 1.0, 8.0)])
    assert r["overall"]["f1"] == 1.0


def test_class_must_agree():
    r = event_f1([("wave", 1.0, 4.0)], [("river", 1.0, 4.0)])
    assert r["overall"] == {"tp": 0, "fp": 1, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert r["classes"]["wave"]["fp"] == 1 and r["classes"]["river"]["fn"] == 1


def test_one_to_one_matching():
    # Two predictions near one truth: only one matches, the other is a false positive.
    r = event_f1([("fire", 0.95, 2.0), ("fire", 1.05, 2.0)], [("fire", 1.0, 3.0)])
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (1, 1, 0)
    # Greedy-by-nearest would pair 1.1 with 1.0 and leave 0.85 and 1.25 unmatched;
    # the maximum matching pairs 0.85->1.0 (0.15) and 1.1->1.25 (0.15): two hits.
    r = event_f1([("fire", 0.85, 1.0), ("fire", 1.1, 1.2)], [("fire", 1.0, 1.1), ("fire", 1.25, 2.0)])
    assert r["overall"]["tp"] == 2
    assert r["matches"] == [("fire", 0.85, 1.0), ("fire", 1.1, 1.25)]


def test_exact_numbers_micro_and_per_class():
    truth = [("fire", 0.0, 3.0), ("fire", 10.0, 12.0), ("wave", 5.0, 8.0), ("cars", 20.0, 25.0)]
    pred = [
        ("fire", 0.1, 3.0),  # hit
        ("fire", 10.5, 12.0),  # 0.5 s late: miss + false alarm
        ("wave", 4.9, 8.0),  # hit
        ("typing", 30.0, 31.0),  # false alarm
    ]
    r = event_f1(pred, truth)
    o = r["overall"]
    assert (o["tp"], o["fp"], o["fn"]) == (2, 2, 2)
    assert o["precision"] == pytest.approx(0.5)
    assert o["recall"] == pytest.approx(0.5)
    assert o["f1"] == pytest.approx(0.5)
    fire = r["classes"]["fire"]
    assert (fire["tp"], fire["fp"], fire["fn"]) == (1, 1, 1)
    assert r["classes"]["cars"]["recall"] == 0.0
    assert r["classes"]["typing"]["precision"] == 0.0
    # precision 2/3, recall 2/4 -> F1 = 2 * (2/3 * 1/2) / (2/3 + 1/2) = 4/7
    r = event_f1(pred[:3], truth)
    assert r["overall"]["f1"] == pytest.approx(4 / 7)


def test_empty_inputs_and_segment_objects():
    assert event_f1([], [])["overall"]["f1"] == 1.0
    assert event_f1([], [("fire", 0.0, 1.0)])["overall"]["recall"] == 0.0
    segs = [Segment("fire", 1.0, 2.0), Segment("otherwise", 2.0, 3.0)]
    r = event_f1(segs, [("fire", 1.0, 2.0)])
    assert r["overall"]["f1"] == 1.0  # `otherwise` is never an event


def test_segment_f1_blocks():
    # 6 s at 1 s: truth fire in blocks 0-2 ([0, 3)), prediction [1.5, 4.2) -> blocks 1-4.
    r = segment_f1([("fire", 1.5, 4.2)], [("fire", 0.0, 3.0)], duration=6.0)
    assert r["blocks"] == 6
    o = r["overall"]
    assert (o["tp"], o["fp"], o["fn"]) == (2, 2, 1)
    assert o["precision"] == pytest.approx(0.5)
    assert o["recall"] == pytest.approx(2 / 3)
    assert o["f1"] == pytest.approx(4 / 7)


def test_segment_f1_boundaries_and_clipping():
    # [2, 3) touches only block 2; a segment past the duration is clipped; last block partial.
    r = segment_f1([("wave", 2.0, 3.0), ("wave", 4.5, 9.0)], [("wave", 2.0, 3.0), ("wave", 4.0, 4.5)], 4.5)
    assert r["blocks"] == 5
    o = r["overall"]
    assert (o["tp"], o["fp"], o["fn"]) == (1, 0, 1)  # pred [4.5, 9) clips to nothing
    r = segment_f1([("wave", 0.0, 1.0)], [("fire", 0.0, 1.0)], 2.0, resolution=0.5)
    assert r["blocks"] == 4
    assert (r["overall"]["tp"], r["overall"]["fp"], r["overall"]["fn"]) == (0, 2, 2)


def test_truth_round_trip(tmp_path):
    path = tmp_path / "demo.truth.json"
    write_truth(path, "demo.mp4", 64.0, 24, [("fire", 2.0, 5.5), ("otherwise", 5.5, 8.0)])
    data = json.loads(path.read_text())
    assert data["format"] == "sfxstudio-truth" and data["version"] == 1
    truth = load_truth(path)
    assert truth.video == "demo.mp4" and truth.duration == 64.0 and truth.fps == 24
    assert truth.segments == [("fire", 2.0, 5.5)]


def test_load_truth_errors_name_the_file(tmp_path):
    with pytest.raises(BadInputError, match=r"missing\.json"):
        load_truth(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(BadInputError, match=r"bad\.json"):
        load_truth(bad)
