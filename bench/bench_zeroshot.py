"""Issue 11 point 3: CPU frames per second of zero-shot image encoders (random weights).

Builds the image side of a zero-shot bundle (sfxstudio.ml.zeroshot.build_image_model: the
preset's pixel scaling, the keras-hub vision encoder, its projection, L2 normalisation) at the
shapes of CLIP ViT-B/32 (clip_vit_base_patch32) and SigLIP ViT-B/16 (siglip_base_patch16_224),
with random weights (no preset can be downloaded here; the speed does not depend on the values).
Times the model alone on uint8 224x224 frames already in memory, batch 8: TensorFlow (the traced
forward pass bundles use) and LiteRT (converted and checked against TensorFlow the way bundles
are, into a temporary cache). Median of --repeats calls after two warm-up calls. Also times the
scoring of 21 classes x 4 prompts on the embeddings (numpy). Prints one JSON object.
Usage: python bench/bench_zeroshot.py [--batch 8] [--repeats 10] [--threads N] [--only clip_b32|siglip_b16]
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

# keras-hub's configurations of the two presets' image towers (their config.json); the text towers
# are kept tiny here: they run once per prompt, never per frame.
SHAPES = {
    "clip_b32": {"family": "clip", "patch_size": 32, "hidden_dim": 768, "num_layers": 12, "num_heads": 12,
                 "intermediate_dim": 3072, "projection_dim": 512},
    "siglip_b16": {"family": "siglip", "patch_size": 16, "hidden_dim": 768, "num_layers": 12, "num_heads": 12,
                   "intermediate_dim": 3072},
}


def build(shape: dict) -> tuple:
    import keras_hub

    from sfxstudio.ml import zeroshot

    size = 224
    keys = ("patch_size", "hidden_dim", "num_layers", "num_heads", "intermediate_dim")
    vision_kw = {k: shape[k] for k in keys}
    text_kw = {"vocabulary_size": 64, "embedding_dim": 32, "hidden_dim": 32, "num_layers": 1, "num_heads": 2,
               "intermediate_dim": 64}
    if shape["family"] == "clip":
        vision = keras_hub.models.CLIPVisionEncoder(image_shape=(size, size, 3), **vision_kw)
        text = keras_hub.models.CLIPTextEncoder(max_sequence_length=16, **text_kw)
        backbone = keras_hub.models.CLIPBackbone(vision, text, projection_dim=shape["projection_dim"])
        scale = (1 / (255 * 0.26862954), 1 / (255 * 0.26130258), 1 / (255 * 0.27577711))
        offset = (-0.48145466 / 0.26862954, -0.4578275 / 0.26130258, -0.40821073 / 0.27577711)
    else:
        vision = keras_hub.models.SigLIPVisionEncoder(image_shape=(size, size, 3), **vision_kw)
        text = keras_hub.models.SigLIPTextEncoder(max_sequence_length=16, **text_kw)
        backbone = keras_hub.models.SigLIPBackbone(vision, text)
        scale, offset = 1 / 127.5, -1.0
    preset = zeroshot.Preset(Path("random-weights"), shape["family"], (size, size), scale, offset, "0" * 64)
    model = zeroshot.build_image_model(backbone, preset)
    return model, vision.count_params()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", choices=sorted(SHAPES), default=None)
    args = ap.parse_args()

    from sfxstudio.ml import lite, tf_setup, zeroshot
    from sfxstudio.ml.bundle import traced_forward

    tf_setup.configure(threads=args.threads)
    threads = args.threads or tf_setup.cpu_count()
    results = {}
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (args.batch, 224, 224, 3), dtype=np.uint8)
    for name, shape in SHAPES.items():
        if args.only and name != args.only:
            continue
        t = time.perf_counter()
        model, vision_params = build(shape)
        build_s = time.perf_counter() - t
        forward = traced_forward(model, (224, 224))

        def tf_run(x: np.ndarray, forward=forward) -> tuple[np.ndarray, np.ndarray]:
            a, b = forward(x)
            return np.asarray(a), np.asarray(b)

        row: dict = {"family": shape["family"], "patch_size": shape["patch_size"],
                     "image_encoder_params": int(vision_params), "build_s": round(build_s, 2)}
        row["tf_ms_per_frame"] = median_ms_per_frame(tf_run, frames, args.repeats)
        row["tf_fps"] = round(1000 / row["tf_ms_per_frame"], 1)
        with tempfile.TemporaryDirectory() as cache:
            os.environ[lite.CACHE_ENV] = cache
            try:
                t = time.perf_counter()
                info = lite.compile_model(model, f"bench-zeroshot-{name}", (224, 224), tf_run, source="bench")
                row["convert_s"] = round(time.perf_counter() - t, 2)
                lite_run = lite.LiteForward(Path(info["path"]), tuple(info["outputs"]), (224, 224),
                                            threads=threads)
                row["max_emb_diff_lite_vs_tf"] = float(np.abs(lite_run(frames)[1] - tf_run(frames)[1]).max())
                row["lite_ms_per_frame"] = median_ms_per_frame(lite_run, frames, args.repeats)
                row["lite_fps"] = round(1000 / row["lite_ms_per_frame"], 1)
                del lite_run
            except Exception as exc:  # a conversion that fails is a result too
                row["lite_error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        emb = tf_run(frames)[1]
        dim = emb.shape[1]
        text = [zeroshot._normalise(rng.normal(size=(4, dim))) for _ in range(21)]
        names = [f"c{i}" for i in range(20)] + ["otherwise"]
        cal = zeroshot.Calibration()
        t = time.perf_counter()
        for _ in range(100):
            zeroshot.calibrated_probs(zeroshot.class_similarities(emb, text, "mean"), names, cal)
        row["scoring_us_per_frame"] = round(1e6 * (time.perf_counter() - t) / (100 * len(emb)), 1)
        results[name] = row
    print(json.dumps({"bench": "zeroshot_image_encoders", "weights": "random (shapes of the presets)",
                      "batch": args.batch, "threads": threads, "input": "224x224 uint8 frames in memory",
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
