"""Event-based and segment-based F1 against ground truth, for the demo.

The metrics live in sfxstudio.ml.evaluate (the evaluation layer); this module re-exports them
so demo code and its tests read naturally.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sfxstudio.core import validate
from sfxstudio.core.atomic import atomic_write_json
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.inputs import read_bytes
from sfxstudio.ml.evaluate import (
    GroundTruth,
    as_events,
    event_f1,
    load_truth,
    segment_f1,
    truth_json,
    write_truth,
)

__all__ = ["GroundTruth", "as_events", "event_f1", "load_events", "load_truth", "segment_f1", "truth_json",
           "write_demo_truth", "write_truth"]


def write_demo_truth(path: str | Path, video: str, duration: float, fps: float, segments: Iterable[Any],
                     events: Iterable[tuple[str, float]]) -> None:
    """The demo's truth file: the evaluation layer's layout plus "events": [{"class", "time"}],
    the drawn discrete events (readers of the plain layout ignore the extra key)."""
    data = truth_json(video, duration, fps, segments)
    data["events"] = [{"class": c, "time": round(float(t), 6)} for c, t in events]
    atomic_write_json(path, data)


def load_events(path: str | Path) -> list[tuple[str, float]]:
    """The "events" of a demo truth file as (class, time) sorted by time ([] when it has none)."""
    import json

    path = Path(path)
    try:
        data = json.loads(read_bytes(path, "ground-truth file", 64 * 1024 * 1024).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadInputError(path, f"not a readable JSON file ({type(exc).__name__})") from None
    raw = data.get("events", []) if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise BadInputError(path, "malformed ground-truth file ('events' must be a list)")
    out = []
    for i, e in enumerate(raw):
        try:
            cls = e["class"]
            if not isinstance(cls, str) or not cls:
                raise ValueError(f"class must be a name, not {cls!r}")
            out.append((cls, validate.number(e["time"], f"event {i} time", 0.0, 1e9)))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(path, f"malformed event {i} ({exc})") from None
    return sorted(out, key=lambda e: (e[1], e[0]))
