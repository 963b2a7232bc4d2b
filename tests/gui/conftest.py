"""GUI test setup: every test gets its own settings file, data folder and recovery folder.

Nothing here may read or write the editor's real QSettings, log or recovery files. Dialogs open
non-modally (errors.set_non_blocking_dialogs) so a test can look at them instead of hanging.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from sfxstudio.core.project import AnalysisParams


@pytest.fixture(autouse=True)
def gui_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from sfxstudio.gui import errors, settings

    data = tmp_path / "appdata"
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(data))
    settings.use_settings_file(tmp_path / "settings.ini")
    errors.setup_logging(data)
    errors.set_non_blocking_dialogs(True)
    yield tmp_path
    settings.use_settings_file(None)
    errors.set_non_blocking_dialogs(False)


@pytest.fixture
def gui_settings(gui_sandbox: Path) -> Any:
    from sfxstudio.gui.settings import Settings

    s = Settings(gui_sandbox / "settings.ini")
    # In-thread analysis, so tests can monkeypatch the pipeline; the child process has its own
    # tests (tests/test_analysis_server.py, test_main_window's separate-process test).
    s.set("analysis/separate_process", False)
    return s


@pytest.fixture
def make_window(qtbot: Any, gui_sandbox: Path, gui_settings: Any) -> Iterator[Callable[..., Any]]:
    """Factory for main windows sharing the test's settings and recovery folder.

    Unsaved-changes prompts answer Discard unless a test replaces `ask_save_changes`.
    """
    from sfxstudio.gui.main_window import MainWindow

    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("settings", gui_settings)
        kwargs.setdefault("recovery_folder", gui_sandbox / "recovery")
        w = MainWindow(**kwargs)
        w.auto_analyse = False
        w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.cancel_analysis(wait=True)
        w.model.document.set_dirty(False)
        w.effects.wait()
        w.close()


@pytest.fixture
def window(make_window: Callable[..., Any]) -> Any:
    w = make_window()
    w.resize(1280, 800)
    w.show()
    return w


@pytest.fixture
def color_model(color_bundle: Any, gui_settings: Any) -> Path:
    """The color test bundle's folder, registered as a user model folder and selected."""
    folder = Path(color_bundle.path)
    gui_settings.set("models/user_folders", [str(folder)])
    gui_settings.set("models/selected", str(folder))
    return folder


@pytest.fixture
def color_video(make_video: Callable[..., Path]) -> Path:
    """3 s at 10 fps: red (fire), green (otherwise), blue (river), one second each."""
    return make_video(seconds=3.0, fps=10)


def wait_analysis(qtbot: Any, window: Any, timeout: int = 60_000) -> str:
    """Block (processing events) until the window's analysis stops; returns how it ended."""
    outcome: list[str] = []
    window.analysisStopped.connect(outcome.append)
    qtbot.waitUntil(lambda: bool(outcome) and not window.analysis_worker.is_running(), timeout=timeout)
    return outcome[0]


def sharp_params() -> AnalysisParams:
    """k = 0: no smoothing, so the segments follow the colours exactly."""
    return AnalysisParams(k=0.0, threshold=0.5)
