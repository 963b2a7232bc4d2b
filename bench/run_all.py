"""Run every benchmark in bench/ and collect their JSON into bench/results.json.

Each bench_*.py runs in its own process, one after the other (they measure speed; running them
side by side would measure each other). A bench that offers --quick gets it when this script is
given --quick. A bench that fails or prints no JSON is recorded with its exit status and the
end of its error output, and the others still run.

    .venv/bin/python bench/run_all.py [--quick | --full] [--only analysis,memory] [--out bench/results.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def parse_json_output(text: str) -> Any:
    """The JSON object a bench printed; tolerates lines printed before it."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    # Try from each line that opens an object, last first: the result is printed at the end.
    starts = [i for i, line in enumerate(text.splitlines()) if line.startswith("{")]
    lines = text.splitlines()
    for i in reversed(starts):
        try:
            return json.loads("\n".join(lines[i:]))
        except json.JSONDecodeError:
            continue
    return None


def bench_scripts(only: list[str] | None) -> list[Path]:
    scripts = sorted(BENCH.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in only or s.stem in only]
    return scripts


def supports(script: Path, flag: str) -> bool:
    return f'"{flag}"' in script.read_text(encoding="utf-8")


def supports_quick(script: Path) -> bool:
    return supports(script, "--quick")


def run_one(script: Path, quick: bool, timeout: float, extra: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, str(script.relative_to(ROOT))]
    if quick and supports_quick(script):
        cmd.append("--quick")
    cmd += extra
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"run_all: {' '.join(cmd)}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = -1
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = (exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or ""))
        err += f"\nrun_all: timed out after {timeout:g} s"
    seconds = time.perf_counter() - t0
    result = parse_json_output(out)
    entry: dict[str, Any] = {
        "command": " ".join(["python", *cmd[1:]]),
        "returncode": rc,
        "seconds": round(seconds, 1),
        "result": result,
    }
    if rc != 0 or result is None:
        entry["stderr_tail"] = err[-3000:]
    status = "ok" if rc == 0 and result is not None else f"FAILED (exit {rc})"
    print(f"run_all: {script.name}: {status} in {seconds:.0f} s", file=sys.stderr, flush=True)
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to the benches that have it")
    ap.add_argument("--only", help="comma-separated bench names (e.g. analysis,memory)")
    ap.add_argument("--full", action="store_true",
                    help="pass --full to the benches that have it (longer, closer to the targets' wording)")
    ap.add_argument("--out", default=str(BENCH / "results.json"))
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per bench (default 1200)")
    args = ap.parse_args()
    only = [s.strip() for s in args.only.split(",")] if args.only else None

    out_path = Path(args.out)
    # Keep earlier results of benches not run this time (e.g. with --only).
    previous: dict[str, Any] = {}
    if out_path.is_file():
        try:
            previous = json.loads(out_path.read_text(encoding="utf-8")).get("benches", {})
        except (json.JSONDecodeError, AttributeError):
            previous = {}
    benches = dict(previous)
    for script in bench_scripts(only):
        extra = ["--full"] if args.full and not args.quick and supports(script, "--full") else []
        benches[script.stem] = {**run_one(script, args.quick, args.timeout, extra),
                                "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                "quick": args.quick and supports_quick(script)}
    data = {
        "format": "sfxstudio-bench-results",
        "version": 1,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_avg": [round(v, 2) for v in os.getloadavg()]},
        "benches": benches,
    }
    from sfxstudio.core.atomic import atomic_write_text

    atomic_write_text(out_path, json.dumps(data, indent=1) + "\n")
    print(f"run_all: wrote {out_path}", file=sys.stderr)
    failed = [k for k, v in benches.items() if v["returncode"] != 0 or v["result"] is None]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
