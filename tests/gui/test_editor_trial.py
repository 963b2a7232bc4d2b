"""Issue 15: what an editor hit in a hands-on trial; each failure must be said in the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox


def test_show_log_without_a_launcher_says_where_the_log_is(window: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Help > Show Log did nothing where no program opens files (QDesktopServices fails)."""
    from PySide6.QtGui import QDesktopServices

    from sfxstudio.gui import errors

    errors.log.warning("something to log")
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda _url: False))
    window.act.show_log.trigger()
    path = str(errors.log_file())
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "logFileDialog"]
    assert len(boxes) == 1 and boxes[0].isVisible()
    assert path in boxes[0].text()
    assert path in window.statusBar().currentMessage()
    boxes[0].close()


def test_show_log_opens_the_file_where_a_launcher_exists(window: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QDesktopServices

    from sfxstudio.gui import errors

    errors.log.warning("something to log")
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url.toLocalFile()) or True))
    window.act.show_log.trigger()
    assert opened == [str(errors.log_file())]
    assert not [b for b in window.findChildren(QMessageBox) if b.objectName() == "logFileDialog"]


def test_audition_without_an_audio_device_says_so(window: Any, tmp_path: Path) -> None:
    """Play in the Classes panel with no sound card showed nothing (only the log knew)."""
    window.effects.has_device = False
    window.class_panel.auditionRequested.emit(str(tmp_path / "dog_bark_01.wav"))
    message = window.statusBar().currentMessage()
    assert "No audio output device" in message and "dog_bark_01.wav" in message
