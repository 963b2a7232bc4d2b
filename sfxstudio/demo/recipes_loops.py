"""Recipes for the looping classes: ambiences, engines and steady activities.

Each recipe takes a seeded generator and a variation index and returns float64 audio,
shape (n,) mono or (n, 2) stereo, at any level: `sfxstudio.demo.sounds.synthesize` normalises
it. Loops must be seamless (see sfxstudio.demo.dsp): whole cycles of every modulation, circular
noise beds, events that wrap around.
"""

from __future__ import annotations

import numpy as np

from sfxstudio.demo import dsp
from sfxstudio.demo.dsp import SR, Rng, Signal


def ambulance(rng: Rng, v: int) -> Signal:
    dur = 5.0
    n = dsp.samples(dur)
    t = dsp.times(n)
    if v == 0:
        # European two-tone ("nee-naw"): a fourth apart, 0.5 s each, five cycles per loop;
        # a 12 ms glide stands in for the oscillator's lag between tones
        step = (t // 0.5) % 2 == 0
        f = np.where(step, 960.0, 720.0)
        k = dsp.samples(0.012)
        f = np.convolve(np.concatenate([f[-k:], f, f[:k]]), np.ones(k) / k, mode="same")[k:-k]
    else:
        # wail: slow rise, quicker fall, two sweeps per loop
        ph = (t / 2.5) % 1.0
        rise = 0.5 - 0.5 * np.cos(np.pi * np.minimum(ph, 0.6) / 0.6)
        fall = 0.5 + 0.5 * np.cos(np.pi * np.clip(ph - 0.6, 0.0, 0.4) / 0.4)
        f = 620.0 + 830.0 * np.where(ph < 0.6, rise, fall)
    # the vehicle moves about: a slight doppler sway and distance change, once per loop
    f = f * (1.0 + 0.012 * dsp.sine_lfo(n, 1))
    amp = 1.0 + 0.25 * dsp.sine_lfo(n, 1, 0.25)
    ph = dsp.running_phase(f, loop=True)
    # square-ish horn-speaker tone: odd harmonics strong, fundamental dominant
    tone = dsp.harmonics(ph, [1.0, 0.12, 0.35, 0.06, 0.18, 0.04, 0.1])
    tone = dsp.spectral_filter(tone, lambda fr: dsp.band(fr, 300.0, 5000.0, 2)) * amp
    street = 0.05 * dsp.noise(rng, n, lambda fr: dsp.band(fr, 40.0, 400.0, 2))
    out = []
    for _ in range(2):  # decorrelated street reflections per ear
        ir = dsp.room_ir(rng, 0.6, 4000.0)
        out.append(dsp.reverb(tone, ir, 0.12, loop=True) + street * rng.uniform(0.8, 1.2))
    return dsp.stereo(out[0], out[1])


def helicopter(rng: Rng, v: int) -> Signal:
    dur, rate = ((5.0, 6.0), (4.0, 7.5))[v]  # 30 blade passes per loop either way
    n = dsp.samples(dur)
    env = np.zeros(n)
    slap = np.zeros(n)
    m = dsp.samples(0.16)
    pulse = dsp.exp_decay(m, 0.05, 0.006)
    sharp = dsp.exp_decay(m, 0.018, 0.002)
    for i in range(round(dur * rate)):
        pos = dsp.samples(i / rate)
        a = rng.uniform(0.85, 1.0)
        dsp.place(env, a * pulse, pos, wrap=True)
        dsp.place(slap, a * sharp, pos, wrap=True)
    turbine = dsp.snap_freq((3150.0, 4100.0)[v], dur)
    whine_ph = np.arange(n) * turbine / SR
    whine = np.sin(2 * np.pi * whine_ph) + 0.3 * np.sin(4 * np.pi * whine_ph)
    tail_rate = dsp.snap_freq(34.0, dur)
    tail_env = 0.5 + 0.5 * np.sin(2 * np.pi * tail_rate * dsp.times(n)) ** 2
    out = []
    for _ in range(2):
        thump = env * dsp.noise(rng, n, lambda f: dsp.band(f, 35.0, 320.0, 3))
        whop = slap * dsp.noise(rng, n, lambda f: dsp.band(f, 300.0, 1600.0, 2))
        bed = dsp.noise(rng, n, lambda f: dsp.band(f, 30.0, 180.0, 2))
        tail = tail_env * dsp.noise(rng, n, lambda f: dsp.band(f, 700.0, 3000.0, 2))
        out.append(1.0 * thump + 0.35 * whop + 0.25 * bed + 0.05 * tail + 0.03 * whine * (0.8 + 0.4 * env))
    return dsp.stereo(out[0], out[1])


def _key_click(rng: Rng, spacebar: bool, bright: float) -> Signal:
    m = dsp.samples(0.09 if spacebar else 0.05)
    click = dsp.noise_burst(rng, m, 1500.0 * bright, 9000.0, 0.0025)
    click = dsp.resonate(click, rng.uniform(2200.0, 4200.0) * bright, 6.0) + 0.5 * click
    if spacebar:
        thock = np.sin(2 * np.pi * rng.uniform(170.0, 240.0) * dsp.times(m)) * dsp.exp_decay(m, 0.025, 0.002)
        rattle = np.zeros(m)
        rattle[dsp.samples(0.007)] = 1.0
        rattle = dsp.resonate(rattle, rng.uniform(2800.0, 3600.0), 15.0)
        return 0.6 * click + 1.2 * thock + 0.4 * rattle
    thock = np.sin(2 * np.pi * rng.uniform(350.0, 650.0) * dsp.times(m)) * dsp.exp_decay(m, 0.01, 0.001)
    return click + 0.45 * thock


def typing(rng: Rng, v: int) -> Signal:
    dur, gap, bright = ((5.0, 0.14, 1.0), (4.5, 0.17, 0.75))[v]  # mechanical, then laptop
    n = dsp.samples(dur)
    left, right = np.zeros(n), np.zeros(n)
    t = 0.05
    word = int(rng.integers(2, 7))
    while t < dur - 0.1:
        spacebar = word == 0
        key = _key_click(rng, spacebar, bright) * rng.uniform(0.55, 1.0)
        release = _key_click(rng, False, bright * 1.2) * rng.uniform(0.15, 0.3)
        gl, gr = dsp.pan(0.0 if spacebar else rng.uniform(-0.45, 0.45))
        for buf, g in ((left, gl), (right, gr)):
            dsp.place(buf, g * key, dsp.samples(t), wrap=True)
            dsp.place(buf, g * release, dsp.samples(t + rng.uniform(0.06, 0.1)), wrap=True)
        word = int(rng.integers(2, 7)) if spacebar else word - 1
        # irregular human rhythm: log-normal gaps, now and then a pause to think
        t += rng.lognormal(np.log(gap), 0.35) + (rng.uniform(0.25, 0.5) if rng.random() < 0.08 else 0.0)
    desk = 0.01 * dsp.noise(rng, n, lambda f: dsp.band(f, 60.0, 2000.0, 1))
    return dsp.stereo(left + desk, right + desk * 0.9)


def fire(rng: Rng, v: int) -> Signal:
    dur, pops_per_s, roar = ((5.0, 32.0, 0.3), (6.0, 14.0, 1.0))[v]  # campfire, roaring fireplace
    n = dsp.samples(dur)
    out = []
    for _ in range(2):
        rumble = dsp.noise(rng, n, lambda f: dsp.band(f, 25.0, 160.0, 2)) * (
            1.0 + 0.35 * dsp.wobble_curve(rng, n, 0.6)
        )
        hiss = dsp.noise(rng, n, lambda f: dsp.band(f, 1500.0, 6000.0, 2)) * np.abs(
            1.0 + 0.6 * dsp.wobble_curve(rng, n, 4.0)
        )
        pops = np.zeros(n)
        # crackles come in clusters (a log spitting several times), heavy-tailed in level
        t = rng.exponential(3.0 / pops_per_s)
        while t < dur:
            burst = int(rng.geometric(0.35))
            tp = t
            for _ in range(burst):
                tau = rng.uniform(0.0008, 0.005)
                m = dsp.samples(tau * 6) + 8
                pop = dsp.noise_burst(rng, m, rng.uniform(500.0, 2500.0), rng.uniform(4000.0, 12000.0), tau)
                dsp.place(pops, pop * min(rng.pareto(2.5) + 0.3, 4.0), dsp.samples(tp), wrap=True)
                tp += rng.exponential(0.015)
            t += rng.exponential(burst / pops_per_s)
        for _ in range(int(dur * 0.8)):  # a few big snaps of wood
            m = dsp.samples(0.06)
            snap = dsp.noise_burst(rng, m, 300.0, 3000.0, rng.uniform(0.006, 0.015))
            dsp.place(pops, 1.5 * snap, dsp.samples(rng.uniform(0.0, dur)), wrap=True)
        # scaled by a high percentile, not the peak: one huge snap must not hide every crackle
        mix = roar * 0.5 * rumble + 0.08 * hiss + 0.5 * pops / (np.percentile(np.abs(pops), 99.9) + 1e-9)
        # a fire is heard through air and smoke, never razor-bright
        out.append(dsp.spectral_filter(mix, lambda f: dsp.band(f, None, 7000.0, 2)))
    return dsp.stereo(out[0], out[1])


def _bubble(rng: Rng, lo: float, hi: float) -> Signal:
    """A small bubble: a sine with a rising pitch glide and a quick decay (Minnaert resonance)."""
    tau = rng.uniform(0.003, 0.015)
    m = dsp.samples(tau * 6)
    f0 = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    f = f0 * (1.0 + rng.uniform(0.3, 1.2) * dsp.times(m) / (tau * 6))
    return np.sin(2 * np.pi * dsp.running_phase(f, loop=False)) * dsp.exp_decay(m, tau, 0.0008)


def river(rng: Rng, v: int) -> Signal:
    dur, rate, lo, hi, bed_gain = ((5.0, 140.0, 350.0, 2200.0, 1.0), (4.5, 220.0, 700.0, 3500.0, 0.5))[v]
    n = dsp.samples(dur)
    out = []
    for _ in range(2):
        bed = dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 150.0, 5000.0, 2))
        bed *= np.maximum(
            0.2, 1.0 + 0.3 * dsp.wobble_curve(rng, n, 0.7) + 0.2 * dsp.wobble_curve(rng, n, 5.0)
        )
        bubbles = np.zeros(n)
        for _ in range(int(rate * dur)):
            dsp.place(
                bubbles,
                _bubble(rng, lo, hi) * rng.lognormal(0.0, 0.6),
                dsp.samples(rng.uniform(0, dur)),
                wrap=True,
            )
        bubbles /= np.sqrt(np.mean(bubbles**2)) + 1e-12
        out.append(bed_gain * bed + 0.7 * bubbles)
    return dsp.stereo(out[0], out[1])


