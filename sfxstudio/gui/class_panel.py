"""Class panel: per class its colour, on/off, sound variations and how the sound is placed.

Every change is a command on the document's undo stack (SetClassAttributes /
SetClassVariations); the model's classesChanged then tells the mix to re-render.
Variations are paths relative to the sound library folder: a project never points outside it
(a shared project must not read arbitrary files). A sound added from elsewhere on disk is
decoded first (a broken file is refused) and copied into the library's class folder.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.commands import SetClassAttributes, SetClassVariations
from sfxstudio.core.errors import SfxError
from sfxstudio.core.validate import MAX_GAIN_DB
from sfxstudio.gui import errors
from sfxstudio.gui.colors import class_color, display_name
from sfxstudio.gui.document_model import DocumentModel

log = logging.getLogger(__name__)

MODE_LABELS = {"loop": "Loop", "one_shot": "One-shot", "retrigger": "Retrigger"}
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a", ".opus")


def swatch(color: QColor, size: int = 12) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(color)
    return QIcon(pix)


class Auditioner:
    """Plays one sound at a time: simpleaudio when installed (low latency, any decoded
    buffer), else Qt Multimedia (file playback)."""

    def __init__(self) -> None:
        self._sa: Any = None
        self._play: Any = None
        self._player: Any = None
        try:
            import simpleaudio

            self._sa = simpleaudio
        except ImportError:
            self._sa = None

    def play(self, path: Path, samples: np.ndarray | None = None) -> None:
        self.stop()
        try:
            if self._sa is not None and samples is not None:
                pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
                self._play = self._sa.play_buffer(np.ascontiguousarray(pcm), pcm.shape[1], 2, 48000)
                return
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            if self._player is None:
                self._player = QMediaPlayer()
                self._output = QAudioOutput()
                self._player.setAudioOutput(self._output)
            self._player.setSource(QUrl.fromLocalFile(str(path)))
            self._player.play()
        except Exception as exc:  # no audio device is not an error worth a dialog
            log.warning("cannot play %s: %s", path, exc)

    def stop(self) -> None:
        if self._play is not None:
            with contextlib.suppress(Exception):  # already finished
                self._play.stop()
            self._play = None
        if self._player is not None:
            self._player.stop()


class ClassPanel(QWidget):
    auditionRequested = Signal(str)  # absolute path of the sound being auditioned
    classSelected = Signal(str)

    def __init__(self, model: DocumentModel, library_provider: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.library_provider = library_provider
        self.play_sounds = True  # tests and silent machines turn actual playback off
        self._auditioner: Auditioner | None = None
        self._current: str | None = None

        self.class_list = QListWidget()
        self.class_list.setObjectName("classList")
        self.class_list.currentItemChanged.connect(self._on_current_changed)
        self.class_list.itemChanged.connect(self._on_item_changed)

        self.title = QLabel()
        self.title.setObjectName("classTitle")
        self.enabled = QCheckBox("Sound on")
        self.enabled.toggled.connect(lambda on: self._current and self.set_enabled(self._current, on))
        self.variations = QListWidget()
        self.variations.setObjectName("variationList")
        self.variations.itemDoubleClicked.connect(lambda _item: self.audition())
        self.add_files_btn = QPushButton("Add files…")
        self.add_folder_btn = QPushButton("Add folder…")
        self.remove_btn = QPushButton("Remove")
        self.up_btn = QPushButton("Up")
        self.down_btn = QPushButton("Down")
        self.play_btn = QPushButton("Play")
        self.add_files_btn.clicked.connect(self._add_files_dialog)
        self.add_folder_btn.clicked.connect(self._add_folder_dialog)
        self.remove_btn.clicked.connect(self.remove_selected_variation)
        self.up_btn.clicked.connect(lambda: self.move_selected_variation(-1))
        self.down_btn.clicked.connect(lambda: self.move_selected_variation(1))
        self.play_btn.clicked.connect(self.audition)

        self.mode = QComboBox()
        for key, label in MODE_LABELS.items():
            self.mode.addItem(label, key)
        self.mode.currentIndexChanged.connect(
            lambda _i: self._set_attr("mode", self.mode.currentData(), "mode"))
        self.interval = self._spin(0.05, 60.0, 0.1, " s", "interval", "retrigger interval")
        self.gain = self._spin(-MAX_GAIN_DB, MAX_GAIN_DB, 0.5, " dB", "gain_db", "gain")
        self.fade_in = self._spin(0.0, 10.0, 0.05, " s", "fade_in", "fade in")
        self.fade_out = self._spin(0.0, 10.0, 0.05, " s", "fade_out", "fade out")

        buttons = QHBoxLayout()
        for b in (self.add_files_btn, self.add_folder_btn, self.remove_btn, self.up_btn,
                  self.down_btn, self.play_btn):
            buttons.addWidget(b)
        detail = QWidget()
        form = QFormLayout(detail)
        form.addRow(self.title)
        form.addRow(self.enabled)
        form.addRow("Variations", self.variations)
        form.addRow(buttons)
        form.addRow("Mode", self.mode)
        form.addRow("Retrigger every", self.interval)
        form.addRow("Gain", self.gain)
        form.addRow("Fade in", self.fade_in)
        form.addRow("Fade out", self.fade_out)
        self.detail = detail

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.class_list)
        split.addWidget(detail)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        model.classesChanged.connect(self.refresh)
        model.analysisChanged.connect(self._rebuild_list)
        model.projectChanged.connect(self._rebuild_list)
        self._rebuild_list()

    # -- helpers -----------------------------------------------------------------------------
    def _spin(self, lo: float, hi: float, step: float, suffix: str, field: str, label: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setDecimals(2)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)  # one command per committed value, not per keystroke
        spin.valueChanged.connect(lambda v: self._set_attr(field, float(v), label))
        return spin

    def library(self) -> Any:
        try:
            return self.library_provider()
        except Exception as exc:  # a broken library must not break the panel
            log.warning("sound library unavailable: %s", exc)
            return None

    def current_class(self) -> str | None:
        return self._current

    def select_class(self, name: str) -> None:
        for i in range(self.class_list.count()):
            item = self.class_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                self.class_list.setCurrentItem(item)
                return

    def attributes(self, name: str) -> SoundAttributes:
        """Project override, else the library's attributes, else the class defaults."""
        doc = self.model.document
        override = doc.project.class_attributes.get(name)
        if override is not None:
            return override
        lib = self.library()
        return lib.attributes(name) if lib is not None else doc.class_attributes(name)

    def variation_list(self, name: str) -> list[str]:
        own = self.model.document.class_variations(name)
        if own is not None:
            return own
        lib = self.library()
        return lib.variations(name) if lib is not None else []

    def resolve(self, path: str) -> Path:
        lib = self.library()
        return Path(lib.resolve(path)) if lib is not None else Path(path)

    # -- list of classes ---------------------------------------------------------------------
    def _rebuild_list(self) -> None:
        current = self._current
        with QSignalBlocker(self.class_list):
            self.class_list.clear()
            for c in self.model.document.classes.effect_classes():
                item = QListWidgetItem(swatch(class_color(c.name)), display_name(c.name))
                item.setData(Qt.ItemDataRole.UserRole, c.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if self.attributes(c.name).enabled
                                   else Qt.CheckState.Unchecked)
                self.class_list.addItem(item)
        if self.class_list.count():
            self.select_class(current or self.class_list.item(0).data(Qt.ItemDataRole.UserRole))
        self.refresh()

    def refresh(self) -> None:
        """Show the current class's values (after an edit, an undo or a new project)."""
        with QSignalBlocker(self.class_list):
            for i in range(self.class_list.count()):
                item = self.class_list.item(i)
                on = self.attributes(item.data(Qt.ItemDataRole.UserRole)).enabled
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        name = self._current
        self.detail.setEnabled(name is not None)
        if name is None:
            return
        attrs = self.attributes(name)
        widgets = (self.enabled, self.mode, self.interval, self.gain, self.fade_in, self.fade_out,
                   self.variations)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.title.setText(display_name(name))
        self.enabled.setChecked(attrs.enabled)
        self.mode.setCurrentIndex(max(0, self.mode.findData(attrs.mode)))
        self.interval.setValue(attrs.interval)
        self.interval.setEnabled(attrs.mode == "retrigger")
        self.gain.setValue(attrs.gain_db)
        self.fade_in.setValue(attrs.fade_in)
        self.fade_out.setValue(attrs.fade_out)
        row = self.variations.currentRow()
        self.variations.clear()
        for path in self.variation_list(name):
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.variations.addItem(item)
        if self.variations.count():
            self.variations.setCurrentRow(min(max(row, 0), self.variations.count() - 1))
        del blockers

    def _on_current_changed(self, item: QListWidgetItem | None, _prev: object) -> None:
        self._current = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.refresh()
        if self._current:
            self.classSelected.emit(self._current)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.set_enabled(item.data(Qt.ItemDataRole.UserRole), item.checkState() == Qt.CheckState.Checked)

    def set_enabled(self, name: str, on: bool) -> None:
        """Turn a class's sound on or off (its effects stay, they just make no sound)."""
        if self.attributes(name).enabled != on:
            self.model.push(SetClassAttributes(
                name, self.attributes(name).with_(enabled=on),
                f"Turn {display_name(name).lower()} {'on' if on else 'off'}"))

    # -- edits -------------------------------------------------------------------------------
    def _set_attr(self, field: str, value: Any, label: str) -> None:
        name = self._current
        if name is None:
            return
        attrs = self.attributes(name)
        if getattr(attrs, field) == value:
            return
        try:
            new = SoundAttributes.from_json({field: value}, base=attrs)
        except ValueError as exc:
            self.model.editRefused.emit(str(exc))
            self.refresh()
            return
        self.model.push(SetClassAttributes(name, new, f"Set {display_name(name).lower()} {label}"))

    def set_variations(self, paths: list[str], label: str) -> None:
        name = self._current
        if name is None or paths == self.variation_list(name):
            return
        self.model.push(SetClassVariations(name, paths, f"{label} ({display_name(name).lower()})"))

    def add_variation_files(self, files: list[str | Path]) -> None:
        if self._current is None:
            return
        lib = self.library()
        if lib is None:
            self.model.editRefused.emit("No sound library is available to add sounds to")
            return
        current = self.variation_list(self._current)
        root = Path(lib.root).resolve()
        new: list[str] = []
        copied = 0
        for f in files:
            path = Path(f).resolve()
            if root in path.parents:
                rel = path.relative_to(root).as_posix()
            else:
                try:
                    rel = lib.add_variation(self._current, path)  # decodes, then copies
                except (SfxError, OSError) as exc:
                    self.model.editRefused.emit(errors.user_message(exc))
                    continue
                copied += 1
            if rel not in current and rel not in new:
                new.append(rel)
        if new:
            self.set_variations([*current, *new], "Add sounds" if len(new) > 1 else "Add sound")
        if copied:
            self.model.editRefused.emit(
                f"Copied {copied} sound{'s' if copied > 1 else ''} into the library folder {root}")

    def add_variation_folder(self, folder: str | Path) -> None:
        files = sorted(p for p in Path(folder).iterdir()
                       if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))
        if not files:
            self.model.editRefused.emit(f"{folder}: no sound files in this folder")
            return
        self.add_variation_files(list(files))

    def remove_selected_variation(self) -> None:
        row = self.variations.currentRow()
        if self._current is None or row < 0:
            return
        paths = self.variation_list(self._current)
        del paths[row]
        self.set_variations(paths, "Remove sound")

    def move_selected_variation(self, delta: int) -> None:
        row = self.variations.currentRow()
        if self._current is None or row < 0:
            return
        paths = self.variation_list(self._current)
        target = row + delta
        if not 0 <= target < len(paths):
            return
        paths[row], paths[target] = paths[target], paths[row]
        self.set_variations(paths, "Reorder sounds")
        self.variations.setCurrentRow(target)

    def audition(self) -> None:
        item = self.variations.currentItem()
        if item is None:
            return
        path = self.resolve(item.data(Qt.ItemDataRole.UserRole))
        self.auditionRequested.emit(str(path))
        if not self.play_sounds:
            return
        samples = None
        lib = self.library()
        if lib is not None:
            try:
                samples = lib.samples(path)
            except Exception as exc:
                self.model.editRefused.emit(str(exc))
                return
        if self._auditioner is None:
            self._auditioner = Auditioner()
        self._auditioner.play(path, samples)

    def _add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add sounds", "", "Sounds (" + " ".join(f"*{s}" for s in AUDIO_SUFFIXES) + ")")
        if files:
            self.add_variation_files(files)

    def _add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of sounds")
        if folder:
            self.add_variation_folder(folder)
