"""Waveform peaks: min/max per bin of known signals, files and video soundtracks, the cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.media import peaks as peaks_mod
from sfxstudio.media.peaks import clear_cache, file_peaks, peaks_of, samples_per_bin


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def test_sine_peaks_reach_its_amplitude_in_every_bin():
    rate = 48000
    t = np.arange(rate) / rate
    x = 0.5 * np.sin(2 * np.pi * 1000 * t)  # 1 kHz: every 5 ms bin holds five whole periods
    p = peaks_of(x, rate, 200)
    assert p.shape == (200, 2)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p[:, 1], 0.5, atol=1e-3)
    np.testing.assert_allclose(p[:, 0], -0.5, atol=1e-3)


def test_bins_follow_time_and_a_partial_tail_is_kept():
    rate = 1000
    x = np.zeros(1050, dtype=np.float32)
    x[510] = 0.9  # bin 5 of 100-sample bins
    x[1049] = -0.3  # the partial last bin
    p = peaks_of(x, rate, 10)
    assert p.shape == (11, 2)
    assert p[5, 1] == pytest.approx(0.9)
    assert np.count_nonzero(p[:, 1]) == 1
    assert p[10, 0] == pytest.approx(-0.3)


def test_channels_fold_to_the_envelope_of_both():
    rate = 1000
    left = np.zeros(200, np.float32)
    right = np.zeros(200, np.float32)
    left[50] = 0.8
    right[150] = -0.6  # opposite sides in different bins: a mean would halve both
    p = peaks_of(np.stack([left, right], axis=1), rate, 10)
    assert p[0, 1] == pytest.approx(0.8)
    assert p[1, 0] == pytest.approx(-0.6)


def test_empty_and_bad_arguments():
    assert peaks_of(np.zeros((0, 2)), 48000, 200).shape == (0, 2)
    with pytest.raises(ValueError):
        peaks_of(np.zeros(10), 48000, 0)
    with pytest.raises(ValueError):
        peaks_of(np.zeros((2, 2, 2)), 48000, 200)
    assert samples_per_bin(44100, 200) == 220


def test_file_peaks_of_a_sound(make_sound):
    path = make_sound("tone.wav", seconds=0.5, rate=48000, amplitude=0.5, freq=1000)
    p, duration = file_peaks(path)
    assert duration == pytest.approx(0.5, abs=1e-3)
    assert p.shape == (100, 2)
    assert float(p[:, 1].max()) == pytest.approx(0.5, abs=0.01)
    assert not p.flags.writeable  # shared with the cache


def test_file_peaks_of_a_video_soundtrack(make_video):
    p, duration = file_peaks(make_video(seconds=1.0, fps=10, audio=True, audio_freq=440))
    assert duration == pytest.approx(1.0, abs=0.03)
    assert p.shape[0] == pytest.approx(200, abs=6)
    # The fixture's tone is 0.25 (AAC keeps it within a few per cent) from start to end.
    assert float(np.median(p[5:-5, 1])) == pytest.approx(0.25, abs=0.02)


def test_video_without_audio_is_empty(make_video):
    p, duration = file_peaks(make_video(seconds=0.5))
    assert p.shape == (0, 2)
    assert duration == 0.0


def test_cache_reuses_until_the_file_changes(make_sound, monkeypatch):
    path = make_sound("tone.wav", seconds=0.2, rate=48000, amplitude=0.5)
    calls = []
    real = peaks_mod.decode_for_peaks
    monkeypatch.setattr(peaks_mod, "decode_for_peaks", lambda p: calls.append(p) or real(p))
    first = file_peaks(path)
    assert file_peaks(path)[0] is first[0]
    assert len(calls) == 1
    make_sound("tone.wav", seconds=0.3, rate=48000, amplitude=0.2)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new mtime even on coarse clocks
    p, duration = file_peaks(path)
    assert len(calls) == 2
    assert duration == pytest.approx(0.3, abs=1e-3)
    assert float(p[:, 1].max()) == pytest.approx(0.2, abs=0.01)


def test_missing_and_broken_files_name_the_file(tmp_path):
    with pytest.raises(BadInputError, match=r"missing\.wav: file not found"):
        file_peaks(tmp_path / "missing.wav")
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(BadInputError, match=r"bad\.mp4"):
        file_peaks(bad)
