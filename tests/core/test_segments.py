"""Segments: validation, exact JSON round trip, and the per-class merge (DESIGN.md section 2)."""

import json
import math

import pytest

from sfxstudio.core.segments import Segment, audible, merge_segments, min_frame_length, subtract_ranges
from sfxstudio.core.validate import MAX_DURATION, MAX_GAIN_DB


def test_segment_rejects_empty_or_reversed_ranges():
    with pytest.raises(ValueError):
        Segment("fire", 2.0, 2.0)
    with pytest.raises(ValueError):
        Segment("fire", 2.0, 1.0, origin="auto")
    with pytest.raises(ValueError):
        Segment("fire", 1.0, 2.0, origin="robot")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Segment("fire", 1.0, math.inf)
    with pytest.raises(ValueError):
        Segment("fire", math.nan, 2.0)


def test_subtract_ranges():
    assert subtract_ranges(0, 10, [(2, 3), (5, 7)]) == [(0, 2), (3, 5), (7, 10)]
    assert subtract_ranges(0, 10, [(-1, 11)]) == []
    assert subtract_ranges(0, 10, [(0, 4), (3, 6)]) == [(6, 10)]
    assert subtract_ranges(0, 10, [(10, 12)]) == [(0, 10)]


def test_manual_and_mute_ranges_clip_automatic_segments_of_their_own_class_only():
    autos = [Segment("fire", 0.0, 10.0), Segment("river", 12.0, 14.0), Segment("fire", 11.0, 13.0)]
    manual_dog = Segment("dog_barking", 3.0, 4.0, origin="manual")  # another class: fire untouched
    manual_fire = Segment("fire", 6.0, 7.0, origin="manual")
    mute = Segment("river", 11.0, 15.0, origin="mute")  # mutes the river, not the fire under it
    merged = merge_segments(autos, [manual_dog, manual_fire, mute])
    summary = [(s.class_name, s.start, s.end, s.origin) for s in merged]
    assert summary == [
        ("fire", 0.0, 6.0, "auto"),
        ("dog_barking", 3.0, 4.0, "manual"),
        ("fire", 6.0, 7.0, "manual"),
        ("fire", 7.0, 10.0, "auto"),
        ("fire", 11.0, 13.0, "auto"),
        ("river", 11.0, 15.0, "mute"),
    ]
    assert merged[4] is autos[2]  # untouched by the river mute: the very same effect
    assert [s.class_name for s in audible(merged)] == ["fire", "dog_barking", "fire", "fire", "fire"]


def test_merge_drops_slivers_and_ignores_autos_in_edited_list():
    autos = [Segment("fire", 0.0, 3.0005)]
    edited = [Segment("fire", 0.0, 3.0, origin="manual"), Segment("wave", 5, 6, origin="auto")]
    merged = merge_segments(autos, edited, min_length=0.01)
    assert [(s.class_name, s.origin) for s in merged] == [("fire", "manual")]


def test_merge_drops_fragments_shorter_than_one_frame_keeps_one_frame():
    frame = 0.04
    autos = [Segment("fire", 0.0, 1.0), Segment("river", 0.0, 1.0)]
    edited = [Segment("fire", 0.02, 0.98, origin="manual"),   # leaves half a frame on each side
              Segment("river", 0.04, 0.96, origin="manual")]  # leaves exactly one frame each side
    merged = merge_segments(autos, edited, min_length=min_frame_length(frame))
    summary = [(s.class_name, s.start, s.end, s.origin) for s in merged]
    assert summary == [
        ("river", 0.0, 0.04, "auto"),
        ("fire", 0.02, 0.98, "manual"),
        ("river", 0.04, 0.96, "manual"),
        ("river", 0.96, 1.0, "auto"),
    ]


def test_json_round_trip():
    s = Segment("fire", 1.25, 2.5, origin="manual", variation="fire/a.ogg", gain_db=-3.0, mode="loop")
    back = Segment.from_json(s.to_json())
    assert back == s


@pytest.mark.parametrize("start, end", [
    (848 / 24, 849 / 24),                 # the demo's lightning edge, 35.333333333333336
    (0.1 + 0.2, 1 / 3 + 1),                # neither has a short decimal form
    (123456.78901234567, 123456.7890123457),
    (5e-324, 1e-300),                      # the smallest positive floats
    (MAX_DURATION - 1e-6, MAX_DURATION),
])
def test_times_round_trip_bit_exactly_through_json_text(start, end):
    s = Segment("lightning", start, end, origin="manual", gain_db=-1.0 / 3)
    back = Segment.from_json(json.loads(json.dumps(s.to_json())))
    assert (back.start, back.end, back.gain_db) == (start, end, -1.0 / 3)
    assert back.start.hex() == start.hex() and back.end.hex() == end.hex()


