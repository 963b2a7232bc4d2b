"""Export dialog: the effects track (WAV) and the video with the effects mixed in (MP4).

Each output format is an `Exporter` entry in `EXPORTERS`; a later format (stems, timeline
interchange...) joins the dialog by adding an entry. The export runs in a JobWorker on a snapshot
of the project, with progress and Cancel; at the end the dialog says where the files went and
offers to open the folder.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.errors import Cancelled, ExportError
from sfxstudio.core.project import Project
from sfxstudio.gui import errors
from sfxstudio.gui.settings import Settings
from sfxstudio.gui.workers import JobWorker

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class ExportJob:
    """What one exporter needs, computed once per export (in the worker)."""

    project: Project
    mix: Any  # (n, 2) float32 48 kHz effects mix
    duration: float
    original_gain_db: float
    effects_gain_db: float


@dataclass(frozen=True)
class Exporter:
    key: str
    label: str
    suffix: str
    file_filter: str
    default_suffix: str  # appended to the video's stem for the suggested name
    run: Callable[[ExportJob, Path, ProgressFn, CancelFn], str]  # returns a note ("" = none)
    uses_levels: bool = False
    default_enabled: bool = True


def _export_wav(job: ExportJob, path: Path, progress: ProgressFn, cancel: CancelFn) -> str:
    from sfxstudio.media.export import export_wav

    export_wav(job.mix, path, job.duration)
    progress(1.0)
    return ""


def _export_mp4(job: ExportJob, path: Path, progress: ProgressFn, cancel: CancelFn) -> str:
    from sfxstudio.media.export import export_mp4

    assert job.project.video is not None
    result = export_mp4(job.project.video, job.mix, path, original_gain_db=job.original_gain_db,
                        effects_gain_db=job.effects_gain_db, progress=progress, cancel=cancel)
    return str(getattr(result, "note", "") or "")


EXPORTERS: list[Exporter] = [
    Exporter("wav", "Effects track (WAV, 24-bit 48 kHz)", ".wav", "WAV audio (*.wav)", ".effects.wav",
             _export_wav),
    Exporter("mp4", "Video with effects (MP4)", ".mp4", "MP4 video (*.mp4)", ".sfx.mp4", _export_mp4,
             uses_levels=True),
]


def export_job(project: Project, targets: list[tuple[Exporter, Path]], original_gain_db: float,
               effects_gain_db: float) -> Callable[[CancelFn], Iterator[Any]]:
    """The generator job the worker runs: render the mix once, then write each target.

    Result: list of (label, path, note). Progress: 0-20 % render, the rest split over targets.
    """
    from sfxstudio.pipeline import Progress

    def job(cancel: CancelFn) -> Iterator[Any]:
        from sfxstudio.pipeline import load_library, render_project

        started = time.monotonic()
        total = 1000
        yield Progress(0, total, started, message="Rendering the effects")
        library = load_library(project)
        if project.analysis is not None:
            duration = project.analysis.duration
        else:
            from sfxstudio.media.video import probe

            assert project.video is not None
            duration = probe(project.video).duration
        mix = render_project(project, library, duration=duration)
        if cancel():
            raise Cancelled("export cancelled")
        shared = ExportJob(project, mix, duration, original_gain_db, effects_gain_db)
        results: list[tuple[str, Path, str]] = []
        share = 800 // max(1, len(targets))
        for i, (exporter, path) in enumerate(targets):
            base = 200 + i * share
            yield Progress(base, total, started, message=f"Writing {path.name}")
            # The exporter reports progress through a callback; run it beside us and turn its
            # reports into yields so the worker's throttling and cancel checks keep working.
            fractions: queue.Queue[float] = queue.Queue()
            outcome: dict[str, Any] = {}

            def work(exporter: Exporter = exporter, path: Path = path,
                     fractions: queue.Queue[float] = fractions,
                     outcome: dict[str, Any] = outcome) -> None:
                try:
                    outcome["note"] = exporter.run(shared, path, fractions.put, cancel)
                except BaseException as exc:
                    outcome["error"] = exc

            thread = threading.Thread(target=work, name=f"export-{exporter.key}", daemon=True)
            thread.start()
            while thread.is_alive():
                thread.join(0.1)
                fraction = None
                while not fractions.empty():
                    fraction = fractions.get_nowait()
                if fraction is not None:
                    yield Progress(base + int(share * min(1.0, fraction)), total, started,
                                   message=f"Writing {path.name}")
            if "error" in outcome:
                raise outcome["error"]
            results.append((exporter.label, path, outcome.get("note", "")))
        yield Progress(total, total, started, message="Export finished", result=results, finished=True)

    return job


class _LevelControl(QWidget):
    """A dB level as slider + spin box (the spin box for exact values)."""

    changed = Signal(float)

    def __init__(self, value: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = QDoubleSpinBox(self)
        self.spin.setRange(-60.0, 12.0)
        self.spin.setDecimals(1)
        self.spin.setSingleStep(0.5)
        self.spin.setSuffix(" dB")
        self.spin.setValue(value)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(-600, 120)  # tenths of a dB
        self.slider.setValue(round(value * 10))
        self.slider.setMinimumWidth(180)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(lambda v: self.spin.setValue(v / 10.0))
        self.spin.valueChanged.connect(self._on_spin)

    def _on_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * 10))
        self.slider.blockSignals(False)
        self.changed.emit(value)

    def value(self) -> float:
        return float(self.spin.value())


class ExportDialog(QDialog):
    """Choose outputs and levels, export in the background, then show where the files went."""

    levelsChanged = Signal(float, float)  # original dB, effects dB
    exportFinished = Signal(object)  # list of (label, path, note)

    def __init__(self, project: Project, settings: Settings, library_provider: Any = None,
                 parent: QWidget | None = None, exporters: list[Exporter] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("exportDialog")
        self.setMinimumWidth(680)
        self.project = project
        self.settings = settings
        self.exporters = exporters or EXPORTERS
        self.worker: JobWorker | None = None
        self.results: list[tuple[str, Path, str]] = []
        self.result_box: QMessageBox | None = None
        self.checks: dict[str, QCheckBox] = {}
        self.paths: dict[str, QLineEdit] = {}

        outputs = QGroupBox("Outputs", self)
        grid = QGridLayout(outputs)
        grid.setColumnStretch(1, 1)
        for row, exporter in enumerate(self.exporters):
            check = QCheckBox(exporter.label, self)
            check.setChecked(exporter.default_enabled)
            edit = QLineEdit(str(self._suggest(exporter)), self)
            edit.setMinimumWidth(320)
            browse = QPushButton("Browse\u2026", self)
            browse.clicked.connect(lambda _c=False, e=exporter: self._browse(e))
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(browse.setEnabled)
            grid.addWidget(check, 2 * row, 0, 1, 3)
            grid.addWidget(edit, 2 * row + 1, 0, 1, 2)
            grid.addWidget(browse, 2 * row + 1, 2)
            self.checks[exporter.key] = check
            self.paths[exporter.key] = edit

        levels = QGroupBox("Mix levels (video with effects)", self)
        form = QFormLayout(levels)
        self.original_level = _LevelControl(project.mix.original_gain_db, self)
        self.effects_level = _LevelControl(project.mix.effects_gain_db, self)
        form.addRow("Original audio:", self.original_level)
        form.addRow("Effects:", self.effects_level)
        self.original_level.changed.connect(self._levels_changed)
        self.effects_level.changed.connect(self._levels_changed)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self._cancel_or_close)

        layout = QVBoxLayout(self)
        layout.addWidget(outputs)
        layout.addWidget(levels)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    # ------------------------------------------------------------------ paths
    def _suggest(self, exporter: Exporter) -> Path:
        video = Path(self.project.video) if self.project.video else Path("untitled.mp4")
        folder = self.settings.get("files/last_export_dir") or str(video.parent)
        return Path(folder) / (video.stem + exporter.default_suffix)

    def _browse(self, exporter: Exporter) -> None:
        current = self.paths[exporter.key].text()
        name, _ = QFileDialog.getSaveFileName(self, f"Export {exporter.label}", current, exporter.file_filter)
        if name:
            path = Path(name)
            if path.suffix.lower() != exporter.suffix:
                path = path.with_suffix(exporter.suffix)
            self.paths[exporter.key].setText(str(path))

    def set_path(self, key: str, path: str | Path) -> None:
        self.paths[key].setText(str(path))

    def set_enabled(self, key: str, enabled: bool) -> None:
        self.checks[key].setChecked(enabled)

    def targets(self) -> list[tuple[Exporter, Path]]:
        return [(e, Path(self.paths[e.key].text().strip())) for e in self.exporters
                if self.checks[e.key].isChecked()]

    def _levels_changed(self, _value: float) -> None:
        self.levelsChanged.emit(self.original_level.value(), self.effects_level.value())

    # ------------------------------------------------------------------ export
    def _problem(self, targets: list[tuple[Exporter, Path]]) -> str | None:
        if not targets:
            return "Choose at least one output."
        seen: set[Path] = set()
        for exporter, path in targets:
            if not str(path) or path.name in ("", "."):
                return f"Choose a file for \u201c{exporter.label}\u201d."
            if not path.parent.is_dir():
                return f"{path}: the folder {path.parent} does not exist."
            if self.project.video and path.resolve() == Path(self.project.video).resolve():
                return f"{path}: this is the source video; choose another name."
            if path.resolve() in seen:
                return f"{path}: chosen twice."
            seen.add(path.resolve())
        return None

    def start_export(self) -> bool:
        targets = self.targets()
        problem = self._problem(targets)
        if problem:
            errors.show_error(self, "Cannot export", problem)
            return False
        original_db, effects_db = self.original_level.value(), self.effects_level.value()
        self.settings.set("export/original_gain_db", original_db)
        self.settings.set("export/effects_gain_db", effects_db)
        self.settings.set("files/last_export_dir", str(targets[0][1].parent))
        # A snapshot: edits made while the export runs do not change what is written.
        snapshot = replace(self.project, segments=list(self.project.segments),
                           class_attributes=dict(self.project.class_attributes),
                           class_variations={k: list(v) for k, v in self.project.class_variations.items()})
        worker = JobWorker(export_job(snapshot, targets, original_db, effects_db), name="export", parent=self)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.stopped.connect(self._on_stopped)
        self.worker = worker
        self._set_running(True)
        worker.start()
        return True

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        for w in [*self.checks.values(), *self.paths.values(), self.original_level, self.effects_level]:
            w.setEnabled(not running if w not in self.paths.values() else
                         not running and self.checks[self._key_of(w)].isChecked())
        self.cancel_button.setText("Cancel" if running else "Close")

    def _key_of(self, edit: QWidget) -> str:
        return next(k for k, e in self.paths.items() if e is edit)

    def _on_progress(self, p: Any) -> None:
        self.progress.setValue(int(1000 * p.fraction))
        self.status.setText(p.message)

    def _on_finished(self, results: list[tuple[str, Path, str]]) -> None:
        self.results = results or []
        self.progress.setValue(1000)
        self.status.setText("Export finished.")
        self.exportFinished.emit(self.results)
        self._show_results()

    def _on_failed(self, message: str) -> None:
        self.status.setText("Export failed.")
        errors.show_error(self, "Export failed", message)

    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self.status.setText("Export cancelled; no file was changed.")

    def _on_stopped(self) -> None:
        self._set_running(False)

    def _show_results(self) -> None:
        lines = []
        for label, path, note in self.results:
            lines.append(f"\u2022 {label}:\n   {path}" + (f"\n   ({note})" if note else ""))
        box = QMessageBox(QMessageBox.Icon.Information, "Export finished",
                          "The files are ready:\n\n" + "\n".join(lines), parent=self)
        box.setObjectName("exportResult")
        open_folder = box.addButton("Open Folder", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        folder = self.results[0][1].parent if self.results else None

        def clicked(button: Any) -> None:
            if button is open_folder and folder is not None:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

        box.buttonClicked.connect(clicked)
        self.result_box = box
        box.open()

    def _cancel_or_close(self) -> None:
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.status.setText("Cancelling\u2026")
        else:
            self.reject()

    def reject(self) -> None:
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.worker.wait()
        super().reject()


__all__ = ["EXPORTERS", "ExportDialog", "ExportError", "ExportJob", "Exporter", "export_job"]
