"""Audio decoding to float32 stereo 48 kHz, downmixing, resampling quality and WAV writing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.media.audio_io import (
    SAMPLE_RATE,
    decode_audio,
    decode_video_audio,
    downmix_matrix,
    write_wav,
)


def dominant_freq(signal: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / rate)[np.argmax(spectrum)])


def assert_stereo_48k(data: np.ndarray, seconds: float) -> None:
    assert data.dtype == np.float32
    assert data.ndim == 2 and data.shape[1] == 2
    assert data.shape[0] == pytest.approx(seconds * SAMPLE_RATE, abs=2)


@pytest.mark.parametrize(
    ("name", "rate", "subtype"),
    [
        ("a.wav", 8000, "PCM_16"),
        ("b.wav", 22050, "PCM_24"),
        ("c.wav", 44100, "PCM_32"),
        ("d.wav", 96000, "FLOAT"),
        ("e.flac", 11025, "PCM_16"),
        ("f.flac", 96000, "PCM_24"),
        ("g.ogg", 44100, None),
        ("h.aiff", 48000, "PCM_16"),
    ],
)
def test_formats_rates_and_depths_decode_to_48k_stereo(make_sound, name, rate, subtype):
    data = decode_audio(make_sound(name, seconds=0.5, rate=rate, subtype=subtype, freq=440, amplitude=0.5))
    assert_stereo_48k(data, 0.5)
    # Mono duplicated to both channels, pitch and level preserved through resampling.
    assert np.array_equal(data[:, 0], data[:, 1])
    assert dominant_freq(data[:, 0]) == pytest.approx(440, abs=3)
    assert np.abs(data[1000:-1000, 0]).max() == pytest.approx(0.5, abs=0.03)


def test_stereo_channels_stay_apart(make_sound):
    # write_sound puts freq on the left and 2 * freq on the right.
    data = decode_audio(make_sound("s.wav", seconds=0.5, rate=44100, channels=2, freq=500))
    assert dominant_freq(data[:, 0]) == pytest.approx(500, abs=3)
    assert dominant_freq(data[:, 1]) == pytest.approx(1000, abs=3)


@pytest.mark.parametrize(("freq", "limit_db"), [(1000, -80), (15000, -60)])
def test_resampling_is_band_limited_and_accurate(tmp_path, freq, limit_db):
    rate = 44100
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    sf.write(tmp_path / "sine.wav", tone, rate, subtype="FLOAT")
    data = decode_audio(tmp_path / "sine.wav")
    ideal = 0.5 * np.sin(2 * np.pi * freq * np.arange(data.shape[0]) / SAMPLE_RATE)
    error = data[2000:-2000, 0] - ideal[2000:-2000]
    # Linear interpolation leaves -58 dB at 1 kHz and -11 dB at 15 kHz.
    assert 20 * np.log10(np.sqrt(np.mean(error**2)) / 0.5) < limit_db


def test_other_rate_argument(make_sound):
    data = decode_audio(make_sound("x.wav", seconds=1.0, rate=44100), rate=16000)
    assert data.shape == (16000, 2)


def test_mp3_and_m4a_go_through_ffmpeg(tmp_path):
    import av

    for name, codec in (("tone.mp3", "libmp3lame"), ("tone.m4a", "aac")):
        path = tmp_path / name
        try:
            container = av.open(str(path), "w")
            stream = container.add_stream(codec, rate=44100, layout="mono")
        except (av.error.FFmpegError, ValueError) as exc:  # encoder missing in this FFmpeg build
            pytest.skip(f"{codec} encoder unavailable: {exc}")
        t = np.arange(44100) / 44100
        tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate = 44100
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()
        data = decode_audio(path)
        assert data.dtype == np.float32 and data.shape[1] == 2
        assert data.shape[0] == pytest.approx(48000, rel=0.05)
        assert dominant_freq(data[:, 0]) == pytest.approx(440, abs=3)


def test_surround_is_downmixed_without_clipping(tmp_path):
    # Six full-scale channels in phase: a plain sum would reach 2.4 on each side.
    rate = 48000
    t = np.arange(rate // 2) / rate
    tone = np.sin(2 * np.pi * 300 * t).astype(np.float32)
    sf.write(tmp_path / "six.wav", np.stack([tone] * 6, axis=1) * 0.99, rate, subtype="PCM_24")
    data = decode_audio(tmp_path / "six.wav")
    assert_stereo_48k(data, 0.5)
    assert np.abs(data).max() <= 1.0
    assert np.abs(data).max() > 0.5  # downmixed, not muted


def test_downmix_matrix_follows_the_usual_gains():
    m = downmix_matrix(["FL", "FR", "FC", "LFE", "BL", "BR"])
    assert m.shape == (6, 2)
    assert m[3].tolist() == [0.0, 0.0]  # LFE is not folded into the stereo mix
    assert m[2, 0] == pytest.approx(m[2, 1])  # centre goes to both sides equally
    assert m[0, 1] == 0 and m[1, 0] == 0  # left stays left
    assert m[:, 0].sum() == pytest.approx(1.0) and m[:, 1].sum() == pytest.approx(1.0)
    assert m[2, 0] / m[0, 0] == pytest.approx(np.sqrt(0.5))  # centre at -3 dB
    assert downmix_matrix(["FC"]).tolist() == [[1.0, 1.0]]


# -- bad input ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(BadInputError, match="not found") as err:
        decode_audio(tmp_path / "gone.wav")
    assert "gone.wav" in str(err.value)


def test_empty_file(tmp_path):
    (tmp_path / "empty.ogg").touch()
    with pytest.raises(BadInputError, match="empty"):
        decode_audio(tmp_path / "empty.ogg")


def test_text_file_renamed_wav(tmp_path):
    path = tmp_path / "readme.wav"
    path.write_text("not audio at all\n" * 40)
    with pytest.raises(BadInputError) as err:
        decode_audio(path)
    assert str(path) in str(err.value)


def test_wav_without_samples(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros((0, 1), np.float32), 44100)
    with pytest.raises(BadInputError, match="no audio samples"):
        decode_audio(path)


def test_video_without_audio_is_not_audio(make_video):
    path = make_video(seconds=0.5)
    with pytest.raises(BadInputError, match="no audio stream") as err:
        decode_audio(path)
    assert str(path) in str(err.value)


# -- a video's own soundtrack ---------------------------------------------------------------------


def test_video_audio_none_without_a_track(make_video):
    assert decode_video_audio(make_video(seconds=0.5)) is None


def test_video_audio_is_the_track_at_48k(make_video):
    data = decode_video_audio(make_video(seconds=1.0, fps=10, audio=True, audio_freq=440))
    assert data is not None
    assert_stereo_48k(data, 1.0)
    assert dominant_freq(data[2000:-2000, 0]) == pytest.approx(440, abs=3)


def test_video_audio_starts_at_the_first_frame(make_video):
    # Video frames start at 0.5 s, the soundtrack at 0: sample 0 must be the sound at 0.5 s.
    path = make_video(times=[0.5 + n / 10 for n in range(10)], fps=10, audio=True, audio_freq=100)
    data = decode_video_audio(path)
    assert data is not None
    assert data.shape[0] == pytest.approx(1.0 * SAMPLE_RATE, abs=1100)  # audio 0..1.5 s, cut 0.5 s
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    aligned = 0.25 * np.sin(2 * np.pi * 100 * (t + 0.5))
    misaligned = 0.25 * np.sin(2 * np.pi * 100 * t + np.pi / 2)  # what 2.5 ms off would look like
    segment = data[: SAMPLE_RATE // 2, 0]
    assert np.corrcoef(segment, aligned)[0, 1] > 0.99
    assert np.corrcoef(segment, aligned)[0, 1] > np.corrcoef(segment, misaligned)[0, 1]


# -- writing ----------------------------------------------------------------------------------


def test_write_wav_round_trip_24_bit(tmp_path):
    data = (0.5 * np.sin(np.linspace(0, 100, 4800))).astype(np.float32)
    stereo = np.stack([data, -data], axis=1)
    target = tmp_path / "mix.wav"
    write_wav(target, stereo)
    info = sf.info(target)
    assert (info.samplerate, info.channels, info.subtype) == (48000, 2, "PCM_24")
    back, _ = sf.read(target, dtype="float32")
    assert np.abs(back - stereo).max() < 1e-6
    assert [p.name for p in tmp_path.iterdir()] == ["mix.wav"]  # no temporary file left


def test_write_wav_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "mix.wav"
    target.write_bytes(b"old")
    with pytest.raises(ExportError):
        write_wav(target, np.zeros((10, 2), np.float32), subtype="NOT_A_SUBTYPE")
    assert target.read_bytes() == b"old"
    with pytest.raises(ExportError):
        write_wav(tmp_path / "missing" / "x.wav", np.zeros((10, 2), np.float32))
