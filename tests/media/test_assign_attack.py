"""Effects whose hits land on visual events prefer sounds that arrive at once (issue 13): a
storm's flashes get cracks, and a swelling rumble is heard only where no crack is left."""

from __future__ import annotations

import itertools

import numpy as np

from sfxstudio.core.segments import Segment
from sfxstudio.media.assign import assign_sounds
from sfxstudio.media.render import attack_rise

RATE = 48_000


def crack(seconds: float = 1.0) -> np.ndarray:
    n = round(seconds * RATE)
    return np.repeat((0.8 * np.exp(-np.arange(n) / 8000.0))[:, None], 2, axis=1).astype(np.float32)


def swell(seconds: float = 1.0, silence: float = 0.1, rise: float = 0.3) -> np.ndarray:
    """Silence, then a linear swell over `rise` s to full level, then a decay."""
    t = np.arange(round(seconds * RATE)) / RATE
    env = np.clip((t - silence) / rise, 0.0, 1.0) * np.exp(-np.maximum(t - silence - rise, 0.0) * 2)
    return np.repeat(env[:, None], 2, axis=1).astype(np.float32) * 0.8


class Lib:
    def __init__(self, sounds: dict[str, np.ndarray], mode: str = "one_shot") -> None:
        from sfxstudio.core.classes import SoundAttributes

        self.sounds, self.attrs = sounds, SoundAttributes(mode=mode)  # type: ignore[arg-type]

    def variations(self, cls: str) -> list[str]:
        return sorted(f for f in self.sounds if f.startswith(f"{cls}/"))

    def attributes(self, cls: str) -> object:
        return self.attrs

    def samples(self, path: str) -> np.ndarray:
        return self.sounds[path]


def test_attack_rise_is_the_swell_after_the_attack_not_the_files_silence() -> None:
    assert attack_rise(crack()) < 0.011
    # 0.3 s linear swell: within 6 dB (half the amplitude) after about 0.15 s; silence not counted
    assert 0.13 <= attack_rise(swell(silence=0.1)) <= 0.17
    assert abs(attack_rise(swell(silence=0.4)) - attack_rise(swell(silence=0.1))) < 0.011
    assert attack_rise(np.zeros((4800, 2), np.float32)) == 0.0
    assert attack_rise(np.zeros((0, 2), np.float32)) == 0.0


def storm(n: int) -> list[Segment]:
    return [Segment("lightning", 10.0 * i, 10.0 * i + 4.0) for i in range(n)]


def hits_for(segs: list[Segment]) -> dict[int, list[float]]:
    return {s.id: [s.start + 0.2, s.start + 1.5, s.start + 2.5] for s in segs}


def test_hit_effects_get_the_cracks_and_neighbours_still_differ() -> None:
    lib = Lib({"lightning/a_rumble.wav": swell(2.0), "lightning/b_crack.wav": crack(2.0),
               "lightning/c_crack.wav": crack(2.0)})
    segs = storm(6)
    got = assign_sounds(segs, lib, onsets=hits_for(segs))
    seq = [got[s.id] for s in segs]
    assert "lightning/a_rumble.wav" not in seq
    assert all(a != b for a, b in itertools.pairwise(seq))
    # without visual onsets nothing prefers the crack: the rumble gets its share
    plain = assign_sounds(segs, lib)
    assert "lightning/a_rumble.wav" in plain.values()


def test_with_one_crack_the_neighbour_rule_still_wins_over_the_attack() -> None:
    lib = Lib({"lightning/a_rumble.wav": swell(2.0), "lightning/b_crack.wav": crack(2.0)})
    segs = storm(4)
    got = assign_sounds(segs, lib, onsets=hits_for(segs))
    seq = [got[s.id] for s in segs]
    assert all(a != b for a, b in itertools.pairwise(seq))


def test_loops_do_not_care_about_attacks() -> None:
    lib = Lib({"rain/a_swell.wav": swell(3.0), "rain/b_crack.wav": crack(3.0)}, mode="loop")
    segs = [Segment("rain", 10.0 * i, 10.0 * i + 4.0) for i in range(6)]
    on = assign_sounds(segs, lib, onsets={s.id: [s.start + 1.0] for s in segs})
    assert on == assign_sounds(segs, lib)
