"""Demo scenes of people's things: hands typing on a keyboard, cars on a street."""

from __future__ import annotations

import math

import cv2
import numpy as np

from sfxstudio.demo.scene_base import ONE, SHIFT, Scene, c255, hsv, u8


class Typing(Scene):
    """A keyboard from above; keys go down one after another under hovering hands."""

    ROWS = ((0.0, 15, 1.0), (1.5, 12, 1.0), (1.75, 11, 1.0), (2.25, 10, 1.0))

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        desk_kind = rng.integers(3)
        if desk_kind == 0:  # wood
            tone = hsv(rng.uniform(0.06, 0.1), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.7))
            grain = self.noise(0.01, 0.3)[:h, :w, None]
            desk = tone * (0.75 + 0.4 * grain)
        else:
            tone = hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.1, 0.9))
            desk = tone * (0.92 + 0.16 * self.noise(0.05)[:h, :w, None])
        img = u8(np.broadcast_to(desk, (h, w, 3)).astype(np.float32))
        # Keyboard geometry in its own units (key pitch = 1), then a homography to the frame.
        body_v = rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.6, 0.9)])
        body = hsv(rng.uniform(0, 1), rng.uniform(0, 0.15), body_v)
        key_v = body_v + rng.choice([-1, 1]) * rng.uniform(0.05, 0.2) if rng.random() < 0.5 else body_v
        self.key = hsv(rng.uniform(0, 1), rng.uniform(0, 0.1), min(max(key_v, 0.04), 0.95))
        self.lit = hsv(rng.uniform(0, 1), rng.uniform(0.6, 1.0), 1.0) if rng.random() < 0.4 else None
        legend = np.array([1.0, 1.0, 1.0]) if key_v < 0.5 else np.array([0.1, 0.1, 0.1])
        cols, rows = 15.0, 5.0
        width = rng.uniform(0.75, 1.1) * self.a
        kh = width * rows / cols * rng.uniform(0.95, 1.1)
        cx, cy = self.a / 2 + rng.uniform(-0.1, 0.1), rng.uniform(0.42, 0.58)
        ang = rng.uniform(-0.18, 0.18)
        persp = rng.uniform(0.0, 0.15)
        src = np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], np.float32) + np.array(
            [-0.3, -0.3], np.float32
        ) * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float32)
        hw, hh = width / 2, kh / 2
        quad = np.array([[-hw * (1 - persp), -hh], [hw * (1 - persp), -hh], [hw, hh], [-hw, hh]], np.float32)
        rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], np.float32)
        dst = (quad @ rot.T + np.array([cx, cy], np.float32)) * h
        self.H = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        body_pts = cv2.perspectiveTransform(src[None], self.H)[0]
        cv2.fillConvexPoly(img, np.round(body_pts * ONE).astype(np.int32), c255(body), cv2.LINE_AA, SHIFT)
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
            kp = np.array(
                [
                    [x + pad, y + pad],
                    [x + s - pad, y + pad],
                    [x + s - pad, y + 1 - pad],
                    [x + pad, y + 1 - pad],
                ],
                np.float32,
            )
            poly = cv2.perspectiveTransform(kp[None], self.H)[0]
            self.polys.append(np.round(poly * ONE).astype(np.int32))
            cv2.fillConvexPoly(img, self.polys[-1], c255(self.key), cv2.LINE_AA, SHIFT)
            if s <= 1.0 and rng.random() < 0.9:  # a legend mark on the key
                lp = cv2.perspectiveTransform(
                    np.array([[[x + 0.3, y + 0.3], [x + 0.55, y + 0.55]]], np.float32), self.H
                )[0]
                cv2.line(
                    img,
                    tuple(np.round(lp[0] * ONE).astype(int)),
                    tuple(np.round(lp[1] * ONE).astype(int)),
                    c255(legend * 0.8 + self.key * 0.2),
                    1,
                    cv2.LINE_AA,
                    SHIFT,
                )
        self.static = img
        # Typing rhythm: 4-11 strokes per second, each key down for 80-160 ms.
        rate = rng.uniform(4, 11)
        self.k_t = np.cumsum(rng.exponential(1 / rate, 2000)) - 1.0
        self.k_i = rng.integers(0, len(self.polys) - 1, 2000)
        self.k_len = rng.uniform(0.08, 0.16)
        self.hands = rng.random() < 0.75
        self.skin = hsv(rng.uniform(0.03, 0.09), rng.uniform(0.25, 0.6), rng.uniform(0.35, 0.95))
        self.hand_xy = [(cx - width * 0.22, cy + kh * 0.45), (cx + width * 0.22, cy + kh * 0.45)]
        self.hand_s = width * rng.uniform(0.09, 0.13)
        self.hand_p = rng.uniform(0, 6, 2)

    def event_times(self, t0: float, t1: float) -> np.ndarray:
        """Key presses (a key goes down)."""
        k = self.k_t
        return np.asarray(k[(k >= t0) & (k < t1)], np.float64)

    def frame(self, t: float) -> np.ndarray:
        out = self.static.copy()
        lo = np.searchsorted(self.k_t, t - self.k_len)
        hi = np.searchsorted(self.k_t, t, side="right")
        pressed = self.key * 0.55 if self.lit is None else self.lit
        for i in self.k_i[lo:hi]:
            cv2.fillConvexPoly(out, self.polys[i], c255(pressed), cv2.LINE_AA, SHIFT)
        if self.hands:
            skin, shade = c255(self.skin), c255(self.skin * 0.75)
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
                        SHIFT,
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
                        SHIFT,
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
                    SHIFT,
                )
        return out


