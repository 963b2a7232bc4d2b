"""Demo scenes of nature: fire, stars, lightning, waves, a river, water drops."""

from __future__ import annotations

import math

import cv2
import numpy as np

from sfxstudio.demo.scene_base import ONE, SHIFT, Scene, c255, hsv, u8, vgrad


class Fire(Scene):
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
            (0.2, hsv(0.0 + hue, 1.0, 0.55)),
            (0.45, hsv(0.05 + hue, 1.0, 0.95)),
            (0.7, hsv(0.11 + hue, 0.95, 1.0)),
            (1.0, hsv(0.14 + hue, rng.uniform(0.1, 0.4), 1.0)),
        ]
        lut = np.stack([np.interp(x, [p for p, _ in stops], [c[k] for _, c in stops]) for k in range(3)], 1)
        self.lut = (lut * 255).astype(np.uint8)
        # Background: dark night, dark wall or dark forest, lit by the fire's glow.
        bgk = rng.choice(["night", "wall", "forest"])
        dark = rng.uniform(0.02, 0.09)
        bg = np.broadcast_to(
            vgrad(h, [(0, hsv(rng.uniform(0.55, 0.7), 0.5, dark)), (1, hsv(0.05, 0.6, dark))]), (h, w, 3)
        ).copy()
        if bgk == "wall":
            bg *= 0.6 + 0.8 * self.noise(0.05)[:h, :w, None]
            rows = max(4, int(rng.integers(6, 12)))
            for r in range(rows):
                y = r / rows
                cv2.line(bg, self.P(0, y), self.P(a, y), (0.0, 0.0, 0.0), 1, cv2.LINE_AA, SHIFT)
        elif bgk == "forest":
            prof = self.noise(0.3)[0, :w]
            top = (0.25 + 0.35 * prof) * h
            bg[np.arange(h)[:, None] > top[None, :]] *= 0.4
        glow_r = self.height * rng.uniform(0.9, 1.5)
        d2 = (self.X - self.cx) ** 2 + ((self.Y - self.base + self.height * 0.4) * 1.3) ** 2
        glow = np.exp(-d2 / (glow_r**2))[..., None] * hsv(0.06 + hue, 0.9, rng.uniform(0.25, 0.45))
        self.bg, self.glow = u8(bg), u8(glow)
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
                c255(hsv(0.07, 0.6, rng.uniform(0.12, 0.25))),
                self.T(0.035),
                cv2.LINE_AA,
                SHIFT,
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
                out, self.P(xx, y), self.R(r), (255, int(120 + 120 * v), int(40 * v)), -1, cv2.LINE_AA, SHIFT
            )
        return out


