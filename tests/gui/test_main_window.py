"""The main window: start-up, theme, settings, title, close prompt, recovery, models, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from sfxstudio.core.commands import AddSegment
from sfxstudio.core.segments import Segment
from sfxstudio.gui.settings import MAX_RECENT, OPTIONS, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_starts_without_tensorflow_and_reports_first_show(tmp_path: Path) -> None:
    code = ("import sys; from sfxstudio.gui.app import run; rc = run([]); "
            "print('TF_LOADED', 'tensorflow' in sys.modules); sys.exit(rc)")
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "SFXSTUDIO_REPORT_SHOWN": "1",
                        "SFXSTUDIO_SETTINGS": str(tmp_path / "s.ini"),
                        "SFXSTUDIO_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("SFX", "TF_")))
    assert float(lines["SFXSTUDIO_SHOWN"]) > 0
    assert lines["TF_LOADED"] == "False"  # TensorFlow loads only when an analysis starts


def test_dark_fusion_theme(window: Any) -> None:
    app = QApplication.instance()
    from sfxstudio.gui.theme import apply_dark_theme

    apply_dark_theme(app)
    assert app.style().name().lower() == "fusion"
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert app.palette().color(QPalette.ColorRole.WindowText).lightness() > 180


def test_options_are_declared_once_with_defaults(gui_settings: Settings) -> None:
    assert gui_settings.get("recovery/interval_s") == 30.0
    assert gui_settings.get("files/recent") == []
    gui_settings.set("analysis/batch_size", "8")  # stored as text in INI files
    assert gui_settings.get("analysis/batch_size") == 8
    with pytest.raises(KeyError):
        gui_settings.get("no/such/option")
    assert all(o.name == name for name, o in OPTIONS.items())


def test_recent_files_newest_first_max_ten(gui_settings: Settings, tmp_path: Path) -> None:
    files = []
    for i in range(12):
        f = tmp_path / f"v{i}.mp4"
        f.write_bytes(b"x")
        files.append(f)
        gui_settings.add_recent_file(f)
    gui_settings.add_recent_file(files[5])
    recent = gui_settings.recent_files()
    assert len(recent) == MAX_RECENT
    assert recent[0] == str(files[5]) and recent[1] == str(files[11])
    assert len(set(recent)) == MAX_RECENT


def test_geometry_and_folders_are_remembered(make_window: Any, gui_settings: Settings) -> None:
    w = make_window()
    w.resize(1300, 820)
    w.show()
    w.main_split.setSizes([500, 300])
    sizes = w.main_split.sizes()
    w.close()
    geometry = gui_settings.get("window/geometry")
    assert not geometry.isEmpty()
    w2 = make_window()
    assert w2.restoreGeometry(geometry)  # what the window does at start-up, from the same bytes
    w2.resize(1300, 820)
    w2.show()
    assert w2.main_split.sizes() == sizes


def test_title_shows_unsaved_changes_and_close_prompts(qtbot: Any, window: Any) -> None:
    assert window.windowTitle() == "Untitled[*] \u2014 SFX Studio"
    assert not window.isWindowModified()
    window.model.push(AddSegment(Segment("fire", 0.0, 1.0, origin="manual")))
    assert window.isWindowModified()
    asked: list[bool] = []

    def cancel() -> QMessageBox.StandardButton:
        asked.append(True)
        return QMessageBox.StandardButton.Cancel

    window.ask_save_changes = cancel
    event = QCloseEvent()
    window.closeEvent(event)
    assert asked and not event.isAccepted()
    window.act.undo.trigger()  # back to the saved state: clean again, no prompt
    assert not window.isWindowModified()
    asked.clear()
    event = QCloseEvent()
    window.closeEvent(event)
    assert event.isAccepted() and not asked


def test_recovery_after_a_crash(qtbot: Any, make_window: Any, make_video: Any,
                                gui_sandbox: Path) -> None:
    video = make_video(seconds=2.0)
    w = make_window()
    w.files.set_autosave_interval(0.05)
    assert w.open_video(video, analyse=False)
    w.model.push(AddSegment(Segment("dog_barking", 0.5, 1.5, origin="manual")))
    store = w.recovery
    qtbot.waitUntil(lambda: store.project_file.exists() and store.meta_file.exists(), timeout=5000)
    qtbot.waitUntil(lambda: not w.files.autosave_worker.is_running(), timeout=5000)
    # Simulate the crash: the process that wrote the file is gone and nothing cleaned up.
    meta = json.loads(store.meta_file.read_text())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    meta["pid"] = proc.pid
    store.meta_file.write_text(json.dumps(meta))
    w.files.autosave_timer.stop()
    w.recovery = type(store)(gui_sandbox / "other")  # the "dead" window must not clean up

    w2 = make_window()
    offered: list[Any] = []
    w2.ask_recover = lambda entry: offered.append(entry) or True
    assert w2.offer_recovery()
    assert offered and offered[0].video == str(video.resolve())
    segs = [(s.class_name, s.start, s.end, s.origin) for s in w2.model.document.segments]
    assert ("dog_barking", 0.5, 1.5, "manual") in segs
    assert w2.project.video == str(video.resolve())
    assert w2.isWindowModified()  # recovered work is unsaved work
    assert not store.project_file.exists()  # offered once, not again on the next start
    w3 = make_window()
    assert not w3.offer_recovery()


def test_discarding_recovery_removes_it(qtbot: Any, make_window: Any, gui_sandbox: Path) -> None:
    from sfxstudio.core.project import Project
    from sfxstudio.gui.recovery import RecoveryStore, list_stale

    store = RecoveryStore(gui_sandbox / "recovery", session="crashed")
    store.write(Project(video="/v.mp4"))
    meta = json.loads(store.meta_file.read_text())
    meta["pid"] = 999_999_999
    store.meta_file.write_text(json.dumps(meta))
    w = make_window()
    w.ask_recover = lambda entry: False
    assert not w.offer_recovery()
    assert list_stale(gui_sandbox / "recovery") == []


def test_clean_save_removes_recovery(qtbot: Any, make_window: Any, make_video: Any, tmp_path: Path) -> None:
    w = make_window()
    w.files.set_autosave_interval(0.05)
    assert w.open_video(make_video(), analyse=False)
    w.model.push(AddSegment(Segment("fire", 0.0, 0.5, origin="manual")))
    qtbot.waitUntil(lambda: w.recovery.project_file.exists(), timeout=5000)
    qtbot.waitUntil(lambda: not w.files.autosave_worker.is_running(), timeout=5000)
    assert w.save_to(tmp_path / "p.sfxproj")
    assert not w.recovery.project_file.exists()


def test_model_combo_lists_bundles_and_user_folders(make_window: Any, tmp_path: Path) -> None:
    folder = tmp_path / "mymodels" / "birds"
    folder.mkdir(parents=True)
    meta = {"format": "sfxstudio-model", "version": 1, "name": "Birds v2", "kind": "keras",
            "classes": ["bird", "otherwise"], "input_size": [32, 32], "preprocessing": "unit"}
    (folder / "bundle.json").write_text(json.dumps(meta))
    broken = tmp_path / "mymodels" / "broken"  # a damaged bundle is left out, not listed
    broken.mkdir()
    (broken / "bundle.json").write_text(json.dumps({"name": "Broken", "classes": "otherwise"}))
    w = make_window()
    assert w.model_manager.add_folder(tmp_path / "mymodels")
    labels = [w.model_manager.combo.itemText(i) for i in range(w.model_manager.combo.count())]
    assert "Birds v2" in labels and "Broken" not in labels
    assert w.selected_model() == folder
    assert w.settings.get("models/selected") == str(folder)
    w2 = make_window()  # remembered
    assert w2.selected_model() == folder
    assert not w.model_manager.add_folder(tmp_path)  # no bundle there: refused with a dialog


def test_uncaught_exception_becomes_a_dialog_and_a_log_entry(window: Any, gui_sandbox: Path) -> None:
    from sfxstudio.gui import errors

    old = sys.excepthook
    try:
        errors.install_excepthook()
        try:
            raise RuntimeError("widget exploded")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = old
    boxes = [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox)
             and b.objectName() == "errorDialog"]
    mine = [b for b in boxes if "widget exploded" in b.text()]
    assert mine and "Traceback" not in mine[0].text()
    for b in boxes:
        b.close()
    log = (gui_sandbox / "appdata" / "sfxstudio.log").read_text()
    assert "RuntimeError: widget exploded" in log


def test_screenshot_of_a_project(qtbot: Any, tmp_path: Path, make_video: Any) -> None:
    import numpy as np
    from PySide6.QtGui import QImage

    from sfxstudio.core.project import AnalysisCache, Project
    from sfxstudio.core.project_io import save_project
    from sfxstudio.gui.app import screenshot

    video = make_video(seconds=3.0)
    n = 30
    probs = np.zeros((n, 2), np.float32)
    probs[:, 1] = 1
    probs[5:15] = (1, 0)
    cache = AnalysisCache(np.arange(n) / 10, probs, np.zeros((n, 0), np.float32), ["fire", "otherwise"],
                          0.1, 3.0)
    project_file = tmp_path / "shot.sfxproj"
    save_project(Project(video=str(video), analysis=cache), project_file)
    png = tmp_path / "shot.png"
    assert screenshot(png, str(project_file)) == 0
    image = QImage(str(png))
    assert image.width() >= 1280 and image.height() >= 800
    assert screenshot(tmp_path / "no_such_dir" / "x.png", None) == 1
    assert screenshot(tmp_path / "x.png", str(tmp_path / "missing.sfxproj")) == 1




def test_warnings_reach_the_status_bar(window: Any, qtbot: Any, tmp_path: Path) -> None:
    """A problem that does not stop a job (core.errors.warn) is shown in the window."""
    from sfxstudio.core.errors import warn

    warn(tmp_path / "lib", "no sound for class 'fire'")
    qtbot.waitUntil(lambda: "no sound for class 'fire'" in window.statusBar().currentMessage(),
                    timeout=2000)
    assert str(tmp_path / "lib") in window.statusBar().currentMessage()
