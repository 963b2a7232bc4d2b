"""Audio widgets: meter feed values, level meters, the playback's levels signal, the original
audio's waveform strip and the mixer's faders (one undo step each, heard in the render)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfxstudio.gui.meters import FEED_HOP_S, HOLD_S, LevelMeters, MeterFeed

RATE = 48000


def sine(db: float, seconds: float, freq: float = 1000.0, channels: int = 2) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = (10 ** (db / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[:, None], channels, axis=1)


# -- MeterFeed ---------------------------------------------------------------------------------


def test_feed_of_a_minus_20_dbfs_sine_reads_minus_20_peak_and_loudness():
    feed = MeterFeed.from_mix(sine(-20.0, 2.0))
    assert feed.duration == pytest.approx(2.0)
    peak, lufs = feed.at(1.0)
    assert peak == pytest.approx(-20.0, abs=0.01)
    # BS.1770: a 0 dBFS 1 kHz sine on one channel is -3.01 LKFS, so on both it is 0.0;
    # K-weighting adds ~0.03 dB at 1 kHz.
    assert lufs == pytest.approx(-20.0, abs=0.1)
    # The 400 ms window: 100 ms in, three quarters of it are still silence (-6 dB).
    assert feed.at(0.06)[1] == pytest.approx(lufs + 10 * math.log10(2 / 8), abs=0.2)


def test_momentary_loudness_matches_pyloudnorm_on_noise():
    import pyloudnorm

    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 0.1, (RATE, 2)).astype(np.float32)
    feed = MeterFeed.from_mix(noise)
    # Value 18 covers 0.55 .. 0.95 s.
    ref = pyloudnorm.Meter(RATE, block_size=0.4).integrated_loudness(
        noise[round(0.55 * RATE): round(0.95 * RATE)].astype(np.float64))
    assert feed.at(18 * FEED_HOP_S + 0.01)[1] == pytest.approx(ref, abs=0.05)


def test_feed_is_silent_outside_the_mix_and_for_silence():
    feed = MeterFeed.from_mix(sine(-6.0, 1.0))
    assert feed.at(-0.1) == (-math.inf, -math.inf)
    assert feed.at(1.5) == (-math.inf, -math.inf)
    quiet = MeterFeed.from_mix(np.zeros((RATE, 2), np.float32))
    peak, lufs = quiet.at(0.5)
    assert peak == -math.inf and lufs == -math.inf
    assert MeterFeed.from_mix(None).at(0.0) == (-math.inf, -math.inf)


def test_feed_from_sources_applies_the_gains():
    original = sine(-20.0, 1.0)
    effects = sine(-20.0, 0.5)  # in phase with the original: the sum is twice as high
    only_original = MeterFeed.from_sources(original, 0.5, None, 1.0)
    assert only_original.at(0.7)[0] == pytest.approx(-20.0 - 6.02, abs=0.02)
    both = MeterFeed.from_sources(original, 1.0, effects, 1.0)
    assert both.at(0.2)[0] == pytest.approx(-20.0 + 6.02, abs=0.02)
    assert both.at(0.8)[0] == pytest.approx(-20.0, abs=0.01)  # the effects have ended


# -- LevelMeters -------------------------------------------------------------------------------


def test_level_meters_hold_release_and_clear(qtbot):
    m = LevelMeters()
    qtbot.addWidget(m)
    m.set_levels(-10.0, -18.0, now=0.0)
    assert m.texts() == ("Peak -10.0 dBFS", "LUFS M -18.0")
    m.set_levels(-30.0, -25.0, now=0.5)
    assert m.hold_db == -10.0  # held
    assert m.peak_db == pytest.approx(-10.0 - 12.0)  # released at 24 dB/s, not dropped
    m.set_levels(-30.0, -25.0, now=0.5 + HOLD_S + 0.1)
    assert m.hold_db == -30.0  # the hold expired
    m.grab()  # paints without error
    m.set_levels(-math.inf, -math.inf, now=3.0)
    assert m.texts() == ("Peak -inf dBFS", "LUFS M -inf")
    assert m.peak_db == -math.inf


# -- EffectsPlayback levels -------------------------------------------------------------------


def test_playback_emits_levels_of_what_is_heard(qtbot, make_video, monkeypatch):
    from sfxstudio.core.project import Project
    from sfxstudio.gui.playback import EffectsPlayback
    from sfxstudio.gui.video_view import VideoView

    path = make_video(seconds=1.0, fps=10, audio=True)  # a 0.25 (-12 dBFS) sine
    video = VideoView()
    qtbot.addWidget(video)
    playback = EffectsPlayback(video)
    try:
        with qtbot.waitSignal(playback.feedReady, timeout=10_000):
            playback.schedule_render(Project(video=str(path)))
        assert playback.levels_at(0.5)[0] == pytest.approx(-12.04, abs=0.3)
        with qtbot.waitSignal(playback.feedReady, timeout=10_000):
            playback.set_original_gain(-6.0)
        peak, lufs = playback.levels_at(0.5)
        assert peak == pytest.approx(-18.06, abs=0.3)
        assert math.isfinite(lufs)

        monkeypatch.setattr(video, "is_playing", lambda: True)
        monkeypatch.setattr(video, "position", lambda: 0.5)
        with qtbot.waitSignal(playback.levels, timeout=2000) as blocker:
            video.playingChanged.emit(True)
        assert blocker.args[0] == pytest.approx(peak)
        with qtbot.waitSignal(playback.levels, timeout=2000) as ticks:  # the 20 Hz timer runs on
            pass
        assert ticks.args[0] == pytest.approx(peak)
        monkeypatch.setattr(video, "is_playing", lambda: False)
        with qtbot.waitSignal(playback.levels, timeout=2000) as paused:
            video.playingChanged.emit(False)
        assert paused.args == [-math.inf, -math.inf]
    finally:
        playback.close()


# -- WaveformView ------------------------------------------------------------------------------


def test_waveform_view_states_and_linked_axis(qtbot, make_video):
    import pyqtgraph as pg

    from sfxstudio.gui.waveform_view import WaveformView

    view = WaveformView()
    qtbot.addWidget(view)
    view.set_source(None)
    assert view.status_text() == "No audio"
    quiet = view.height()

    with qtbot.waitSignal(view.loaded, timeout=10_000) as loaded:
        view.set_source(make_video(seconds=1.0, fps=10, audio=True))
    assert loaded.args[0] == pytest.approx(1.0, abs=0.03)
    assert view.status_text() == ""
    assert view.height() > 2 * quiet  # the strip opens up for a waveform, a thin line without
    _x, y = view.curve.getData()
    assert y is not None and float(np.max(y)) == pytest.approx(0.25, abs=0.03)

    other = pg.ViewBox()
    other.setXRange(0.2, 0.6, padding=0)
    view.link_x(other)
    assert view.view_box().viewRange()[0] == pytest.approx([0.2, 0.6])
    other.setXRange(0.1, 0.3, padding=0)
    assert view.view_box().viewRange()[0] == pytest.approx([0.1, 0.3])

    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.set_source(make_video(seconds=0.5))
    assert view.status_text() == "No audio" and view.height() == quiet

    bad = Path(view.source).with_name("broken.mp4")  # type: ignore[arg-type]
    bad.write_text("not a video")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.set_source(bad)
    assert view.status_text() == "Audio cannot be read"
    assert "broken.mp4" in view.message.toolTip()


# -- MixerPanel --------------------------------------------------------------------------------


def fire_model() -> Any:
    from sfxstudio.gui.document_model import DocumentModel
    from tests.core.test_document import runs_doc

    return DocumentModel(runs_doc("f" * 20 + "." * 10, fps=10.0))  # fire 0-2 s, then 1 s quiet


def drag(fader: Any, db: float) -> None:
    fader.slider.setSliderDown(True)
    fader.slider.setValue(round(db * 2))
    fader.slider.setSliderDown(False)  # emits sliderReleased


def test_class_fader_drag_is_one_undo_step_and_changes_the_rendered_level(qtbot, make_sound, tmp_path):
    from sfxstudio import pipeline
    from sfxstudio.gui.mixer import MixerPanel
    from sfxstudio.media.library import SoundLibrary

    make_sound("lib/fire/a.wav", seconds=2.0, rate=RATE, freq=440.0, amplitude=0.2)
    library = SoundLibrary.load(tmp_path / "lib")
    model = fire_model()
    panel = MixerPanel(model)
    qtbot.addWidget(panel)
    assert list(panel.class_faders) == ["fire"]
    before = pipeline.render_project(model.document.project, library, duration=3.0)

    fader = panel.class_faders["fire"]
    base = model.document.class_attributes("fire").gain_db  # the class's default level
    assert fader.db() == base
    fader.slider.setSliderDown(True)
    for db in (-1.0, -3.0, -14.5):  # a drag passes through several values
        fader.slider.setValue(round(db * 2))
    assert model.undo_stack.count() == 0  # nothing until the release
    fader.slider.setSliderDown(False)
    assert model.undo_stack.count() == 1
    assert model.undo_stack.undoText() == "Set Fire level to -14.5 dB"
    assert model.document.class_attributes("fire").gain_db == -14.5
    assert fader.value_label.text() == "-14.5 dB"
    after = pipeline.render_project(model.document.project, library, duration=3.0)
    ratio = float(np.abs(after).max() / np.abs(before).max())
    assert 20 * math.log10(ratio) == pytest.approx(-14.5 - base, abs=0.05)

    model.undo_stack.undo()
    assert model.document.class_attributes("fire").gain_db == base
    assert panel.class_faders["fire"].db() == base  # the fader follows the undo


def test_keyboard_steps_commit_once_after_a_pause(qtbot):
    from sfxstudio.gui.mixer import KEY_COMMIT_MS, MixerPanel

    model = fire_model()
    panel = MixerPanel(model)
    qtbot.addWidget(panel)
    fader = panel.class_faders["fire"]
    base = fader.db()
    for _ in range(4):
        fader.slider.triggerAction(fader.slider.SliderAction.SliderSingleStepAdd)
    assert model.undo_stack.count() == 0
    qtbot.waitUntil(lambda: model.undo_stack.count() == 1, timeout=KEY_COMMIT_MS * 5)
    assert model.document.class_attributes("fire").gain_db == base + 2.0
    qtbot.wait(KEY_COMMIT_MS + 100)
    assert model.undo_stack.count() == 1


def test_master_fader_sets_the_mix_effects_level_as_one_undo_step(qtbot):
    from sfxstudio.gui.mixer import MixerPanel

    model = fire_model()
    panel = MixerPanel(model)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(model.mixChanged):
        drag(panel.effects, -9.5)
    assert model.document.project.mix.effects_gain_db == -9.5
    assert model.undo_stack.count() == 1
    assert model.undo_stack.undoText() == "Set Effects Level to -9.5 dB"
    drag(panel.original, -3.0)
    assert model.undo_stack.count() == 2  # another fader, another gesture: its own step
    model.undo_stack.undo()
    model.undo_stack.undo()
    assert model.document.project.mix.to_json() == {"original_gain_db": 0.0, "effects_gain_db": 0.0}
    assert (panel.original.db(), panel.effects.db()) == (0.0, 0.0)  # the faders follow the undo
    assert panel.effects.value_label.text() == "0.0 dB"


def test_mixer_lists_only_classes_in_use(qtbot):
    from sfxstudio.core.project import Project
    from sfxstudio.gui.document_model import DocumentModel, make_document
    from sfxstudio.gui.mixer import MixerPanel

    model = DocumentModel(make_document(Project()))
    panel = MixerPanel(model)
    qtbot.addWidget(panel)
    assert panel.class_faders == {}
    assert not panel.empty.isHidden()
    model.set_document(fire_model().document)
    assert list(panel.class_faders) == ["fire"]
    assert panel.empty.isHidden()
