"""Issue 11 teaching target: learn from the editor's corrections on real footage, scored on unseen clips.

For every class with two or more clips in ../shared/data/videos_real, each of its clips in turn
is the teaching clip: it is analysed with the real base (the imagenet_mapped EfficientNet-Lite0
bundle, the packaged weights, no download) at 4 analysed frames/s; a project is made whose manual
effects are that clip's truth segments (all its classes) and whose mutes are the base's
automatic effects the truth contradicts (what an editor deleting wrong proposals leaves); the
base is taught from it with teach()'s defaults; then the OTHER clips of that class are analysed
with the taught model and scored at the default settings (k = 1 s, tau = 0.5), segment F1 over
1 s cells, before (base) and after (taught), for the class and over all of the clip's classes.

Honesty checks beside the target: the taught class's false-positive cells on every clip that
does not contain it (a model that learnt "everything is a dog" scores perfectly on the other dog
clip and fails here), and mean segment F1 over all clips except the teaching one. Nothing here is
tuned on these clips: teach() runs with its defaults.

Usage: python bench/bench_teach_real.py [--data DIR]   (prints one JSON object)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.segments import Segment

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "videos_real"
RATE = 4.0  # analysed frames per second
PARAMS = AnalysisParams(analysis_fps=RATE)  # default k and tau


def truth_of(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["events"] = [(s["class"], float(s["start"]), float(s["end"])) for s in data["segments"]]
    return data


def subtract(start: float, end: float, ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """[start, end) minus the ranges."""
    pieces = [(start, end)]
    for a, b in ranges:
        rest = []
        for x, y in pieces:
            if b <= x or a >= y:
                rest.append((x, y))
                continue
            rest += [p for p in ((x, a), (b, y)) if p[1] - p[0] > 1e-6]
        pieces = rest
    return pieces


def corrected_project(video: Path, cache: AnalysisCache, events: list[tuple[str, float, float]]) -> Project:
    from sfxstudio.pipeline import compute_auto_segments

    segments = [Segment(c, s, e, origin="manual") for c, s, e in events]
    for auto in compute_auto_segments(cache, PARAMS):
        keep = [(s, e) for c, s, e in events if c == auto.class_name]
        wrong = subtract(auto.start, auto.end, keep)
        segments += [Segment(auto.class_name, a, b, origin="mute") for a, b in wrong]
    return Project(video=str(video), analysis=cache, params=PARAMS, segments=segments)


def score(cache: AnalysisCache, truth: dict[str, Any]) -> dict[str, Any]:
    from sfxstudio.ml.evaluate import segment_f1
    from sfxstudio.pipeline import compute_auto_segments

    return segment_f1(compute_auto_segments(cache, PARAMS), truth["events"], float(truth["duration"]))


def class_f1(result: dict[str, Any], cls: str) -> float:
    return float(result["per_class"].get(cls, {"f1": 1.0})["f1"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    from sfxstudio.ml import imagenet
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.teach import reclassified_cache, teach
    from sfxstudio.pipeline import analyze_to_cache

    truths = {p.stem: truth_of(p) for p in sorted((args.data / "truth").glob("*.json"))}
    videos = {c: args.data / "videos" / t["video"] for c, t in truths.items()}
    by_class: dict[str, list[str]] = {}
    for clip, t in truths.items():
        for cls in sorted({e[0] for e in t["events"]}):
            by_class.setdefault(cls, []).append(clip)
    taught_classes = {c: clips for c, clips in by_class.items() if len(clips) >= 2}

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="teach_real_") as tmp:
        base_dir = imagenet.create_imagenet_bundle(Path(tmp) / "base", weights="imagenet",
                                                   architecture="efficientnetlite0")
        base = ModelBundle.load(base_dir, runtime="tf")
        caches = {c: analyze_to_cache(videos[c], base, PARAMS) for c in truths}
        analysed_s = time.perf_counter() - started
        runs: list[dict[str, Any]] = []
        for cls, clips in taught_classes.items():
            for teacher in clips:
                project = corrected_project(videos[teacher], caches[teacher], truths[teacher]["events"])
                out = teach([project], base, Path(tmp) / f"taught-{teacher}")
                taught = ModelBundle.load(out, runtime="tf")
                meta = taught.meta["training"]
                unseen = []
                for clip in clips:
                    if clip == teacher:
                        continue
                    after_cache = analyze_to_cache(videos[clip], taught, PARAMS)  # analysed again
                    b, a = score(caches[clip], truths[clip]), score(after_cache, truths[clip])
                    unseen.append({"clip": clip, "class_f1_before": class_f1(b, cls),
                                   "class_f1_after": class_f1(a, cls),
                                   "clip_f1_before": b["overall"]["f1"], "clip_f1_after": a["overall"]["f1"]})
                # Honesty: the taught class where it is absent, and every other clip, from the
                # cached embeddings (the same forward pass; tests/ml/test_teach.py checks it).
                fp_before = fp_after = cells = 0
                all_before, all_after = [], []
                for clip, t in truths.items():
                    if clip == teacher:
                        continue
                    b = score(caches[clip], t)
                    a = score(reclassified_cache(caches[clip], taught), t)
                    all_before.append(b["overall"]["f1"])
                    all_after.append(a["overall"]["f1"])
                    if cls not in {e[0] for e in t["events"]}:
                        fp_before += int(b["per_class"].get(cls, {"fp": 0})["fp"])
                        fp_after += int(a["per_class"].get(cls, {"fp": 0})["fp"])
                        cells += int(a["blocks"])
                runs.append({
                    "class": cls, "teaching_clip": teacher,
                    "corrected_frames": meta["corrected_frames"],
                    "accuracy_on_corrections": [meta["accuracy_on_corrections_before"],
                                                meta["accuracy_on_corrections_after"]],
                    "unseen": unseen,
                    "false_positive_cells_where_absent": {"before": fp_before, "after": fp_after,
                                                          "cells": cells},
                    "mean_f1_all_other_clips": {"before": round(float(np.mean(all_before)), 4),
                                                "after": round(float(np.mean(all_after)), 4)},
                })
    pairs = [u for r in runs for u in r["unseen"]]
    per_class = {
        cls: {"before": round(float(np.mean([u["class_f1_before"] for r in runs if r["class"] == cls
                                              for u in r["unseen"]])), 4),
              "after": round(float(np.mean([u["class_f1_after"] for r in runs if r["class"] == cls
                                             for u in r["unseen"]])), 4)}
        for cls in taught_classes
    }
    print(json.dumps({
        "benchmark": "teach_real",
        "data": str(args.data),
        "analysis_fps": RATE, "k": PARAMS.k, "tau": PARAMS.threshold,
        "classes_with_two_or_more_clips": taught_classes,
        "runs": runs,
        "per_class_segment_f1_on_unseen_clips": per_class,
        "mean_segment_f1_on_unseen_clips": {
            "before": round(float(np.mean([u["class_f1_before"] for u in pairs])), 4),
            "after": round(float(np.mean([u["class_f1_after"] for u in pairs])), 4),
        },
        "target_after": 0.6,
        "seconds": {"analysis": round(analysed_s, 1), "total": round(time.perf_counter() - started, 1)},
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