def wave(rng: Rng, v: int) -> Signal:
    dur, crest, floor = ((6.0, 0.5, 0.15), (5.5, 0.42, 0.2))[v]
    n = dsp.samples(dur)
    u = np.arange(n) / n
    d = np.clip((u - crest) / (1.0 - crest), 0.0, 1.0)
    # one swell per loop: a slow build to the crest, a crash, then the long hiss of the wash
    shape = np.where(u < crest, (u / crest) ** 2, (1.0 - d) ** 1.6 * (1.0 + 0.35 * np.exp(-d / 0.08)) / 1.35)
    k = dsp.samples(0.2)
    shape = np.convolve(np.concatenate([shape[-k:], shape, shape[:k]]), np.ones(k) / k, "same")[k:-k]
    shape /= shape.max()
    out = []
    for ch in range(2):
        s = np.roll(shape, dsp.samples(0.09) * ch)  # the surf reaches one ear a little later
        env = floor + (1.0 - floor) * s
        low = dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 30.0, 450.0, 2))
        high = dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 450.0, 11000.0, 2))
        # the low-pass opens at the crest: brightness follows the swell
        fizz = (
            dsp.noise(rng, n, lambda f: dsp.band(f, 3000.0, 12000.0, 2))
            * np.abs(dsp.wobble_curve(rng, n, 60.0)) ** 2
        )
        wash = np.sin(np.pi * d) ** 2
        out.append(env * (0.8 * low + 1.1 * s**1.5 * high) + 0.25 * wash * fizz)
    return dsp.stereo(out[0], out[1])


