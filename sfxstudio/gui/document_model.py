"""Qt face of the Qt-free `core.document.Document`: signals and the undo stack.

Every edit goes through `push(command)`, which wraps the core command in a QUndoCommand so
Edit > Undo/Redo, the undo history and the clean state work the Qt way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from sfxstudio.core.commands import Command, SetMixLevels, SetParams
from sfxstudio.core.document import Document
from sfxstudio.core.project import Project
from sfxstudio.pipeline.document import make_document as pipeline_document

# QUndoStack merges only commands of one id: slider drags of parameters, of mix levels.
_MERGE_IDS: dict[type[Command], int] = {SetParams: 1001, SetMixLevels: 1002}


def make_document(project: Project | None = None, path: Path | None = None) -> Document:
    """The pipeline's Document: the analysis layer's segmentation and a sound assigner, so every
    effect records the file it plays (the command line's documents are made the same way)."""
    return pipeline_document(project, path)


class _UndoAdapter(QUndoCommand):
    def __init__(self, model: DocumentModel, command: Command) -> None:
        super().__init__(command.name)
        self.model = model
        self.command = command
        self._pending_first = True
        self._skip_undo = False  # a restored command that is already undone (see restore_history)

    def redo(self) -> None:
        # push() already ran the first do (outside Qt, so its errors reach Python); Qt calls
        # redo() on push as well, which must not apply it twice.
        if self._pending_first:
            self._pending_first = False
            return
        self.command.do(self.model.document)

    def undo(self) -> None:
        if self._skip_undo:
            self._skip_undo = False
            return
        self.command.undo(self.model.document)

    def id(self) -> int:
        return _MERGE_IDS.get(type(self.command), -1)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _UndoAdapter) or not self.command.merge_with(other.command):
            return False
        self.setText(self.command.name)
        return True


class DocumentModel(QObject):
    segmentsChanged = Signal()
    paramsChanged = Signal()
    analysisChanged = Signal()
    classesChanged = Signal()
    projectChanged = Signal()
    # Markers added, moved or removed (core.commands.AddMarker...); the payload is the sorted
    # list of core.project.Marker. A new document emits projectChanged instead.
    markersChanged = Signal(list)
    # The mix levels (project.mix) changed: core.commands.SetMixLevels, its undo, a new document.
    mixChanged = Signal()
    dirtyChanged = Signal(bool)
    # Emitted after a failed push (e.g. a split outside the effect): message for a status bar.
    editRefused = Signal(str)

    def __init__(self, document: Document | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._document = document if document is not None else make_document()
        self._document.add_listener(self._on_event)
        # Undoing back to the saved state makes the document clean again.
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    @property
    def document(self) -> Document:
        return self._document

    def set_document(self, document: Document) -> None:
        self._document.remove_listener(self._on_event)
        self._document = document
        document.add_listener(self._on_event)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.projectChanged.emit()
        self.analysisChanged.emit()
        self.classesChanged.emit()
        self.paramsChanged.emit()
        self.segmentsChanged.emit()
        self.markersChanged.emit(list(document.project.markers))
        self.mixChanged.emit()
        self.dirtyChanged.emit(document.dirty)

    def push(self, command: Command) -> bool:
        """Run a command as one undo step. A command that refuses (ValueError/KeyError: the
        edit makes no sense, e.g. an effect ending before it starts) changes nothing and
        emits editRefused; returns False then."""
        try:
            command.do(self._document)
        except (ValueError, KeyError) as exc:
            self.editRefused.emit(str(exc).strip("'\""))
            return False
        self.undo_stack.push(_UndoAdapter(self, command))
        return True

    def history(self) -> tuple[list[Command], int]:
        """The undo stack's commands (oldest first) and its index (how many are done)."""
        stack = self.undo_stack
        adapters = [stack.command(i) for i in range(stack.count())]
        return [a.command for a in adapters if isinstance(a, _UndoAdapter)], stack.index()

    def restore_history(self, commands: list[Command], index: int) -> None:
        """Rebuild the undo stack for the document as it is: commands[:index] are already done
        in it, the rest are undone (Redo replays them). Nothing runs now; the document stays as
        loaded and clean."""
        stack = self.undo_stack
        stack.clear()
        for i, command in enumerate(commands):
            adapter = _UndoAdapter(self, command)
            adapter._skip_undo = i >= index  # setIndex below "undoes" them: they already are
            stack.push(adapter)
        stack.setIndex(index)
        stack.setClean()
        self._document.set_dirty(False)

    def mark_saved(self, path: Path | None = None) -> None:
        self.undo_stack.setClean()
        self._document.mark_saved(path)

    def _on_clean_changed(self, clean: bool) -> None:
        self._document.set_dirty(not clean)

    def _on_event(self, event: str, payload: object) -> None:
        signal = {
            "segments": self.segmentsChanged,
            "params": self.paramsChanged,
            "analysis": self.analysisChanged,
            "classes": self.classesChanged,
            "project": self.projectChanged,
            "mix": self.mixChanged,
        }.get(event)
        if signal is not None:
            signal.emit()
        elif event == "markers":
            self.markersChanged.emit(list(payload) if isinstance(payload, list) else [])
        elif event == "dirty":
            self.dirtyChanged.emit(bool(payload))
