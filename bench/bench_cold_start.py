"""Cold start (issue 16): whole-process `sfxstudio analyze --analysis-fps all` of a 10 s 720p
video with a just-created ResNet152V2 bundle, against the paper's frame-by-frame loop as a whole
process too. Prints JSON.

    python bench/bench_cold_start.py [--bundle DIR] [--rounds 2] [--seconds 10]

The bundle is made by `sfxstudio model create --backbone resnet152v2` (random weights; timed
apart) unless --bundle names one just made. Every analysis runs with an empty
$SFXSTUDIO_CACHE_DIR, so it can only use the conversion the bundle carries: a first run. The
paper's side is a fresh Python that imports TensorFlow, loads the same model.keras and runs the
loop of bench_analysis.paper_analyze (cv2 read, PIL resize, model.predict per frame, a Counter
mode filter). The two alternate (`--rounds` each) and the medians are compared, so a change in
the shared machine's load hits both alike. Target: ours >= 2.5x faster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench_cold_start: {' '.join(cmd[:6])}... exited {proc.returncode}: "
                         f"{proc.stderr[-600:]}")
    return dt


def paper_child(video: str, model_dir: str) -> None:
    """The paper's whole process: import TensorFlow, load the model, run the loop."""
    from bench.bench_analysis import paper_analyze
    from sfxstudio.ml.bundle import load_keras_model

    model = load_keras_model(Path(model_dir) / "model.keras")
    frames, _ = paper_analyze(Path(video), model)
    print(frames)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", help="a ResNet152V2 bundle just made (default: make one)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--paper-child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.paper_child:
        paper_child(*a.paper_child)
        return
    from bench.make_media import make_video

    video = make_video(a.seconds, (1280, 720), 30.0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    py = sys.executable
    res: dict[str, object] = {"video": {"path": str(video), "seconds": a.seconds, "size": [1280, 720],
                                        "fps": 30}, "cpus": os.cpu_count()}
    try:
        bundle = Path(a.bundle) if a.bundle else tmp / "resnet152v2"
        if not a.bundle:
            res["model_create_s"] = round(_run(
                [py, "-m", "sfxstudio", "model", "create", "--backbone", "resnet152v2", "--out", str(bundle)],
                {**env, "SFXSTUDIO_CACHE_DIR": str(tmp / "create-cache")}), 2)
        ours: list[float] = []
        paper: list[float] = []
        for r in range(max(1, a.rounds)):
            cache = tmp / f"empty-cache-{r}"  # nothing converted on this "machine": a first run
            ours.append(_run([py, "-m", "sfxstudio", "analyze", str(video), "--model", str(bundle),
                              "--analysis-fps", "all", "--quiet"],
                             {**env, "SFXSTUDIO_CACHE_DIR": str(cache)}))
            converted = sorted(p.name for p in cache.glob("*.tflite")) if cache.exists() else []
            if converted:
                raise SystemExit(f"bench_cold_start: the analysis converted the model again: {converted}")
            paper.append(_run([py, str(Path(__file__).resolve()), "--paper-child", str(video), str(bundle)],
                              env))
            print(f"bench_cold_start: round {r + 1}: ours {ours[-1]:.1f} s, paper {paper[-1]:.1f} s",
                  file=sys.stderr, flush=True)
        o, p = statistics.median(ours), statistics.median(paper)
        res.update(ours_s=round(o, 2), ours_runs_s=[round(v, 2) for v in ours], paper_s=round(p, 2),
                   paper_runs_s=[round(v, 2) for v in paper], speedup=round(p / o, 2), target=">= 2.5x",
                   met=bool(p / o >= 2.5))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
