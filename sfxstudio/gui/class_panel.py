"""Class panel: per class its colour, on/off, sound variations and how the sound is placed.

Every change is a command on the document's undo stack (SetClassAttributes /
SetClassVariations); the model's classesChanged then tells the mix to re-render.
Variations are paths relative to the sound library folder: a project never points outside it
(a shared project must not read arbitrary files). A sound added from elsewhere on disk is
decoded first (a broken file is refused) and copied into the library's class folder.

Open vocabulary (zero-shot models, sfxstudio.ml.zeroshot): each class's text prompts can be
edited, and a class can be added by typing its name (prompts default to the name), then given
sounds like any other. These are settings of the zero-shot model (saved in its bundle.json, so
every project analysed with it sees them), applied as commands on the undo stack; the current
analysis is re-scored from its cached embeddings at once, without decoding the video again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
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
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.classes import OTHERWISE, SoundAttributes, read_prompts
from sfxstudio.core.commands import SetClassAttributes, SetClassVariations, SetParams
from sfxstudio.core.errors import SfxError
from sfxstudio.core.validate import MAX_GAIN_DB
from sfxstudio.gui import errors
from sfxstudio.gui.class_vocabulary import SetZeroShotVocabulary, class_name_from_text
from sfxstudio.gui.colors import class_color, display_name
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.sound_search import SoundSearch

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
                 parent: QWidget | None = None,
                 zeroshot_provider: Callable[[], Any] | None = None) -> None:
        """zeroshot_provider: the loaded zero-shot model of the project, or None (the window
        hands over the bundle it analyses with); by default the project's model folder is
        loaded when its bundle.json says "zeroshot"."""
        super().__init__(parent)
        self.model = model
        self.library_provider = library_provider
        self.zeroshot_provider = zeroshot_provider or self._project_zeroshot
        self._zeroshot_cache: tuple[str, Any] | None = None
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
        self.auto_pan = QCheckBox("Pan with the motion")
        self.auto_pan.setToolTip("The effect sits left or right where the picture moves (equal-power "
                                 "pan, in the mix and the stems); off keeps it centred")
        self.auto_pan.toggled.connect(lambda on: self._set_attr("auto_pan", bool(on), "auto pan"))
        # Per-class threshold (layered mode decides each class on its own threshold).
        self.own_threshold = QCheckBox("Own threshold")
        self.own_threshold.setToolTip("Layered mode: decide this class on its own threshold instead "
                                      "of the global one")
        self.own_threshold.toggled.connect(self._on_own_threshold)
        self.class_threshold = QDoubleSpinBox()
        self.class_threshold.setRange(0.0, 1.0)
        self.class_threshold.setSingleStep(0.01)
        self.class_threshold.setDecimals(2)
        self.class_threshold.setKeyboardTracking(False)
        self.class_threshold.valueChanged.connect(lambda v: self._set_class_threshold(round(float(v), 6)))

        self.prompts = QPlainTextEdit()
        self.prompts.setObjectName("classPrompts")
        self.prompts.setPlaceholderText("One description per line, e.g. a dog barking")
        self.prompts.setToolTip("What the class looks like, in words: a zero-shot model recognises "
                                "the class from these descriptions")
        self.prompts.setMaximumHeight(90)
        self.apply_prompts_btn = QPushButton("Apply descriptions")
        self.apply_prompts_btn.clicked.connect(self.apply_prompts)
        self.prompts_note = QLabel()
        self.prompts_note.setWordWrap(True)
        self.new_class = QLineEdit()
        self.new_class.setObjectName("newClassName")
        self.new_class.setPlaceholderText("New class, e.g. door bell")
        self.new_class.returnPressed.connect(self.add_typed_class)
        self.add_class_btn = QPushButton("Add class")
        self.add_class_btn.clicked.connect(self.add_typed_class)

        # The panel is a side tab about 360 px wide at the default 1440x900 window (issue 15,
        # problem 5): the class list sits above the class's settings, not beside them, so
        # names and buttons get the whole width; buttons go three to a row; the settings
        # scroll when the panel is short.
        buttons = QGridLayout()
        for i, b in enumerate((self.add_files_btn, self.add_folder_btn, self.remove_btn, self.up_btn,
                               self.down_btn, self.play_btn)):
            buttons.addWidget(b, i // 3, i % 3)
        self.search = SoundSearch(self._default_index, self)
        self.search.playRequested.connect(lambda path: self.audition_path(Path(path)))
        self.search.useRequested.connect(self.use_found_sound)
        detail = QWidget()
        form = QFormLayout(detail)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.title)
        form.addRow(self.enabled)
        form.addRow("Variations", self.variations)
        form.addRow(buttons)
        form.addRow(QLabel("Find sounds in the library index"))
        form.addRow(self.search)
        form.addRow("Mode", self.mode)
        form.addRow("Retrigger every", self.interval)
        form.addRow("Gain", self.gain)
        form.addRow("Fade in", self.fade_in)
        form.addRow("Fade out", self.fade_out)
        form.addRow(self.auto_pan)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.own_threshold)
        threshold_row.addWidget(self.class_threshold, 1)
        form.addRow("Threshold", threshold_row)
        form.addRow("Descriptions", self.prompts)
        form.addRow(self.apply_prompts_btn)
        form.addRow(self.prompts_note)
        self.detail = detail
        scroll = QScrollArea()
        scroll.setObjectName("classDetailScroll")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(detail)
        self.detail_scroll = scroll

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.class_list)
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_class, 1)
        add_row.addWidget(self.add_class_btn)
        top_layout.addLayout(add_row)
        self.class_list.setMinimumHeight(80)
        self.variations.setMaximumHeight(110)
        # Tall enough for a useful list and the first settings: the window's top half does
        # not shrink the panel (and the video beside it) to a sliver.
        self.setMinimumHeight(420)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("classSplit")
        split.addWidget(top)
        split.addWidget(scroll)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        model.classesChanged.connect(self.refresh)
        model.paramsChanged.connect(self.refresh)
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
        role = Qt.ItemDataRole.UserRole
        names = [self.class_list.item(i).data(role) for i in range(self.class_list.count())]
        # The panel always shows a class of its list (issue 15, problem 5): the one shown
        # before when the new list still has it, else the first.
        self._current = current if current in names else (names[0] if names else None)
        if self._current is not None:
            with QSignalBlocker(self.class_list):
                self.class_list.setCurrentRow(names.index(self._current))
        self.refresh()
        if self._current is not None and self._current != current:
            self.classSelected.emit(self._current)

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
                   self.variations, self.auto_pan, self.own_threshold, self.class_threshold)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.title.setText(display_name(name))
        self.enabled.setChecked(attrs.enabled)
        self.mode.setCurrentIndex(max(0, self.mode.findData(attrs.mode)))
        self.interval.setValue(attrs.interval)
        self.interval.setEnabled(attrs.mode == "retrigger")
        self.gain.setValue(attrs.gain_db)
        self.fade_in.setValue(attrs.fade_in)
        self.fade_out.setValue(attrs.fade_out)
        self.auto_pan.setChecked(attrs.auto_pan)
        params = self.model.document.params
        own = params.class_thresholds.get(name)
        self.own_threshold.setChecked(own is not None)
        self.class_threshold.setValue(params.threshold if own is None else own)
        layered = params.mode == "layered"
        self.own_threshold.setEnabled(layered)
        self.class_threshold.setEnabled(layered and own is not None)
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
        self._show_prompts(name)

    # -- open vocabulary (zero-shot models) ---------------------------------------------------------
    def _project_zeroshot(self) -> Any:
        """The project's model when it is a zero-shot bundle (loaded once per folder), else None."""
        folder = self.model.document.params.model
        if not folder:
            return None
        if self._zeroshot_cache is not None and self._zeroshot_cache[0] == folder:
            return self._zeroshot_cache[1]
        from sfxstudio.ml.bundle import ModelBundle, read_bundle_json

        bundle = None
        try:
            if read_bundle_json(folder).get("kind") == "zeroshot":
                bundle = ModelBundle.load(folder)
        except (SfxError, OSError) as exc:  # the panel works without it; say why once
            log.warning("zero-shot model unavailable: %s", exc)
        self._zeroshot_cache = (folder, bundle)
        return bundle

    def zeroshot(self) -> Any:
        try:
            return self.zeroshot_provider()
        except Exception as exc:  # a broken model must not break the panel
            log.warning("zero-shot model unavailable: %s", exc)
            return None

    def _show_prompts(self, name: str) -> None:
        bundle = self.zeroshot()
        if bundle is not None and name in bundle.class_names:
            lines = bundle.prompts.get(name, [])
            note = f"Used by the zero-shot model {bundle.name}: edits are saved with it"
        else:
            cls = self.model.document.classes.get(name)
            lines = list(cls.prompts) if cls is not None else []
            note = ("Descriptions are used by zero-shot models; the current model does not read them"
                    if bundle is None else f"{bundle.name} does not know this class yet")
        with QSignalBlocker(self.prompts):
            self.prompts.setPlainText("\n".join(lines))
        editable = bundle is not None and name in bundle.class_names
        self.prompts.setReadOnly(not editable)
        self.apply_prompts_btn.setEnabled(editable)
        self.prompts_note.setText(note)
        self.add_class_btn.setEnabled(bundle is not None)
        self.new_class.setEnabled(bundle is not None)

    def set_prompts(self, name: str, prompts: list[str]) -> bool:
        """Give a class of the zero-shot model new descriptions (one undo step)."""
        bundle = self.zeroshot()
        if bundle is None or name not in bundle.class_names:
            self.model.editRefused.emit("Descriptions can be changed for the classes of a zero-shot model")
            return False
        try:
            field = f"{display_name(name)} descriptions"
            clean = list(read_prompts([p for p in prompts if p.strip()], field))
        except ValueError as exc:
            self.model.editRefused.emit(str(exc))
            return False
        if clean == bundle.prompts.get(name):
            return False
        if not clean and name != OTHERWISE:
            self.model.editRefused.emit(f"{display_name(name)} needs at least one description")
            self.refresh()
            return False
        new = dict(bundle.prompts, **{name: clean})
        return self.model.push(SetZeroShotVocabulary(
            bundle, bundle.class_names, new, f"Describe {display_name(name).lower()}"))

    def apply_prompts(self) -> None:
        if self._current is not None:
            lines = self.prompts.toPlainText().splitlines()
            self.set_prompts(self._current, [ln for ln in lines if ln.strip()])

    def add_class(self, text: str, prompts: list[str] | None = None) -> str | None:
        """Add a class to the zero-shot model by its name (descriptions default to the name);
        select it so the editor can give it sounds. Returns the class name, None if refused."""
        bundle = self.zeroshot()
        if bundle is None:
            self.model.editRefused.emit("Classes can be added to a zero-shot model; choose one first")
            return None
        try:
            name = class_name_from_text(text)
        except ValueError as exc:
            self.model.editRefused.emit(str(exc))
            return None
        if name in bundle.class_names:
            self.model.editRefused.emit(f"{display_name(name)} is already a class")
            return None
        from sfxstudio.ml.zeroshot import default_prompts

        names = [n for n in bundle.class_names if n != OTHERWISE] + [name, OTHERWISE]
        new = dict(bundle.prompts, **{name: list(prompts or default_prompts(name))})
        if not self.model.push(SetZeroShotVocabulary(bundle, names, new, f"Add class {display_name(name)}")):
            return None
        self._rebuild_list()
        self.select_class(name)
        if name not in self.model.document.classes:
            self.model.editRefused.emit(
                f"Added {display_name(name)} to {bundle.name}; analyse the video with it to see its effects")
        return name

    def add_typed_class(self) -> None:
        if self.add_class(self.new_class.text()):
            self.new_class.clear()

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

    def _on_own_threshold(self, on: bool) -> None:
        name = self._current
        if name is None:
            return
        params = self.model.document.params
        if on:
            self._set_class_threshold(params.class_thresholds.get(name, params.threshold))
        elif name in params.class_thresholds:
            rest = {c: t for c, t in params.class_thresholds.items() if c != name}
            self.model.push(SetParams(class_thresholds=rest))

    def _set_class_threshold(self, value: float) -> None:
        """The current class's own threshold (one undoable SetParams; the others' stay)."""
        name = self._current
        if name is None:
            return
        current = self.model.document.params.class_thresholds
        if current.get(name) == value:
            return
        self.model.push(SetParams(class_thresholds={**current, name: value}))

    def set_variations(self, paths: list[str], label: str) -> None:
        name = self._current
        if name is None or paths == self.variation_list(name):
            return
        self.model.push(SetClassVariations(name, paths, f"{label} ({display_name(name).lower()})"))

    def add_variation_files(self, files: Sequence[str | Path]) -> None:
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
        if item is not None:
            self.audition_path(self.resolve(item.data(Qt.ItemDataRole.UserRole)))

    def audition_path(self, path: Path) -> None:
        """Play one sound (a variation or a sound found in the index); the window says when
        there is no audio device (auditionRequested)."""
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

    def _default_index(self) -> Path | None:
        """The sound library's own index (`sfxstudio library import` writes it in the folder)."""
        from sfxstudio.media.library_index import DEFAULT_INDEX_NAME

        lib = self.library()
        return Path(lib.root) / DEFAULT_INDEX_NAME if lib is not None else None

    def use_found_sound(self, path: str) -> None:
        """Give the selected class a sound found in the index (the undoable Add sound)."""
        if self._current is None:
            self.model.editRefused.emit("Choose a class to give the sound to")
            return
        self.add_variation_files([path])

    def _add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add sounds", "", "Sounds (" + " ".join(f"*{s}" for s in AUDIO_SUFFIXES) + ")")
        if files:
            self.add_variation_files(files)

    def _add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of sounds")
        if folder:
            self.add_variation_folder(folder)
