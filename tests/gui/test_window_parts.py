"""The window's parts keep their promises: each window owns its analysis process, every command
sits in a menu with a key of its own, the transport shows the playhead and the video's length."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction

from sfxstudio.core.project import Project
from sfxstudio.gui.timecode import format_duration


def test_each_window_owns_its_analysis_process(make_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio.pipeline.analysis_server import AnalysisServer

    closed: list[Any] = []
    monkeypatch.setattr(AnalysisServer, "close", lambda self: closed.append(self))
    w1, w2 = make_window(), make_window()
    s1, s2 = w1.analyser.server(), w2.analyser.server()  # created lazily; nothing spawns here
    assert s1 is w1.analyser.server() and s1 is not s2
    w1.shutdown()
    assert closed == [s1]  # closing one window leaves the other's process alone
    assert w2.analyser.server() is s2
    assert w1.analyser.server() is not s1  # a closed process is never handed out again


def test_every_command_is_in_a_menu_and_no_two_share_a_key(make_window: Any) -> None:
    w = make_window()
    in_menus: set[int] = set()

    def walk(actions: list[QAction]) -> None:
        for a in actions:
            in_menus.add(id(a))
            if a.menu() is not None:
                walk(a.menu().actions())

    walk(w.menuBar().actions())
    commands = [v for v in vars(w.act).values() if isinstance(v, QAction)]
    assert len(commands) > 30
    missing = [a.text() for a in commands if id(a) not in in_menus]
    assert missing == []
    keys = Counter(k.toString() for a in w.actions() for k in a.shortcuts() if not k.isEmpty())
    assert keys["Space"] == 1 and keys["J"] == 1 and keys["Ctrl+Shift+Z"] == 1
    assert [k for k, n in keys.items() if n > 1] == []


def test_transport_shows_the_playhead_and_the_length(qtbot: Any, window: Any, color_video: Path) -> None:
    moved: list[float] = []
    window.transport.playheadMoved.connect(moved.append)
    assert window.open_video(color_video, analyse=False)
    assert window.transport.duration_label.text() == "0:03"
    window.video.seek(2.0)
    qtbot.waitUntil(lambda: bool(moved) and moved[-1] == pytest.approx(2.0), timeout=3000)
    assert window.transport.timecode.text() == "00:00:02:00"  # 10 fps: frame 0 of second 2
    window.set_document(Project(), None)  # no picture: no length
    assert window.transport.duration_label.text() == ""
    assert moved[-1] == 0.0 and window.transport.timecode.text().startswith("00:00:00")


def test_format_duration() -> None:
    assert format_duration(None) == "--:--"
    assert format_duration(65.4) == "1:05"
    assert format_duration(3725) == "1:02:05"
