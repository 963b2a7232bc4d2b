"""The Classes panel at the default 1440x900 window shows whole class names and button texts,
and always shows a class of its own list (issue 15, problem 5)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QPushButton

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.gui.class_panel import ClassPanel
from sfxstudio.gui.colors import display_name
from tests.core.test_document import synthetic_cache
from tests.gui.test_lanes import make_model

# A list row draws its check box, colour swatch and margins before the name.
ROW_DECORATION = 44
BUTTON_PADDING = 8


def _cut_texts(panel: ClassPanel) -> list[str]:
    """The class names and button texts that do not fit their widget at its current size."""
    cut = []
    lst = panel.class_list
    width = lst.viewport().width()
    for i in range(lst.count()):
        item = lst.item(i)
        if lst.fontMetrics().horizontalAdvance(item.text()) + ROW_DECORATION > width:
            cut.append(item.text())
    buttons: list[Any] = [*panel.findChildren(QPushButton), *panel.findChildren(QCheckBox)]
    for b in buttons:
        if b.text() and b.fontMetrics().horizontalAdvance(b.text()) + BUTTON_PADDING > b.width():
            cut.append(b.text())
    return cut


def test_names_and_buttons_fit_at_the_default_window_size(make_window: Any, qtbot: Any) -> None:
    w = make_window()  # no saved geometry: the default 1440x900
    w.show()
    qtbot.waitUntil(lambda: w.class_panel is not None)
    panel = w.class_panel
    w.side_tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.isVisible())
    assert (w.width(), w.height()) == (1440, 900)
    assert panel.class_list.count() >= 10 and "Glass breaking" in [
        panel.class_list.item(i).text() for i in range(panel.class_list.count())]
    assert _cut_texts(panel) == []
    assert panel.detail_scroll.horizontalScrollBar().maximum() == 0  # nothing hidden sideways


def test_the_panel_shows_a_class_of_its_list_after_the_classes_change(qtbot: Any) -> None:
    model = make_model(250)
    panel = ClassPanel(model, lambda: None)
    qtbot.addWidget(panel)
    panel.show()
    panel.select_class("river")
    assert panel.current_class() == "river"
    with qtbot.waitSignal(panel.classSelected) as picked:
        model.document.set_analysis(synthetic_cache(100, classes=["fire", "dog_barking", OTHERWISE]))
    names = [panel.class_list.item(i).data(256) for i in range(panel.class_list.count())]
    assert "river" not in names and panel.current_class() == names[0] == picked.args[0]
    assert panel.class_list.currentItem().data(256) == names[0]
    assert panel.title.text() == display_name(names[0])
    panel.select_class("dog_barking")
    model.document.set_analysis(synthetic_cache(100, classes=["dog_barking", "fire", OTHERWISE]))
    assert panel.current_class() == "dog_barking"  # kept while the list still has it


def test_opening_a_project_of_other_classes_shows_one_of_its_classes(make_window: Any, tmp_path: Any,
                                                                     color_video: Any) -> None:
    """The editor's trial: the window starts on the first of all classes (Train passing); the
    opened project's model knows other classes, and the Classes tab kept showing Train passing,
    a class its list no longer had."""
    from tests.gui.test_session_state import _project_file

    w = make_window()
    w.resize(1440, 900)
    w.show()
    panel = w.class_panel
    shown = panel.current_class()
    assert w.open_project(_project_file(tmp_path, color_video))
    names = [panel.class_list.item(i).data(256) for i in range(panel.class_list.count())]
    assert shown not in names  # the scenario: the class shown before is not in the new list
    assert panel.current_class() in names
    assert panel.title.text() == display_name(panel.current_class())
