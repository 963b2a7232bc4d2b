"""Keyboard shortcuts as in editing software: Space, J/K/L, arrows, Home/End, Delete, S, undo."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from sfxstudio.core.project import AnalysisCache, Project

FPS = 10


@pytest.fixture
def ready(qtbot: Any, make_window: Any, make_video: Any) -> Any:
    """A window showing a 4 s, 10 fps video with a synthetic analysis and one fire effect."""
    video = make_video(seconds=4.0, fps=FPS)
    names = ["fire", "river", "otherwise"]
    n = 4 * FPS
    probs = np.zeros((n, 3), np.float32)
    probs[:, 2] = 1.0
    probs[10:20] = (1.0, 0.0, 0.0)  # fire from 1 s to 2 s
    cache = AnalysisCache(np.arange(n) / FPS, probs, np.zeros((n, 0), np.float32), names, 1 / FPS, 4.0)
    w = make_window()
    w.resize(1280, 800)
    w.show()
    w.set_document(Project(video=str(video), analysis=None), None)
    w.model.document.set_params(k=0.0)
    w.model.document.set_analysis(cache)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.lanes.setFocus()
    return w


def key(qtbot: Any, w: Any, k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(w.focusWidget() or w, k, mod)


def test_space_toggles_play_and_k_pauses(qtbot: Any, ready: Any) -> None:
    w = ready
    assert not w.video.is_playing()
    key(qtbot, w, Qt.Key.Key_Space)
    assert w.video.is_playing() and w.transport.play_button.text() == "Pause"
    # The shared playhead moves (the player may need a moment to start decoding).
    qtbot.waitUntil(lambda: w.video.position() > 0.05 and w.lanes.playhead_time() > 0.0, timeout=5000)
    key(qtbot, w, Qt.Key.Key_Space)
    assert not w.video.is_playing()
    key(qtbot, w, Qt.Key.Key_L)
    assert w.video.rate() == 1.0
    key(qtbot, w, Qt.Key.Key_L)
    assert w.video.rate() == 2.0  # L again = faster, as in editors
    key(qtbot, w, Qt.Key.Key_K)
    assert not w.video.is_playing()
    w.video.seek(2.0)
    key(qtbot, w, Qt.Key.Key_J)
    assert w.video.rate() == -1.0
    qtbot.waitUntil(lambda: w.video.position() < 1.9, timeout=3000)  # reverse shuttle goes back
    key(qtbot, w, Qt.Key.Key_K)
    assert not w.video.is_playing()


def test_arrows_home_end_move_the_shared_playhead(qtbot: Any, ready: Any) -> None:
    w = ready
    w.video.seek(1.0)
    key(qtbot, w, Qt.Key.Key_Right)
    assert w.video.position() == pytest.approx(1.1)
    key(qtbot, w, Qt.Key.Key_Left)
    key(qtbot, w, Qt.Key.Key_Left)
    assert w.video.position() == pytest.approx(0.9)
    key(qtbot, w, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert w.video.position() == pytest.approx(1.9)
    key(qtbot, w, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert w.video.position() == pytest.approx(0.9)
    key(qtbot, w, Qt.Key.Key_End)
    assert w.video.position() == pytest.approx(3.9)  # the last frame
    key(qtbot, w, Qt.Key.Key_Home)
    assert w.video.position() == 0.0
    # Every view shows the same playhead.
    w.video.seek(2.5)
    assert w.lanes.playhead_time() == pytest.approx(2.5)
    assert w.transport.timecode.text().startswith("00:00:02")


def test_delete_split_and_undo_keys(qtbot: Any, ready: Any) -> None:
    w = ready
    doc = w.model.document
    fire = next(s for s in doc.segments if s.class_name == "fire")
    w.lanes.select(fire.id)
    w.video.seek(1.5)
    key(qtbot, w, Qt.Key.Key_S)
    fires = sorted((s.start, s.end) for s in doc.segments if s.class_name == "fire" and s.origin != "mute")
    assert fires == [(1.0, 1.5), (1.5, 2.0)]
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    fires = sorted((s.start, s.end) for s in doc.segments if s.class_name == "fire" and s.origin != "mute")
    assert fires == [(1.0, 2.0)]
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len([s for s in doc.segments if s.class_name == "fire" and s.origin != "mute"]) == 2
    first = min((s for s in doc.segments if s.class_name == "fire"), key=lambda s: s.start)
    w.lanes.select(first.id)
    key(qtbot, w, Qt.Key.Key_Delete)
    audible = [(s.start, s.end) for s in doc.segments if s.class_name == "fire" and s.origin != "mute"]
    assert audible == [(1.5, 2.0)]
    assert "Delete" in w.act.undo.text()


def test_zoom_keys_change_the_visible_range(qtbot: Any, ready: Any) -> None:
    w = ready
    w.timeline.fit()
    (x0, x1), _ = w.timeline.view_box().viewRange()
    key(qtbot, w, Qt.Key.Key_Equal)
    (y0, y1), _ = w.timeline.view_box().viewRange()
    assert (y1 - y0) < (x1 - x0)
    key(qtbot, w, Qt.Key.Key_Backslash)
    (z0, z1), _ = w.timeline.view_box().viewRange()
    assert (z1 - z0) == pytest.approx(x1 - x0, rel=0.05)


def test_menus_show_the_shortcuts(ready: Any) -> None:
    w = ready
    assert w.act.play.shortcut().toString() == "Space"
    assert w.act.undo.shortcut().matches(w.act.undo.shortcut()) and w.act.undo.shortcut().toString()
    assert "Ctrl+Shift+Z" in [s.toString() for s in w.act.redo.shortcuts()]
    assert w.act.split.shortcut().toString() == "S"



def _fires(w: Any) -> int:
    return len([s for s in w.model.document.segments if s.class_name == "fire" and s.origin != "mute"])


X11_REDO = ["Ctrl+Shift+Z", "Redo"]
WINDOWS_REDO = ["Ctrl+Y", "Alt+Shift+Backspace", "Ctrl+Shift+Z"]


@pytest.mark.parametrize("platform", [X11_REDO, WINDOWS_REDO], ids=["x11", "windows"])
def test_redo_keys_work_whatever_the_platform_calls_redo(qtbot: Any, make_window: Any, make_video: Any,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         platform: list[str]) -> None:
    """Issue 15 #2: on X11 the platform's Redo is Ctrl+Shift+Z, which the window listed twice on
    one action ("Ambiguous shortcut overload": nothing happened) and Ctrl+Y was not bound."""
    from PySide6.QtGui import QKeySequence

    from sfxstudio.gui import window_actions

    monkeypatch.setattr(window_actions, "platform_keys",
                        lambda _standard: [QKeySequence(k) for k in platform])
    w = make_window()
    w.resize(1280, 800)
    w.show()
    keys = [k.toString() for k in w.act.redo.shortcuts()]
    assert len(keys) == len(set(keys)) and {"Ctrl+Shift+Z", "Ctrl+Y"} <= set(keys)
    w.set_document(Project(video=str(make_video(seconds=4.0, fps=FPS))), None)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.model.document.set_params(k=0.0)
    from sfxstudio.core.commands import AddSegment
    from sfxstudio.core.segments import Segment

    w.model.push(AddSegment(Segment("fire", 1.0, 2.0, origin="manual")))
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    for redo in ((Qt.Key.Key_Y, ctrl), (Qt.Key.Key_Z, ctrl | shift)):
        key(qtbot, w, Qt.Key.Key_Z, ctrl)
        assert _fires(w) == 0
        key(qtbot, w, *redo)
        assert _fires(w) == 1, f"{redo} did not redo"


# -- issue 15: the editing conventions' keys ------------------------------------------------


def test_no_key_is_bound_twice(ready: Any) -> None:
    """One key on two window actions is "Ambiguous shortcut overload" in Qt: neither fires."""
    from PySide6.QtGui import QAction

    owners: dict[str, str] = {}
    for action in ready.findChildren(QAction):
        for seq in action.shortcuts():
            text = seq.toString()
            assert text not in owners, f"{text} is on {owners[text]!r} and {action.text()!r}"
            owners[text] = action.text()
    wanted = {"I", "O", "Ctrl+Shift+X", "Ctrl+Shift+Space", "Ctrl+L", "M", "Up", "Down", "N", "S", "Ctrl+K",
              "Ctrl+B", "Alt+Left", "Alt+Right", ",", ".", "Ctrl+G", "Ctrl+A", "Ctrl+C", "Ctrl+V", "Ctrl+D",
              "Del", "Backspace", "F1"}
    assert wanted <= set(owners), sorted(wanted - set(owners))


def test_mark_keys_in_out_markers_and_points(qtbot: Any, ready: Any, qtlog: Any) -> None:
    w = ready
    w.video.seek(1.0)
    key(qtbot, w, Qt.Key.Key_I)
    w.video.seek(2.5)
    key(qtbot, w, Qt.Key.Key_O)
    assert (w.markers.in_point, w.markers.out_point) == (pytest.approx(1.0), pytest.approx(2.5))
    key(qtbot, w, Qt.Key.Key_M)
    assert [m.time for m in w.project.markers] == [pytest.approx(2.5)]
    assert w.act.undo.text() == "&Undo Add Marker"
    w.video.seek(0.0)
    key(qtbot, w, Qt.Key.Key_Down)  # the fire effect's start
    assert w.video.position() == pytest.approx(1.0)
    key(qtbot, w, Qt.Key.Key_Down)
    key(qtbot, w, Qt.Key.Key_Down)  # its end, then the marker
    assert w.video.position() == pytest.approx(2.5)
    key(qtbot, w, Qt.Key.Key_Up)
    assert w.video.position() == pytest.approx(2.0)
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    key(qtbot, w, Qt.Key.Key_L, ctrl)
    assert w.markers.loop and w.act.loop.isChecked()
    key(qtbot, w, Qt.Key.Key_X, ctrl | shift)
    assert (w.markers.in_point, w.markers.out_point) == (None, None)
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]


def test_split_keys_and_snapping_toggle(qtbot: Any, ready: Any) -> None:
    w = ready
    ctrl = Qt.KeyboardModifier.ControlModifier
    fire = next(s for s in w.model.document.segments if s.class_name == "fire")
    for split_key, at, expected in ((Qt.Key.Key_K, 1.3, 2), (Qt.Key.Key_B, 1.6, 3)):
        w.lanes.select(fire.id if split_key == Qt.Key.Key_K else w.lanes.selected_id())
        w.video.seek(at)
        key(qtbot, w, split_key, ctrl)
        assert _fires(w) == expected, f"Ctrl+{split_key.name} did not split"
    if hasattr(w.lanes, "snapping"):
        assert w.lanes.snapping and w.act.snapping.isChecked()
        key(qtbot, w, Qt.Key.Key_N)
        assert not w.lanes.snapping and not w.act.snapping.isChecked()
