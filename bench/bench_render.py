"""Benchmark: render + 24-bit WAV write of a 10-minute timeline with 200 segments.

Prints one JSON object: wall times of the render and the WAV write, and the multiple of
real time (timeline seconds / wall seconds). Targets: >= 100x (issue 2), >= 200x (issue 6).

    .venv/bin/python bench/bench_render.py [--duration 600] [--segments 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.media.export import export_wav
from sfxstudio.media.render import SAMPLE_RATE, Placement, peak_dbfs, render_mix


def make_sounds(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Synthesised noise bursts and tones, 0.3 to 8 s long (decoded-library stand-ins)."""
    sounds = []
    for i in range(count):
        n = int(rng.uniform(0.3, 8.0) * SAMPLE_RATE)
        t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
        if i % 2:
            x = rng.standard_normal((n, 2)).astype(np.float32) * 0.2
        else:
            f = rng.uniform(100, 2000)
            mono = 0.4 * np.sin(2 * np.pi * f * t, dtype=np.float32)
            x = np.stack([mono, mono * 0.8], axis=1)
        sounds.append(np.ascontiguousarray(x, dtype=np.float32))
    return sounds


def make_placements(rng: np.random.Generator, sounds: list[np.ndarray], duration: float,
                    segments: int) -> list[Placement]:
    modes = ["loop", "one_shot", "retrigger"]
    out = []
    for i in range(segments):
        length = float(rng.uniform(0.5, 12.0))
        start = float(rng.uniform(0.0, duration - length))
        mode = modes[i % 3]
        attrs = SoundAttributes(mode=mode, gain_db=float(rng.uniform(-12, 0)), fade_in=0.01,
                                fade_out=0.1, crossfade=0.05, interval=float(rng.uniform(0.4, 2.0)),
                                jitter=0.1)
        snd = sounds[int(rng.integers(len(sounds)))]
        out.append(Placement(start, start + length, snd, attrs, seed=i, class_name=f"c{i % 20}"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--segments", type=int, default=200)
    ap.add_argument("--sounds", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    sounds = make_sounds(rng, args.sounds)
    placements = make_placements(rng, sounds, args.duration, args.segments)

    best_render = best_write = best_total = float("inf")
    peak = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "effects.wav"
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            mix = render_mix(placements, args.duration)
            t1 = time.perf_counter()
            export_wav(mix, out, args.duration)
            t2 = time.perf_counter()
            best_render = min(best_render, t1 - t0)
            best_write = min(best_write, t2 - t1)
            best_total = min(best_total, t2 - t0)
            peak = peak_dbfs(mix)
            del mix
        size = out.stat().st_size

    print(json.dumps({
        "benchmark": "render_mix + export_wav (24-bit 48 kHz stereo)",
        "timeline_s": args.duration,
        "segments": args.segments,
        "modes": "loop/one_shot/retrigger round robin",
        "render_s": round(best_render, 4),
        "wav_write_s": round(best_write, 4),
        "total_s": round(best_total, 4),
        "x_realtime_render": round(args.duration / best_render, 1),
        "x_realtime_total": round(args.duration / best_total, 1),
        "target_issue2_100x": args.duration / best_total >= 100,
        "target_issue6_200x": args.duration / best_total >= 200,
        "peak_dbfs": round(peak, 3),
        "wav_bytes": size,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }, indent=2))


if __name__ == "__main__":
    main()
