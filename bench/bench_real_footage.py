"""Issue 11: the real-footage recogniser (`--model imagenet`) on every clip of ../shared/data/videos_real.

Each clip is analysed through the product's own path (sfxstudio.pipeline.analyze: PyAV decoding,
the CPU runtime the CLI would pick, LiteRT on a CPU) at --analysis-fps (default 4) with the
default k and threshold, and scored against its hand-made multi-label truth with
sfxstudio.ml.evaluate: segment F1 on 1 s cells and event F1 with a 200 ms onset collar, per
clip, per class (summed over clips) and overall (micro over classes and clips).
Prints one JSON object. Skips (exit 0, a JSON "skipped" reason) when the folder is absent.
Usage: python bench/bench_real_footage.py [--model imagenet] [--analysis-fps 4] [--data DIR]
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos_real"


def _f1(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else (1.0 if not fp else 0.0)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="imagenet")
    ap.add_argument("--analysis-fps", type=float, default=4.0)
    ap.add_argument("--k", type=float, default=1.0)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args()
    data = Path(args.data)
    clips = sorted((data / "truth").glob("*.json")) if (data / "truth").is_dir() else []
    if not clips:
        print(json.dumps({"skipped": f"no clips with truth in {data}"}))
        return 0

    from sfxstudio.core.project import AnalysisParams
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.evaluate import evaluate_cache, load_truth
    from sfxstudio.ml.imagenet import resolve_model
    from sfxstudio.pipeline import analyze_to_cache

    t0 = time.monotonic()
    folder = resolve_model(args.model)
    bundle = ModelBundle.load(folder)
    load_s = time.monotonic() - t0
    params = AnalysisParams(k=args.k, threshold=args.threshold, analysis_fps=args.analysis_fps)
    per_clip: dict[str, Any] = {}
    sums: dict[str, dict[str, list[int]]] = {"segment": {}, "event": {}}
    total_video_s = total_wall = 0.0
    frames = 0
    for truth_file in clips:
        gt = load_truth(truth_file)
        video = data / "videos" / (gt.video or truth_file.with_suffix(".mp4").name)
        started = time.monotonic()
        cache = analyze_to_cache(video, bundle, params)
        wall = time.monotonic() - started
        r = evaluate_cache(cache, gt, args.k, args.threshold)
        total_video_s += cache.duration
        total_wall += wall
        frames += cache.frames
        per_clip[truth_file.stem] = {
            "duration_s": round(cache.duration, 2), "frames": cache.frames, "wall_s": round(wall, 2),
            "truth_classes": sorted({e[0] for e in gt.segments}),
            "predicted_classes": sorted({e[0] for e in r["predicted"]}),
            "segment_f1": round(r["segment"]["overall"]["f1"], 3),
            "event_f1": round(r["event"]["overall"]["f1"], 3),
        }
        for kind in ("segment", "event"):
            for cls, s in r[kind]["per_class"].items():
                acc = sums[kind].setdefault(cls, [0, 0, 0])
                acc[0] += s["tp"]
                acc[1] += s["fp"]
                acc[2] += s["fn"]
    out: dict[str, Any] = {
        "model": str(folder), "model_name": bundle.name, "runtime": bundle.runtime,
        "supported_classes": [c for c in bundle.supported_classes if c != "otherwise"],
        "analysis_fps": args.analysis_fps, "k": args.k, "threshold": args.threshold,
        "clips": len(clips), "video_s": round(total_video_s, 1), "model_load_s": round(load_s, 2),
        "analysis_wall_s": round(total_wall, 1), "analysed_frames": frames,
        "frames_per_s": round(frames / total_wall, 1) if total_wall else None,
        "x_real_time": round(total_video_s / total_wall, 1) if total_wall else None,
    }
    for kind in ("segment", "event"):
        tp = sum(v[0] for v in sums[kind].values())
        fp = sum(v[1] for v in sums[kind].values())
        fn = sum(v[2] for v in sums[kind].values())
        out[f"{kind}_overall"] = _f1(tp, fp, fn)
        out[f"{kind}_per_class"] = {c: _f1(*v) for c, v in sorted(sums[kind].items())}
    out["per_clip"] = per_clip
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
