"""Models > Create ImageNet Recogniser: local weights files, the download confirmation, cancel.

No test touches the network: create_imagenet_bundle is replaced by a recorder (and urlretrieve
by a tripwire), KERAS_HOME points into tmp_path, and the device set-up that would import
TensorFlow is stubbed.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from sfxstudio.gui import weights_dialog
from sfxstudio.gui.weights_dialog import WEIGHTS_FILE, ImagenetRecogniserDialog


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home / "models"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, keras_home: Path) -> list[dict[str, Any]]:
    """Record create_imagenet_bundle calls; the fake writes a minimal bundle folder."""
    import urllib.request

    from sfxstudio.gui import teach
    from sfxstudio.ml import imagenet

    made: list[dict[str, Any]] = []

    def fake_create(out_dir: Any, weights: Any = "imagenet", allow_download: bool = False, **kw: Any) -> Path:
        made.append({"out": Path(out_dir), "weights": weights, "allow_download": allow_download})
        Path(out_dir).mkdir(parents=True)
        (Path(out_dir) / "bundle.json").write_text(json.dumps({
            "format": "sfxstudio-model", "version": 1, "name": Path(out_dir).name, "kind": "keras",
            "classes": ["fire", "otherwise"], "input_size": [32, 32], "preprocessing": "unit"}))
        return Path(out_dir)

    def no_network(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(imagenet, "create_imagenet_bundle", fake_create)
    monkeypatch.setattr(urllib.request, "urlretrieve", no_network)
    monkeypatch.setattr(teach, "prepare_device", lambda device: {"device": "cpu", "text": "CPU, 2 threads"})
    return made


def make_dialog(qtbot: Any, tmp_path: Path) -> ImagenetRecogniserDialog:
    dialog = ImagenetRecogniserDialog(tmp_path / "models")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def boxes(widget: Any, name: str) -> list[QMessageBox]:
    return [b for b in widget.findChildren(QMessageBox) if b.objectName() == name and b.isVisible()]


def wait_worker(qtbot: Any, dialog: ImagenetRecogniserDialog) -> None:
    qtbot.waitUntil(lambda: dialog.worker is not None and not dialog.worker.is_running(), timeout=10_000)


def test_invalid_local_weights_file_gives_a_readable_error(qtbot: Any, tmp_path: Path,
                                                           calls: list[dict[str, Any]]) -> None:
    fake = tmp_path / "my weights.h5"
    fake.write_bytes(b"these are not weights" * 100)
    dialog = make_dialog(qtbot, tmp_path)
    assert dialog.use_file.isChecked()  # nothing in the (empty) Keras cache
    dialog.file_edit.setText(str(fake))
    assert not dialog.create_recogniser()
    errs = boxes(dialog, "errorDialog")
    assert errs, "an error dialog is shown"
    text = errs[-1].text()
    assert str(fake) in text and WEIGHTS_FILE in text and "Traceback" not in text
    assert calls == [] and dialog.worker is None


def test_missing_local_file_names_it(qtbot: Any, tmp_path: Path, calls: list[dict[str, Any]]) -> None:
    dialog = make_dialog(qtbot, tmp_path)
    dialog.file_edit.setText(str(tmp_path / "nowhere.h5"))
    assert not dialog.create_recogniser()
    assert "nowhere.h5" in boxes(dialog, "errorDialog")[-1].text()
    assert calls == []


def test_build_error_from_the_worker_is_readable(qtbot: Any, tmp_path: Path, calls: list[dict[str, Any]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio.core.errors import BadInputError
    from sfxstudio.ml import imagenet

    weights = tmp_path / "wrong.h5"
    weights.write_bytes(weights_dialog.HDF5_SIGNATURE + b"\0" * 64)  # HDF5, but not these weights

    def refuse(out_dir: Any, weights: Any = None, allow_download: bool = False, **kw: Any) -> Path:
        # What the real build raises when Keras cannot load the file into ResNet152V2.
        raise BadInputError(weights, "cannot load these weights into ResNet152V2: shape mismatch")

    monkeypatch.setattr(imagenet, "create_imagenet_bundle", refuse)
    dialog = make_dialog(qtbot, tmp_path)
    dialog.file_edit.setText(str(weights))
    assert dialog.create_recogniser()
    wait_worker(qtbot, dialog)
    qtbot.waitUntil(lambda: bool(boxes(dialog, "errorDialog")), timeout=5000)
    text = boxes(dialog, "errorDialog")[-1].text()
    assert str(weights) in text and "Traceback" not in text
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_download_asks_first_and_declining_does_nothing(qtbot: Any, tmp_path: Path, keras_home: Path,
                                                        calls: list[dict[str, Any]]) -> None:
    dialog = make_dialog(qtbot, tmp_path)
    dialog.use_download.setChecked(True)
    assert dialog.create_recogniser()
    asked = boxes(dialog, "downloadConfirm")
    assert asked, "a confirmation is shown before any download"
    text = asked[-1].text()
    assert WEIGHTS_FILE in text and "MB" in text and str(keras_home) in text
    assert calls == [] and dialog.worker is None
    asked[-1].button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(50)
    assert calls == [] and dialog.worker is None
    assert not [d for d in dialog.findChildren(QProgressDialog) if d.isVisible()]


def test_confirmed_download_uses_the_keras_path_and_selects_the_model(
        qtbot: Any, make_window: Any, tmp_path: Path, calls: list[dict[str, Any]]) -> None:
    w = make_window()
    w.show()
    w.model_manager.new_models_dir = tmp_path / "models"
    w.act.create_imagenet.trigger()
    dialog = w.model_manager.imagenet_dialog
    assert dialog.isVisible() and dialog.models_dir == tmp_path / "models"
    dialog.use_download.setChecked(True)
    dialog.create_button.click()
    assert calls == []
    confirm = boxes(dialog, "downloadConfirm")[-1]
    next(b for b in confirm.buttons() if b.text() == "Download").click()
    qtbot.waitUntil(lambda: bool(calls), timeout=5000)
    wait_worker(qtbot, dialog)
    out = tmp_path / "models" / "imagenet-resnet152v2"
    assert calls == [{"out": out, "weights": "imagenet", "allow_download": True}]
    qtbot.waitUntil(lambda: w.selected_model() is not None and w.selected_model().resolve() == out.resolve(),
                    timeout=5000)
    assert w.analyser.device_label.text() == "Device: CPU, 2 threads"


def test_local_weights_file_builds_without_asking(qtbot: Any, tmp_path: Path,
                                                  calls: list[dict[str, Any]]) -> None:
    weights = tmp_path / WEIGHTS_FILE
    weights.write_bytes(weights_dialog.HDF5_SIGNATURE + b"\0" * 64)
    dialog = make_dialog(qtbot, tmp_path)
    created: list[Path] = []
    dialog.created.connect(lambda folder, _device: created.append(folder))
    dialog.name_edit.setText("my imagenet")
    dialog.file_edit.setText(str(weights))
    assert dialog.create_recogniser()
    assert not boxes(dialog, "downloadConfirm")
    wait_worker(qtbot, dialog)
    assert calls == [{"out": tmp_path / "models" / "my-imagenet", "weights": str(weights),
                      "allow_download": False}]
    assert created == [tmp_path / "models" / "my-imagenet"]


def test_cancel_abandons_the_download_and_removes_partial_output(
        qtbot: Any, tmp_path: Path, keras_home: Path, monkeypatch: pytest.MonkeyPatch,
        calls: list[dict[str, Any]]) -> None:
    from sfxstudio.ml import imagenet

    release = threading.Event()
    finished = threading.Event()
    partial = keras_home / WEIGHTS_FILE

    def slow_download(out_dir: Any, weights: Any = None, allow_download: bool = False, **kw: Any) -> Path:
        # Like Keras: the cache file grows while the download runs and cannot be interrupted.
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"\0" * 1_000_000)
        release.wait(10)
        Path(out_dir).mkdir(parents=True)
        (Path(out_dir) / "bundle.json").write_text("{}")
        finished.set()
        return Path(out_dir)

    monkeypatch.setattr(imagenet, "create_imagenet_bundle", slow_download)
    dialog = make_dialog(qtbot, tmp_path)
    created: list[Any] = []
    dialog.created.connect(lambda *a: created.append(a))
    dialog.use_download.setChecked(True)
    dialog.create_recogniser()
    next(b for b in boxes(dialog, "downloadConfirm")[-1].buttons() if b.text() == "Download").click()
    qtbot.waitUntil(partial.exists, timeout=5000)
    progress = dialog.progress
    assert progress is not None and progress.isVisible()
    qtbot.waitUntil(lambda: "1 MB of about" in progress.labelText(), timeout=5000)
    progress.canceled.emit()  # what the progress dialog's Cancel button does
    wait_worker(qtbot, dialog)  # the dialog is free at once, the download still "runs"
    assert not progress.isVisible()
    assert not partial.exists()  # the cut-off cache file is gone
    release.set()
    assert finished.wait(5)
    out = tmp_path / "models" / "imagenet-resnet152v2"
    qtbot.waitUntil(lambda: not out.exists(), timeout=5000)  # its late result is thrown away
    assert created == []
