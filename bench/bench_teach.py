"""Issue 5 target: teaching from 10,000 cached frames in under 10 s on this CPU.

Times collecting the corrected frames and fitting the new head for embeddings of D = 128
(democnn), 256 and 2048 (ResNet152V2), and teach() end to end on a democnn bundle (loading the
base and saving the new bundle included). Prints one JSON object.
Usage: python bench/bench_teach.py [--imagenet]   (--imagenet adds the ResNet152V2 recogniser)
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sfxstudio.core.classes import default_classes
from sfxstudio.core.project import AnalysisCache, Project
from sfxstudio.core.segments import Segment
from sfxstudio.ml import teach

NAMES = default_classes().names
FPS = 25.0


def project(n: int, dim: int, seed: int = 0) -> Project:
    """n frames; every 100-frame stretch is one class (cluster in embedding space), corrected by
    hand (manual segment) or deleted (mute), so all frames are labelled."""
    rng = np.random.default_rng(seed)
    centres = rng.random((len(NAMES), dim)).astype(np.float32) * 2
    stretch = 100
    labels = np.repeat(rng.integers(0, len(NAMES), n // stretch), stretch)
    emb = np.maximum(centres[labels] + rng.normal(0, 0.5, (n, dim)).astype(np.float32), 0).astype(np.float16)
    segs = []
    for i in range(n // stretch):
        a, b = i * stretch / FPS, (i + 1) * stretch / FPS
        c = NAMES[labels[i * stretch]]
        segs.append(Segment(c, a, b, origin="mute" if c == "otherwise" else "manual"))
    cache = AnalysisCache(
        times=np.arange(n) / FPS,
        probs=np.full((n, 21), 1 / 21, np.float32),
        embeddings=emb,
        class_names=NAMES,
        frame_duration=1 / FPS,
        duration=n / FPS,
        model="base",
    )
    return Project(video="bench.mp4", analysis=cache, segments=segs)


def head_only(dim: int, epochs: int) -> dict:
    p = project(10_000, dim)
    t0 = time.perf_counter()
    d = teach.collect_frames([p])
    t1 = time.perf_counter()
    rng = np.random.default_rng(1)
    fit = teach.fit_head(
        d.embeddings,
        d.labels,
        rng.normal(0, 0.05, (dim, 21)).astype(np.float32),
        np.zeros(21, np.float32),
        epochs=epochs,
    )
    acc = float((teach.softmax(d.embeddings @ fit.kernel + fit.bias).argmax(1) == d.labels).mean())
    return {
        "what": "collect+fit_head",
        "frames": 10_000,
        "D": dim,
        "epochs": epochs,
        "collect_s": round(t1 - t0, 3),
        "fit_s": round(fit.seconds, 3),
        "train_accuracy": round(acc, 4),
    }


def _teach_timed(base: Path, tmp: Path, dim: int, epochs: int) -> tuple[float, dict]:
    """teach() on a 10,000-frame project from `base`: (seconds, the new bundle.json); removes tmp."""
    import shutil

    p = project(10_000, dim)
    t0 = time.perf_counter()
    out = teach.teach([p], base, tmp / "taught", epochs=epochs)
    total = time.perf_counter() - t0
    meta = json.loads((out / "bundle.json").read_text())
    shutil.rmtree(tmp)
    return total, meta


def full(backbone: str, epochs: int) -> dict:
    from sfxstudio.ml.backbones import build_classifier
    from sfxstudio.ml.bundle import save_bundle

    tmp = Path(tempfile.mkdtemp())
    model, info = build_classifier(backbone, 21, weights="none")
    base = save_bundle(
        model,
        tmp / "base",
        NAMES,
        backbone=info["backbone"],
        preprocessing=info["preprocessing"],
        input_size=tuple(info["input_size"]),
        weights_source="none",
        embedding_layer="embedding",
    )
    total, meta = _teach_timed(base, tmp, info["embedding_dim"], epochs)
    return {
        "what": "teach() end to end (TF already imported)",
        "backbone": backbone,
        "frames": 10_000,
        "D": info["embedding_dim"],
        "epochs": epochs,
        "total_s": round(total, 2),
        "head_s": meta["training"]["head_seconds"],
        "accuracy_after": meta["training"]["accuracy_on_corrections_after"],
    }


def full_imagenet(epochs: int) -> dict:
    from sfxstudio.ml import imagenet

    tmp = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    base = imagenet.create_imagenet_bundle(tmp / "inet", weights="none")
    created = time.perf_counter() - t
    total, meta = _teach_timed(base, tmp, 2048, epochs)
    return {
        "what": "teach() end to end from imagenet_mapped ResNet152V2 (weights none)",
        "frames": 10_000,
        "D": 2048,
        "epochs": epochs,
        "create_base_s": round(created, 1),
        "total_s": round(total, 2),
        "head_s": meta["training"]["head_seconds"],
        "accuracy_after": meta["training"]["accuracy_on_corrections_after"],
    }


def main() -> None:
    epochs = 30
    results: dict = {
        "benchmark": "issue5_teach",
        "head_only": [head_only(d, epochs) for d in (128, 256, 2048)],
    }
    t = time.perf_counter()
    import keras  # noqa: F401

    results["import_tensorflow_s"] = round(time.perf_counter() - t, 2)
    results["end_to_end"] = [full("democnn", epochs)]
    if "--imagenet" in sys.argv:
        results["end_to_end"].append(full_imagenet(epochs))
    results["target"] = "teach from 10,000 cached frames < 10 s"
    results["met"] = all(r["total_s"] < 10 for r in results["end_to_end"] if r.get("D") == 128)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
