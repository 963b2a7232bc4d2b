"""Procedural scenes for the built-in demo: animated drawings of a few sound-effect classes.

The demo must run on any machine without downloading footage or weights, so the scenes are
drawn: numpy fields and OpenCV primitives, no data files. Every scene is a pure function of
time (`frame(t)`) built from a seed, so a clip is temporally coherent, any single frame can be
rendered directly (training samples), and the same seed always gives the same pictures.

Resolution independence: geometry is expressed in units of the frame height (x in [0, w/h],
y in [0, 1]). Scenes are drawn at a working resolution of at most _MAX_WORK_PIXELS and a
per-clip "camera" (zoom, shake, flip, grading, sensor noise) maps them to the requested size in
one warpAffine, which keeps a 1280x720 frame at a few milliseconds.

The scenes themselves live in scenes_nature, scenes_city and scenes_otherwise, on the drawing
helpers of scene_base; this module picks one per class and films it with a per-clip camera.

Each clip draws its own variation from the seed: colours, layout, object counts, motion speed,
camera shake, zoom, brightness and noise, so a classifier has to learn the scene, not a palette.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from sfxstudio.demo.scene_base import Scene
from sfxstudio.demo.scenes_city import Cars, Typing
from sfxstudio.demo.scenes_nature import Fire, Lightning, River, Stars, WaterDrop, Wave
from sfxstudio.demo.scenes_otherwise import Blackout, Otherwise

# The demo's classes, in the order of their ids in resources/classes.json.
CLASSES: list[str] = [
    "water_drop",
    "river",
    "stars_shining",
    "lightning",
    "wave",
    "typing",
    "cars",
    "fire",
    "otherwise",
]

# Scenes are drawn at most this big and scaled up by the camera: the drawings are smooth, so
# 480x270 loses little at 720p (nothing after the squash to a model's input) and keeps a 720p
# frame near 5 ms; 640x360 costs about twice as much.
_MAX_WORK_PIXELS = 480 * 270


_SCENES: dict[str, Callable[[np.random.Generator, int, int], Scene]] = {
    "water_drop": WaterDrop,
    "river": River,
    "stars_shining": Stars,
    "lightning": Lightning,
    "wave": Wave,
    "typing": Typing,
    "cars": Cars,
    "fire": Fire,
    "otherwise": Otherwise,
}

# Training-only variants of a class, never cut into the demo video: name -> the class their
# frames are. "otherwise_dark": black leaders, dark slates and fades to black (Blackout).
VARIANTS: dict[str, str] = {"otherwise_dark": "otherwise"}
_SCENES["otherwise_dark"] = Blackout


def _stream_key(class_name: str) -> int:
    """The seed-stream index of a class or variant: classes keep their CLASSES index (the demo
    video and the training data stay what they were), variants come after them."""
    if class_name in CLASSES:
        return CLASSES.index(class_name)
    return len(CLASSES) + list(VARIANTS).index(class_name)


# ----------------------------------------------------------------------------- camera


class _Camera:
    """Per-clip look: grading (gain, gamma, tint), sensor noise, zoom, shake, flip, output size."""

    def __init__(self, rng: np.random.Generator, work: tuple[int, int], size: tuple[int, int]) -> None:
        (self.ww, self.wh), (self.w, self.h) = work, size
        gain = rng.uniform(0.75, 1.2)
        gamma = rng.uniform(0.85, 1.2)
        tint = 1.0 + rng.uniform(-0.07, 0.07, 3)
        lift = rng.uniform(0.0, 0.04)
        x = np.linspace(0, 1, 256, dtype=np.float64)[:, None]
        lut = np.clip(lift + (1 - lift) * (x**gamma) * gain * tint[None, :], 0, 1)
        self.lut = np.round(lut * 255).astype(np.uint8)[None, :, :]  # (1, 256, 3) per-channel LUT
        sigma = rng.uniform(0.0, 5.0) if rng.random() < 0.7 else 0.0
        self.pad = 16
        self.noise_pos = self.noise_neg = None
        if sigma > 0.5:
            n = rng.normal(0, sigma, (self.wh + self.pad, self.ww + self.pad, 1)).astype(np.float32)
            n = np.repeat(n, 3, axis=2)
            self.noise_pos = np.clip(n, 0, 255).astype(np.uint8)
            self.noise_neg = np.clip(-n, 0, 255).astype(np.uint8)
        self.flip = rng.random() < 0.5
        self.zoom = rng.uniform(1.0, 1.15)
        self.zoom_a, self.zoom_f = rng.uniform(0, 0.04), rng.uniform(0.05, 0.2)
        self.shake = rng.uniform(0.002, 0.012) if rng.random() < 0.5 else 0.0
        self.sh_f = rng.uniform(2, 9, 4)
        self.sh_p = rng.uniform(0, 2 * np.pi, 4)
        self.pan = rng.uniform(-0.015, 0.015, 2)  # slow pan, fraction of the height per second

    def apply(self, img: np.ndarray, t: float) -> np.ndarray:
        img = cv2.LUT(img, self.lut)
        if self.noise_pos is not None and self.noise_neg is not None:
            k = int(t * 1009) % self.pad  # a different noise crop each frame, deterministic
            img = cv2.subtract(
                cv2.add(img, self.noise_pos[k : k + self.wh, k : k + self.ww]),
                self.noise_neg[k : k + self.wh, self.pad - k : self.pad - k + self.ww],
            )
        # Zoom, pan and shake as a crop of the work image scaled to the output: one resize
        # (warpAffine is several times slower here), clamped inside the picture.
        z = self.zoom + self.zoom_a * math.sin(2 * np.pi * self.zoom_f * t)
        dx = self.shake * (
            math.sin(self.sh_f[0] * t + self.sh_p[0]) + 0.5 * math.sin(self.sh_f[1] * t + self.sh_p[1])
        )
        dy = self.shake * (
            math.sin(self.sh_f[2] * t + self.sh_p[2]) + 0.5 * math.sin(self.sh_f[3] * t + self.sh_p[3])
        )
        cw, ch = min(self.ww, round(self.ww / z)), min(self.wh, round(self.wh / z))
        bound = (z - 1) / 2
        cx = self.ww / 2 + (max(-bound, min(bound, self.pan[0] * t)) + dx) * self.wh
        cy = self.wh / 2 + (max(-bound, min(bound, self.pan[1] * t)) + dy) * self.wh
        x0 = min(max(round(cx - cw / 2), 0), self.ww - cw)
        y0 = min(max(round(cy - ch / 2), 0), self.wh - ch)
        img = img[y0 : y0 + ch, x0 : x0 + cw]
        if (cw, ch) != (self.w, self.h):
            img = cv2.resize(img, (self.w, self.h), interpolation=cv2.INTER_LINEAR)
        return cv2.flip(img, 1) if self.flip else img


def _work_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    if w * h <= _MAX_WORK_PIXELS:
        return w, h
    f = math.sqrt(_MAX_WORK_PIXELS / (w * h))
    return max(16, round(w * f)), max(16, round(h * f))


def _clip_rngs(class_name: str, seed: int, index: int = 0) -> tuple[np.random.Generator, np.random.Generator]:
    if class_name not in _SCENES:
        raise ValueError(f"no demo scene for class {class_name!r}; demo classes: {', '.join(CLASSES)}")
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(_stream_key(class_name), int(index)))
    a, b = ss.spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


class Clip:
    """One procedural clip: a scene and its camera, drawn at any time t (seconds)."""

    def __init__(self, class_name: str, size: tuple[int, int], seed: int, index: int = 0) -> None:
        w, h = int(size[0]), int(size[1])
        if w < 8 or h < 8:
            raise ValueError(f"frame size must be at least 8x8, not {w}x{h}")
        self.class_name = VARIANTS.get(class_name, class_name)
        scene_rng, cam_rng = _clip_rngs(class_name, seed, index)
        work = _work_size((w, h))
        self.scene = _SCENES[class_name](scene_rng, *work)
        self.camera = _Camera(cam_rng, work, (w, h))

    def frame(self, t: float) -> np.ndarray:
        return self.camera.apply(self.scene.frame(t), t)

    def events(self, t0: float, t1: float) -> list[tuple[str, float]]:
        """(class, clip time) of the discrete events drawn in [t0, t1) (the camera moves no time)."""
        return [(self.class_name, float(t)) for t in self.scene.event_times(t0, t1)]


# Two classes on screen at once: a sky scene above a ground scene, cut along a soft horizon
# (a storm over a street, stars over a campfire). Every pair is something a film could show.
SKY_CLASSES = ("lightning", "stars_shining")
GROUND_CLASSES = ("cars", "wave", "river", "fire")
OVERLAP_PAIRS: tuple[tuple[str, str], ...] = tuple((a, b) for a in SKY_CLASSES for b in GROUND_CLASSES)


class OverlapClip:
    """A sky clip over a ground clip: rows above a per-clip horizon (35-50 % of the height) come
    from the sky clip, rows below from the ground clip, blended over 8 % of the height."""

    def __init__(self, sky: str, ground: str, size: tuple[int, int], seed: int, index: int = 0) -> None:
        if (sky, ground) not in OVERLAP_PAIRS:
            raise ValueError(f"no demo overlap of {sky!r} over {ground!r}")
        self.classes = (sky, ground)
        self.sky = Clip(sky, size, seed, index)
        self.ground = Clip(ground, size, seed, index + 10_000)
        h = int(size[1])
        rng = np.random.default_rng([int(seed), int(index), CLASSES.index(sky), CLASSES.index(ground)])
        horizon = rng.uniform(0.35, 0.5) * h
        y = np.arange(h, dtype=np.float32) + 0.5
        self.alpha = np.clip((y - horizon) / (0.08 * h) + 0.5, 0.0, 1.0)[:, None, None]  # 1 = ground

    def frame(self, t: float) -> np.ndarray:
        a, b = self.sky.frame(t), self.ground.frame(t)
        out = a.astype(np.float32) * (1.0 - self.alpha) + b.astype(np.float32) * self.alpha
        return np.asarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))

    def events(self, t0: float, t1: float) -> list[tuple[str, float]]:
        return sorted(self.sky.events(t0, t1) + self.ground.events(t0, t1), key=lambda e: (e[1], e[0]))


def render_clip(
    class_name: str, n_frames: int, size: tuple[int, int] = (1280, 720), fps: float = 24.0, seed: int = 0
) -> Iterator[np.ndarray]:
    """RGB uint8 (h, w, 3) frames of one temporally coherent clip, drawn one at a time."""
    clip = Clip(class_name, size, seed)
    for i in range(int(n_frames)):
        yield clip.frame(i / fps)


def render_frame_samples(
    class_name: str,
    count: int,
    size: tuple[int, int] = (256, 144),
    seed: int = 0,
    max_time: float = 20.0,
    per_clip: int = 1,
) -> np.ndarray:
    """(count, h, w, 3) uint8 frames from count / per_clip independent clips at random times.

    For training: every clip (seed, index) is its own scene with its own layout, palette and
    camera. per_clip > 1 draws several moments of each clip, which amortises the clip's set-up
    (textures, noise), the expensive part of a single frame.
    """
    w, h = int(size[0]), int(size[1])
    per_clip = max(1, int(per_clip))
    out = np.empty((int(count), h, w, 3), np.uint8)
    times = np.random.default_rng([int(seed), _stream_key(class_name) if class_name in _SCENES else 0, 7])
    clip: Clip | None = None
    for i in range(int(count)):
        if i % per_clip == 0:
            clip = Clip(class_name, (w, h), seed, i // per_clip)
        assert clip is not None
        out[i] = clip.frame(float(times.uniform(0, max_time)))
    return out
