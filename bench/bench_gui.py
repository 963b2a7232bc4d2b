"""Benchmark: how fast the window appears and how responsive it stays during an analysis.

Prints one JSON object:
- launch_to_visible_s: wall time from starting `python -m sfxstudio gui` to the window being on
  screen (median of --launches runs; timed from outside the process), and launch_to_ready_s
  (timeline and panels built, they load right after the first show);
- tensorflow_at_start: whether TensorFlow was imported before the window showed (must be false);
- max_stall_ms / p99_stall_ms: the longest gaps between ticks of a 10 ms QTimer while the window
  analyses a video in its worker (the event loop must never stall more than 100 ms);
- analysis facts: frames, seconds, frames/s, model, video.

Uses models/demo and the demo video when they exist, else a synthetic video and a tiny
untrained bundle (the speed of the GUI, not the model's accuracy, is measured).

    .venv/bin/python bench/bench_gui.py [--launches 3] [--seconds 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def time_launch(tmp: Path) -> dict[str, float | bool]:
    env = os.environ | {"SFXSTUDIO_REPORT_SHOWN": "1", "SFXSTUDIO_SETTINGS": str(tmp / "launch.ini"),
                        "SFXSTUDIO_DATA_DIR": str(tmp / "data")}
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    # -X importtime would slow it; a tiny wrapper reports whether TF got imported before the show.
    code = ("import sys; sys.argv = ['sfxstudio', 'gui']; import atexit; "
            "atexit.register(lambda: print('TF_AT_EXIT', 'tensorflow' in sys.modules, flush=True)); "
            "from sfxstudio.cli import main; sys.exit(main(['gui']))")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    shown = ready = None
    tf = None
    assert proc.stdout is not None
    for line in proc.stdout:
        now = time.monotonic() - t0
        if line.startswith("SFXSTUDIO_SHOWN"):
            shown = now
        elif line.startswith("SFXSTUDIO_READY"):
            ready = now
        elif line.startswith("TF_AT_EXIT"):
            tf = line.split()[1] == "True"
    proc.wait(timeout=120)
    if shown is None:
        raise RuntimeError(f"the window never reported being shown (exit code {proc.returncode})")
    return {"shown": shown, "ready": ready or shown, "tf": bool(tf)}


def find_inputs(tmp: Path, seconds: float) -> tuple[Path, Path, str]:
    """(video, model folder, description)."""
    from sfxstudio.core.paths import DEMO_MODEL

    if (DEMO_MODEL / "bundle.json").is_file():
        from sfxstudio.demo.demo_video import render_demo_video

        video, _truth = render_demo_video(tmp / "demo.mp4", seconds=seconds)
        return Path(video), DEMO_MODEL, "demo model + demo video"
    return synthetic_video(tmp, seconds), tiny_bundle(tmp), "tiny untrained bundle + synthetic video"


def synthetic_video(tmp: Path, seconds: float) -> Path:
    from tests.fixtures.media import write_video

    return write_video(tmp / "synthetic.mp4", seconds=seconds, fps=25, size=(320, 180))


def tiny_bundle(tmp: Path) -> Path:
    from tests.fixtures.models import make_bundle

    return make_bundle(tmp / "models", input_size=(64, 64))


def measure_stalls(video: Path, model: Path, tmp: Path) -> dict[str, float | int]:
    from PySide6.QtCore import QTimer

    from sfxstudio.gui import errors
    from sfxstudio.gui.app import create_application
    from sfxstudio.gui.main_window import MainWindow
    from sfxstudio.gui.settings import Settings

    app = create_application()
    errors.setup_logging(tmp)
    errors.set_non_blocking_dialogs(True)
    settings = Settings(tmp / "bench.ini")
    settings.set("models/user_folders", [str(model.parent)])
    settings.set("models/selected", str(model))
    window = MainWindow(settings=settings, recovery_folder=tmp / "recovery")
    window.auto_analyse = False
    window.resize(1440, 900)
    window.show()
    app.processEvents()
    assert window.open_video(video, analyse=False)
    # Warm the model once outside the measured run: TensorFlow's import and graph tracing happen
    # in the worker either way, but the first run also pays the disk cache.
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    chunks: list[int] = []
    done: list[str] = []
    window.analysisStopped.connect(done.append)
    t0 = time.monotonic()
    timer.start()
    assert window.analyse()
    window.analysis_worker.partial.connect(lambda c: chunks.append(len(c.times)))
    while not done:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    elapsed = time.monotonic() - t0
    gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(ticks))
    # where the longest stalls happened (seconds after Analyse), to find their cause
    worst = sorted(((b - a) * 1000, a - t0) for a, b in itertools.pairwise(ticks))[-5:]
    frames = window.project.analysis.frames if window.project.analysis is not None else 0
    result = {
        "analysis_outcome": done[0],
        "analysis_frames": frames,
        "analysis_s": round(elapsed, 2),
        "analysis_fps": round(frames / elapsed, 1) if elapsed else 0.0,
        "streamed_updates": len(chunks),
        "max_stall_ms": round(gaps[-1], 1) if gaps else 0.0,
        "p99_stall_ms": round(gaps[int(0.99 * (len(gaps) - 1))], 1) if gaps else 0.0,
        "ticks": len(ticks),
        "worst_stalls_ms_at_s": [[round(g, 1), round(at, 2)] for g, at in reversed(worst)],
    }
    window.model.document.set_dirty(False)
    window.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the analysed video")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as name:
        tmp = Path(name)
        launches = [time_launch(tmp) for _ in range(args.launches)]
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        video, model, what = find_inputs(tmp, args.seconds)
        stalls = measure_stalls(video, model, tmp)
    out = {
        "launch_to_visible_s": round(statistics.median(x["shown"] for x in launches), 3),
        "launch_to_visible_all_s": [round(float(x["shown"]), 3) for x in launches],
        "launch_to_ready_s": round(statistics.median(x["ready"] for x in launches), 3),
        "tensorflow_at_start": any(x["tf"] for x in launches),
        **stalls,
        "inputs": what,
        "platform": os.environ.get("QT_QPA_PLATFORM") or "display",
        "load_average": list(os.getloadavg()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
