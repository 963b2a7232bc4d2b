"""Checks for numbers and types read from files and options we did not write ourselves.

Every check raises ValueError with a message that names the field and the value, so the
caller only adds the file: `BadInputError(path, str(exc))` reads
"P.sfxproj: segment 3: start must be a finite number, not nan".
"""

from __future__ import annotations

import math
from typing import Any

MAX_DURATION = 48 * 3600.0  # seconds: the longest video (and segment time) we accept
MAX_GAIN_DB = 48.0  # |gain| in dB; beyond this a gain is a typo, not a mix decision
MAX_FADE = 600.0  # seconds
MAX_ANALYSIS_FPS = 1000.0
MAX_K = 3600.0  # seconds of smoothing half width
MIN_INTERVAL = 0.01  # seconds between retriggers (100 hits a second at most)
MAX_INTERVAL = 3600.0


def is_finite(x: Any) -> bool:
    """Whether x is a finite real number (False for None, strings, NaN and infinities)."""
    try:
        return math.isfinite(x)
    except TypeError:
        return False


def number(value: Any, field: str, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> float:
    """A finite float within [lo, hi] (lo excluded when lo_open). Booleans and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field} must be a number, not {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{field} must be a finite number, not {value!r}")
    if lo is not None and (x < lo or (lo_open and x == lo)):
        bound = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
        raise ValueError(f"{field} must be {bound}, not {value!r}")
    if hi is not None and x > hi:
        raise ValueError(f"{field} must be at most {hi:g}, not {value!r}")
    return x


def optional_number(value: Any, field: str, lo: float | None = None, hi: float | None = None,
                    lo_open: bool = False) -> float | None:
    return None if value is None else number(value, field, lo, hi, lo_open)


def integer(value: Any, field: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be a whole number, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{field} must be between {lo} and {hi}, not {value!r}")
    return value


def text(value: Any, field: str, optional: bool = False, max_len: int = 4096) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be text, not {value!r}")
    if len(value) > max_len or "\x00" in value:
        raise ValueError(f"{field} is not usable text ({len(value)} characters)")
    return value


def optional_text(value: Any, field: str, max_len: int = 4096) -> str | None:
    return None if value is None else text(value, field, max_len=max_len)


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{field} must be true or false, not {value!r}")
    return value


def obj(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (dict with text keys)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{field} must be an object, not {type(value).__name__}")
    return value


def array(value: Any, field: str, max_len: int = 10_000_000) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{field} must be a list, not {type(value).__name__}")
    if len(value) > max_len:
        raise ValueError(f"{field} has {len(value)} entries, at most {max_len} are allowed")
    return value


def duration(value: Any, field: str = "duration") -> float:
    return number(value, field, 0.0, MAX_DURATION)


def safe_name(value: Any, field: str) -> str:
    """A class or file name that cannot reach outside its folder (no separators, no '..')."""
    name = text(value, field, max_len=255)
    if not name or name in (".", "..") or "/" in name or "\\" in name or name != name.strip():
        raise ValueError(f"{field} {value!r} is not a usable name")
    return name