class Stars(Scene):
    """A dark sky full of twinkling stars; a few bright ones with four-point spikes."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        a = self.a
        top = hsv(rng.uniform(0.55, 0.75), rng.uniform(0.3, 0.8), rng.uniform(0.0, 0.05))
        low = hsv(rng.uniform(0.55, 0.85), rng.uniform(0.3, 0.8), rng.uniform(0.06, 0.2))
        sky = np.broadcast_to(vgrad(h, [(0, top), (1, low)]), (h, w, 3)).copy()
        if rng.random() < 0.5:  # a faint milky way band
            ang = rng.uniform(-0.8, 0.8)
            d = (self.Y - 0.5) * math.cos(ang) - (self.X - a / 2) * math.sin(ang)
            band = np.exp(-((d / rng.uniform(0.08, 0.2)) ** 2)) * (0.4 + 0.6 * self.noise(0.06)[:h, :w])
            sky += band[..., None] * hsv(rng.uniform(0.55, 0.7), 0.2, rng.uniform(0.06, 0.14))
        ground = 1.0
        if rng.random() < 0.6:  # hills or a tree line in silhouette
            ground = rng.uniform(0.7, 0.9)
            xs = self.X[0]
            prof = ground + 0.05 * np.sin(xs * rng.uniform(2, 6) + rng.uniform(0, 6))
            if rng.random() < 0.5:
                prof = prof - 0.08 * self.noise(0.03)[0, :w] ** 2
            mask = prof[None, :] < self.Y
            sky[mask] = hsv(0.6, 0.3, rng.uniform(0.0, 0.03))
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
        self.col = hsv(rng.uniform(0.1, 0.65), rng.uniform(0.0, 0.25), 1.0)

    def frame(self, t: float) -> np.ndarray:
        amp = self.amp * (1.0 - self.tw_d * (0.5 + 0.5 * np.sin(self.tw_f * t + self.tw_p)))
        layer: np.ndarray = np.zeros((self.h, self.w), np.float32)
        np.add.at(layer, (self.iy, self.ix), amp * self.gain)
        for i, ln in zip(self.big, self.spike, strict=True):
            v = float(amp[i]) * self.gain * 0.35
            x, y, r = self.sx[i], self.sy[i], ln * (0.6 + 0.6 * float(amp[i]))
            cv2.line(layer, self.P(x - r, y), self.P(x + r, y), v, 1, cv2.LINE_AA, SHIFT)
            cv2.line(layer, self.P(x, y - r), self.P(x, y + r), v, 1, cv2.LINE_AA, SHIFT)
            layer[self.iy[i], self.ix[i]] += 2.0 * self.gain * float(amp[i])
        layer = cv2.GaussianBlur(layer, (0, 0), self.sigma)
        return u8(self.sky + np.minimum(layer, 1.5)[..., None] * self.col)


class Lightning(Scene):
    """A dark stormy sky with heavy clouds and rain; repeated branching bolts with flashes."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.c1 = self.scroll(self.noise(rng.uniform(0.3, 0.5), rng.uniform(0.4, 0.7)))
        self.c2 = self.scroll(self.noise(rng.uniform(0.08, 0.14)))
        self.c3 = self.scroll(self.noise(0.035))
        self.v1, self.v2 = rng.uniform(0.02, 0.08) * h * rng.choice([-1, 1]), rng.uniform(0.05, 0.15) * h
        hue = rng.uniform(0.55, 0.78)
        self.dark = hsv(hue, rng.uniform(0.15, 0.45), rng.uniform(0.03, 0.09))
        self.light = hsv(hue, rng.uniform(0.1, 0.3), rng.uniform(0.2, 0.34))
        self.flash_col = hsv(hue, 0.15, 1.0)
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

    def event_times(self, t0: float, t1: float) -> np.ndarray:
        """Flash starts (the picture lights up at once)."""
        s = self.f_start
        return np.asarray(s[(s >= t0) & (s < t1)], np.float64)

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
            self._bolts[k] = ([np.round(p * self.h * ONE).astype(np.int32) for p in lines], x)
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
        out = u8(img)
        if self.land.any():  # silhouettes, lit a little by the flash
            out[self.land] = c255(self.dark * 0.3 * (1 + 3 * level))
        if level > 0 and bolt is not None:
            layer: np.ndarray = np.zeros((self.h, self.w), np.uint8)
            cv2.polylines(layer, bolt[0], False, 255, self.T(0.02), cv2.LINE_AA, SHIFT)
            layer = cv2.GaussianBlur(layer, (0, 0), max(1.0, 0.012 * self.h))
            cv2.polylines(layer, bolt[0][:1], False, 255, self.T(0.006), cv2.LINE_AA, SHIFT)
            cv2.polylines(layer, bolt[0][1:], False, 230, self.T(0.003), cv2.LINE_AA, SHIFT)
            bolt_rgb = (layer[..., None].astype(np.float32) * (level * self.flash_col)).astype(np.uint8)
            out = cv2.add(out, bolt_rgb)
        return out


class Wave(Scene):
    """The sea towards a horizon: wave bands rolling in with white foam, sometimes a beach."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.hz = rng.uniform(0.22, 0.5)
        self.sky = np.broadcast_to(self.day_sky(self.hz), (h, w, 3)).copy()
        if rng.random() < 0.6:
            cl = np.clip((self.noise(0.15, 0.3)[:h, :w] - 0.55) * 3, 0, 1)
            self.sky += (cl * (self.hz > self.Y))[..., None] * (0.9 - self.sky) * 0.8
        hue = rng.uniform(0.45, 0.62)
        self.far = hsv(hue, rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.55))
        self.near = hsv(hue + rng.uniform(-0.05, 0.03), rng.uniform(0.5, 0.9), rng.uniform(0.4, 0.7))
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
            sand = hsv(rng.uniform(0.08, 0.12), rng.uniform(0.25, 0.5), rng.uniform(0.6, 0.85))
            self.sand = (sand * (0.85 + 0.3 * self.noise(0.02)[:h, :w, None])).astype(np.float32)
        # Only the rows below the horizon change: the sky is converted once and the sea is
        # drawn on a row slice (half the work of full-frame compositing).
        self.r0 = int(np.searchsorted(self.Y[:, 0], self.hz))
        self.sky_u8 = u8(self.sky)
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
        out[r0:] = u8(img)
        return out


class River(Scene):
    """Flowing water between two banks, seen from above or from a bank; streaks and glints drift."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.side = rng.random() < 0.4
        hue = rng.choice([rng.uniform(0.5, 0.6), rng.uniform(0.25, 0.45), rng.uniform(0.08, 0.12)])
        self.deep = hsv(hue, rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.4))
        self.shallow = hsv(hue, rng.uniform(0.2, 0.5), rng.uniform(0.45, 0.7))
        self.s1 = self.scroll(self.noise(rng.uniform(0.02, 0.04), rng.uniform(0.15, 0.3)))
        self.s2 = self.scroll(self.noise(rng.uniform(0.01, 0.02), rng.uniform(0.06, 0.12)))
        self.gl = self.scroll(self.noise(0.012, 0.025))
        self.v = rng.uniform(0.25, 0.8) * h * rng.choice([-1, 1])
        bank_hue = rng.choice([rng.uniform(0.22, 0.35), rng.uniform(0.07, 0.12)])
        bank = hsv(bank_hue, rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.55))
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
        return u8(self.bank * (1 - m) + img * m)


