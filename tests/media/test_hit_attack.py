"""A hit's sound lands with its attack on the onset, not with its file's leading silence."""

import numpy as np

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.media.render import Placement, render_placement

RATE = 48_000


def _sound(lead_s: float) -> np.ndarray:
    x = np.zeros((int(RATE * (lead_s + 0.2)), 2), np.float32)
    n = int(RATE * lead_s)
    x[n:] = 0.5 * np.exp(-np.arange(x.shape[0] - n) / 2000.0)[:, None]  # an attack after `lead_s` silence
    return x


def _first_loud(block: np.ndarray, s0: int) -> float:
    return (s0 + int(np.argmax(np.abs(block).max(axis=1) > 0.05))) / RATE


def test_one_shot_and_retrigger_hits_start_at_the_sounds_attack():
    for mode in ("one_shot", "retrigger"):
        attrs = SoundAttributes(mode=mode, fade_in=0.0, fade_out=0.05)
        p = Placement(1.0, 3.0, _sound(0.11), attrs, onsets=[1.5], auto_pan=False)
        s0, block = render_placement(p, RATE)
        assert abs(_first_loud(block, s0) - 1.5) < 0.002  # was 1.61 s: the file's 110 ms of silence


def test_a_loop_keeps_its_leading_silence():
    attrs = SoundAttributes(mode="loop", fade_in=0.0, fade_out=0.05)
    s0, block = render_placement(Placement(1.0, 3.0, _sound(0.11), attrs, auto_pan=False), RATE)
    assert abs(_first_loud(block, s0) - 1.11) < 0.002
