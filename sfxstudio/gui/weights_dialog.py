"""Models > Create ImageNet Recogniser: ResNet152V2's own ImageNet classifier, mapped to our classes.

The recogniser needs ResNet152V2's ImageNet weights with the classifier top. The editor either
names a weights file on this computer, uses the copy already in the Keras cache, or lets Keras
download it, and only after a confirmation that names the file, its size and the cache folder:
nothing is ever downloaded silently.

The bundle is built by the real code path (`sfxstudio.ml.imagenet.create_imagenet_bundle`) in a
JobWorker. Keras' download reports progress only to stdout, so the dialog shows a busy bar, the
elapsed time and the size of the file growing in the cache. Cancel cannot interrupt Keras'
urlretrieve; it abandons the run instead: the build continues in a daemon thread whose result is
thrown away, its half-downloaded cache file and any model folder it writes are removed, and the
dialog is free at once.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.errors import BadInputError, Cancelled
from sfxstudio.gui import errors
from sfxstudio.gui.dialogs import busy_dialog, listen, set_up_dialog
from sfxstudio.gui.workers import JobWorker

ARCHITECTURE = "resnet152v2"
# ResNet152V2 with its ImageNet top: 60,380,648 float32 weights (counted from the Keras model),
# so the HDF5 file is about 242 MB; Keras' applications table rounds it to 232 MB (MiB).
WEIGHTS_FILE = "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_ORIGIN = "storage.googleapis.com/tensorflow/keras-applications/resnet/"
APPROX_BYTES = 60_380_648 * 4
DEFAULT_NAME = "imagenet-resnet152v2"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
WEIGHTS_FILTER = "Keras weights (*.h5 *.hdf5);;All files (*)"


def keras_cache_dir() -> Path:
    from sfxstudio.ml.backbones import keras_cache_dir as cache_dir

    return cache_dir()


def cached_weights() -> Path | None:
    path = keras_cache_dir() / WEIGHTS_FILE
    return path if path.is_file() else None


def format_mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


def check_weights_file(path: Path) -> None:
    """Refuse, before building a 60-million-weight network, a file that cannot be Keras weights.

    Keras .h5 / .weights.h5 files are HDF5; HDF5 puts its signature at 0, 512, 1024, 2048...
    (after an optional user block). BadInputError names the file and what was expected.
    """
    if not path.is_file():
        raise BadInputError(path, "weights file does not exist")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096 + len(HDF5_SIGNATURE))
    except OSError as exc:
        raise BadInputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not any(head[o:o + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE for o in (0, 512, 1024, 2048, 4096)):
        raise BadInputError(
            path,
            f"is not a Keras weights file (HDF5). Use {WEIGHTS_FILE}: ResNet152V2's ImageNet weights "
            "with the classifier top",
        )


def safe_name(text: str) -> str:
    """A folder name from what the editor typed (letters, digits, - _ . only)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-.") or DEFAULT_NAME


class _Abandon:
    """Shared by the GUI (cancel) and the build thread (end): whichever comes second cleans up,
    so a build that finishes just as the editor cancels still leaves nothing behind."""

    def __init__(self, out_dir: Path, download_target: Path | None) -> None:
        self.out_dir = out_dir
        # Only a file this run starts downloading may be removed; an earlier complete one stays.
        self.download_target = download_target if download_target and not download_target.exists() else None
        self._lock = threading.Lock()
        self.abandoned = False
        self.done = False

    def abandon(self) -> None:
        with self._lock:
            self.abandoned = True
            done = self.done
        self._remove_partial_download()
        if done:
            self._remove_output()

    def finish(self) -> None:
        with self._lock:
            self.done = True
            abandoned = self.abandoned
        if abandoned:
            self._remove_output()
            self._remove_partial_download()

    def _remove_output(self) -> None:
        if self.out_dir.is_dir():
            shutil.rmtree(self.out_dir, ignore_errors=True)

    def _remove_partial_download(self) -> None:
        # Keras writes straight to the cache file; a cut-off one would be taken for the real
        # weights next time. (On Windows an open file cannot be removed: then it stays, and
        # Keras' hash check re-downloads it.)
        if self.download_target is not None:
            with contextlib.suppress(OSError):
                self.download_target.unlink()


