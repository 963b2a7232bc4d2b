"""Recipes for the one-shot and retriggered classes: hits, voices and single events.

Same contract as sfxstudio.demo.recipes_loops: a seeded generator and a variation index in,
float64 audio out, mono (n,) for close single sources or stereo (n, 2), at any level.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sfxstudio.demo import dsp
from sfxstudio.demo.dsp import SR, Rng, Signal


def lightning(rng: Rng, v: int) -> Signal:
    # 0: a crack with its roll; 1: far away, a soft rumble after 120 ms; 2: a close strike,
    # one hard snap and a short rumble.
    dur = (2.9, 3.0, 2.2)[v]
    n = dsp.samples(dur)
    t = dsp.times(n)
    out = []
    crack_at = (0.01, 0.12, 0.004)[v]
    for _ in range(2):
        crack = np.zeros(n)
        # the crack is a tight cluster of sharp discharges
        for i in range(int(rng.integers(8, 16)) if v != 2 else int(rng.integers(4, 7))):
            tau = rng.uniform(0.002, 0.012)
            m = dsp.samples(tau * 6)
            burst = rng.standard_normal(m) * dsp.exp_decay(m, tau, 0.0003)
            at = crack_at + (0.0 if i == 0 else rng.exponential(0.04))
            dsp.place(crack, burst * rng.uniform(0.3, 1.0), dsp.samples(at), wrap=False)
        crack = dsp.causal_filter(crack, "highpass", 150.0, 2)
        if v == 1:  # far away: the air has eaten the highs
            crack = dsp.causal_filter(crack, "lowpass", 1800.0, 2) * 0.6
        # rolling rumble: lumps of low noise arriving over seconds, dying away
        rolls = np.zeros(n)
        for _ in range(int(rng.integers(4, 8))):
            c, w = rng.uniform(0.15, 1.6), rng.uniform(0.15, 0.5)
            rolls += rng.uniform(0.4, 1.0) * np.exp(-0.5 * ((t - c) / w) ** 2)
        onset = np.clip((t - crack_at - 0.03) / 0.12, 0.0, 1.0)
        rumble_env = onset * (0.5 + rolls) * np.exp(-(t - crack_at) / (1.1, 1.6, 0.7)[v])
        pad = dsp.samples(0.5)
        rumble = dsp.noise(rng, n, lambda f: dsp.band(f, 22.0, 110.0, 3), pad)
        grit = dsp.noise(rng, n, lambda f: dsp.band(f, 110.0, 600.0, 2), pad)
        out.append(crack + rumble_env * (0.9 * rumble + 0.25 * grit) * (0.55, 0.8, 0.45)[v])
    return dsp.stereo(out[0], out[1])


def screaming(rng: Rng, v: int) -> Signal:
    if v == 0:  # "aaah!": pitch leaps up and strains higher
        dur, pts = 2.2, [(0.0, 430.0), (0.16, 780.0), (0.8, 860.0), (1.0, 700.0)]
        vowel = [(1000.0, 200.0, 1.0), (1500.0, 250.0, 0.8), (2900.0, 350.0, 0.45), (3900.0, 450.0, 0.25)]
    else:  # shriek: higher and shorter, brighter vowel
        dur, pts = 1.6, [(0.0, 700.0), (0.15, 1150.0), (0.85, 1250.0), (1.0, 1000.0)]
        vowel = [(1100.0, 250.0, 1.0), (2300.0, 300.0, 0.9), (3300.0, 400.0, 0.5), (4300.0, 500.0, 0.3)]
    n = dsp.samples(dur)
    f0 = dsp.curve(n, pts)
    vib = np.linspace(0.005, 0.03, n)  # the vibrato widens as the scream strains
    f = f0 * (1.0 + vib * np.sin(2 * np.pi * 6.0 * dsp.times(n)) + 0.008 * dsp.wobble_curve(rng, n, 10.0))
    ph = dsp.running_phase(f, loop=False)
    src = dsp.saw(ph, f) * (1.0 + 0.35 * np.sin(np.pi * ph)) + 0.25 * rng.standard_normal(n)
    y = dsp.spectral_filter(src, lambda fr: dsp.formant_peaks(fr, vowel) + 0.03, pad=dsp.samples(0.1))
    y *= dsp.ar_envelope(n, 0.06, 0.3) * (0.8 + 0.2 * np.linspace(0, 1, n))
    return dsp.reverb(y, dsp.room_ir(rng, 0.5), 0.2, loop=False)


def high_heels(rng: Rng, v: int) -> Signal:
    ring, knock, room = ((2900.0, 240.0, 0.05), (2200.0, 170.0, 0.08), (3600.0, 300.0, 0.12))[v]
    n = dsp.samples(0.3)
    out = np.zeros(n)
    for at, gain in ((0.004, 1.0), (rng.uniform(0.05, 0.075), 0.25)):  # heel, then the toe
        m = dsp.samples(0.12)
        hit = np.zeros(m)
        hit[0] = 1.0
        hit[1 : dsp.samples(0.0015)] = rng.standard_normal(dsp.samples(0.0015) - 1) * 0.5
        click = (
            dsp.resonate(hit, ring * rng.uniform(0.95, 1.05), 14.0)
            + 0.7 * dsp.resonate(hit, ring * rng.uniform(1.9, 2.3), 10.0)
            + 0.4 * dsp.causal_filter(hit, "highpass", 4000.0, 2)
        )
        body = np.sin(2 * np.pi * knock * dsp.times(m)) * dsp.exp_decay(m, 0.012, 0.0005)
        dsp.place(out, gain * (click + 0.08 * body), dsp.samples(at), wrap=False)
    tail = rng.standard_normal(n) * dsp.exp_decay(n, room, 0.003)
    return out + 0.02 * dsp.causal_filter(tail, "lowpass", 5000.0, 1)


def dog_barking(rng: Rng, v: int) -> Signal:
    # (length, pitch curve, formant scale, noise): medium "woof", big dog, small dog "yap"
    dur, pts, scale, breath = (
        (0.45, [(0.0, 380.0), (0.1, 500.0), (1.0, 290.0)], 1.0, 0.8),
        (0.6, [(0.0, 210.0), (0.12, 260.0), (1.0, 160.0)], 0.72, 1.0),
        (0.28, [(0.0, 680.0), (0.15, 820.0), (1.0, 600.0)], 1.45, 0.6),
    )[v]
    n = dsp.samples(dur)
    f0 = dsp.curve(n, pts)
    src = dsp.voiced_source(rng, f0, breath, rough=0.5)
    # the mouth opens then closes ("w-oo-f"): the first formant rises and falls
    f1 = dsp.curve(n, [(0.0, 450.0), (0.15, 800.0), (1.0, 420.0)]) * scale
    tracks = [
        (f1, 260.0 * scale, 1.0),
        (f1 * 1.9, 320.0 * scale, 0.7),
        (np.full(n, 2700.0 * scale), 500.0, 0.35),
    ]
    y = dsp.formant_track(src, tracks)
    env = dsp.ar_envelope(n, 0.008, 0.02) * np.exp(
        -np.maximum(dsp.times(n) - 0.06, 0.0) / (0.11 * dur / 0.45)
    )
    chest = np.sin(2 * np.pi * 130.0 * scale * dsp.times(n)) * dsp.exp_decay(n, 0.05, 0.004)
    return dsp.reverb(y * env + 0.25 * chest * env, dsp.room_ir(rng, 0.35), 0.15, loop=False)


def _click(rng: Rng, freqs: Sequence[float], q: float, n: int) -> Signal:
    hit = np.zeros(n)
    hit[: dsp.samples(0.001)] = rng.standard_normal(dsp.samples(0.001))
    return sum((dsp.resonate(hit, f, q) for f in freqs), np.zeros(n)) + 0.3 * dsp.causal_filter(
        hit, "highpass", 3000.0, 2
    )


def door_opening(rng: Rng, v: int) -> Signal:
    # (length, creak start/end, stick-slip rate curve Hz, wood resonances): old door, squeaky hinge
    dur, start, end, rates, body = (
        (
            1.9,
            0.3,
            1.75,
            [(0.0, 28.0), (0.3, 70.0), (0.6, 115.0), (0.85, 60.0), (1.0, 40.0)],
            (420.0, 1050.0, 2300.0),
        ),
        (1.4, 0.22, 1.3, [(0.0, 150.0), (0.4, 380.0), (0.75, 460.0), (1.0, 260.0)], (900.0, 1800.0, 3400.0)),
    )[v]
    n = dsp.samples(dur)
    out = np.zeros(n)
    # the latch: handle click and the bolt slipping out of the strike plate
    for at, gain in ((0.02, 0.8), (rng.uniform(0.07, 0.1), 1.0)):
        m = dsp.samples(0.08)
        dsp.place(
            out, gain * _click(rng, (2600.0, 4300.0, 1250.0), 25.0, m) * 0.5, dsp.samples(at), wrap=False
        )
    m = dsp.samples(end - start)
    rate = dsp.curve(m, rates) * (1.0 + 0.08 * dsp.wobble_curve(rng, m, 6.0))
    # stick-slip: the hinge catches and releases, one impulse per slip
    ph = dsp.running_phase(rate, loop=False)
    slips = np.flatnonzero(np.diff(np.floor(ph)) > 0)
    train = np.zeros(m)
    train[slips] = rng.uniform(0.5, 1.0, len(slips))
    creak = sum(
        (g * dsp.resonate(train, f, 9.0) for f, g in zip(body, (1.0, 0.8, 0.5), strict=True)), np.zeros(m)
    )
    creak = creak + 0.3 * dsp.causal_filter(train, "bandpass", (1500.0, 6000.0), 1)
    creak *= dsp.ar_envelope(m, 0.08, 0.2) * np.clip(1.0 + 0.3 * dsp.wobble_curve(rng, m, 2.0), 0.3, None)
    dsp.place(out, creak / (np.max(np.abs(creak)) + 1e-12) * 0.8, dsp.samples(start), wrap=False)
    return dsp.reverb(out, dsp.room_ir(rng, 0.4), 0.15, loop=False)


def _ping(rng: Rng, f: float, tau: float, ratios: Sequence[float]) -> Signal:
    m = dsp.samples(tau * 5)
    t = dsp.times(m)
    y = sum(
        (np.sin(2 * np.pi * f * r * t + rng.uniform(0, 6.3)) / (i + 1) for i, r in enumerate(ratios)),
        np.zeros(m),
    )
    return y * dsp.exp_decay(m, tau, 0.0005)


def glass_breaking(rng: Rng, v: int) -> Signal:
    dur, count, lo, hi = ((2.2, 140, 2500.0, 9500.0), (1.8, 80, 1400.0, 6500.0))[v]  # pane, bottle
    n = dsp.samples(dur)
    left, right = np.zeros(n), np.zeros(n)
    impact = dsp.noise_burst(rng, dsp.samples(0.15), 1200.0, 14000.0, 0.02, 0.0005)
    thud = np.sin(2 * np.pi * 140.0 * dsp.times(dsp.samples(0.15))) * dsp.exp_decay(
        dsp.samples(0.15), 0.03, 0.001
    )
    for buf in (left, right):
        dsp.place(buf, 1.4 * impact + 0.5 * thud, dsp.samples(0.01), wrap=False)
    if v == 1:  # the bottle rings once before it flies apart
        ring = _ping(rng, 1150.0, 0.25, (1.0, 2.32, 4.1))
        for buf in (left, right):
            dsp.place(buf, 0.6 * ring, dsp.samples(0.01), wrap=False)
    for i in range(count):
        # most shards fly at once, the rest fall and tinkle for a second or so
        at = 0.01 + (rng.exponential(0.05) if i < count * 0.6 else rng.uniform(0.15, dur - 0.5))
        level = np.exp(-at / 0.9) * rng.uniform(0.2, 1.0)
        f = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        ping = _ping(rng, f, rng.uniform(0.01, 0.1), (1.0, rng.uniform(1.5, 2.8), rng.uniform(3.0, 5.0)))
        gl, gr = dsp.pan(rng.uniform(-0.8, 0.8))
        dsp.place(left, gl * level * ping, dsp.samples(at), wrap=False)
        dsp.place(right, gr * level * ping, dsp.samples(at), wrap=False)
    out = dsp.stereo(left, right)
    ir = [dsp.room_ir(rng, 0.5, 9000.0) for _ in range(2)]
    return np.stack([dsp.reverb(out[:, c], ir[c], 0.25, loop=False) for c in range(2)], axis=1)


def cat_meowing(rng: Rng, v: int) -> Signal:
    # (length, pitch curve, roughness): "meow", kitten "mew", growly "mrrow"
    dur, pts, rough = (
        (0.9, [(0.0, 480.0), (0.35, 720.0), (0.7, 600.0), (1.0, 420.0)], 0.1),
        (0.5, [(0.0, 700.0), (0.3, 950.0), (1.0, 720.0)], 0.05),
        (1.2, [(0.0, 300.0), (0.25, 380.0), (0.5, 560.0), (1.0, 380.0)], 0.25),
    )[v]
    n = dsp.samples(dur)
    f0 = dsp.curve(n, pts)
    src = dsp.voiced_source(rng, f0, 0.15, rough=rough, vibrato=0.01, vib_rate=7.0)
    if v == 2:  # the "rr": a 25 Hz flutter at the start
        src *= 1.0 - 0.6 * (np.arange(n) < dsp.samples(0.35)) * (
            0.5 + 0.5 * np.sin(2 * np.pi * 25.0 * dsp.times(n))
        )
    # m (closed, nasal) -> e/i -> a (mouth wide) -> ow (lips rounding)
    f1 = dsp.curve(n, [(0.0, 350.0), (0.15, 600.0), (0.45, 1000.0), (0.8, 750.0), (1.0, 600.0)])
    f2 = dsp.curve(n, [(0.0, 1500.0), (0.15, 2200.0), (0.45, 1700.0), (0.8, 1100.0), (1.0, 950.0)])
    tracks = [(f1, 220.0, 1.0), (f2, 300.0, 0.8), (np.full(n, 3300.0), 500.0, 0.3)]
    y = dsp.formant_track(src, tracks)
    env = dsp.ar_envelope(n, 0.07, 0.18) * dsp.curve(n, [(0.0, 0.5), (0.3, 1.0), (0.8, 0.9), (1.0, 0.6)])
    return dsp.reverb(y * env, dsp.room_ir(rng, 0.3), 0.12, loop=False)


def water_drop(rng: Rng, v: int) -> Signal:
    # (length, start Hz, end Hz, decay): plink, higher plip, a drop into a deep bucket
    dur, f_start, f_end, tau = (
        (0.45, 750.0, 1700.0, 0.045),
        (0.35, 1200.0, 2600.0, 0.03),
        (0.6, 480.0, 1150.0, 0.07),
    )[v]
    n = dsp.samples(dur)
    t = dsp.times(n)
    glide = dsp.samples(0.05)
    # the bubble's resonance rises as it collapses: an exponential glide over ~50 ms
    f = f_start * (f_end / f_start) ** np.minimum(t / (glide / SR), 1.0)
    plink = np.sin(2 * np.pi * dsp.running_phase(f, loop=False)) * dsp.exp_decay(n, tau, 0.001)
    splash = dsp.noise_burst(rng, n, 2000.0, 12000.0, 0.0015) * 0.25
    y = np.zeros(n)
    dsp.place(y, splash, 0, wrap=False)
    dsp.place(y, plink, dsp.samples(0.004), wrap=False)
    return dsp.reverb(y, dsp.room_ir(rng, 0.35, 7000.0), 0.2, loop=False)
