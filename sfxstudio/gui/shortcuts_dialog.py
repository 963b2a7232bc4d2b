"""Help > Keyboard Shortcuts, and the same key map as the README's Markdown table.

Both are made from the window's menus (`key_map`), so a key added to an action in
window_actions shows up in the dialog, and `python -m sfxstudio.gui.shortcuts_dialog` prints
the README table (tests/gui/test_shortcuts_dialog.py checks that the README matches).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHeaderView,
    QLineEdit,
    QMenu,
    QMenuBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

README_BEGIN = "<!-- keys:begin (generated: python -m sfxstudio.gui.shortcuts_dialog) -->"
README_END = "<!-- keys:end -->"


@dataclass(frozen=True)
class KeyEntry:
    menu: str  # "Edit", or "Analysis > Device" for a submenu
    command: str  # the action's text without '&' and '...'
    keys: tuple[str, ...]  # portable text ("Ctrl+Shift+Z")


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("\u2026").rstrip(".")


def _entries(menu: QMenu, title: str) -> list[KeyEntry]:
    out: list[KeyEntry] = []
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            out += _entries(sub, f"{title} > {_plain(sub.title())}")
        elif not action.isSeparator() and action.shortcuts():
            keys = tuple(k.toString(QKeySequence.SequenceFormat.PortableText) for k in action.shortcuts())
            out.append(KeyEntry(title, _plain(action.text()), keys))
    return out


def key_map(bar: QMenuBar) -> list[KeyEntry]:
    """Every menu command that has a key, in menu order, each once (the first menu wins)."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out: list[KeyEntry] = []
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            for e in _entries(menu, _plain(menu.title())):
                if (e.command, e.keys) not in seen:
                    seen.add((e.command, e.keys))
                    out.append(e)
    return out


def _key_text(key: str) -> str:
    return " ".join(f"`{k}`" for k in key.split(", "))


def markdown_table(entries: list[KeyEntry]) -> str:
    """The README's key map: one row per command, grouped by menu."""
    rows = ["| Menu | Command | Keys |", "|---|---|---|"]
    for e in entries:
        keys = ", ".join(_key_text(k) for k in e.keys).replace("`,`", "`Comma`").replace("`.`", "`Period`")
        rows.append(f"| {e.menu} | {e.command} | {keys} |")
    return "\n".join(rows)


def standard_key_map() -> list[KeyEntry]:
    """The key map of a window's actions as built by window_actions (no project, no models):
    what the README documents. Needs a QApplication."""
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QMainWindow

    from sfxstudio.gui.window_actions import WindowActions

    window = QMainWindow()
    try:
        actions = WindowActions(window, QUndoStack(window), "auto")
        actions.build_menus(window.menuBar(), QMenu("Open &Recent", window))
        return key_map(window.menuBar())
    finally:
        window.deleteLater()


class ShortcutsDialog(QDialog):
    """The window's keys grouped by menu; the search field filters by command or key."""

    def __init__(self, bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(520, 640)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search commands or keys (e.g. marker, Ctrl+K)")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Command", "Keys"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.setRootIsDecorated(False)
        # menu -> (its row, its command rows): what the search filters
        self.groups: dict[str, tuple[QTreeWidgetItem, list[QTreeWidgetItem]]] = {}
        for e in key_map(bar):
            if e.menu not in self.groups:
                group = QTreeWidgetItem(self.tree, [e.menu])
                group.setFirstColumnSpanned(True)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.groups[e.menu] = (group, [])
            group, items = self.groups[e.menu]
            items.append(QTreeWidgetItem(group, [e.command, ",  ".join(e.keys)]))
        self.tree.expandAll()
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        self.search.textChanged.connect(self.filter)
        self.search.setFocus()

    def filter(self, text: str) -> None:
        """Show the commands whose name, keys or menu contain every word typed."""
        words = text.lower().split()
        for group, items in self.groups.values():
            shown = 0
            for item in items:
                hay = f"{group.text(0)} {item.text(0)} {item.text(1)}".lower()
                hide = not all(w in hay for w in words)
                item.setHidden(hide)
                shown += not hide
            group.setHidden(shown == 0)

    def visible_commands(self) -> list[str]:
        """The commands shown now (tests)."""
        return [item.text(0) for group, items in self.groups.values() if not group.isHidden()
                for item in items if not item.isHidden()]


def main() -> int:
    """Print the README's key map (between the README_BEGIN/END markers)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(markdown_table(standard_key_map()))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