def stars_shining(rng: Rng, v: int) -> Signal:
    dur, rate, lo_note, decay = ((5.0, 7.0, 84, 0.35), (6.0, 3.5, 79, 0.7))[v]
    n = dsp.samples(dur)
    scale = [0, 2, 4, 7, 9]  # pentatonic: any two twinkles sound consonant
    notes = [lo_note + o * 12 + s for o in range(3) for s in scale]
    freqs = [440.0 * 2 ** ((m - 69) / 12) for m in notes if 440.0 * 2 ** ((m - 69) / 12) < 9000]
    out = []
    for _ in range(2):
        buf = np.zeros(n)
        for f in rng.choice(freqs, size=5, replace=False):  # a faint held shimmer
            fs = dsp.snap_freq(float(f), dur)
            trem = 0.5 + 0.5 * dsp.sine_lfo(n, int(rng.integers(1, 4)), rng.uniform())
            buf += 0.1 * trem * np.sin(2 * np.pi * (fs * dsp.times(n) + rng.uniform()))
        for _ in range(int(rate * dur)):  # twinkles: soft bell pings at random
            f = float(rng.choice(freqs))
            tau = decay * rng.uniform(0.5, 1.5)
            m = dsp.samples(tau * 5)
            tt = dsp.times(m)
            ping = (np.sin(2 * np.pi * f * tt) + 0.25 * np.sin(2 * np.pi * f * 2.01 * tt)) * dsp.exp_decay(
                m, tau, 0.004
            )
            dsp.place(buf, ping * rng.uniform(0.2, 0.7), dsp.samples(rng.uniform(0, dur)), wrap=True)
        air = 0.02 * dsp.noise(rng, n, lambda f: dsp.band(f, 5000.0, 12000.0, 2))
        out.append(dsp.reverb(buf, dsp.room_ir(rng, 1.4, 9000.0), 0.6, loop=True) + air)
    return dsp.stereo(out[0], out[1])


