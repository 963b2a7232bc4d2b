"""The one atomic write path (core/atomic.py): kinds of target, permission bits, stale
temporaries, failures that leave the earlier file byte-identical, a real full disk."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfxstudio.core import atomic
from sfxstudio.core.atomic import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temporaries,
    temporary_name,
)
from sfxstudio.core.errors import ExportError


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


# -- kinds of target -----------------------------------------------------------------------


def test_a_folder_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "inside.txt").write_text("keep")
    with pytest.raises(ExportError, match="is a folder, not a file") as err:
        atomic_write_text(tmp_path / "out", "x")
    assert str(tmp_path / "out") in str(err.value)
    assert (tmp_path / "out" / "inside.txt").read_text() == "keep"
    assert names(tmp_path) == ["out"]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="named pipe"):
        atomic_write_bytes(fifo, b"x")  # opening a FIFO for writing would block forever
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert names(tmp_path) == ["pipe.wav"]


def test_a_socket_and_a_device_are_refused(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.otio"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        with pytest.raises(ExportError, match="socket"):
            atomic_write_text(sock_path, "x")
    with pytest.raises(ExportError, match="is a device, not a file"):
        atomic_write_text("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_to_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "d")
    with pytest.raises(ExportError, match="folder"):
        atomic_write_text(tmp_path / "link", "x")
    assert (tmp_path / "link").is_symlink()


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "x.txt", "x")
    assert not (tmp_path / "missing").exists()


# -- permission bits -----------------------------------------------------------------------


def test_a_new_file_gets_0644_under_umask_022(tmp_path: Path) -> None:
    with umask(0o022):
        atomic_write_text(tmp_path / "new.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o644


def test_a_new_file_follows_another_umask(tmp_path: Path) -> None:
    with umask(0o027):
        atomic_write_text(tmp_path / "new.txt", "x")
        assert atomic.current_umask() == 0o027
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o640


def test_a_replaced_file_keeps_its_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "p.sfxproj"
    target.write_text("old")
    target.chmod(0o640)
    with umask(0o022):
        atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    target.chmod(0o600)
    atomic_write_bytes(target, b"newer")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_the_umask_is_left_as_it_was(tmp_path: Path) -> None:
    with umask(0o077):
        atomic_write_text(tmp_path / "a", "x")
        assert os.umask(0o077) == 0o077


# -- failures ------------------------------------------------------------------------------


def test_an_exception_in_the_writer_keeps_the_earlier_file(tmp_path: Path) -> None:
    target = tmp_path / "fx.wav"
    target.write_bytes(b"earlier")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer failed")
    assert target.read_bytes() == b"earlier"
    assert names(tmp_path) == ["fx.wav"]


def test_a_failed_rename_is_an_export_error_naming_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "fx.otio"
    target.write_bytes(b"earlier")

    def fail(*_a: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(ExportError) as err:
        atomic_write_text(target, "new")
    assert str(err.value).startswith(f"{target}: ")
    assert "No space left on device" in str(err.value) and "\n" not in str(err.value)
    assert target.read_bytes() == b"earlier"
    assert names(tmp_path) == ["fx.otio"]


def test_temporary_name_keeps_the_real_suffix_last_and_carries_the_pid(tmp_path: Path) -> None:
    tmp = temporary_name(tmp_path / "mix.wav", ".wav")
    assert tmp.parent == tmp_path and tmp.name.startswith(".mix.wav.")
    assert tmp.suffix == ".wav" and f".{os.getpid()}." in tmp.name


def test_json_refuses_nan_and_infinity(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write_json(target, {"gain": 1.5})
    before = target.read_bytes()
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ExportError, match="not finite"):
            atomic_write_json(target, {"gain": bad})
    assert target.read_bytes() == before
    assert names(tmp_path) == ["a.json"]


# -- stale temporaries ---------------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has this pid now (reuse within the test is unlikely)


def test_a_temporary_left_by_a_killed_process_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "mix.wav"
    pid = dead_pid()
    stale = tmp_path / f".mix.wav.{pid}.0123abcd.sfxtmp.wav"
    stale.write_bytes(b"partial")
    alive = tmp_path / f".mix.wav.{os.getpid()}.89abcdef.sfxtmp.wav"  # a write in progress
    alive.write_bytes(b"in progress")
    other = tmp_path / f".other.wav.{pid}.0123abcd.sfxtmp.wav"  # another target's: not ours
    other.write_bytes(b"other")
    unrelated = tmp_path / ".mix.wav.notes"
    unrelated.write_bytes(b"user file")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert not stale.exists()
    assert alive.exists() and other.exists() and unrelated.exists()


def test_remove_stale_temporaries_keeps_files_of_living_processes(tmp_path: Path) -> None:
    target = tmp_path / "p.sfxproj"
    parent = tmp_path / f".p.sfxproj.{os.getppid()}.00000000.sfxtmp.sfxproj"
    parent.write_bytes(b"x")
    assert remove_stale_temporaries(target) == []
    assert parent.exists()


def test_a_temporary_of_a_sigkilled_writer_is_removed(tmp_path: Path) -> None:
    """A real process killed with SIGKILL inside the write leaves its temporary; the next
    write to the same place removes it."""
    target = tmp_path / "big.bin"
    target.write_bytes(b"earlier")
    code = (
        "import os, signal, sys\n"
        "from sfxstudio.core.atomic import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    tmp.write_bytes(b'partial')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=False)
    assert proc.returncode == -9
    left = [n for n in names(tmp_path) if n != "big.bin"]
    assert len(left) == 1 and ".sfxtmp" in left[0]
    assert target.read_bytes() == b"earlier"
    atomic_write_bytes(target, b"after")
    assert names(tmp_path) == ["big.bin"]
    assert target.read_bytes() == b"after"


# -- a real full disk ----------------------------------------------------------------------
# (small_disk: tests/fixtures/disk.py)


def test_disk_full_keeps_the_earlier_file_and_leaves_no_temporary(small_disk: Path) -> None:
    target = small_disk / "timeline.otio"
    earlier = b"e" * 100_000
    target.write_bytes(earlier)
    with pytest.raises(ExportError) as err:
        atomic_write_bytes(target, b"n" * 400_000)  # more than the disk has left
    assert str(target) in str(err.value) and "No space left on device" in str(err.value)
    assert target.read_bytes() == earlier
    assert names(small_disk) == ["timeline.otio"]
