"""The models an editor chooses from: the toolbar's model list, model folders, new models.

`ModelManager` owns the model combo (filled from `bundle_folders`, so TensorFlow stays unloaded),
"Add Model Folder", "Improve Model from My Corrections" (a TeachRun, adopted into the document
when it succeeds) and "Create ImageNet Recogniser" (its dialog). Jobs that need TensorFlow take
the device from the AnalysisController and report the device back to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QStatusBar, QWidget

from sfxstudio.core.paths import DEMO_MODEL, MODELS
from sfxstudio.core.project import Project
from sfxstudio.gui import errors
from sfxstudio.gui.analysis_controller import (
    AnalysisController,
    builtin_model_dir,
    bundle_folders,
    user_models_dir,
)
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.settings import Settings
from sfxstudio.gui.teach import (
    TeachOutcome,
    TeachRequest,
    TeachRun,
    count_corrections,
    inform,
    precheck,
    snapshot,
    taught_folder,
    writable,
)


class ModelManager(QObject):
    """The model list and the jobs that make new models.

    Signals: changed() when the choice, or whether a model job runs, has changed (the window
    enables its actions again).
    """

    changed = Signal()

    def __init__(self, window: QWidget, model: DocumentModel, settings: Settings,
                 analysis: AnalysisController, status: QStatusBar) -> None:
        super().__init__(window)
        self._window = window  # parent of the dialogs
        self.model = model
        self.settings = settings
        self.analysis = analysis
        self._status = status
        self.teach_run: TeachRun | None = None
        self.imagenet_dialog: Any = None
        # Folder new models (ImageNet recogniser) are written into; None = models/ or the user's.
        self.new_models_dir: Path | None = None

        self.combo = QComboBox(window)
        self.combo.setObjectName("modelCombo")
        self.combo.setMinimumContentsLength(14)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("The model that recognises what is on screen")
        self.combo.currentIndexChanged.connect(self._on_chosen)

    @property
    def project(self) -> Project:
        return self.model.document.project

    def is_teaching(self) -> bool:
        return self.teach_run is not None and self.teach_run.is_running()

    # ------------------------------------------------------------------ the list
    def refresh(self, select: str | Path | None = None) -> None:
        wanted = str(select) if select else self.settings.get("models/selected")
        self.combo.blockSignals(True)
        self.combo.clear()
        for label, folder in bundle_folders(self.settings.get("models/user_folders")):
            self.combo.addItem(label, str(folder))
            self.combo.setItemData(self.combo.count() - 1, str(folder), Qt.ItemDataRole.ToolTipRole)
        if self.combo.count() == 0:
            self.combo.setPlaceholderText("No model \u2014 File \u25b8 Add Model Folder\u2026")
        self.combo.blockSignals(False)
        self.select(wanted)

    def select(self, folder: str | Path | None) -> None:
        if folder:
            target = str(Path(folder).resolve())
            for i in range(self.combo.count()):
                if str(Path(self.combo.itemData(i)).resolve()) == target:
                    self.combo.setCurrentIndex(i)
                    return
        if self.combo.currentIndex() < 0 and self.combo.count():
            self.combo.setCurrentIndex(0)

    def selected(self) -> Path | None:
        data = self.combo.currentData()
        return Path(data) if data else None

    def model_for_video(self) -> Path | None:
        """The model a newly opened video is analysed with (the choice, chosen again if needed)."""
        model = self.selected()
        if model is not None and model.resolve() == DEMO_MODEL.resolve():
            # The demo model knows only the demo's drawings: a real video gets the real recogniser.
            self.select(builtin_model_dir())
            model = self.selected()
        return model

    def _on_chosen(self, _index: int) -> None:
        folder = self.selected()
        if folder is not None:
            self.settings.set("models/selected", str(folder))
        self.changed.emit()

    def add_folder(self, folder: str | Path) -> bool:
        """Remember a folder holding a model (or several) and list its models in the combo."""
        folder = Path(folder).resolve()
        found = [f for _, f in bundle_folders([str(folder)])
                 if f.resolve() == folder or folder in f.resolve().parents]
        if not found:
            errors.show_error(self._window, "No model found",
                              f"{folder}: no model here (a model folder has bundle.json and model.keras)")
            return False
        folders = [f for f in self.settings.get("models/user_folders") if Path(f).resolve() != folder]
        self.settings.set("models/user_folders", [*folders, str(folder)])
        self.refresh(select=found[0])
        return True

    def add_folder_dialog(self) -> None:
        name = QFileDialog.getExistingDirectory(self._window, "Add Model Folder", str(Path.home()))
        if name:
            self.add_folder(name)

    def _list(self, folder: Path) -> None:
        """Make sure the model combo lists a bundle folder (remembered as a user folder)."""
        folder = folder.resolve()
        users = list(self.settings.get("models/user_folders"))
        if any(f.resolve() == folder for _, f in bundle_folders(users)):
            return
        # Models in the user's own folder are listed by that folder, later ones included.
        entry = folder.parent if folder.parent == user_models_dir().resolve() else folder
        self.settings.set("models/user_folders", [*users, str(entry)])

    # ------------------------------------------------------------------ improve the model
    def improve_dialog(self) -> Any:
        """Analysis > Improve Model: check, then ask which other projects to learn from."""
        from sfxstudio.gui.teach import TeachDialog

        base = self._teach_base()
        if base is None:
            return None
        doc_path = self.model.document.path
        dialog = TeachDialog(base, count_corrections(self.project), taught_folder(base, user_models_dir()),
                             Path(doc_path) if doc_path else None,
                             self.settings.get("files/last_project_dir"), self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.improve(dialog.extra_projects()))
        dialog.open()
        return dialog

    def _teach_base(self) -> Path | None:
        """The model to improve, or None after telling the editor why it cannot be done now."""
        if self.is_teaching():
            return None
        if self.analysis.is_running():
            self._status.showMessage("Wait for the analysis to finish", 4000)
            return None
        base = self.selected()
        problem = precheck(self.project, base)
        if problem is not None:
            title, text = problem
            self._status.showMessage(text, 8000)
            inform(self._window, title, text)
            return None
        return base

    def improve(self, extra_projects: list[Path] | tuple[Path, ...] = ()) -> bool:
        """Teach the chosen model from this project's corrections (and the other projects')
        in the background; the window adopts the new model when it is done."""
        base = self._teach_base()
        if base is None:
            return False
        out_dir = taught_folder(base, user_models_dir())
        request = TeachRequest(snapshot(self.project), base, out_dir,
                               tuple(Path(p) for p in extra_projects), self.analysis.device_choice())
        if self.teach_run is not None:  # the previous run (kept until now for its outcome)
            self.teach_run.dialog.deleteLater()
            self.teach_run.deleteLater()
        run = TeachRun(request, self._window)
        document = self.model.document
        analysis = document.analysis
        run.succeeded.connect(lambda outcome: self._adopt_taught(outcome, document, analysis))
        run.stopped.connect(self._on_teach_stopped)
        self.teach_run = run
        run.start()
        self.changed.emit()
        return True

    def _adopt_taught(self, outcome: TeachOutcome, document: Any, analysis: Any) -> None:
        """List and select the new model; re-classified probabilities replace the analysis.

        Not an undoable edit (changing the model is not an edit), but the project records the
        model and is marked modified. Manual and deleted effects stay: set_analysis re-merges them.
        """
        self.analysis.show_device(outcome.device)
        self._list(outcome.bundle_dir)
        self.refresh(select=outcome.bundle_dir)
        if self.model.document is not document or document.analysis is not analysis:
            # Another project was opened meanwhile: the model is there to choose, the other
            # project's analysis is left alone.
            self._status.showMessage(f"Model {outcome.bundle_dir.name} created", 8000)
            return
        document.set_params(model=str(outcome.bundle_dir))
        document.set_analysis(outcome.cache)  # same frames and times: the editor's zoom stays
        from sfxstudio.gui.teach import summary

        effects = sum(1 for s in document.segments if s.origin != "mute")
        self._status.showMessage(summary(outcome, effects), 15000)

    def _on_teach_stopped(self, how: str) -> None:
        if how == "cancelled":
            self._status.showMessage("Improving the model was cancelled; nothing changed", 6000)
        self.changed.emit()

    # ------------------------------------------------------------------ ImageNet recogniser
    def models_dir_for_new(self) -> Path:
        if self.new_models_dir is not None:
            return self.new_models_dir
        return MODELS if writable(MODELS) else user_models_dir()

    def create_imagenet_dialog(self) -> Any:
        """Models > Create ImageNet Recogniser: weights from a file, the cache or a confirmed download."""
        from sfxstudio.gui.weights_dialog import ImagenetRecogniserDialog

        old = self.imagenet_dialog
        if old is not None and (old.isVisible() or old.is_running()):
            old.raise_()
            return old
        if old is not None:
            old.deleteLater()
        dialog = ImagenetRecogniserDialog(self.models_dir_for_new(), str(Path.home()),
                                          self.analysis.device_choice(), self._window)
        dialog.created.connect(self._on_imagenet_created)
        self.imagenet_dialog = dialog
        dialog.open()
        return dialog

    def _on_imagenet_created(self, folder: Path, device: dict[str, Any]) -> None:
        self.analysis.show_device(device)
        self._list(Path(folder))
        self.refresh(select=folder)
        self.changed.emit()
        self._status.showMessage(f"ImageNet recogniser {Path(folder).name} created and chosen", 8000)

    def shutdown(self) -> None:
        """Stop the model jobs: a teach run is cancelled and waited for, a build abandoned."""
        if self.teach_run is not None and self.teach_run.is_running():
            self.teach_run.cancel()
            self.teach_run.wait()
        if self.imagenet_dialog is not None and self.imagenet_dialog.is_running():
            self.imagenet_dialog.reject()  # abandons the build; its thread is a daemon
