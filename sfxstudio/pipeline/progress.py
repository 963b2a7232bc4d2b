"""A plain-text progress bar on stderr for the command line (rate and ETA)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = round(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """Redraws one line at most every `interval` seconds; a final newline on close()."""

    def __init__(self, label: str, unit: str = "frames", stream: TextIO | None = None,
                 interval: float = 0.2, width: int = 28) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.interval = interval
        self.width = width
        self._last = 0.0
        self._shown = False
        self.is_tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, done: int, total: int, rate: float, eta: float | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (self.interval if self.is_tty else 5.0):
            return
        self._last = now
        frac = min(1.0, done / total) if total else 0.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (f"{self.label} [{bar}] {frac * 100:5.1f}% {done}/{total} {self.unit} "
                f"{rate:6.1f} {self.unit}/s ETA {format_duration(eta)}")
        end = "\r" if self.is_tty else "\n"
        self.stream.write(line + end)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and self.is_tty:
            self.stream.write("\n")
            self.stream.flush()


def drive(job: Iterator[Any], label: str, unit: str = "frames", quiet: bool = False) -> Any:
    """Run a pipeline job to its end with a progress bar on stderr; returns its result."""
    from sfxstudio.pipeline import run_job

    bar = ProgressBar(label, unit=unit)

    def show(p: Any) -> None:
        if p.total and not quiet:
            bar.update(p.done, p.total, p.rate, p.eta, force=p.finished)

    try:
        return run_job(job, show)
    finally:
        bar.close()
