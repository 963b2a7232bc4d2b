"""The editing conventions of issue 15 wired to the window's actions: selection, clipboard,
nudge and snapping (the lanes), in/out points and markers (gui.markers.MarkerController),
the meters (the playback's levels), Help > Keyboard Shortcuts. (The mix levels reach the
players from DocumentModel.mixChanged, in main_window.)

Kept out of main_window so that module stays the layout; the keys themselves are declared in
window_actions (one place for every key, which the shortcuts dialog and the README list).
The lanes are replaced once the deferred edit widgets are built, so each slot looks them up
when it runs (the stand-in lanes answer every method called here with a no-op).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The window (gui.main_window.MainWindow) is typed Any: importing it here would be a cycle.
MainWindow = Any


def _on_lanes(window: MainWindow, method: str, *args: Any) -> Callable[..., None]:
    """A slot calling window.lanes.<method>(*args) on the lanes of the moment."""

    def slot(*_ignored: Any) -> None:
        getattr(window.lanes, method)(*args)

    return slot


def _no_args(fn: Callable[[], Any]) -> Callable[..., None]:
    """A slot that drops triggered(bool)'s argument (add_marker's first parameter is a name)."""

    def slot(*_ignored: Any) -> None:
        fn()

    return slot


def connect_edit_actions(window: MainWindow) -> None:
    """Connect the selection, clipboard, nudge, snapping, mark and help actions (once)."""
    a, markers = window.act, window.markers
    for action, slot in (
            (a.select_all, _on_lanes(window, "select_all")),
            (a.copy, _on_lanes(window, "copy_selection")),
            (a.paste, _on_lanes(window, "paste_at_playhead")),
            (a.duplicate, _on_lanes(window, "duplicate_selection")),
            (a.nudge_left, _on_lanes(window, "nudge_selection", -1)),
            (a.nudge_right, _on_lanes(window, "nudge_selection", 1)),
            (a.mark_in, _no_args(markers.mark_in)), (a.mark_out, _no_args(markers.mark_out)),
            (a.clear_in_out, _no_args(markers.clear_in_out)),
            (a.play_in_out, _no_args(markers.play_in_to_out)),
            (a.add_marker, _no_args(markers.add_marker)),
            (a.delete_marker, _no_args(markers.delete_marker_at_playhead)),
            (a.prev_point, _no_args(markers.previous_point)), (a.next_point, _no_args(markers.next_point)),
            (a.goto_timecode, _no_args(markers.focus_timecode)),
            (a.shortcuts, _no_args(window.show_shortcuts))):
        action.triggered.connect(slot)
    a.snapping.toggled.connect(lambda on: window.lanes.set_snapping(bool(on)))
    a.loop.toggled.connect(lambda on: markers.set_loop(bool(on)))
    markers.loopChanged.connect(a.loop.setChecked)
    markers.snapTargetsChanged.connect(lambda times: window.lanes.set_snap_targets(list(times)))
    markers.statusMessage.connect(lambda msg: window.statusBar().showMessage(msg, 4000))


def attach_edit_widgets(window: MainWindow) -> None:
    """After the real timeline and lanes exist: give them the state the actions hold."""
    lanes, markers = window.lanes, window.markers
    lanes.set_snapping(window.act.snapping.isChecked())
    lanes.set_snap_targets(markers.snap_targets())
    markers.attach_timeline(window.timeline)
    window.effects.levels.connect(window.meters.set_levels)
