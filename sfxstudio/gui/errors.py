"""Errors shown to editors as readable dialogs; details (tracebacks) go to a log file.

A dialog names the file and the problem (BadInputError/ExportError messages are written for
editors). Anything unexpected is logged with its traceback and shown as a short message with the
log file's path; no traceback ever reaches the dialog's main text.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QThread, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from sfxstudio.core.errors import SfxError
from sfxstudio.gui.settings import data_dir

log = logging.getLogger("sfxstudio")
_log_file: Path | None = None


def setup_logging(folder: Path | None = None) -> Path:
    """Log INFO and above to <AppDataLocation>/sfxstudio.log (rotated); returns the path."""
    global _log_file
    path = (folder or data_dir()) / "sfxstudio.log"
    if _log_file == path:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for old in [h for h in log.handlers if isinstance(h, logging.FileHandler)]:
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    _log_file = path
    return path


def log_file() -> Path:
    return _log_file or setup_logging()


def user_message(exc: BaseException) -> str:
    """What the editor reads: our own errors verbatim, anything else as a short sentence."""
    if isinstance(exc, SfxError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Close other programs or use a lower analysis rate."
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or 'cannot be accessed'}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"Something went wrong: {text}"


def report(exc: BaseException, context: str = "") -> str:
    """Log the exception with its traceback; return the message to show."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    level = logging.WARNING if isinstance(exc, SfxError) else logging.ERROR
    log.log(level, "%s%s", f"{context}: " if context else "", details)
    return user_message(exc)


def show_error(parent: QWidget | None, title: str, message: str) -> QMessageBox:
    """A modal error box; the details area says where the log is (never a traceback)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setDetailedText(f"Technical details are in the log file:\n{log_file()}")
    box.open() if _non_blocking_dialogs else box.exec()
    return box


def show_exception(parent: QWidget | None, exc: BaseException, title: str = "SFX Studio",
                   context: str = "") -> QMessageBox:
    return show_error(parent, title, report(exc, context))


def show_log(parent: QWidget | None) -> QMessageBox | None:
    """Help > Show Log: open the log in the desktop's viewer; where nothing can open it (no
    launcher, a bare X server) say where it is instead of doing nothing. Returns that box."""
    path = log_file()
    if path.is_file() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return None
    where = "" if path.is_file() else "\n(It is created with the first message; nothing has been logged yet.)"
    box = QMessageBox(QMessageBox.Icon.Information, "Log file",
                      f"No program is set up to open the log file here. It is at:\n{path}{where}",
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("logFileDialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # copy the path
    box.open()  # never a nested event loop: a log path is no reason to block the window
    return box


# Tests flip this so dialogs open without a nested event loop (qtbot can then find and close them).
_non_blocking_dialogs = False


def set_non_blocking_dialogs(value: bool) -> None:
    global _non_blocking_dialogs
    _non_blocking_dialogs = value


def install_excepthook() -> None:
    """Uncaught exceptions in slots are logged and shown as a dialog instead of killing the app."""
    previous = sys.excepthook

    def hook(etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(etype, KeyboardInterrupt):
            previous(etype, value, tb)
            return
        if value.__traceback__ is None:
            value = value.with_traceback(tb)
        message = report(value, "uncaught")
        app = QApplication.instance()
        # Widgets only from the GUI thread; a worker's uncaught error is logged only.
        if app is not None and QThread.currentThread() is app.thread():
            show_error(QApplication.activeWindow(), "SFX Studio", message)

    sys.excepthook = hook


class WarningBridge(QObject):
    """Warning lines (sfxstudio.core.errors.warn, from any thread) as a Qt signal for the window.

    The lines also reach the log file through the "sfxstudio" logger. The signal is emitted
    from whatever thread warned; a connection to a widget's slot is queued by Qt.
    """

    warned = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        bridge = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                bridge.warned.emit(" ".join(record.getMessage().split()))

        self._handler = _Handler(logging.WARNING)
        logging.getLogger("sfxstudio.warnings").addHandler(self._handler)
        self.destroyed.connect(self._detach)

    def _detach(self, *_args: object) -> None:
        logging.getLogger("sfxstudio.warnings").removeHandler(self._handler)

    def detach(self) -> None:
        self._detach()
