"""The output guard: no output of a command may destroy one of its inputs or another output.

Every command that writes files calls `check_outputs` before it starts any work, with the
paths it will write and the files it reads. Paths are compared after resolving links and
`..` (two names for one file are the same file), and an existing output must be a plain
file: writing "over" a folder, a FIFO or a device is refused. A refusal is one line naming
the file and the reason, raised as BadInputError (exit status 2 on the command line).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sfxstudio.core.errors import BadInputError
from sfxstudio.core.inputs import file_kind

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Protected:
    """A file (or, with is_folder, everything inside a folder) that outputs must not replace."""

    label: str  # "the input video", "the project", "the sound library" ...
    path: Path
    is_folder: bool = False


def _real(path: PathLike) -> Path:
    """The path with links and `..` resolved, also when the file does not exist yet."""
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts, case-insensitive file systems
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def protect(label: str, path: PathLike | None, is_folder: bool = False) -> list[Protected]:
    """A one-element list for `path`, or [] when there is none (convenient with `*`)."""
    return [] if path is None or os.fspath(path) == "" else [Protected(label, _real(path), is_folder)]


def check_outputs(
    outputs: Mapping[str, PathLike | None],
    protected: Iterable[Protected],
    folders: Iterable[str] = (),
) -> None:
    """Refuse, before any work, outputs that would replace an input or each other.

    outputs: option name (e.g. "--wav") -> path; None entries are ignored.
    folders: option names whose path is a folder the command fills (e.g. "--stems"); they
    may exist as folders, must not be an input, and must not hold an input inside.
    """
    folder_opts = set(folders)
    guarded = list(protected)
    seen: list[tuple[str, Path]] = []
    for option, raw in outputs.items():
        if raw is None:
            continue
        given = os.fspath(raw)
        if not given.strip():
            raise BadInputError(None, f"{option}: the output file name is empty")
        real = _real(given)
        is_folder_output = option in folder_opts
        try:
            st = os.stat(real)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise BadInputError(given, f"{option}: cannot be checked ({exc.strerror or exc})") from None
        if st is not None and not is_folder_output:
            kind = file_kind(st.st_mode)
            if kind is not None:
                raise BadInputError(given, f"{option}: is {kind}, not a file; choose a file name")
        if st is not None and is_folder_output and not stat.S_ISDIR(st.st_mode):
            raise BadInputError(given, f"{option}: exists and is not a folder")
        for item in guarded:
            hit = (_inside(real, item.path) if item.is_folder
                   else _same_file(real, item.path))
            if not hit and is_folder_output and not item.is_folder:
                # A folder output writes <name>.wav files straight inside it.
                hit = item.path.parent == real and item.path.suffix.lower() == ".wav"
            if hit:
                where = "is inside" if item.is_folder else "is"
                raise BadInputError(given, f"{option}: {where} {item.label}; writing it would destroy "
                                           "that input, choose another path")
        for other_opt, other in seen:
            if _same_file(real, other) or (is_folder_output and _inside(other, real)) \
                    or (other_opt in folder_opts and _inside(real, other)):
                raise BadInputError(given, f"{option}: is also the output of {other_opt}; "
                                           "each output needs its own path")
        parent = real if (is_folder_output and st is not None) else real.parent
        while not parent.exists() and is_folder_output and parent != parent.parent:
            parent = parent.parent  # a stems folder may be created, with its parents
        if not parent.is_dir():
            raise BadInputError(given, f"{option}: the folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise BadInputError(given, f"{option}: the folder {parent} is not writable")
        seen.append((option, real))
