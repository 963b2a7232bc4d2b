"""Atomic file writes: the one way every output reaches the disk.

A writer gets a temporary path beside the target; when it returns, the temporary file is
flushed to disk, given the permission bits the target should have and renamed onto the target
(os.replace, atomic on POSIX and NTFS). Whatever goes wrong (disk full, permissions, a
read-only file system, an exception in the writer) the temporary file is removed, the earlier
file at the target is left byte for byte as it was, and an OSError becomes an ExportError
naming the target.

Temporary files are named ".<name>.<pid>.<8 hex>.sfxtmp<suffix>": the real suffix stays last
because ffmpeg and libsndfile look at it, and the pid lets the next write to the same target
remove what a killed process left behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sfxstudio.core.errors import ExportError
from sfxstudio.core.inputs import file_kind

TMP_MARK = ".sfxtmp"

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux /proc)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere the only way is to set it and put it back; the lock keeps our own threads
    # from seeing the temporary 0.
    with _umask_lock:
        old = os.umask(0o022)
        os.umask(old)
    return old


def check_target(target: str | Path) -> None:
    """ExportError unless `target` could be written: its folder exists and it is a regular file
    or absent (for writers that must check before doing other work)."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(target, f"folder {folder} does not exist")
    problem = _kind_problem(target)
    if problem is not None:
        raise ExportError(target, problem)


def _kind_problem(target: Path) -> str | None:
    """Why `target` cannot be replaced by a file (None when it is a regular file or absent)."""
    try:
        st = os.stat(target)  # follows a symlink: what matters is what it points at
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be checked ({exc.strerror or exc})"
    kind = file_kind(st.st_mode)
    return None if kind is None else f"is {kind}, not a file"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not ours to judge
    if pid == os.getpid():
        return True  # another thread of this process may be writing it right now
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, owned by someone else
        return True
    return True


def _stale_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(re.escape(f".{target.name}.") + r"(\d+)\.[0-9a-f]{8}"
                      + re.escape(TMP_MARK) + r"[^/\\]*\Z")


def remove_stale_temporaries(target: str | Path) -> list[Path]:
    """Remove temporary files of `target` left by processes that no longer exist; return them."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    pattern = _stale_pattern(target)
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = pattern.match(name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        path = folder / name
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
                removed.append(path)
    return removed


def temporary_name(target: Path, suffix: str) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_MARK}{suffix}")


def _fsync_file(path: Path) -> None:
    """Flush the written file to disk; a real failure (EIO, ENOSPC) is raised, 'unsupported' is not."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # the rename below reports a missing file
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `target` on success.

    The writer may write the path however it likes (open it, or hand it to ffmpeg). On any
    exception the temporary file is removed and the target is left as it was; OSErrors become
    ExportError naming the target. A replaced file keeps its permission bits; a new one gets
    0o666 minus the umask, like any file an editor's tools create.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    check_target(target)
    remove_stale_temporaries(target)
    tmp = temporary_name(target, suffix if suffix is not None else (target.suffix or ".tmp"))
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise ExportError(target, f"cannot create a file in {folder} ({_strerror(exc)})") from exc
    try:
        yield tmp
        _fsync_file(tmp)
        try:
            old = os.stat(target)
        except FileNotFoundError:
            old = None
        if old is not None:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
            if hasattr(os, "chown"):
                tmp_st = os.stat(tmp)
                if (tmp_st.st_uid, tmp_st.st_gid) != (old.st_uid, old.st_gid):
                    with contextlib.suppress(OSError):  # only possible for root or own groups
                        os.chown(tmp, old.st_uid, old.st_gid)
        else:
            os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
        _fsync_dir(folder)
    except OSError as exc:
        raise ExportError(target, f"write failed ({_strerror(exc)}); the earlier file is unchanged"
                          if os.path.lexists(target) else f"write failed ({_strerror(exc)})") from exc
    finally:
        with contextlib.suppress(OSError):
            if os.path.lexists(tmp):
                tmp.unlink()


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()


def atomic_write_text(target: str | Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | Path, obj: Any, indent: int | None = 1) -> None:
    """JSON, atomically. NaN and infinity are refused (JSON has no such numbers; Python's
    "NaN" extension would make the file unreadable elsewhere and poison the mix here)."""
    try:
        text = json.dumps(obj, indent=indent, allow_nan=False, ensure_ascii=False)
    except ValueError as exc:
        raise ExportError(target, f"not written: it would hold a number that is not finite ({exc})") from exc
    atomic_write_text(target, text + "\n")


def atomic_write_with(target: str | Path, writer: Callable[[Path], None], suffix: str | None = None) -> None:
    """Call writer(tmp_path) and rename the result onto target."""
    with atomic_path(target, suffix) as tmp:
        writer(tmp)
