"""Opening files we did not write: only plain files, never a FIFO, device or folder.

Opening a FIFO for reading blocks until someone writes to it, and /dev/zero never ends: a
file name pointing at either would hang the program. Every reader of a user's file checks it
here first (after following links) and gets one line naming the file when it is unusable.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sfxstudio.core.errors import BadInputError


def file_kind(mode: int) -> str | None:
    """What a file that is not a plain file is, in words ("a folder"...); None for a plain file.

    The one wording for readers (here), writers (core.atomic) and the output guard (core.outputs).
    """
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def regular_file(path: str | Path, what: str = "file") -> os.stat_result:
    """os.stat of a plain, existing file; BadInputError naming it otherwise."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInputError(path, f"{what} not found") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read the {what} ({exc.strerror or exc})") from None
    kind = file_kind(st.st_mode)
    if kind is not None:
        raise BadInputError(path, f"is {kind}, not a {what}")
    return st


def read_bytes(path: str | Path, what: str = "file", max_bytes: int | None = None) -> bytes:
    """The whole file, after regular_file(); a file larger than max_bytes is refused."""
    st = regular_file(path, what)
    if max_bytes is not None and st.st_size > max_bytes:
        raise BadInputError(path, f"is {st.st_size} bytes, too large for a {what}")
    try:
        # O_NONBLOCK: if the name was swapped for a FIFO after the check, open does not block.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise BadInputError(path, f"is not a regular file, not a {what}")
            data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    except OSError as exc:
        raise BadInputError(path, f"cannot read the {what} ({exc.strerror or exc})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise BadInputError(path, f"is larger than {max_bytes} bytes, too large for a {what}")
    return data


__all__ = ["read_bytes", "regular_file"]
