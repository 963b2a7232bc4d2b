"""Synthetic test videos for the benchmarks, written once and cached under /tmp/sfx_bench.

The picture is a textured landscape panning slowly with a few moving blocks on top: smooth
enough that libx264 produces a realistic bitrate (plain noise would make a huge, slow-to-decode
stream; a solid colour would decode unrealistically fast), with real motion so every frame
differs. H.264 yuv420p, libx264 preset ultrafast, one keyframe every 2 s.

    .venv/bin/python bench/make_media.py --seconds 60 --size 1280x720 --fps 30
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("SFX_BENCH_CACHE", "/tmp/sfx_bench"))
# Bump when the picture or the encoder settings change, so stale cached files are not reused.
_VERSION = 1


def _texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth colourful RGB texture (sums of a few random sinusoids per channel)."""
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    out = np.empty((height, width, 3), np.float32)
    for c in range(3):
        acc = np.zeros((height, width), np.float32)
        for _ in range(4):
            fx, fy = rng.uniform(1, 9, size=2)
            phase = rng.uniform(0, 2 * np.pi)
            acc += np.sin(2 * np.pi * (fx * x + fy * y) + phase)
        out[..., c] = acc
    out -= out.min()
    out *= 255.0 / max(float(out.max()), 1e-6)
    # A little fine grain so the encoder has real detail to code.
    out += rng.normal(0.0, 6.0, size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def frames(seconds: float, size: tuple[int, int], fps: float, seed: int = 0) -> Iterator[np.ndarray]:
    """Yield RGB uint8 (h, w, 3) frames of the synthetic scene."""
    width, height = size
    rng = np.random.default_rng(seed)
    pad = max(width, height) // 2
    tex = _texture(height + pad, width + pad, rng)
    n = round(seconds * fps)
    blocks = [(rng.uniform(0, 1, 2), rng.uniform(-0.3, 0.3, 2), rng.integers(0, 256, 3, dtype=np.uint8))
              for _ in range(4)]
    bw, bh = max(4, width // 10), max(4, height // 8)
    for i in range(n):
        t = i / fps
        # Pan around a slow ellipse so the crop stays inside the padded texture.
        ox = int((0.5 + 0.5 * np.sin(0.4 * t)) * pad)
        oy = int((0.5 + 0.5 * np.cos(0.3 * t)) * pad)
        img = tex[oy:oy + height, ox:ox + width].copy()
        for pos, vel, color in blocks:
            px = int(((pos[0] + vel[0] * t) % 1.0) * (width - bw))
            py = int(((pos[1] + vel[1] * t) % 1.0) * (height - bh))
            img[py:py + bh, px:px + bw] = color
        yield img


def video_path(seconds: float, size: tuple[int, int], fps: float) -> Path:
    w, h = size
    return CACHE / f"synth_v{_VERSION}_{w}x{h}_{fps:g}fps_{seconds:g}s.mp4"


def make_video(seconds: float, size: tuple[int, int] = (1280, 720), fps: float = 30.0,
               quiet: bool = False) -> Path:
    """Return the cached synthetic H.264 MP4, writing it first when it is not there yet."""
    import av

    path = video_path(seconds, size, fps)
    if path.is_file() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")
    rate = Fraction(fps).limit_denominator(1001)
    if not quiet:
        print(f"make_media: writing {path} ({seconds:g} s, {size[0]}x{size[1]}, {fps:g} fps)",
              file=sys.stderr, flush=True)
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23", "g": str(max(1, round(2 * fps)))}
        for img in frames(seconds, size, fps):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)
    return path


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", type=_size, default=(1280, 720), help="WIDTHxHEIGHT")
    ap.add_argument("--fps", type=float, default=30.0)
    args = ap.parse_args()
    print(make_video(args.seconds, args.size, args.fps))


if __name__ == "__main__":
    main()


def make_bundle(backbone: str, quiet: bool = False) -> Path:
    """Return a cached model bundle of `backbone` with random weights (21 classes).

    Random weights are what the speed and memory benchmarks need: the arithmetic is the same as
    a trained model's, and nothing has to be downloaded.
    """
    from sfxstudio.core.classes import default_classes
    from sfxstudio.ml.backbones import build_classifier
    from sfxstudio.ml.bundle import BUNDLE_JSON, MODEL_FILE, save_bundle

    out = CACHE / "models" / f"{backbone}_random_v{_VERSION}"
    if (out / BUNDLE_JSON).is_file() and (out / MODEL_FILE).is_file():
        return out
    if not quiet:
        print(f"make_media: building {backbone} (random weights) into {out}", file=sys.stderr, flush=True)
    names = default_classes().names
    model, info = build_classifier(backbone, len(names), weights="none")
    return save_bundle(model, out, names, backbone=info["backbone"],
                       preprocessing=info["preprocessing"], input_size=tuple(info["input_size"]),
                       weights_source=info["weights_source"], embedding_layer=info["embedding_layer"],
                       description=f"{backbone} with random weights, for benchmarks only",
                       overwrite=True)
