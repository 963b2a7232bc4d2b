"""Class panel and inspector edit through the undo stack; timecode helpers."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from sfxstudio.core.commands import SetParams
from sfxstudio.core.segments import Segment
from sfxstudio.gui.class_panel import ClassPanel
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.gui.inspector import Inspector
from sfxstudio.gui.timecode import format_timecode, parse_timecode
from tests.gui.test_lanes import make_model


# -- timecode ----------------------------------------------------------------------------------
def test_format_timecode() -> None:
    assert format_timecode(0) == "00:00:00.000"
    assert format_timecode(3723.4567) == "01:02:03.457"
    assert format_timecode(59.9996) == "00:01:00.000"
    assert format_timecode(3723.48, fps=25) == "01:02:03:12"
    assert format_timecode(-1) == "00:00:00.000"


@pytest.mark.parametrize("fps", [25.0, 30.0, 29.97, 23.976, 12.5])
def test_frame_timecode_round_trips(fps: float) -> None:
    for n in range(0, 200_000, 997):
        t = n / fps
        assert parse_timecode(format_timecode(t, fps), fps) == pytest.approx(t, abs=1e-9)


def test_parse_timecode_forms_and_errors() -> None:
    assert parse_timecode("01:02:03.456") == pytest.approx(3723.456)
    assert parse_timecode("2:03.5") == pytest.approx(123.5)
    assert parse_timecode(" 7.25 ") == pytest.approx(7.25)
    assert parse_timecode("00:00:01:12", fps=25) == pytest.approx(1.48)
    for bad, fps in (("abc", None), ("00:61:00.0", None), ("00:00:75", None),
                     ("00:00:01:12", None), ("00:00:01:30", 25.0), ("1.2.3", None)):
        with pytest.raises(ValueError):
            parse_timecode(bad, fps)


# -- class panel -------------------------------------------------------------------------------
def _mkdirs(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class FakeLibrary:
    def __init__(self, root: Path) -> None:
        self.root = root

    def attributes(self, name: str):  # type: ignore[no-untyped-def]
        from sfxstudio.core.classes import default_classes

        return default_classes()[name].sound

    def variations(self, name: str) -> list[str]:
        return [f"{name}/a.wav", f"{name}/b.wav"]

    def resolve(self, path: str) -> Path:
        return self.root / path

    def samples(self, path: str) -> np.ndarray:
        return np.zeros((480, 2), np.float32)


def make_panel(qtbot, library_folder: Path) -> ClassPanel:  # type: ignore[no-untyped-def]
    """A shown class panel over a FakeLibrary in `library_folder`, on the river class."""
    widget = ClassPanel(make_model(250), lambda: FakeLibrary(library_folder))
    widget.play_sounds = False
    qtbot.addWidget(widget)
    widget.show()
    widget.select_class("river")
    return widget


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> ClassPanel:  # type: ignore[no-untyped-def]
    return make_panel(qtbot, tmp_path)


def test_class_attribute_edits_are_undoable(panel: ClassPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    model, doc = panel.model, panel.model.document
    with qtbot.waitSignal(model.classesChanged):
        panel.gain.setValue(-12.0)
    assert doc.project.class_attributes["river"].gain_db == -12.0
    panel.mode.setCurrentIndex(panel.mode.findData("retrigger"))
    assert doc.project.class_attributes["river"].mode == "retrigger"
    assert panel.interval.isEnabled()
    panel.interval.setValue(2.5)
    panel.fade_in.setValue(0.2)
    panel.enabled.setChecked(False)
    river = next(panel.class_list.item(i) for i in range(panel.class_list.count())
                 if panel.class_list.item(i).data(Qt.ItemDataRole.UserRole) == "river")
    assert river.checkState() == Qt.CheckState.Unchecked  # list and detail agree
    attrs = doc.project.class_attributes["river"]
    assert (attrs.mode, attrs.interval, attrs.fade_in, attrs.enabled) == ("retrigger", 2.5, 0.2, False)
    assert model.undo_stack.count() == 5
    assert model.undo_stack.text(4) == "Turn river off"
    for _ in range(5):
        model.undo_stack.undo()
    assert "river" not in doc.project.class_attributes
    assert panel.gain.value() == -8.0 and panel.enabled.isChecked()  # the widgets follow undo
    river.setCheckState(Qt.CheckState.Unchecked)  # the list's checkbox is a command too
    assert doc.project.class_attributes["river"].enabled is False
    assert model.undo_stack.count() == 1


def test_variations_add_remove_reorder_audition(panel: ClassPanel, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, doc = panel.model, panel.model.document
    assert [panel.variations.item(i).text() for i in range(panel.variations.count())] == ["a.wav", "b.wav"]
    folder = tmp_path / "extra"  # inside the library folder: kept where it is, stored relative
    folder.mkdir()
    for name in ("z.flac", "y.wav", "notes.txt"):
        (folder / name).write_bytes(b"x")
    panel.add_variation_folder(folder)
    assert doc.class_variations("river") == ["river/a.wav", "river/b.wav", "extra/y.wav", "extra/z.flac"]
    panel.variations.setCurrentRow(0)
    panel.remove_selected_variation()
    assert doc.class_variations("river") == ["river/b.wav", "extra/y.wav", "extra/z.flac"]
    panel.variations.setCurrentRow(2)
    panel.move_selected_variation(-1)
    assert doc.class_variations("river")[1:] == ["extra/z.flac", "extra/y.wav"]
    assert panel.variations.currentRow() == 1
    with qtbot.waitSignal(panel.auditionRequested) as played:
        panel.audition()
    assert played.args == [str(folder / "z.flac")]
    with qtbot.waitSignal(panel.auditionRequested) as played:
        panel.variations.setCurrentRow(0)
        panel.audition()
    assert played.args == [str(tmp_path / "river/b.wav")]  # library files resolve to its root
    assert model.undo_stack.count() == 3
    for _ in range(3):
        model.undo_stack.undo()
    assert doc.class_variations("river") is None


def test_a_sound_from_outside_the_library_is_copied_in(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A project never points outside the library: an outside sound is decoded and copied in."""
    from sfxstudio.media.library import SoundLibrary
    from tests.fixtures.media import write_sound

    write_sound(_mkdirs(tmp_path / "lib" / "river" / "a.wav"))
    write_sound(tmp_path / "lib" / "river" / "b.wav")
    library = SoundLibrary.load(tmp_path / "lib")
    panel = ClassPanel(make_model(250), lambda: library)
    panel.play_sounds = False
    qtbot.addWidget(panel)
    panel.select_class("river")
    doc = panel.model.document
    outside = _mkdirs(tmp_path / "downloads" / "x").parent
    good = write_sound(outside / "splash.wav")
    broken = outside / "broken.wav"
    broken.write_bytes(b"RIFF junk")
    refused: list[str] = []
    panel.model.editRefused.connect(refused.append)
    panel.add_variation_files([good, broken])
    # The library itself now holds the sound, so the class's list (the library's) has it.
    assert panel.variation_list("river") == ["river/a.wav", "river/b.wav", "river/splash.wav"], refused
    assert all(not Path(p).is_absolute() for p in doc.class_variations("river") or [])
    assert (panel.library().root / "river" / "splash.wav").read_bytes() == good.read_bytes()
    assert any("broken.wav" in m for m in refused)
    assert not (panel.library().root / "river" / "broken.wav").exists()


