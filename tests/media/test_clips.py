"""Per-effect media: one 48 kHz / 24-bit BWF per effect, handles as far as the sound allows,
loops and fades baked, named by timecode, class and number."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.media.bwf import read_bext
from sfxstudio.media.clips import clip_file_name, export_clips, render_clip
from sfxstudio.media.render import Placement, render_placement

RATE = 48000


def _tone(seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([x, x], axis=1).astype(np.float32)


def _p(mode: str, start: float, end: float, sound: np.ndarray, **kw) -> Placement:
    attrs = SoundAttributes(mode=mode, fade_in=0.01, fade_out=0.05, interval=0.5, jitter=0.0)
    return Placement(start, end, sound, attrs, class_name=kw.pop("cls", "dog barking"), **kw)


def test_loop_gets_handles_both_sides_and_its_fades_at_the_file_ends():
    p = _p("loop", 5.0, 8.0, _tone(0.7))
    audio, before, after = render_clip(p, 1.0)
    assert (before, after) == (1.0, 1.0)
    assert audio.shape == (5 * RATE, 2)
    # faded in from silence at the file start, full level through the effect, faded out at the end
    assert abs(audio[0, 0]) < 1e-3 and np.abs(audio[-1]).max() < 1e-3
    assert np.abs(audio[RATE : 4 * RATE]).max() > 0.45


def test_loop_handle_before_stops_at_the_video_start():
    _, before, after = render_clip(_p("loop", 0.4, 2.0, _tone(0.5)), 1.0)
    assert (before, after) == (0.4, 1.0)


def test_one_shot_has_no_handle_before_and_only_its_own_tail_after():
    sound = _tone(2.5)
    audio, before, after = render_clip(_p("one_shot", 3.0, 5.0, sound), 1.0)
    assert (before, after) == (0.0, 0.5)  # 2.5 s sound, 2 s effect
    assert audio.shape[0] == round(2.5 * RATE)
    # the effect part is the mix's own rendering, sample for sample, before any fade
    s0, block = render_placement(_p("one_shot", 3.0, 5.0, sound))
    assert s0 == 3 * RATE
    n = RATE  # first second: no fade in either (10 ms fade-in is the same in both)
    np.testing.assert_array_equal(audio[:n], block[:n])
    short = render_clip(_p("one_shot", 3.0, 5.0, _tone(1.0)), 1.0)
    assert short is not None and short[1:] == (0.0, 0.0)


def test_retrigger_keeps_hitting_after_the_end():
    hit = _tone(0.1)
    audio, before, after = render_clip(_p("retrigger", 2.0, 3.0, hit), 1.0)
    assert (before, after) == (0.0, 1.0)
    starts = [i for i in range(0, audio.shape[0], RATE // 2) if np.abs(audio[i : i + 100]).max() > 0.01]
    assert len(starts) == 4  # hits every 0.5 s over 1 s effect + 1 s handle


def test_clip_names_and_files(tmp_path):
    ps = [_p("loop", 12.2, 14.0, _tone(0.5), segment_id=7, variation="dog/bark 1.wav"),
          _p("one_shot", 1.0, 2.0, _tone(0.3), cls="glass/breaking", segment_id=9)]
    clips = export_clips(ps, tmp_path / "clips", fps=25.0, tc_start=3600.0, handles=1.0, gain_db=-6.0)
    assert set(clips) == {7, 9}
    assert clips[9].path.name == "01-00-01-00_glass_breaking_001.wav"
    assert clips[7].path.name == "01-00-12-05_dog_barking_002.wav"
    info = sf.info(str(clips[7].path))
    assert (info.samplerate, info.subtype, info.channels) == (48000, "PCM_24", 2)
    assert info.frames == round(clips[7].media_duration * RATE) == round(3.8 * RATE)
    bext = read_bext(clips[7].path)
    assert bext is not None
    assert bext["time_reference"] == round((3600 + 12.2 - 1.0) * RATE)
    assert "dog/bark 1.wav" in bext["description"]
    c = clips[7]
    assert (c.start, c.end, c.handle_before, c.handle_after) == (12.2, 14.0, 1.0, 1.0)
    assert c.class_name == "dog barking"
    # the delivery gain is baked in
    loud, _ = sf.read(str(export_clips(ps[:1], tmp_path / "g0", fps=25.0)[7].path))
    quiet, _ = sf.read(str(c.path))
    assert np.abs(quiet).max() == pytest.approx(np.abs(loud).max() * 10 ** (-6 / 20), rel=1e-3)


def test_clip_file_name_is_safe():
    name = clip_file_name(0.0, "../x/con", 1, 30.0)
    assert name == "00-00-00-00_x_con_001.wav"
    assert clip_file_name(61.5, "a b", 12, 24.0) == "00-01-01-12_a_b_012.wav"


def test_bad_handles_and_a_file_in_the_way(tmp_path):
    with pytest.raises(ValueError):
        export_clips([], tmp_path, 25.0, handles=float("nan"))
    blocker = tmp_path / "f"
    blocker.write_text("x")
    from sfxstudio.core.errors import ExportError

    with pytest.raises(ExportError, match="not a folder"):
        export_clips([], blocker, 25.0)
