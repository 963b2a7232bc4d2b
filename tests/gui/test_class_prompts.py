"""Class panel, open vocabulary: a zero-shot model's class descriptions are edited, and a class
is added by typing its name; both are undoable and re-score the analysis from its cached
embeddings (tiny random-weights SigLIP preset, no video decoding, no network)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("keras_hub")
pytest.importorskip("tensorflow_text")

from sfxstudio.core.classes import OTHERWISE, SoundAttributes
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.gui.class_panel import ClassPanel, class_name_from_text
from sfxstudio.gui.document_model import DocumentModel, make_document
from sfxstudio.ml import zeroshot
from sfxstudio.ml.bundle import ModelBundle, read_bundle_json
from tests.gui.test_panels import FakeLibrary
from tests.ml.test_zeroshot import CLASSES, SIZE, build_tiny_preset, no_network  # noqa: F401


class OpenLibrary(FakeLibrary):
    """The test library, also for classes classes.json does not know (as the real one)."""

    def attributes(self, name: str) -> SoundAttributes:
        return super().attributes(name) if name in CLASSES else SoundAttributes()


@pytest.fixture(scope="module")
def zs_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("zs_gui")
    preset = build_tiny_preset(root / "siglip_tiny", "siglip")
    return zeroshot.create_zeroshot_bundle(root / "zs", preset, classes=CLASSES)


@pytest.fixture
def setup(qtbot: Any, zs_template: Path, tmp_path: Path) -> tuple[ClassPanel, Any]:
    folder = tmp_path / "zs"
    shutil.copytree(zs_template, folder)
    bundle = ModelBundle.load(folder, runtime="tf")
    frames = np.random.default_rng(0).integers(0, 256, (20, SIZE, SIZE, 3), dtype=np.uint8)
    probs, emb = bundle.predict(frames)
    cache = AnalysisCache(times=np.arange(20) / 5.0, probs=probs, embeddings=emb.astype(np.float16),
                          class_names=list(bundle.class_names), frame_duration=0.2, duration=4.0,
                          model=str(folder))
    doc = make_document(Project(params=AnalysisParams(model=str(folder))))
    doc.set_analysis(cache)
    doc.mark_saved()
    model = DocumentModel(doc)
    panel = ClassPanel(model, lambda: OpenLibrary(tmp_path), zeroshot_provider=lambda: bundle)
    panel.play_sounds = False
    qtbot.addWidget(panel)
    panel.show()
    panel.select_class("fire")
    return panel, bundle


def test_panel_shows_the_models_descriptions(setup: tuple[ClassPanel, Any]) -> None:
    panel, bundle = setup
    assert panel.prompts.toPlainText().splitlines() == bundle.prompts["fire"]
    assert not panel.prompts.isReadOnly() and panel.add_class_btn.isEnabled()


def test_editing_descriptions_rescores_and_undoes(setup: tuple[ClassPanel, Any]) -> None:
    panel, bundle = setup
    model = panel.model
    before = model.document.analysis.probs.copy()
    old_prompts = bundle.prompts["fire"]
    panel.prompts.setPlainText("a volcano erupting\n\n  lava   flowing ")
    panel.apply_prompts_btn.click()
    assert bundle.prompts["fire"] == ["a volcano erupting", "lava flowing"]
    assert read_bundle_json(bundle.path)["prompts"]["fire"] == ["a volcano erupting", "lava flowing"]
    after = model.document.analysis.probs
    assert after.shape == before.shape and not np.allclose(after, before)
    assert model.undo_stack.undoText() == "Describe fire"
    model.undo_stack.undo()
    assert bundle.prompts["fire"] == old_prompts
    assert read_bundle_json(bundle.path)["prompts"]["fire"] == old_prompts
    np.testing.assert_allclose(model.document.analysis.probs, before)
    model.undo_stack.redo()
    assert bundle.prompts["fire"] == ["a volcano erupting", "lava flowing"]


def test_empty_descriptions_are_refused(setup: tuple[ClassPanel, Any], qtbot: Any) -> None:
    panel, bundle = setup
    with qtbot.waitSignal(panel.model.editRefused) as refused:
        assert not panel.set_prompts("fire", ["   "])
    assert "description" in refused.args[0]
    assert bundle.prompts["fire"] and panel.model.undo_stack.count() == 0


def test_add_a_class_by_typing_its_name_then_give_it_sounds(setup: tuple[ClassPanel, Any]) -> None:
    panel, bundle = setup
    model = panel.model
    panel.new_class.setText("Door bell")
    panel.add_class_btn.click()
    assert bundle.class_names == ["dog_barking", "fire", "wave", "door_bell", OTHERWISE]
    assert bundle.prompts["door_bell"] == ["a door bell", "a photo of a door bell"]
    cache = model.document.analysis
    assert cache.class_names == bundle.class_names and cache.probs.shape == (20, 5)
    assert "door_bell" in model.document.classes
    assert panel.current_class() == "door_bell" and panel.new_class.text() == ""
    assert panel.prompts.toPlainText().splitlines() == ["a door bell", "a photo of a door bell"]
    panel.set_variations(["door_bell/ding.wav"], "Add sound")  # pointing at sounds
    assert model.document.class_variations("door_bell") == ["door_bell/ding.wav"]
    model.undo_stack.undo()  # the sound
    model.undo_stack.undo()  # the class
    assert bundle.class_names == CLASSES and "door_bell" not in read_bundle_json(bundle.path)["classes"]
    assert model.document.analysis.class_names == CLASSES


def test_adding_an_existing_or_unusable_class_is_refused(setup: tuple[ClassPanel, Any], qtbot: Any) -> None:
    panel, bundle = setup
    with qtbot.waitSignal(panel.model.editRefused):
        assert panel.add_class("fire") is None
    with qtbot.waitSignal(panel.model.editRefused):
        assert panel.add_class("  ") is None
    assert bundle.class_names == CLASSES


def test_class_names_from_typed_text() -> None:
    assert class_name_from_text("  Door   Bell ") == "door_bell"
    assert class_name_from_text("car-horn") == "car_horn"
    with pytest.raises(ValueError):
        class_name_from_text("a/b")


def test_without_a_zero_shot_model_descriptions_are_read_only(qtbot: Any, tmp_path: Path) -> None:
    from tests.gui.test_lanes import make_model

    panel = ClassPanel(make_model(50), lambda: FakeLibrary(tmp_path))
    qtbot.addWidget(panel)
    panel.select_class("fire")
    assert panel.prompts.isReadOnly() and not panel.add_class_btn.isEnabled()
    assert "a fire burning" in panel.prompts.toPlainText()