def test_old_files_without_origin_or_with_null_gain_load_as_manual():
    old = {"class": "fire", "start": 1.0, "end": 2.0, "gain_db": None, "variation": None}
    s = Segment.from_json(old)
    assert (s.origin, s.gain_db, s.variation, s.mode) == ("manual", 0.0, None, None)


GOOD = {"class": "fire", "start": 1.0, "end": 2.0, "origin": "auto", "variation": "fire/a.wav",
        "gain_db": -3.0, "mode": "loop"}

BAD = [
    ("not an object", ["fire", 1.0, 2.0], "segment"),
    ("class missing", {k: v for k, v in GOOD.items() if k != "class"}, "class"),
    ("start missing", {k: v for k, v in GOOD.items() if k != "start"}, "start"),
    ("class as a path", GOOD | {"class": "../../etc"}, "class"),
    ("class with a slash", GOOD | {"class": "fire/x"}, "class"),
    ("class empty", GOOD | {"class": ""}, "class"),
    ("class a number", GOOD | {"class": 3}, "class"),
    ("start nan", GOOD | {"start": math.nan}, "start"),
    ("end inf", GOOD | {"end": math.inf}, "end"),
    ("start text", GOOD | {"start": "1.0"}, "start"),
    ("start bool", GOOD | {"start": True}, "start"),
    ("start negative", GOOD | {"start": -0.5}, "start"),
    ("end past 48 h", GOOD | {"end": MAX_DURATION + 1}, "end"),
    ("end before start", GOOD | {"end": 0.5}, "end"),
    ("empty range", GOOD | {"end": 1.0}, "end"),
    ("unknown origin", GOOD | {"origin": "robot"}, "origin"),
    ("origin null", GOOD | {"origin": None}, "origin"),
    ("absolute variation", GOOD | {"variation": "/etc/passwd"}, "variation"),
    ("windows drive variation", GOOD | {"variation": "C:\\sounds\\a.wav"}, "variation"),
    ("variation escaping", GOOD | {"variation": "fire/../../secret.wav"}, "variation"),
    ("variation backslash escaping", GOOD | {"variation": "..\\x.wav"}, "variation"),
    ("variation a list", GOOD | {"variation": ["a.wav"]}, "variation"),
    ("gain nan", GOOD | {"gain_db": math.nan}, "gain_db"),
    ("gain huge", GOOD | {"gain_db": MAX_GAIN_DB + 1}, "gain_db"),
    ("gain text", GOOD | {"gain_db": "-3"}, "gain_db"),
    ("unknown mode", GOOD | {"mode": "granular"}, "mode"),
    ("mode a list", GOOD | {"mode": ["loop"]}, "mode"),
]


@pytest.mark.parametrize("data, field", [(d, f) for _, d, f in BAD], ids=[n for n, _, _ in BAD])
def test_from_json_refuses_bad_fields_naming_the_field(data, field):
    with pytest.raises(ValueError) as info:
        Segment.from_json(data)
    message = str(info.value)
    assert field in message and "\n" not in message


def test_from_json_accepts_every_good_field():
    s = Segment.from_json(GOOD)
    assert (s.class_name, s.start, s.end, s.origin, s.variation, s.gain_db, s.mode) == (
        "fire", 1.0, 2.0, "auto", "fire/a.wav", -3.0, "loop")
    for mode in ("one_shot", "retrigger", None):
        assert Segment.from_json(GOOD | {"mode": mode}).mode == mode
    assert Segment.from_json(GOOD | {"gain_db": 48}).gain_db == 48.0


def test_merge_keeps_ids_stable_and_never_shares_an_edited_id():
    auto = Segment("fire", 0.0, 10.0)
    manual = Segment("fire", 3.0, 4.0, origin="manual")
    memo: dict = {}
    first = merge_segments([auto], [manual], fragment_ids=memo)
    again = merge_segments([auto], [manual], fragment_ids=memo)
    assert [s.id for s in first] == [s.id for s in again]  # recompute: same pieces, same ids
    assert first[0].id == auto.id  # the first piece is still that effect
    turned_manual = auto.with_(start=0.0, end=2.0, origin="manual")  # edited: keeps its id
    pieces = merge_segments([auto], [turned_manual])
    assert len({s.id for s in pieces}) == len(pieces)
    assert untouched_is_same_object(Segment("river", 20.0, 21.0), [manual])
    assert untouched_is_same_object(Segment("river", 3.0, 4.0), [manual])  # another class


def untouched_is_same_object(seg, edited):
    return any(s is seg for s in merge_segments([seg], edited))