def writing(rng: Rng, v: int) -> Signal:
    dur, lo, hi, grain = ((5.0, 2500.0, 9000.0, 0.7), (4.0, 900.0, 5000.0, 0.3))[v]  # pencil, pen
    n = dsp.samples(dur)
    env = np.zeros(n)
    t = 0.0
    strokes = 0
    while t < dur - 0.05:
        length = rng.uniform(0.08, 0.35)
        m = dsp.samples(length)
        s = np.minimum(
            1.0, np.minimum(dsp.times(m) / rng.uniform(0.01, 0.03), (length - dsp.times(m)) / 0.03)
        )
        # pressure changes within a stroke, and the quick dip where the tip turns
        s *= np.clip(1.0 + 0.45 * dsp.wobble_curve(rng, m, 25.0), 0.1, None)
        dsp.place(env, s * rng.uniform(0.5, 1.0), dsp.samples(t), wrap=True)
        strokes += 1
        t += length + rng.uniform(0.02, 0.12)
        if strokes % int(rng.integers(4, 9)) == 0:
            t += rng.uniform(0.2, 0.45)  # the pen lifts
    out = []
    for _ in range(2):
        scratch = dsp.noise(
            rng,
            n,
            lambda f: dsp.band(f, lo, hi, 2) * (1.0 + 1.5 * dsp.formant_peaks(f, [(lo * 1.6, lo, 1.0)])),
        )
        # paper tooth: the tip skips over fibres, a rough gating of the noise
        tooth = 1.0 - grain + grain * np.abs(dsp.noise(rng, n, lambda f: dsp.band(f, 80.0, 900.0, 1)))
        # a faint desk/room tone, so the pauses are not digital silence
        room = 0.01 * dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 80.0, 3000.0, 1))
        out.append(env * scratch * tooth + room)
    mid = 0.5 * (out[0] + out[1])
    # a close, nearly mono source: mostly shared signal with a little width
    return dsp.stereo(0.8 * mid + 0.2 * out[0], 0.8 * mid + 0.2 * out[1])


