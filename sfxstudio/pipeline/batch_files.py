"""Batch files: finding the videos, their content hashes, and the manifest (one line a video).

Split from sfxstudio.pipeline.batch (which runs the work); see its docstring for the rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sfxstudio.core.errors import BadInputError

MANIFEST = "manifest.jsonl"
MANIFEST_VERSION = 1
VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".m2v", ".ogv", ".ogg",
    ".ts", ".mts", ".m2ts", ".mxf", ".wmv", ".flv", ".3gp", ".dv",
})
_HASH_CHUNK = 1 << 20


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def find_videos(inputs: Sequence[str | Path],
                exclude: str | Path | None = None) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(videos, problems): videos in the order given (folders walked recursively, sorted), each
    once; problems are inputs that are neither a video file nor a folder. Nothing under
    `exclude` (the batch's output folder) is an input: a rerun must not analyse its exports."""
    excluded = Path(exclude).resolve() if exclude is not None else None
    seen: set[Path] = set()
    videos: list[Path] = []
    problems: list[tuple[Path, str]] = []

    def add(p: Path) -> None:
        r = p.resolve()
        if r in seen or (excluded is not None and (r == excluded or excluded in r.parents)):
            return
        seen.add(r)
        videos.append(r)

    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    f = Path(root) / name
                    if _is_video(f) and f.is_file():
                        add(f)
        elif path.is_file():
            add(path)  # named explicitly: tried whatever its suffix (the worker says if it is not a video)
        elif not path.exists():
            problems.append((path, "not found"))
        else:
            problems.append((path, "is not a file or folder (a FIFO, socket or device)"))
    return videos, problems


def output_names(videos: Sequence[Path]) -> list[str]:
    """A folder name per video: its stem, made unique with -2, -3... in input order."""
    used: set[str] = set()
    names = []
    for v in videos:
        base = v.stem.strip() or "video"
        name, n = base, 1
        while name.lower() in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name.lower())
        names.append(name)
    return names


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, streamed in 1 MiB pieces (never the whole file in memory)."""
    from sfxstudio.core.inputs import regular_file

    regular_file(path, "video")
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_HASH_CHUNK):
                h.update(chunk)
    except OSError as exc:
        raise BadInputError(path, f"cannot read the video ({exc.strerror or exc})") from None
    return h.hexdigest()


# --- the manifest --------------------------------------------------------------------------


class Manifest:
    """out/manifest.jsonl: one JSON object per line, appended and fsynced one line at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.latest: dict[str, dict[str, Any]] = {}  # video path -> its latest line
        self.lines = 0
        self._load()

    def _load(self) -> None:
        from sfxstudio.core.atomic import atomic_write_text
        from sfxstudio.core.errors import warn

        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BadInputError(self.path, f"cannot read the manifest ({exc.strerror or exc})") from None
        good: list[str] = []
        bad = 0
        pieces = data.split(b"\n")
        torn = pieces[-1] != b""  # no final newline: a write cut short by a kill
        for i, raw in enumerate(pieces):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
                if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
                    raise ValueError("not a record")
            except (ValueError, UnicodeDecodeError):
                if not (torn and i == len(pieces) - 1):
                    bad += 1
                continue
            good.append(raw.decode("utf-8"))
            self.latest[rec["path"]] = rec
        self.lines = len(good)
        if torn or bad:
            if bad:
                warn(self.path, f"{bad} unreadable line(s) dropped")
            # Rewritten whole and atomically: the next append must start on a line of its own.
            atomic_write_text(self.path, "".join(line + "\n" for line in good))

    def append(self, record: dict[str, Any]) -> None:
        """One line, in one write(), flushed to disk before returning. Appending cannot go through
        core.atomic's rename (that would rewrite the whole file per video); a kill mid-write
        leaves at most a torn last line, which the next run drops (see _load)."""
        from sfxstudio.core.errors import ExportError

        line = json.dumps(record, ensure_ascii=False, allow_nan=False, default=str) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ExportError(self.path, f"cannot append to the manifest ({exc.strerror or exc})") from exc
        self.latest[record["path"]] = record
        self.lines += 1


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """Every readable line of a manifest, in order (a torn last line is skipped)."""
    out = []
    with contextlib.suppress(FileNotFoundError):
        for raw in Path(path).read_text("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(raw)
                if isinstance(rec, dict):
                    out.append(rec)
    return out


# --- one video (runs inside a worker) ------------------------------------------------------


def iter_ok(manifest: str | Path) -> Iterator[dict[str, Any]]:
    """The latest line of each video whose latest line is ok."""
    latest: dict[str, dict[str, Any]] = {}
    for rec in read_manifest(manifest):
        latest[rec["path"]] = rec
    return (r for r in latest.values() if r.get("status") == "ok")
