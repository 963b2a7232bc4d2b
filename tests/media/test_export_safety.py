"""Exports never destroy what was there: a full disk, a folder or FIFO in the way, hostile class
names for stems; and the MP4's audio track is as long as the video and aligned with its picture."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

from sfxstudio.core.errors import ExportError
from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media.audio_io import decode_audio, decode_video_audio, write_wav
from sfxstudio.media.export import export_mp4, export_stems, export_wav, stem_file_names
from sfxstudio.media.timeline import export_otio
from sfxstudio.media.video import probe

RATE = 48000
AAC_FRAME = 1024 / RATE  # one AAC frame: the finest an AAC track's length can be


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def tone(seconds: float, amp: float = 0.3, at: float = 0.0, freq: float = 1000.0) -> np.ndarray:
    x = np.zeros((round(seconds * RATE), 2), dtype=np.float32)
    i = round(at * RATE)
    t = np.arange(x.shape[0] - i) / RATE
    x[i:] = (amp * np.sin(2 * np.pi * freq * t))[:, None]
    return x


# -- a full disk -----------------------------------------------------------------------------
# (small_disk: tests/fixtures/disk.py)


def test_wav_on_a_full_disk(small_disk: Path) -> None:
    target = small_disk / "fx.wav"
    export_wav(tone(0.5), target, 0.5)  # ~144 KB
    earlier = target.read_bytes()
    with pytest.raises(ExportError) as err:
        export_wav(tone(2.0), target, 2.0)  # ~576 KB: does not fit
    assert str(err.value).startswith(f"{target}: ") and "\n" not in str(err.value)
    assert "No space left on device" in str(err.value)
    assert target.read_bytes() == earlier
    assert names(small_disk) == ["fx.wav"]


def test_otio_on_a_full_disk(small_disk: Path) -> None:
    target = small_disk / "fx.otio"
    export_otio(Project(video="/v.mp4", segments=[Segment("fire", 0.0, 1.0)]), target)
    earlier = target.read_bytes()
    assert earlier and otio.adapters.read_from_string(earlier.decode(), "otio_json")
    (small_disk / "filler").write_bytes(b"f" * (256 * 1024 - 2 * len(earlier) - 8192))
    many = Project(video="/v.mp4", segments=[Segment("fire", float(i), i + 0.5) for i in range(2000)])
    with pytest.raises(ExportError) as err:
        export_otio(many, target)
    assert str(err.value).startswith(f"{target}: ") and "No space left on device" in str(err.value)
    assert target.read_bytes() == earlier  # not a 0-byte or truncated file
    assert names(small_disk) == ["filler", "fx.otio"]


def test_stems_on_a_full_disk_keep_earlier_stems(small_disk: Path) -> None:
    folder = small_disk / "stems"
    export_stems({"fire": tone(0.2)}, folder, 0.2)
    earlier = (folder / "fire.wav").read_bytes()
    with pytest.raises(ExportError) as err:
        export_stems({"fire": tone(1.5), "river": tone(1.5)}, folder, 1.5)
    assert "No space left on device" in str(err.value)
    assert "fire.wav" in str(err.value) or "river.wav" in str(err.value)
    assert (folder / "fire.wav").read_bytes() == earlier
    assert all(".sfxtmp" not in n for n in names(folder))


def test_mp4_on_a_full_disk(small_disk: Path, make_video: Callable[..., Path]) -> None:
    src = make_video(seconds=3.0, fps=10, size=(320, 240))
    target = small_disk / "out.mp4"
    target.write_bytes(b"earlier export")
    # 16 KiB left: less than the ~29 KiB the 3 s tone's AAC track takes.
    (small_disk / "filler").write_bytes(b"f" * (236 * 1024))
    with pytest.raises(ExportError) as err:
        export_mp4(src, tone(3.0), target, original=None)
    assert str(target) in str(err.value) and "No space left on device" in str(err.value)
    assert target.read_bytes() == b"earlier export"
    assert names(small_disk) == ["filler", "out.mp4"]


# -- what is in the way ----------------------------------------------------------------------


def test_wav_onto_a_folder_or_fifo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(ExportError, match="is a folder, not a file"):
        export_wav(tone(0.1), tmp_path / "dir.wav", 0.1)
    os.mkfifo(tmp_path / "pipe.wav")
    with pytest.raises(ExportError, match="named pipe"):
        write_wav(tmp_path / "pipe.wav", tone(0.1))  # libsndfile would block on it forever
    assert names(tmp_path) == ["dir.wav", "pipe.wav"]


def test_otio_onto_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.otio").mkdir()
    with pytest.raises(ExportError, match="folder"):
        export_otio(Project(segments=[Segment("fire", 0.0, 1.0)]), tmp_path / "t.otio")
    assert (tmp_path / "t.otio").is_dir()


def test_replaced_exports_keep_their_permission_bits(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        export_wav(tone(0.1), tmp_path / "new.wav", 0.1)
        export_otio(Project(segments=[Segment("fire", 0.0, 1.0)]), tmp_path / "new.otio")
        assert stat.S_IMODE(os.stat(tmp_path / "new.wav").st_mode) == 0o644
        assert stat.S_IMODE(os.stat(tmp_path / "new.otio").st_mode) == 0o644
        (tmp_path / "new.wav").chmod(0o640)
        export_wav(tone(0.2), tmp_path / "new.wav", 0.2)
        assert stat.S_IMODE(os.stat(tmp_path / "new.wav").st_mode) == 0o640
        assert sf.info(str(tmp_path / "new.wav")).frames == round(0.2 * RATE)
    finally:
        os.umask(old)


def test_a_short_write_by_libsndfile_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libsndfile can come up short without raising; the frame count is checked before the rename."""
    target = tmp_path / "fx.wav"
    target.write_bytes(b"earlier")
    real = sf.write

    def short_write(file: str, data: np.ndarray, *a: object, **k: object) -> None:
        real(file, data[: len(data) // 2], *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(sf, "write", short_write)
    with pytest.raises(ExportError, match="only 2400 of 4800 frames"):
        write_wav(target, tone(0.1))
    assert target.read_bytes() == b"earlier"
    assert names(tmp_path) == ["fx.wav"]


# -- stems: names from class names -----------------------------------------------------------

# The absolute name points into a folder that does not exist, so a build that joins names
# unsanitised fails instead of writing outside the test's folder.
HOSTILE = ["../../escape", "/sfxstudio-no-such-folder/passwd", "..", ".", "", ".hidden", "a\\b",
           "C:evil", "CON", "nul.txt", "com1", "LPT9", "a/b", "a_b", "A_B", "ok", "x" * 400, "tab\there",
           "dots...", "-rf"]


def test_stem_names_stay_inside_and_are_distinct(tmp_path: Path) -> None:
    files = stem_file_names(HOSTILE)
    assert len({f.lower() for f in files.values()}) == len(HOSTILE)
    for name, f in files.items():
        stem = f[: -len(".wav")]
        assert f.endswith(".wav") and stem, name
        assert "/" not in f and "\\" not in f and ":" not in f and ".." not in f, (name, f)
        assert not f.startswith((".", "-")), (name, f)
        assert stem.split(".")[0].lower() not in {"con", "nul", "com1", "lpt9", "prn", "aux"}, (name, f)
        assert len(f) <= 130
    assert files["ok"] == "ok.wav"


def test_export_stems_writes_one_file_per_class_inside_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "stems"  # created, parents too
    stems = {name: tone(0.1, amp=0.01 * (i + 1)) for i, name in enumerate(HOSTILE)}
    peaks = export_stems(stems, folder, 0.1)
    assert set(peaks) == set(HOSTILE)
    files = names(folder)
    assert len(files) == len(HOSTILE) and sorted(stem_file_names(HOSTILE).values()) == files
    assert names(tmp_path) == ["deep"]
    # Each class's audio went to its own file (levels differ per class).
    for i, name in enumerate(HOSTILE):
        data, _ = sf.read(str(folder / stem_file_names(HOSTILE)[name]), dtype="float32")
        assert abs(np.abs(data).max() - 0.01 * (i + 1)) < 1e-3, name


def test_stems_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stems").write_bytes(b"a file")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_stems({"fire": tone(0.1)}, tmp_path / "stems", 0.1)
    assert (tmp_path / "stems").read_bytes() == b"a file"


# -- MP4: the audio track follows the video --------------------------------------------------


def audio_track_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        assert a.duration is not None
        return float(a.duration * a.time_base)


@pytest.mark.parametrize("effects_seconds", [0.6, 3.5])  # shorter and longer than the video
def test_mp4_audio_is_as_long_as_the_video_whatever_the_effects(
    tmp_path: Path, make_video: Callable[..., Path], effects_seconds: float
) -> None:
    src = make_video(seconds=2.0, fps=10)
    video_seconds = probe(src).duration
    res = export_mp4(src, tone(effects_seconds), tmp_path / "out.mp4", original=None)
    assert abs(audio_track_seconds(res.path) - video_seconds) <= AAC_FRAME
    decoded = decode_audio(res.path)
    assert abs(decoded.shape[0] / RATE - video_seconds) <= AAC_FRAME


def test_mp4_of_a_video_whose_first_frame_is_late_starts_with_silence(
    tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    """The first frame is shown 0.5 s into the file (the file's audio starts at 0): the export's
    audio has silence before the first frame and the effects start with the picture."""
    import av

    times = [0.5 + i / 10 for i in range(20)]
    src = make_video(times=times, fps=10, audio=True)
    with av.open(str(src)) as c:  # the premise: the picture starts 0.5 s after the file
        first_video = min(p.pts * p.time_base for p in c.demux(c.streams.video[0]) if p.pts is not None)
        assert float(first_video) == pytest.approx(0.5) and c.start_time is not None
        assert c.start_time / 1e6 == pytest.approx(0.0, abs=0.03)
    effects = tone(2.0, amp=0.5, at=0.25)  # sample 0 = the first frame; the effect starts 0.25 s later
    res = export_mp4(src, effects, tmp_path / "late.mp4", original=None)
    with av.open(str(res.path)) as c:
        v = c.streams.video[0]
        out_first = float(min(p.pts * p.time_base for p in c.demux(v) if p.pts is not None))
    raw = decode_audio(res.path)  # the audio track from its first sample (file time 0)
    onset = int(np.flatnonzero(np.abs(raw[:, 0]) > 0.1)[0]) / RATE
    assert np.abs(raw[: round(0.45 * RATE)]).max() < 0.01  # silence before the picture
    assert onset - out_first == pytest.approx(0.25, abs=0.025)  # aligned with the picture
    aligned = decode_video_audio(res.path)  # sample 0 = the first frame, as the editor sees it
    assert aligned is not None
    onset2 = int(np.flatnonzero(np.abs(aligned[:, 0]) > 0.1)[0]) / RATE
    assert onset2 == pytest.approx(0.25, abs=0.025)
