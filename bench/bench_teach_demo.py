"""Issue 5 target: a demo model that is wrong on purpose, three effects corrected by hand,
"Improve model from my corrections", and the event F1 before and after.

1. Train a variant of the demo model that never saw one class (default: fire).
2. Analyse the demo video (the `sfxstudio demo` one) with it: event F1 before.
3. Correct three of its effects by hand: the three ground-truth events it gets most wrong
   become manual segments of the right class (what an editor drags in the lanes).
4. Teach a new head from those corrections (sfxstudio.ml.teach) and re-classify the video from
   its cached embeddings: the model's own automatic effects are scored again (event F1 after).
5. Generalisation: a second demo video with other seeds, never corrected, before and after.
Prints JSON. Takes a few minutes on 2 cores (training the variant dominates).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfxstudio.core.project import AnalysisParams, Project
from sfxstudio.core.segments import Segment, merge_segments
from sfxstudio.demo import demo_model as dm
from sfxstudio.demo.demo_video import render_demo_video
from sfxstudio.demo.run import DEMO_K, DEMO_SEED, DEMO_THRESHOLD
from sfxstudio.ml.evaluate import event_f1, load_truth
from sfxstudio.pipeline import analyze_to_cache, compute_auto_segments

PARAMS = AnalysisParams(k=DEMO_K, threshold=DEMO_THRESHOLD)


def train_variant(out: Path, hidden: str, per_class: int, epochs: int) -> Path:
    from sfxstudio.ml.bundle import ModelBundle, save_bundle
    from sfxstudio.ml.train import train_arrays

    names = dm.model_classes()
    x, y = dm.render_dataset(per_class, dm.TRAIN_SEED, otherwise_weight=dm.OTHERWISE_WEIGHT)
    keep = y != names.index(hidden)
    variant = [n for n in names if n != hidden]
    remap = np.array([variant.index(n) if n in variant else -1 for n in names])
    x, y = x[keep], remap[y[keep]]
    train_arrays(x, y, variant, dm.BACKBONE, out, weights="none", epochs=epochs, batch_size=64,
                 val_split=0.0, augment=False, learning_rate=2e-3, seed=0, overwrite=True,
                 description=f"demo model variant trained WITHOUT {hidden} (wrong on purpose)")
    b = ModelBundle.load(out)
    dm.recalibrate_batchnorm(b.model, x)
    m = b.meta
    save_bundle(b.model, out, m["classes"], m["backbone"], m["preprocessing"], tuple(m["input_size"]),
                m["weights_source"], m.get("embedding_layer", "embedding"), m["description"],
                m.get("training", {}), overwrite=True)
    return out


def autos(cache: object) -> list[tuple[str, float, float]]:
    return [(s.class_name, s.start, s.end) for s in compute_auto_segments(cache, PARAMS)]  # type: ignore[arg-type]


def worst_three(pred: list[tuple[str, float, float]], truth: list[tuple[str, float, float]]) -> list:
    """The truth events the model gets most wrong: least covered by predictions of their class."""
    def covered(t: tuple[str, float, float]) -> float:
        cls, a, b = t
        hit = sum(max(0.0, min(b, pb) - max(a, pa)) for pc, pa, pb in pred if pc == cls)
        return hit / (b - a)

    return sorted(truth, key=covered)[:3]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", default="fire")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=64.0)
    args = ap.parse_args()
    from sfxstudio.ml.teach import reclassified_cache, teach

    work = Path(tempfile.mkdtemp(prefix="sfx-teach-demo-"))
    t0 = time.perf_counter()
    variant = train_variant(work / "variant", args.hidden, args.per_class, args.epochs)
    t_train = time.perf_counter() - t0
    video, truth_path = render_demo_video(work / "demo.mp4", seconds=args.seconds, seed=DEMO_SEED)
    truth = [tuple(e) for e in load_truth(truth_path).segments]
    cache = analyze_to_cache(video, variant, PARAMS)
    before = autos(cache)
    f1_before = event_f1(before, truth)["overall"]["f1"]

    corrected = worst_three(before, truth)
    # As in the editor: the automatic effects, with the hand-drawn ones winning their ranges.
    project = Project(video=str(video), params=PARAMS, analysis=cache,
                      segments=merge_segments(compute_auto_segments(cache, PARAMS),
                                              [Segment(c, a, b, origin="manual") for c, a, b in corrected]))
    t1 = time.perf_counter()
    taught = teach([project], variant, work / "taught")
    t_teach = time.perf_counter() - t1
    after_cache = reclassified_cache(cache, taught)
    after = autos(after_cache)
    f1_after = event_f1(after, truth)["overall"]["f1"]

    # never-corrected video: other seeds
    video2, truth2_path = render_demo_video(work / "other.mp4", seconds=args.seconds, seed=DEMO_SEED + 17)
    truth2 = [tuple(e) for e in load_truth(truth2_path).segments]
    c2 = analyze_to_cache(video2, variant, PARAMS)
    f1_other_before = event_f1(autos(c2), truth2)["overall"]["f1"]
    f1_other_after = event_f1(autos(analyze_to_cache(video2, taught, PARAMS)), truth2)["overall"]["f1"]

    print(json.dumps({
        "benchmark": "issue5_teach_demo",
        "hidden_class": args.hidden,
        "variant_classes": len(dm.model_classes()) - 1,
        "variant_train_s": round(t_train, 1),
        "corrected_by_hand": [[c, round(a, 2), round(b, 2)] for c, a, b in corrected],
        "teach_s": round(t_teach, 2),
        "event_f1_before": round(f1_before, 3),
        "event_f1_after": round(f1_after, 3),
        "improved": f1_after > f1_before,
        "other_video_event_f1_before": round(f1_other_before, 3),
        "other_video_event_f1_after": round(f1_other_after, 3),
        "note": "'after' on the corrected video scores the model's own automatic effects from the "
                "re-classified cache (no manual segments counted)",
    }, indent=1))


if __name__ == "__main__":
    main()
