"""Sound assignment (media/assign.py): neighbours differ, files fit, edits never move other
effects' sounds, "no match" when nothing fits, deterministic, re-roll and recompute carry-over."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError, collect_warnings
from sfxstudio.core.segments import Segment
from sfxstudio.media.assign import (
    assign_sounds,
    fit_cost,
    inherit_variations,
    record_assignment,
    reroll,
)
from sfxstudio.media.render import placements_for

RATE = 48000


class Library:
    """files: path -> seconds; modes: class -> mode. Sounds are constant blocks of their length."""

    def __init__(self, files: dict[str, float], modes: dict[str, str] | None = None,
                 broken: tuple[str, ...] = ()) -> None:
        self.files = files
        self.modes = modes or {}
        self.broken = broken
        self.decoded: list[str] = []
        self._cache: dict[str, np.ndarray] = {}

    def attributes(self, cls: str) -> SoundAttributes:
        return SoundAttributes(mode=self.modes.get(cls, "one_shot"))  # type: ignore[arg-type]

    def variations(self, cls: str) -> list[str]:
        return sorted(f for f in self.files if f.startswith(f"{cls}/"))

    def samples(self, path: str) -> np.ndarray:
        if path in self.broken:
            raise BadInputError(path, "cannot decode the audio")
        self.decoded.append(path)
        if path not in self._cache:
            self._cache[path] = np.full((round(self.files[path] * RATE), 2), 0.1, np.float32)
        return self._cache[path]

    def pick_variation(self, cls: str, index: int, seed: int = 0) -> str | None:
        v = self.variations(cls)
        return v[index % len(v)] if v else None


def lib3() -> Library:
    return Library({"dog/a.wav": 0.5, "dog/b.wav": 0.6, "dog/c.wav": 0.4,
                    "rain/r1.wav": 5.0, "rain/r2.wav": 4.0},
                   {"dog": "retrigger", "rain": "loop"})


def effects(cls: str, n: int, step: float = 2.0, length: float = 1.0, t0: float = 0.0) -> list[Segment]:
    return [Segment(cls, t0 + i * step, t0 + i * step + length) for i in range(n)]


def files_in_order(segs: list[Segment], a: dict[int, str | None], cls: str) -> list[str | None]:
    return [a[s.id] for s in sorted(segs, key=lambda s: s.start) if s.class_name == cls]


def shared_neighbours(seq: list[str | None]) -> int:
    return sum(1 for x, y in pairwise(seq) if x is not None and x == y)


# ------------------------------------------------------------------ neighbours, fit, no match


@pytest.mark.parametrize("files", [2, 3, 5])
def test_neighbouring_effects_never_share_a_file_when_the_class_has_two_or_more(files: int) -> None:
    lib = Library({f"dog/{i}.wav": 0.5 for i in range(files)})
    segs = effects("dog", 40)
    a = assign_sounds(segs, lib)
    seq = files_in_order(segs, a, "dog")
    assert None not in seq and shared_neighbours(seq) == 0
    # Every file is used, and evenly: a shuffled deck, not one favourite.
    counts = [seq.count(f"dog/{i}.wav") for i in range(files)]
    assert max(counts) - min(counts) <= 2


def test_a_class_with_one_file_uses_it_for_every_effect() -> None:
    lib = Library({"dog/only.wav": 0.5})
    a = assign_sounds(effects("dog", 5), lib)
    assert set(a.values()) == {"dog/only.wav"}  # a repeat beats silence


def test_neighbours_around_recorded_effects_avoid_their_files() -> None:
    lib = Library({"dog/a.wav": 0.5, "dog/b.wav": 0.5})
    segs = effects("dog", 5)
    segs[0] = segs[0].with_(variation="dog/a.wav")
    segs[4] = segs[4].with_(variation="dog/a.wav")
    seq = files_in_order(segs, assign_sounds(segs, lib), "dog")
    assert seq == ["dog/a.wav", "dog/b.wav", "dog/a.wav", "dog/b.wav", "dog/a.wav"]


def test_a_one_shot_gets_the_file_that_fits_its_length() -> None:
    lib = Library({"door/long.wav": 3.0, "door/short.wav": 0.8})
    a = assign_sounds([Segment("door", 1.0, 2.0)], lib)
    assert list(a.values()) == ["door/short.wav"]  # the 3 s slam would lose two thirds


def test_no_match_when_every_file_is_far_too_long_for_a_one_shot() -> None:
    lib = Library({"glass/a.wav": 4.0, "glass/b.wav": 5.0})
    short = Segment("glass", 1.0, 1.1)  # under 5 % of either file would play
    ok = Segment("glass", 5.0, 7.0)
    a = assign_sounds([short, ok], lib)
    assert a[short.id] is None and a[ok.id] is not None
    with collect_warnings() as lines:
        ps = placements_for([short, ok], lib, assignment=a)
    assert [p.start for p in ps] == [5.0]  # the unmatched effect is silent, not given a stray file
    assert len(lines) == 1 and "glass" in lines[0] and "fits" in lines[0]


def test_a_tiny_loop_over_a_long_effect_does_not_fit() -> None:
    lib = Library({"fire/tick.wav": 0.01, "fire/bed.wav": 6.0}, {"fire": "loop"})
    long = Segment("fire", 0.0, 100.0)  # the tick would repeat 10,000 times
    a = assign_sounds([long], lib, class_variations={"fire": ["fire/tick.wav"]})
    assert a[long.id] is None
    assert assign_sounds([long], lib)[long.id] == "fire/bed.wav"


def test_fit_cost_scale() -> None:
    assert fit_cost("one_shot", 2.0, 1.0) == 0.0  # plays whole
    assert 0.0 < fit_cost("one_shot", 1.0, 3.0) < 1.0  # cut, still fits
    assert fit_cost("one_shot", 0.1, 3.0) >= 1.0  # 3 % would play
    assert fit_cost("loop", 10.0, 1.0) == 0.0
    assert fit_cost("loop", 1000.0, 1.0) > fit_cost("loop", 100.0, 1.0) > 0.0
    assert fit_cost("loop", 1001.0, 1.0) >= 1.0
    assert fit_cost("loop", 1.0, 0.0) == float("inf")


def test_onsets_shrink_the_room_a_one_shot_has() -> None:
    lib = Library({"door/a.wav": 1.8, "door/b.wav": 0.9})
    seg = Segment("door", 0.0, 2.0)
    assert assign_sounds([seg], lib)[seg.id] is not None
    a = assign_sounds([seg], lib, onsets={seg.id: [1.0]})  # 1 s left after the slam
    assert a[seg.id] == "door/b.wav"


# ------------------------------------------------------------------ stability under edits


def assigned_project(n: int = 12) -> tuple[Library, list[Segment]]:
    lib = lib3()
    segs = effects("dog", n) + effects("rain", 4, step=6.0, length=5.0, t0=0.5)
    return lib, record_assignment(segs, assign_sounds(segs, lib, seed=4))


def sounds(segs: list[Segment]) -> dict[int, str | None]:
    return {s.id: s.variation for s in segs}


def test_adding_an_effect_changes_no_other_effects_sound() -> None:
    lib, segs = assigned_project()
    before = sounds(segs)
    new = Segment("dog", 7.0, 7.5)  # between the 4th and 5th dog
    after = record_assignment([*segs, new], assign_sounds([*segs, new], lib, seed=4))
    got = sounds(after)
    assert {k: got[k] for k in before} == before
    seq = [s.variation for s in sorted(after, key=lambda s: s.start) if s.class_name == "dog"]
    assert got[new.id] is not None and shared_neighbours(seq) == 0  # and it fits in


def test_moving_or_deleting_an_effect_changes_no_other_effects_sound() -> None:
    lib, segs = assigned_project()
    before = sounds(segs)
    moved = [s.with_(start=s.start + 0.3, end=s.end + 0.3) if i == 3 else s for i, s in enumerate(segs)]
    assert sounds(record_assignment(moved, assign_sounds(moved, lib, seed=4))) == before
    kept = segs[:5] + segs[6:]
    got = sounds(record_assignment(kept, assign_sounds(kept, lib, seed=4)))
    assert got == {k: v for k, v in before.items() if k != segs[5].id}


def test_recorded_files_fix_the_render_while_rank_picking_would_shift_it() -> None:
    lib, segs = assigned_project()
    dogs = [s for s in segs if s.class_name == "dog"]
    new = Segment("dog", dogs[0].start + 0.5, dogs[0].start + 0.9)  # before every other dog
    old = {p.segment_id: p.variation for p in placements_for(segs, lib)}
    now = {p.segment_id: p.variation for p in placements_for([*segs, new], lib)}
    assert all(now[k] == v for k, v in old.items())
    # Without records the fallback picks by rank: the same edit moves later effects' sounds.
    bare = [s.with_(variation=None) for s in segs]
    old = {p.segment_id: p.variation for p in placements_for(bare, lib)}
    now = {p.segment_id: p.variation for p in placements_for([*bare, new], lib)}
    assert any(now[k] != v for k, v in old.items())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 30), st.sampled_from(["dog", "rain"])),
                min_size=1, max_size=25),
       st.integers(0, 24), st.integers(0, 3))
def test_any_single_edit_keeps_every_other_sound(spec: list[tuple[int, int, str]], pick: int,
                                                 edit: int) -> None:
    lib = lib3()
    segs = [Segment(c, t / 10, t / 10 + d / 10) for t, d, c in spec]
    segs = record_assignment(segs, assign_sounds(segs, lib, seed=1))
    target = segs[pick % len(segs)]
    if edit == 0:
        edited = [*segs, Segment(target.class_name, target.start + 0.05, target.start + 0.15)]
    elif edit == 1:
        edited = [s for s in segs if s.id != target.id]
    elif edit == 2:
        edited = [s.with_(start=s.start + 1.0, end=s.end + 1.0) if s.id == target.id else s for s in segs]
    else:
        edited = [s.with_(class_name="rain" if s.class_name == "dog" else "dog", variation=None)
                  if s.id == target.id else s for s in segs]
    a = assign_sounds(edited, lib, seed=1)
    for s in segs:
        if s.id != target.id:
            assert a[s.id] == s.variation


# ------------------------------------------------------------------ determinism, inputs


def test_deterministic_for_a_seed_and_the_seed_matters() -> None:
    lib = Library({f"dog/{i}.wav": 0.5 for i in range(4)})
    segs = effects("dog", 30)
    a = files_in_order(segs, assign_sounds(segs, lib, seed=11), "dog")
    again = [s.with_() for s in segs]  # same effects, ids kept
    assert files_in_order(again, assign_sounds(again, lib, seed=11), "dog") == a
    fresh = effects("dog", 30)  # same times, new ids: the choice does not hang on ids
    assert files_in_order(fresh, assign_sounds(fresh, lib, seed=11), "dog") == a
    assert files_in_order(segs, assign_sounds(segs, lib, seed=12), "dog") != a


def test_fixed_mutes_otherwise_and_classes_without_files() -> None:
    lib = lib3()
    dog = Segment("dog", 0.0, 1.0)
    mute = Segment("dog", 2.0, 3.0, origin="mute")
    other = Segment("otherwise", 0.0, 5.0)
    cat = Segment("cat", 0.0, 1.0)
    a = assign_sounds([dog, mute, other, cat], lib, fixed={dog.id: "dog/c.wav"})
    assert a == {dog.id: "dog/c.wav", cat.id: None}


def test_overrides_policy_first_and_broken_files() -> None:
    lib = lib3()
    segs = effects("dog", 4)
    a = assign_sounds(segs, lib, class_variations={"dog": ["dog/b.wav"]})
    assert set(a.values()) == {"dog/b.wav"}
    lib.policy = lambda cls: "first"  # type: ignore[attr-defined]
    assert set(assign_sounds(segs, lib).values()) == {"dog/a.wav"}
    del lib.policy  # type: ignore[attr-defined]
    bad = Library({"dog/a.wav": 0.5, "dog/bad.wav": 0.5}, broken=("dog/bad.wav",))
    with collect_warnings() as lines:
        a = assign_sounds(segs, bad)
    assert set(a.values()) == {"dog/a.wav"} and len(lines) == 1 and "dog/bad.wav" in lines[0]


def test_durations_given_means_nothing_is_decoded() -> None:
    lib = lib3()
    segs = effects("dog", 6)
    a = assign_sounds(segs, lib, durations={"dog/a.wav": 0.5, "dog/b.wav": 0.6, "dog/c.wav": 0.4})
    assert lib.decoded == [] and shared_neighbours(files_in_order(segs, a, "dog")) == 0


def test_class_attributes_override_the_mode_used_for_fit() -> None:
    lib = Library({"x/long.wav": 30.0, "x/short.wav": 0.05})
    seg = Segment("x", 0.0, 60.0)
    # As a one-shot the 30 s file is cut in half, the 0.05 s one plays whole: both fit.
    assert assign_sounds([seg], lib)[seg.id] is not None
    # As a loop the short one would repeat 1,200 times: only the long one fits.
    loop = {"x": SoundAttributes(mode="loop")}
    for seed in range(5):
        assert assign_sounds([seg], lib, seed=seed, class_attributes=loop)[seg.id] == "x/long.wav"


# ------------------------------------------------------------------ re-roll, recompute


def test_reroll_picks_a_fitting_file_unlike_the_current_and_neighbours() -> None:
    lib = Library({f"dog/{i}.wav": 0.5 for i in range(4)})
    segs = [s.with_(variation=f"dog/{i}.wav") for i, s in enumerate(effects("dog", 3))]
    mid = segs[1]
    picks = {reroll(mid.id, segs, lib, seed) for seed in range(20)}
    assert picks == {"dog/3.wav"}  # not its own (1), not its neighbours' (0, 2)
    assert reroll(mid.id, segs, lib, 3) == reroll(mid.id, segs, lib, 3)
    two = [s.with_(variation=f"dog/{i % 2}.wav") for i, s in enumerate(segs)]
    three = Library({f"dog/{i}.wav": 0.5 for i in range(3)})
    assert {reroll(two[1].id, two, three, s) for s in range(20)} == {"dog/2.wav"}
    one = Library({"dog/0.wav": 0.5})
    assert reroll(two[0].id, two, one, 0) == "dog/0.wav"  # nothing else: keeps its sound
    with pytest.raises(KeyError):
        reroll(-1, segs, lib, 0)


def test_reroll_uses_the_assignment_for_unrecorded_neighbours() -> None:
    lib = Library({f"dog/{i}.wav": 0.5 for i in range(4)})
    segs = effects("dog", 3)
    a = {segs[0].id: "dog/0.wav", segs[1].id: "dog/1.wav", segs[2].id: "dog/2.wav"}
    assert {reroll(segs[1].id, segs, lib, s, assignment=a) for s in range(10)} == {"dog/3.wav"}
    # With three files every other file is a neighbour's: a repeat beats no re-roll at all.
    three = Library({f"dog/{i}.wav": 0.5 for i in range(3)})
    assert {reroll(segs[1].id, segs, three, s, assignment=a) for s in range(20)} == {"dog/0.wav", "dog/2.wav"}


def test_recompute_keeps_sounds_and_a_split_leaves_the_second_piece_for_assignment() -> None:
    lib = Library({"dog/a.wav": 0.5, "dog/b.wav": 0.5, "dog/c.wav": 0.5})
    old = [Segment("dog", 0.0, 4.0, variation="dog/a.wav"), Segment("dog", 6.0, 8.0, variation="dog/b.wav")]
    new = [old[1].with_(end=8.5),  # same id, edge moved
           Segment("dog", 0.0, 1.5), Segment("dog", 2.5, 4.0)]  # the first effect split in two
    carried = inherit_variations(old, new)
    assert [s.variation for s in carried] == ["dog/b.wav", "dog/a.wav", None]
    final = record_assignment(carried, assign_sounds(carried, lib))
    seq = [s.variation for s in sorted(final, key=lambda s: s.start)]
    assert seq == ["dog/a.wav", "dog/c.wav", "dog/b.wav"]  # the new piece avoids both neighbours
    assert shared_neighbours(seq) == 0
