"""Batch throughput: single-file `sfxstudio analyze` runs summed vs `sfxstudio batch` (local pool,
--ray local), the rerun, and a killed run resumed. Prints JSON.

    python bench/bench_batch.py [--videos DIR] [--model models/demo|imagenet] [--workers 2] [--no-ray]
                                [--rounds 2] [--batch-only]

Every run is a whole process, as an editor runs it, exporting the same files (effects WAV,
segments JSON, project). The model's CPU conversion is made once before timing (a warm-up
run), so no timed run pays it. Targets (issue 16): batch >= 0.9 of the summed single runs'
throughput, Ray local <= 15 % slower than the pool, a rerun <= 10 % of the first run's time,
a killed run resumes with one ok line per video. The pool and Ray runs alternate (`--rounds`
of each, each into a fresh folder) and their medians are compared, so a change in the shared
machine's load hits both sides alike. `--batch-only`: only those alternating runs (no single
runs, rerun or killed run), to compare pool and Ray quickly; each run's CPU seconds and the load
average before it are reported either way.
"""

from __future__ import annotations

import argparse
import contextlib
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


CPU_S: dict[str, list[float]] = {}  # per kind of run: CPU seconds of each run, all its processes
LOAD1: list[float] = []  # the 1-minute load average before each timed batch run
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _session_cpu_s(sid: int) -> dict[int, float]:
    """CPU seconds so far of each process in session `sid` (Linux /proc; empty elsewhere). A run's
    processes, Ray's own included (GCS, raylet, agents, workers), stay in the session it starts
    in; Ray's workers outlive the raylet that would reap them, so the children's rusage misses
    them and sampling is the way to count them."""
    found: dict[int, float] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid:
                found[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK
    return found


def _timed(cmd: list[str], env: dict[str, str], kind: str | None = None) -> tuple[float, int]:
    if kind is not None:
        LOAD1.append(round(os.getloadavg()[0], 2))
    cpu: dict[int, float] = {}
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True,
                                start_new_session=True)
        while True:
            if kind is not None:
                cpu.update(_session_cpu_s(proc.pid))
            try:
                proc.wait(timeout=0.1)  # returns as soon as it exits: the time stays exact
                break
            except subprocess.TimeoutExpired:
                pass
        dt = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read()
    if kind is not None:
        CPU_S.setdefault(kind, []).append(round(sum(cpu.values()), 1))
    if proc.returncode not in (0,):
        print(f"bench: {' '.join(cmd[3:6])}... exited {proc.returncode}: {stderr[-400:]}",
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
    ap.add_argument("--batch-only", action="store_true", help="only the alternating pool and Ray runs")
    a = ap.parse_args()
    videos = sorted(p for p in Path(a.videos).iterdir() if p.is_file())
    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    env = {**os.environ, "SFXSTUDIO_CACHE_DIR": str(tmp / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    # Warm-up: the model's one-off CPU conversion (cached), not part of any timed run.
    _timed(_cli("analyze", str(videos[0]), "--model", a.model, "--analysis-fps", "1", "--quiet"), env)

    singles: dict[str, float] = {}
    for v in [] if a.batch_only else videos:
        out = tmp / "single" / v.stem
        out.mkdir(parents=True)
        dt, _ = _timed(_cli("analyze", str(v), "--model", a.model, "--quiet", "--wav", str(out / "e.wav"),
                            "--json", str(out / "s.json"), "--project", str(out / "p.sfxproj")), env)
        singles[v.name] = round(dt, 2)

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
        dt, rc = _timed([*batch, str(tmp / ("pool" if r == 0 else f"pool{r}"))], env, "pool")
        pools.append(dt)
        pool_rc = pool_rc or rc
        if has_ray:
            dt, rc = _timed([*batch, str(tmp / f"ray{r}"), "--ray", "local"], env, "ray")
            rays.append(dt)
            ray_rc = ray_rc or rc
    pool_s = statistics.median(pools)
    res: dict[str, object] = {
        "model": a.model, "videos": len(videos), "workers": a.workers, "cpus": os.cpu_count(),
        "pool_s": round(pool_s, 2), "pool_runs_s": [round(v, 2) for v in pools], "pool_rc": pool_rc,
    }
    if rays:
        ray_s = statistics.median(rays)
        res.update(ray_s=round(ray_s, 2), ray_runs_s=[round(v, 2) for v in rays], ray_rc=ray_rc,
                   ray_slower_than_pool=round(ray_s / pool_s - 1, 3))
    elif not a.no_ray:
        res["ray"] = "not installed"
    # The machine's other load and each run's CPU seconds (sampled every 0.1 s: a process's last
    # tenth is missed) tell a run slowed by a busy machine from one that does more work.
    res.update(load1_before_runs=LOAD1, pool_cpu_s=CPU_S.get("pool", []))
    if rays:
        res["ray_cpu_s"] = CPU_S.get("ray", [])
    if not a.batch_only:
        res.update(_singles_rerun_and_kill(batch, singles, pools[0], tmp, videos, env))
    print(json.dumps(res, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)


def _singles_rerun_and_kill(batch: list[str], singles: dict[str, float], first_pool_s: float, tmp: Path,
                            videos: list[Path], env: dict[str, str]) -> dict[str, object]:
    """The summed single runs vs the pool, the rerun of the first pool run's folder, and a run
    killed with SIGKILL (the whole process group) after its first finished video, then rerun."""
    single_sum = sum(singles.values())
    rerun_s, rerun_rc = _timed([*batch, str(tmp / "pool")], env)
    res: dict[str, object] = {
        "single_runs_s": singles, "single_sum_s": round(single_sum, 2),
        "pool_throughput_vs_singles": round(single_sum / first_pool_s, 3),
        "rerun_s": round(rerun_s, 2), "rerun_rc": rerun_rc,
        "rerun_fraction": round(rerun_s / first_pool_s, 3),
    }
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
    return res

if __name__ == "__main__":
    main()
