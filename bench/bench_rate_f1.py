"""Issue 6.4: does a lower analysis rate lose accuracy that matters?

Event F1 (200 ms onset collar) of the demo model on the demo video analysed at every frame
and at 6 frames per second (same k and threshold), with the analysis time of each.
Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfxstudio.core.paths import DEMO_MODEL
from sfxstudio.core.project import AnalysisParams
from sfxstudio.demo.demo_video import render_demo_video
from sfxstudio.demo.run import DEMO_K, DEMO_SEED, DEMO_THRESHOLD
from sfxstudio.ml.bundle import ModelBundle
from sfxstudio.ml.evaluate import event_f1, load_truth, segment_f1
from sfxstudio.pipeline import analyze_to_cache, compute_auto_segments


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sfx-rate-"))
    video, truth_path = render_demo_video(work / "demo.mp4", seconds=64, seed=DEMO_SEED)
    truth = [tuple(e) for e in load_truth(truth_path).segments]
    bundle = ModelBundle.load(DEMO_MODEL)
    w, h = bundle.input_size
    bundle.predict(np.zeros((1, h, w, 3), np.uint8))  # trace once, outside the timings
    out: dict = {"benchmark": "issue6_rate_f1", "video_s": 64, "k": DEMO_K, "threshold": DEMO_THRESHOLD}
    for label, fps in (("every_frame", None), ("6_fps", 6.0)):
        params = AnalysisParams(k=DEMO_K, threshold=DEMO_THRESHOLD, analysis_fps=fps)
        t0 = time.perf_counter()
        cache = analyze_to_cache(video, bundle, params)
        took = time.perf_counter() - t0
        pred = [(s.class_name, s.start, s.end) for s in compute_auto_segments(cache, params)]
        out[label] = {
            "frames": cache.frames,
            "analysis_s": round(took, 2),
            "event_f1_200ms": round(event_f1(pred, truth)["overall"]["f1"], 3),
            "segment_f1_1s": round(segment_f1(pred, truth, cache.duration)["overall"]["f1"], 3),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
