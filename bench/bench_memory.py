"""Benchmark e (issue "Speed"): peak resident memory of an analysis, 1-minute vs 30-minute video.

Each analysis runs in its own subprocess (`pipeline.analyze` in-process there, with a small
fast model: democnn, random weights) on synthetic 320x180 10 fps H.264 videos, both at the same
analysis rate. Peak RSS comes from os.wait4() (ru_maxrss of that one child) and from the child's
own /proc/self/status VmHWM. A third child only loads the model and runs one batch: the fixed
cost of TensorFlow + the model. Target: 30-min peak <= 1-min peak + 50 MB.

By design the analysis keeps per-frame probabilities (N x C float32), embeddings (N x D float16)
and times (N float64); the JSON says how much of the difference those account for (once, and
twice for the moment np.concatenate holds both the chunks and the result).
Prints one JSON object.

    .venv/bin/python bench/bench_memory.py [--rate 5] [--long-seconds 1800] [--backbone democnn]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_media import make_bundle, make_video

SIZE = (320, 180)
FPS = 10.0
MB = 1024 * 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def fixed_mmap_threshold(nbytes: int = 128 * 1024) -> bool:
    """Prototype of the proposed fix: glibc mallopt(M_MMAP_THRESHOLD) before TensorFlow loads.

    glibc raises its mmap threshold each time a large block is freed, so the per-batch tensors
    then come from the heap, which fragments and keeps growing over a long analysis. A fixed
    threshold keeps them mmapped and returned on free (and turns the dynamic raising off).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(-3, nbytes))  # -3 = M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def child(video: str, bundle_dir: str, rate: float | None, load_only: bool, fix: bool = False) -> None:
    """Runs inside the subprocess: one analysis, then a JSON line on stdout."""
    if fix:
        fixed_mmap_threshold()
    import numpy as np

    from sfxstudio import pipeline
    from sfxstudio.core.project import AnalysisParams
    from sfxstudio.ml.bundle import ModelBundle

    t0 = time.perf_counter()
    bundle = ModelBundle.load(bundle_dir)
    w, h = bundle.input_size
    bundle.predict(np.zeros((32, h, w, 3), np.uint8))
    out: dict[str, Any] = {"rss_after_load_kb": _status_kb("VmRSS")}
    if not load_only:
        params = AnalysisParams(analysis_fps=rate)
        cache = None
        for p in pipeline.analyze(video, bundle, params):
            if p.finished:
                cache = p.result
        assert cache is not None
        pipeline.compute_auto_segments(cache, params)
        out.update({
            "frames": int(cache.frames),
            "probs_bytes": int(cache.probs.nbytes),
            "embeddings_bytes": int(cache.embeddings.nbytes),
            "times_bytes": int(cache.times.nbytes),
            "embedding_dtype": str(cache.embeddings.dtype),
            "rss_after_analysis_kb": _status_kb("VmRSS"),
        })
    out["vm_hwm_kb"] = _status_kb("VmHWM")
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out), flush=True)


def run_child(video: Path, bundle_dir: Path, rate: float | None, load_only: bool = False,
              fix: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(video), str(bundle_dir),
           "--rate", "all" if rate is None else str(rate)]
    if load_only:
        cmd.append("--load-only")
    if fix:
        cmd.append("--mmap-threshold-fix")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Read both pipes fully, then reap this one child with wait4 for its own rusage.
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {stderr.decode(errors='replace')[-2000:]}")
    line = [ln for ln in stdout.decode().splitlines() if ln.startswith("{")][-1]
    res = json.loads(line)
    res["ru_maxrss_kb"] = int(usage.ru_maxrss)  # Linux: kilobytes
    res["wall_s"] = round(wall, 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=2, metavar=("VIDEO", "BUNDLE"), help=argparse.SUPPRESS)
    ap.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mmap-threshold-fix", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--prototype", action="store_true",
                    help="also run both analyses with the proposed mallopt(M_MMAP_THRESHOLD) fix")
    ap.add_argument("--rate", default="5", help="analysis fps for both videos, or 'all' (default 5)")
    ap.add_argument("--short-seconds", type=float, default=60.0)
    ap.add_argument("--long-seconds", type=float, default=1800.0)
    ap.add_argument("--backbone", default="democnn", help="democnn | mobilenetv3small | tiny")
    ap.add_argument("--quick", action="store_true", help="smoke run: a 5-minute long video")
    args = ap.parse_args()
    rate = None if args.rate.lower() in ("all", "0") else float(args.rate)
    if args.child:
        child(args.child[0], args.child[1], rate, args.load_only, args.mmap_threshold_fix)
        return
    if args.quick:
        args.long_seconds = 300.0

    t_begin = time.perf_counter()
    bundle_dir = make_bundle(args.backbone)
    short = make_video(args.short_seconds, SIZE, FPS)
    long = make_video(args.long_seconds, SIZE, FPS)

    base = run_child(short, bundle_dir, rate, load_only=True)
    r_short = run_child(short, bundle_dir, rate)
    r_long = run_child(long, bundle_dir, rate)

    def peak(r: dict[str, Any]) -> int:
        return max(r["ru_maxrss_kb"], r["vm_hwm_kb"]) * 1024

    diff = peak(r_long) - peak(r_short)
    proto: dict[str, Any] | None = None
    if args.prototype:
        p_short = run_child(short, bundle_dir, rate, fix=True)
        p_long = run_child(long, bundle_dir, rate, fix=True)
        pdiff = peak(p_long) - peak(p_short)
        proto = {"what": "mallopt(M_MMAP_THRESHOLD, 128 KiB) at process start (glibc)",
                 "short_peak_mb": round(peak(p_short) / MB, 1), "long_peak_mb": round(peak(p_long) / MB, 1),
                 "peak_difference_mb": round(pdiff / MB, 2), "met": bool(pdiff <= 50 * MB)}
    kept = [sum(r[k] for k in ("probs_bytes", "embeddings_bytes", "times_bytes")) for r in (r_short, r_long)]
    kept_diff = kept[1] - kept[0]
    print(json.dumps({
        "benchmark": "e_peak_memory",
        "model": f"{args.backbone} (random weights)",
        "videos": {"short": str(short), "long": str(long), "size": list(SIZE), "fps": FPS},
        "analysis_fps": "every frame" if rate is None else rate,
        "load_only_peak_mb": round(peak(base) / MB, 1),
        "short_seconds": args.short_seconds,
        "long_seconds": args.long_seconds,
        "short": {**r_short, "peak_mb": round(peak(r_short) / MB, 1)},
        "long": {**r_long, "peak_mb": round(peak(r_long) / MB, 1)},
        "peak_difference_mb": round(diff / MB, 2),
        "kept_results_difference_mb": round(kept_diff / MB, 2),
        "kept_results_share_of_difference": round(kept_diff / diff, 3) if diff > 0 else None,
        "kept_results_difference_x2_mb": round(2 * kept_diff / MB, 2),
        "note": "kept results = probs (N x C float32) + embeddings (N x D float16) + times (N float64); "
                "x2 = chunks and the concatenated arrays alive together at the end of analyze()",
        "target": "long peak <= short peak + 50 MB",
        "met": bool(diff <= 50 * MB),
        "prototype_fix": proto,
        "bench_seconds": round(time.perf_counter() - t_begin, 1),
    }, indent=1))


if __name__ == "__main__":
    main()
