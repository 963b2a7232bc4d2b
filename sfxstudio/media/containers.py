"""Opening media files with PyAV, with the checks and messages every reader shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfxstudio.core.errors import BadInputError


def reason(exc: BaseException) -> str:
    """FFmpeg's own words for an error when it has them."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror or exc)


def open_container(path: Path, kind: str) -> Any:
    """av.open(path) for reading; BadInputError naming the file when it cannot be used.

    kind ("video", "audio") only words the message: "not a readable video file (...)".
    """
    import av

    if not path.exists():
        raise BadInputError(path, "file not found")
    if not path.is_file():
        raise BadInputError(path, "is not a file")
    if path.stat().st_size == 0:
        raise BadInputError(path, "file is empty (0 bytes)")
    try:
        return av.open(str(path), "r")
    except av.error.FFmpegError as exc:
        raise BadInputError(path, f"not a readable {kind} file ({reason(exc)})") from exc
    except OSError as exc:
        raise BadInputError(path, f"cannot be opened ({exc.strerror or exc})") from exc
