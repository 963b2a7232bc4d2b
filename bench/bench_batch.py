"""Batch throughput: single-file `sfxstudio analyze` runs summed vs `sfxstudio batch` (local pool,
--ray local), the rerun, and a killed run resumed. Prints JSON.

    python bench/bench_batch.py [--videos DIR] [--model models/demo|imagenet] [--workers 2] [--no-ray]
                                [--rounds 2]

Every run is a whole process, as an editor runs it, exporting the same files (effects WAV,
segments JSON, project). The model's CPU conversion is made once before timing (a warm-up
run), so no timed run pays it. Targets (issue 16): batch >= 0.9 of the summed single runs'
throughput, Ray local <= 15 % slower than the pool, a rerun <= 10 % of the first run's time,
a killed run resumes with one ok line per video. The pool and Ray runs alternate (`--rounds`
of each, each into a fresh folder) and their medians are compared, so a change in the shared
machine's load hits both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
EXPORTS = "wav,json,project"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sfxstudio", *args]


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    dt = time.perf_counter() - t0
    if proc.returncode not in (0,):
        print(f"bench: {' '.join(cmd[3:6])}... exited {proc.returncode}: {proc.stderr[-400:]}",
              file=sys.stderr)
    return dt, proc.returncode


def _ok_lines(manifest: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in manifest.read_text().splitlines():
        rec = json.loads(line)
        if rec["status"] == "ok":
            counts[rec["path"]] = counts.get(rec["path"], 0) + 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", default=str(VIDEOS))
    ap.add_argument("--model", default=str(ROOT / "models" / "demo"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--rounds", type=int, default=2, help="pool and Ray runs, alternating (medians)")
    a = ap.parse_args()
    videos = sorted(p for p in Path(a.videos).iterdir() if p.is_file())
    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    env = {**os.environ, "SFXSTUDIO_CACHE_DIR": str(tmp / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    # Warm-up: the model's one-off CPU conversion (cached), not part of any timed run.
    _timed(_cli("analyze", str(videos[0]), "--model", a.model, "--analysis-fps", "1", "--quiet"), env)

    singles = {}
    for v in videos:
        out = tmp / "single" / v.stem
        out.mkdir(parents=True)
        dt, _ = _timed(_cli("analyze", str(v), "--model", a.model, "--quiet", "--wav", str(out / "e.wav"),
                            "--json", str(out / "s.json"), "--project", str(out / "p.sfxproj")), env)
        singles[v.name] = round(dt, 2)
    single_sum = sum(singles.values())

    batch = _cli("batch", a.videos, "--model", a.model, "--exports", EXPORTS, "--workers", str(a.workers),
                 "--quiet", "--out")
    try:
        import ray  # noqa: F401
        has_ray = not a.no_ray
    except ImportError:
        has_ray = False
    pools: list[float] = []
    rays: list[float] = []
    pool_rc = ray_rc = 0
    for r in range(max(1, a.rounds)):
        dt, rc = _timed([*batch, str(tmp / ("pool" if r == 0 else f"pool{r}"))], env)
        pools.append(dt)
        pool_rc = pool_rc or rc
        if has_ray:
            dt, rc = _timed([*batch, str(tmp / f"ray{r}"), "--ray", "local"], env)
            rays.append(dt)
            ray_rc = ray_rc or rc
    pool_s = statistics.median(pools)
    rerun_s, rerun_rc = _timed([*batch, str(tmp / "pool")], env)
    res: dict[str, object] = {
        "model": a.model, "videos": len(videos), "workers": a.workers, "cpus": os.cpu_count(),
        "single_runs_s": singles, "single_sum_s": round(single_sum, 2),
        "pool_s": round(pool_s, 2), "pool_runs_s": [round(v, 2) for v in pools], "pool_rc": pool_rc,
        "pool_throughput_vs_singles": round(single_sum / pool_s, 3),
        "rerun_s": round(rerun_s, 2), "rerun_rc": rerun_rc, "rerun_fraction": round(rerun_s / pools[0], 3),
    }
    if rays:
        ray_s = statistics.median(rays)
        res.update(ray_s=round(ray_s, 2), ray_runs_s=[round(v, 2) for v in rays], ray_rc=ray_rc,
                   ray_slower_than_pool=round(ray_s / pool_s - 1, 3))
    elif not a.no_ray:
        res["ray"] = "not installed"

    # Killed with SIGKILL (the whole process group) after its first finished video, then rerun.
    manifest = tmp / "killed" / "manifest.jsonl"
    proc = subprocess.Popen([*batch, str(tmp / "killed")], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    while proc.poll() is None and not (manifest.exists() and manifest.read_text().count("\n") >= 1):
        time.sleep(0.05)
    lines_at_kill = manifest.read_text().count("\n") if manifest.exists() else 0
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resume_s, resume_rc = _timed([*batch, str(tmp / "killed")], env)
    counts = _ok_lines(manifest)
    res.update(killed_after_lines=lines_at_kill, resume_s=round(resume_s, 2), resume_rc=resume_rc,
               resume_one_ok_line_per_video=len(counts) == len(videos) and set(counts.values()) == {1})
    print(json.dumps(res, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
