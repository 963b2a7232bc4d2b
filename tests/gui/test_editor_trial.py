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


def _streaming_analyze(frames_before_cancel: int, fps: float) -> Any:
    """An analysis that streams `frames_before_cancel` frames, then waits to be cancelled."""
    import time

    import numpy as np

    from sfxstudio.core.errors import Cancelled
    from sfxstudio.gui.analysis_controller import bundle_class_names
    from sfxstudio.pipeline.jobs import AnalysisChunk, Progress

    def analyze(video: Any, model: Any, params: Any, cancel: Any = None, options: Any = None) -> Any:
        names = bundle_class_names(Path(model))
        started = time.monotonic()
        for start in range(0, frames_before_cancel, 5):
            t = np.arange(start, start + 5) / fps
            p = np.zeros((5, len(names)), np.float32)
            p[:, names.index("fire")] = 1.0
            yield Progress(start + 5, 100, started, partial=AnalysisChunk(t, p))
            time.sleep(0.12)  # past the worker's 10 Hz coalescing, so each chunk reaches the window
        while not cancel():
            time.sleep(0.01)
        raise Cancelled("analysis cancelled")

    return analyze


@pytest.mark.parametrize("answer", ["Keep Partial Analysis", "Discard"])
def test_cancelling_an_analysis_offers_to_keep_the_part_done(
        qtbot: Any, window: Any, color_model: Path, color_video: Path, monkeypatch: pytest.MonkeyPatch,
        answer: str) -> None:
    """Issue 15 #7: Cancel threw away what had been analysed."""
    import sfxstudio.pipeline as pipeline
    from tests.gui.conftest import wait_analysis

    monkeypatch.setattr(pipeline, "analyze", _streaming_analyze(15, 10.0))
    assert window.open_video(color_video, analyse=False)
    assert window.analyse()
    frames: list[int] = []
    window.analysis_worker.partial.connect(lambda c: frames.append(len(c.times)))
    qtbot.waitUntil(lambda: sum(frames) >= 15, timeout=30_000)
    window.analyser.cancel_button.click()
    assert wait_analysis(qtbot, window) == "cancelled"
    box = window.analyser.partial_prompt
    assert box is not None and box.isVisible() and "15 frames" in box.text()
    assert window.model.document.analysis is None  # nothing changes before the answer
    next(b for b in box.buttons() if b.text() == answer).click()
    analysis = window.model.document.analysis
    if answer == "Discard":
        assert analysis is None and not window.analyser.partial_label.isVisible()
        return
    assert analysis is not None and analysis.frames == 15
    assert analysis.duration == pytest.approx(3.0, abs=0.15)  # the whole video, analysed in part
    label = window.analyser.partial_label
    assert label.isVisible() and "Partial analysis" in label.text()
    fires = [s for s in window.model.document.segments if s.class_name == "fire" and s.origin == "auto"]
    assert [(s.start, s.end) for s in fires] == [(0.0, pytest.approx(1.5))]
    # A new project drops the mark.
    from sfxstudio.core.project import Project

    window.set_document(Project(), None)
    assert not label.isVisible()


def test_closing_during_an_analysis_never_asks(qtbot: Any, make_window: Any, color_model: Path,
                                               color_video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sfxstudio.pipeline as pipeline

    monkeypatch.setattr(pipeline, "analyze", _streaming_analyze(10, 10.0))
    w = make_window()
    w.show()
    assert w.open_video(color_video, analyse=False)
    assert w.analyse()
    frames: list[int] = []
    w.analysis_worker.partial.connect(lambda c: frames.append(len(c.times)))
    qtbot.waitUntil(lambda: sum(frames) >= 10, timeout=30_000)
    w.analyser.abandon()  # what opening another project does
    qtbot.wait(200)
    assert w.analyser.partial_prompt is None and w.model.document.analysis is None
