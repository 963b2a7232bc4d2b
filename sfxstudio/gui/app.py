"""Entry points of the GUI: `run(argv)` (the `sfxstudio gui` command) and `screenshot(png, target)`.

Start-up is kept light: only Qt and the Qt-free core are imported before the window shows;
TensorFlow and the model code load when an analysis starts (in its worker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

_T0 = time.monotonic()  # as early as this module can see; the bench also times from outside

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from sfxstudio.gui.settings import APPLICATION, ORGANIZATION, Settings  # noqa: E402
from sfxstudio.gui.theme import apply_dark_theme  # noqa: E402

REPORT_SHOWN_ENV = "SFXSTUDIO_REPORT_SHOWN"  # print "SFXSTUDIO_SHOWN <seconds>" at first show, quit
SCREENSHOT_SIZE = (1440, 900)


def _ensure_platform() -> None:
    """Headless Linux (CI, ssh) has no display: render offscreen instead of aborting."""
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with our names (QSettings and AppDataLocation use them) and the theme."""
    app = QApplication.instance()
    if app is None:
        _ensure_platform()
        app = QApplication([sys.argv[0] if sys.argv else "sfxstudio", *(argv or [])])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    apply_dark_theme(app)
    return app


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sfxstudio gui", description="Open the SFX Studio window.")
    parser.add_argument("path", nargs="?", help="a video or .sfxproj project to open")
    parser.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit")
    parser.add_argument("--settings", metavar="INI", help="use this settings file (tests, demos)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    """Open the main window (optionally with a video or project); returns the exit code.

    argv: the arguments after `sfxstudio gui`; a leading program name (sys.argv[0], as
    QApplication-style callers pass it) is ignored.
    """
    argv = list(argv or [])
    if argv and sys.argv and argv[0] == sys.argv[0]:
        argv = argv[1:]
    args = _parse(argv)
    if args.settings:
        from sfxstudio.gui.settings import use_settings_file

        use_settings_file(args.settings)
    if args.screenshot:
        return screenshot(args.screenshot, args.path)
    app = create_application()
    from sfxstudio.gui import errors
    from sfxstudio.gui.main_window import MainWindow

    errors.setup_logging()
    errors.install_excepthook()
    window = MainWindow(defer_edit_widgets=True)
    window.show()
    if os.environ.get(REPORT_SHOWN_ENV):
        # Runs after the show and first paint have been processed: the window is on screen.
        def report() -> None:
            print(f"SFXSTUDIO_SHOWN {time.monotonic() - _T0:.3f}", flush=True)
            window.install_edit_widgets()
            app.processEvents()
            print(f"SFXSTUDIO_READY {time.monotonic() - _T0:.3f}", flush=True)
            window.model.document.set_dirty(False)
            window.close()
            app.quit()

        QTimer.singleShot(0, report)
        return app.exec()

    def after_show() -> None:
        # The timeline and panels (pyqtgraph) load once the window is visible.
        window.install_edit_widgets()
        recovered = window.offer_recovery()
        if args.path and not recovered:
            window.open_path(args.path)

    QTimer.singleShot(0, after_show)
    return app.exec()


# -------------------------------------------------------------------------------------------
def _process_events(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _analyse_now(window: object, video: str, model: Path) -> None:
    """Screenshot mode: analyse in this thread (nothing else is going on), streaming as the GUI does."""
    from sfxstudio.gui.analysis_controller import bundle_class_names
    from sfxstudio.gui.main_window import MainWindow
    from sfxstudio.pipeline import analyze

    assert isinstance(window, MainWindow)
    params = window.project.params.with_(model=str(model))
    names = bundle_class_names(model)
    cache = None
    for p in analyze(video, model, params):
        if p.partial is not None and names:
            window.timeline.append_chunk(p.partial.times, p.partial.probs, names)
        if p.finished:
            cache = p.result
    if cache is not None:
        window.model.document.set_params(model=str(model))
        window.model.document.set_analysis(cache)


def screenshot(png_path: str | Path, target: str | None = None) -> int:
    """Render the full window (>= 1280x800) with `target` loaded to a PNG; 0 on success.

    target: a .sfxproj (with its analysis cache) or a video, which is analysed first with the
    selected (or first available) model. Failures print a message naming the file, return 1.
    """
    from sfxstudio.core.errors import SfxError
    from sfxstudio.core.project_io import SUFFIX, load_project

    png = Path(png_path)
    if png.suffix.lower() != ".png":
        print(f"{png}: the screenshot must be a .png file", file=sys.stderr)
        return 1
    if not png.parent.is_dir():
        print(f"{png}: the folder {png.parent} does not exist", file=sys.stderr)
        return 1
    app = create_application()
    from sfxstudio.gui import errors
    from sfxstudio.gui.main_window import MainWindow

    errors.setup_logging()
    errors.set_non_blocking_dialogs(True)  # nobody is there to click a modal dialog away
    # Never touch the editor's own settings or recovery files from a screenshot run: copy the
    # model choice into a throwaway settings file.
    tmp = Path(tempfile.mkdtemp(prefix="sfxstudio-shot-"))
    try:
        user = Settings()
        settings = Settings(tmp / "settings.ini")
        for name in ("models/selected", "models/user_folders"):
            settings.set(name, user.get(name))
        window = MainWindow(settings=settings, recovery_folder=tmp / "recovery")
        window.auto_analyse = False
        window.resize(*SCREENSHOT_SIZE)
        window.show()
        _process_events(app, 0.1)
        if target:
            path = Path(target).resolve()
            if path.suffix.lower() == SUFFIX:
                project = load_project(path)
                window.set_document(project, path)
            else:
                from sfxstudio.media.video import probe

                probe(path)  # BadInputError names the file
                if not window.open_video(path, analyse=False):
                    raise SfxError(f"{path}: cannot be opened")
            model = window.selected_model()
            project = window.project
            if project.analysis is None and project.video and model is not None:
                _analyse_now(window, project.video, model)
            window.timeline.fit()
            # Park the playhead inside the first effect so the picture matches the lanes.
            effects = [s for s in window.project.segments if s.origin != "mute"]
            if effects:
                window.video.seek((effects[0].start + effects[0].end) / 2)
            end = time.monotonic() + 3.0
            while time.monotonic() < end and project.video and not window.video.canvas.has_image():
                _process_events(app, 0.05)
        _process_events(app, 0.3)
        image = window.grab()
        if image.width() < 1280 or image.height() < 800:
            window.resize(max(1280, window.width()), max(800, window.height()))
            _process_events(app, 0.2)
            image = window.grab()
        if not image.save(str(png), "PNG"):
            print(f"{png}: cannot write the image", file=sys.stderr)
            return 1
        window.model.document.set_dirty(False)
        window.shutdown()
        window.deleteLater()
        print(f"Saved screenshot {png} ({image.width()}x{image.height()})")
        return 0
    except SfxError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except Exception as exc:
        print(errors.report(exc, "screenshot"), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:  # pragma: no cover - `python -m sfxstudio.gui.app`
    return run(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
