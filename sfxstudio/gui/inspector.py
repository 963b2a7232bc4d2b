"""Inspector: the selected effect's class, in/out timecodes, sound file, gain and mode.

The sound file is the one the effect recorded when it was created (it keeps it whatever else
changes); the editor can pick another from the list or re-roll (media.assign.reroll: another
file that fits the effect and differs from its neighbours'), each one undoable command.

Each field commits one undoable command (Enter or leaving the field for timecodes). A
timecode that does not parse, or that would end the effect before it starts, is refused
in place: the field turns red and says why; nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from sfxstudio.core.commands import EditSegment, SetSegmentProperties, snap
from sfxstudio.core.segments import Segment
from sfxstudio.gui.class_panel import MODE_LABELS, swatch
from sfxstudio.gui.colors import class_color, display_name
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.timecode import format_timecode, parse_timecode

ORIGIN_LABELS = {"auto": "Automatic (from analysis)", "manual": "Manual (your edit)",
                 "mute": "Mute (keeps automatic effects away)"}
_BAD = "QLineEdit { border: 1px solid #e0443e; }"


class Inspector(QWidget):
    def __init__(self, model: DocumentModel, parent: QWidget | None = None,
                 library_provider: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.library_provider = library_provider
        self._segment_id: int | None = None

        self.origin = QLabel()
        self.class_combo = QComboBox()
        self.start_edit = QLineEdit()
        self.end_edit = QLineEdit()
        self.length = QLabel()
        self.variation = QComboBox()
        self.variation.setToolTip("The sound file this effect plays (recorded with the effect)")
        self.reroll = QPushButton("Re-roll")
        self.reroll.setToolTip("Another sound file of this class that fits the effect and differs "
                               "from its neighbours' (undoable)")
        self._rolls = 0  # each click a new seed
        self.gain = QDoubleSpinBox()
        self.gain.setRange(-60.0, 24.0)
        self.gain.setSingleStep(0.5)
        self.gain.setSuffix(" dB")
        self.gain.setKeyboardTracking(False)
        self.mode = QComboBox()
        self.mode.addItem("Class default", None)
        for key, label in MODE_LABELS.items():
            self.mode.addItem(label, key)
        for edit in (self.start_edit, self.end_edit):
            edit.setPlaceholderText("HH:MM:SS.mmm")
            edit.setToolTip("HH:MM:SS.mmm or HH:MM:SS:FF; Enter to apply")
        self.error = QLabel()
        self.error.setObjectName("inspectorError")
        self.error.setWordWrap(True)

        form = QFormLayout(self)
        form.addRow("Effect", self.origin)
        form.addRow("Class", self.class_combo)
        form.addRow("Start", self.start_edit)
        form.addRow("End", self.end_edit)
        form.addRow("Length", self.length)
        sound = QWidget()
        row = QHBoxLayout(sound)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.variation, 1)
        row.addWidget(self.reroll)
        form.addRow("Sound", sound)
        form.addRow("Gain", self.gain)
        form.addRow("Mode", self.mode)
        form.addRow(self.error)

        self.class_combo.activated.connect(self._on_class)
        self.start_edit.editingFinished.connect(lambda: self._on_time("start"))
        self.end_edit.editingFinished.connect(lambda: self._on_time("end"))
        self.variation.activated.connect(self._on_variation)
        self.reroll.clicked.connect(self._on_reroll)
        self.gain.valueChanged.connect(self._on_gain)
        self.mode.activated.connect(self._on_mode)
        model.segmentsChanged.connect(self.refresh)
        model.classesChanged.connect(self.refresh)
        model.analysisChanged.connect(self.refresh)
        self.refresh()

    # -- public API --------------------------------------------------------------------------
    def set_segment(self, segment_id: int | None) -> None:
        self._segment_id = segment_id
        self.error.clear()
        self.refresh()

    def segment(self) -> Segment | None:
        return self.model.document.find(self._segment_id) if self._segment_id is not None else None

    def fps(self) -> float | None:
        """Frame rate for HH:MM:SS:FF input (the analysis rate)."""
        cache = self.model.document.analysis
        return 1.0 / cache.frame_duration if cache is not None and cache.frame_duration > 0 else None

    # -- display -----------------------------------------------------------------------------
    def refresh(self) -> None:
        seg = self.segment()
        widgets = (self.class_combo, self.start_edit, self.end_edit, self.variation, self.reroll, self.gain,
                   self.mode)
        for w in widgets:
            w.setEnabled(seg is not None)
        if seg is None:
            self.origin.setText("No effect selected")
            self.length.clear()
            for e in (self.start_edit, self.end_edit):
                e.clear()
            return
        blockers = [QSignalBlocker(w) for w in widgets]
        doc = self.model.document
        self.origin.setText(ORIGIN_LABELS.get(seg.origin, seg.origin))
        self.class_combo.clear()
        for c in doc.classes.effect_classes():
            self.class_combo.addItem(swatch(class_color(c.name)), display_name(c.name), c.name)
        if seg.class_name not in doc.classes:  # a class of an earlier model
            self.class_combo.addItem(display_name(seg.class_name), seg.class_name)
        self.class_combo.setCurrentIndex(self.class_combo.findData(seg.class_name))
        self.class_combo.setEnabled(seg.origin != "mute")
        self.start_edit.setText(format_timecode(seg.start))
        self.end_edit.setText(format_timecode(seg.end))
        for e in (self.start_edit, self.end_edit):
            e.setStyleSheet("")
        self.length.setText(f"{seg.duration:.3f} s")
        self.variation.clear()
        self.variation.addItem("Library default", None)
        for path in self._variations(seg.class_name):
            self.variation.addItem(Path(path).name, path)
        if seg.variation is not None and self.variation.findData(seg.variation) < 0:
            self.variation.addItem(Path(seg.variation).name + " (not in the list)", seg.variation)
        self.variation.setCurrentIndex(max(0, self.variation.findData(seg.variation)))
        self.gain.setValue(seg.gain_db)
        self.mode.setCurrentIndex(max(0, self.mode.findData(seg.mode)))
        audible = seg.origin != "mute"
        for w in (self.variation, self.reroll, self.gain, self.mode):
            w.setEnabled(audible)
        del blockers

    def _variations(self, class_name: str) -> list[str]:
        own = self.model.document.class_variations(class_name)
        if own is not None:
            return own
        if self.library_provider is not None:
            try:
                lib = self.library_provider()
                return lib.variations(class_name) if lib is not None else []
            except Exception:  # no library: the combo still offers the default
                return []
        return []

    # -- edits -------------------------------------------------------------------------------
    def _push(self, command: Any) -> None:
        self.error.clear()
        self.model.push(command)

    def _on_class(self, _index: int) -> None:
        seg = self.segment()
        name = self.class_combo.currentData()
        if seg is not None and name and name != seg.class_name:
            self._push(EditSegment(seg.id, class_name=name))

    def _on_time(self, which: str) -> None:
        seg = self.segment()
        if seg is None:
            return
        edit = self.start_edit if which == "start" else self.end_edit
        try:
            t = snap(parse_timecode(edit.text(), self.fps()), self.model.document.frame_duration)
        except ValueError as exc:
            self._refuse(edit, str(exc))
            return
        current = seg.start if which == "start" else seg.end
        if abs(t - current) < 1e-9:
            edit.setText(format_timecode(current))
            edit.setStyleSheet("")
            return
        start, end = (t, seg.end) if which == "start" else (seg.start, t)
        if not end > start:
            self._refuse(edit, "the end must come after the start")
            return
        limit = self.model.document.duration
        if limit is not None and start >= limit:
            self._refuse(edit, f"the video ends at {format_timecode(limit)}")
            return
        self._push(EditSegment(seg.id, start=t) if which == "start" else EditSegment(seg.id, end=t))

    def _refuse(self, edit: QLineEdit, message: str) -> None:
        edit.setStyleSheet(_BAD)
        self.error.setText(message)

    def _on_variation(self, _index: int) -> None:
        seg = self.segment()
        if seg is not None and self.variation.currentData() != seg.variation:
            self._push(SetSegmentProperties(seg.id, variation=self.variation.currentData()))

    def _on_reroll(self) -> None:
        from sfxstudio.media.assign import reroll

        seg = self.segment()
        lib = self._library()
        if seg is None or lib is None:
            self.error.setText("No sound library to choose from")
            return
        doc = self.model.document
        self._rolls += 1
        names = {s.class_name for s in doc.segments}
        own = {c: v for c in names if (v := doc.class_variations(c)) is not None}
        try:
            new = reroll(seg.id, doc.segments, lib, seed=self._rolls, class_variations=own,
                         class_attributes={c: doc.class_attributes(c) for c in names if c in doc.classes})
        except KeyError:
            return  # a mute range makes no sound
        if new is None or new == seg.variation:
            self.error.setText(f"No other sound of {display_name(seg.class_name)} fits this effect")
            return
        self._push(SetSegmentProperties(seg.id, variation=new))

    def _library(self) -> Any:
        if self.library_provider is None:
            return None
        try:
            return self.library_provider()
        except Exception:  # no library: nothing to re-roll from
            return None

    def _on_gain(self, value: float) -> None:
        seg = self.segment()
        if seg is not None and abs(value - seg.gain_db) > 1e-9:
            self._push(SetSegmentProperties(seg.id, gain_db=float(value)))

    def _on_mode(self, _index: int) -> None:
        seg = self.segment()
        if seg is not None and self.mode.currentData() != seg.mode:
            self._push(SetSegmentProperties(seg.id, mode=self.mode.currentData()))
