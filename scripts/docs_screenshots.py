"""Take the screenshot set in docs/ from the real window, under Xvfb (`make docs-shots`):

    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python scripts/docs_screenshots.py DEMO.sfxproj

Writes docs/overview.png (the window as it opens on the demo project), docs/layered-lanes.png
(layered mode, zoomed into an overlap: lanes with effect names and their sounds' waveforms, the
original audio's waveform, markers and an in/out range) and docs/export-dialog.png. The demo
project comes from `sfxstudio demo --out DIR` (DIR/demo.sfxproj).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _settle(app: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def main(project_file: str) -> int:
    from sfxstudio.core.commands import AddMarker, SetParams
    from sfxstudio.core.project_io import load_project
    from sfxstudio.gui.app import create_application
    from sfxstudio.gui.main_window import MainWindow
    from sfxstudio.gui.settings import Settings

    app = create_application()
    tmp = Path(tempfile.mkdtemp(prefix="sfxstudio-docs-"))
    window = MainWindow(settings=Settings(tmp / "settings.ini"), recovery_folder=tmp / "recovery")
    window.auto_analyse = False
    window.resize(1440, 900)
    window.show()
    path = Path(project_file).resolve()
    window.set_document(load_project(path), path)
    window.timeline.fit()
    effects = [s for s in window.project.segments if s.origin != "mute"]
    if effects:
        window.video.seek((effects[0].start + effects[0].end) / 2)
    _settle(app, 3.0)
    DOCS.mkdir(exist_ok=True)
    window.grab().save(str(DOCS / "overview.png"), "PNG")

    # Layered mode, zoomed into the first place where two classes overlap.
    if window.project.params.mode != "layered":
        window.model.push(SetParams(mode="layered"))
    _settle(app, 1.5)
    segs = sorted((s for s in window.project.segments if s.origin != "mute"), key=lambda s: s.start)
    overlap = next(((a, b) for a in segs for b in segs
                    if a.class_name != b.class_name and a.start <= b.start < a.end), None)
    if overlap is not None:
        _a, b = overlap
        lo, hi = max(0.0, b.start - 4.0), b.start + 8.0
        window.video.seek(b.start + 0.5)
        window.model.push(AddMarker(b.start, "overlap"))
        window.markers.set_in_out(lo + 1.0, hi - 1.0)
        window.lanes.view_box().setXRange(lo, hi, padding=0)
        window.lanes.select(b.id)
    _settle(app, 3.0)
    window.grab().save(str(DOCS / "layered-lanes.png"), "PNG")

    from sfxstudio.gui.export_dialog import ExportDialog

    dialog = ExportDialog(window.project, window.settings, window.sounds.library, window)
    dialog.show()
    _settle(app, 1.0)
    dialog.grab().save(str(DOCS / "export-dialog.png"), "PNG")
    dialog.close()
    window.model.document.set_dirty(False)
    window.shutdown()
    print(f"Saved overview.png, layered-lanes.png and export-dialog.png in {DOCS}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