def _engine(rng: Rng, n: int, rpm: float, cylinders: int, wobble: float) -> Signal:
    """Engine drone: a harmonic series on the crank frequency, firing orders emphasised."""
    dur = n / SR
    crank = rpm / 60.0
    f = crank * (1.0 + wobble * dsp.wobble_curve(rng, n, 0.4) + 0.004 * dsp.sine_lfo(n, round(dur)))
    fire_order = cylinders / 2  # a four-stroke fires cylinders/2 times per crank revolution
    amps = []
    for k in range(1, 48):
        order = k / 2.0  # half orders too: uneven cylinders give an engine its burble
        a = 1.0 / (1.0 + (order * crank / 350.0) ** 2)
        if abs(order / fire_order - round(order / fire_order)) < 1e-9:
            a *= 4.0
        amps.append(a * rng.uniform(0.5, 1.0))
    # harmonics of half the crank frequency, so the half orders exist (and wrap at the seam)
    drone = dsp.harmonics(dsp.running_phase(f / 2.0, loop=True), amps, rng.uniform(size=len(amps)).tolist())
    rough = 1.0 + 0.2 * dsp.noise(rng, n, lambda fr: dsp.band(fr, None, 60.0, 2))
    return drone * rough / (np.sqrt(np.mean(drone**2)) + 1e-12)


def cars(rng: Rng, v: int) -> Signal:
    dur = 5.0
    n = dsp.samples(dur)
    left, right = np.zeros(n), np.zeros(n)
    if v == 0:  # one car cruising: steady drone with slight RPM wobble, plus tyre roar
        e = _engine(rng, n, 2400.0, 4, 0.015)
        left += e
        right += e
        tyre = 0.8
    else:  # street traffic: three engines swelling and moving as they pass
        for rpm, cyl, ph in ((1800.0, 6, 0.0), (2700.0, 4, 0.35), (3300.0, 4, 0.7)):
            e = _engine(rng, n, rpm, cyl, 0.03)
            near = 0.35 + 0.65 * (0.5 + 0.5 * dsp.sine_lfo(n, 1, ph)) ** 2
            side = dsp.sine_lfo(n, 1, ph - 0.25)  # passes from one side to the other
            left += e * near * (0.6 - 0.4 * side)
            right += e * near * (0.6 + 0.4 * side)
        tyre = 1.3
    for buf in (left, right):
        roar = dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 250.0, 2500.0, 2))
        road = dsp.noise(rng, n, lambda f: dsp.band(f, 30.0, 120.0, 2))
        buf += tyre * (0.45 * roar + 0.4 * road)
    return dsp.stereo(left, right)


