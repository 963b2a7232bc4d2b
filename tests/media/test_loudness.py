"""Loudness: BS.1770-4 integrated loudness against literal references, pyloudnorm and ffmpeg's
ebur128 meter; true peak (4x) against known inter-sample peaks and a full oversampling."""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest

from sfxstudio.media import loudness as L
from sfxstudio.media.audio_io import write_wav
from sfxstudio.media.export import find_ffmpeg

RATE = 48000


def _sine(freq: float, seconds: float, dbfs: float, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + phase)
    return np.stack([x, x], axis=1).astype(np.float32)


def _program(seconds: float = 12.0, seed: int = 0) -> np.ndarray:
    """Noise and a tone with pauses and a quiet passage: the gates have something to do."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 997 * t) * (t % 4 < 2.5)
    noise = 0.05 * rng.standard_normal(n) * np.where(t > seconds / 2, 0.05, 1.0)
    return np.stack([tone + noise, 0.5 * tone - noise], axis=1).astype(np.float32)


def test_ebu_3341_case_1_stereo_sine_at_minus_23():
    # EBU Tech 3341 test 1: 1 kHz sine at -23 dBFS in both channels reads -23.0 LUFS.
    assert L.integrated_loudness(_sine(1000, 20, -23.0)) == pytest.approx(-23.0, abs=0.1)


def test_ebu_3341_case_3_relative_gate():
    # Test 3: -36 dBFS 10 s, -23 dBFS 60 s, -36 dBFS 10 s reads -23.0 (the quiet parts are gated).
    x = np.concatenate([_sine(1000, 10, -36.0), _sine(1000, 60, -23.0), _sine(1000, 10, -36.0)])
    assert L.integrated_loudness(x) == pytest.approx(-23.0, abs=0.1)


def test_matches_pyloudnorm():
    import pyloudnorm

    x = _program()
    ref = pyloudnorm.Meter(RATE).integrated_loudness(x.astype(np.float64))
    assert L.integrated_loudness(x) == pytest.approx(ref, abs=0.01)


def test_silence_and_too_short_are_minus_infinity():
    assert L.integrated_loudness(np.zeros((RATE * 2, 2), np.float32)) == -math.inf
    assert L.integrated_loudness(_sine(1000, 0.3, -10)) == -math.inf
    assert L.true_peak(np.zeros((100, 2), np.float32)) == -math.inf


def test_sound_loudness_measures_short_sounds_ungated():
    short = _sine(1000, 0.2, -20.0)
    assert L.sound_loudness(short) == pytest.approx(-20.0, abs=0.3)


def test_true_peak_finds_inter_sample_peak():
    # fs/4 at 45 degrees: every sample is at 0.707 of the wave's peak (-3 dB under it).
    x = _sine(RATE / 4, 1.0, -6.0, phase=math.pi / 4)
    sample_peak = 20 * math.log10(float(np.abs(x).max()))
    tp = L.true_peak(x)
    assert sample_peak == pytest.approx(-6.0 - 3.01, abs=0.01)
    assert tp == pytest.approx(-6.0, abs=0.3)


def test_true_peak_search_equals_oversampling_everything():
    from scipy.signal import resample_poly

    rng = np.random.default_rng(3)
    x = _program(8.0) * np.float32(1.5)
    x[rng.integers(0, x.shape[0], 5)] *= 3  # a few isolated spikes
    h, bound = L._oversampling_filter(4)
    full = np.abs(resample_poly(x.astype(np.float64), 4, 1, axis=0, window=h)).max()
    # The filter's own sample phase is 0.9995, not 1: a true peak never reads under the sample peak.
    expected = max(full, float(np.abs(x).max()))
    assert bound > 1.0
    # float32 arithmetic on noise-like material (the full pass): within 1e-5 dB of float64.
    assert L.true_peak(x) == pytest.approx(20 * math.log10(expected), abs=1e-5)
    quiet_tail = x.copy()
    quiet_tail[: x.shape[0] // 2] *= np.float32(0.01)  # the search must still find a late peak
    full = np.abs(resample_poly(quiet_tail.astype(np.float64), 4, 1, axis=0, window=h)).max()
    assert L.true_peak(quiet_tail) == pytest.approx(
        20 * math.log10(max(full, float(np.abs(quiet_tail).max()))), abs=1e-5)


def test_true_peak_of_noise_and_of_a_few_spikes_take_both_paths():
    """Noise rules out too few blocks (the full pass); a lone spike rules out almost all (the
    search): both must equal oversampling everything."""
    from scipy.signal import resample_poly

    h, _ = L._oversampling_filter(4)
    rng = np.random.default_rng(5)
    noise = (rng.standard_normal((RATE * 3, 2)) * 0.1).astype(np.float32)
    spike = noise * np.float32(0.01)
    spike[RATE + 7 : RATE + 9, 1] = 0.7  # the inter-sample peak lies between these two
    for x in (noise, spike, noise[: RATE // 3 + 11]):
        full = np.abs(resample_poly(x.astype(np.float64), 4, 1, axis=0, window=h)).max()
        expected = 20 * math.log10(max(full, float(np.abs(x).max())))
        assert L.true_peak(x) == pytest.approx(expected, abs=1e-5)
    assert L.true_peak(spike) > 20 * math.log10(0.7) + 0.5


def test_mix_loudness_is_exact_for_any_gain():
    a, b = _program(10, seed=1), _program(10, seed=2)[::-1].copy()
    pa, pb, pab = L.pair_powers(a, b)
    for g in (0.0, 0.3, 1.0, 2.5):
        assert L.mix_loudness(pa, pb, pab, g) == pytest.approx(
            L.integrated_loudness(a + np.float32(g) * b), abs=1e-6)


def test_effects_gain_for_mix_hits_target_or_says_it_cannot():
    original = _sine(440, 10, -40.0)
    effects = _program(10)
    gain = L.effects_gain_for_mix(original, effects, -23.0)
    assert gain is not None
    mix = original + effects * np.float32(10 ** (gain / 20))
    assert L.integrated_loudness(mix) == pytest.approx(-23.0, abs=0.01)
    loud_original = _sine(440, 10, -6.0)
    assert L.effects_gain_for_mix(loud_original, effects, -23.0) is None


def test_normalisation_respects_the_true_peak_ceiling():
    quiet_peaky = L.Loudness(integrated=-35.0, true_peak=-3.0)
    norm = L.normalisation_gain(quiet_peaky, -23.0, -1.0)
    assert norm.limited_by_peak and norm.after.true_peak <= -1.0
    assert norm.gain_db == pytest.approx(2.0 - L.TRUE_PEAK_SAFETY_DB)
    assert "below the -23 LUFS target" in norm.note(-23.0)
    plain = L.normalisation_gain(L.Loudness(-30.0, -12.0), -23.0, -1.0)
    assert plain.gain_db == pytest.approx(7.0) and not plain.limited_by_peak
    assert L.normalisation_gain(L.Loudness(-math.inf, -math.inf), -23.0).gain_db == 0.0


def _ebur128(path) -> tuple[float, float]:
    r = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostats", "-i", str(path),
                        "-af", "ebur128=peak=true", "-f", "null", "-"],
                       capture_output=True, text=True, check=True)
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", r.stderr)[-1])
    peak = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", r.stderr)[-1])
    return integrated, peak


def test_agrees_with_ffmpeg_ebur128(tmp_path):
    x = _program(12)
    path = write_wav(tmp_path / "p.wav", x, RATE)
    integrated, peak = _ebur128(path)
    ours = L.measure(x)
    assert ours.integrated == pytest.approx(integrated, abs=0.1)
    assert ours.true_peak == pytest.approx(peak, abs=0.5)


def test_library_variations_play_at_matched_loudness(tmp_path, monkeypatch):
    import json

    import soundfile as sf

    from sfxstudio.media import loudness_cache
    from sfxstudio.media.library import SoundLibrary

    monkeypatch.setenv("SFXSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    loudness_cache.reset_memory()
    for name, db in (("dog/loud.wav", -10.0), ("dog/soft.wav", -30.0), ("cat/only.wav", -30.0)):
        (tmp_path / "lib" / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / "lib" / name, _sine(1000, 1.0, db), RATE, subtype="PCM_24")
    lib = SoundLibrary.load(tmp_path / "lib")
    loud, soft = L.sound_loudness(lib.samples("dog/loud.wav")), L.sound_loudness(lib.samples("dog/soft.wav"))
    assert loud == pytest.approx(-20.0, abs=0.1) and soft == pytest.approx(-20.0, abs=0.1)
    assert L.sound_loudness(lib.samples("cat/only.wav")) == pytest.approx(-30.0, abs=0.1)  # nothing to match
    cache = json.loads((tmp_path / "cache" / "sound_loudness.json").read_text())
    assert len(cache) == 2 and all(e["lufs"] < -9 for e in cache.values())
    # measured once: a new library reads the cache instead of measuring again
    loudness_cache.reset_memory()
    monkeypatch.setattr(L, "sound_loudness", lambda *_a: pytest.fail("measured again"))
    again = SoundLibrary.load(tmp_path / "lib")
    assert L.integrated_loudness(again.samples("dog/soft.wav")) == pytest.approx(-20.0, abs=0.1)
    loudness_cache.reset_memory()
