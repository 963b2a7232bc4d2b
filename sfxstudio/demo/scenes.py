"""Procedural scenes for the built-in demo: animated drawings of a few sound-effect classes.

The demo must run on any machine without downloading footage or weights, so the scenes are
drawn: numpy fields and OpenCV primitives, no data files. Every scene is a pure function of
time (`frame(t)`) built from a seed, so a clip is temporally coherent, any single frame can be
rendered directly (training samples), and the same seed always gives the same pictures.

Resolution independence: geometry is expressed in units of the frame height (x in [0, w/h],
y in [0, 1]). Scenes are drawn at a working resolution of at most _MAX_WORK_PIXELS and a
per-clip "camera" (zoom, shake, flip, grading, sensor noise) maps them to the requested size in
one warpAffine, which keeps a 1280x720 frame at a few milliseconds.

Each clip draws its own variation from the seed: colours, layout, object counts, motion speed,
camera shake, zoom, brightness and noise, so a classifier has to learn the scene, not a palette.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np

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
_SHIFT = 4  # fractional bits for OpenCV drawing: sub-pixel motion without jitter
_ONE = 1 << _SHIFT

Color = tuple[float, float, float]


# ----------------------------------------------------------------------------- helpers


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0)), np.float32)


def _u8(img: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8, saturating (one OpenCV pass; inputs are never negative)."""
    return cv2.convertScaleAbs(img, alpha=255.0)


def _c255(c: np.ndarray | Color) -> tuple[int, int, int]:
    r, g, b = (round(min(max(float(v), 0.0), 1.0) * 255) for v in c)
    return (r, g, b)


def _periodic_noise(rng: np.random.Generator, h: int, w: int, cell_y: float, cell_x: float) -> np.ndarray:
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


