"""The float32 K-weighting sections (issue 14's export speed) read as pyloudnorm's float64
filters do, on the material where a float32 filter would drift first: low frequencies next to
the high pass's corner, very quiet programmes, a DC offset, and long signals (state carried
across many chunks)."""

from __future__ import annotations

import numpy as np
import pytest

from sfxstudio.media import loudness as L

RATE = 48000


def _reference(x: np.ndarray) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(RATE).integrated_loudness(x.astype(np.float64)))


def _tone(freq: float, seconds: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * freq * t)
    return np.stack([x, 0.5 * x], axis=1).astype(np.float32)


@pytest.mark.parametrize(("freq", "dbfs"), [(25.0, -20.0), (45.0, -30.0), (1000.0, -65.0), (8000.0, -10.0)])
def test_tones_match_pyloudnorm(freq, dbfs):
    x = _tone(freq, 6.0, dbfs)
    assert L.integrated_loudness(x) == pytest.approx(_reference(x), abs=0.005)


def test_quiet_noise_with_a_dc_offset_over_many_chunks_matches_pyloudnorm():
    rng = np.random.default_rng(3)
    n = RATE * 50  # 2.5 filtering chunks: the state must carry over exactly
    x = (rng.standard_normal((n, 2)) * 10 ** (-55 / 20) + 0.2).astype(np.float32)
    x[n // 3 : n // 3 + RATE * 4] *= 30.0  # a louder passage, so the relative gate matters
    assert L.integrated_loudness(x) == pytest.approx(_reference(x), abs=0.005)


def test_pair_powers_of_a_mix_match_pyloudnorm():
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((RATE * 30, 2)) * 0.05).astype(np.float32)
    b = _tone(60.0, 30.0, -24.0)
    pa, pb, pab = L.pair_powers(a, b)
    for g in (0.25, 1.0, 3.0):
        assert L.mix_loudness(pa, pb, pab, g) == pytest.approx(_reference(a + np.float32(g) * b), abs=0.005)
