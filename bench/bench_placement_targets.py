"""Issue 13's measured targets: layered vs single mode, the temporal model vs the mode filter,
sounds on the action, no repetition. Prints one JSON object.

Demo (rendered with sfxstudio.demo.run.DEMO_SEED, analysed once with the demo model at every
frame through sfxstudio.pipeline, motion included):
- event F1 (200 ms onset collar) and segment F1 (1 s cells) for single mode (mode filter),
  layered + majority and layered + the on/off HMM at several stickiness values;
- sounds on the action: the project (layered, the demo's thresholds) gets its files recorded,
  its placements (onsets from motion, auto pan) are rendered and exported as stems (24-bit
  WAV, read back); hits are found in each stem as sharp rises of its 1 ms peak envelope; every
  scripted event of the demo truth ("events") of a class whose sound places hits (one-shot,
  retrigger) is matched to the nearest hit in its class's stem: share within 50 ms, median
  offset. Run with the library's attributes and with lightning as retrigger (a storm flashes
  several times per effect; a one-shot plays once).
- no repetition: neighbouring effects of a class sharing a file, for classes with >= 2 files.
Real clips (../shared/data/videos_real, --model imagenet at --analysis-fps): the same mode and
smoothing comparison (micro F1 over clips and classes); the lightning clip analysed at every
frame: flash frames from the frames' mean brightness, hits in its lightning stem, matched.

Usage: python bench/bench_placement_targets.py [--model models/demo] [--seconds 64]
       [--real DIR | --no-real] [--work DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos_real"
LIGHTNING_CLIP = "r-zine-weatherwidget_lightning-window"
STICKINESS = (0.3, 0.5, 0.7, 0.9)
WITHIN = 0.05  # s: a hit this close to its event is on the action


def _f1(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else (1.0 if not fp else 0.0)
    return {"tp": tp, "fp": fp, "fn": fn, "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def configs(threshold: float, layered_threshold: float) -> dict[str, Any]:
    from sfxstudio.core.project import AnalysisParams

    out = {"single (mode filter)": AnalysisParams(k=1.0, threshold=threshold),
           "layered majority": AnalysisParams(k=1.0, threshold=layered_threshold, mode="layered")}
    for st in STICKINESS:
        out[f"layered hmm {st}"] = AnalysisParams(k=1.0, threshold=layered_threshold, mode="layered",
                                                  smoothing="hmm", stickiness=st)
    return out


def score(caches: list[tuple[Any, list[Any]]], params: dict[str, Any]) -> dict[str, Any]:
    """Micro event / segment F1 over (cache, truth segments) pairs per configuration."""
    from sfxstudio.ml.evaluate import event_f1, segment_f1
    from sfxstudio.pipeline import compute_auto_segments

    out = {}
    for name, p in params.items():
        ev, sg = [0, 0, 0], [0, 0, 0]
        for cache, truth in caches:
            found = [(s.class_name, s.start, s.end) for s in compute_auto_segments(cache, p)]
            e = event_f1(found, truth, collar=0.2)["overall"]
            s = segment_f1(found, truth, cache.duration, 1.0)["overall"]
            for acc, r in ((ev, e), (sg, s)):
                acc[0] += r["tp"]
                acc[1] += r["fp"]
                acc[2] += r["fn"]
        out[name] = {"threshold": p.threshold, "event": _f1(*ev), "segment": _f1(*sg)}
    return out


def stem_hits(stem: np.ndarray, rate: int = 48_000, ratio: float = 2.5) -> np.ndarray:
    """Times (s) where a hit starts in a stem: the 1 ms peak envelope of the high-passed signal
    (first difference: attacks stand out of a ringing tail) rises above `ratio` times its mean
    over the previous 20 ms and above -50 dB of its peak. A thunder crack has attacks of its
    own for ~0.2 s after it starts, so one hit per 0.25 s (the onsets' minimum gap) counts.
    (The render puts each hit exactly on its sample; this finds them from the audio alone.)"""
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.asarray(stem, np.float32)
    x = x.mean(axis=1) if x.ndim == 2 else x
    x = np.abs(np.diff(x, prepend=x[:1]))
    block = rate // 1000
    n = x.shape[0] // block
    if n < 3 or float(x.max()) <= 0:
        return np.empty(0)
    env = x[: n * block].reshape(n, block).max(axis=1)
    floor = float(env.max()) * 10 ** (-50 / 20)
    past = sliding_window_view(np.concatenate((np.zeros(21), env)), 20)[:n].mean(axis=1)  # i-21..i-2
    rising = np.flatnonzero((env > floor) & (env > ratio * past + 1e-9))
    hits: list[int] = []
    for i in rising:
        if not hits or i - hits[-1] >= 250:
            hits.append(int(i))
    return np.asarray(hits, np.float64) / 1000.0


def match_events(events: list[tuple[str, float]], hits: dict[str, np.ndarray]) -> dict[str, Any]:
    per: dict[str, list[float]] = {}
    for cls, t in events:
        h = hits.get(cls, np.empty(0))
        per.setdefault(cls, []).append(float(h[np.abs(h - t).argmin()] - t) if h.size else float("inf"))
    allo = [o for v in per.values() for o in v]
    ok = [o for o in allo if abs(o) <= WITHIN]

    def summary(offs: list[float]) -> dict[str, Any]:
        good = [o for o in offs if abs(o) <= WITHIN]
        fin = [abs(o) for o in offs if np.isfinite(o)]
        return {"events": len(offs), "within_50ms": len(good),
                "share": round(len(good) / len(offs), 3) if offs else None,
                "median_abs_offset_ms": round(1000 * float(np.median(fin)), 1) if fin else None}

    return {"overall": summary(allo), "share": round(len(ok) / len(allo), 3) if allo else None,
            "per_class": {c: summary(v) for c, v in sorted(per.items())}}


def hits_and_files(project: Any, library: Any, events: list[tuple[str, float]], work: Path,
                   duration: float) -> dict[str, Any]:
    import soundfile as sf

    from sfxstudio.media.export import export_stems
    from sfxstudio.media.render import render_stems
    from sfxstudio.pipeline.sounds import class_attributes, project_placements, record_sounds

    record_sounds(project, library)
    attrs = class_attributes(project, library)
    hit_classes = {c for c, a in attrs.items() if a.mode in ("one_shot", "retrigger")}
    placements = project_placements(project, library)
    stems = render_stems(placements, duration)
    folder = work / "stems"
    export_stems(stems, folder, duration)
    hits = {}
    for cls in stems:
        data, rate = sf.read(str(folder / f"{cls}.wav"), dtype="float32", always_2d=True)
        hits[cls] = stem_hits(data, rate)
    considered = [(c, t) for c, t in events if c in hit_classes]
    # No repetition: neighbouring effects of one class sharing a file.
    shared, pairs = 0, 0
    for cls in {s.class_name for s in project.segments}:
        if len(library.variations(cls)) < 2:
            continue
        segs = sorted((s for s in project.segments if s.class_name == cls and s.origin != "mute"),
                      key=lambda s: s.start)
        for a, b in itertools.pairwise(segs):
            pairs += 1
            shared += bool(a.variation and a.variation == b.variation)
    return {"hit_classes": sorted(hit_classes & {c for c, _ in events}),
            "events_of_loop_classes_not_counted": len(events) - len(considered),
            "sounds_on_the_action": match_events(considered, hits),
            "neighbour_pairs": pairs, "neighbours_sharing_a_file": shared,
            "files": {str(s.id): s.variation for s in project.segments if s.origin != "mute"}}


def demo(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from sfxstudio.core.project import Project
    from sfxstudio.demo.demo_video import render_demo_video
    from sfxstudio.demo.events import load_events, load_truth
    from sfxstudio.demo.run import DEMO_LAYERED_THRESHOLD, DEMO_SEED, DEMO_THRESHOLD, demo_params
    from sfxstudio.pipeline import analyze_to_cache, load_library, resegment

    t0 = time.monotonic()
    video, truth_path = render_demo_video(work / "demo.mp4", seconds=args.seconds, seed=DEMO_SEED)
    truth = load_truth(truth_path).segments
    events = load_events(truth_path)
    params = demo_params("layered", None, Path(args.model))
    cache = analyze_to_cache(video, Path(args.model), params)
    out: dict[str, Any] = {"seconds": args.seconds, "frames": cache.frames,
                           "overlap_truth_segments": sum(
                               1 for a in truth for b in truth if a is not b and a[0] < b[0]
                               and a[1] < b[2] and b[1] < a[2]),
                           "events": {c: sum(1 for e in events if e[0] == c)
                                      for c in sorted({e[0] for e in events})},
                           "motion_cached": cache.motion is not None,
                           "prepare_s": round(time.monotonic() - t0, 1)}
    out["modes"] = score([(cache, truth)], configs(DEMO_THRESHOLD, DEMO_LAYERED_THRESHOLD))
    library = load_library(Project())
    for name, override in (("library attributes", None), ("lightning as retrigger", "retrigger")):
        project = Project(video=str(video), params=params, analysis=cache)
        if override:
            project.class_attributes["lightning"] = library.attributes("lightning").with_(mode=override)
        resegment(project)
        sub = work / name.replace(" ", "_")
        sub.mkdir(exist_ok=True)
        r = hits_and_files(project, library, events, sub, cache.duration)
        r.pop("files")
        out[name] = r
    return out


def real(args: argparse.Namespace) -> dict[str, Any]:
    from sfxstudio.core.project import AnalysisParams, Project
    from sfxstudio.core.segments import Segment
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.evaluate import load_truth
    from sfxstudio.ml.imagenet import resolve_model
    from sfxstudio.pipeline import analyze_to_cache, load_library, resegment

    data = Path(args.real)
    clips = sorted((data / "truth").glob("*.json")) if (data / "truth").is_dir() else []
    if not clips:
        return {"skipped": f"no clips with truth in {data}"}
    bundle = ModelBundle.load(resolve_model(args.real_model))
    pairs = []
    t0 = time.monotonic()
    for tf in clips:
        gt = load_truth(tf)
        video = data / "videos" / (gt.video or tf.with_suffix(".mp4").name)
        cache = analyze_to_cache(video, bundle, AnalysisParams(analysis_fps=args.analysis_fps))
        pairs.append((cache, gt.segments))
    out: dict[str, Any] = {"clips": len(clips), "model": bundle.name, "analysis_fps": args.analysis_fps,
                           "analyse_s": round(time.monotonic() - t0, 1)}
    out["modes"] = score(pairs, configs(0.5, 0.5))
    # The lightning clip at every frame: flashes from brightness, hits in the lightning stem.
    tf = data / "truth" / f"{LIGHTNING_CLIP}.json"
    if tf.is_file():
        gt = load_truth(tf)
        video = data / "videos" / gt.video
        params = AnalysisParams(k=1.0, threshold=0.5, mode="layered")
        cache = analyze_to_cache(video, bundle, params)
        flashes = flash_times(video)
        found = Project(video=str(video), params=params, analysis=cache)
        resegment(found)
        library = load_library(found)
        res: dict[str, Any] = {"frames": cache.frames, "flashes": [round(t, 3) for t in flashes],
                               "effects_found": [(s.class_name, round(s.start, 3), round(s.end, 3))
                                                 for s in found.segments if s.origin == "auto"]}
        # Placement measured apart from recognition: the truth's lightning range as the editor's
        # own effect (onsets still come from the analysis's motion).
        for name, override in (("library attributes", None), ("lightning as retrigger", "retrigger")):
            project = Project(video=str(video), params=params, analysis=cache)
            project.segments = [Segment(c, a, b, origin="manual") for c, a, b in gt.segments]
            if override:
                project.class_attributes["lightning"] = library.attributes("lightning").with_(mode=override)
            with tempfile.TemporaryDirectory() as tmp:
                r = hits_and_files(project, library, [("lightning", t) for t in flashes], Path(tmp),
                                   cache.duration)
            r.pop("files")
            res[f"truth range as an effect, {name}"] = r
        out["lightning_clip"] = res
    return out


def flash_times(video: Path, min_gap: float = 0.25) -> list[float]:
    """Frames where the mean brightness jumps: a rise of at least 8/255 over the previous frame
    and a local maximum of that rise, at least min_gap apart (strongest first)."""
    import av

    times, luma = [], []
    with av.open(str(video)) as c:
        for f in c.decode(video=0):
            g = f.to_ndarray(format="gray")
            times.append(float(f.time or 0.0))
            luma.append(float(g.mean()))
    t, y = np.asarray(times), np.asarray(luma)
    rise = np.diff(y, prepend=y[:1])
    cand = [i for i in range(len(y)) if rise[i] >= 8 and rise[i] >= rise[max(0, i - 1)]
            and (i + 1 >= len(y) or rise[i] > rise[i + 1])]
    kept: list[int] = []
    for i in sorted(cand, key=lambda i: -rise[i]):
        if all(abs(t[i] - t[k]) >= min_gap for k in kept):
            kept.append(i)
    return sorted(float(t[i]) for i in kept)


def main() -> int:
    from sfxstudio.core.paths import DEMO_MODEL

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(DEMO_MODEL))
    ap.add_argument("--seconds", type=float, default=64.0)
    ap.add_argument("--real", default=str(REAL))
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--real-model", default="imagenet")
    ap.add_argument("--analysis-fps", type=float, default=4.0)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        out: dict[str, Any] = {}
        if not args.no_demo:
            out["demo"] = demo(args, work)
        if not args.no_real:
            out["real"] = real(args)
    print(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
