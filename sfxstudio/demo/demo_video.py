"""The demo video: drawn scenes of every demo class, cut together, with its ground truth.

Each effect class appears at least once (3-8 s), in a shuffled order, separated by `otherwise`
stretches (2-5 s); two overlap stretches show two classes at once (a sky scene over a ground
scene); when time is left, more effect stretches are added. Frames are drawn and
encoded one at a time (H.264 via PyAV, yuv420p), so memory stays constant whatever the length.
The ground truth is written beside the video as `<stem>.truth.json` (see events.py): segments
(overlapping where two classes share the screen) and the drawn discrete events (lightning
flashes, drop impacts, key presses) as "events": [{"class", "time"}].

Seeds: the video's clips come from seed DEMO_VIDEO_SEED (one clip per stretch, indexed by its
position), which no training or held-out seed of the demo model uses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxstudio.core.atomic import atomic_path
from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import ExportError
from sfxstudio.demo.events import write_demo_truth
from sfxstudio.demo.scenes import CLASSES, OVERLAP_PAIRS, SKY_CLASSES, Clip, OverlapClip

DEMO_VIDEO_SEED = 7001
EFFECT_LENGTH = (3.0, 8.0)  # seconds
GAP_LENGTH = (2.0, 5.0)


@dataclass(frozen=True)
class Stretch:
    class_name: str
    first_frame: int
    n_frames: int
    also: str = ""  # a second class on screen at the same time (an overlap stretch), or ""

    @property
    def classes(self) -> tuple[str, ...]:
        return (self.class_name, self.also) if self.also else (self.class_name,)


# Overlap stretches (two classes at once) go after these many single-class stretches, so even a
# short video shows one; each pairs a different sky class with a ground class.
OVERLAP_AFTER = (2, 6)


def plan_stretches(seconds: float, fps: float, seed: int = DEMO_VIDEO_SEED) -> list[Stretch]:
    """The cut list: alternating `otherwise` and effect stretches filling `seconds` exactly.

    Every effect class appears at least once on its own when it fits (seconds >= ~52 s), and
    two overlap stretches show a sky class over a ground class (scenes.OVERLAP_PAIRS); lengths
    are drawn from EFFECT_LENGTH and GAP_LENGTH, then trimmed towards their minimums to fit.
    """
    if seconds <= 0 or fps <= 0:
        raise ValueError("seconds and fps must be positive")
    rng = np.random.default_rng([int(seed), 1])
    effects = [c for c in CLASSES if c != OTHERWISE]
    order = [str(c) for c in rng.permutation(effects)]
    pair_rng = np.random.default_rng([int(seed), 2])  # its own stream: the singles stay as they were
    pairs = [
        (sky, str(pair_rng.choice([g for s, g in OVERLAP_PAIRS if s == sky]))) for sky in SKY_CLASSES
    ]
    plan: list[tuple[str, str, float, float]] = [(OTHERWISE, "", rng.uniform(*GAP_LENGTH) * 0.5, 1.0)]
    total = plan[0][2]
    i = 0
    singles = 0
    while i < len(order) or total < seconds:
        if pairs and singles == OVERLAP_AFTER[len(SKY_CLASSES) - len(pairs)]:
            cls, also = pairs.pop(0)
        else:
            cls, also = (order[i] if i < len(order) else str(rng.choice(effects))), ""
            # Never a class of the previous effect again: the cut would not be a new event.
            if len(plan) >= 2 and cls in (plan[-2][0], plan[-2][1]):
                cls = effects[(effects.index(cls) + 1) % len(effects)]
                if len(plan) >= 2 and cls in (plan[-2][0], plan[-2][1]):
                    cls = effects[(effects.index(cls) + 1) % len(effects)]
            i += 1
            singles += 1
        d = rng.uniform(*EFFECT_LENGTH)
        g = rng.uniform(*GAP_LENGTH)
        plan += [(cls, also, d, EFFECT_LENGTH[0]), (OTHERWISE, "", g, GAP_LENGTH[0])]
        total += d + g
    # Trim the excess over the minimums proportionally so the plan fills `seconds`.
    lengths = np.array([p[2] for p in plan])
    mins = np.minimum(np.array([p[3] for p in plan]), lengths)
    excess = lengths.sum() - seconds
    slack = (lengths - mins).sum()
    if excess > 0 and slack > 0:
        lengths = lengths - (lengths - mins) * min(1.0, excess / slack)
    # Still too long (short videos): drop whole stretches from the end, then cut the last one.
    ends = np.cumsum(lengths)
    keep = int(np.searchsorted(ends, seconds - 1e-9)) + 1
    plan, lengths = plan[:keep], lengths[:keep]
    bounds = np.concatenate(([0.0], np.cumsum(lengths)))
    bounds[-1] = seconds
    frames = np.round(bounds * fps).astype(int)
    out = []
    for (cls, also, _, _), a, b in zip(plan, frames[:-1], frames[1:], strict=True):
        if b > a:
            out.append(Stretch(cls, int(a), int(b - a), also))
    return out


def stretch_clip(st: Stretch, size: tuple[int, int], seed: int, index: int) -> Clip | OverlapClip:
    """The drawn clip of one stretch: a single scene, or a sky scene over a ground scene."""
    if st.also:
        return OverlapClip(st.class_name, st.also, size, seed, index)
    return Clip(st.class_name, size, seed, index=index)


def drawn_events(clip: Clip | OverlapClip, st: Stretch, fps: float) -> list[tuple[str, float]]:
    """(class, video time) of the discrete events `clip` draws in stretch `st`.

    The time is that of the first video frame that shows the event: the scenes draw an event
    from its scripted time on (a flash lights the frame at or after its start, a splash
    replaces the falling drop, a key is down), so a sound synced to the picture lands on that
    frame; an event scripted between two frames counts from the next. It must be asked of the
    clip that draws the frames: a scene's script is drawn from the same random stream as its
    textures, whose size follows the frame size, so another size scripts other times.
    """
    out = []
    for cls, t in clip.events(0.0, st.n_frames / fps):
        frame = math.ceil(t * fps - 1e-9)  # the first frame at or after the scripted time
        if frame < st.n_frames:
            out.append((cls, round((st.first_frame + frame) / fps, 6)))
    return out


def scripted_events(stretches: list[Stretch], fps: float, size: tuple[int, int],
                    seed: int = DEMO_VIDEO_SEED) -> list[tuple[str, float]]:
    """(class, video time) of every discrete event the video drawn at `size` shows, sorted by
    time (see drawn_events; `size` must be the video's frame size). Events of `otherwise`
    stretches (their drawn rooms and skies) are not effects."""
    out: list[tuple[str, float]] = []
    for k, st in enumerate(stretches):
        if st.class_name != OTHERWISE:
            out += drawn_events(stretch_clip(st, size, seed, k), st, fps)
    return sorted(out, key=lambda e: (e[1], e[0]))


def render_demo_video(
    out_path: str | Path,
    seconds: float = 64.0,
    size: tuple[int, int] = (1280, 720),
    fps: int = 24,
    seed: int = DEMO_VIDEO_SEED,
    crf: int = 23,
    preset: str = "veryfast",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, Path]:
    """Draw and encode the demo video; write its ground truth beside it.

    Returns (video path, truth path). The video is written atomically (temporary file, then
    rename); progress(frames_done, frames_total) is called every second of video.
    """
    import av

    out_path = Path(out_path)
    truth_path = out_path.with_name(out_path.stem + ".truth.json")
    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2:
        raise ValueError(f"yuv420p needs an even frame size, not {w}x{h}")
    stretches = plan_stretches(seconds, fps, seed)
    total = sum(s.n_frames for s in stretches)
    done = 0
    events: list[tuple[str, float]] = []
    try:
        with (
            atomic_path(out_path, suffix=".mp4") as tmp,
            av.open(str(tmp), mode="w", format="mp4") as container,
        ):
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height = w, h
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset}
            for k, st in enumerate(stretches):
                clip = stretch_clip(st, (w, h), seed, k)
                if st.class_name != OTHERWISE:
                    events += drawn_events(clip, st, fps)  # from the clip that draws them
                for i in range(st.n_frames):
                    frame = av.VideoFrame.from_ndarray(clip.frame(i / fps), format="rgb24")
                    container.mux(stream.encode(frame))
                    done += 1
                    if progress is not None and done % fps == 0:
                        progress(done, total)
            container.mux(stream.encode())
    except av.FFmpegError as exc:
        raise ExportError(out_path, f"encoding failed ({exc})") from exc
    segments = [
        (cls, st.first_frame / fps, (st.first_frame + st.n_frames) / fps)
        for st in stretches
        if st.class_name != OTHERWISE
        for cls in st.classes
    ]
    events.sort(key=lambda e: (e[1], e[0]))
    write_demo_truth(truth_path, out_path.name, total / fps, fps, segments, events)
    return out_path, truth_path


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Render the SFX Studio demo video and its ground truth.")
    ap.add_argument("out", type=Path, help="output .mp4")
    ap.add_argument("--seconds", type=float, default=64.0)
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--seed", type=int, default=DEMO_VIDEO_SEED)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    t0, c0 = time.perf_counter(), time.process_time()
    video, truth = render_demo_video(args.out, args.seconds, (w, h), args.fps, args.seed)
    print(
        f"{video} + {truth}: {time.perf_counter() - t0:.1f} s wall, "
        f"{time.process_time() - c0:.1f} s CPU (this process)"
    )


if __name__ == "__main__":
    main()
