"""Broadcast WAV: the bext chunk (EBU Tech 3285) read back by an independent RIFF parser written
here and by ffmpeg; samples as soundfile writes them; SMPTE timecode to seconds."""

from __future__ import annotations

import datetime as dt
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.media.audio_io import write_wav
from sfxstudio.media.bwf import (
    BextInfo,
    read_bext,
    seconds_to_timecode,
    timecode_seconds,
    video_start_timecode,
)
from sfxstudio.media.export import export_wav, find_ffmpeg


def _chunks(path) -> list[tuple[bytes, bytes]]:
    """(id, body) of every chunk in a RIFF/WAVE file, in order (an independent minimal parser)."""
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    assert struct.unpack("<I", raw[4:8])[0] == len(raw) - 8
    out, pos = [], 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        out.append((cid, raw[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size % 2)
    assert pos == len(raw)
    return out


def test_bext_chunk_fields_by_an_independent_parser(tmp_path):
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (4801, 2)).astype(np.float32)
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    info = BextInfo(description="dog_barking effect 3", originator_reference="demo", origination=when,
                    time_reference=3600 * 48000 + 5, loudness_lufs=-23.04, true_peak_dbtp=-1.5)
    path = write_wav(tmp_path / "a.wav", x, 48000, bext=info)
    chunks = _chunks(path)
    assert [c for c, _ in chunks] == [b"fmt ", b"bext", b"data"]
    fmt = struct.unpack("<HHIIHH", chunks[0][1])
    assert fmt == (1, 2, 48000, 48000 * 6, 6, 24)
    bext = chunks[1][1]
    assert bext[:20].rstrip(b"\0") == b"dog_barking effect 3"
    assert bext[256:288].rstrip(b"\0") == b"SFX Studio"
    assert bext[288:320].rstrip(b"\0") == b"demo"
    assert bext[320:338] == b"2024-05-0607:08:09"
    assert struct.unpack("<Q", bext[338:346])[0] == 3600 * 48000 + 5
    assert struct.unpack("<H", bext[346:348])[0] == 2  # loudness fields: version 2
    assert bext[348:412] == b"\0" * 64  # no UMID
    assert struct.unpack("<hh", bext[412:416]) == (-2304, 0x7FFF)  # LoudnessValue, LoudnessRange unset
    assert struct.unpack("<h", bext[416:418]) == (-150,)
    assert bext[602:].startswith(b"A=PCM,F=48000,W=24,M=stereo")
    assert len(chunks[2][1]) == 4801 * 6
    # the samples are what soundfile writes (to the last bit of 24)
    plain = write_wav(tmp_path / "plain.wav", x, 48000)
    a, _ = sf.read(path, dtype="float64")
    b, _ = sf.read(plain, dtype="float64")
    assert np.abs(a - b).max() <= 1.0 / 2**23
    assert read_bext(path)["time_reference"] == 3600 * 48000 + 5
    assert read_bext(plain) is None


def test_full_scale_clips_instead_of_wrapping(tmp_path):
    x = np.array([[1.5, -1.5], [1.0, -1.0], [0.5, 0.0]], dtype=np.float32)
    a, _ = sf.read(write_wav(tmp_path / "c.wav", x, 48000, bext=BextInfo()), dtype="float64")
    assert a[0, 0] == pytest.approx(1.0, abs=2e-7) and a[0, 1] == -1.0
    assert a[2, 0] == 0.5


def test_ffmpeg_reads_the_bwf_metadata(tmp_path):
    path = export_wav(np.zeros((480, 2), np.float32), tmp_path / "fx.wav", 0.01,
                      bext=BextInfo(description="SFX Studio effects track: demo", time_reference=172800000))
    r = subprocess.run([find_ffmpeg(), "-hide_banner", "-i", str(path), "-f", "ffmetadata", "-"],
                       capture_output=True, text=True, check=True)
    assert "comment=SFX Studio effects track: demo" in r.stdout  # bext description
    assert "encoded_by=SFX Studio" in r.stdout  # bext originator
    assert "time_reference=172800000" in r.stdout
    assert sf.info(str(path)).frames == 480


def test_every_effects_track_is_a_bwf(tmp_path):
    path = export_wav(np.zeros((480, 2), np.float32), tmp_path / "fx.wav", 0.02)
    info = read_bext(path)
    assert info is not None and info["originator"] == "SFX Studio" and info["time_reference"] == 0
    assert sf.info(str(path)).frames == 960


@pytest.mark.parametrize(("tc", "fps", "seconds"), [
    ("01:00:00:00", 25.0, 3600.0),
    ("00:00:10:12", 25.0, 10.48),
    ("00:01:00;02", 30000 / 1001, 1800 * 1001 / 30000),  # drop frame: 00:01:00;00-01 do not exist
    ("01:00:00;00", 30000 / 1001, 107892 * 1001 / 30000),
    ("10:00:00:00", 24.0, 36000.0),
])
def test_timecode_seconds(tc, fps, seconds):
    assert timecode_seconds(tc, fps) == pytest.approx(seconds, abs=1e-9)


def test_bad_timecodes_are_none():
    assert timecode_seconds("1:2", 25) is None
    assert timecode_seconds("00:00:00:25", 25) is None
    assert timecode_seconds("00:61:00:00", 25) is None


def test_seconds_to_timecode():
    assert seconds_to_timecode(12.2, 25.0, "-") == "00-00-12-05"
    assert seconds_to_timecode(3600 + 1 / 30, 30.0) == "01:00:00:01"


def test_video_start_timecode_from_the_container(tmp_path):
    video = tmp_path / "tc.mp4"
    subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=red:s=64x64:r=25:d=1", "-timecode", "01:00:10:00", "-c:v", "libx264",
                    "-preset", "ultrafast", str(video)], check=True)
    assert video_start_timecode(video) == ("01:00:10:00", 3610.0)
    assert video_start_timecode(None) == (None, 0.0)
