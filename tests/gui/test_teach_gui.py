"""Analysis > Improve Model from My Corrections, and the device the analysis runs on.

The full flow uses the real teach code on the color test model: analyse a 3 s video, correct
it, teach, and check the window adopts the new model without decoding the video again. The
checks before teaching use a hand-made analysis (no TensorFlow) so they cost nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from sfxstudio.core.classes import default_classes
from sfxstudio.core.commands import AddSegment, DeleteSegment
from sfxstudio.core.project import AnalysisCache
from sfxstudio.core.segments import Segment
from tests.gui.conftest import wait_analysis


def effects(window: Any) -> list[tuple[str, float, float, str]]:
    return [(s.class_name, round(s.start, 3), round(s.end, 3), s.origin)
            for s in window.model.document.segments]


def messages(window: Any, name: str = "teachMessage") -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.objectName() == name and b.isVisible()]


@pytest.fixture
def models_dir(tmp_path: Path, color_bundle: Any, gui_settings: Any) -> Path:
    """A private copy of the color model in a user models folder (teaching writes beside it,
    and the session-wide fixture folder must stay as other tests expect it)."""
    models = tmp_path / "models"
    shutil.copytree(color_bundle.path, models / "color")
    gui_settings.set("models/user_folders", [str(models)])
    gui_settings.set("models/selected", str(models / "color"))
    return models


def analysed(qtbot: Any, make_window: Any, video: Path) -> Any:
    w = make_window()
    w.resize(1280, 800)
    w.show()
    assert w.open_video(video, analyse=False)
    w.model.document.set_params(k=0.0)
    assert w.analyse()
    assert wait_analysis(qtbot, w) == "finished"
    return w


def wait_teach(qtbot: Any, window: Any, timeout: int = 120_000) -> str:
    outcome: list[str] = []
    run = window.model_manager.teach_run
    run.stopped.connect(outcome.append)
    qtbot.waitUntil(lambda: bool(outcome) and not run.is_running(), timeout=timeout)
    return outcome[0]


def test_improve_model_from_corrections(qtbot: Any, make_window: Any, models_dir: Path, color_video: Path,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = models_dir / "color"
    w = analysed(qtbot, make_window, color_video)
    doc = w.model.document
    names = doc.analysis.class_names
    before = doc.analysis.probs.copy()
    embeddings = doc.analysis.embeddings.copy()
    assert effects(w) == [("fire", 0.0, 1.0, "auto"), ("river", 2.0, 3.0, "auto")]

    # Corrections: the green second is a dog barking; the river is wrong.
    w.model.push(AddSegment(Segment("dog_barking", 1.0, 2.0, origin="manual")))
    river = next(s for s in doc.segments if s.class_name == "river")
    w.model.push(DeleteSegment(river.id))
    edited = [e for e in effects(w) if e[3] != "auto"]
    undo_steps = w.model.undo_stack.count()
    assert w.save_to(tmp_path / "corrected.sfxproj")
    assert not w.isWindowModified()

    # From here on nothing may decode the video: the new model reads the cached embeddings.
    import sfxstudio.media.video as video

    def no_decoding(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the video was decoded again")

    monkeypatch.setattr(video, "iter_frames", no_decoding)
    assert w.model_manager.improve()
    assert w.model_manager.teach_run.dialog.isVisible()
    assert not w.act.improve.isEnabled() and not w.act.analyse.isEnabled()
    assert wait_teach(qtbot, w) == "finished"
    assert not w.model_manager.teach_run.dialog.isVisible()

    new = models_dir / "color-taught-1"
    meta = json.loads((new / "bundle.json").read_text(encoding="utf-8"))
    assert meta["parent"]["name"] == "color" and meta["parent"]["path"] == str(base.resolve())
    assert meta["training"]["model_version"] == 2
    assert meta["training"]["corrected_frames"] == 20  # 10 dog frames + 10 muted river frames
    assert meta["training"]["corrected_frames_per_class"] == {"dog_barking": 10, "otherwise": 10}
    assert (base / "bundle.json").is_file()  # the base model is kept

    assert w.selected_model().resolve() == new.resolve()
    assert w.model_manager.combo.currentText() == "color-taught-1"
    assert doc.params.model == str(new)
    assert doc.analysis.model == str(new)
    assert np.array_equal(doc.analysis.embeddings, embeddings)
    after = doc.analysis.probs
    green, blue = slice(10, 20), slice(20, 30)
    dog, other = names.index("dog_barking"), names.index("otherwise")
    assert after[green, dog].mean() > before[green, dog].mean()
    # The river frames' probability of "no effect" rose (river itself is saturated at 1.0 in float32).
    assert after[blue, other].mean() > before[blue, other].mean()
    assert [e for e in effects(w) if e[3] != "auto"] == edited  # the editor's ranges are kept
    assert ("dog_barking", 1.0, 2.0, "manual") in effects(w)
    assert w.isWindowModified()
    assert w.model.undo_stack.count() == undo_steps  # a new model is not an edit
    message = w.statusBar().currentMessage()
    assert "color-taught-1" in message and "20 corrected frames" in message
    assert w.analyser.device_label.isVisible() and w.analyser.device_label.text().startswith("Device: ")

    # Saved and reopened, the project remembers the improved model.
    assert w.save_to(tmp_path / "improved.sfxproj")
    from sfxstudio.core.project_io import load_project

    assert load_project(tmp_path / "improved.sfxproj").params.model == str(new)


# --- checks before teaching (no TensorFlow) --------------------------------------------------------
def fake_analysis(model: Path, frames: int = 30, dim: int = 8) -> AnalysisCache:
    names = default_classes().names
    probs = np.zeros((frames, len(names)), np.float32)
    probs[:, names.index("otherwise")] = 1.0
    return AnalysisCache(np.arange(frames) / 10.0, probs, np.ones((frames, dim), np.float16), names,
                         0.1, frames / 10.0, model=str(model))


def opened(make_window: Any, video: Path, cache: AnalysisCache | None) -> Any:
    w = make_window()
    w.show()
    assert w.open_video(video, analyse=False)
    if cache is not None:
        w.model.document.set_analysis(cache)
    return w


def test_no_corrections_says_what_to_do(qtbot: Any, make_window: Any, models_dir: Path,
                                        color_video: Path) -> None:
    w = opened(make_window, color_video, fake_analysis(models_dir / "color"))
    assert w.act.improve.isEnabled()
    w.act.improve.trigger()
    boxes = messages(w)
    assert boxes and boxes[-1].text().startswith("Correct some effects first: ")
    assert w.statusBar().currentMessage().startswith("Correct some effects first")
    assert w.model_manager.teach_run is None
    assert sorted(p.name for p in models_dir.iterdir()) == ["color"]


def test_analysis_made_with_another_model_is_refused(qtbot: Any, make_window: Any, models_dir: Path,
                                                     color_video: Path, tmp_path: Path) -> None:
    w = opened(make_window, color_video, fake_analysis(tmp_path / "elsewhere" / "birds"))
    w.model.push(AddSegment(Segment("dog_barking", 1.0, 2.0, origin="manual")))
    assert not w.model_manager.improve()
    text = messages(w)[-1].text()
    assert "\u201cbirds\u201d" in text and "\u201ccolor\u201d" in text
    assert w.model_manager.teach_run is None


def test_without_analysis_the_action_is_disabled_and_explains(qtbot: Any, make_window: Any,
                                                              models_dir: Path, color_video: Path) -> None:
    w = opened(make_window, color_video, None)
    assert not w.act.improve.isEnabled()
    assert not w.model_manager.improve()
    assert "Analyse the video first" in messages(w)[-1].text()


def test_dialog_adds_other_projects_but_not_the_open_one(qtbot: Any, make_window: Any, models_dir: Path,
                                                         color_video: Path, tmp_path: Path) -> None:
    w = opened(make_window, color_video, fake_analysis(models_dir / "color"))
    w.model.push(AddSegment(Segment("dog_barking", 1.0, 2.0, origin="manual")))
    assert w.save_to(tmp_path / "this.sfxproj")
    dialog = w.model_manager.improve_dialog()
    assert dialog is not None and dialog.isVisible()
    assert "1 corrected effect, 10 frames" in dialog.findChildren(type(w.transport.timecode))[0].text()
    dialog.add_projects([tmp_path / "other.sfxproj", tmp_path / "this.sfxproj", tmp_path / "other.sfxproj"])
    assert dialog.extra_projects() == [(tmp_path / "other.sfxproj").resolve()]
    started: list[list[Path]] = []
    w.model_manager.improve = lambda extra=(): started.append(list(extra)) or True
    dialog.ok_button.click()
    assert started == [[(tmp_path / "other.sfxproj").resolve()]]


def test_taught_folder_numbering_and_read_only_fallback(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio.gui import teach

    models, user = tmp_path / "models", tmp_path / "user"
    (models / "demo").mkdir(parents=True)
    assert teach.taught_folder(models / "demo", user) == models / "demo-taught-1"
    (models / "demo-taught-1").mkdir()
    assert teach.taught_folder(models / "demo", user) == models / "demo-taught-2"
    # Teaching a taught model continues the numbering instead of stacking suffixes.
    assert teach.taught_folder(models / "demo-taught-1", user) == models / "demo-taught-2"
    monkeypatch.setattr(teach, "writable", lambda folder: False)
    assert teach.taught_folder(models / "demo", user) == user / "demo-taught-1"


def test_cancel_leaves_nothing_behind(qtbot: Any, make_window: Any, models_dir: Path,
                                      color_video: Path) -> None:
    w = opened(make_window, color_video, fake_analysis(models_dir / "color"))
    w.model.push(AddSegment(Segment("dog_barking", 1.0, 2.0, origin="manual")))
    analysis = w.model.document.analysis
    assert w.model_manager.improve()
    w.model_manager.teach_run.dialog.canceled.emit()  # what the dialog's Cancel button does
    assert wait_teach(qtbot, w) == "cancelled"
    assert sorted(p.name for p in models_dir.iterdir()) == ["color"]
    assert w.model.document.analysis is analysis
    assert "cancelled" in w.statusBar().currentMessage()
    assert w.act.improve.isEnabled()


# --- the device ------------------------------------------------------------------------------------
def test_device_choice_is_stored_passed_to_the_analysis_and_shown(
        qtbot: Any, make_window: Any, models_dir: Path, color_video: Path, gui_settings: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sfxstudio.pipeline as pipeline
    from sfxstudio.ml import tf_setup

    real_analyze, real_configure = pipeline.analyze, tf_setup.configure
    seen_options: list[Any] = []
    configured: list[str] = []

    def spying_analyze(video: Any, model: Any, params: Any, cancel: Any = None, options: Any = None) -> Any:
        seen_options.append(options)
        return real_analyze(video, model, params, cancel, options)

    def spying_configure(threads: Any = None, device: str = "auto", mixed_precision: bool = True) -> Any:
        configured.append(device)
        # The process keeps its first configuration; "auto" never hides a GPU from later tests.
        return real_configure(threads, "auto", mixed_precision)

    monkeypatch.setattr(pipeline, "analyze", spying_analyze)
    monkeypatch.setattr(tf_setup, "configure", spying_configure)
    w = make_window()
    w.show()
    assert not w.analyser.device_label.isVisible()  # nothing is known (or imported) before an analysis
    assert w.act.device["auto"].isChecked()
    w.act.device["cpu"].trigger()
    assert gui_settings.get("analysis/device") == "cpu"
    assert make_window().act.device["cpu"].isChecked()  # remembered

    assert w.open_video(color_video, analyse=False)
    assert w.analyse()
    assert wait_analysis(qtbot, w) == "finished"
    assert seen_options and seen_options[0].device == "cpu"
    assert configured and configured[0] == "cpu"
    assert w.analyser.device_label.isVisible()
    assert w.analyser.device_label.text() == f"Device: {tf_setup.describe_device()}"
    assert w.analyser.device_label.text().startswith(("Device: CPU", "Device: GPU"))


def test_menus_and_toolbar(make_window: Any) -> None:
    w = make_window()
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions()}
    analysis = [a.text() for a in menus["Analysis"].actions()]
    assert w.act.improve.text() in analysis
    assert [a.text().replace("&", "") for a in w.act.device_menu.actions()][1:] == ["CPU", "GPU"]
    assert w.act.create_imagenet in menus["Models"].actions()
    assert w.act.improve in w.toolbar.actions()
