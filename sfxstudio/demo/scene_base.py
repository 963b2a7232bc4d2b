"""Drawing helpers shared by the demo's procedural scenes, and the Scene base class.

Geometry is in units of the frame height (x in [0, w/h], y in [0, 1]); Scene.P/R/T turn it into
OpenCV's fixed-point pixels. Colours are float RGB in [0, 1] until `u8` saturates them.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

SHIFT = 4  # fractional bits for OpenCV drawing: sub-pixel motion without jitter
ONE = 1 << SHIFT

Color = tuple[float, float, float]


# ----------------------------------------------------------------------------- helpers


def hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0)), np.float32)


def u8(img: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8, saturating (one OpenCV pass; inputs are never negative)."""
    return cv2.convertScaleAbs(img, alpha=255.0)


def c255(c: np.ndarray | Color) -> tuple[int, int, int]:
    r, g, b = (round(min(max(float(v), 0.0), 1.0) * 255) for v in c)
    return (r, g, b)


def periodic_noise(rng: np.random.Generator, h: int, w: int, cell_y: float, cell_x: float) -> np.ndarray:
    """Smooth value noise in [0, 1] that tiles seamlessly, at least (h, w) pixels big.

    A small random grid, padded by wrapping and upsampled by an integer factor, is periodic,
    so textures can scroll forever by slicing a tiled copy (no per-frame resampling).
    """
    cy, cx = max(1, round(cell_y)), max(1, round(cell_x))
    gh, gw = max(2, -(-h // cy)), max(2, -(-w // cx))
    grid = rng.random((gh, gw), dtype=np.float32)
    pad = 2
    big = cv2.resize(
        np.pad(grid, pad, mode="wrap"),
        ((gw + 2 * pad) * cx, (gh + 2 * pad) * cy),
        interpolation=cv2.INTER_CUBIC,
    )
    tex = big[pad * cy : (pad + gh) * cy, pad * cx : (pad + gw) * cx]
    lo, hi = float(tex.min()), float(tex.max())
    return ((tex - lo) / max(hi - lo, 1e-6)).astype(np.float32)


class Scroll:
    """A periodic texture viewed through an (h, w) window at any integer offset (a slice, no copy)."""

    def __init__(self, tex: np.ndarray, h: int, w: int) -> None:
        self.th, self.tw = tex.shape[:2]
        self.h, self.w = h, w
        reps = (-(-h // self.th) + 1, -(-w // self.tw) + 1) + (1,) * (tex.ndim - 2)
        self.tiled = np.tile(tex, reps)

    def view(self, oy: float, ox: float) -> np.ndarray:
        y, x = int(oy) % self.th, int(ox) % self.tw
        return self.tiled[y : y + self.h, x : x + self.w]


def vgrad(h: int, stops: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """(h, 1, 3) vertical colour gradient through (position in [0, 1], colour) stops."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.stack([c for _, c in stops]).astype(np.float32)
    out = np.stack([np.interp(y, pos, cols[:, k]) for k in range(3)], axis=1)
    return out[:, None, :].astype(np.float32)


# ----------------------------------------------------------------------------- scenes


class Scene:
    """A scene drawn at (w, h) pixels; subclasses set everything up from rng in __init__."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        self.rng = rng
        self.w, self.h = w, h
        self.a = w / h  # frame width in height units
        self.X = ((np.arange(w, dtype=np.float32) + 0.5) / h)[None, :]  # (1, w) height units
        self.Y = ((np.arange(h, dtype=np.float32) + 0.5) / h)[:, None]  # (h, 1)

    def frame(self, t: float) -> np.ndarray:  # uint8 (h, w, 3) RGB
        raise NotImplementedError

    def event_times(self, t0: float, t1: float) -> np.ndarray:
        """Scene times in [t0, t1) of the discrete events the scene draws (a flash, a splash, a key
        going down): where a sound should hit. Continuous scenes (fire, a river) have none."""
        return np.empty(0, np.float64)

    # Drawing coordinates: height units -> OpenCV fixed point.
    def P(self, x: float, y: float) -> tuple[int, int]:
        return (round(x * self.h * ONE), round(y * self.h * ONE))

    def R(self, r: float) -> int:
        return max(1, round(r * self.h * ONE))

    def T(self, r: float) -> int:
        """A line thickness in pixels (not shifted)."""
        return max(1, round(r * self.h))

    def noise(self, cell_y: float, cell_x: float | None = None) -> np.ndarray:
        cx = cell_y if cell_x is None else cell_x
        return periodic_noise(self.rng, self.h, self.w, cell_y * self.h, cx * self.h)

    def scroll(self, tex: np.ndarray) -> Scroll:
        return Scroll(tex, self.h, self.w)

    def day_sky(self, horizon: float) -> np.ndarray:
        """(h, 1, 3) daytime/overcast/sunset sky gradient down to `horizon` (height units)."""
        rng = self.rng
        kind = rng.choice(["blue", "blue", "overcast", "sunset"])
        if kind == "blue":
            top, bottom = (
                hsv(rng.uniform(0.55, 0.62), rng.uniform(0.4, 0.7), rng.uniform(0.7, 0.95)),
                hsv(rng.uniform(0.52, 0.6), rng.uniform(0.1, 0.3), rng.uniform(0.85, 1.0)),
            )
        elif kind == "overcast":
            g = rng.uniform(0.6, 0.85)
            top, bottom = np.array([g, g, g + 0.03], np.float32), np.array([g + 0.08] * 3, np.float32)
        else:
            top = hsv(rng.uniform(0.6, 0.72), rng.uniform(0.3, 0.6), rng.uniform(0.5, 0.75))
            bottom = hsv(rng.uniform(0.02, 0.1), rng.uniform(0.5, 0.8), rng.uniform(0.85, 1.0))
        return vgrad(self.h, [(0.0, top), (max(horizon, 0.05), bottom), (1.0, bottom)])
