"""Errors the user sees. Every message names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class SfxError(Exception):
    """An error with a message meant for an editor, not a developer."""


class BadInputError(SfxError):
    """A file the user gave us cannot be used (corrupt, unsupported, wrong kind)."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class ExportError(SfxError):
    """Writing an output failed; earlier outputs are untouched."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class Cancelled(SfxError):
    """The user cancelled a running job."""