class _Scroll:
    """A periodic texture viewed through an (h, w) window at any integer offset (a slice, no copy)."""

    def __init__(self, tex: np.ndarray, h: int, w: int) -> None:
        self.th, self.tw = tex.shape[:2]
        self.h, self.w = h, w
        reps = (-(-h // self.th) + 1, -(-w // self.tw) + 1) + (1,) * (tex.ndim - 2)
        self.tiled = np.tile(tex, reps)

    def view(self, oy: float, ox: float) -> np.ndarray:
        y, x = int(oy) % self.th, int(ox) % self.tw
        return self.tiled[y : y + self.h, x : x + self.w]


def _vgrad(h: int, stops: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """(h, 1, 3) vertical colour gradient through (position in [0, 1], colour) stops."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.stack([c for _, c in stops]).astype(np.float32)
    out = np.stack([np.interp(y, pos, cols[:, k]) for k in range(3)], axis=1)
    return out[:, None, :].astype(np.float32)


# ----------------------------------------------------------------------------- scenes


class _Scene:
    """A scene drawn at (w, h) pixels; subclasses set everything up from rng in __init__."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        self.rng = rng
        self.w, self.h = w, h
        self.a = w / h  # frame width in height units
        self.X = ((np.arange(w, dtype=np.float32) + 0.5) / h)[None, :]  # (1, w) height units
        self.Y = ((np.arange(h, dtype=np.float32) + 0.5) / h)[:, None]  # (h, 1)

    def frame(self, t: float) -> np.ndarray:  # uint8 (h, w, 3) RGB
        raise NotImplementedError

    # Drawing coordinates: height units -> OpenCV fixed point.
    def P(self, x: float, y: float) -> tuple[int, int]:
        return (round(x * self.h * _ONE), round(y * self.h * _ONE))

    def R(self, r: float) -> int:
        return max(1, round(r * self.h * _ONE))

    def T(self, r: float) -> int:
        """A line thickness in pixels (not shifted)."""
        return max(1, round(r * self.h))

    def noise(self, cell_y: float, cell_x: float | None = None) -> np.ndarray:
        cx = cell_y if cell_x is None else cell_x
        return _periodic_noise(self.rng, self.h, self.w, cell_y * self.h, cx * self.h)

    def scroll(self, tex: np.ndarray) -> _Scroll:
        return _Scroll(tex, self.h, self.w)

    def day_sky(self, horizon: float) -> np.ndarray:
        """(h, 1, 3) daytime/overcast/sunset sky gradient down to `horizon` (height units)."""
        rng = self.rng
        kind = rng.choice(["blue", "blue", "overcast", "sunset"])
        if kind == "blue":
            top, bottom = (
                _hsv(rng.uniform(0.55, 0.62), rng.uniform(0.4, 0.7), rng.uniform(0.7, 0.95)),
                _hsv(rng.uniform(0.52, 0.6), rng.uniform(0.1, 0.3), rng.uniform(0.85, 1.0)),
            )
        elif kind == "overcast":
            g = rng.uniform(0.6, 0.85)
            top, bottom = np.array([g, g, g + 0.03], np.float32), np.array([g + 0.08] * 3, np.float32)
        else:
            top = _hsv(rng.uniform(0.6, 0.72), rng.uniform(0.3, 0.6), rng.uniform(0.5, 0.75))
            bottom = _hsv(rng.uniform(0.02, 0.1), rng.uniform(0.5, 0.8), rng.uniform(0.85, 1.0))
        return _vgrad(self.h, [(0.0, top), (max(horizon, 0.05), bottom), (1.0, bottom)])


class Fire(_Scene):
    """Flickering flame tongues over a fuel bed, orange/yellow gradient, rising embers."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        a = self.a
        self.cx = rng.uniform(0.35, 0.65) * a
        self.base = rng.uniform(0.78, 0.97)
        self.width = min(rng.uniform(0.35, 0.9), 0.9 * a)
        self.height = rng.uniform(0.4, 0.75)
        n = int(rng.integers(3, 8))
        self.t_off = rng.uniform(-0.5, 0.5, n).astype(np.float32) * self.width
        self.t_w = rng.uniform(0.05, 0.14, n).astype(np.float32) * (0.5 + self.width)
        self.t_h = rng.uniform(0.5, 1.0, n).astype(np.float32) * self.height
        self.t_f = rng.uniform(0.5, 2.0, n).astype(np.float32)
        self.t_p = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
        self.n1 = self.scroll(self.noise(rng.uniform(0.12, 0.2), rng.uniform(0.06, 0.12)))
        self.n2 = self.scroll(self.noise(rng.uniform(0.04, 0.07), rng.uniform(0.03, 0.05)))
        self.s1, self.s2 = rng.uniform(0.5, 1.1) * h, rng.uniform(1.0, 2.0) * h
        # Palette: black -> deep red -> orange -> yellow -> near white; hue varies per clip.
        hue = rng.uniform(-0.02, 0.03)
        x = np.linspace(0, 1, 256, dtype=np.float32)
        stops = [
            (0.0, np.zeros(3, np.float32)),
            (0.2, _hsv(0.0 + hue, 1.0, 0.55)),
            (0.45, _hsv(0.05 + hue, 1.0, 0.95)),
            (0.7, _hsv(0.11 + hue, 0.95, 1.0)),
            (1.0, _hsv(0.14 + hue, rng.uniform(0.1, 0.4), 1.0)),
        ]
        lut = np.stack([np.interp(x, [p for p, _ in stops], [c[k] for _, c in stops]) for k in range(3)], 1)
        self.lut = (lut * 255).astype(np.uint8)
        # Background: dark night, dark wall or dark forest, lit by the fire's glow.
        bgk = rng.choice(["night", "wall", "forest"])
        dark = rng.uniform(0.02, 0.09)
        bg = np.broadcast_to(
            _vgrad(h, [(0, _hsv(rng.uniform(0.55, 0.7), 0.5, dark)), (1, _hsv(0.05, 0.6, dark))]), (h, w, 3)
        ).copy()
        if bgk == "wall":
            bg *= 0.6 + 0.8 * self.noise(0.05)[:h, :w, None]
            rows = max(4, int(rng.integers(6, 12)))
            for r in range(rows):
                y = r / rows
                cv2.line(bg, self.P(0, y), self.P(a, y), (0.0, 0.0, 0.0), 1, cv2.LINE_AA, _SHIFT)
        elif bgk == "forest":
            prof = self.noise(0.3)[0, :w]
            top = (0.25 + 0.35 * prof) * h
            bg[np.arange(h)[:, None] > top[None, :]] *= 0.4
        glow_r = self.height * rng.uniform(0.9, 1.5)
        d2 = (self.X - self.cx) ** 2 + ((self.Y - self.base + self.height * 0.4) * 1.3) ** 2
        glow = np.exp(-d2 / (glow_r**2))[..., None] * _hsv(0.06 + hue, 0.9, rng.uniform(0.25, 0.45))
        self.bg, self.glow = _u8(bg), _u8(glow)
        # Logs under the flames.
        for _ in range(int(rng.integers(0, 4))):
            x0 = self.cx + rng.uniform(-0.5, 0.5) * self.width
            ang = rng.uniform(-0.4, 0.4)
            ln = rng.uniform(0.15, 0.35)
            p1 = self.P(x0 - ln * math.cos(ang), self.base + 0.02 - ln * math.sin(ang) * 0.3)
            p2 = self.P(x0 + ln * math.cos(ang), self.base + 0.02 + ln * math.sin(ang) * 0.3)
            cv2.line(
                self.bg,
                p1,
                p2,
                _c255(_hsv(0.07, 0.6, rng.uniform(0.12, 0.25))),
                self.T(0.035),
                cv2.LINE_AA,
                _SHIFT,
            )
        n_e = int(rng.integers(8, 40))
        self.e_x = (self.cx + rng.uniform(-0.5, 0.5, n_e) * self.width).astype(np.float32)
        self.e_sp = rng.uniform(0.3, 0.9, n_e)
        self.e_ph = rng.random(n_e)
        self.e_wob = rng.uniform(0.01, 0.05, n_e)
        self.e_r = rng.uniform(0.003, 0.007, n_e)

    def frame(self, t: float) -> np.ndarray:
        turb = 0.65 * self.n1.view(self.s1 * t, 0) + 0.35 * self.n2.view(self.s2 * t, 7 * t)
        sway = 0.04 * np.sin(self.t_f * 3.0 * t + self.t_p)
        cx = self.cx + self.t_off + sway * self.width  # (n,)
        prof = (self.t_h[:, None] * np.exp(-(((self.X - cx[:, None]) / self.t_w[:, None]) ** 2))).max(axis=0)
        flick = 1.0 + 0.08 * math.sin(13.0 * t) + 0.05 * math.sin(23.0 * t + 1.0)
        above = self.base - self.Y  # (h, 1) height above the fuel bed
        reach = prof[None, :] * (0.45 + 0.9 * turb) * flick
        inten = (reach - above) / (0.55 * prof[None, :] + 0.02)
        inten = np.clip(inten, 0.0, 1.0) * (above > -0.03)
        fire = self.lut[(inten * 255).astype(np.uint8)]
        out = cv2.addWeighted(self.bg, 1.0, self.glow, 0.8 + 0.4 * (flick - 1.0) * 5, 0.0)
        out = cv2.add(out, fire)
        for x, sp, ph, wob, r in zip(self.e_x, self.e_sp, self.e_ph, self.e_wob, self.e_r, strict=True):
            k = (t * sp + ph) % 1.0
            y = self.base - k * self.height * 1.6
            xx = x + wob * math.sin(6 * t * sp + ph * 10)
            v = 1.0 - k
            cv2.circle(
                out, self.P(xx, y), self.R(r), (255, int(120 + 120 * v), int(40 * v)), -1, cv2.LINE_AA, _SHIFT
            )
        return out


class Stars(_Scene):
    """A dark sky full of twinkling stars; a few bright ones with four-point spikes."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        a = self.a
        top = _hsv(rng.uniform(0.55, 0.75), rng.uniform(0.3, 0.8), rng.uniform(0.0, 0.05))
        low = _hsv(rng.uniform(0.55, 0.85), rng.uniform(0.3, 0.8), rng.uniform(0.06, 0.2))
        sky = np.broadcast_to(_vgrad(h, [(0, top), (1, low)]), (h, w, 3)).copy()
        if rng.random() < 0.5:  # a faint milky way band
            ang = rng.uniform(-0.8, 0.8)
            d = (self.Y - 0.5) * math.cos(ang) - (self.X - a / 2) * math.sin(ang)
            band = np.exp(-((d / rng.uniform(0.08, 0.2)) ** 2)) * (0.4 + 0.6 * self.noise(0.06)[:h, :w])
            sky += band[..., None] * _hsv(rng.uniform(0.55, 0.7), 0.2, rng.uniform(0.06, 0.14))
        ground = 1.0
        if rng.random() < 0.6:  # hills or a tree line in silhouette
            ground = rng.uniform(0.7, 0.9)
            xs = self.X[0]
            prof = ground + 0.05 * np.sin(xs * rng.uniform(2, 6) + rng.uniform(0, 6))
            if rng.random() < 0.5:
                prof = prof - 0.08 * self.noise(0.03)[0, :w] ** 2
            mask = prof[None, :] < self.Y
            sky[mask] = _hsv(0.6, 0.3, rng.uniform(0.0, 0.03))
        self.sky = sky.astype(np.float32)
        n = int(rng.uniform(120, 420) * a * ground)
        self.sx = rng.uniform(0, a, n)
        self.sy = rng.uniform(0, ground - 0.02, n)
        self.amp = (0.25 + 0.75 * rng.random(n) ** 3).astype(np.float32)
        self.tw_f = rng.uniform(0.7, 4.0, n).astype(np.float32) * 2 * np.pi
        self.tw_p = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
        self.tw_d = rng.uniform(0.2, 0.8, n).astype(np.float32)
        self.ix = np.clip((self.sx * h).astype(np.intp), 0, w - 1)
        self.iy = np.clip((self.sy * h).astype(np.intp), 0, h - 1)
        self.sigma = max(0.5, rng.uniform(0.0025, 0.005) * h)
        self.gain = 2 * np.pi * self.sigma**2  # splat of 1 -> a blob peaking at 1
        nb = int(rng.integers(3, 12))
        self.big = rng.choice(n, nb, replace=False)
        self.spike = rng.uniform(0.015, 0.05, nb)
        self.col = _hsv(rng.uniform(0.1, 0.65), rng.uniform(0.0, 0.25), 1.0)

    def frame(self, t: float) -> np.ndarray:
        amp = self.amp * (1.0 - self.tw_d * (0.5 + 0.5 * np.sin(self.tw_f * t + self.tw_p)))
        layer = np.zeros((self.h, self.w), np.float32)
        np.add.at(layer, (self.iy, self.ix), amp * self.gain)
        for i, ln in zip(self.big, self.spike, strict=True):
            v = float(amp[i]) * self.gain * 0.35
            x, y, r = self.sx[i], self.sy[i], ln * (0.6 + 0.6 * float(amp[i]))
            cv2.line(layer, self.P(x - r, y), self.P(x + r, y), v, 1, cv2.LINE_AA, _SHIFT)
            cv2.line(layer, self.P(x, y - r), self.P(x, y + r), v, 1, cv2.LINE_AA, _SHIFT)
            layer[self.iy[i], self.ix[i]] += 2.0 * self.gain * float(amp[i])
        layer = cv2.GaussianBlur(layer, (0, 0), self.sigma)
        return _u8(self.sky + np.minimum(layer, 1.5)[..., None] * self.col)


class Lightning(_Scene):
    """A dark stormy sky with heavy clouds and rain; repeated branching bolts with flashes."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.c1 = self.scroll(self.noise(rng.uniform(0.3, 0.5), rng.uniform(0.4, 0.7)))
        self.c2 = self.scroll(self.noise(rng.uniform(0.08, 0.14)))
        self.c3 = self.scroll(self.noise(0.035))
        self.v1, self.v2 = rng.uniform(0.02, 0.08) * h * rng.choice([-1, 1]), rng.uniform(0.05, 0.15) * h
        hue = rng.uniform(0.55, 0.78)
        self.dark = _hsv(hue, rng.uniform(0.15, 0.45), rng.uniform(0.03, 0.09))
        self.light = _hsv(hue, rng.uniform(0.1, 0.3), rng.uniform(0.2, 0.34))
        self.flash_col = _hsv(hue, 0.15, 1.0)
        self.ground = np.full((1, w), 2.0, np.float32)
        if rng.random() < 0.65:  # hills or a city skyline against the storm
            g = rng.uniform(0.75, 0.92)
            if rng.random() < 0.5:
                edges = np.sort(rng.uniform(0, self.a, 14))
                hts = g - rng.uniform(0.0, 0.2, 15)
                self.ground = hts[np.searchsorted(edges, self.X[0])][None, :].astype(np.float32)
            else:
                self.ground = (g + 0.04 * np.sin(self.X * rng.uniform(2, 5) + rng.uniform(0, 6))).astype(
                    np.float32
                )
        self.land = np.broadcast_to(self.ground < self.Y, (h, w))
        self.rain = None
        if rng.random() < 0.75:
            dots = (rng.random((h, w)) < 0.004).astype(np.float32)
            ln = max(3, int(rng.uniform(0.05, 0.12) * h))
            ang = rng.uniform(-0.35, 0.35)
            k = np.zeros((ln, ln), np.float32)
            c = (ln - 1) / 2
            cv2.line(k, (round(c - c * math.sin(ang)), 0), (round(c + c * math.sin(ang)), ln - 1), 1.0, 1)
            # Wrap-padded so the streak texture tiles (OpenCV filters have no wrap border).
            streaks = cv2.filter2D(np.pad(dots, ln, mode="wrap"), -1, k / max(k.sum(), 1.0))[ln:-ln, ln:-ln]
            streaks = np.minimum(streaks / max(float(streaks.max()), 1e-6), 1.0) * rng.uniform(0.15, 0.3)
            self.rain = self.scroll(streaks)
            self.rain_v = rng.uniform(1.2, 2.5) * h
            self.rain_dx = math.tan(ang)
        # Flashes: one every 0.5-1.6 s, the first within half a second, each 0.25-0.6 s long.
        gaps = rng.uniform(0.5, 1.6, 80)
        self.f_start = np.concatenate(([rng.uniform(0.0, 0.5)], rng.uniform(0.0, 0.5) + np.cumsum(gaps)))[:80]
        self.f_len = rng.uniform(0.25, 0.6, 80)
        self.bolt_seed = int(rng.integers(2**31))
        self._bolts: dict[int, tuple[list[np.ndarray], float]] = {}

    def _bolt(self, k: int) -> tuple[list[np.ndarray], float]:
        """Polylines (height units) of the k-th bolt: a jagged main channel and a few branches."""
        if k not in self._bolts:
            rng = np.random.default_rng([self.bolt_seed, k])
            x, y = rng.uniform(0.1, 0.9) * self.a, rng.uniform(-0.05, 0.15)
            end = (
                float(self.ground[0, min(int(x * self.h), self.w - 1)])
                if rng.random() < 0.7
                else rng.uniform(0.5, 0.8)
            )
            drift = rng.uniform(-0.4, 0.4)
            pts = [(x, y)]
            lines = []
            while y < min(end, 1.0):
                step = rng.uniform(0.02, 0.05)
                x += step * (drift + rng.normal(0, 0.8))
                y += step
                pts.append((x, y))
                if rng.random() < 0.12:  # a branch forking off downwards
                    bx, by = x, y
                    bpts = [(bx, by)]
                    side = rng.choice([-1, 1])
                    for _ in range(int(rng.integers(3, 9))):
                        s = rng.uniform(0.015, 0.04)
                        bx += s * (side * 0.9 + rng.normal(0, 0.6))
                        by += s * rng.uniform(0.4, 1.0)
                        bpts.append((bx, by))
                    lines.append(np.array(bpts))
            lines.insert(0, np.array(pts))
            self._bolts[k] = ([np.round(p * self.h * _ONE).astype(np.int32) for p in lines], x)
        return self._bolts[k]

    def frame(self, t: float) -> np.ndarray:
        cloud = (
            0.55 * self.c1.view(0, self.v1 * t)
            + 0.3 * self.c2.view(0, self.v2 * t)
            + 0.15 * self.c3.view(0, 2 * self.v2 * t)
        )
        np.multiply(cloud, cloud, out=cloud)  # heavy, contrasty clouds
        k = int(np.searchsorted(self.f_start, t, side="right")) - 1
        level, bolt = 0.0, None
        if 0 <= k < len(self.f_start):
            age = t - self.f_start[k]
            if age < self.f_len[k]:
                # A strike flickers: bright, dims, re-strikes, fades.
                level = 0.55 + 0.45 * abs(math.cos(age * 18.0)) * math.exp(-age * 2.5)
                bolt = self._bolt(k)
        img = self.dark + cloud[..., None] * (self.light - self.dark)
        if level > 0 and bolt is not None:
            bx = bolt[1]
            glow = np.exp(-(((self.X - bx) / 0.6) ** 2) - ((self.Y - 0.2) / 0.7) ** 2)
            img = img + (level * (0.25 + 1.2 * cloud * glow))[..., None] * self.flash_col
        if self.rain is not None:
            img = img + self.rain.view(-self.rain_v * t, self.rain_v * t * self.rain_dx)[..., None] * (
                1 + 2 * level
            )
        out = _u8(img)
        if self.land.any():  # silhouettes, lit a little by the flash
            out[self.land] = _c255(self.dark * 0.3 * (1 + 3 * level))
        if level > 0 and bolt is not None:
            layer = np.zeros((self.h, self.w), np.uint8)
            cv2.polylines(layer, bolt[0], False, 255, self.T(0.02), cv2.LINE_AA, _SHIFT)
            layer = cv2.GaussianBlur(layer, (0, 0), max(1.0, 0.012 * self.h))
            cv2.polylines(layer, bolt[0][:1], False, 255, self.T(0.006), cv2.LINE_AA, _SHIFT)
            cv2.polylines(layer, bolt[0][1:], False, 230, self.T(0.003), cv2.LINE_AA, _SHIFT)
            bolt_rgb = (layer[..., None].astype(np.float32) * (level * self.flash_col)).astype(np.uint8)
            out = cv2.add(out, bolt_rgb)
        return out


class Wave(_Scene):
    """The sea towards a horizon: wave bands rolling in with white foam, sometimes a beach."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.hz = rng.uniform(0.22, 0.5)
        self.sky = np.broadcast_to(self.day_sky(self.hz), (h, w, 3)).copy()
        if rng.random() < 0.6:
            cl = np.clip((self.noise(0.15, 0.3)[:h, :w] - 0.55) * 3, 0, 1)
            self.sky += (cl * (self.hz > self.Y))[..., None] * (0.9 - self.sky) * 0.8
        hue = rng.uniform(0.45, 0.62)
        self.far = _hsv(hue, rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.55))
        self.near = _hsv(hue + rng.uniform(-0.05, 0.03), rng.uniform(0.5, 0.9), rng.uniform(0.4, 0.7))
        self.foam_col = np.array([0.95, 0.97, 1.0], np.float32) * rng.uniform(0.9, 1.0)
        self.freq = rng.uniform(1.2, 2.5)
        self.speed = rng.uniform(0.25, 0.6)
        self.foam = rng.uniform(0.25, 0.5)
        self.wob = self.scroll(self.noise(rng.uniform(0.08, 0.15), rng.uniform(0.2, 0.4)))
        self.fn = self.scroll(self.noise(0.03))
        d = np.clip((self.Y - self.hz) / (1.0 - self.hz), 1e-3, 1.0)  # 0 at horizon, 1 at bottom
        self.d = d
        self.dist = (1.0 / d).astype(np.float32)  # distance on the water (perspective)
        self.water = (self.far + (self.near - self.far) * np.sqrt(d)[..., None]).astype(np.float32)
        self.beach = rng.random() < 0.45
        if self.beach:
            self.shore = rng.uniform(0.8, 0.93)
            sand = _hsv(rng.uniform(0.08, 0.12), rng.uniform(0.25, 0.5), rng.uniform(0.6, 0.85))
            self.sand = (sand * (0.85 + 0.3 * self.noise(0.02)[:h, :w, None])).astype(np.float32)
        # Only the rows below the horizon change: the sky is converted once and the sea is
        # drawn on a row slice (half the work of full-frame compositing).
        self.r0 = int(np.searchsorted(self.Y[:, 0], self.hz))
        self.sky_u8 = _u8(self.sky)
        r0 = self.r0
        self.dist, self.water, self.Ys = self.dist[r0:], self.water[r0:], self.Y[r0:]
        self.fade = np.minimum(self.d[r0:] * 4, 1.0)  # crests vanish into the distance
        if self.beach:
            self.sand = self.sand[r0:] * 0.85

    def frame(self, t: float) -> np.ndarray:
        r0 = self.r0
        wob = self.wob.view(0.02 * self.h * t, 0)[r0:]
        phase = 2 * np.pi * (self.freq * self.dist + self.speed * t * self.freq) + 2.5 * wob
        c = np.sin(phase)
        shade = 1.0 + 0.25 * c * self.fade
        fn = self.fn.view(0.1 * self.h * t, 0)[r0:]
        foam = np.clip((c - (1 - self.foam)) / self.foam + 0.5 * (fn - 0.5), 0, 1) * self.fade
        img = self.water * shade[..., None]
        img += foam[..., None] * (self.foam_col - img)
        if self.beach:
            sy = self.shore + 0.03 * math.sin(2 * np.pi * t * self.speed * 0.5)
            wet = np.clip((self.Ys - sy) * 40, 0, 1)[..., None]
            band = np.exp(-(((self.Ys - sy) / 0.012) ** 2)) * (0.6 + 0.4 * self.fn.view(0, 30 * t)[r0:])
            img = img * (1 - wet) + self.sand * wet
            img += band[..., None] * (self.foam_col - img)
        out = self.sky_u8.copy()
        out[r0:] = _u8(img)
        return out


class River(_Scene):
    """Flowing water between two banks, seen from above or from a bank; streaks and glints drift."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.side = rng.random() < 0.4
        hue = rng.choice([rng.uniform(0.5, 0.6), rng.uniform(0.25, 0.45), rng.uniform(0.08, 0.12)])
        self.deep = _hsv(hue, rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.4))
        self.shallow = _hsv(hue, rng.uniform(0.2, 0.5), rng.uniform(0.45, 0.7))
        self.s1 = self.scroll(self.noise(rng.uniform(0.02, 0.04), rng.uniform(0.15, 0.3)))
        self.s2 = self.scroll(self.noise(rng.uniform(0.01, 0.02), rng.uniform(0.06, 0.12)))
        self.gl = self.scroll(self.noise(0.012, 0.025))
        self.v = rng.uniform(0.25, 0.8) * h * rng.choice([-1, 1])
        bank_hue = rng.choice([rng.uniform(0.22, 0.35), rng.uniform(0.07, 0.12)])
        bank = _hsv(bank_hue, rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.55))
        tex = self.noise(0.02)[:h, :w, None] * 0.6 + self.noise(0.1)[:h, :w, None] * 0.6
        self.bank = (bank * (0.5 + tex)).astype(np.float32)
        if self.side:
            y1 = rng.uniform(0.25, 0.45)
            top = y1 + 0.02 * np.sin(self.X * rng.uniform(3, 8))
            bot = np.full_like(self.X, rng.uniform(0.85, 1.2)) - 0.03 * np.sin(self.X * rng.uniform(2, 6))
            self.persp = (0.4 + 0.6 * np.clip((self.Y - y1) / (1.0 - y1), 0, 1)).astype(np.float32)
            # Trees on the far bank, a strip of sky above them.
            sky = np.broadcast_to(self.day_sky(0.2), (h, w, 3))
            trees = (y1 - 0.05 - 0.15 * self.noise(0.05, 0.04)[0, :w])[None, :]
            self.bank = np.where((trees > self.Y)[..., None], sky, self.bank).astype(np.float32)
        else:
            cy = rng.uniform(0.4, 0.6)
            half = rng.uniform(0.2, 0.35)
            centre = (
                cy
                + rng.uniform(-0.15, 0.15) * (self.X - self.a / 2)
                + 0.06 * np.sin(self.X * rng.uniform(1, 4) + rng.uniform(0, 6))
            )
            top, bot = centre - half, centre + half
            self.persp = np.ones((h, 1), np.float32)
        self.mask = np.clip((self.Y - top) * 60, 0, 1) * np.clip((bot - self.Y) * 60, 0, 1)
        mid = np.clip(1 - np.abs((self.Y - (top + bot) / 2) / ((bot - top) / 2 + 1e-3)), 0, 1)
        self.water = (self.deep + (self.shallow - self.deep) * (1 - mid[..., None] ** 0.5)).astype(np.float32)
        self.edge = np.exp(-((np.minimum(np.abs(self.Y - top), np.abs(self.Y - bot)) / 0.01) ** 2))

    def frame(self, t: float) -> np.ndarray:
        s = 0.6 * self.s1.view(0, -self.v * t) + 0.4 * self.s2.view(0, -1.4 * self.v * t)
        glint = np.clip((self.gl.view(0, -1.7 * self.v * t) - 0.75) * 5, 0, 1) * self.persp
        img = self.water * (0.7 + 0.6 * s)[..., None] + (glint * 0.6)[..., None]
        img += (self.edge * 0.5)[..., None] * (0.9 - img)  # white water along the banks
        m = self.mask[..., None]
        return _u8(self.bank * (1 - m) + img * m)


class WaterDrop(_Scene):
    """Drops falling into a pool: splashes and expanding rings (circles from above, ellipses at an angle)."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        hue = rng.uniform(0.45, 0.65)
        dark = rng.random() < 0.4
        v = rng.uniform(0.05, 0.2) if dark else rng.uniform(0.35, 0.65)
        c1, c2 = (
            _hsv(hue, rng.uniform(0.4, 0.9), v),
            _hsv(hue + 0.03, rng.uniform(0.3, 0.8), v * rng.uniform(0.5, 0.9)),
        )
        base = np.broadcast_to(_vgrad(h, [(0, c1), (1, c2)]), (h, w, 3))
        self.caust = self.scroll(self.noise(rng.uniform(0.05, 0.12)))
        self.base = base.astype(np.float32)
        self.cv = rng.uniform(0.01, 0.04) * h
        self.squash = 1.0 if rng.random() < 0.4 else rng.uniform(0.3, 0.6)  # top-down vs oblique view
        self.hi = np.array([0.9, 0.95, 1.0], np.float32) * rng.uniform(0.5, 0.9)
        self.lo = self.base.mean(axis=(0, 1)) * 0.35
        gaps = rng.uniform(0.2, 0.8, 200)
        self.d_t = -2.5 + np.cumsum(gaps)
        n = len(self.d_t)
        if rng.random() < 0.4:  # one dripping tap: always the same spot
            x0, y0 = rng.uniform(0.3, 0.7) * self.a, rng.uniform(0.45, 0.75)
            self.d_x = np.full(n, x0) + rng.normal(0, 0.01, n)
            self.d_y = np.full(n, y0) + rng.normal(0, 0.01, n)
        else:
            self.d_x = rng.uniform(0.12, 0.88, n) * self.a
            self.d_y = rng.uniform(0.3, 0.85, n)
        self.speed = rng.uniform(0.15, 0.35)
        self.rings = int(rng.integers(2, 5))
        self.fall = rng.uniform(0.15, 0.35)

    def frame(self, t: float) -> np.ndarray:
        h = self.h
        lay = np.zeros((h, self.w), np.float32)
        th = self.T(0.006)
        active = np.flatnonzero((self.d_t > t - 3.0) & (self.d_t < t + self.fall))
        for i in active:
            age = t - self.d_t[i]
            x, y = self.d_x[i], self.d_y[i]
            if age < 0:  # still falling
                fy = y - 1.5 * (age * age) / (self.fall**2) * min(y, 0.6)
                cv2.ellipse(
                    lay,
                    self.P(x, fy),
                    (self.R(0.008), self.R(0.016)),
                    0,
                    0,
                    360,
                    1.6,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                continue
            fade = math.exp(-age / 1.1)
            for j in range(self.rings):
                r = self.speed * (age - 0.09 * j)
                if r <= 0.003:
                    continue
                ax = (self.R(r), self.R(r * self.squash))
                cv2.ellipse(lay, self.P(x, y), ax, 0, 0, 360, 0.9 * fade, th, cv2.LINE_AA, _SHIFT)
                ax2 = (self.R(r * 0.93), self.R(r * 0.93 * self.squash))
                cv2.ellipse(lay, self.P(x, y), ax2, 0, 0, 360, -0.6 * fade, th, cv2.LINE_AA, _SHIFT)
            if age < 0.3:  # splash: a jet rising and falling, with a crown of droplets
                jet = 0.12 * math.sin(np.pi * age / 0.3)
                cv2.ellipse(
                    lay,
                    self.P(x, y - jet / 2),
                    (self.R(0.008), self.R(jet / 2 + 0.005)),
                    0,
                    0,
                    360,
                    1.4,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                for k in range(7):
                    ang = np.pi * (0.15 + 0.7 * k / 6)
                    rr = 0.06 * age / 0.3
                    px = x + math.cos(ang) * rr * 1.2
                    py = y - math.sin(ang) * rr * 1.5 + 1.5 * age * age
                    cv2.circle(lay, self.P(px, py), self.R(0.005), 1.2, -1, cv2.LINE_AA, _SHIFT)
        caust = self.caust.view(self.cv * t, 0.7 * self.cv * t)[..., None]
        img = self.base * (0.8 + 0.4 * caust)
        pos = np.maximum(lay, 0)[..., None]
        neg = np.minimum(-lay, 1)[..., None]
        img = img + pos * (self.hi - img * 0.5) - neg * (img - self.lo)
        return _u8(np.maximum(img, 0))


class Typing(_Scene):
    """A keyboard from above; keys go down one after another under hovering hands."""

    ROWS = ((0.0, 15, 1.0), (1.5, 12, 1.0), (1.75, 11, 1.0), (2.25, 10, 1.0))

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        desk_kind = rng.integers(3)
        if desk_kind == 0:  # wood
            tone = _hsv(rng.uniform(0.06, 0.1), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.7))
            grain = self.noise(0.01, 0.3)[:h, :w, None]
            desk = tone * (0.75 + 0.4 * grain)
        else:
            tone = _hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.1, 0.9))
            desk = tone * (0.92 + 0.16 * self.noise(0.05)[:h, :w, None])
        img = _u8(np.broadcast_to(desk, (h, w, 3)).astype(np.float32))
        # Keyboard geometry in its own units (key pitch = 1), then a homography to the frame.
        body_v = rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.6, 0.9)])
        body = _hsv(rng.uniform(0, 1), rng.uniform(0, 0.15), body_v)
        key_v = body_v + rng.choice([-1, 1]) * rng.uniform(0.05, 0.2) if rng.random() < 0.5 else body_v
        self.key = _hsv(rng.uniform(0, 1), rng.uniform(0, 0.1), min(max(key_v, 0.04), 0.95))
        self.lit = _hsv(rng.uniform(0, 1), rng.uniform(0.6, 1.0), 1.0) if rng.random() < 0.4 else None
        legend = np.array([1.0, 1.0, 1.0]) if key_v < 0.5 else np.array([0.1, 0.1, 0.1])
        cols, rows = 15.0, 5.0
        width = rng.uniform(0.75, 1.1) * self.a
        kh = width * rows / cols * rng.uniform(0.95, 1.1)
        cx, cy = self.a / 2 + rng.uniform(-0.1, 0.1), rng.uniform(0.42, 0.58)
        ang = rng.uniform(-0.18, 0.18)
        persp = rng.uniform(0.0, 0.15)
        src = np.float32([[0, 0], [cols, 0], [cols, rows], [0, rows]]) + np.float32(
            [-0.3, -0.3]
        ) * np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
        hw, hh = width / 2, kh / 2
        quad = np.float32([[-hw * (1 - persp), -hh], [hw * (1 - persp), -hh], [hw, hh], [-hw, hh]])
        rot = np.float32([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
        dst = (quad @ rot.T + np.float32([cx, cy])) * h
        self.H = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        body_pts = cv2.perspectiveTransform(src[None], self.H)[0]
        cv2.fillConvexPoly(img, np.round(body_pts * _ONE).astype(np.int32), _c255(body), cv2.LINE_AA, _SHIFT)
        # (x, row, width) in key pitches: number row, three staggered letter rows, space row.
        keys = [(c * 1.0, 0, 1.0) for c in range(15)]
        for r, (off, n, size) in enumerate(self.ROWS[1:], start=1):
            keys += [(off + c * size, r, size) for c in range(n)]
        keys += [
            (0.0, 4, 1.5),
            (1.5, 4, 1.5),
            (3.0, 4, 1.5),
            (4.5, 4, 6.0),
            (10.5, 4, 1.5),
            (12.0, 4, 1.5),
            (13.5, 4, 1.5),
        ]
        self.polys = []
        for x, y, s in keys:
            if x + s > cols + 0.01:
                continue
            pad = 0.08
            kp = np.float32(
                [
                    [x + pad, y + pad],
                    [x + s - pad, y + pad],
                    [x + s - pad, y + 1 - pad],
                    [x + pad, y + 1 - pad],
                ]
            )
            poly = cv2.perspectiveTransform(kp[None], self.H)[0]
            self.polys.append(np.round(poly * _ONE).astype(np.int32))
            cv2.fillConvexPoly(img, self.polys[-1], _c255(self.key), cv2.LINE_AA, _SHIFT)
            if s <= 1.0 and rng.random() < 0.9:  # a legend mark on the key
                lp = cv2.perspectiveTransform(
                    np.float32([[[x + 0.3, y + 0.3], [x + 0.55, y + 0.55]]]), self.H
                )[0]
                cv2.line(
                    img,
                    tuple(np.round(lp[0] * _ONE).astype(int)),
                    tuple(np.round(lp[1] * _ONE).astype(int)),
                    _c255(legend * 0.8 + self.key * 0.2),
                    1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
        self.static = img
        # Typing rhythm: 4-11 strokes per second, each key down for 80-160 ms.
        rate = rng.uniform(4, 11)
        self.k_t = np.cumsum(rng.exponential(1 / rate, 2000)) - 1.0
        self.k_i = rng.integers(0, len(self.polys) - 1, 2000)
        self.k_len = rng.uniform(0.08, 0.16)
        self.hands = rng.random() < 0.75
        self.skin = _hsv(rng.uniform(0.03, 0.09), rng.uniform(0.25, 0.6), rng.uniform(0.35, 0.95))
        self.hand_xy = [(cx - width * 0.22, cy + kh * 0.45), (cx + width * 0.22, cy + kh * 0.45)]
        self.hand_s = width * rng.uniform(0.09, 0.13)
        self.hand_p = rng.uniform(0, 6, 2)

    def frame(self, t: float) -> np.ndarray:
        out = self.static.copy()
        lo = np.searchsorted(self.k_t, t - self.k_len)
        hi = np.searchsorted(self.k_t, t, side="right")
        pressed = self.key * 0.55 if self.lit is None else self.lit
        for i in self.k_i[lo:hi]:
            cv2.fillConvexPoly(out, self.polys[i], _c255(pressed), cv2.LINE_AA, _SHIFT)
        if self.hands:
            skin, shade = _c255(self.skin), _c255(self.skin * 0.75)
            s = self.hand_s
            for (hx, hy), ph in zip(self.hand_xy, self.hand_p, strict=True):
                hx += 0.02 * math.sin(3.1 * t + ph)
                hy += 0.015 * math.sin(4.3 * t + 2 * ph)
                for f in range(4):  # fingers reaching up to the keys, bobbing as they type
                    fx = hx + (f - 1.5) * s * 0.45
                    fy = hy - s * (1.0 + 0.15 * math.sin(9 * t + f * 1.7 + ph))
                    cv2.ellipse(
                        out,
                        self.P(fx, fy),
                        (self.R(s * 0.17), self.R(s * 0.55)),
                        0,
                        0,
                        360,
                        shade,
                        -1,
                        cv2.LINE_AA,
                        _SHIFT,
                    )
                    cv2.ellipse(
                        out,
                        self.P(fx, fy),
                        (self.R(s * 0.14), self.R(s * 0.5)),
                        0,
                        0,
                        360,
                        skin,
                        -1,
                        cv2.LINE_AA,
                        _SHIFT,
                    )
                cv2.ellipse(
                    out,
                    self.P(hx, hy),
                    (self.R(s * 0.95), self.R(s * 0.7)),
                    0,
                    0,
                    360,
                    skin,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
        return out


class Cars(_Scene):
    """A road with cars passing: from the side (buildings or trees behind) or from above."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.top = rng.random() < 0.35
        a = self.a
        if self.top:
            grass = _hsv(rng.uniform(0.2, 0.33), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.55))
            img = grass * (0.8 + 0.4 * self.noise(0.04)[:h, :w, None])
            self.y1, self.y2 = rng.uniform(0.15, 0.3), rng.uniform(0.7, 0.85)
            asphalt = rng.uniform(0.2, 0.4)
            road = (self.y1 < self.Y) & (self.y2 > self.Y)
            img = np.where(road[..., None], asphalt * (0.95 + 0.1 * self.noise(0.01)[:h, :w, None]), img)
            img = _u8(np.broadcast_to(img, (h, w, 3)).astype(np.float32))
            mid = (self.y1 + self.y2) / 2
            for x in np.arange(0, a, 0.2):
                cv2.line(
                    img,
                    self.P(x, mid),
                    self.P(x + 0.1, mid),
                    (235, 235, 235),
                    self.T(0.012),
                    cv2.LINE_AA,
                    _SHIFT,
                )
            self.lanes = [((self.y1 + mid) / 2, -1.0, 1.0), ((mid + self.y2) / 2, 1.0, 1.0)]
        else:
            self.y1 = rng.uniform(0.5, 0.68)
            self.y2 = rng.uniform(0.85, 1.0)
            sky = np.broadcast_to(self.day_sky(self.y1), (h, w, 3)).copy()
            img = _u8(sky)
            kind = rng.integers(3)
            x = -0.05
            while x < a:  # buildings, trees or hills behind the road
                bw = rng.uniform(0.08, 0.3)
                if kind == 0:
                    top = rng.uniform(0.1, self.y1 - 0.1)
                    col = _hsv(rng.uniform(0, 1), rng.uniform(0.05, 0.3), rng.uniform(0.35, 0.8))
                    cv2.rectangle(
                        img, self.P(x, top), self.P(x + bw, self.y1), _c255(col), -1, cv2.LINE_AA, _SHIFT
                    )
                    win = _c255(col * 0.5)
                    for wy in np.arange(top + 0.04, self.y1 - 0.06, 0.07):
                        for wx in np.arange(x + 0.02, x + bw - 0.03, 0.05):
                            cv2.rectangle(
                                img,
                                self.P(wx, wy),
                                self.P(wx + 0.025, wy + 0.035),
                                win,
                                -1,
                                cv2.LINE_AA,
                                _SHIFT,
                            )
                elif kind == 1:
                    r = bw * 0.5
                    cy = self.y1 - r * rng.uniform(0.8, 1.5)
                    cv2.rectangle(
                        img,
                        self.P(x + r - 0.01, cy),
                        self.P(x + r + 0.01, self.y1),
                        (80, 60, 40),
                        -1,
                        cv2.LINE_AA,
                        _SHIFT,
                    )
                    col = _hsv(rng.uniform(0.22, 0.35), rng.uniform(0.4, 0.7), rng.uniform(0.25, 0.5))
                    cv2.circle(img, self.P(x + r, cy), self.R(r), _c255(col), -1, cv2.LINE_AA, _SHIFT)
                else:
                    col = _hsv(rng.uniform(0.2, 0.35), rng.uniform(0.3, 0.5), rng.uniform(0.3, 0.6))
                    cv2.ellipse(
                        img,
                        self.P(x + bw, self.y1),
                        (self.R(bw * 2), self.R(rng.uniform(0.05, 0.2))),
                        0,
                        180,
                        360,
                        _c255(col),
                        -1,
                        cv2.LINE_AA,
                        _SHIFT,
                    )
                x += bw
            walk = _c255(_hsv(0.08, 0.1, rng.uniform(0.5, 0.75)))
            cv2.rectangle(
                img,
                self.P(-0.1, self.y1 - 0.02),
                self.P(a + 0.1, self.y1 + 0.02),
                walk,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            g = int(rng.uniform(0.2, 0.4) * 255)
            cv2.rectangle(
                img, self.P(-0.1, self.y1 + 0.02), self.P(a + 0.1, 1.2), (g, g, g), -1, cv2.LINE_AA, _SHIFT
            )
            mid = (self.y1 + 0.02 + min(self.y2, 1.0)) / 2
            for x in np.arange(0, a, 0.25):
                cv2.line(
                    img,
                    self.P(x, mid),
                    self.P(x + 0.12, mid),
                    (230, 230, 200),
                    self.T(0.01),
                    cv2.LINE_AA,
                    _SHIFT,
                )
            far, near = (self.y1 + mid) / 2 + 0.02, (mid + min(self.y2, 1.0)) / 2 + 0.04
            self.lanes = [(far, -1.0, 0.75), (near, 1.0, 1.0)]
        self.static = img
        self.cars = []
        for lane_y, direction, scale in self.lanes:
            n = int(rng.integers(2, 4))
            speed = rng.uniform(0.5, 1.5) * scale
            length = 0.45 * scale if not self.top else rng.uniform(0.25, 0.35)
            period = a + 2 * length + 0.2
            phase = rng.uniform(0, period)
            for i in range(n):
                col = _hsv(rng.uniform(0, 1), rng.uniform(0.1, 0.9), rng.uniform(0.3, 0.95))
                off = phase + i * period / n + rng.uniform(-0.1, 0.1) * period / n
                self.cars.append(
                    (lane_y, direction, scale, speed, period, off, col, length * rng.uniform(0.85, 1.15))
                )

    def frame(self, t: float) -> np.ndarray:
        out = self.static.copy()
        for lane_y, direction, scale, speed, period, off, col, ln in self.cars:
            x = (off + speed * t) % period - ln - 0.1
            if direction < 0:
                x = self.a - x
            c, dark = _c255(col), _c255(col * 0.4)
            if self.top:
                wd = ln * 0.45
                cv2.rectangle(
                    out,
                    self.P(x - ln / 2, lane_y - wd / 2),
                    self.P(x + ln / 2, lane_y + wd / 2),
                    c,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                fx = x + direction * ln * 0.12
                cv2.rectangle(
                    out,
                    self.P(fx - ln * 0.08, lane_y - wd * 0.4),
                    self.P(fx + ln * 0.08, lane_y + wd * 0.4),
                    (40, 50, 60),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                continue
            s = scale
            bottom = lane_y
            hgt = 0.09 * s
            cv2.rectangle(
                out,
                self.P(x - ln / 2, bottom - hgt),
                self.P(x + ln / 2, bottom - 0.02 * s),
                c,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            cab = np.array(
                [
                    [x - ln * 0.3, bottom - hgt],
                    [x - ln * 0.18, bottom - hgt - 0.07 * s],
                    [x + ln * 0.15, bottom - hgt - 0.07 * s],
                    [x + ln * 0.3, bottom - hgt],
                ]
            )
            cab[:, 0] = x + (cab[:, 0] - x) * direction
            cv2.fillConvexPoly(out, np.round(cab * self.h * _ONE).astype(np.int32), c, cv2.LINE_AA, _SHIFT)
            win = cab.copy()
            win[:, 0] = x + (win[:, 0] - x) * 0.85
            win[:, 1] = bottom - hgt - (bottom - hgt - win[:, 1]) * 0.8
            cv2.fillConvexPoly(
                out, np.round(win * self.h * _ONE).astype(np.int32), (60, 80, 100), cv2.LINE_AA, _SHIFT
            )
            for wx in (x - ln * 0.3, x + ln * 0.3):
                cv2.circle(
                    out,
                    self.P(wx, bottom - 0.02 * s),
                    self.R(0.035 * s),
                    (20, 20, 20),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                cv2.circle(
                    out,
                    self.P(wx, bottom - 0.02 * s),
                    self.R(0.015 * s),
                    (150, 150, 150),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
            cv2.line(
                out,
                self.P(x - ln / 2, bottom - hgt * 0.55),
                self.P(x + ln / 2, bottom - hgt * 0.55),
                dark,
                1,
                cv2.LINE_AA,
                _SHIFT,
            )
        return out


class Otherwise(_Scene):
    """Things with no effect: rooms, desks, faces, skies, fields, buildings, gradients, textures, shapes."""

    KINDS = ("room", "gradient", "texture", "shapes", "sky", "field", "city", "person", "desk", "flat")

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.kind = str(rng.choice(self.KINDS))
        self.moving: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, str]] = []
        self.drift: _Scroll | None = None
        getattr(self, f"_init_{self.kind}")(rng)
        if rng.random() < 0.2:  # a dim version: dark frames are not all stars or storms
            self.static = (self.static.astype(np.float32) * rng.uniform(0.15, 0.4)).astype(np.uint8)

    def _rand_col(self, rng: np.random.Generator, vmin: float = 0.2, vmax: float = 0.95) -> np.ndarray:
        return _hsv(rng.random(), rng.uniform(0.05, 0.8), rng.uniform(vmin, vmax))

    def _init_room(self, rng: np.random.Generator) -> None:
        h, w, a = self.h, self.w, self.a
        wall = _hsv(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.5, 0.95))
        floor_y = rng.uniform(0.65, 0.85)
        img = np.broadcast_to(wall * (0.9 + 0.1 * (1 - self.Y[..., None])), (h, w, 3)).copy()
        floor = _hsv(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6))
        img[(floor_y < self.Y)[:, 0]] = (
            floor * (0.85 + 0.3 * self.noise(0.01, 0.2)[:h, :w, None])[(floor_y < self.Y)[:, 0]]
        )
        out = _u8(img.astype(np.float32))
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(0, a - 0.2), rng.uniform(0.05, floor_y - 0.3)
            ww, hh = rng.uniform(0.12, 0.4), rng.uniform(0.12, 0.3)
            if rng.random() < 0.4:  # a window onto a day sky
                cv2.rectangle(
                    out, self.P(x, y), self.P(x + ww, y + hh), (240, 240, 235), -1, cv2.LINE_AA, _SHIFT
                )
                cv2.rectangle(
                    out,
                    self.P(x + 0.01, y + 0.01),
                    self.P(x + ww - 0.01, y + hh - 0.01),
                    _c255(_hsv(0.57, 0.4, 0.9)),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
            else:  # a picture frame
                cv2.rectangle(
                    out,
                    self.P(x, y),
                    self.P(x + ww, y + hh),
                    _c255(self._rand_col(rng, 0.1, 0.5)),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                cv2.rectangle(
                    out,
                    self.P(x + 0.015, y + 0.015),
                    self.P(x + ww - 0.015, y + hh - 0.015),
                    _c255(self._rand_col(rng)),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
        for _ in range(int(rng.integers(1, 4))):  # sofa, table, cupboard
            x = rng.uniform(-0.1, a - 0.2)
            ww, hh = rng.uniform(0.2, 0.6), rng.uniform(0.15, 0.4)
            col = _c255(self._rand_col(rng, 0.15, 0.8))
            cv2.rectangle(
                out, self.P(x, floor_y - hh), self.P(x + ww, floor_y + 0.03), col, -1, cv2.LINE_AA, _SHIFT
            )
            if rng.random() < 0.5:
                cv2.rectangle(
                    out,
                    self.P(x - 0.02, floor_y - hh * 0.5),
                    self.P(x + 0.04, floor_y + 0.03),
                    col,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
        if rng.random() < 0.5:  # a plant
            px = rng.uniform(0.1, a - 0.1)
            cv2.rectangle(
                out,
                self.P(px - 0.04, floor_y - 0.1),
                self.P(px + 0.04, floor_y + 0.02),
                (150, 80, 50),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            for _ in range(6):
                cv2.ellipse(
                    out,
                    self.P(px + rng.uniform(-0.06, 0.06), floor_y - 0.1 - rng.uniform(0, 0.15)),
                    (self.R(0.03), self.R(0.07)),
                    rng.uniform(0, 180),
                    0,
                    360,
                    _c255(_hsv(0.3, 0.6, rng.uniform(0.3, 0.6))),
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
        self.static = out

    def _init_gradient(self, rng: np.random.Generator) -> None:
        c1, c2 = self._rand_col(rng, 0.1), self._rand_col(rng, 0.1)
        ang = rng.uniform(0, 2 * np.pi)
        if rng.random() < 0.5:
            g = (self.X - self.a / 2) * math.cos(ang) + (self.Y - 0.5) * math.sin(ang)
            g = np.clip(g / max(self.a, 1) + 0.5, 0, 1)
        else:
            cx, cy = rng.uniform(0, self.a), rng.uniform(0, 1)
            g = np.clip(np.sqrt((self.X - cx) ** 2 + (self.Y - cy) ** 2) / rng.uniform(0.5, 1.5), 0, 1)
        self.static = _u8((c1 + (c2 - c1) * g[..., None]).astype(np.float32))

    def _init_texture(self, rng: np.random.Generator) -> None:
        cy = rng.uniform(0.01, 0.2)
        n = self.noise(cy, cy * rng.choice([1.0, 0.2, 5.0]))
        n2 = self.noise(cy * 0.3)
        c1, c2 = self._rand_col(rng), self._rand_col(rng)
        h, w = self.h, self.w
        tex = np.clip(0.7 * n[:h, :w] + 0.3 * n2[:h, :w], 0, 1)
        self.static = _u8((c1 + (c2 - c1) * tex[..., None]).astype(np.float32))

    def _init_shapes(self, rng: np.random.Generator) -> None:
        self.static = _u8(np.broadcast_to(self._rand_col(rng, 0.1), (self.h, self.w, 3)).astype(np.float32))
        for _ in range(int(rng.integers(3, 16))):
            pos = np.array([rng.uniform(0, self.a), rng.uniform(0, 1)])
            vel = rng.normal(0, 0.05, 2)
            size = np.array([rng.uniform(0.04, 0.3), rng.uniform(0.04, 0.3)])
            self.moving.append((pos, vel, size, 0.0, str(rng.choice(["circle", "rect", "tri"]))))
        self.shape_cols = [_c255(self._rand_col(rng)) for _ in self.moving]

    def _init_sky(self, rng: np.random.Generator) -> None:
        sky = np.broadcast_to(self.day_sky(1.0), (self.h, self.w, 3))
        tex = 0.7 * self.noise(rng.uniform(0.15, 0.35), rng.uniform(0.3, 0.6))
        cover = rng.uniform(0.3, 0.7)
        clouds = np.clip((tex - (0.7 - cover * 0.5)) * 4, 0, 1)
        self.sky_base = sky.astype(np.float32)
        self.drift = self.scroll(clouds.astype(np.float32))
        self.drift_v = np.array([0.0, rng.uniform(0.02, 0.08) * self.h])
        self.static = _u8(self.sky_base)

    def _init_field(self, rng: np.random.Generator) -> None:
        h, w = self.h, self.w
        hz = rng.uniform(0.3, 0.6)
        sky = np.broadcast_to(self.day_sky(hz), (h, w, 3))
        ground = _hsv(
            rng.choice([rng.uniform(0.2, 0.33), rng.uniform(0.08, 0.13), 0.6]),
            rng.uniform(0.0, 0.7),
            rng.uniform(0.4, 0.9),
        )
        tex = ground * (0.8 + 0.4 * self.noise(0.02, 0.05)[:h, :w, None])
        line = hz + 0.04 * np.sin(self.X * rng.uniform(1, 4) + rng.uniform(0, 6))
        img = _u8(np.where((line < self.Y)[..., None], tex, sky).astype(np.float32))
        for _ in range(int(rng.integers(0, 6))):
            x = rng.uniform(0, self.a)
            y = hz + rng.uniform(0.0, 0.2)
            r = rng.uniform(0.04, 0.12)
            cv2.rectangle(
                img,
                self.P(x - 0.01, y - r),
                self.P(x + 0.01, y + 0.03),
                (90, 60, 40),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            cv2.circle(
                img,
                self.P(x, y - r),
                self.R(r),
                _c255(_hsv(0.3, 0.6, rng.uniform(0.2, 0.5))),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
        self.static = img

    def _init_city(self, rng: np.random.Generator) -> None:
        img = _u8(np.broadcast_to(self.day_sky(0.8), (self.h, self.w, 3)).astype(np.float32))
        x = -0.05
        base = rng.uniform(0.85, 1.05)
        while x < self.a:
            bw = rng.uniform(0.15, 0.5)
            top = rng.uniform(0.05, 0.6)
            col = self._rand_col(rng, 0.35, 0.9)
            cv2.rectangle(
                img, self.P(x, top), self.P(x + bw, base + 0.1), _c255(col), -1, cv2.LINE_AA, _SHIFT
            )
            win = _c255(col * rng.uniform(0.4, 0.7))
            for wy in np.arange(top + 0.05, base - 0.05, 0.09):
                for wx in np.arange(x + 0.03, x + bw - 0.05, 0.07):
                    cv2.rectangle(
                        img, self.P(wx, wy), self.P(wx + 0.035, wy + 0.05), win, -1, cv2.LINE_AA, _SHIFT
                    )
            x += bw + rng.uniform(0, 0.05)
        self.static = img

    def _init_person(self, rng: np.random.Generator) -> None:
        self._init_gradient(rng) if rng.random() < 0.5 else self._init_room(rng)
        base = self.static
        skin = _hsv(rng.uniform(0.03, 0.09), rng.uniform(0.25, 0.6), rng.uniform(0.35, 0.95))
        self.person = (
            rng.uniform(0.3, 0.7) * self.a,
            rng.uniform(0.3, 0.5),
            rng.uniform(0.12, 0.22),
            skin,
            self._rand_col(rng),
            self._rand_col(rng, 0.05, 0.5),
        )
        self.static = base

    def _init_desk(self, rng: np.random.Generator) -> None:
        h, w = self.h, self.w
        tone = _hsv(rng.uniform(0.05, 0.11), rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.8))
        img = _u8((tone * (0.75 + 0.4 * self.noise(0.01, 0.3)[:h, :w, None])).astype(np.float32))
        for _ in range(int(rng.integers(1, 4))):  # paper sheets and books
            x, y = rng.uniform(0, self.a - 0.3), rng.uniform(0, 0.6)
            col = (245, 245, 240) if rng.random() < 0.5 else _c255(self._rand_col(rng))
            pts = np.array([[x, y], [x + 0.3, y + 0.03], [x + 0.27, y + 0.42], [x - 0.03, y + 0.39]])
            cv2.fillConvexPoly(img, np.round(pts * h * _ONE).astype(np.int32), col, cv2.LINE_AA, _SHIFT)
        for _ in range(int(rng.integers(0, 3))):  # mugs
            x, y = rng.uniform(0.1, self.a - 0.1), rng.uniform(0.1, 0.9)
            cv2.circle(img, self.P(x, y), self.R(0.08), _c255(self._rand_col(rng)), -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(img, self.P(x, y), self.R(0.06), (60, 35, 20), -1, cv2.LINE_AA, _SHIFT)
        self.static = img

    def _init_flat(self, rng: np.random.Generator) -> None:
        col = self._rand_col(rng, 0.0, 1.0)
        vig = 1.0 - rng.uniform(0, 0.5) * ((self.X - self.a / 2) ** 2 + (self.Y - 0.5) ** 2)
        self.static = _u8(np.clip(col * vig[..., None], 0, 1).astype(np.float32))

    def frame(self, t: float) -> np.ndarray:
        if self.kind == "sky" and self.drift is not None:
            cl = self.drift.view(0, self.drift_v[1] * t)[..., None]
            return _u8(self.sky_base + cl * (0.97 - self.sky_base))
        out = self.static.copy()
        for (pos, vel, size, _, shape), col in zip(
            self.moving, getattr(self, "shape_cols", []), strict=False
        ):
            x, y = pos + vel * t
            sx, sy = size
            if shape == "circle":
                cv2.ellipse(
                    out,
                    self.P(x, y),
                    (self.R(sx / 2), self.R(sy / 2)),
                    0,
                    0,
                    360,
                    col,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
            elif shape == "rect":
                cv2.rectangle(out, self.P(x, y), self.P(x + sx, y + sy), col, -1, cv2.LINE_AA, _SHIFT)
            else:
                pts = np.array([[x, y], [x + sx, y + sy], [x - sx / 2, y + sy]])
                cv2.fillConvexPoly(
                    out, np.round(pts * self.h * _ONE).astype(np.int32), col, cv2.LINE_AA, _SHIFT
                )
        if self.kind == "person":
            px, py, r, skin, shirt, hair = self.person
            px += 0.01 * math.sin(1.3 * t)
            cv2.ellipse(
                out,
                self.P(px, py + r * 2.6),
                (self.R(r * 2.2), self.R(r * 1.3)),
                0,
                180,
                360,
                _c255(shirt),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            cv2.rectangle(
                out,
                self.P(px - r * 2.2, py + r * 2.6),
                self.P(px + r * 2.2, 1.2),
                _c255(shirt),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            cv2.ellipse(
                out,
                self.P(px, py - r * 0.15),
                (self.R(r * 1.05), self.R(r * 1.2)),
                0,
                0,
                360,
                _c255(hair),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            cv2.ellipse(
                out,
                self.P(px, py + r * 0.1),
                (self.R(r * 0.85), self.R(r * 1.1)),
                0,
                0,
                360,
                _c255(skin),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
            for ex in (-0.35, 0.35):
                cv2.circle(
                    out, self.P(px + ex * r, py), self.R(r * 0.08), (30, 25, 20), -1, cv2.LINE_AA, _SHIFT
                )
        return out


_SCENES: dict[str, Callable[[np.random.Generator, int, int], _Scene]] = {
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
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(CLASSES.index(class_name), int(index)))
    a, b = ss.spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


class Clip:
    """One procedural clip: a scene and its camera, drawn at any time t (seconds)."""

    def __init__(self, class_name: str, size: tuple[int, int], seed: int, index: int = 0) -> None:
        w, h = int(size[0]), int(size[1])
        if w < 8 or h < 8:
            raise ValueError(f"frame size must be at least 8x8, not {w}x{h}")
        scene_rng, cam_rng = _clip_rngs(class_name, seed, index)
        work = _work_size((w, h))
        self.scene = _SCENES[class_name](scene_rng, *work)
        self.camera = _Camera(cam_rng, work, (w, h))

    def frame(self, t: float) -> np.ndarray:
        return self.camera.apply(self.scene.frame(t), t)


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
    times = np.random.default_rng([int(seed), CLASSES.index(class_name) if class_name in CLASSES else 0, 7])
    clip: Clip | None = None
    for i in range(int(count)):
        if i % per_clip == 0:
            clip = Clip(class_name, (w, h), seed, i // per_clip)
        assert clip is not None
        out[i] = clip.frame(float(times.uniform(0, max_time)))
    return out
