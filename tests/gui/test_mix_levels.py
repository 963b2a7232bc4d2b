"""The mix levels in the window (issue 15, "the master and per-class levels in the mix"): the
Mix tab's faders and the export dialog's levels are undoable SetMixLevels steps, the Mix tab
follows the dialog and undo, and what the players play follows project.mix on every change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfxstudio.core.project import MixSettings, Project
from sfxstudio.gui.playback import db_to_volume


@pytest.fixture
def mixing(make_window: Any, make_video: Any) -> Any:
    w = make_window()
    w.resize(1280, 800)
    w.show()
    w.set_document(Project(video=str(make_video(seconds=2.0, fps=10))), None)
    return w


def heard(w: Any) -> tuple[float, float, float, float]:
    """(video player volume, effects player volume, metered original dB, metered effects dB)."""
    return (w.video.audio_output.volume(), w.effects.output.volume(),
            w.effects.original_gain_db, w.effects.effects_gain_db)


def expected(original_db: float, effects_db: float) -> tuple[Any, ...]:
    return (pytest.approx(db_to_volume(original_db), abs=1e-4),
            pytest.approx(db_to_volume(effects_db), abs=1e-4), original_db, effects_db)


def drag(fader: Any, db: float) -> None:
    fader.slider.setSliderDown(True)
    fader.slider.setValue(round(db * 2))
    fader.slider.setSliderDown(False)


def test_mix_tab_faders_are_undoable_and_heard(mixing: Any) -> None:
    w = mixing
    assert heard(w) == expected(0.0, 0.0)
    drag(w.mixer.effects, -9.5)
    drag(w.mixer.original, -6.0)
    assert w.project.mix.to_json() == {"original_gain_db": -6.0, "effects_gain_db": -9.5}
    assert heard(w) == expected(-6.0, -9.5)
    assert w.act.undo.text() == "&Undo Set Original Audio Level to -6.0 dB"
    assert w.isWindowModified()
    w.act.undo.trigger()
    assert heard(w) == expected(0.0, -9.5)  # the players follow the undo
    assert w.mixer.original.db() == 0.0
    w.act.undo.trigger()
    assert heard(w) == expected(0.0, 0.0) and not w.isWindowModified()
    w.act.redo.trigger()
    assert heard(w) == expected(0.0, -9.5) and w.mixer.effects.db() == -9.5


def test_export_dialog_levels_are_one_undo_step_per_level_and_the_mix_tab_follows(mixing: Any) -> None:
    w = mixing
    dialog = w.open_export_dialog()
    try:
        for db in (-0.5, -1.0, -2.5, -6.0):  # the spin box stepped / the slider dragged
            dialog.original_level.spin.setValue(db)
        assert w.model.undo_stack.count() == 1
        assert w.act.undo.text() == "&Undo Set Original Audio Level to -6.0 dB"
        assert w.mixer.original.db() == -6.0 and w.mixer.original.value_label.text() == "-6.0 dB"
        dialog.effects_level.slider.setValue(-30)  # -3.0 dB, another level: its own step
        assert w.model.undo_stack.count() == 2
        assert heard(w) == expected(-6.0, -3.0)
        assert w.mixer.effects.db() == -3.0
    finally:
        dialog.close()
    w.act.undo.trigger()
    assert w.project.mix.to_json() == {"original_gain_db": -6.0, "effects_gain_db": 0.0}
    assert heard(w) == expected(-6.0, 0.0) and w.mixer.effects.db() == 0.0
    w.act.undo.trigger()
    assert heard(w) == expected(0.0, 0.0) and w.mixer.original.db() == 0.0


def test_a_projects_mix_is_heard_when_it_opens_and_its_undo_survives_reopening(
        mixing: Any, make_window: Any, tmp_path: Path) -> None:
    w = mixing
    w.set_document(Project(video=w.project.video, mix=MixSettings(original_gain_db=-12.0)), None)
    assert heard(w) == expected(-12.0, 0.0)
    assert w.mixer.original.db() == -12.0 and w.model.undo_stack.count() == 0
    drag(w.mixer.effects, 4.0)
    path = tmp_path / "mix.sfxproj"
    assert w.save_to(path)

    w2 = make_window()
    assert w2.open_project(path)
    assert heard(w2) == expected(-12.0, 4.0)
    assert w2.act.undo.text() == "&Undo Set Effects Level to +4.0 dB"
    w2.act.undo.trigger()
    assert heard(w2) == expected(-12.0, 0.0) and w2.mixer.effects.db() == 0.0
