import pytest

from sfxstudio.core.segments import Segment, audible, merge_segments, subtract_ranges


def test_segment_rejects_empty_or_reversed_ranges():
    with pytest.raises(ValueError):
        Segment("fire", 2.0, 2.0)
    with pytest.raises(ValueError):
        Segment("fire", 2.0, 1.0, origin="auto")
    with pytest.raises(ValueError):
        Segment("fire", 1.0, 2.0, origin="robot")  # type: ignore[arg-type]


def test_subtract_ranges():
    assert subtract_ranges(0, 10, [(2, 3), (5, 7)]) == [(0, 2), (3, 5), (7, 10)]
    assert subtract_ranges(0, 10, [(-1, 11)]) == []
    assert subtract_ranges(0, 10, [(0, 4), (3, 6)]) == [(6, 10)]
    assert subtract_ranges(0, 10, [(10, 12)]) == [(0, 10)]


def test_manual_and_mute_ranges_clip_automatic_segments():
    autos = [Segment("fire", 0.0, 10.0), Segment("river", 12.0, 14.0)]
    manual = Segment("dog_barking", 3.0, 4.0, origin="manual")
    mute = Segment("river", 11.0, 15.0, origin="mute")
    merged = merge_segments(autos, [manual, mute])
    summary = [(s.class_name, s.start, s.end, s.origin) for s in merged]
    assert summary == [
        ("fire", 0.0, 3.0, "auto"),
        ("dog_barking", 3.0, 4.0, "manual"),
        ("fire", 4.0, 10.0, "auto"),
        ("river", 11.0, 15.0, "mute"),
    ]
    assert [s.class_name for s in audible(merged)] == ["fire", "dog_barking", "fire"]


def test_merge_drops_slivers_and_ignores_autos_in_edited_list():
    autos = [Segment("fire", 0.0, 3.0005)]
    edited = [Segment("fire", 0.0, 3.0, origin="manual"), Segment("wave", 5, 6, origin="auto")]
    merged = merge_segments(autos, edited, min_length=0.01)
    assert [(s.class_name, s.origin) for s in merged] == [("fire", "manual")]


def test_json_round_trip():
    s = Segment("fire", 1.25, 2.5, origin="manual", variation="fire/a.ogg", gain_db=-3.0, mode="loop")
    back = Segment.from_json(s.to_json())
    assert back == s


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


def untouched_is_same_object(seg, edited):
    return any(s is seg for s in merge_segments([seg], edited))