def cheer(rng: Rng, v: int) -> Signal:
    dur, voices, clappers, room = ((5.0, 60, 18, 1.4), (5.0, 22, 40, 0.9))[v]  # stadium, room applause
    n = dsp.samples(dur)
    vowels = (
        [(750.0, 200.0, 1.0), (1200.0, 250.0, 0.7), (2600.0, 400.0, 0.3)],  # "ah / yeah"
        [(500.0, 150.0, 1.0), (1800.0, 250.0, 0.6), (2600.0, 400.0, 0.3)],  # "eh / hey"
        [(350.0, 150.0, 1.0), (850.0, 200.0, 0.6), (2500.0, 400.0, 0.2)],  # "oo / woo"
    )
    swell = 0.75 + 0.25 * dsp.sine_lfo(n, 1, 0.1)
    out = []
    for _ in range(2):
        groups = [np.zeros(n) for _ in vowels]
        for _ in range(voices):
            length = rng.uniform(0.35, 1.6)
            m = dsp.samples(length)
            f0 = rng.uniform(150.0, 480.0) * np.exp(np.linspace(0.0, rng.uniform(-0.35, 0.45), m))
            voice = dsp.voiced_source(rng, f0, 0.3, rough=0.2, vibrato=0.01) * dsp.ar_envelope(
                m, rng.uniform(0.03, 0.1), rng.uniform(0.1, 0.3)
            )
            dsp.place(
                groups[int(rng.integers(0, 3))],
                voice * rng.lognormal(0.0, 0.4),
                dsp.samples(rng.uniform(0, dur)),
                wrap=True,
            )
        crowd = np.zeros(n)
        for g, vw in zip(groups, vowels, strict=True):
            crowd += dsp.spectral_filter(g, lambda f, vw=vw: dsp.formant_peaks(f, vw) + 0.02)  # type: ignore[misc]
        murmur = dsp.noise(rng, n, lambda f: dsp.formant_peaks(f, vowels[0]) * dsp.band(f, 200.0, 4000.0, 2))
        claps = np.zeros(n)
        for _ in range(clappers):
            rate = rng.uniform(3.5, 5.5)
            t = rng.uniform(0.0, 1.0 / rate)
            bright = rng.uniform(900.0, 2500.0)
            while t < dur:
                m = dsp.samples(0.04)
                clap = dsp.resonate(
                    dsp.noise_burst(rng, m, 500.0, 8000.0, rng.uniform(0.003, 0.008)), bright, 2.0
                )
                dsp.place(
                    claps, clap * rng.uniform(0.5, 1.0), dsp.samples(t + rng.normal(0.0, 0.008)), wrap=True
                )
                t += 1.0 / rate
        whistle = np.zeros(n)
        if v == 0:  # a fan whistling
            m = dsp.samples(0.8)
            fw = np.linspace(2100.0, 2900.0, m) * (1.0 + 0.01 * np.sin(2 * np.pi * 6.0 * dsp.times(m)))
            dsp.place(
                whistle,
                np.sin(2 * np.pi * dsp.running_phase(fw, loop=False)) * dsp.ar_envelope(m, 0.05, 0.15),
                dsp.samples(rng.uniform(0, dur)),
                wrap=True,
            )

        def rms(x: Signal) -> float:
            return float(np.sqrt(np.mean(x**2))) + 1e-12

        mix = (
            swell * (crowd / rms(crowd) + 0.5 * murmur)
            + (0.7, 1.4)[v] * claps / rms(claps)
            + 0.15 * whistle / max(rms(whistle), 1e-3) * (v == 0)
        )
        out.append(dsp.reverb(mix, dsp.room_ir(rng, room, 7000.0), 0.5, loop=True))
    return dsp.stereo(out[0], out[1])


def blender(rng: Rng, v: int) -> Signal:
    dur, motor, chops = ((5.0, 290.0, 11.0), (4.0, 380.0, 0.0))[v]  # ice crushing, smoothie
    n = dsp.samples(dur)
    out = []
    # the load makes the motor sag and recover: a periodic wobble of its speed
    speed = motor * (1.0 + 0.025 * dsp.wobble_curve(rng, n, 1.5) + 0.01 * dsp.sine_lfo(n, 2))
    ph = dsp.running_phase(speed, loop=True)
    buzz = dsp.saw(ph, speed) + 0.5 * np.sign(np.sin(2 * np.pi * ph * 2)) * 0.3
    # the jar and housing ring at a few fixed frequencies
    buzz = dsp.spectral_filter(
        buzz,
        lambda f: (
            dsp.band(f, 150.0, 6000.0, 1)
            * (0.4 + dsp.formant_peaks(f, [(1100.0, 300.0, 1.0), (2400.0, 500.0, 0.7), (4200.0, 800.0, 0.4)]))
        ),
    )
    for _ in range(2):
        brushes = dsp.noise(rng, n, lambda f: dsp.band(f, 3000.0, 10000.0, 2)) * (
            0.6 + 0.4 * np.sin(2 * np.pi * ph) ** 2
        )
        chopping = np.zeros(n)
        if chops:
            for _ in range(int(chops * dur)):
                m = dsp.samples(0.08)
                hit = dsp.noise_burst(rng, m, 400.0, 3500.0, rng.uniform(0.01, 0.03), 0.001)
                hit = hit + 0.6 * dsp.resonate(hit, rng.uniform(800.0, 2200.0), 8.0)
                dsp.place(chopping, hit * rng.uniform(0.3, 1.0), dsp.samples(rng.uniform(0, dur)), wrap=True)
            chopping /= np.sqrt(np.mean(chopping**2)) + 1e-12
        swirl = dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 150.0, 1500.0, 2)) * np.abs(
            1.0 + 0.7 * dsp.wobble_curve(rng, n, 3.0)
        )
        out.append(buzz / np.sqrt(np.mean(buzz**2)) + 0.15 * brushes + 0.5 * chopping + (0.2, 0.6)[v] * swirl)
    mid = 0.5 * (out[0] + out[1])
    return dsp.stereo(0.7 * mid + 0.3 * out[0], 0.7 * mid + 0.3 * out[1])