class WaterDrop(Scene):
    """Drops falling into a pool: splashes and expanding rings (circles from above, ellipses at an angle)."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        hue = rng.uniform(0.45, 0.65)
        dark = rng.random() < 0.4
        v = rng.uniform(0.05, 0.2) if dark else rng.uniform(0.35, 0.65)
        c1, c2 = (
            hsv(hue, rng.uniform(0.4, 0.9), v),
            hsv(hue + 0.03, rng.uniform(0.3, 0.8), v * rng.uniform(0.5, 0.9)),
        )
        base = np.broadcast_to(vgrad(h, [(0, c1), (1, c2)]), (h, w, 3))
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

    def event_times(self, t0: float, t1: float) -> np.ndarray:
        """Impacts: the drop reaches the water and splashes (its fall before is nearly silent)."""
        d = self.d_t
        return np.asarray(d[(d >= t0) & (d < t1)], np.float64)

    def frame(self, t: float) -> np.ndarray:
        h = self.h
        lay = np.zeros((h, self.w), np.float32)
        th = self.T(0.006)
        active = np.flatnonzero((self.d_t > t - 3.0) & (self.d_t < t + self.fall))
        for i in active:
            age = t - self.d_t[i]
            x, y = self.d_x[i], self.d_y[i]
            if age < 0:  # still falling: from rest above, accelerating, fastest at the water
                s = 1.0 + age / self.fall  # 0 at the release, 1 at the impact
                fy = y - 1.5 * min(y, 0.6) * (1.0 - s * s)  # y - drop height * (1 - s^2)
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
                    SHIFT,
                )
                continue
            fade = math.exp(-age / 1.1)
            for j in range(self.rings):
                r = self.speed * (age - 0.09 * j)
                if r <= 0.003:
                    continue
                ax = (self.R(r), self.R(r * self.squash))
                cv2.ellipse(lay, self.P(x, y), ax, 0, 0, 360, 0.9 * fade, th, cv2.LINE_AA, SHIFT)
                ax2 = (self.R(r * 0.93), self.R(r * 0.93 * self.squash))
                cv2.ellipse(lay, self.P(x, y), ax2, 0, 0, 360, -0.6 * fade, th, cv2.LINE_AA, SHIFT)
            if age < 0.3:  # splash: a crown of droplets thrown out at once, a jet rising and falling
                # Both sink back into the water, fading out: a splash that vanished in one frame
                # would move the picture 0.3 s after the impact as much as the impact itself.
                sink = 1.0 - age / 0.3
                jet = 0.12 * math.sin(np.pi * age / 0.3)
                cv2.ellipse(
                    lay,
                    self.P(x, y - jet / 2),
                    (self.R(0.008), self.R(jet / 2 + 0.005)),
                    0,
                    0,
                    360,
                    1.4 * sink,
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
                for k in range(7):
                    ang = np.pi * (0.15 + 0.7 * k / 6)
                    rr = 0.06 * math.sqrt(age / 0.3)  # thrown out fast at the impact, then slowing
                    px = x + math.cos(ang) * rr * 1.2
                    py = y - math.sin(ang) * rr * 1.5 + 1.5 * age * age
                    cv2.circle(lay, self.P(px, py), self.R(0.005), 1.2 * sink, -1, cv2.LINE_AA, SHIFT)
        caust = self.caust.view(self.cv * t, 0.7 * self.cv * t)[..., None]
        img = self.base * (0.8 + 0.4 * caust)
        pos = np.maximum(lay, 0)[..., None]
        neg = np.minimum(-lay, 1)[..., None]
        img = img + pos * (self.hi - img * 0.5) - neg * (img - self.lo)
        return u8(np.maximum(img, 0))
