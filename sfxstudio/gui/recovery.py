"""Recovery files: unsaved work written in the background so a crash loses at most one interval.

Qt-free so it can be unit-tested. Each running window owns one session: `<session>.sfxproj`
(+ its analysis sidecar) and `<session>.json` (pid, the project file it belongs to, when). Files
are written atomically. On start, sessions whose process is gone are "stale": the app offers to
recover them. A clean save or close removes the session's files.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import glob
import json
import os
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from sfxstudio.core.atomic import atomic_write_json
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import Project
from sfxstudio.core.project_io import SIDECAR_SUFFIX, load_project, save_project

SUFFIX = ".sfxproj"
META_SUFFIX = ".json"


@dataclass(frozen=True)
class RecoveryEntry:
    session: str
    project_file: Path  # the recovery .sfxproj
    source: str | None  # the project file the work belongs to (None = never saved)
    video: str | None
    saved_at: str
    pid: int

    def label(self) -> str:
        what = self.source or self.video or "untitled project"
        return f"{Path(what).name} (autosaved {self.saved_at})"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else: not ours to take over
    return True


class RecoveryStore:
    """One window's recovery files in `folder`."""

    def __init__(self, folder: str | Path, session: str | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session = session or f"session-{uuid.uuid4().hex[:12]}"

    @property
    def project_file(self) -> Path:
        return self.folder / f"{self.session}{SUFFIX}"

    @property
    def meta_file(self) -> Path:
        return self.folder / f"{self.session}{META_SUFFIX}"

    def write(self, project: Project, source: str | Path | None = None) -> Path:
        """Write a snapshot of `project` with save_project: the snapshot and its analysis are
        one unit (content-named sidecar first, project renamed last), and an unchanged
        analysis is neither hashed again nor rewritten."""
        snapshot = replace(project, segments=list(project.segments))
        save_project(snapshot, self.project_file)
        meta = {
            "pid": os.getpid(),
            "source": str(source) if source else None,
            "video": project.video,
            "saved_at": _dt.datetime.now().isoformat(timespec="seconds"),
        }
        atomic_write_json(self.meta_file, meta)
        return self.project_file

    def remove(self) -> None:
        remove_entry_files(self.folder, self.session)


def remove_entry_files(folder: Path, session: str) -> None:
    sidecars = list(folder.glob(f"{glob.escape(session)}{SUFFIX}*{SIDECAR_SUFFIX}"))
    for p in (folder / f"{session}{SUFFIX}", *sidecars, folder / f"{session}{META_SUFFIX}"):
        with contextlib.suppress(OSError):
            p.unlink()


def list_stale(folder: str | Path) -> list[RecoveryEntry]:
    """Recovery sessions left behind by processes that are no longer running, newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out: list[RecoveryEntry] = []
    for meta_path in folder.glob(f"*{META_SUFFIX}"):
        session = meta_path.name[: -len(META_SUFFIX)]
        project_file = folder / f"{session}{SUFFIX}"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            pid = int(meta.get("pid", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        if not project_file.exists() or _pid_alive(pid):
            continue
        out.append(RecoveryEntry(session, project_file, meta.get("source"), meta.get("video"),
                                 str(meta.get("saved_at", "")), pid))
    out.sort(key=lambda e: e.saved_at, reverse=True)
    return out


def read_entry(entry: RecoveryEntry) -> Project:
    """The recovered project (BadInputError when the recovery file is damaged)."""
    try:
        return load_project(entry.project_file)
    except BadInputError:
        raise
    except (OSError, ValueError) as exc:
        raise BadInputError(entry.project_file, f"the recovery file is damaged ({exc})") from exc


def discard_entry(entry: RecoveryEntry) -> None:
    remove_entry_files(entry.project_file.parent, entry.session)
