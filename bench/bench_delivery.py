"""Benchmark: a 10-minute, 200-effect project exported in every format at once (issue 14).

Makes a 10-minute 25 fps video (FCPXML is written at whole rates only) with a stereo AAC
soundtrack (tiny picture: the MP4's video is copied, so its size does not matter), a library
of 20 classes x 2 sounds and 200 effects,
then times one `pipeline.delivery.deliver` call writing the effects track, stems, per-effect
clips, the MP4 and the five timelines (OTIO, FCP 7 XML, FCPXML, EDL, AAF) with loudness
normalised to -23 LUFS / -1 dBTP, plus the QC report. Reports the wall time of the export and
of each part (DeliveryResult.timings: parts run concurrently, so they overlap), the CPU time
of this process, the load on the machine, and ffmpeg's ebur128 reading of the WAV and the MP4.
Prints one JSON object.

    .venv/bin/python bench/bench_delivery.py [--duration 600] [--segments 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfxstudio.core.classes import default_classes
from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media.export import find_ffmpeg
from sfxstudio.media.timeline import TIMELINE_FORMATS
from sfxstudio.pipeline.delivery import DeliveryRequest, deliver


def make_video(path: Path, seconds: float) -> None:
    subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=s=96x54:r=25:d={seconds}",
                    "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.02:r=48000:d={seconds}",
                    "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "300",
                    "-c:a", "aac", "-b:a", "96k", "-shortest", str(path)], check=True)


def make_library(root: Path, classes: list[str], rng: np.random.Generator) -> None:
    import soundfile as sf

    for cls in classes:
        (root / cls).mkdir(parents=True)
        for k in range(2):
            n = int(rng.uniform(0.5, 6.0) * 48000)
            env = np.exp(-np.linspace(0, rng.uniform(0, 4), n))[:, None]
            x = (rng.standard_normal((n, 2)) * 0.1 * env).astype(np.float32)
            sf.write(root / cls / f"{cls}_{k}.wav", x, 48000, subtype="PCM_24")


def ebur128(path: Path) -> dict[str, float]:
    r = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostats", "-i", str(path),
                        "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True,
                       check=True)
    return {"integrated_lufs": float(re.findall(r"I:\s+(-?[\d.]+) LUFS", r.stderr)[-1]),
            "true_peak_dbtp": float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", r.stderr)[-1])}


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (ffmpeg)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--segments", type=int, default=200)
    ap.add_argument("--keep", help="write into this folder and keep it")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sfx_delivery_"))
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(14)
    classes = [c for c in default_classes().names if c != "otherwise"][:20]
    try:
        video = work / "long.mp4"
        t0 = time.perf_counter()
        if not video.exists():
            make_video(video, args.duration)
        lib = work / "lib"
        if not lib.exists():
            make_library(lib, classes, rng)
        setup = time.perf_counter() - t0
        segments = []
        for i in range(args.segments):
            length = float(rng.uniform(1.0, 12.0))
            start = float(rng.uniform(0.0, args.duration - length))
            segments.append(Segment(classes[i % len(classes)], start, start + length))
        project = Project(video=str(video), library=str(lib), segments=segments)
        out = work / "out"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        request = DeliveryRequest(
            wav=out / "fx.wav", mp4=out / "fx.mp4", stems=out / "stems", clips=out / "clips",
            timelines={fmt: out / f"fx{spec.suffix}" for fmt, spec in TIMELINE_FORMATS.items()},
            loudness_target=-23.0, true_peak=-1.0)
        start, cpu, child = time.perf_counter(), time.process_time(), _children_cpu()
        result = deliver(project, request)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        child = _children_cpu() - child
        print(json.dumps({
            "bench": "delivery", "duration_s": args.duration, "effects": args.segments,
            "outputs": len(result.outputs), "clips": len(result.clips), "setup_s": round(setup, 2),
            "export_s": round(total, 2), "target_s": 10.0,
            # CPU seconds of this process (its threads) and of ffmpeg: what the export needed of
            # the two cores, which other work on the machine does not change as it does wall time.
            "export_cpu_s": round(cpu, 2), "ffmpeg_cpu_s": round(child, 2),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            # Wall seconds per part; the MP4 and the timelines run beside the rest, so parts overlap.
            "parts_s": result.timings,
            "effects_track": result.effects.to_json(), "mix": result.mix.to_json() if result.mix else None,
            "mix_as_encoded_lufs": result.mix_encoded_lufs,
            "ebur128_wav": ebur128(out / "fx.wav"), "ebur128_mp4": ebur128(out / "fx.mp4"),
        }, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
