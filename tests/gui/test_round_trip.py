"""Open a video, analyse it with a real (tiny) model, edit, undo/redo, save and reopen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfxstudio.core.commands import AddSegment, DeleteSegment, SetParams
from sfxstudio.core.project_io import load_project
from sfxstudio.core.segments import Segment
from tests.gui.conftest import wait_analysis


def effects(window: Any) -> list[tuple[str, float, float, str]]:
    return [(s.class_name, round(s.start, 3), round(s.end, 3), s.origin)
            for s in window.model.document.segments]


def analysed_window(qtbot: Any, make_window: Any, color_model: Path, color_video: Path) -> Any:
    w = make_window()
    w.resize(1280, 800)
    w.show()
    assert w.selected_model() == color_model
    assert w.open_video(color_video, analyse=False)
    w.model.document.set_params(k=0.0)
    chunks: list[Any] = []
    assert w.analyse()
    w.analysis_worker.partial.connect(chunks.append)
    assert wait_analysis(qtbot, w) == "finished"
    assert chunks, "results are streamed while the analysis runs"
    return w


def test_open_analyse_edit_undo_save_reopen(qtbot: Any, make_window: Any, color_model: Path,
                                            color_video: Path, tmp_path: Path) -> None:
    w = analysed_window(qtbot, make_window, color_model, color_video)
    doc = w.model.document
    assert doc.analysis is not None and doc.analysis.frames == 30
    assert effects(w) == [("fire", 0.0, 1.0, "auto"), ("river", 2.0, 3.0, "auto")]
    assert w.isWindowModified() and "[*]" in w.windowTitle()
    assert not w.analyser.progress.isVisible()

    # Edit: add a manual effect, delete the automatic river (leaves a mute), undo, redo.
    w.model.push(AddSegment(Segment("dog_barking", 1.2, 1.6, origin="manual")))
    river = next(s for s in doc.segments if s.class_name == "river")
    w.model.push(DeleteSegment(river.id))
    after_edits = effects(w)
    assert ("dog_barking", 1.2, 1.6, "manual") in after_edits
    assert not any(c == "river" and o != "mute" for c, _a, _b, o in after_edits)
    assert w.act.undo.text().startswith("&Undo Delete river") or "Delete" in w.act.undo.text()
    w.act.undo.trigger()
    assert ("river", 2.0, 3.0, "auto") in effects(w)
    w.act.redo.trigger()
    assert effects(w) == after_edits

    # Save, then open in a new window: the edits and the analysis come back.
    target = tmp_path / "work.sfxproj"
    assert w.save_to(target)
    assert not w.isWindowModified() and w.windowTitle().startswith("work.sfxproj")
    assert str(target.resolve()) in w.settings.recent_files()
    w2 = make_window()
    assert w2.open_project(target)
    assert effects(w2) == after_edits
    assert w2.model.document.analysis is not None and w2.model.document.analysis.frames == 30
    assert not w2.isWindowModified()
    assert load_project(target).params.model == str(color_model)


def test_k_and_threshold_changes_keep_manual_effects(qtbot: Any, make_window: Any, color_model: Path,
                                                     color_video: Path) -> None:
    w = analysed_window(qtbot, make_window, color_model, color_video)
    manual = Segment("typing", 1.1, 1.5, origin="manual")
    w.model.push(AddSegment(manual))
    w.model.push(SetParams(k=1.5))
    w.model.push(SetParams(threshold=0.999))
    assert ("typing", 1.1, 1.5, "manual") in effects(w)
    w.model.push(SetParams(threshold=0.2))
    assert ("typing", 1.1, 1.5, "manual") in effects(w)
    assert any(c == "fire" for c, *_ in effects(w))


def test_cancel_running_analysis_stops_within_one_batch(qtbot: Any, make_window: Any, color_model: Path,
                                                        make_video: Any, gui_settings: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import sfxstudio.pipeline as pipeline

    real_analyze = pipeline.analyze
    done_after_cancel: list[int] = []  # frames the job reported once cancel() was true
    done_at_cancel: list[int] = []

    def spying_analyze(video: Any, model: Any, params: Any, cancel: Any = None, options: Any = None) -> Any:
        for p in real_analyze(video, model, params, cancel, options):
            if cancel():
                (done_after_cancel if done_at_cancel else done_at_cancel).append(p.done)
            yield p

    monkeypatch.setattr(pipeline, "analyze", spying_analyze)
    gui_settings.set("analysis/batch_size", 4)
    video = make_video(seconds=30.0, fps=10)  # 300 frames = 75 batches
    w = make_window()
    w.show()
    assert w.open_video(video, analyse=False)
    assert w.analyse()
    frames: list[int] = []
    w.analysis_worker.partial.connect(lambda c: frames.append(len(c.times)))
    qtbot.waitUntil(lambda: sum(frames) >= 8, timeout=60_000)
    assert w.analyser.cancel_button.isVisible()
    w.analyser.cancel_button.click()
    assert wait_analysis(qtbot, w) == "cancelled"
    assert w.analysis_worker.thread().isFinished()
    # The job saw the cancel at its next batch and stopped there: nothing was analysed after it.
    assert done_at_cancel and done_at_cancel[0] < 300
    assert done_after_cancel == []
    assert w.model.document.analysis is None  # the project is as it was
    assert w.act.analyse.isEnabled() and not w.act.cancel.isEnabled()
    assert not w.analyser.cancel_button.isVisible()


def test_bad_video_shows_a_dialog_naming_the_file(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"this is not a video")
    assert not window.open_video(bad)
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "errorDialog"]
    assert boxes, "an error dialog is shown"
    text = boxes[-1].text()
    assert "holiday.mp4" in text and "Traceback" not in text
    assert "sfxstudio.log" in boxes[-1].detailedText()


@pytest.mark.parametrize("suffix", [".sfxproj", ".mp4"])
def test_drop_accepts_videos_and_projects(qtbot: Any, window: Any, tmp_path: Path, suffix: str) -> None:
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / f"clip{suffix}"))])
    event = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(event)
    assert event.isAccepted()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    event = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(event)
    assert not event.isAccepted()


def test_analysis_in_a_separate_process_gives_the_same_effects(qtbot: Any, make_window: Any,
                                                              color_model: Path, color_video: Path,
                                                              gui_settings: Any) -> None:
    """The default: TensorFlow runs in a child process so the window never freezes."""
    in_thread = effects(analysed_window(qtbot, make_window, color_model, color_video))
    gui_settings.set("analysis/separate_process", True)
    w = analysed_window(qtbot, make_window, color_model, color_video)
    assert effects(w) == in_thread and in_thread
    assert w.analyser.device_label.text().startswith("Device:")
