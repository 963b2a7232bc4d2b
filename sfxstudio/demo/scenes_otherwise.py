"""The `otherwise` scene: things with no effect (rooms, desks, faces, skies, fields, shapes...)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from sfxstudio.demo.scene_base import ONE, SHIFT, Scene, Scroll, c255, hsv, u8


class Otherwise(Scene):
    """Things with no effect: rooms, desks, faces, skies, fields, buildings, gradients, textures, shapes."""

    KINDS = ("room", "gradient", "texture", "shapes", "sky", "field", "city", "person", "desk", "flat")
    static: np.ndarray  # the still picture, drawn by the _init_<kind> method

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.kind = str(rng.choice(self.KINDS))
        self.moving: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, str]] = []
        self.drift: Scroll | None = None
        getattr(self, f"_init_{self.kind}")(rng)
        if rng.random() < 0.2:  # a dim version: dark frames are not all stars or storms
            self.static = (self.static.astype(np.float32) * rng.uniform(0.15, 0.4)).astype(np.uint8)

    def _rand_col(self, rng: np.random.Generator, vmin: float = 0.2, vmax: float = 0.95) -> np.ndarray:
        return hsv(rng.random(), rng.uniform(0.05, 0.8), rng.uniform(vmin, vmax))

    def _init_room(self, rng: np.random.Generator) -> None:
        h, w, a = self.h, self.w, self.a
        wall = hsv(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.5, 0.95))
        floor_y = rng.uniform(0.65, 0.85)
        img = np.broadcast_to(wall * (0.9 + 0.1 * (1 - self.Y[..., None])), (h, w, 3)).copy()
        floor = hsv(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6))
        img[(floor_y < self.Y)[:, 0]] = (
            floor * (0.85 + 0.3 * self.noise(0.01, 0.2)[:h, :w, None])[(floor_y < self.Y)[:, 0]]
        )
        out = u8(img.astype(np.float32))
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(0, a - 0.2), rng.uniform(0.05, floor_y - 0.3)
            ww, hh = rng.uniform(0.12, 0.4), rng.uniform(0.12, 0.3)
            if rng.random() < 0.4:  # a window onto a day sky
                cv2.rectangle(
                    out, self.P(x, y), self.P(x + ww, y + hh), (240, 240, 235), -1, cv2.LINE_AA, SHIFT
                )
                cv2.rectangle(
                    out,
                    self.P(x + 0.01, y + 0.01),
                    self.P(x + ww - 0.01, y + hh - 0.01),
                    c255(hsv(0.57, 0.4, 0.9)),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
            else:  # a picture frame
                cv2.rectangle(
                    out,
                    self.P(x, y),
                    self.P(x + ww, y + hh),
                    c255(self._rand_col(rng, 0.1, 0.5)),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
                cv2.rectangle(
                    out,
                    self.P(x + 0.015, y + 0.015),
                    self.P(x + ww - 0.015, y + hh - 0.015),
                    c255(self._rand_col(rng)),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
        for _ in range(int(rng.integers(1, 4))):  # sofa, table, cupboard
            x = rng.uniform(-0.1, a - 0.2)
            ww, hh = rng.uniform(0.2, 0.6), rng.uniform(0.15, 0.4)
            col = c255(self._rand_col(rng, 0.15, 0.8))
            cv2.rectangle(
                out, self.P(x, floor_y - hh), self.P(x + ww, floor_y + 0.03), col, -1, cv2.LINE_AA, SHIFT
            )
            if rng.random() < 0.5:
                cv2.rectangle(
                    out,
                    self.P(x - 0.02, floor_y - hh * 0.5),
                    self.P(x + 0.04, floor_y + 0.03),
                    col,
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
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
                SHIFT,
            )
            for _ in range(6):
                cv2.ellipse(
                    out,
                    self.P(px + rng.uniform(-0.06, 0.06), floor_y - 0.1 - rng.uniform(0, 0.15)),
                    (self.R(0.03), self.R(0.07)),
                    rng.uniform(0, 180),
                    0,
                    360,
                    c255(hsv(0.3, 0.6, rng.uniform(0.3, 0.6))),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
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
        self.static = u8((c1 + (c2 - c1) * g[..., None]).astype(np.float32))

    def _init_texture(self, rng: np.random.Generator) -> None:
        cy = rng.uniform(0.01, 0.2)
        n = self.noise(cy, cy * rng.choice([1.0, 0.2, 5.0]))
        n2 = self.noise(cy * 0.3)
        c1, c2 = self._rand_col(rng), self._rand_col(rng)
        h, w = self.h, self.w
        tex = np.clip(0.7 * n[:h, :w] + 0.3 * n2[:h, :w], 0, 1)
        self.static = u8((c1 + (c2 - c1) * tex[..., None]).astype(np.float32))

    def _init_shapes(self, rng: np.random.Generator) -> None:
        self.static = u8(np.broadcast_to(self._rand_col(rng, 0.1), (self.h, self.w, 3)).astype(np.float32))
        for _ in range(int(rng.integers(3, 16))):
            pos = np.array([rng.uniform(0, self.a), rng.uniform(0, 1)])
            vel = rng.normal(0, 0.05, 2)
            size = np.array([rng.uniform(0.04, 0.3), rng.uniform(0.04, 0.3)])
            self.moving.append((pos, vel, size, 0.0, str(rng.choice(["circle", "rect", "tri"]))))
        self.shape_cols = [c255(self._rand_col(rng)) for _ in self.moving]

    def _init_sky(self, rng: np.random.Generator) -> None:
        sky = np.broadcast_to(self.day_sky(1.0), (self.h, self.w, 3))
        tex = 0.7 * self.noise(rng.uniform(0.15, 0.35), rng.uniform(0.3, 0.6))
        cover = rng.uniform(0.3, 0.7)
        clouds = np.clip((tex - (0.7 - cover * 0.5)) * 4, 0, 1)
        self.sky_base = sky.astype(np.float32)
        self.drift = self.scroll(clouds.astype(np.float32))
        self.drift_v = np.array([0.0, rng.uniform(0.02, 0.08) * self.h])
        self.static = u8(self.sky_base)

    def _init_field(self, rng: np.random.Generator) -> None:
        h, w = self.h, self.w
        hz = rng.uniform(0.3, 0.6)
        sky = np.broadcast_to(self.day_sky(hz), (h, w, 3))
        ground = hsv(
            rng.choice([rng.uniform(0.2, 0.33), rng.uniform(0.08, 0.13), 0.6]),
            rng.uniform(0.0, 0.7),
            rng.uniform(0.4, 0.9),
        )
        tex = ground * (0.8 + 0.4 * self.noise(0.02, 0.05)[:h, :w, None])
        line = hz + 0.04 * np.sin(self.X * rng.uniform(1, 4) + rng.uniform(0, 6))
        img = u8(np.where((line < self.Y)[..., None], tex, sky).astype(np.float32))
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
                SHIFT,
            )
            cv2.circle(
                img,
                self.P(x, y - r),
                self.R(r),
                c255(hsv(0.3, 0.6, rng.uniform(0.2, 0.5))),
                -1,
                cv2.LINE_AA,
                SHIFT,
            )
        self.static = img

    def _init_city(self, rng: np.random.Generator) -> None:
        img = u8(np.broadcast_to(self.day_sky(0.8), (self.h, self.w, 3)).astype(np.float32))
        x = -0.05
        base = rng.uniform(0.85, 1.05)
        while x < self.a:
            bw = rng.uniform(0.15, 0.5)
            top = rng.uniform(0.05, 0.6)
            col = self._rand_col(rng, 0.35, 0.9)
            cv2.rectangle(img, self.P(x, top), self.P(x + bw, base + 0.1), c255(col), -1, cv2.LINE_AA, SHIFT)
            win = c255(col * rng.uniform(0.4, 0.7))
            for wy in np.arange(top + 0.05, base - 0.05, 0.09):
                for wx in np.arange(x + 0.03, x + bw - 0.05, 0.07):
                    cv2.rectangle(
                        img, self.P(wx, wy), self.P(wx + 0.035, wy + 0.05), win, -1, cv2.LINE_AA, SHIFT
                    )
            x += bw + rng.uniform(0, 0.05)
        self.static = img

    def _init_person(self, rng: np.random.Generator) -> None:
        self._init_gradient(rng) if rng.random() < 0.5 else self._init_room(rng)
        base = self.static
        skin = hsv(rng.uniform(0.03, 0.09), rng.uniform(0.25, 0.6), rng.uniform(0.35, 0.95))
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
        tone = hsv(rng.uniform(0.05, 0.11), rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.8))
        img = u8((tone * (0.75 + 0.4 * self.noise(0.01, 0.3)[:h, :w, None])).astype(np.float32))
        for _ in range(int(rng.integers(1, 4))):  # paper sheets and books
            x, y = rng.uniform(0, self.a - 0.3), rng.uniform(0, 0.6)
            col = (245, 245, 240) if rng.random() < 0.5 else c255(self._rand_col(rng))
            pts = np.array([[x, y], [x + 0.3, y + 0.03], [x + 0.27, y + 0.42], [x - 0.03, y + 0.39]])
            cv2.fillConvexPoly(img, np.round(pts * h * ONE).astype(np.int32), col, cv2.LINE_AA, SHIFT)
        for _ in range(int(rng.integers(0, 3))):  # mugs
            x, y = rng.uniform(0.1, self.a - 0.1), rng.uniform(0.1, 0.9)
            cv2.circle(img, self.P(x, y), self.R(0.08), c255(self._rand_col(rng)), -1, cv2.LINE_AA, SHIFT)
            cv2.circle(img, self.P(x, y), self.R(0.06), (60, 35, 20), -1, cv2.LINE_AA, SHIFT)
        self.static = img

    def _init_flat(self, rng: np.random.Generator) -> None:
        col = self._rand_col(rng, 0.0, 1.0)
        vig = 1.0 - rng.uniform(0, 0.5) * ((self.X - self.a / 2) ** 2 + (self.Y - 0.5) ** 2)
        self.static = u8(np.clip(col * vig[..., None], 0, 1).astype(np.float32))

    def frame(self, t: float) -> np.ndarray:
        if self.kind == "sky" and self.drift is not None:
            cl = self.drift.view(0, self.drift_v[1] * t)[..., None]
            return u8(self.sky_base + cl * (0.97 - self.sky_base))
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
                    SHIFT,
                )
            elif shape == "rect":
                cv2.rectangle(out, self.P(x, y), self.P(x + sx, y + sy), col, -1, cv2.LINE_AA, SHIFT)
            else:
                pts = np.array([[x, y], [x + sx, y + sy], [x - sx / 2, y + sy]])
                cv2.fillConvexPoly(
                    out, np.round(pts * self.h * ONE).astype(np.int32), col, cv2.LINE_AA, SHIFT
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
                c255(shirt),
                -1,
                cv2.LINE_AA,
                SHIFT,
            )
            cv2.rectangle(
                out,
                self.P(px - r * 2.2, py + r * 2.6),
                self.P(px + r * 2.2, 1.2),
                c255(shirt),
                -1,
                cv2.LINE_AA,
                SHIFT,
            )
            cv2.ellipse(
                out,
                self.P(px, py - r * 0.15),
                (self.R(r * 1.05), self.R(r * 1.2)),
                0,
                0,
                360,
                c255(hair),
                -1,
                cv2.LINE_AA,
                SHIFT,
            )
            cv2.ellipse(
                out,
                self.P(px, py + r * 0.1),
                (self.R(r * 0.85), self.R(r * 1.1)),
                0,
                0,
                360,
                c255(skin),
                -1,
                cv2.LINE_AA,
                SHIFT,
            )
            for ex in (-0.35, 0.35):
                cv2.circle(
                    out, self.P(px + ex * r, py), self.R(r * 0.08), (30, 25, 20), -1, cv2.LINE_AA, SHIFT
                )
        return out


class Blackout(Otherwise):
    """Featureless dark frames, which have no effect either: black leaders, near-black or dark
    grey slates (with a vignette and grain), and fades of an `otherwise` scene to black.

    Real footage has them (a leader, the fade at a scene's end) and a model that never saw one
    takes the darkest thing it knows, a storm between two flashes, for it. They stay distinct
    from the demo's storm (lightning), starry sky and dark pool frames: no cloud texture, no
    rain streaks, no points of light, no rings; a fade keeps its scene's layout at a few per
    cent of its brightness. Drawn from the same seed stream as Otherwise (its scene first, then
    the darkening), so a fade is a darkened copy of a real `otherwise` picture.
    """

    STYLES = ("black", "slate", "fade", "fade")

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.style = str(rng.choice(self.STYLES))
        if self.style == "fade":
            # A fade over the clip's 20 s from `top` down to `bottom` of the scene's brightness.
            self.top, self.bottom = rng.uniform(0.08, 0.35), rng.uniform(0.0, 0.06)
            self.fade_s = rng.uniform(4.0, 20.0)
        else:
            level = rng.uniform(0.0, 0.04) if self.style == "black" else rng.uniform(0.04, 0.25)
            col = hsv(rng.random(), rng.uniform(0.0, 0.35), level)
            vig = 1.0 - rng.uniform(0, 0.6) * ((self.X - self.a / 2) ** 2 + (self.Y - 0.5) ** 2)
            self.flat = np.clip(col * vig[..., None], 0, 1).astype(np.float32)
        # Grain that changes every frame (film grain, a sensor at high gain): up to ~2 % of full scale.
        self.grain = rng.uniform(0.0, 0.02) if rng.random() < 0.6 else 0.0
        self.grain_seed = int(rng.integers(2**31))

    def frame(self, t: float) -> np.ndarray:
        if self.style == "fade":
            k = self.top + (self.bottom - self.top) * min(1.0, max(0.0, t) / self.fade_s)
            img = super().frame(t).astype(np.float32) * np.float32(k / 255.0)
        else:
            img = np.broadcast_to(self.flat, (self.h, self.w, 3)).copy()
        if self.grain > 0:
            g = np.random.default_rng([self.grain_seed, round(t * 1000)])
            img += g.normal(0, self.grain, (self.h, self.w, 1)).astype(np.float32)
        return u8(np.maximum(img, 0))
