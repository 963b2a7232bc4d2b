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


# -- warnings ------------------------------------------------------------------------------
# Problems that do not stop the job (an empty library, an unusable sound, a segment of an
# unknown class) are reported as one line naming the file. With strict mode on (the CLI's
# --strict), the first warning becomes a BadInputError instead.

_warning_sinks: list[list[str]] = []
_strict: list[bool] = [False]


def set_strict(strict: bool) -> None:
    _strict[0] = bool(strict)


def warn(path: str | Path | None, problem: str) -> str:
    """Report a problem that does not stop the job; in strict mode, raise it instead.

    Returns the one-line message. It goes to the `sfxstudio.warnings` logger and to every
    collector opened with `collect_warnings()`.
    """
    import logging

    line = f"{path}: {problem}" if path is not None else problem
    if _strict[0]:
        raise BadInputError(path, problem + " (--strict)")
    logging.getLogger("sfxstudio.warnings").warning("%s", line)
    for sink in _warning_sinks:
        if line not in sink:
            sink.append(line)
    return line


class collect_warnings:
    """`with collect_warnings() as lines:` gathers the warning lines raised inside the block."""

    def __enter__(self) -> list[str]:
        self._lines: list[str] = []
        _warning_sinks.append(self._lines)
        return self._lines

    def __exit__(self, *exc: object) -> None:
        _warning_sinks.remove(self._lines)
