"""Video probe and frame streams on synthetic clips whose content and timing are known."""

from __future__ import annotations

import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.media import video as video_mod
from sfxstudio.media.video import (
    VideoInfo,
    analysis_rate,
    estimate_analysis_frames,
    iter_frames,
    probe,
)
from tests.fixtures.media import PALETTE, color_at, vfr_frame_times


def assert_color(image: np.ndarray, color: tuple[int, int, int], tol: float = 12.0) -> None:
    mean = image.reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - np.array(color)).max() < tol, f"{mean} is not {color}"


def grid_reference(times: list[float], fa: float) -> list[float]:
    """DESIGN.md: the first frame at or after each grid time n / fa, each frame at most once."""
    picked: list[float] = []
    n = 0
    end = times[-1]
    while n / fa <= end + 1e-9:
        candidates = [t for t in times if t >= n / fa - 1e-9]
        if candidates and (not picked or candidates[0] > picked[-1]):
            picked.append(candidates[0])
        n += 1
    return picked


# -- probe -------------------------------------------------------------------------------------


def test_probe_reports_the_clip(make_video):
    info = probe(make_video(seconds=2.0, fps=10, size=(160, 96), audio=True))
    assert isinstance(info, VideoInfo)
    assert info.duration == pytest.approx(2.0, abs=1e-3)
    assert info.fps == pytest.approx(10.0)
    assert info.frame_count == 20
    assert (info.width, info.height) == (160, 96)
    assert info.rotation == 0
    assert info.codec == "h264"
    assert info.has_audio and info.audio_codec == "aac"
    assert (info.audio_channels, info.audio_rate) == (2, 48000)
    assert info.start_time == pytest.approx(0.0)
    assert not info.variable_frame_rate


def test_probe_without_audio(make_video):
    info = probe(make_video(seconds=1.0))
    assert not info.has_audio
    assert info.audio_codec is None and info.audio_channels == 0


def test_durations_and_times_are_relative_to_the_first_frame(make_video):
    # A clip whose first frame is stamped 0.5 s (like an MPEG-PS stream starting at 0.54 s).
    path = make_video(times=[0.5 + n / 10 for n in range(15)], fps=10)
    info = probe(path)
    assert info.start_time == pytest.approx(0.5, abs=1e-3)
    assert info.duration == pytest.approx(1.5, abs=1e-3)
    times = [t for t, _ in iter_frames(path)]
    assert times[0] == 0.0
    assert times == pytest.approx([n / 10 for n in range(15)], abs=1e-6)


# -- analysis rate and sampling grid -------------------------------------------------------------


def test_analysis_rate_is_the_lower_of_the_two():
    info = VideoInfo(Path("x.mp4"), 2.0, 25.0, 50, 10, 10)
    assert analysis_rate(info, None) == 25.0
    assert analysis_rate(info, 2.0) == 2.0
    assert analysis_rate(info, 60.0) == 25.0
    with pytest.raises(ValueError):
        analysis_rate(info, 0)


def test_every_frame_with_real_times_and_colours(make_video):
    path = make_video(seconds=3.0, fps=10)
    frames = list(iter_frames(path))
    assert len(frames) == 30
    assert [t for t, _ in frames] == pytest.approx([n / 10 for n in range(30)], abs=1e-6)
    for t, image in frames:
        assert image.dtype == np.uint8 and image.shape == (96, 160, 3)
        assert_color(image, color_at(t))


@pytest.mark.parametrize("fa", [1.0, 2.0, 3.0, 4.0, 7.0])
def test_grid_sampling_picks_the_first_frame_at_or_after_each_grid_time(make_video, fa):
    path = make_video(seconds=3.0, fps=10)
    all_times = [t for t, _ in iter_frames(path, size=(16, 16))]
    sampled = list(iter_frames(path, size=(16, 16), analysis_fps=fa))
    times = [t for t, _ in sampled]
    assert times == pytest.approx(grid_reference(all_times, fa), abs=1e-6)
    assert len(times) == estimate_analysis_frames(probe(path), fa)
    for t, image in sampled:
        assert_color(image, color_at(t))


def test_analysis_fps_above_the_video_rate_gives_every_frame(make_video):
    path = make_video(seconds=1.0, fps=10)
    assert len(list(iter_frames(path, (8, 8), analysis_fps=50))) == 10
    assert estimate_analysis_frames(probe(path), 50) == 10
    assert estimate_analysis_frames(probe(path), None) == 10


