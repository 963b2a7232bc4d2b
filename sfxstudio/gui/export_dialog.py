"""Export dialog: effects track (Broadcast WAV), MP4 with the mix, stems, per-effect clips and
timelines for every editing tool (OTIO, FCP 7 XML, FCPXML, EDL, AAF), to a loudness spec.

Each output format is an `Exporter` entry in `EXPORTERS`. The built-in ones name a field of
pipeline.delivery.DeliveryRequest (`delivery`): they are written together by one `deliver`
call (the mix rendered and measured once, a QC report beside the first output); an exporter
with only a `run` function is called on its own. The export runs in a JobWorker on a snapshot
of the project, with progress and Cancel; at the end the dialog shows the integrated loudness
and true peak, says where the files went and offers to open the folder.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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
from sfxstudio.gui.dialogs import listen, set_up_dialog
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
    delivery: str | None = None  # "wav", "mp4", "stems", "clips" or "timeline:<format>"
    is_folder: bool = False


class ExportResults(list):
    """(label, path, note) per output written, plus the loudness summary lines."""

    loudness: list[str]

    def __init__(self, items: Any = (), loudness: list[str] | None = None) -> None:
        super().__init__(items)
        self.loudness = list(loudness or [])


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


def _timeline_exporters() -> list[Exporter]:
    from sfxstudio.media.timeline import TIMELINE_FORMATS

    def never(job: ExportJob, path: Path, progress: ProgressFn, cancel: CancelFn) -> str:
        raise AssertionError("timelines are written by pipeline.delivery")

    return [Exporter(fmt, f"Timeline: {spec.label}", spec.suffix, f"{spec.label} (*{spec.suffix})",
                     f".sfx{spec.suffix}", never, default_enabled=False, delivery=f"timeline:{fmt}")
            for fmt, spec in TIMELINE_FORMATS.items()]


def _folder_only(job: ExportJob, path: Path, progress: ProgressFn, cancel: CancelFn) -> str:
    raise AssertionError("folders are written by pipeline.delivery")


EXPORTERS: list[Exporter] = [
    Exporter("wav", "Effects track (Broadcast WAV, 24-bit 48 kHz)", ".wav", "WAV audio (*.wav)",
             ".effects.wav", _export_wav, delivery="wav"),
    Exporter("mp4", "Video with effects (MP4)", ".mp4", "MP4 video (*.mp4)", ".sfx.mp4", _export_mp4,
             uses_levels=True, delivery="mp4"),
    Exporter("stems", "Stems (one Broadcast WAV per class, in a folder)", "", "", "_stems", _folder_only,
             default_enabled=False, delivery="stems", is_folder=True),
    Exporter("clips", "Per-effect clips with handles (Broadcast WAVs, in a folder)", "", "", "_clips",
             _folder_only, default_enabled=False, delivery="clips", is_folder=True),
    *_timeline_exporters(),
]

# (label, LUFS target or None) offered in the dialog
LOUDNESS_SPECS: list[tuple[str, float | None]] = [
    ("Off (measure only)", None), ("EBU R128: -23 LUFS", -23.0), ("ATSC A/85: -24 LKFS", -24.0)]


def _delivery_request(targets: list[tuple[Exporter, Path]], original_gain_db: float, effects_gain_db: float,
                      loudness_target: float | None, true_peak: float) -> Any:
    from sfxstudio.pipeline.delivery import DeliveryRequest

    request = DeliveryRequest(loudness_target=loudness_target, true_peak=true_peak,
                              original_gain_db=original_gain_db, effects_gain_db=effects_gain_db)
    for exporter, path in targets:
        key = exporter.delivery or ""
        if key.startswith("timeline:"):
            request.timelines[key.split(":", 1)[1]] = path
        else:
            setattr(request, key, path)
    return request


def _beside(call: Callable[[Callable[..., None]], Any], name: str,
            to_item: Callable[..., Any]) -> Generator[Any, None, Any]:
    """Run `call(report)` on a thread beside the worker and turn its progress reports into
    yields (`to_item(*latest report)`, about every 0.1 s), so the worker's throttling and cancel
    checks keep working; re-raise its error, return its result (`x = yield from _beside(...)`)."""
    reports: queue.Queue[tuple[Any, ...]] = queue.Queue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = call(lambda *args: reports.put(args))
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
        last = None
        while not reports.empty():
            last = reports.get_nowait()
        if last is not None:
            yield to_item(*last)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _run_delivery(project: Project, request: Any, cancel: CancelFn, started: float) -> Iterator[Any]:
    """pipeline.delivery.deliver beside the worker, its progress turned into yields; the last
    item is the DeliveryResult."""
    from sfxstudio.pipeline import Progress
    from sfxstudio.pipeline.delivery import deliver

    result = yield from _beside(
        lambda report: deliver(project, request, progress=report, cancel=cancel), "export-delivery",
        lambda fraction, message: Progress(int(1000 * min(1.0, fraction)), 1000, started, message=message))
    yield result


def export_job(project: Project, targets: list[tuple[Exporter, Path]], original_gain_db: float,
               effects_gain_db: float, loudness_target: float | None = None,
               true_peak: float = -1.0) -> Callable[[CancelFn], Iterator[Any]]:
    """The generator job the worker runs: the built-in outputs in one pipeline.delivery pass,
    then any other exporter on the rendered mix.

    Result: ExportResults of (label, path, note) with the loudness summary lines.
    """
    from sfxstudio.pipeline import Progress

    delivered = [(e, p) for e, p in targets if e.delivery]
    others = [(e, p) for e, p in targets if not e.delivery]

    def job(cancel: CancelFn) -> Iterator[Any]:
        started = time.monotonic()
        results = ExportResults()
        if delivered:
            request = _delivery_request(delivered, original_gain_db, effects_gain_db, loudness_target,
                                        true_peak)
            for item in _run_delivery(project, request, cancel, started):
                if isinstance(item, Progress):
                    if not others:
                        yield item
                    else:  # the delivery is the first half of the job
                        yield Progress(item.done // 2, 1000, started, message=item.message)
                else:
                    results.extend(item.outputs)
                    results.loudness = item.summary_lines()
        if not others:
            yield Progress(1000, 1000, started, message="Export finished", result=results, finished=True)
            return
        for item in _others_job(project, others, original_gain_db, effects_gain_db, cancel, started,
                                500 if delivered else 0):
            if getattr(item, "finished", False):
                results.extend(item.result)
                yield Progress(1000, 1000, started, message="Export finished", result=results, finished=True)
            else:
                yield item

    return job


def _others_job(project: Project, targets: list[tuple[Exporter, Path]], original_gain_db: float,
                effects_gain_db: float, cancel: CancelFn, started: float, offset: int) -> Iterator[Any]:
    """Render the mix once, then write each target with its own `run` (0-20 % render)."""
    from sfxstudio.pipeline import Progress, load_library, render_project

    total = 1000

    def at(value: int) -> int:  # this part's progress inside [offset, total]
        return offset + value * (total - offset) // total

    yield Progress(at(0), total, started, message="Rendering the effects")
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
        yield Progress(at(base), total, started, message=f"Writing {path.name}")
        def write(report: Callable[..., None], exporter: Exporter = exporter, path: Path = path) -> str:
            return exporter.run(shared, path, report, cancel)

        def step(fraction: float, base: int = base, path: Path = path) -> Any:
            return Progress(at(base + int(share * min(1.0, fraction))), total, started,
                            message=f"Writing {path.name}")

        note = yield from _beside(write, f"export-{exporter.key}", step)
        results.append((exporter.label, path, note))
    yield Progress(total, total, started, message="Export finished", result=results, finished=True)


def _lufs(text: str) -> float | None:
    """The remembered loudness target: None for "off" (or anything unreadable), else LUFS."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if -70.0 <= value <= -5.0 else None


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
        set_up_dialog(self, "exportDialog", "Export", 680)
        self.project = project
        self.settings = settings
        self.exporters = exporters or EXPORTERS
        self.worker: JobWorker | None = None
        self.results: list[tuple[str, Path, str]] = []
        self.loudness_lines: list[str] = []
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

        spec = QGroupBox("Loudness (ITU-R BS.1770 / EBU R128)", self)
        spec_form = QFormLayout(spec)
        self.loudness_spec = QComboBox(self)
        self.loudness_spec.setObjectName("loudnessSpec")
        for label, target in LOUDNESS_SPECS:
            self.loudness_spec.addItem(label, target)
        saved = _lufs(settings.get("export/loudness_target"))
        for i, (_label, target) in enumerate(LOUDNESS_SPECS):
            if target == saved:
                self.loudness_spec.setCurrentIndex(i)
        self.true_peak = QDoubleSpinBox(self)
        self.true_peak.setObjectName("truePeak")
        self.true_peak.setRange(-20.0, 0.0)
        self.true_peak.setDecimals(1)
        self.true_peak.setSingleStep(0.5)
        self.true_peak.setSuffix(" dBTP")
        self.true_peak.setValue(float(settings.get("export/true_peak")))
        spec_form.addRow("Normalise to:", self.loudness_spec)
        spec_form.addRow("True-peak ceiling:", self.true_peak)
        self.loudness_label = QLabel("Integrated loudness and true peak are shown after the export.", self)
        self.loudness_label.setObjectName("loudnessResult")
        self.loudness_label.setWordWrap(True)
        spec_form.addRow(self.loudness_label)

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
        layout.addWidget(spec)
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
        if exporter.is_folder:
            folder = QFileDialog.getExistingDirectory(self, f"Export {exporter.label}", current)
            if folder:
                self.paths[exporter.key].setText(folder)
            return
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
            if exporter.is_folder and path.exists() and not path.is_dir():
                return f"{path}: is a file, not a folder."
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
        target_lufs = self.loudness_spec.currentData()
        self.settings.set("export/loudness_target", "off" if target_lufs is None else f"{target_lufs:g}")
        self.settings.set("export/true_peak", float(self.true_peak.value()))
        # A snapshot: edits made while the export runs do not change what is written.
        snapshot = replace(self.project, segments=list(self.project.segments),
                           class_attributes=dict(self.project.class_attributes),
                           class_variations={k: list(v) for k, v in self.project.class_variations.items()})
        job = export_job(snapshot, targets, original_db, effects_db, loudness_target=target_lufs,
                         true_peak=float(self.true_peak.value()))
        worker = listen(JobWorker(job, name="export", parent=self), self)
        self.worker = worker
        self._set_running(True)
        worker.start()
        return True

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        for w in [*self.checks.values(), *self.paths.values(), self.original_level, self.effects_level,
                  self.loudness_spec, self.true_peak]:
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
        self.loudness_lines = list(getattr(results, "loudness", []) or [])
        if self.loudness_lines:
            self.loudness_label.setText("\n".join(line[0].upper() + line[1:] for line in self.loudness_lines))
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
        if self.loudness_lines:
            lines += ["", *self.loudness_lines]
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


__all__ = ["EXPORTERS", "LOUDNESS_SPECS", "ExportDialog", "ExportError", "ExportJob", "ExportResults",
           "Exporter", "export_job"]
