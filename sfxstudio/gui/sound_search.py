"""Search box over the editor's own sound library index (issue 14, point 5).

The index (sfxstudio.media.library_index, written by `sfxstudio library import DIR`) lists
every sound of a folder with the class it was given, how sure that is and why. Typing here
finds sounds in it (every word must appear in the file's path, class or reason); the class
panel auditions a found sound the way it auditions its own variations, and assigns it to the
selected class through its undoable "Add sound" path.

The search runs on the GUI thread: the index keeps each entry's lowercase text, so a query
over 10,000 files is a few milliseconds (`search_ms` holds the last one), less than the time
the table takes to show its rows; only the first RESULT_LIMIT matches are shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sfxstudio.core.errors import SfxError
from sfxstudio.gui import errors
from sfxstudio.gui.colors import display_name
from sfxstudio.media.library_index import DEFAULT_INDEX_NAME, IndexEntry, LibraryIndex, load_index

RESULT_LIMIT = 200
COLUMNS = ("File", "Class", "Confidence")


class ResultsModel(QAbstractTableModel):
    """The found entries as rows (a model, not items: a new result set is one reset, where
    filling a QTableWidget item by item took about a second for 200 rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[IndexEntry] = []

    def set_entries(self, entries: list[IndexEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        e = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return e.file
            if col == 1:
                return display_name(e.class_name) if e.class_name else "(unassigned)"
            return f"{e.confidence:.2f}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.file}\n{e.why}"
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


class SoundSearch(QWidget):
    """A search box, its results (file, class, confidence) and Play / Use buttons."""

    playRequested = Signal(str)  # absolute path of the sound to audition
    useRequested = Signal(str)  # absolute path of the sound to give the selected class

    def __init__(self, default_index: Callable[[], Path | None], parent: QWidget | None = None) -> None:
        """default_index: where the current sound library's index would be (its folder's
        sfxstudio-index.json); it is read the first time the editor searches."""
        super().__init__(parent)
        self.default_index = default_index
        self.index: LibraryIndex | None = None
        self.index_path: Path | None = None
        self.search_ms = 0.0
        self.results_model = ResultsModel()

        self.box = QLineEdit()
        self.box.setObjectName("soundSearch")
        self.box.setPlaceholderText("Search the sound index, e.g. dog bark")
        self.box.setClearButtonEnabled(True)
        self.box.textChanged.connect(self.run_search)
        self.table = QTableView()
        self.table.setObjectName("soundSearchResults")
        self.table.setModel(self.results_model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the full path is the tooltip
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(120)
        self.table.setMaximumHeight(170)
        self.table.doubleClicked.connect(lambda _index: self.use_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.status = QLabel()
        self.status.setObjectName("soundSearchStatus")
        self.status.setWordWrap(True)
        self.play_btn = QPushButton("Play")
        self.use_btn = QPushButton("Use for class")
        self.use_btn.setToolTip("Add the found sound to the selected class's variations (undoable)")
        self.open_btn = QPushButton("Index…")
        self.open_btn.setToolTip("Open a library index made by: sfxstudio library import FOLDER")
        self.play_btn.clicked.connect(self.play_selected)
        self.use_btn.clicked.connect(self.use_selected)
        self.open_btn.clicked.connect(self._open_dialog)

        buttons = QGridLayout()
        for col, b in enumerate((self.play_btn, self.use_btn, self.open_btn)):
            buttons.addWidget(b, 0, col)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self._update_buttons()

    # -- the index ---------------------------------------------------------------------------
    def set_index(self, index: LibraryIndex | None, path: Path | None = None) -> None:
        self.index, self.index_path = index, path
        if index is not None:
            self.status.setText(f"{len(index.entries)} sounds in {path or index.root}")
        self.run_search(self.box.text())

    def load(self, path: str | Path) -> bool:
        """Read an index file; a bad one is said in the panel, and the old index stays."""
        try:
            index = load_index(path)
        except (SfxError, OSError) as exc:
            self.status.setText(errors.user_message(exc))
            return False
        self.set_index(index, Path(path))
        return True

    def _ensure_index(self) -> bool:
        if self.index is not None:
            return True
        path = self.default_index()
        if path is None or not path.is_file():
            where = f" ({path})" if path is not None else ""
            self.status.setText(f"No sound index yet{where}: open one (Index…) or run "
                                "sfxstudio library import FOLDER")
            return False
        return self.load(path)

    def _open_dialog(self) -> None:
        start = str(self.index_path or self.default_index() or "")
        path, _ = QFileDialog.getOpenFileName(self, "Open a sound index", start,
                                              f"Sound index ({DEFAULT_INDEX_NAME} *.json)")
        if path:
            self.load(path)

    # -- searching ---------------------------------------------------------------------------
    def run_search(self, text: str) -> list[IndexEntry]:
        """Show the entries matching `text` (none for an empty box); returns them."""
        if not text.strip() or not self._ensure_index() or self.index is None:
            self._show([])
            return []
        t0 = time.perf_counter()
        found = self.index.search(text, limit=RESULT_LIMIT + 1)
        self.search_ms = (time.perf_counter() - t0) * 1000
        shown = found[:RESULT_LIMIT]
        self._show(shown)
        more = " (the first shown)" if len(found) > RESULT_LIMIT else ""
        self.status.setText(f"{len(shown)} found{more}" if shown else f"Nothing matches “{text.strip()}”")
        return shown

    def _show(self, entries: list[IndexEntry]) -> None:
        self.results_model.set_entries(entries)
        if entries:
            self.table.selectRow(0)
        self._update_buttons()

    def results(self) -> list[IndexEntry]:
        return list(self.results_model.entries)

    def selected_entry(self) -> IndexEntry | None:
        row = self.table.currentIndex().row()
        entries = self.results_model.entries
        return entries[row] if 0 <= row < len(entries) else None

    def selected_path(self) -> Path | None:
        entry = self.selected_entry()
        return self.index.path(entry) if entry is not None and self.index is not None else None

    def _update_buttons(self) -> None:
        has = self.selected_entry() is not None
        self.play_btn.setEnabled(has)
        self.use_btn.setEnabled(has)

    def play_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.playRequested.emit(str(path))

    def use_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.useRequested.emit(str(path))