class Cars(Scene):
    """A road with cars passing: from the side (buildings or trees behind) or from above."""

    def __init__(self, rng: np.random.Generator, w: int, h: int) -> None:
        super().__init__(rng, w, h)
        self.top = rng.random() < 0.35
        a = self.a
        if self.top:
            grass = hsv(rng.uniform(0.2, 0.33), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.55))
            img = grass * (0.8 + 0.4 * self.noise(0.04)[:h, :w, None])
            self.y1, self.y2 = rng.uniform(0.15, 0.3), rng.uniform(0.7, 0.85)
            asphalt = rng.uniform(0.2, 0.4)
            road = (self.y1 < self.Y) & (self.y2 > self.Y)
            img = np.where(road[..., None], asphalt * (0.95 + 0.1 * self.noise(0.01)[:h, :w, None]), img)
            img = u8(np.broadcast_to(img, (h, w, 3)).astype(np.float32))
            mid = (self.y1 + self.y2) / 2
            for x in np.arange(0, a, 0.2):
                cv2.line(
                    img,
                    self.P(x, mid),
                    self.P(x + 0.1, mid),
                    (235, 235, 235),
                    self.T(0.012),
                    cv2.LINE_AA,
                    SHIFT,
                )
            self.lanes = [((self.y1 + mid) / 2, -1.0, 1.0), ((mid + self.y2) / 2, 1.0, 1.0)]
        else:
            self.y1 = rng.uniform(0.5, 0.68)
            self.y2 = rng.uniform(0.85, 1.0)
            sky = np.broadcast_to(self.day_sky(self.y1), (h, w, 3)).copy()
            img = u8(sky)
            kind = rng.integers(3)
            x = -0.05
            while x < a:  # buildings, trees or hills behind the road
                bw = rng.uniform(0.08, 0.3)
                if kind == 0:
                    top = rng.uniform(0.1, self.y1 - 0.1)
                    col = hsv(rng.uniform(0, 1), rng.uniform(0.05, 0.3), rng.uniform(0.35, 0.8))
                    cv2.rectangle(
                        img, self.P(x, top), self.P(x + bw, self.y1), c255(col), -1, cv2.LINE_AA, SHIFT
                    )
                    win = c255(col * 0.5)
                    for wy in np.arange(top + 0.04, self.y1 - 0.06, 0.07):
                        for wx in np.arange(x + 0.02, x + bw - 0.03, 0.05):
                            cv2.rectangle(
                                img,
                                self.P(wx, wy),
                                self.P(wx + 0.025, wy + 0.035),
                                win,
                                -1,
                                cv2.LINE_AA,
                                SHIFT,
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
                        SHIFT,
                    )
                    col = hsv(rng.uniform(0.22, 0.35), rng.uniform(0.4, 0.7), rng.uniform(0.25, 0.5))
                    cv2.circle(img, self.P(x + r, cy), self.R(r), c255(col), -1, cv2.LINE_AA, SHIFT)
                else:
                    col = hsv(rng.uniform(0.2, 0.35), rng.uniform(0.3, 0.5), rng.uniform(0.3, 0.6))
                    cv2.ellipse(
                        img,
                        self.P(x + bw, self.y1),
                        (self.R(bw * 2), self.R(rng.uniform(0.05, 0.2))),
                        0,
                        180,
                        360,
                        c255(col),
                        -1,
                        cv2.LINE_AA,
                        SHIFT,
                    )
                x += bw
            walk = c255(hsv(0.08, 0.1, rng.uniform(0.5, 0.75)))
            cv2.rectangle(
                img,
                self.P(-0.1, self.y1 - 0.02),
                self.P(a + 0.1, self.y1 + 0.02),
                walk,
                -1,
                cv2.LINE_AA,
                SHIFT,
            )
            g = int(rng.uniform(0.2, 0.4) * 255)
            cv2.rectangle(
                img, self.P(-0.1, self.y1 + 0.02), self.P(a + 0.1, 1.2), (g, g, g), -1, cv2.LINE_AA, SHIFT
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
                    SHIFT,
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
                col = hsv(rng.uniform(0, 1), rng.uniform(0.1, 0.9), rng.uniform(0.3, 0.95))
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
            c, dark = c255(col), c255(col * 0.4)
            if self.top:
                wd = ln * 0.45
                cv2.rectangle(
                    out,
                    self.P(x - ln / 2, lane_y - wd / 2),
                    self.P(x + ln / 2, lane_y + wd / 2),
                    c,
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
                fx = x + direction * ln * 0.12
                cv2.rectangle(
                    out,
                    self.P(fx - ln * 0.08, lane_y - wd * 0.4),
                    self.P(fx + ln * 0.08, lane_y + wd * 0.4),
                    (40, 50, 60),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
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
                SHIFT,
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
            cv2.fillConvexPoly(out, np.round(cab * self.h * ONE).astype(np.int32), c, cv2.LINE_AA, SHIFT)
            win = cab.copy()
            win[:, 0] = x + (win[:, 0] - x) * 0.85
            win[:, 1] = bottom - hgt - (bottom - hgt - win[:, 1]) * 0.8
            cv2.fillConvexPoly(
                out, np.round(win * self.h * ONE).astype(np.int32), (60, 80, 100), cv2.LINE_AA, SHIFT
            )
            for wx in (x - ln * 0.3, x + ln * 0.3):
                cv2.circle(
                    out,
                    self.P(wx, bottom - 0.02 * s),
                    self.R(0.035 * s),
                    (20, 20, 20),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
                cv2.circle(
                    out,
                    self.P(wx, bottom - 0.02 * s),
                    self.R(0.015 * s),
                    (150, 150, 150),
                    -1,
                    cv2.LINE_AA,
                    SHIFT,
                )
            cv2.line(
                out,
                self.P(x - ln / 2, bottom - hgt * 0.55),
                self.P(x + ln / 2, bottom - hgt * 0.55),
                dark,
                1,
                cv2.LINE_AA,
                SHIFT,
            )
        return out
