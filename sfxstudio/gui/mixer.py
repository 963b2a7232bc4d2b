"""The mixer: the mix's original and effects levels, and one level fader per class in use.

A class's level is its SoundAttributes.gain_db (what the renderer applies to every effect of
the class), changed through core.commands.SetClassAttributes: one undo step per gesture (a
drag commits on release; keys and the wheel commit once they pause, since the command does not
merge), and the document's classesChanged re-renders the preview. The two mix levels are the
project's MixSettings (what the MP4 export and the preview players use); they change through
core.commands.SetMixLevels, one undo step per gesture too. The panel only shows the project: it
follows DocumentModel.mixChanged (its own edits, the export dialog's, undo), and the window
applies the mix to the players from that same signal.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.commands import SetClassAttributes, SetMixLevels, db_text
from sfxstudio.gui.colors import display_name
from sfxstudio.gui.document_model import DocumentModel

STEPS_PER_DB = 2  # 0.5 dB per slider step
FADER_MIN_DB = -40.0
FADER_MAX_DB = 12.0
KEY_COMMIT_MS = 400  # keys / wheel: commit once the editor stops for this long


fmt_db = db_text  # "+3.5 dB", "-6.0 dB", "0.0 dB": as the undo names read


class Fader(QWidget):
    """A labelled horizontal level slider in 0.5 dB steps. `committed(db)` fires once per
    gesture: on release of a drag, or KEY_COMMIT_MS after the last key/wheel step;
    double-clicking the value resets to 0 dB."""

    committed = Signal(float)

    def __init__(self, key: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.title = QLabel(title, self)
        self.title.setToolTip(title)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(round(FADER_MIN_DB * STEPS_PER_DB), round(FADER_MAX_DB * STEPS_PER_DB))
        self.slider.setPageStep(6 * STEPS_PER_DB)
        self.slider.setAccessibleName(f"{title} level")
        self.value_label = QLabel(fmt_db(0.0), self)
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("+12.0 dB") + 6)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value_label.setToolTip("Double-click: back to 0 dB")
        self._committed_db = 0.0
        self._quiet = False
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(KEY_COMMIT_MS)
        self._pause.timeout.connect(self._commit)
        self.slider.valueChanged.connect(self._on_value)
        self.slider.sliderReleased.connect(self._commit)
        self.value_label.mouseDoubleClickEvent = lambda _e: self.reset()  # type: ignore[method-assign]

    def db(self) -> float:
        return self.slider.value() / STEPS_PER_DB

    def set_db(self, db: float) -> None:
        """Show a level from the project (no commit); values beyond the range are clamped on
        the slider but written as they are."""
        if self.slider.isSliderDown():
            return  # never yank the handle out of the editor's hand
        self._quiet = True
        try:
            self.slider.setValue(round(db * STEPS_PER_DB))
        finally:
            self._quiet = False
        self._committed_db = db
        self.value_label.setText(fmt_db(db))

    def reset(self) -> None:
        self.slider.setValue(0)
        self._commit()

    def _on_value(self, _v: int) -> None:
        self.value_label.setText(fmt_db(self.db()))
        if not self._quiet and not self.slider.isSliderDown():
            self._pause.start()

    def _commit(self) -> None:
        self._pause.stop()
        db = self.db()
        if db != self._committed_db:
            self._committed_db = db
            self.committed.emit(db)


class MixerPanel(QWidget):
    """Original and Effects (the mix) faders, then one fader per class that has effects (or a
    level of its own) in the project; every change is an undoable command."""

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.original = Fader("original", "Original audio", self)
        self.effects = Fader("effects", "Effects (master)", self)
        self.original.committed.connect(lambda db: self._set_mix(SetMixLevels(original_gain_db=db)))
        self.effects.committed.connect(lambda db: self._set_mix(SetMixLevels(effects_gain_db=db)))
        self.class_faders: dict[str, Fader] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        master = QGridLayout()
        for row, fader in enumerate((self.original, self.effects)):
            self._place(master, row, fader)
        layout.addLayout(master)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        self.empty = QLabel("No effects yet: class levels appear here once effects exist", self)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        self._classes_box = QWidget(self)
        self._grid = QGridLayout(self._classes_box)
        self._grid.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._classes_box)
        layout.addWidget(scroll, 1)

        model.segmentsChanged.connect(self.refresh)
        model.classesChanged.connect(self.refresh)
        model.projectChanged.connect(self.refresh)
        model.mixChanged.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _place(grid: QGridLayout, row: int, fader: Fader) -> None:
        grid.addWidget(fader.title, row, 0)
        grid.addWidget(fader.slider, row, 1)
        grid.addWidget(fader.value_label, row, 2)
        grid.setColumnStretch(1, 1)

    # -- reading the project ---------------------------------------------------------------
    def classes_in_use(self) -> list[str]:
        """Classes with an audible effect or sound settings of their own in the project."""
        project = self.model.document.project
        names = {s.class_name for s in project.segments if s.origin != "mute" and s.class_name != OTHERWISE}
        names |= set(project.class_attributes)
        return sorted(names, key=lambda n: display_name(n).lower())

    def refresh(self) -> None:
        """Follow the project: the mix levels, which classes have faders, and their levels."""
        doc = self.model.document
        mix = doc.project.mix
        self.original.set_db(mix.original_gain_db)
        self.effects.set_db(mix.effects_gain_db)
        names = self.classes_in_use()
        if names != list(self.class_faders):
            self._rebuild(names)
        for name, fader in self.class_faders.items():
            fader.set_db(doc.class_attributes(name).gain_db)
        self.empty.setVisible(not names)

    def _rebuild(self, names: list[str]) -> None:
        if any(f.slider.isSliderDown() for f in self.class_faders.values()):
            return  # after the drag: the release commits and refreshes again
        for fader in self.class_faders.values():
            for w in (fader.title, fader.slider, fader.value_label):
                self._grid.removeWidget(w)
            fader.deleteLater()
        self.class_faders = {}
        for row, name in enumerate(names):
            fader = Fader(name, display_name(name), self._classes_box)
            fader.committed.connect(lambda db, n=name: self.set_class_level(n, db))
            self._place(self._grid, row, fader)
            self.class_faders[name] = fader
        self._grid.setRowStretch(len(names), 1)

    # -- edits -----------------------------------------------------------------------------
    def set_class_level(self, class_name: str, db: float) -> bool:
        """One undoable step: the class's gain_db becomes `db` (its other attributes stay)."""
        attrs = self.model.document.class_attributes(class_name)
        if attrs.gain_db == db:
            return False
        command = SetClassAttributes(class_name, replace(attrs, gain_db=db),
                                     name=f"Set {display_name(class_name)} level to {fmt_db(db)}")
        return self.model.push(command)

    def _set_mix(self, command: SetMixLevels) -> bool:
        """One undoable step per fader gesture (the fader commits once per gesture, so no
        merging); the faders follow through mixChanged, a refusal puts them back."""
        mix = self.model.document.project.mix
        if all(getattr(mix, k) == v for k, v in command.changes.items()):
            return False
        if not self.model.push(command):
            self.refresh()
            return False
        return True