# -- inspector ---------------------------------------------------------------------------------
@pytest.fixture
def inspector(qtbot) -> Inspector:  # type: ignore[no-untyped-def]
    model = make_model(1000, k=0.5)
    widget = Inspector(model)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def first_auto(model: DocumentModel) -> Segment:
    return next(s for s in model.document.segments if s.origin == "auto" and s.duration > 1.0)


def test_inspector_timecode_edit_moves_segment(inspector: Inspector) -> None:
    model = inspector.model
    seg = first_auto(model)
    inspector.set_segment(seg.id)
    assert inspector.start_edit.text() == format_timecode(seg.start)
    inspector.start_edit.setFocus()
    inspector.start_edit.selectAll()
    QTest.keyClicks(inspector.start_edit, format_timecode(seg.start + 0.41))
    QTest.keyClick(inspector.start_edit, Qt.Key.Key_Return)
    moved = model.document.find(seg.id)
    assert moved is not None and moved.origin == "manual"
    assert moved.start == pytest.approx(seg.start + 0.40)  # snapped to the 1/25 s frame
    assert inspector.start_edit.text() == format_timecode(moved.start)
    inspector.end_edit.setText("00:00:00:05")  # frames: 5/25 s, before the start: refused
    inspector.end_edit.editingFinished.emit()
    assert "after the start" in inspector.error.text() and model.document.find(seg.id) == moved
    inspector.end_edit.setText("nonsense")
    inspector.end_edit.editingFinished.emit()
    assert "not a timecode" in inspector.error.text()
    assert model.undo_stack.count() == 1
    model.undo_stack.undo()
    assert model.document.find(seg.id) == seg
    assert inspector.start_edit.text() == format_timecode(seg.start)


