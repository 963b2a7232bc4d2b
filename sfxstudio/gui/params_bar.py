"""k and threshold controls (a slider plus a spin box each, re-segmenting live), the
single/layered switch and, in layered mode, the temporal model and its stickiness.

Every change goes through the undo stack as SetParams. One gesture (a slider drag, or a burst
of spin-box clicks) is one undo step: pushes merge while the gesture lasts, and the chain is
closed when the slider is released or after a pause.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QWidget

from sfxstudio.core.commands import SetParams
from sfxstudio.core.project import MAX_STICKINESS
from sfxstudio.gui.document_model import DocumentModel

GESTURE_PAUSE_MS = 700  # a pause this long ends a burst of spin-box clicks


class _ParamControl:
    """One parameter: a slider (integer steps) bound to a spin box (the real value)."""

    def __init__(self, bar: ParamsBar, name: str, label: str, maximum: float, step: float,
                 decimals: int, suffix: str, tip: str, min_width: int = 140) -> None:
        self.bar, self.name, self.step = bar, name, step
        self.label = QLabel(label, bar)
        self.slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.slider.setRange(0, round(maximum / step))
        self.slider.setMinimumWidth(min_width)
        self.spin = QDoubleSpinBox(bar)
        self.spin.setRange(0.0, maximum)
        self.spin.setSingleStep(step)
        self.spin.setDecimals(decimals)
        self.spin.setSuffix(suffix)
        self.spin.setKeyboardTracking(False)  # typing "0.75" is one change, not three
        for w in (self.label, self.slider, self.spin):
            w.setToolTip(tip)
        self.slider.valueChanged.connect(lambda v: self._changed(v * step))
        self.spin.valueChanged.connect(self._changed)
        self.slider.sliderReleased.connect(bar.end_gesture)

    def show_value(self, value: float) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(round(value / self.step))
        for w in (self.slider, self.spin):
            w.blockSignals(False)

    def _changed(self, value: float) -> None:
        value = round(float(value), 6)
        self.show_value(value)
        self.bar.push(self.name, value, dragging=self.slider.isSliderDown())


class ParamsBar(QWidget):
    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._gesture: SetParams | None = None  # the command in the stack this gesture merges into
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(GESTURE_PAUSE_MS)
        self._pause.timeout.connect(self.end_gesture)
        self.k = _ParamControl(self, "k", "Smoothing k", 10.0, 0.1, 1, " s",
                               "Mode filter half width: labels are a majority vote over \u00b1k seconds")
        self.threshold = _ParamControl(self, "threshold", "Threshold", 1.0, 0.01, 2, "",
                                       "Frames below this probability count as no effect")
        self.stickiness = _ParamControl(
            self, "stickiness", "Stickiness", MAX_STICKINESS, 0.01, 2, "",
            "Temporal model: how strongly an effect stays on (or off) once it is; higher "
            "smooths away longer blips and gaps", min_width=80)
        self.mode = self._combo("mode", "Effects", (("single", "One at a time"), ("layered", "Layered")),
                                "One at a time: the paper's single label per frame. Layered: every "
                                "class is decided on its own, so effects of different classes overlap")
        self.smoothing = self._combo("smoothing", "Smoothing",
                                     (("majority", "Majority"), ("hmm", "Temporal model")),
                                     "Layered mode: a majority vote over \u00b1k seconds per class, or the "
                                     "on/off temporal model (Viterbi) with its stickiness")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for label, combo in (self.mode, self.smoothing):
            layout.addWidget(label)
            layout.addWidget(combo)
            layout.addSpacing(12)
        for c in (self.k, self.threshold, self.stickiness):
            layout.addWidget(c.label)
            layout.addWidget(c.slider, 1)
            layout.addWidget(c.spin)
            layout.addSpacing(16)
        model.paramsChanged.connect(self.refresh)
        model.projectChanged.connect(self.refresh)
        self.refresh()

    def _combo(self, name: str, label: str, options: tuple[tuple[str, str], ...],
               tip: str) -> tuple[QLabel, QComboBox]:
        lab, box = QLabel(label, self), QComboBox(self)
        for value, text in options:
            box.addItem(text, value)
        for w in (lab, box):
            w.setToolTip(tip)
        box.currentIndexChanged.connect(lambda _i: self._choose(name, box))
        return lab, box

    def _choose(self, name: str, box: QComboBox) -> None:
        value = box.currentData()
        if value is None or getattr(self.model.document.params, name) == value:
            return
        self.end_gesture()
        self.model.push(SetParams(**{name: value}))  # one click, one undo step

    def refresh(self) -> None:
        params = self.model.document.params
        self.k.show_value(params.k)
        self.threshold.show_value(params.threshold)
        self.stickiness.show_value(params.stickiness)
        for (_, box), value in ((self.mode, params.mode), (self.smoothing, params.smoothing)):
            box.blockSignals(True)
            box.setCurrentIndex(box.findData(value))
            box.blockSignals(False)
        layered = params.mode == "layered"
        # Smoothing and stickiness only mean something in layered mode; the HMM ignores k.
        for w in self.smoothing:
            w.setVisible(layered)
        hmm = layered and params.smoothing == "hmm"
        for c in (self.stickiness.label, self.stickiness.slider, self.stickiness.spin):
            c.setVisible(hmm)
        self.threshold.label.setText("Threshold" if not layered else "Threshold (default)")

    def push(self, name: str, value: float, dragging: bool) -> None:
        if getattr(self.model.document.params, name) == value:
            return
        cmd = SetParams(merge=True, **{name: value})
        if self._gesture is not None and set(self._gesture.changes) != {name}:
            self.end_gesture()  # switching parameter starts a new step
        if self.model.push(cmd) and self._gesture is None:
            self._gesture = cmd  # later pushes merge into this one
        if not dragging:
            self._pause.start()

    def end_gesture(self) -> None:
        self._pause.stop()
        if self._gesture is not None:
            self._gesture.merge = False  # the next change starts a new undo step
            self._gesture = None