def build_job(out_dir: Path, weights: str, allow_download: bool, state: _Abandon,
              device: str = "auto") -> Callable[[Callable[[], bool]], Iterator[Any]]:
    """The JobWorker job: create_imagenet_bundle in a daemon thread, polled for cancel/progress."""

    def job(cancel: Callable[[], bool]) -> Iterator[Any]:
        from sfxstudio.pipeline import Progress

        started = time.monotonic()
        box: dict[str, Any] = {}

        def build() -> None:
            try:
                from sfxstudio.gui.teach import prepare_device
                from sfxstudio.ml import imagenet

                box["device"] = prepare_device(device)
                box["path"] = imagenet.create_imagenet_bundle(out_dir, weights=weights,
                                                              allow_download=allow_download)
            except BaseException as exc:  # handed to the worker, which reports it
                box["error"] = exc
            finally:
                state.finish()

        thread = threading.Thread(target=build, name="sfxstudio-imagenet", daemon=True)
        thread.start()
        target = keras_cache_dir() / WEIGHTS_FILE if allow_download else None
        while thread.is_alive():
            thread.join(0.2)
            if cancel():
                raise Cancelled("abandoned")
            message = "Building the recogniser\u2026"
            if target is not None and state.download_target is not None:
                with contextlib.suppress(OSError):
                    size = target.stat().st_size
                    message = (f"Downloading {WEIGHTS_FILE}: {format_mb(size)} of about "
                               f"{format_mb(APPROX_BYTES)}")
            yield Progress(0, 0, started, message=message)
        if "error" in box:
            raise box["error"]
        yield Progress(1, 1, started, message="Done", result=box, finished=True)

    return job