def test_inspector_class_variation_gain_mode(inspector: Inspector) -> None:
    model = inspector.model
    model.document.set_class_variations("helicopter", ["helicopter/rotor.wav"])
    seg = first_auto(model)
    inspector.set_segment(seg.id)
    inspector.class_combo.setCurrentIndex(inspector.class_combo.findData("helicopter"))
    inspector.class_combo.activated.emit(inspector.class_combo.currentIndex())
    assert model.document.find(seg.id).class_name == "helicopter"  # type: ignore[union-attr]
    assert inspector.variation.findData("helicopter/rotor.wav") > 0  # the new class's sounds
    inspector.variation.setCurrentIndex(inspector.variation.findData("helicopter/rotor.wav"))
    inspector.variation.activated.emit(inspector.variation.currentIndex())
    inspector.gain.setValue(-6.0)
    inspector.mode.setCurrentIndex(inspector.mode.findData("one_shot"))
    inspector.mode.activated.emit(inspector.mode.currentIndex())
    edited = model.document.find(seg.id)
    assert edited is not None
    assert (edited.variation, edited.gain_db, edited.mode) == ("helicopter/rotor.wav", -6.0, "one_shot")
    assert model.undo_stack.count() == 4
    for _ in range(4):
        model.undo_stack.undo()
    assert model.document.find(seg.id) == seg
    assert inspector.class_combo.currentData() == seg.class_name


def test_inspector_follows_deletion() -> None:
    doc = make_document()
    seg = Segment("fire", 1.0, 2.0, origin="manual")
    doc.replace_segments(add=[seg])
    model = DocumentModel(doc)
    inspector = Inspector(model)
    inspector.set_segment(seg.id)
    assert inspector.start_edit.isEnabled()
    doc.replace_segments(remove=[seg.id])
    assert not inspector.start_edit.isEnabled() and inspector.origin.text() == "No effect selected"


class _Library:
    """Three 1 s water drops and one 0.5 s fire crackle (silence: only the lengths matter)."""

    files: ClassVar[dict[str, list[str]]] = {
        "water_drop": ["water_drop/a.wav", "water_drop/b.wav", "water_drop/c.wav"],
        "fire": ["fire/crackle.wav"]}

    def variations(self, cls: str) -> list[str]:
        return list(self.files.get(cls, []))

    def samples(self, path: str) -> np.ndarray:
        return np.zeros((24_000 if path.startswith("fire") else 48_000, 2), np.float32)


