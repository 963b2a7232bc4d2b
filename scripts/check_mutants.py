"""Does the test suite bite? Apply each deliberate bug of issue 10 to a copy and run the tests.

Usage: .venv/bin/python scripts/check_mutants.py [--only ID,ID] [--tests PATHS]

For every mutant: copy the tracked files of the working tree to a temporary folder, make one
textual change there (never in this checkout), run the mutant's test folders with pytest from
that folder (so the copy's `sfxstudio` is the one imported) and record whether the suite fails
("killed") or passes ("survived"). Prints one JSON object; exit status 1 when any survived or
could not be applied.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    id: str
    what: str
    file: str
    edits: tuple[tuple[str, str], ...]  # (exact old text, new text), each must occur
    tests: tuple[str, ...]


MUTANTS = [
    Mutant("threshold-eq", "p == tau demoted in threshold_labels", "sfxstudio/analysis/threshold.py",
           (("(best < tau)", "(best <= tau)"),), ("tests/analysis", "tests/core")),
    Mutant("radius-int", "round(k * f_a) replaced by int()", "sfxstudio/analysis/segmentation.py",
           (("radius = round(k * fa)", "radius = int(k * fa)"),), ("tests/analysis", "tests/core")),
    Mutant("empty-run", "an empty run kept in segments_from_labels", "sfxstudio/analysis/segmentation.py",
           ((" for c, a, b in zip(cls, t0, t1, strict=True) if b > a]",
             " for c, a, b in zip(cls, t0, t1, strict=True)]"),), ("tests/analysis", "tests/core")),
    Mutant("move-earlier", "effects unable to move earlier (EditSegment)", "sfxstudio/core/commands.py",
           (("seg.start if self.start is None else self.start",
             "seg.start if self.start is None else max(seg.start, self.start)"),), ("tests/core",)),
    Mutant("redo-replan", "redo re-planning instead of replaying", "sfxstudio/core/commands.py",
           (("        if self._removed is None:\n            removed, added = self._plan(doc)",
             "        if True:\n            removed, added = self._plan(doc)"),), ("tests/core",)),
    Mutant("fade-in", "fade_in ignored", "sfxstudio/media/render.py",
           (("        block[:fi] *= _fade_in_ramp(fi)", "        pass"),), ("tests/media",)),
    Mutant("fade-out-cap", "the fade-out cap at half the segment removed", "sfxstudio/media/render.py",
           (("fo = _fade_len(attrs.fade_out, rate, half) if cut",
             "fo = _fade_len(attrs.fade_out, rate, m) if cut"),), ("tests/media",)),
    Mutant("one-shot-fade", "a one-shot that ends by itself given the segment-end fade",
           "sfxstudio/media/render.py", (("cut = m == length", "cut = True"),), ("tests/media",)),
    Mutant("peak-guard-0", "the peak guard acting only above 0 dBFS instead of -1",
           "sfxstudio/media/render.py", (("DEFAULT_PEAK_DBFS = -1.0", "DEFAULT_PEAK_DBFS = 0.0"),),
           ("tests/media",)),
    Mutant("mp4-length", "MP4 audio length taken from the effects instead of the video",
           "sfxstudio/media/export.py",
           (("frames = round(timing.duration * SAMPLE_RATE)", "frames = len(effects)"),), ("tests/media",)),
    Mutant("late-first-frame", "no silence before a late first frame", "sfxstudio/media/export.py",
           (("lead = round(timing.offset * SAMPLE_RATE)", "lead = 0"),), ("tests/media",)),
    Mutant("mix-swapped", "mix gains swapped on load", "sfxstudio/core/project.py",
           (('return cls(original_gain_db=v.number(d.get("original_gain_db"',
             'return cls(effects_gain_db=v.number(d.get("original_gain_db"'),
            ('effects_gain_db=v.number(d.get("effects_gain_db"',
             'original_gain_db=v.number(d.get("effects_gain_db"')), ("tests/core",)),
    Mutant("sidecar-duration", "the sidecar's duration read from the wrong field",
           "sfxstudio/core/project_io.py",
           (('duration = float(z["duration"])', 'duration = float(z["frame_duration"])'),), ("tests/core",)),
    Mutant("times-2dp", "times rounded to 2 decimals on save", "sfxstudio/core/segments.py",
           (('"start": float(self.start),', '"start": round(float(self.start), 2),'),
            ('"end": float(self.end),', '"end": round(float(self.end), 2),')), ("tests/core",)),
    Mutant("library-not-saved", "the library not saved", "sfxstudio/core/project_io.py",
           (('"library": _rel(project.library, base),', '"library": None,'),), ("tests/core",)),
    Mutant("collar-pairs", "onset matching ignoring which pairs lie within the collar",
           "sfxstudio/ml/evaluate.py",
           (("for r, c in zip(rows, cols, strict=True) if valid[r, c]]",
             "for r, c in zip(rows, cols, strict=True)]"),), ("tests/ml/test_evaluate.py",)),
]


def copy_tree(dest: Path) -> None:
    """The tracked and untracked-not-ignored files of the working tree, as they are now."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def run_mutant(m: Mutant, extra_tests: tuple[str, ...]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{m.id}-") as tmp:
        copy = Path(tmp)
        copy_tree(copy)
        path = copy / m.file
        text = path.read_text(encoding="utf-8")
        for old, new in m.edits:
            if text.count(old) != 1:
                return {"id": m.id, "what": m.what, "status": "not applied",
                        "why": f"{m.file}: the text to change occurs {text.count(old)} times: {old!r}"}
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
        env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "2",
                            "PYTHONDONTWRITEBYTECODE": "1"}
        which = subprocess.run([sys.executable, "-c", "import sfxstudio; print(sfxstudio.__file__)"],
                               cwd=copy, env=env, capture_output=True, text=True).stdout.strip()
        if not which.startswith(str(copy)):
            return {"id": m.id, "what": m.what, "status": "not applied",
                    "why": f"the copy is not the package imported ({which})"}
        started = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                              *m.tests, *extra_tests], cwd=copy, env=env, capture_output=True, text=True)
        last = [ln for ln in res.stdout.splitlines() if ln.strip()][-1:] or [""]
        failed = [ln.split(" ")[1] for ln in res.stdout.splitlines() if ln.startswith("FAILED ")][:3]
        return {"id": m.id, "what": m.what, "status": "killed" if res.returncode != 0 else "survived",
                "tests": list(m.tests), "seconds": round(time.monotonic() - started, 1),
                "pytest": last[0], "first_failures": failed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--tests", nargs="*", default=(), help="extra test paths for every mutant")
    args = ap.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only.split(",")]
    results = []
    for m in chosen:
        r = run_mutant(m, tuple(args.tests))
        print(f"{m.id}: {r['status']}", file=sys.stderr, flush=True)
        results.append(r)
    summary = {"mutants": len(results), "killed": sum(r["status"] == "killed" for r in results),
               "survived": [r["id"] for r in results if r["status"] == "survived"],
               "not_applied": [r["id"] for r in results if r["status"] == "not applied"],
               "results": results}
    print(json.dumps(summary, indent=1))
    return 0 if summary["killed"] == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