class ImagenetRecogniserDialog(QDialog):
    """Choose where the weights come from and build the bundle.

    Signals: created(Path, dict) with the new bundle folder and the device description
    (tf_setup.configure() + "text") once it is written.
    """

    created = Signal(object, object)

    def __init__(self, models_dir: Path, start_folder: str = "", device: str = "auto",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_up_dialog(self, "imagenetDialog", "Create ImageNet Recogniser", 560)
        self.models_dir = models_dir
        self.device = device
        self._start_folder = start_folder
        self.worker: JobWorker | None = None
        self.progress: QProgressDialog | None = None
        self._state: _Abandon | None = None
        self._started = 0.0
        self._text = ""
        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._refresh_progress)

        layout = QVBoxLayout(self)
        intro = QLabel(
            "ResNet152V2's ImageNet classifier already recognises some effects (dogs, cats, cars, "
            "trains, the sea shore, fire\u2026) without any training. This makes it a model you can "
            "choose in the Model list, and improve later from your corrections.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        grid = QGridLayout()
        grid.addWidget(QLabel("Name:", self), 0, 0)
        self.name_edit = QLineEdit(DEFAULT_NAME, self)
        self.name_edit.textChanged.connect(self._update)
        grid.addWidget(self.name_edit, 0, 1, 1, 2)
        layout.addLayout(grid)

        layout.addWidget(QLabel("<b>ImageNet weights</b> (ResNet152V2 with its classifier top):", self))
        self.sources = QButtonGroup(self)
        self.use_file = QRadioButton("A weights file on this computer:", self)
        self.file_edit = QLineEdit(self)
        self.file_edit.setPlaceholderText(WEIGHTS_FILE)
        self.file_edit.textChanged.connect(self._update)
        browse = QPushButton("Browse\u2026", self)
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        cached = cached_weights()
        self.use_cache = QRadioButton(
            f"The copy in the Keras cache: {cached}" if cached else
            f"The Keras cache ({keras_cache_dir()}): not there yet", self)
        self.use_cache.setEnabled(cached is not None)
        self.use_download = QRadioButton(
            f"Download {WEIGHTS_FILE} (about {format_mb(APPROX_BYTES)}) into the Keras cache\u2026", self)
        for i, b in enumerate((self.use_file, self.use_cache, self.use_download)):
            self.sources.addButton(b, i)
        (self.use_cache if cached else self.use_file).setChecked(True)
        self.sources.idToggled.connect(lambda *_: self._update())
        layout.addWidget(self.use_file)
        layout.addLayout(row)
        layout.addWidget(self.use_cache)
        layout.addWidget(self.use_download)
        self.where = QLabel(self)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.where)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.create_button = buttons.addButton("Create", QDialogButtonBox.ButtonRole.ActionRole)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create_recogniser)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._update()

    # -- state ---------------------------------------------------------------------------------
    def out_dir(self) -> Path:
        return self.models_dir / safe_name(self.name_edit.text())

    def _update(self) -> None:
        running = self.worker is not None and self.worker.is_running()
        ready = not running and (not self.use_file.isChecked() or bool(self.file_edit.text().strip()))
        self.create_button.setEnabled(ready)
        self.where.setText(f"The recogniser is saved as: {self.out_dir()}")

    def browse(self) -> None:
        start = self.file_edit.text() or self._start_folder or str(keras_cache_dir())
        name, _ = QFileDialog.getOpenFileName(self, "ImageNet Weights File", start, WEIGHTS_FILTER)
        if name:
            self.file_edit.setText(name)
            self.use_file.setChecked(True)

    # -- create --------------------------------------------------------------------------------
    def create_recogniser(self) -> bool:
        """Start building from the chosen source; a download first asks (confirm_download)."""
        if self.worker is not None and self.worker.is_running():
            return False
        out = self.out_dir()
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            errors.show_error(self, "Name taken",
                              f"{out}: a folder with this name exists; choose another name")
            return False
        if self.use_file.isChecked():
            path = Path(self.file_edit.text().strip()).expanduser()
            try:
                check_weights_file(path)
            except BadInputError as exc:
                errors.show_exception(self, exc, "Not ImageNet weights")
                return False
            return self._start(out, str(path), allow_download=False)
        if self.use_cache.isChecked():
            return self._start(out, "imagenet", allow_download=False)
        self.confirm_download(out)
        return True

    def confirm_download(self, out: Path) -> QMessageBox:
        """Ask before downloading; the box opens window-modal without blocking the event loop."""
        cache = keras_cache_dir()
        box = QMessageBox(
            QMessageBox.Icon.Question, "Download ImageNet Weights",
            f"Download {WEIGHTS_FILE} (about {format_mb(APPROX_BYTES)}) from {WEIGHTS_ORIGIN} into "
            f"the Keras cache folder\n{cache}\n\nKeras downloads it once and checks its hash; later "
            "models reuse it. Nothing is downloaded unless you choose Download.",
            parent=self)
        box.setObjectName("downloadConfirm")
        download = box.addButton("Download", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)  # Enter must not start a 240 MB download
        box.setEscapeButton(cancel)

        def answered(_result: int) -> None:
            if box.clickedButton() is download:
                self._start(out, "imagenet", allow_download=True)

        box.finished.connect(answered)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _start(self, out: Path, weights: str, allow_download: bool) -> bool:
        self._state = _Abandon(out, keras_cache_dir() / WEIGHTS_FILE if allow_download else None)
        worker = listen(JobWorker(build_job(out, weights, allow_download, self._state, self.device),
                                  name="imagenet", parent=self), self)
        self.worker = worker
        self._text = "Downloading\u2026" if allow_download else "Building the recogniser\u2026"
        progress = busy_dialog(self._text, self, "imagenetProgress", "Create ImageNet Recogniser", 460)
        progress.canceled.connect(self.cancel)
        self.progress = progress
        self._started = time.monotonic()
        progress.show()
        self._clock.start()
        worker.start()
        self._update()
        return True

    def cancel(self) -> None:
        """Abandon the running build: its result is dropped and what it wrote is removed."""
        if self.worker is None or not self.worker.is_running():
            return
        if self._state is not None:
            self._state.abandon()
        self.worker.cancel()

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return self.worker.wait(timeout_ms) if self.worker is not None else True

    def _refresh_progress(self) -> None:
        if self.progress is None:
            return
        s = int(time.monotonic() - self._started)
        self.progress.setLabelText(f"{self._text}\n{s // 60}:{s % 60:02d} elapsed")

    def _on_progress(self, p: Any) -> None:
        if p.message:
            self._text = p.message
            self._refresh_progress()

    def _on_finished(self, box: Any) -> None:
        path = box.get("path") if isinstance(box, dict) else None
        if path is None:
            return
        self._close_progress()
        self.created.emit(Path(path), box.get("device") or {})
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._close_progress()
        errors.show_error(self, "Cannot create the ImageNet recogniser", message)

    def _on_cancelled(self) -> None:
        self._close_progress()

    def _on_stopped(self) -> None:
        self._close_progress()
        self._update()

    def _close_progress(self) -> None:
        self._clock.stop()
        if self.progress is not None:
            self.progress.reset()
            self.progress.hide()

    def reject(self) -> None:
        # Closing the dialog while a build runs abandons it (the dialog owns the worker).
        self.cancel()
        if self.worker is not None:
            self.worker.wait(5_000)
        super().reject()