def test_inspector_shows_the_recorded_file_and_rerolls_it_undoably(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = make_document()
    left = Segment("water_drop", 1.0, 4.0, origin="manual", variation="water_drop/a.wav")
    seg = Segment("water_drop", 5.0, 8.0, origin="manual", variation="water_drop/b.wav")
    right = Segment("water_drop", 9.0, 12.0, origin="manual", variation="water_drop/c.wav")
    doc.replace_segments(add=[left, seg, right])
    model = DocumentModel(doc)
    inspector = Inspector(model, library_provider=_Library)
    qtbot.addWidget(inspector)
    inspector.set_segment(seg.id)
    assert inspector.variation.currentData() == "water_drop/b.wav"
    assert inspector.variation.currentText() == "b.wav"
    steps = model.undo_stack.count()
    for _ in range(4):
        before = model.document.find(seg.id).variation  # type: ignore[union-attr]
        inspector.reroll.click()
        now = model.document.find(seg.id).variation  # type: ignore[union-attr]
        assert now != before and now in _Library.files["water_drop"]
        assert inspector.variation.currentData() == now
    assert model.undo_stack.count() == steps + 4  # one undo step per click
    # the neighbours keep their files whatever the re-roll picks
    assert model.document.find(left.id).variation == "water_drop/a.wav"  # type: ignore[union-attr]
    assert model.document.find(right.id).variation == "water_drop/c.wav"  # type: ignore[union-attr]
    for _ in range(4):
        model.undo_stack.undo()
    assert model.document.find(seg.id).variation == "water_drop/b.wav"  # type: ignore[union-attr]


def test_inspector_reroll_says_when_no_other_file_fits(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = make_document()
    seg = Segment("fire", 1.0, 4.0, origin="manual", variation="fire/crackle.wav")
    doc.replace_segments(add=[seg])
    model = DocumentModel(doc)
    inspector = Inspector(model, library_provider=_Library)
    qtbot.addWidget(inspector)
    inspector.set_segment(seg.id)
    steps = model.undo_stack.count()
    inspector.reroll.click()
    assert "No other sound of Fire" in inspector.error.text()
    assert model.undo_stack.count() == steps


def test_auto_pan_switch_per_class_is_undoable(panel: ClassPanel) -> None:
    model, doc = panel.model, panel.model.document
    assert panel.auto_pan.isChecked()  # on by default
    panel.auto_pan.setChecked(False)
    assert doc.project.class_attributes["river"].auto_pan is False
    assert model.undo_stack.undoText() == "Set river auto pan"
    model.undo_stack.undo()
    assert "river" not in doc.project.class_attributes and panel.auto_pan.isChecked()


def test_class_threshold_in_layered_mode(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.gui.test_params_bar import overlap_model

    model = overlap_model()  # fire 0.46 and cars 0.44 from 10 to 20 s, threshold 0.4
    widget = ClassPanel(model, lambda: FakeLibrary(tmp_path))
    qtbot.addWidget(widget)
    widget.select_class("cars")
    assert not widget.own_threshold.isEnabled()  # single mode: one threshold for all
    model.push(SetParams(mode="layered"))
    assert widget.own_threshold.isEnabled() and not widget.class_threshold.isEnabled()
    assert widget.class_threshold.value() == 0.4  # shows the global threshold it follows
    classes = lambda: sorted({s.class_name for s in model.document.segments if s.origin == "auto"})
    assert classes() == ["cars", "fire"]
    steps = model.undo_stack.count()
    widget.own_threshold.setChecked(True)
    assert model.document.params.class_thresholds == {"cars": 0.4} and widget.class_threshold.isEnabled()
    widget.class_threshold.setValue(0.45)  # above cars' 0.44: cars goes, fire stays
    assert model.document.params.class_thresholds == {"cars": 0.45}
    assert classes() == ["fire"]
    assert model.undo_stack.count() == steps + 2
    widget.own_threshold.setChecked(False)
    assert model.document.params.class_thresholds == {} and classes() == ["cars", "fire"]
    model.undo_stack.undo()
    assert model.document.params.class_thresholds == {"cars": 0.45} and widget.class_threshold.value() == 0.45
