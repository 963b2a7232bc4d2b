"""Manual effects and mute ranges act per class (DESIGN.md section 2, issue 10 point 7).

A manual effect replaces only automatic effects of its own class; a mute keeps only its own
class away; deleting or relabelling an automatic effect mutes its own class only; moving,
trimming or deleting a manual effect leaves no mute at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.commands import (
    AddSegment,
    DeleteSegment,
    EditSegment,
    SetParams,
    SetSegmentProperties,
    SplitSegment,
)
from sfxstudio.core.document import Document
from sfxstudio.core.segments import Segment
from tests.core.test_document import runs_doc

FPS = 10.0


def summary(doc: Document) -> list[tuple[str, float, float, str]]:
    return [(s.class_name, round(s.start, 9), round(s.end, 9), s.origin) for s in doc.segments]


def mutes(doc: Document) -> list[tuple[str, float, float]]:
    return [(s.class_name, round(s.start, 9), round(s.end, 9)) for s in doc.segments if s.origin == "mute"]


def fire_doc() -> Document:
    """An automatic fire effect 0-10 s, then 10 s of nothing (10 fps analysis)."""
    doc = runs_doc("f" * 100 + "." * 100, fps=FPS)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto")]
    return doc


def fire_and_river_doc() -> Document:
    """Automatic fire 0-4 s and 6-10 s, automatic river 4-6 s."""
    doc = runs_doc("f" * 40 + "r" * 20 + "f" * 40 + "." * 50, fps=FPS)
    assert summary(doc) == [("fire", 0.0, 4.0, "auto"), ("river", 4.0, 6.0, "auto"),
                            ("fire", 6.0, 10.0, "auto")]
    return doc


def test_manual_of_another_class_leaves_the_auto_whole() -> None:
    """The reproduction: draw, move, delete a manual river over an automatic fire."""
    doc = fire_doc()
    fire = doc.segments[0]
    river = Segment("river", 2.0, 4.0, origin="manual")
    AddSegment(river).do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto"), ("river", 2.0, 4.0, "manual")]
    assert doc.segments[0] is fire  # the very same effect, untouched
    EditSegment(river.id, start=6.0, end=8.0).do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto"), ("river", 6.0, 8.0, "manual")]
    assert mutes(doc) == []  # moving a manual effect leaves nothing behind
    EditSegment(river.id, end=9.0).do(doc)  # trim
    assert mutes(doc) == []
    DeleteSegment(river.id).do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto")] and doc.segments[0] is fire


def test_manual_of_the_same_class_replaces_the_auto_under_it() -> None:
    doc = fire_doc()
    manual = Segment("fire", 2.0, 4.0, origin="manual", variation="fire/b.wav")
    AddSegment(manual).do(doc)
    assert summary(doc) == [("fire", 0.0, 2.0, "auto"), ("fire", 2.0, 4.0, "manual"),
                            ("fire", 4.0, 10.0, "auto")]
    EditSegment(manual.id, start=12.0, end=14.0).do(doc)  # moved away: the auto comes back
    assert summary(doc) == [("fire", 0.0, 10.0, "auto"), ("fire", 12.0, 14.0, "manual")]
    assert mutes(doc) == []


def test_mute_keeps_only_its_own_class_away() -> None:
    doc = fire_and_river_doc()
    doc.replace_segments(add=[Segment("river", 3.0, 7.0, origin="mute")])
    assert summary(doc) == [("fire", 0.0, 4.0, "auto"), ("river", 3.0, 7.0, "mute"),
                            ("fire", 6.0, 10.0, "auto")]
    for k in (0.0, 0.3, 1.0):  # recomputes keep the rule
        doc.set_params(k=k)
        assert not any(s.class_name == "river" and s.origin == "auto" and s.overlaps(3.0, 7.0)
                       for s in doc.segments)
        assert [(s.start, s.end) for s in doc.segments if s.class_name == "fire"] == [
            (0.0, 4.0), (6.0, 10.0)]


def test_deleting_an_auto_mutes_its_own_class_only() -> None:
    doc = runs_doc("f" * 100 + "." * 100, fps=FPS)
    AddSegment(Segment("river", 2.0, 4.0, origin="manual")).do(doc)
    fire = next(s for s in doc.segments if s.class_name == "fire")
    cmd = DeleteSegment(fire.id)
    cmd.do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "mute"), ("river", 2.0, 4.0, "manual")]
    SetParams(k=0.5).do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "mute"), ("river", 2.0, 4.0, "manual")]
    doc.set_params(k=0.0)
    cmd.undo(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto"), ("river", 2.0, 4.0, "manual")]


def test_relabelling_an_auto_mutes_the_old_class_over_its_range() -> None:
    doc = fire_and_river_doc()
    river = next(s for s in doc.segments if s.class_name == "river")
    cmd = EditSegment(river.id, class_name="cheer")
    cmd.do(doc)
    assert summary(doc) == [("fire", 0.0, 4.0, "auto"), ("cheer", 4.0, 6.0, "manual"),
                            ("river", 4.0, 6.0, "mute"), ("fire", 6.0, 10.0, "auto")]
    assert doc.find(river.id).origin == "manual"  # type: ignore[union-attr]
    doc.set_params(k=0.2)  # the river does not come back on a recompute
    assert not any(s.class_name == "river" and s.origin == "auto" for s in doc.segments)
    doc.set_params(k=0.0)
    cmd.undo(doc)
    assert summary(doc) == [("fire", 0.0, 4.0, "auto"), ("river", 4.0, 6.0, "auto"),
                            ("fire", 6.0, 10.0, "auto")]


def test_relabelling_a_manual_leaves_no_mute() -> None:
    doc = fire_doc()
    manual = Segment("fire", 12.0, 14.0, origin="manual")
    AddSegment(manual).do(doc)
    EditSegment(manual.id, class_name="river").do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto"), ("river", 12.0, 14.0, "manual")]
    manual2 = Segment("fire", 3.0, 5.0, origin="manual")  # over the fire auto
    AddSegment(manual2).do(doc)
    EditSegment(manual2.id, class_name="cheer").do(doc)  # the fire auto comes back whole
    assert summary(doc) == [("fire", 0.0, 10.0, "auto"), ("cheer", 3.0, 5.0, "manual"),
                            ("river", 12.0, 14.0, "manual")]


def test_moving_or_trimming_an_auto_mutes_its_original_range_for_its_class() -> None:
    doc = fire_and_river_doc()
    river = next(s for s in doc.segments if s.class_name == "river")
    EditSegment(river.id, start=5.0, end=7.0).do(doc)  # later by 1 s
    assert summary(doc) == [("fire", 0.0, 4.0, "auto"), ("river", 4.0, 6.0, "mute"),
                            ("river", 5.0, 7.0, "manual"), ("fire", 6.0, 10.0, "auto")]
    doc2 = fire_and_river_doc()
    fire = doc2.segments[0]
    EditSegment(fire.id, end=3.0).do(doc2)  # trim: the automatic fire is taken over, fire only
    assert summary(doc2) == [("fire", 0.0, 3.0, "manual"), ("fire", 0.0, 4.0, "mute"),
                             ("river", 4.0, 6.0, "auto"), ("fire", 6.0, 10.0, "auto")]
    # Deleting the trimmed piece later does not bring the automatic fire back.
    DeleteSegment(fire.id).do(doc2)
    assert summary(doc2) == [("fire", 0.0, 4.0, "mute"), ("river", 4.0, 6.0, "auto"),
                             ("fire", 6.0, 10.0, "auto")]


def test_moving_an_auto_to_another_class_and_place_mutes_all_of_its_old_range() -> None:
    doc = fire_and_river_doc()
    river = next(s for s in doc.segments if s.class_name == "river")
    EditSegment(river.id, start=5.0, end=7.0, class_name="cheer").do(doc)
    assert mutes(doc) == [("river", 4.0, 6.0)]
    assert ("cheer", 5.0, 7.0, "manual") in summary(doc)


def test_moving_an_auto_over_its_own_class_mutes_only_its_own_range() -> None:
    doc = runs_doc("f" * 40 + "." * 20 + "f" * 40 + "." * 50, fps=FPS)  # fire 0-4 and 6-10
    manual = Segment("fire", 3.0, 5.0, origin="manual")
    AddSegment(manual).do(doc)
    second = next(s for s in doc.segments if s.origin == "auto" and s.start == 6.0)
    EditSegment(second.id, start=8.0, end=12.0).do(doc)
    assert mutes(doc) == [("fire", 6.0, 10.0)]
    assert ("fire", 0.0, 3.0, "auto") in summary(doc)  # the other automatic fire is untouched


def test_split_makes_two_manual_halves_and_deleting_one_stays_silent() -> None:
    doc = fire_and_river_doc()
    river = next(s for s in doc.segments if s.class_name == "river")
    SplitSegment(river.id, 5.0).do(doc)
    assert summary(doc) == [("fire", 0.0, 4.0, "auto"), ("river", 4.0, 5.0, "manual"),
                            ("river", 4.0, 6.0, "mute"), ("river", 5.0, 6.0, "manual"),
                            ("fire", 6.0, 10.0, "auto")]
    left = doc.find(river.id)
    assert left is not None and left.end == 5.0
    DeleteSegment(river.id).do(doc)  # a manual half: the automatic river it came from stays gone
    assert mutes(doc) == [("river", 4.0, 6.0)]
    assert not any(s.class_name == "river" and s.origin == "auto" for s in doc.segments)
    assert ("fire", 0.0, 4.0, "auto") in summary(doc)  # other classes untouched


def test_properties_make_an_auto_manual_and_take_it_over() -> None:
    doc = fire_and_river_doc()
    river = next(s for s in doc.segments if s.class_name == "river")
    SetSegmentProperties(river.id, gain_db=-6.0).do(doc)
    assert summary(doc)[1:3] == [("river", 4.0, 6.0, "manual"), ("river", 4.0, 6.0, "mute")]
    EditSegment(river.id, start=7.0, end=9.0).do(doc)  # moving the manual one leaves no new mute
    assert mutes(doc) == [("river", 4.0, 6.0)]


def test_deleting_a_manual_leaves_no_mute_even_over_autos_of_its_class() -> None:
    doc = fire_doc()
    manual = Segment("fire", 2.0, 4.0, origin="manual")
    AddSegment(manual).do(doc)
    DeleteSegment(manual.id).do(doc)
    assert summary(doc) == [("fire", 0.0, 10.0, "auto")]


def _tone_level(mix: np.ndarray, rate: int, t0: float, t1: float, freq: float) -> float:
    """Amplitude of a sine at `freq` in mix[t0:t1] (left channel), by projection."""
    x = mix[int(t0 * rate): int(t1 * rate), 0].astype(np.float64)
    t = np.arange(len(x)) / rate
    return float(2 * abs(np.sum(x * np.exp(-2j * np.pi * freq * t))) / len(x))


def test_rendered_fire_keeps_sounding_under_a_manual_river(make_sound, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sfxstudio import pipeline
    from sfxstudio.media.library import SoundLibrary
    from sfxstudio.media.render import SAMPLE_RATE

    make_sound("lib/fire/a.wav", seconds=2.0, rate=SAMPLE_RATE, freq=440.0, amplitude=0.2)
    make_sound("lib/river/a.wav", seconds=2.0, rate=SAMPLE_RATE, freq=1000.0, amplitude=0.2)
    library = SoundLibrary.load(tmp_path / "lib")
    doc = fire_doc()
    alone = pipeline.render_project(doc.project, library, duration=20.0)
    river = Segment("river", 2.0, 4.0, origin="manual")
    AddSegment(river).do(doc)
    both = pipeline.render_project(doc.project, library, duration=20.0)
    fire_alone = _tone_level(alone, SAMPLE_RATE, 2.5, 3.5, 440.0)
    assert fire_alone > 0.02
    assert _tone_level(both, SAMPLE_RATE, 2.5, 3.5, 440.0) == pytest.approx(fire_alone, rel=0.05)
    assert _tone_level(both, SAMPLE_RATE, 2.5, 3.5, 1000.0) > 0.02  # the river sounds too
    EditSegment(river.id, start=12.0, end=14.0).do(doc)  # moved away: nothing left behind
    moved = pipeline.render_project(doc.project, library, duration=20.0)
    assert _tone_level(moved, SAMPLE_RATE, 2.5, 3.5, 440.0) == pytest.approx(fire_alone, rel=0.05)
    assert _tone_level(moved, SAMPLE_RATE, 12.5, 13.5, 1000.0) > 0.02
    DeleteSegment(river.id).do(doc)
    gone = pipeline.render_project(doc.project, library, duration=20.0)
    np.testing.assert_allclose(gone, alone, atol=1e-6)


def test_a_piece_taken_over_keeps_its_id_alone_when_its_mute_moves_away() -> None:
    """Found by the property test: an automatic piece (a clipped fragment with a remembered id)
    is moved by the editor (it becomes manual, same id; a mute takes its place); when that mute
    is moved away, the piece comes back as automatic and must get a new id, not the manual's."""
    doc = fire_doc()
    AddSegment(Segment("fire", 2.0, 4.0, origin="manual")).do(doc)  # fire auto: 0-2 and 4-10
    tail = next(s for s in doc.segments if s.origin == "auto" and s.start == 4.0)
    EditSegment(tail.id, start=12.0, end=18.0, class_name="river").do(doc)
    mute = next(s for s in doc.segments if s.origin == "mute")
    EditSegment(mute.id, start=14.0, end=20.0).do(doc)
    ids = [s.id for s in doc.segments]
    assert len(ids) == len(set(ids)), summary(doc)
    assert ("fire", 4.0, 10.0, "auto") in summary(doc)  # the classifier's fire is back there
    assert doc.find(tail.id).class_name == "river"  # type: ignore[union-attr]
