"""Benchmark: what hits on onsets, auto pan and sound assignment cost (issue 13 points 4-6).

Renders one 10-minute timeline of 200 effects four ways in the same process (centred, a
constant pan per effect, a pan curve per effect following a moving centre, retrigger/one-shot
hits on onsets) and reports each as a ratio of the centred render; then times assign_sounds
for a 2-hour timeline (21 classes, an effect every few seconds per class) with file lengths
given, as the pipeline would pass them. Prints one JSON object.

    .venv/bin/python bench/bench_placement.py [--duration 600] [--segments 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfxstudio.core.classes import SOUND_MODES, SoundAttributes
from sfxstudio.core.segments import Segment
from sfxstudio.media.assign import assign_sounds
from sfxstudio.media.render import SAMPLE_RATE, Placement, render_mix


def timeline(rng: np.random.Generator, duration: float, count: int, how: str) -> list[Placement]:
    out = []
    for i in range(count):
        n = int(rng.uniform(0.3, 6.0) * SAMPLE_RATE)
        snd = (rng.standard_normal((n, 2)) * 0.1).astype(np.float32)
        length = float(rng.uniform(2.0, 30.0))
        start = float(rng.uniform(0.0, duration - length))
        mode = SOUND_MODES[i % len(SOUND_MODES)]
        attrs = SoundAttributes(mode=mode, interval=0.5, jitter=0.1)
        p = Placement(start, start + length, snd, attrs, seed=i, class_name=f"c{i % 20}")
        if how == "pan":
            p.pan = float(rng.uniform(-1, 1))
        elif how == "curve":
            ts = np.linspace(start, start + length, max(2, round(length * 10)))  # 10 fps motion
            p.pan = (ts.tolist(), np.sin(ts).tolist())
        elif how == "onsets":
            p.onsets = np.sort(rng.uniform(start, start + length, round(length))).tolist()
        out.append(p)
    return out


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


class Library:
    def __init__(self, classes: int, files: int) -> None:
        self.files = {f"c{c}": [f"c{c}/{k}.wav" for k in range(files)] for c in range(classes)}

    def variations(self, cls: str) -> list[str]:
        return self.files.get(cls, [])

    def attributes(self, cls: str) -> SoundAttributes:
        return SoundAttributes(mode=SOUND_MODES[int(cls[1:]) % 3])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--segments", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    result: dict[str, object] = {"benchmark": "placement: onsets, auto pan, assignment"}
    base = 0.0
    for how in ("centre", "pan", "curve", "onsets"):
        ps = timeline(np.random.default_rng(1), args.duration, args.segments, how)
        t = best(lambda ps=ps: render_mix(ps, args.duration), args.repeat)
        if how == "centre":
            base = t
            result["render_centre_s"] = round(t, 4)
        else:
            result[f"render_{how}_ratio"] = round(t / base, 3)

    rng = np.random.default_rng(2)
    hours, classes, files = 2.0, 21, 4
    segs = []
    for c in range(classes):
        t0 = 0.0
        while t0 < hours * 3600:
            length = float(rng.uniform(1.0, 10.0))
            segs.append(Segment(f"c{c}", t0, t0 + length))
            t0 += length + float(rng.uniform(2.0, 60.0))
    lib = Library(classes, files)
    durations = {f: float(rng.uniform(0.3, 6.0)) for fs in lib.files.values() for f in fs}
    t = best(lambda: assign_sounds(segs, lib, durations=durations), 1)
    result.update(assign_effects=len(segs), assign_s=round(t, 3))
    new = [*segs, Segment("c0", 100.2, 100.9)]
    fixed = {sid: f for sid, f in assign_sounds(segs, lib, durations=durations).items() if f is not None}
    result["assign_one_new_effect_s"] = round(best(lambda: assign_sounds(new, lib, fixed=fixed,
                                                                         durations=durations), 3), 4)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
