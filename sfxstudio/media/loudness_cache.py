"""Per-sound loudness, measured once per file version and kept in the user cache.

sound_loudness.json in the per-user cache folder maps "<absolute path>" to the file's size,
mtime and loudness (LUFS); a file that changed is measured again. The cache is only an
optimisation: an unreadable or damaged cache file is ignored and rewritten.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_write_json
from sfxstudio.core.errors import SfxError

CACHE_NAME = "sound_loudness.json"
_lock = threading.Lock()
_memory: dict[str, Any] | None = None


def cache_file() -> Path:
    from sfxstudio.core.paths import cache_root

    return cache_root() / CACHE_NAME


def _load() -> dict[str, Any]:
    global _memory
    if _memory is None:
        try:
            data = json.loads(cache_file().read_text(encoding="utf-8"))
            _memory = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            _memory = {}
    return _memory


def lookup(path: Path, decode: Callable[[], np.ndarray]) -> float:
    """The loudness of `path` (LUFS; -inf for silence or a file that cannot be decoded)."""
    from sfxstudio.media.loudness import sound_loudness

    full = os.path.abspath(path)
    try:
        st = os.stat(full)
    except OSError:
        return -math.inf
    key = [st.st_size, st.st_mtime_ns]
    with _lock:
        entry = _load().get(full)
    if isinstance(entry, dict) and entry.get("stat") == key and isinstance(entry.get("lufs"), (int, float)):
        return float(entry["lufs"])
    try:
        value = sound_loudness(decode())
    except SfxError:
        return -math.inf
    with _lock:
        cache = _load()
        cache[full] = {"stat": key, "lufs": value if math.isfinite(value) else -200.0}
        try:
            cache_file().parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(cache_file(), cache)
        except (OSError, SfxError):
            pass  # a read-only cache folder only costs a measurement next time
    return value


def reset_memory() -> None:
    """Forget the in-memory copy (tests pointing the cache elsewhere)."""
    global _memory
    with _lock:
        _memory = None