class _Container:
    """A real PyAV container whose decode() passes frames through `wrap` (for fault injection)."""

    def __init__(self, path: Path, wrap):
        import av

        self._container = av.open(str(path), "r")
        self._wrap = wrap

    def __getattr__(self, name):
        return getattr(self._container, name)

    def decode(self, *args, **kwargs):
        return self._wrap(self._container.decode(*args, **kwargs))


class _CountingFrame:
    """Forwards to a real av.VideoFrame, counting the calls that convert pixels."""

    def __init__(self, frame, calls):
        self._frame, self._calls = frame, calls

    def __getattr__(self, name):
        return getattr(self._frame, name)

    def reformat(self, *args, **kwargs):
        self._calls.append("reformat")
        return self._frame.reformat(*args, **kwargs)

    def to_ndarray(self, *args, **kwargs):
        self._calls.append("to_ndarray")
        return self._frame.to_ndarray(*args, **kwargs)


def test_skipped_frames_are_decoded_but_not_converted(make_video, monkeypatch):
    path = make_video(seconds=2.0, fps=10)
    calls: list[str] = []
    decoded: list[int] = []

    def wrap(frames):
        for frame in frames:
            decoded.append(1)
            yield _CountingFrame(frame, calls)

    frames = iter_frames(path, size=(8, 8), analysis_fps=2.0)
    monkeypatch.setattr(video_mod, "open_container", lambda p, kind: _Container(p, wrap))
    out = list(frames)
    assert [t for t, _ in out] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert len(decoded) == 20
    assert calls == ["reformat"] * 4


# -- resizing and rotation ------------------------------------------------------------------------


def test_resize_gives_the_requested_shape_and_keeps_colour(make_video):
    path = make_video(seconds=1.0, fps=5, size=(160, 96))
    for t, image in iter_frames(path, size=(224, 200)):
        assert image.shape == (200, 224, 3) and image.dtype == np.uint8
        assert image.flags.c_contiguous
        assert_color(image, color_at(t))


