"""Issue 11: EfficientNet-Lite0 (packaged ImageNet weights) on this CPU, LiteRT vs TensorFlow.

Builds the 1000-way + 1280-d embedding model from the packaged weights, converts it to LiteRT
the way bundles are converted (sfxstudio.ml.lite.compile_model, into a temporary cache), and
times the model alone (uint8 224x224 frames already in memory; no decoding or resizing) at
batch 8: the median of --repeats calls after two warm-up calls. Also prints the top-3 ImageNet
classes of scikit-image's reference photos from both runtimes. Prints one JSON object.
Usage: python bench/bench_efficientnet_lite.py [--batch 8] [--repeats 30] [--threads N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import median_ms_per_frame


def _reference_photos() -> dict[str, np.ndarray]:
    from skimage import data

    from sfxstudio.ml import tf_setup

    out = {}
    for name in ("chelsea", "coffee", "rocket"):
        img = getattr(data, name)()
        h, w = img.shape[:2]
        s = min(h, w)
        sq = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s].astype(np.float32)
        r = tf_setup.tf().image.resize(sq, (224, 224), method="bilinear").numpy()
        out[name] = np.clip(np.rint(r), 0, 255).astype(np.uint8)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    from sfxstudio.ml import efficientnet_lite, lite, tf_setup
    from sfxstudio.ml.bundle import traced_forward
    from sfxstudio.ml.imagenet import imagenet_labels

    tf_setup.configure(threads=args.threads)
    threads = args.threads or tf_setup.cpu_count()
    t = time.perf_counter()
    model, source = efficientnet_lite.build_efficientnet_lite0()
    build_s = time.perf_counter() - t
    size = efficientnet_lite.INPUT_SIZE
    tf_forward = traced_forward(model, size)

    def tf_run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, e = tf_forward(x)
        return np.asarray(p), np.asarray(e)

    with tempfile.TemporaryDirectory() as cache:
        os.environ[lite.CACHE_ENV] = cache
        t = time.perf_counter()
        info = lite.compile_model(model, "bench-efficientnet-lite0", size, tf_run, source="bench")
        convert_s = time.perf_counter() - t
        lite_run = lite.LiteForward(Path(info["path"]), tuple(info["outputs"]), size, threads=threads)
        rng = np.random.default_rng(0)
        frames = rng.integers(0, 256, (args.batch, size[1], size[0], 3), dtype=np.uint8)
        p_tf, e_tf = tf_run(frames)
        p_li, e_li = lite_run(frames)
        timings = {
            "lite_ms_per_frame": median_ms_per_frame(lite_run, frames, args.repeats),
            "tf_ms_per_frame": median_ms_per_frame(tf_run, frames, args.repeats),
        }
        labels = imagenet_labels()
        photos = _reference_photos()
        batch = np.stack(list(photos.values()))
        top3 = {}
        for runtime, fn in (("tf", tf_run), ("lite", lite_run)):
            probs = fn(batch)[0]
            top3[runtime] = {
                name: [[labels[i], round(float(row[i]), 3)] for i in np.argsort(row)[::-1][:3]]
                for name, row in zip(photos, probs, strict=True)
            }
    out = {
        "bench": "efficientnet_lite0",
        "weights": source,
        "params": int(model.count_params()),
        "batch": args.batch,
        "threads": threads,
        "build_s": round(build_s, 2),
        "convert_s": round(convert_s, 2),
        "tflite_bytes": info["bytes"],
        "max_prob_diff_lite_vs_tf": float(np.abs(p_li - p_tf).max()),
        "max_emb_diff_lite_vs_tf": float(np.abs(e_li - e_tf).max()),
        **timings,
        "lite_fps": round(1000 / timings["lite_ms_per_frame"], 1),
        "tf_fps": round(1000 / timings["tf_ms_per_frame"], 1),
        "top3": top3,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
