"""The editor's session kept with the project (issue 15, problem 10): reopen where you left off.

Saved in the project file's "session" block (plain JSON): the playhead, the visible time range
(zoom), the panel sizes (main, preview/side and timeline/lanes splitters, the side tab), the in
and out points and the undo history (core.command_io). On open each part is checked on its own;
a broken part is ignored with a warning line (shown in the window) and the rest still applies:
a session never stops a project from opening.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from PySide6.QtWidgets import QSplitter, QTabWidget

from sfxstudio.core import validate as v
from sfxstudio.core.command_io import history_from_json, history_to_json
from sfxstudio.core.errors import warn
from sfxstudio.gui.document_model import DocumentModel
from sfxstudio.gui.video_view import VideoView

SESSION_VERSION = 1
SPLITTERS = ("main", "top", "bottom")
MAX_PANEL = 100_000  # pixels


class SessionHost(Protocol):
    """What the session reads and sets on the window."""

    model: DocumentModel
    video: VideoView
    timeline: Any
    side_tabs: QTabWidget

    def splitters(self) -> dict[str, QSplitter]: ...
    def in_out(self) -> tuple[float | None, float | None]: ...
    def set_in_out(self, a: float | None, b: float | None) -> None: ...


def capture(host: SessionHost) -> dict[str, Any]:
    """The session block for the project file, from the window as it is now."""
    out: dict[str, Any] = {"version": SESSION_VERSION, "playhead": float(host.video.position())}
    vb = host.timeline.view_box()
    if vb is not None:
        x0, x1 = (float(x) for x in vb.viewRange()[0])
        if math.isfinite(x0) and math.isfinite(x1) and x1 > x0:
            out["view"] = [x0, x1]
    out["panels"] = {name: [int(x) for x in s.sizes()] for name, s in host.splitters().items()}
    out["panels"]["side_tab"] = host.side_tabs.currentIndex()
    out["in"], out["out"] = host.in_out()
    commands, index = host.model.history()
    out["history"] = history_to_json(commands, index, host.model.document)
    return out


def _time(value: Any, field: str, duration: float | None) -> float:
    hi = duration if duration is not None and duration > 0 else v.MAX_DURATION
    return v.number(value, field, 0.0, hi + 1e-6)


def restore(host: SessionHost, session: dict[str, Any], where: Any = None) -> list[str]:
    """Apply a project's session block to the window; returns the warnings it gave (each part
    that was broken and ignored). `where` names the project in the warnings."""
    if not session:
        return []
    problems: list[str] = []

    def part(name: str, apply: Any) -> None:
        try:
            apply()
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            problems.append(warn(where, f"session: {name} ignored ({exc})"))

    if session.get("version") != SESSION_VERSION:
        return [warn(where, f"session: version {session.get('version')!r} is not {SESSION_VERSION}; "
                            "the view state and undo history are ignored")]
    doc = host.model.document
    duration = doc.duration

    def history() -> None:
        if "history" in session:
            commands, index = history_from_json(session["history"], doc)
            host.model.restore_history(commands, index)

    def panels() -> None:
        if "panels" not in session:
            return
        p = v.obj(session["panels"], "panels")
        for name, splitter in host.splitters().items():
            if name in p:
                sizes = [v.integer(x, f"panels: {name}", 0, MAX_PANEL)
                         for x in v.array(p[name], f"panels: {name}", 16)]
                if len(sizes) != splitter.count():
                    raise ValueError(f"panels: {name} has {len(sizes)} sizes, not {splitter.count()}")
                splitter.setSizes(sizes)
        if "side_tab" in p:
            tab = v.integer(p["side_tab"], "panels: side_tab", 0, 1000)
            if tab < host.side_tabs.count():
                host.side_tabs.setCurrentIndex(tab)

    def view() -> None:
        vb = host.timeline.view_box()
        if "view" in session and vb is not None:
            x0, x1 = (_time(x, "view", duration) for x in v.array(session["view"], "view", 2))
            if not x1 > x0:
                raise ValueError(f"view must end after it starts, not {x0!r}..{x1!r}")
            vb.setXRange(x0, x1, padding=0.0)

    def in_out() -> None:
        if "in" in session or "out" in session:
            a, b = (None if session.get(k) is None else _time(session[k], k, duration) for k in ("in", "out"))
            if a is not None and b is not None and b < a:
                raise ValueError(f"out {b!r} is before in {a!r}")
            host.set_in_out(a, b)

    def playhead() -> None:
        if "playhead" in session:
            host.video.seek(_time(session["playhead"], "playhead", duration))

    for name, apply in (("undo history", history), ("panel sizes", panels), ("zoom", view),
                        ("in/out points", in_out), ("playhead", playhead)):
        part(name, apply)
    return problems