def _arrow_image(width: int = 64, height: int = 32) -> np.ndarray:
    """Red top-left quadrant, green top-right, blue bottom: every rotation looks different."""
    img = np.zeros((height, width, 3), np.uint8)
    img[: height // 2, : width // 2] = (255, 0, 0)
    img[: height // 2, width // 2 :] = (0, 255, 0)
    img[height // 2 :] = (0, 0, 255)
    return img


def _ffmpeg_reference_frame(path: Path) -> np.ndarray:
    """The first frame as ffmpeg's command line shows it (it applies the display matrix)."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    probe_out = subprocess.run(
        [exe, "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    info = probe(path)
    return np.frombuffer(probe_out, np.uint8).reshape(info.height, info.width, 3)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_matches_ffmpeg_autorotate(make_video, rotation):
    path = make_video(images=[_arrow_image()] * 3, fps=10, rotation=rotation, size=(64, 32))
    info = probe(path)
    assert info.rotation == rotation
    assert (info.width, info.height) == ((32, 64) if rotation in (90, 270) else (64, 32))
    _, frame = next(iter_frames(path))
    reference = _ffmpeg_reference_frame(path)
    assert frame.shape == reference.shape
    assert np.abs(frame.astype(int) - reference.astype(int)).mean() < 8
    # And it really is turned: the unrotated picture differs a lot.
    expected = np.rot90(_arrow_image(), k=-(rotation // 90))
    assert np.abs(frame.astype(int) - expected.astype(int)).mean() < 12


def test_rotation_with_resize_returns_the_displayed_shape(make_video):
    path = make_video(images=[_arrow_image()] * 2, fps=10, rotation=90, size=(64, 32))
    _, frame = next(iter_frames(path, size=(20, 50)))
    assert frame.shape == (50, 20, 3)
    # Clockwise turn: the red quadrant (top-left) ends up top-right.
    assert_color(frame[:20, 12:], (255, 0, 0), tol=40)
    assert_color(frame[:, :7], (0, 0, 255), tol=40)


# -- variable frame rate -----------------------------------------------------------------------


def test_variable_frame_rate_uses_real_timestamps(make_video):
    colors = [PALETTE[i % len(PALETTE)] for i in range(24)]
    path = make_video(colors=colors, fps=10, vfr=True)
    info = probe(path)
    assert info.variable_frame_rate
    expected = vfr_frame_times(24, 10)
    frames = list(iter_frames(path, size=(16, 16)))
    assert [t for t, _ in frames] == pytest.approx(expected, abs=1e-3)
    for (_, image), color in zip(frames, colors, strict=True):
        assert_color(image, color)


def test_variable_frame_rate_grid_sampling(make_video):
    path = make_video(seconds=3.0, fps=10, vfr=True)
    all_times = [t for t, _ in iter_frames(path, size=(8, 8))]
    sampled = [t for t, _ in iter_frames(path, size=(8, 8), analysis_fps=4.0)]
    assert sampled == pytest.approx(grid_reference(all_times, 4.0), abs=1e-6)


# -- constant memory ---------------------------------------------------------------------------


def _peak_while_streaming(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        count = 0
        for _t, _image in iter_frames(path):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_streaming_memory_does_not_grow_with_length(make_video):
    short = make_video(seconds=2.0, fps=25, size=(160, 96))
    long = make_video(seconds=24.0, fps=25, size=(160, 96))  # 600 frames, 27 MB if kept
    n_short, peak_short = _peak_while_streaming(short)
    n_long, peak_long = _peak_while_streaming(long)
    assert (n_short, n_long) == (50, 600)
    frame_bytes = 160 * 96 * 3
    assert peak_long < 20 * frame_bytes
    assert peak_long < peak_short + 4 * frame_bytes


def test_iter_frames_is_a_lazy_generator(make_video):
    path = make_video(seconds=2.0, fps=10)
    frames = iter_frames(path, size=(8, 8))
    assert not isinstance(frames, list | tuple)
    t, image = next(frames)
    assert t == 0.0 and image.shape == (8, 8, 3)
    frames.close()  # type: ignore[attr-defined]  # releases the decoder early


# -- bad inputs --------------------------------------------------------------------------------


def _assert_bad(path: Path, *words: str) -> None:
    with pytest.raises(BadInputError) as err:
        probe(path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message.lower()
    with pytest.raises(BadInputError):
        iter_frames(path)


def test_missing_file(tmp_path):
    _assert_bad(tmp_path / "nope.mp4", "not found")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    _assert_bad(path, "empty")


def test_text_file_renamed_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    _assert_bad(path, "not a readable video")


def test_truncated_mp4(make_video, tmp_path):
    data = make_video(seconds=2.0).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    _assert_bad(path)


def test_audio_file_given_as_video(make_sound):
    _assert_bad(make_sound("tone.wav", seconds=0.3), "no video stream")


def test_folder_given_as_video(tmp_path):
    _assert_bad(tmp_path, "not a file")


def _noisy_faststart_mp4(path: Path, frames: int = 30) -> Path:
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8), "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_file_cut_after_its_index_fails_with_the_time(tmp_path):
    data = _noisy_faststart_mp4(tmp_path / "whole.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * 0.6)])
    assert probe(path).duration == pytest.approx(3.0, abs=0.01)  # the index still says 3 s
    with pytest.raises(BadInputError) as err:
        list(iter_frames(path))
    assert str(path) in str(err.value) and "ends early" in str(err.value)
    assert re_time(str(err.value)) < 3.0


def re_time(message: str) -> float:
    import re

    match = re.search(r"at (\d+\.\d+) s", message)
    assert match, message
    return float(match.group(1))


def test_decoder_error_mid_stream_names_file_and_time(make_video, monkeypatch):
    import av

    path = make_video(seconds=2.0, fps=10)

    def wrap(frames):
        for i, frame in enumerate(frames):
            if i == 12:
                raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
            yield frame

    frames = iter_frames(path, size=(8, 8))
    monkeypatch.setattr(video_mod, "open_container", lambda p, kind: _Container(p, wrap))
    with pytest.raises(BadInputError) as err:
        list(frames)
    assert str(path) in str(err.value)
    assert "cannot be decoded" in str(err.value)
    assert re_time(str(err.value)) == pytest.approx(1.1)


def test_frame_at_returns_the_frame_under_the_playhead(make_video):
    from sfxstudio.media.video import frame_at
    from tests.fixtures.media import color_at

    video = make_video(seconds=4.0, fps=10, size=(160, 96))
    for t in (0.0, 1.25, 2.5, 3.9):
        img = frame_at(video, t)
        assert img.shape == (96, 160, 3)
        expected = np.array(color_at(t))
        assert np.abs(img[48, 80].astype(int) - expected).max() < 40
    small = frame_at(video, 1.0, max_size=(80, 80))
    assert small.shape == (48, 80, 3)
