"""Help > Keyboard Shortcuts (issue 15): made from the window's actions, grouped by menu,
searchable; the README's key map is the same table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfxstudio.gui.shortcuts_dialog import (
    README_BEGIN,
    README_END,
    key_map,
    markdown_table,
    standard_key_map,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_dialog_lists_every_keyed_action_by_menu(window: Any) -> None:
    dialog = window.show_shortcuts()
    entries = key_map(window.menuBar())
    assert dialog.visible_commands() == [e.command for e in entries]
    assert {"Edit", "Mark", "Playback", "View"} <= set(dialog.groups)
    edit_rows = {i.text(0): i.text(1) for i in dialog.groups["Edit"][1]}
    assert edit_rows["Split at Playhead"] == "S,  Ctrl+K,  Ctrl+B"
    keyed = {a.text().replace("&", "").rstrip("\u2026") for a in window.act.__dict__.values()
             if hasattr(a, "shortcuts") and a.shortcuts() and a.text() not in ("&Quit",)}
    assert keyed <= {e.command for e in entries}
    dialog.close()


def test_the_search_filters_by_command_and_key(window: Any) -> None:
    dialog = window.show_shortcuts()
    dialog.search.setText("marker")
    assert dialog.visible_commands() == ["Add Marker", "Delete Marker at Playhead",
                                         "Previous Marker or Edit", "Next Marker or Edit"]
    dialog.search.setText("ctrl+k")
    assert dialog.visible_commands() == ["Split at Playhead"]
    dialog.search.setText("")
    assert len(dialog.visible_commands()) == len(key_map(window.menuBar()))
    dialog.close()


def test_the_readme_key_map_matches_the_actions(qapp: Any) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = text.index(README_BEGIN) + len(README_BEGIN), text.index(README_END)
    assert text[start:end].strip() == markdown_table(standard_key_map()), \
        "README key map is stale: run python -m sfxstudio.gui.shortcuts_dialog and paste its output"


def test_the_window_and_the_standard_key_map_agree(window: Any) -> None:
    assert key_map(window.menuBar()) == standard_key_map()
