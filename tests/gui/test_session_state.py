"""Problem 10 of issue 15: the undo history, playhead, zoom, panel sizes and in/out points are
kept with the project and come back on open; problem 5: the side panel's width across runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from sfxstudio.core.commands import AddMarker, AddSegment, SetParams, SetSegmentProperties
from sfxstudio.core.project import AnalysisCache, Project
from sfxstudio.core.project_io import save_project
from sfxstudio.core.segments import Segment


def _project_file(tmp_path: Path, video: Path) -> Path:
    n = 30
    probs = np.full((n, 2), 0.1, np.float32)
    probs[:10, 0] = 0.9
    cache = AnalysisCache(times=np.arange(n) / 10.0, probs=probs, embeddings=np.zeros((n, 0), np.float32),
                          class_names=["fire", "otherwise"], frame_duration=0.1, duration=3.0)
    path = tmp_path / "work.sfxproj"
    save_project(Project(video=str(video), analysis=cache), path)
    return path


def _editor_state(w: Any) -> list[tuple[Any, ...]]:
    return sorted((s.class_name, s.start, s.end, s.origin) for s in w.model.document.edited_segments())


@pytest.fixture
def project_file(tmp_path: Path, color_video: Path) -> Path:
    return _project_file(tmp_path, color_video)


def test_undo_history_and_view_come_back_after_reopening(qtbot: Any, make_window: Any,
                                                         project_file: Path) -> None:
    w = make_window()
    w.resize(1280, 800)
    w.show()
    assert w.open_project(project_file)
    m = w.model
    before = _editor_state(w)
    assert m.push(AddSegment(Segment("dog_barking", 1.2, 1.6)))
    assert m.push(SetParams(threshold=0.7))
    assert m.push(AddMarker(2.0, "door"))
    after = _editor_state(w)
    assert m.push(AddSegment(Segment("typing", 0.2, 0.5)))
    w.act.undo.trigger()  # the typing effect is in the redo part
    w.timeline.view_box().setXRange(0.5, 1.5, padding=0.0)
    w.video.seek(1.3)
    w.top_split.setSizes([700, 500])
    w.markers.set_in_out(0.4, 2.2)
    assert w.save_to(project_file)
    session = json.loads(project_file.read_text())["session"]
    assert session["history"]["index"] == 3 and len(session["history"]["commands"]) == 4

    w2 = make_window()
    w2.resize(1280, 800)
    w2.show()
    assert w2.open_project(project_file)
    m2 = w2.model
    assert _editor_state(w2) == after
    assert m2.undo_stack.count() == 4 and m2.undo_stack.index() == 3
    assert not w2.isWindowModified()
    assert w2.act.undo.text() == w.act.undo.text() == "&Undo Add Marker"
    (x0, x1), _ = w2.timeline.view_box().viewRange()
    assert (x0, x1) == pytest.approx((0.5, 1.5), abs=1e-6)
    assert w2.video.position() == pytest.approx(1.3, abs=0.06)
    assert (w2.markers.in_point, w2.markers.out_point) == (pytest.approx(0.4), pytest.approx(2.2))
    a, b = w2.top_split.sizes()
    assert a / (a + b) == pytest.approx(700 / 1200, abs=0.02)
    # Undo after reopening undoes exactly the last edits; redo brings back the undone one.
    w2.act.undo.trigger()
    assert [mk.time for mk in w2.project.markers] == []
    w2.act.undo.trigger()
    assert w2.project.params.threshold == 0.5
    w2.act.undo.trigger()
    assert _editor_state(w2) == before
    for _ in range(4):
        w2.act.redo.trigger()
    assert ("typing", 0.2, 0.5, "manual") in _editor_state(w2)
    assert w2.project.params.threshold == 0.7


def test_a_broken_session_opens_the_project_with_a_warning(qtbot: Any, make_window: Any,
                                                           project_file: Path) -> None:
    data = json.loads(project_file.read_text())
    data["session"] = {"version": 1, "playhead": float("nan"), "view": [2.0, 1.0], "in": 2.0, "out": 1.0,
                       "panels": {"main": "wide"},
                       "history": {"version": 1, "checksum": "0" * 64, "index": 0, "current": [],
                                   "commands": []}}
    project_file.write_text(json.dumps(data))
    w = make_window()
    warnings: list[str] = []
    w._warnings.warned.connect(warnings.append)
    assert w.open_project(project_file)
    assert w.model.document.analysis is not None
    text = " ".join(warnings)
    for part in ("undo history", "panel sizes", "zoom", "in/out points", "playhead"):
        assert f"session: {part} ignored" in text
    assert w.model.undo_stack.count() == 0
    assert w.markers.in_point is None


def test_markers_and_in_out_feed_the_lanes_snap_targets(qtbot: Any, make_window: Any,
                                                        project_file: Path) -> None:
    w = make_window()
    assert w.open_project(project_file)
    fed: list[list[float]] = []
    w.lanes.set_snap_targets = fed.append  # what the window hands the lanes
    w.model.push(AddMarker(1.5))
    w.markers.set_in_out(0.5, None)
    assert fed and fed[-1] == [0.5, 1.5]


def test_panel_widths_are_remembered_across_runs(make_window: Any) -> None:
    w = make_window()
    w.resize(1440, 900)
    w.show()
    w.top_split.setSizes([900, 540])
    w.bottom_split.setSizes([300, w.waveform.height(), 180])
    w.side_tabs.setCurrentIndex(1)
    wanted_top, wanted_bottom = w.top_split.sizes(), w.bottom_split.sizes()
    w.shutdown()
    w2 = make_window()
    w2.resize(1440, 900)
    w2.show()
    assert w2.top_split.sizes() == pytest.approx(wanted_top, abs=4)
    assert w2.bottom_split.sizes() == pytest.approx(wanted_bottom, abs=4)
    assert w2.side_tabs.currentIndex() == 1


@pytest.mark.parametrize("saved", ["none", "two panes", "collapsed lanes"])
def test_the_lanes_are_visible_at_the_default_size(make_window: Any, gui_settings: Any, saved: str) -> None:
    """At 1440x900 the effect lanes get real height: with no saved layout (the timeline, the
    waveform strip and the lanes once got [263, 56, 0]), with a layout saved before the strip
    existed, and with one that had the lanes dragged shut."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QSplitter

    if saved != "none":
        old = QSplitter(Qt.Orientation.Vertical)
        for _ in range(2 if saved == "two panes" else 3):
            old.addWidget(QLabel("x"))
        old.resize(300, 480)
        old.setSizes([480, 0] if saved == "two panes" else [400, 56, 0])
        gui_settings.set("window/bottom_splitter", old.saveState())
    w = make_window()
    w.resize(1440, 900)
    w.show()
    sizes = w.bottom_split.sizes()
    assert len(sizes) == 3 and sizes[2] >= 100, sizes
    assert w.lanes.height() >= 100


def test_selecting_an_effect_shows_its_sound_and_its_class(make_window: Any, project_file: Path) -> None:
    """The inspector lists the class's sounds from the project's library (its own file is one
    of them, not '(not in the list)'), and the Classes tab follows the selected effect."""
    w = make_window()
    assert w.open_project(project_file)
    seg = Segment("fire", 0.2, 0.8)
    assert w.model.push(AddSegment(seg))
    w.model.push(SetSegmentProperties(seg.id, variation=w.sounds.library().variations(seg.class_name)[0]))
    w.lanes.select(seg.id)
    combo = w.inspector.variation
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert len(texts) > 2 and not any("not in the list" in t for t in texts), texts
    assert combo.currentData() == w.model.document.find(seg.id).variation
    current = w.class_panel.class_list.currentItem()
    assert current is not None and current.data(Qt.ItemDataRole.UserRole) == seg.class_name
