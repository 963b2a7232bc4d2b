"""Command line: `sfxstudio [gui|demo|analyze|export|batch|train|evaluate|teach|model|library] ...`.

The options are in `options.py`, the sub-commands in `commands.py`; this module runs them.

Exit status: 0 success; 2 bad input or an output that cannot be written (one line naming the
file and the problem); 130 cancelled; 1 only for a bug (one line with the log file's path,
where the traceback is). Problems that do not stop a job are warning lines; --strict makes
them errors. Every output path is checked against the inputs before any work starts.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from sfxstudio import __version__
from sfxstudio.cli.commands import COMMANDS
from sfxstudio.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_BUG,
    EXIT_CANCELLED,
    EXIT_OK,
    LOG_DIR_ENV,
    build_parser,
)
from sfxstudio.core.errors import BadInputError, Cancelled, ExportError, SfxError, set_strict


def _one_line(text: object, limit: int = 1000) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _WarningLines(logging.Handler):
    """Warnings (sfxstudio.core.errors.warn) as 'sfxstudio: warning: ...' lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"sfxstudio: warning: {_one_line(record.getMessage())}", file=sys.stderr)


def log_path() -> Path:
    """Where a bug's traceback goes: $SFXSTUDIO_DATA_DIR or the XDG data folder."""
    base = os.environ.get(LOG_DIR_ENV) or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"),
        "sfxstudio")
    return Path(base) / "sfxstudio-cli.log"


def _report_bug(exc: BaseException) -> int:
    """Log the traceback; one line on stderr with the log's path; exit status 1."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- sfxstudio {__version__}: {' '.join(sys.argv)}\n")
            fh.write("".join(traceback.format_exception(exc)))
        where = f"details in {path}"
    except OSError:
        where = "the log could not be written"
    kind = "out of memory" if isinstance(exc, MemoryError) else type(exc).__name__
    print(f"sfxstudio: internal error ({kind}: {_one_line(exc, 200)}); this is a bug, {where}",
          file=sys.stderr)
    return EXIT_BUG


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from sfxstudio.ml.platform_tuning import tune_allocator

    tune_allocator()
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["gui"])
    warnings_log = logging.getLogger("sfxstudio.warnings")
    handler = _WarningLines()
    warnings_log.addHandler(handler)
    warnings_log.propagate = False
    set_strict(getattr(args, "strict", False))
    try:
        return COMMANDS[args.command](args)
    except (SfxError, BadInputError, ExportError) as exc:
        if isinstance(exc, Cancelled):
            print("sfxstudio: cancelled", file=sys.stderr)
            return EXIT_CANCELLED
        print(f"sfxstudio: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sfxstudio: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except OSError as exc:
        if exc.filename is None:
            return _report_bug(exc)
        # The environment, not us: a file that vanished, a full disk, no permission.
        print(f"sfxstudio: error: {exc.filename}: {_one_line(exc.strerror or exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        return _report_bug(exc)
    finally:
        set_strict(False)
        warnings_log.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_BUG", "EXIT_CANCELLED", "EXIT_OK", "LOG_DIR_ENV",
           "build_parser", "log_path", "main"]
