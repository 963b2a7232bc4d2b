"""The class panel's search over the library index: finds sounds, auditions them the way the
panel auditions its own, and gives one to the selected class as an undoable edit (issue 14,
point 5)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sfxstudio.gui.class_panel import ClassPanel
from sfxstudio.gui.sound_search import RESULT_LIMIT
from sfxstudio.media.library_index import DEFAULT_INDEX_NAME, IndexEntry, LibraryIndex, write_index
from tests.gui.test_lanes import make_model
from tests.gui.test_panels import FakeLibrary, make_panel

CLASSES = ["fire", "river", "dog_barking", "cars", None]


def _index(root: Path, n: int = 10_000) -> LibraryIndex:
    entries = []
    for i in range(n):
        cls = CLASSES[i % len(CLASSES)]
        name = f"{(cls or 'misc').upper()[:4]}_Take{i:05d}.wav"
        entries.append(IndexEntry(f"pro/{cls or 'misc'}/{name}", 100, 0, cls, 0.9 if cls else 0.0,
                                  "UCS CatID" if cls else "no rule"))
    return LibraryIndex(root, entries)


@pytest.fixture
def panel(qtbot: Any, tmp_path: Path) -> ClassPanel:
    write_index(_index(tmp_path), tmp_path / DEFAULT_INDEX_NAME)  # the library folder's own index
    return make_panel(qtbot, tmp_path)


def test_search_finds_by_words_and_shows_file_class_confidence(panel: ClassPanel) -> None:
    search = panel.search
    found = search.run_search("DOG take0000")  # case-insensitive, every word must match
    assert [e.file for e in found] == ["pro/dog_barking/DOG__Take00002.wav",
                                       "pro/dog_barking/DOG__Take00007.wav"]
    model = search.results_model
    assert model.rowCount() == 2
    row = [model.data(model.index(0, c)) for c in range(3)]
    assert row == ["pro/dog_barking/DOG__Take00002.wav", "Dog barking", "0.90"]
    assert "2 found" in search.status.text()
    assert len(search.run_search("take")) == RESULT_LIMIT  # a broad query shows the first ones
    assert search.run_search("nothing-like-this") == [] and "Nothing matches" in search.status.text()
    assert search.run_search("misc")[0].class_name is None
    assert model.data(model.index(0, 1)) == "(unassigned)"


def test_search_over_ten_thousand_entries_is_instant(panel: ClassPanel) -> None:
    search = panel.search
    search.run_search("fire")  # the first search reads the index and lowers its text once
    t0 = time.perf_counter()
    for query in ("r", "ri", "riv", "rive", "river", "river take099"):
        search.box.setText(query)  # every keystroke searches
    per_key = (time.perf_counter() - t0) / 6
    assert len(search.index.entries) == 10_000 and search.results_model.rowCount() == 20
    assert per_key < 0.25, per_key  # generous for loaded test machines; typically ~10 ms


def test_play_auditions_through_the_panel_and_use_adds_an_undoable_sound(panel: ClassPanel, qtbot: Any,
                                                                          tmp_path: Path) -> None:
    model, doc = panel.model, panel.model.document
    panel.search.box.setText("CARS_Take00003")
    with qtbot.waitSignal(panel.auditionRequested) as played:
        panel.search.play_btn.click()
    assert played.args == [str(tmp_path / "pro/cars/CARS_Take00003.wav")]
    panel.search.use_btn.click()
    assert doc.class_variations("river") == ["river/a.wav", "river/b.wav", "pro/cars/CARS_Take00003.wav"]
    assert model.undo_stack.count() == 1 and model.undo_stack.text(0) == "Add sound (river)"
    panel.search.box.setText("FIRE_Take00000")
    panel.search.table.doubleClicked.emit(panel.search.results_model.index(0, 0))  # double-click assigns too
    assert doc.class_variations("river")[-1] == "pro/fire/FIRE_Take00000.wav"
    model.undo_stack.undo()
    model.undo_stack.undo()
    assert doc.class_variations("river") is None


def test_without_an_index_the_panel_says_how_to_make_one(qtbot: Any, tmp_path: Path) -> None:
    widget = ClassPanel(make_model(250), lambda: FakeLibrary(tmp_path))
    qtbot.addWidget(widget)
    assert widget.search.run_search("dog") == []
    assert "sfxstudio library import" in widget.search.status.text()
    (tmp_path / "bad.json").write_text("{}")
    assert not widget.search.load(tmp_path / "bad.json")
    assert "bad.json" in widget.search.status.text()