def train_passing(rng: Rng, v: int) -> Signal:
    dur, period, horn_chord, horn_at, horn_len, horn_gain = (
        (5.0, 1.25, (311.1, 370.0, 466.2), 1.6, 1.6, 0.6),  # horn
        (4.8, 0.8, (277.2, 349.2), 2.6, 0.9, 0.3),  # faster, a distant two-note horn
    )[v]
    n = dsp.samples(dur)
    scale = period / 1.25
    # one car passing a rail joint: two bogies, two axles each ("ta-dum ... ta-dum")
    pattern = (0.0, 0.11 * scale, 0.36 * scale, 0.47 * scale)
    left, right = np.zeros(n), np.zeros(n)
    for c in range(round(dur / period)):
        for k, off in enumerate(pattern):
            m = dsp.samples(0.12)
            bang = dsp.noise_burst(rng, m, 500.0, 5000.0, 0.02, 0.0005)
            ring = dsp.resonate(bang, 1900.0 * rng.uniform(0.97, 1.03), 20.0) + 0.6 * dsp.resonate(
                bang, 3300.0, 25.0
            )
            thump = np.sin(2 * np.pi * 85.0 * dsp.times(m)) * dsp.exp_decay(m, 0.04, 0.001)
            # each part at its own peak level: the metallic bang must cut through the rumble
            bang, ring = bang / np.max(np.abs(bang)), ring / np.max(np.abs(ring))
            hit = (0.8 + 0.2 * (k % 2 == 0)) * rng.uniform(0.8, 1.1) * (bang + 0.5 * ring + thump)
            at = dsp.samples(c * period + off + rng.normal(0.0, 0.003))
            dsp.place(left, hit, at, wrap=True)
            dsp.place(right, hit * rng.uniform(0.85, 1.0), at + dsp.samples(0.0004), wrap=True)
    m = dsp.samples(horn_len)
    horn = np.zeros(m)
    bend = np.linspace(1.0, 0.97, m)  # it passes: the pitch drops a little (doppler)
    for f in horn_chord:
        fh = f * bend
        horn += dsp.saw(dsp.running_phase(fh, loop=False), fh)
    horn = dsp.causal_filter(horn, "lowpass", 2500.0, 2) * dsp.ar_envelope(m, 0.08, 0.25)
    horn /= np.max(np.abs(horn)) + 1e-12
    out = []
    for ch, buf in enumerate((left, right)):
        rumble = dsp.noise(rng, n, lambda f: dsp.band(f, 25.0, 220.0, 2))
        roll = dsp.noise(rng, n, lambda f: dsp.pink(f) * dsp.band(f, 220.0, 1400.0, 2)) * (
            1.0 + 0.2 * dsp.sine_lfo(n, round(dur / period))
        )
        clacks = buf / (np.max(np.abs(left)) + 1e-12)
        y = 0.15 * rumble + 0.05 * roll + 1.5 * clacks
        dsp.place(y, horn_gain * horn * (1.0, 0.85)[ch], dsp.samples(horn_at), wrap=True)
        out.append(y)
    return dsp.stereo(out[0], out[1])
