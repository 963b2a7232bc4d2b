"""The editing conventions of issue 15 by their real keys in the window: select all, copy, paste
at the playhead, duplicate, nudge and delete of the selection. Each key goes through Qt's
shortcut system to the window's QAction (nothing here calls the lanes directly), and each edit
is one undo step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from sfxstudio.core.project import AnalysisCache
from tests.gui import test_shortcuts
from tests.gui.test_shortcuts import FPS, key

ready = test_shortcuts.ready  # the window fixture, shared: the same window test_shortcuts drives
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture
def editing(ready: Any) -> Any:
    """test_shortcuts' window (4 s at 10 fps, the lanes focused) whose analysis hears fire
    from 1.0 to 1.5 s only ("otherwise" elsewhere, which makes no effect); nothing to undo."""
    names = ["fire", "river", "otherwise"]
    n = 4 * FPS
    probs = np.zeros((n, 3), np.float32)
    probs[:, 2] = 1.0
    probs[10:15] = (1.0, 0.0, 0.0)
    cache = AnalysisCache(np.arange(n) / FPS, probs, np.zeros((n, 0), np.float32), names, 1 / FPS, 4.0)
    ready.model.document.set_analysis(cache)
    ready.model.undo_stack.clear()
    return ready


def press(qtbot: Any, w: Any, action: Any, k: Qt.Key,
          mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press a key and check that it was `action` that fired (once)."""
    with qtbot.waitSignal(action.triggered, timeout=1000):
        key(qtbot, w, k, mod)


def fires(w: Any) -> list[tuple[float, float, str]]:
    return sorted((round(s.start, 6), round(s.end, 6), s.origin)
                  for s in w.model.document.segments if s.class_name == "fire" and s.origin != "mute")


def selected(w: Any) -> list[tuple[float, float]]:
    doc = w.model.document
    return sorted((round(s.start, 6), round(s.end, 6))
                  for s in (doc.find(i) for i in w.lanes.selected_ids()) if s is not None)


def test_select_all_copy_paste_duplicate_nudge_delete_by_keys(qtbot: Any, editing: Any) -> None:
    w = editing
    a, stack = w.act, w.model.undo_stack
    assert fires(w) == [(1.0, 1.5, "auto")]
    assert w.lanes.selected_ids() == []

    press(qtbot, w, a.select_all, Qt.Key.Key_A, CTRL)
    assert selected(w) == [(1.0, 1.5)]
    press(qtbot, w, a.copy, Qt.Key.Key_C, CTRL)
    assert stack.count() == 0  # copying is no edit

    # The playhead moves by the transport's keys: Shift+Right is one second, Right one frame.
    key(qtbot, w, Qt.Key.Key_Home)
    key(qtbot, w, Qt.Key.Key_Right, SHIFT)
    key(qtbot, w, Qt.Key.Key_Right, SHIFT)
    for _ in range(3):
        key(qtbot, w, Qt.Key.Key_Right)
    assert w.video.position() == pytest.approx(2.3)

    press(qtbot, w, a.paste, Qt.Key.Key_V, CTRL)
    assert fires(w) == [(1.0, 1.5, "auto"), (2.3, 2.8, "manual")]
    assert stack.count() == 1 and a.undo.text() == "&Undo Paste Effect"
    assert selected(w) == [(2.3, 2.8)]  # the copy is the selection now

    press(qtbot, w, a.duplicate, Qt.Key.Key_D, CTRL)
    assert fires(w) == [(1.0, 1.5, "auto"), (2.3, 2.8, "manual"), (2.8, 3.3, "manual")]
    assert stack.count() == 2 and a.undo.text() == "&Undo Duplicate Effect"
    assert selected(w) == [(2.8, 3.3)]

    press(qtbot, w, a.nudge_right, Qt.Key.Key_Right, ALT)
    assert selected(w) == [(2.9, 3.4)]
    press(qtbot, w, a.nudge_right, Qt.Key.Key_Period)
    assert selected(w) == [(3.0, 3.5)]
    press(qtbot, w, a.nudge_left, Qt.Key.Key_Comma)
    assert selected(w) == [(2.9, 3.4)]
    assert stack.count() == 5 and a.undo.text() == "&Undo Nudge Effect"
    assert w.video.position() == pytest.approx(2.3)  # nudging moves effects, not the playhead

    press(qtbot, w, a.delete, Qt.Key.Key_Delete)
    assert fires(w) == [(1.0, 1.5, "auto"), (2.3, 2.8, "manual")]
    assert stack.count() == 6 and a.undo.text().startswith("&Undo Delete")

    # Each key was one step: Ctrl+Z walks back through delete, three nudges, duplicate, paste.
    for state in ([(2.9, 3.4)], [(3.0, 3.5)], [(2.9, 3.4)], [(2.8, 3.3)], []):
        key(qtbot, w, Qt.Key.Key_Z, CTRL)
        assert fires(w) == [(1.0, 1.5, "auto"), (2.3, 2.8, "manual"), *((x, y, "manual") for x, y in state)]
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert fires(w) == [(1.0, 1.5, "auto")] and stack.index() == 0
    key(qtbot, w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert fires(w) == [(1.0, 1.5, "auto"), (2.3, 2.8, "manual")]


def test_select_all_then_delete_is_one_undo_step(qtbot: Any, editing: Any) -> None:
    w = editing
    a, doc = w.act, w.model.document
    from sfxstudio.core.commands import AddSegment
    from sfxstudio.core.segments import Segment

    assert w.model.push(AddSegment(Segment("river", 2.0, 3.0)))
    before = fires(w)
    press(qtbot, w, a.select_all, Qt.Key.Key_A, CTRL)
    assert len(w.lanes.selected_ids()) == 2
    press(qtbot, w, a.delete, Qt.Key.Key_Delete)
    assert [s for s in doc.segments if s.origin != "mute"] == []
    assert w.model.undo_stack.count() == 2  # the drawn river, then one delete of both
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert fires(w) == before
    assert [(s.start, s.end) for s in doc.segments if s.class_name == "river"] == [(2.0, 3.0)]


def test_paste_with_nothing_copied_says_why_and_changes_nothing(qtbot: Any, editing: Any) -> None:
    w = editing
    press(qtbot, w, w.act.paste, Qt.Key.Key_V, CTRL)
    assert w.model.undo_stack.count() == 0
    assert "copy" in w.statusBar().currentMessage().lower()
