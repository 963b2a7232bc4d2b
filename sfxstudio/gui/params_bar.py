"""k and threshold controls: a slider plus a spin box each, re-segmenting live.

Every change goes through the undo stack as SetParams. One gesture (a slider drag, or a burst
of spin-box clicks) is one undo step: pushes merge while the gesture lasts, and the chain is
closed when the slider is released or after a pause.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QWidget

from sfxstudio.core.commands import SetParams
from sfxstudio.gui.document_model import DocumentModel

GESTURE_PAUSE_MS = 700  # a pause this long ends a burst of spin-box clicks


class _ParamControl:
    """One parameter: a slider (integer steps) bound to a spin box (the real value)."""

    def __init__(self, bar: ParamsBar, name: str, label: str, maximum: float, step: float,
                 decimals: int, suffix: str, tip: str) -> None:
        self.bar, self.name, self.step = bar, name, step
        self.label = QLabel(label, bar)
        self.slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.slider.setRange(0, round(maximum / step))
        self.slider.setMinimumWidth(140)
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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for c in (self.k, self.threshold):
            layout.addWidget(c.label)
            layout.addWidget(c.slider, 1)
            layout.addWidget(c.spin)
            layout.addSpacing(16)
        model.paramsChanged.connect(self.refresh)
        model.projectChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        params = self.model.document.params
        self.k.show_value(params.k)
        self.threshold.show_value(params.threshold)

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
