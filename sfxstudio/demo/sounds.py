"""The default sound library, synthesised: placeholder effects for every class, made by code.

Nobody recorded these; each recipe below builds a sound an editor recognises by ear from noise,
oscillators, resonators and envelopes (a siren is a swept tone, fire is pops over a rumble...).
Everything is seeded, so one command rebuilds the committed library sample for sample:

    python -m sfxstudio.demo.sounds [--out sounds/] [--seed 0] [--only CLASS ...]

Files are OGG Vorbis at 48 kHz (small enough to ship in the repository), named
`<class>/<nn>_<variation>.ogg`; `library.json` carries the per-class attributes (the defaults of
resources/classes.json plus a variation policy) and `README.md` lists what is there.

Loops are built to be seamless: every modulation has a whole number of cycles per loop, noise
beds are filtered circularly (in the frequency domain), oscillators end on a whole cycle, and
events near the end wrap around to the start. The renderer still crossfades the seams.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy import fft as sp_fft
from scipy import signal

from sfxstudio.core.atomic import atomic_write_bytes, atomic_write_text
from sfxstudio.core.classes import SoundMode, default_classes
from sfxstudio.paths import SOUNDS

SAMPLE_RATE = 48_000
LIBRARY_FORMAT = "sfxstudio-library"
LIBRARY_VERSION = 1
# Lengths (seconds) each placement mode expects; tests hold the committed files to these.
LENGTH_RANGES: dict[str, tuple[float, float]] = {
    "loop": (4.0, 6.0),
    "one_shot": (0.5, 3.0),
    "retrigger": (0.1, 1.5),
}
PEAK_DBFS = -3.0  # headroom for Vorbis overshoot and for the mix
LOOP_RMS_DBFS = -20.0  # ambiences and engines sit at a common loudness, capped by PEAK_DBFS
# libsndfile's Vorbis quality is 1 - compression_level; 0.6 is its default quality (~0.4),
# transparent enough for placeholders and keeps the whole library well under 4 MB.
VORBIS_COMPRESSION = 0.6

Signal = npt.NDArray[np.float64]
Rng = np.random.Generator
Recipe = Callable[[Rng, int], Signal]

SR = SAMPLE_RATE


# --------------------------------------------------------------------------- building blocks


def _n(seconds: float) -> int:
    return round(seconds * SR)


def _time(n: int) -> Signal:
    return np.arange(n) / SR


def _snap(freq: float, seconds: float) -> float:
    """The nearest frequency with a whole number of cycles in `seconds` (seamless loops)."""
    return max(1.0, round(freq * seconds)) / seconds


def _phase(freq: Signal, loop: bool) -> Signal:
    """Running phase in cycles of a (time-varying) frequency, starting at 0.

    For a loop the frequency curve is scaled by a hair so the total is a whole number of cycles,
    which makes the oscillator and all its harmonics continue smoothly across the seam.
    """
    if loop:
        cycles = float(freq.sum()) / SR
        freq = freq * (max(1.0, round(cycles)) / cycles)
    return (np.cumsum(freq) - freq) / SR


def _saw(phase: Signal, freq: Signal) -> Signal:
    """Band-limited sawtooth (polyBLEP): a bright voiced source without audible aliasing."""
    t = phase % 1.0
    dt = np.clip(freq / SR, 1e-6, 0.5)
    y = 2.0 * t - 1.0
    m = t < dt
    x = t[m] / dt[m]
    y[m] -= x + x - x * x - 1.0
    m = t > 1.0 - dt
    x = (t[m] - 1.0) / dt[m]
    y[m] -= x * x + x + x + 1.0
    return y


def _harmonics(phase: Signal, amps: Sequence[float], phases: Sequence[float] | None = None) -> Signal:
    out = np.zeros_like(phase)
    for k, a in enumerate(amps, start=1):
        if a:
            p0 = phases[k - 1] if phases is not None else 0.0
            out += a * np.sin(2 * np.pi * (k * phase + p0))
    return out


def _freqs(n: int) -> Signal:
    return np.asarray(np.fft.rfftfreq(n, 1.0 / SR), dtype=np.float64)


def _shape(x: Signal, gain: Callable[[Signal], Signal], pad: int = 0) -> Signal:
    """Zero-phase filtering in the frequency domain.

    Without `pad` it is circular, which is exactly what a loop wants (the filtered noise wraps);
    one-shots pass a pad so the filter's tails do not wrap onto the start.
    """
    n = len(x)
    if pad:
        x = np.concatenate([x, np.zeros(sp_fft.next_fast_len(n + pad) - n)])
    spec = np.fft.rfft(x)
    spec *= gain(_freqs(len(x)))
    return np.fft.irfft(spec, n=len(x))[:n]


def _band(f: Signal, lo: float | None = None, hi: float | None = None, order: int = 2) -> Signal:
    """Butterworth magnitude response (high-pass at lo, low-pass at hi)."""
    g = np.ones_like(f)
    if hi:
        g /= np.sqrt(1.0 + (f / hi) ** (2 * order))
    if lo:
        g /= np.sqrt(1.0 + (lo / np.maximum(f, 1e-3)) ** (2 * order))
    return g


def _pink(f: Signal) -> Signal:
    # -3 dB/octave: natural noises (water, wind, crowds) have more energy low than white noise
    return 1.0 / np.sqrt(np.maximum(f, 20.0) / 1000.0)


def _formants(f: Signal, formants: Iterable[tuple[float, float, float]]) -> Signal:
    """Sum of resonance peaks (centre Hz, bandwidth Hz, gain): a vowel's spectral envelope."""
    g = np.zeros_like(f)
    for fc, bw, a in formants:
        g += a / (1.0 + ((f - fc) / (bw / 2.0)) ** 2)
    return g


def _noise(rng: Rng, n: int, gain: Callable[[Signal], Signal], pad: int = 0) -> Signal:
    """Coloured noise with unit RMS (circular unless padded)."""
    y = _shape(rng.standard_normal(n), gain, pad)
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def _wobble(rng: Rng, n: int, rate_hz: float) -> Signal:
    """A smooth random curve (unit RMS, zero mean) varying at up to rate_hz.

    Periodic over n when n is FFT-friendly, which loop lengths always are (whole tenths of a
    second at 48 kHz); other lengths are computed on a fast FFT size and cut, as prime-sized
    FFTs are orders of magnitude slower.
    """
    m = sp_fft.next_fast_len(n)
    y = _shape(rng.standard_normal(m), lambda f: np.exp(-0.5 * (f / rate_hz) ** 2) * (f > 0))[:n]
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def _sine_lfo(n: int, cycles: int, phase: float = 0.0) -> Signal:
    """A sine with a whole number of cycles over n samples (loop-safe modulation)."""
    return np.sin(2 * np.pi * (cycles * np.arange(n) / n + phase))


def _decay(n: int, tau: float, attack: float = 0.0) -> Signal:
    t = _time(n)
    env = np.exp(-t / tau)
    if attack > 0:
        env *= 1.0 - np.exp(-t / (attack / 3.0))
    return env


def _place(buf: Signal, sig: Signal, pos: int, wrap: bool) -> None:
    """Add `sig` into `buf` at `pos`; the overflow wraps to the start (loops) or is dropped."""
    n = len(buf)
    if wrap:
        pos %= n
    elif pos >= n:
        return
    head = min(len(sig), n - pos)
    buf[pos : pos + head] += sig[:head]
    if wrap and head < len(sig):
        rest = sig[head : head + n]
        buf[: len(rest)] += rest


def _pan(p: float) -> tuple[float, float]:
    """Equal-power pan gains for p in [-1 (left), 1 (right)]."""
    a = (np.clip(p, -1.0, 1.0) + 1.0) * np.pi / 4.0
    return float(np.cos(a)), float(np.sin(a))


def _resonate(x: Signal, freq: float, q: float) -> Signal:
    """A causal two-pole resonator: a struck object rings on after the hit (no pre-echo)."""
    b, a = signal.iirpeak(min(freq, SR * 0.45), q, fs=SR)
    return signal.lfilter(b, a, x)


def _sos(x: Signal, kind: str, freq: float | tuple[float, float], order: int = 2) -> Signal:
    """Causal Butterworth filter, for transients where zero-phase filtering would pre-ring."""
    key = tuple(_quantise(f) for f in freq) if isinstance(freq, tuple) else _quantise(freq)
    return signal.sosfilt(_butter(kind, key, order), x)


def _quantise(freq: float) -> float:
    # 1/24 octave steps: inaudible for noise bands, and lets the cache below serve repeats
    return float(2 ** (round(np.log2(freq) * 24) / 24))


@lru_cache(maxsize=512)
def _butter(kind: str, freq: float | tuple[float, ...], order: int) -> npt.NDArray[np.float64]:
    # scipy's design costs milliseconds; recipes filter thousands of tiny bursts
    return signal.butter(order, freq, btype=kind, fs=SR, output="sos")


def _impulse_ir(rng: Rng, seconds: float, bright: float = 6000.0) -> Signal:
    """A small diffuse room: exponentially decaying, gently low-passed noise."""
    m = _n(seconds)
    ir = rng.standard_normal(m) * np.exp(-6.9 * _time(m) / seconds)  # -60 dB at `seconds`
    ir = _sos(ir, "lowpass", bright, 1)
    ir[: _n(0.004)] = 0.0  # a short pre-delay keeps the dry attack clear
    return ir / np.sqrt(np.sum(ir**2))


def _reverb(x: Signal, ir: Signal, wet: float, loop: bool) -> Signal:
    if loop:
        # circular convolution: the tail of the end of the loop rings into its start
        spec = np.fft.rfft(x) * np.fft.rfft(ir, n=len(x))
        tail = np.fft.irfft(spec, n=len(x))
    else:
        tail = signal.fftconvolve(x, ir)[: len(x)]
    return x + wet * tail


def _stereo(left: Signal, right: Signal) -> Signal:
    return np.stack([left, right], axis=1)


def _tone_burst(rng: Rng, n: int, lo: float, hi: float, tau: float, attack: float = 0.0) -> Signal:
    """Band-passed noise burst with an exponential decay (clicks, scrapes, claps)."""
    burst = rng.standard_normal(n) * _decay(n, tau, attack)
    return _sos(burst, "bandpass", (lo, min(hi, SR * 0.45)), 2)


# --------------------------------------------------------------------------- recipes
# Each recipe takes a seeded generator and a variation index and returns float64 audio,
# shape (n,) mono or (n, 2) stereo, at any level: `synthesize` normalises it.


def _ambulance(rng: Rng, v: int) -> Signal:
    dur = 5.0
    n = _n(dur)
    t = _time(n)
    if v == 0:
        # European two-tone ("nee-naw"): a fourth apart, 0.5 s each, five cycles per loop;
        # a 12 ms glide stands in for the oscillator's lag between tones
        step = (t // 0.5) % 2 == 0
        f = np.where(step, 960.0, 720.0)
        k = _n(0.012)
        f = np.convolve(np.concatenate([f[-k:], f, f[:k]]), np.ones(k) / k, mode="same")[k:-k]
    else:
        # wail: slow rise, quicker fall, two sweeps per loop
        ph = (t / 2.5) % 1.0
        rise = 0.5 - 0.5 * np.cos(np.pi * np.minimum(ph, 0.6) / 0.6)
        fall = 0.5 + 0.5 * np.cos(np.pi * np.clip(ph - 0.6, 0.0, 0.4) / 0.4)
        f = 620.0 + 830.0 * np.where(ph < 0.6, rise, fall)
    # the vehicle moves about: a slight doppler sway and distance change, once per loop
    f = f * (1.0 + 0.012 * _sine_lfo(n, 1))
    amp = 1.0 + 0.25 * _sine_lfo(n, 1, 0.25)
    ph = _phase(f, loop=True)
    # square-ish horn-speaker tone: odd harmonics strong, fundamental dominant
    tone = _harmonics(ph, [1.0, 0.12, 0.35, 0.06, 0.18, 0.04, 0.1])
    tone = _shape(tone, lambda fr: _band(fr, 300.0, 5000.0, 2)) * amp
    street = 0.05 * _noise(rng, n, lambda fr: _band(fr, 40.0, 400.0, 2))
    out = []
    for _ in range(2):  # decorrelated street reflections per ear
        ir = _impulse_ir(rng, 0.6, 4000.0)
        out.append(_reverb(tone, ir, 0.12, loop=True) + street * rng.uniform(0.8, 1.2))
    return _stereo(out[0], out[1])


def _helicopter(rng: Rng, v: int) -> Signal:
    dur, rate = ((5.0, 6.0), (4.0, 7.5))[v]  # 30 blade passes per loop either way
    n = _n(dur)
    env = np.zeros(n)
    slap = np.zeros(n)
    m = _n(0.16)
    pulse = _decay(m, 0.05, 0.006)
    sharp = _decay(m, 0.018, 0.002)
    for i in range(round(dur * rate)):
        pos = _n(i / rate)
        a = rng.uniform(0.85, 1.0)
        _place(env, a * pulse, pos, wrap=True)
        _place(slap, a * sharp, pos, wrap=True)
    turbine = _snap((3150.0, 4100.0)[v], dur)
    whine_ph = np.arange(n) * turbine / SR
    whine = np.sin(2 * np.pi * whine_ph) + 0.3 * np.sin(4 * np.pi * whine_ph)
    tail_rate = _snap(34.0, dur)
    tail_env = 0.5 + 0.5 * np.sin(2 * np.pi * tail_rate * _time(n)) ** 2
    out = []
    for _ in range(2):
        thump = env * _noise(rng, n, lambda f: _band(f, 35.0, 320.0, 3))
        whop = slap * _noise(rng, n, lambda f: _band(f, 300.0, 1600.0, 2))
        bed = _noise(rng, n, lambda f: _band(f, 30.0, 180.0, 2))
        tail = tail_env * _noise(rng, n, lambda f: _band(f, 700.0, 3000.0, 2))
        out.append(1.0 * thump + 0.35 * whop + 0.25 * bed + 0.05 * tail + 0.03 * whine * (0.8 + 0.4 * env))
    return _stereo(out[0], out[1])


def _key_click(rng: Rng, spacebar: bool, bright: float) -> Signal:
    m = _n(0.09 if spacebar else 0.05)
    click = _tone_burst(rng, m, 1500.0 * bright, 9000.0, 0.0025)
    click = _resonate(click, rng.uniform(2200.0, 4200.0) * bright, 6.0) + 0.5 * click
    if spacebar:
        thock = np.sin(2 * np.pi * rng.uniform(170.0, 240.0) * _time(m)) * _decay(m, 0.025, 0.002)
        rattle = np.zeros(m)
        rattle[_n(0.007)] = 1.0
        rattle = _resonate(rattle, rng.uniform(2800.0, 3600.0), 15.0)
        return 0.6 * click + 1.2 * thock + 0.4 * rattle
    thock = np.sin(2 * np.pi * rng.uniform(350.0, 650.0) * _time(m)) * _decay(m, 0.01, 0.001)
    return click + 0.45 * thock


def _typing(rng: Rng, v: int) -> Signal:
    dur, gap, bright = ((5.0, 0.14, 1.0), (4.5, 0.17, 0.75))[v]  # mechanical, then laptop
    n = _n(dur)
    left, right = np.zeros(n), np.zeros(n)
    t = 0.05
    word = int(rng.integers(2, 7))
    while t < dur - 0.1:
        spacebar = word == 0
        key = _key_click(rng, spacebar, bright) * rng.uniform(0.55, 1.0)
        release = _key_click(rng, False, bright * 1.2) * rng.uniform(0.15, 0.3)
        gl, gr = _pan(0.0 if spacebar else rng.uniform(-0.45, 0.45))
        for buf, g in ((left, gl), (right, gr)):
            _place(buf, g * key, _n(t), wrap=True)
            _place(buf, g * release, _n(t + rng.uniform(0.06, 0.1)), wrap=True)
        word = int(rng.integers(2, 7)) if spacebar else word - 1
        # irregular human rhythm: log-normal gaps, now and then a pause to think
        t += rng.lognormal(np.log(gap), 0.35) + (rng.uniform(0.25, 0.5) if rng.random() < 0.08 else 0.0)
    desk = 0.01 * _noise(rng, n, lambda f: _band(f, 60.0, 2000.0, 1))
    return _stereo(left + desk, right + desk * 0.9)


def _fire(rng: Rng, v: int) -> Signal:
    dur, pops_per_s, roar = ((5.0, 32.0, 0.3), (6.0, 14.0, 1.0))[v]  # campfire, roaring fireplace
    n = _n(dur)
    out = []
    for _ in range(2):
        rumble = _noise(rng, n, lambda f: _band(f, 25.0, 160.0, 2)) * (1.0 + 0.35 * _wobble(rng, n, 0.6))
        hiss = _noise(rng, n, lambda f: _band(f, 1500.0, 6000.0, 2)) * np.abs(
            1.0 + 0.6 * _wobble(rng, n, 4.0)
        )
        pops = np.zeros(n)
        # crackles come in clusters (a log spitting several times), heavy-tailed in level
        t = rng.exponential(3.0 / pops_per_s)
        while t < dur:
            burst = int(rng.geometric(0.35))
            tp = t
            for _ in range(burst):
                tau = rng.uniform(0.0008, 0.005)
                m = _n(tau * 6) + 8
                pop = _tone_burst(rng, m, rng.uniform(500.0, 2500.0), rng.uniform(4000.0, 12000.0), tau)
                _place(pops, pop * min(rng.pareto(2.5) + 0.3, 4.0), _n(tp), wrap=True)
                tp += rng.exponential(0.015)
            t += rng.exponential(burst / pops_per_s)
        for _ in range(int(dur * 0.8)):  # a few big snaps of wood
            m = _n(0.06)
            snap = _tone_burst(rng, m, 300.0, 3000.0, rng.uniform(0.006, 0.015))
            _place(pops, 1.5 * snap, _n(rng.uniform(0.0, dur)), wrap=True)
        # scaled by a high percentile, not the peak: one huge snap must not hide every crackle
        mix = roar * 0.5 * rumble + 0.08 * hiss + 0.5 * pops / (np.percentile(np.abs(pops), 99.9) + 1e-9)
        # a fire is heard through air and smoke, never razor-bright
        out.append(_shape(mix, lambda f: _band(f, None, 7000.0, 2)))
    return _stereo(out[0], out[1])


def _bubble(rng: Rng, lo: float, hi: float) -> Signal:
    """A small bubble: a sine with a rising pitch glide and a quick decay (Minnaert resonance)."""
    tau = rng.uniform(0.003, 0.015)
    m = _n(tau * 6)
    f0 = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    f = f0 * (1.0 + rng.uniform(0.3, 1.2) * _time(m) / (tau * 6))
    return np.sin(2 * np.pi * _phase(f, loop=False)) * _decay(m, tau, 0.0008)


def _river(rng: Rng, v: int) -> Signal:
    dur, rate, lo, hi, bed_gain = ((5.0, 140.0, 350.0, 2200.0, 1.0), (4.5, 220.0, 700.0, 3500.0, 0.5))[v]
    n = _n(dur)
    out = []
    for _ in range(2):
        bed = _noise(rng, n, lambda f: _pink(f) * _band(f, 150.0, 5000.0, 2))
        bed *= np.maximum(0.2, 1.0 + 0.3 * _wobble(rng, n, 0.7) + 0.2 * _wobble(rng, n, 5.0))
        bubbles = np.zeros(n)
        for _ in range(int(rate * dur)):
            _place(
                bubbles, _bubble(rng, lo, hi) * rng.lognormal(0.0, 0.6), _n(rng.uniform(0, dur)), wrap=True
            )
        bubbles /= np.sqrt(np.mean(bubbles**2)) + 1e-12
        out.append(bed_gain * bed + 0.7 * bubbles)
    return _stereo(out[0], out[1])


def _wave(rng: Rng, v: int) -> Signal:
    dur, crest, floor = ((6.0, 0.5, 0.15), (5.5, 0.42, 0.2))[v]
    n = _n(dur)
    u = np.arange(n) / n
    d = np.clip((u - crest) / (1.0 - crest), 0.0, 1.0)
    # one swell per loop: a slow build to the crest, a crash, then the long hiss of the wash
    shape = np.where(u < crest, (u / crest) ** 2, (1.0 - d) ** 1.6 * (1.0 + 0.35 * np.exp(-d / 0.08)) / 1.35)
    k = _n(0.2)
    shape = np.convolve(np.concatenate([shape[-k:], shape, shape[:k]]), np.ones(k) / k, "same")[k:-k]
    shape /= shape.max()
    out = []
    for ch in range(2):
        s = np.roll(shape, _n(0.09) * ch)  # the surf reaches one ear a little later
        env = floor + (1.0 - floor) * s
        low = _noise(rng, n, lambda f: _pink(f) * _band(f, 30.0, 450.0, 2))
        high = _noise(rng, n, lambda f: _pink(f) * _band(f, 450.0, 11000.0, 2))
        # the low-pass opens at the crest: brightness follows the swell
        fizz = _noise(rng, n, lambda f: _band(f, 3000.0, 12000.0, 2)) * np.abs(_wobble(rng, n, 60.0)) ** 2
        wash = np.sin(np.pi * d) ** 2
        out.append(env * (0.8 * low + 1.1 * s**1.5 * high) + 0.25 * wash * fizz)
    return _stereo(out[0], out[1])


def _stars(rng: Rng, v: int) -> Signal:
    dur, rate, lo_note, decay = ((5.0, 7.0, 84, 0.35), (6.0, 3.5, 79, 0.7))[v]
    n = _n(dur)
    scale = [0, 2, 4, 7, 9]  # pentatonic: any two twinkles sound consonant
    notes = [lo_note + o * 12 + s for o in range(3) for s in scale]
    freqs = [440.0 * 2 ** ((m - 69) / 12) for m in notes if 440.0 * 2 ** ((m - 69) / 12) < 9000]
    out = []
    for _ in range(2):
        buf = np.zeros(n)
        for f in rng.choice(freqs, size=5, replace=False):  # a faint held shimmer
            fs = _snap(float(f), dur)
            trem = 0.5 + 0.5 * _sine_lfo(n, int(rng.integers(1, 4)), rng.uniform())
            buf += 0.1 * trem * np.sin(2 * np.pi * (fs * _time(n) + rng.uniform()))
        for _ in range(int(rate * dur)):  # twinkles: soft bell pings at random
            f = float(rng.choice(freqs))
            tau = decay * rng.uniform(0.5, 1.5)
            m = _n(tau * 5)
            tt = _time(m)
            ping = (np.sin(2 * np.pi * f * tt) + 0.25 * np.sin(2 * np.pi * f * 2.01 * tt)) * _decay(
                m, tau, 0.004
            )
            _place(buf, ping * rng.uniform(0.2, 0.7), _n(rng.uniform(0, dur)), wrap=True)
        air = 0.02 * _noise(rng, n, lambda f: _band(f, 5000.0, 12000.0, 2))
        out.append(_reverb(buf, _impulse_ir(rng, 1.4, 9000.0), 0.6, loop=True) + air)
    return _stereo(out[0], out[1])


def _lightning(rng: Rng, v: int) -> Signal:
    dur = (2.9, 3.0)[v]
    n = _n(dur)
    t = _time(n)
    out = []
    crack_at = (0.01, 0.12)[v]
    for _ in range(2):
        crack = np.zeros(n)
        # the crack is a tight cluster of sharp discharges
        for i in range(int(rng.integers(8, 16))):
            tau = rng.uniform(0.002, 0.012)
            m = _n(tau * 6)
            burst = rng.standard_normal(m) * _decay(m, tau, 0.0003)
            at = crack_at + (0.0 if i == 0 else rng.exponential(0.04))
            _place(crack, burst * rng.uniform(0.3, 1.0), _n(at), wrap=False)
        crack = _sos(crack, "highpass", 150.0, 2)
        if v == 1:  # far away: the air has eaten the highs
            crack = _sos(crack, "lowpass", 1800.0, 2) * 0.6
        # rolling rumble: lumps of low noise arriving over seconds, dying away
        rolls = np.zeros(n)
        for _ in range(int(rng.integers(4, 8))):
            c, w = rng.uniform(0.15, 1.6), rng.uniform(0.15, 0.5)
            rolls += rng.uniform(0.4, 1.0) * np.exp(-0.5 * ((t - c) / w) ** 2)
        onset = np.clip((t - crack_at - 0.03) / 0.12, 0.0, 1.0)
        rumble_env = onset * (0.5 + rolls) * np.exp(-(t - crack_at) / (1.1, 1.6)[v])
        pad = _n(0.5)
        rumble = _noise(rng, n, lambda f: _band(f, 22.0, 110.0, 3), pad)
        grit = _noise(rng, n, lambda f: _band(f, 110.0, 600.0, 2), pad)
        out.append(crack + rumble_env * (0.9 * rumble + 0.25 * grit) * (0.55, 0.8)[v])
    return _stereo(out[0], out[1])


def _writing(rng: Rng, v: int) -> Signal:
    dur, lo, hi, grain = ((5.0, 2500.0, 9000.0, 0.7), (4.0, 900.0, 5000.0, 0.3))[v]  # pencil, pen
    n = _n(dur)
    env = np.zeros(n)
    t = 0.0
    strokes = 0
    while t < dur - 0.05:
        length = rng.uniform(0.08, 0.35)
        m = _n(length)
        s = np.minimum(1.0, np.minimum(_time(m) / rng.uniform(0.01, 0.03), (length - _time(m)) / 0.03))
        # pressure changes within a stroke, and the quick dip where the tip turns
        s *= np.clip(1.0 + 0.45 * _wobble(rng, m, 25.0), 0.1, None)
        _place(env, s * rng.uniform(0.5, 1.0), _n(t), wrap=True)
        strokes += 1
        t += length + rng.uniform(0.02, 0.12)
        if strokes % int(rng.integers(4, 9)) == 0:
            t += rng.uniform(0.2, 0.45)  # the pen lifts
    out = []
    for _ in range(2):
        scratch = _noise(
            rng, n, lambda f: _band(f, lo, hi, 2) * (1.0 + 1.5 * _formants(f, [(lo * 1.6, lo, 1.0)]))
        )
        # paper tooth: the tip skips over fibres, a rough gating of the noise
        tooth = 1.0 - grain + grain * np.abs(_noise(rng, n, lambda f: _band(f, 80.0, 900.0, 1)))
        # a faint desk/room tone, so the pauses are not digital silence
        room = 0.01 * _noise(rng, n, lambda f: _pink(f) * _band(f, 80.0, 3000.0, 1))
        out.append(env * scratch * tooth + room)
    mid = 0.5 * (out[0] + out[1])
    # a close, nearly mono source: mostly shared signal with a little width
    return _stereo(0.8 * mid + 0.2 * out[0], 0.8 * mid + 0.2 * out[1])


def _voice(
    rng: Rng, f0: Signal, breath: float, rough: float = 0.0, vibrato: float = 0.0, vib_rate: float = 5.5
) -> Signal:
    """A voiced source: band-limited saw on a pitch curve, plus breath noise and roughness."""
    n = len(f0)
    f = f0 * (1.0 + vibrato * np.sin(2 * np.pi * vib_rate * _time(n)) + 0.006 * _wobble(rng, n, 8.0))
    ph = _phase(f, loop=False)
    src = _saw(ph, f)
    if rough:
        # period doubling (alternate cycles louder) is what makes a voice sound strained
        src *= 1.0 + rough * np.sin(np.pi * ph)
    return src + breath * rng.standard_normal(n)


def _formant_track(x: Signal, tracks: Sequence[tuple[Signal, float, float]]) -> Signal:
    """Time-varying formant filter via the STFT: tracks are (centre Hz per sample, bw, gain)."""
    nper = 1024
    f, frames, spec = signal.stft(x, fs=SR, nperseg=nper, noverlap=nper * 3 // 4)
    idx = np.clip((frames * SR).astype(int), 0, len(x) - 1)
    g = np.zeros((len(f), len(frames)))
    for fc, bw, a in tracks:
        g += a / (1.0 + ((f[:, None] - fc[idx][None, :]) / (bw / 2.0)) ** 2)
    _, y = signal.istft(spec * g, fs=SR, nperseg=nper, noverlap=nper * 3 // 4)
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def _curve(n: int, points: Sequence[tuple[float, float]]) -> Signal:
    """Piecewise-linear curve through (fraction of length, value) points."""
    xs, ys = zip(*points, strict=True)
    return np.interp(np.arange(n) / n, xs, ys)


def _ar(n: int, attack: float, release: float) -> Signal:
    t = _time(n)
    return np.clip(np.minimum(t / attack, (n / SR - t) / release), 0.0, 1.0)


def _screaming(rng: Rng, v: int) -> Signal:
    if v == 0:  # "aaah!": pitch leaps up and strains higher
        dur, pts = 2.2, [(0.0, 430.0), (0.16, 780.0), (0.8, 860.0), (1.0, 700.0)]
        vowel = [(1000.0, 200.0, 1.0), (1500.0, 250.0, 0.8), (2900.0, 350.0, 0.45), (3900.0, 450.0, 0.25)]
    else:  # shriek: higher and shorter, brighter vowel
        dur, pts = 1.6, [(0.0, 700.0), (0.15, 1150.0), (0.85, 1250.0), (1.0, 1000.0)]
        vowel = [(1100.0, 250.0, 1.0), (2300.0, 300.0, 0.9), (3300.0, 400.0, 0.5), (4300.0, 500.0, 0.3)]
    n = _n(dur)
    f0 = _curve(n, pts)
    vib = np.linspace(0.005, 0.03, n)  # the vibrato widens as the scream strains
    f = f0 * (1.0 + vib * np.sin(2 * np.pi * 6.0 * _time(n)) + 0.008 * _wobble(rng, n, 10.0))
    ph = _phase(f, loop=False)
    src = _saw(ph, f) * (1.0 + 0.35 * np.sin(np.pi * ph)) + 0.25 * rng.standard_normal(n)
    y = _shape(src, lambda fr: _formants(fr, vowel) + 0.03, pad=_n(0.1))
    y *= _ar(n, 0.06, 0.3) * (0.8 + 0.2 * np.linspace(0, 1, n))
    return _reverb(y, _impulse_ir(rng, 0.5), 0.2, loop=False)


def _high_heels(rng: Rng, v: int) -> Signal:
    ring, knock, room = ((2900.0, 240.0, 0.05), (2200.0, 170.0, 0.08), (3600.0, 300.0, 0.12))[v]
    n = _n(0.3)
    out = np.zeros(n)
    for at, gain in ((0.004, 1.0), (rng.uniform(0.05, 0.075), 0.25)):  # heel, then the toe
        m = _n(0.12)
        hit = np.zeros(m)
        hit[0] = 1.0
        hit[1 : _n(0.0015)] = rng.standard_normal(_n(0.0015) - 1) * 0.5
        click = (
            _resonate(hit, ring * rng.uniform(0.95, 1.05), 14.0)
            + 0.7 * _resonate(hit, ring * rng.uniform(1.9, 2.3), 10.0)
            + 0.4 * _sos(hit, "highpass", 4000.0, 2)
        )
        body = np.sin(2 * np.pi * knock * _time(m)) * _decay(m, 0.012, 0.0005)
        _place(out, gain * (click + 0.08 * body), _n(at), wrap=False)
    tail = rng.standard_normal(n) * _decay(n, room, 0.003)
    return out + 0.02 * _sos(tail, "lowpass", 5000.0, 1)


def _dog_barking(rng: Rng, v: int) -> Signal:
    # (length, pitch curve, formant scale, noise): medium "woof", big dog, small dog "yap"
    dur, pts, scale, breath = (
        (0.45, [(0.0, 380.0), (0.1, 500.0), (1.0, 290.0)], 1.0, 0.8),
        (0.6, [(0.0, 210.0), (0.12, 260.0), (1.0, 160.0)], 0.72, 1.0),
        (0.28, [(0.0, 680.0), (0.15, 820.0), (1.0, 600.0)], 1.45, 0.6),
    )[v]
    n = _n(dur)
    f0 = _curve(n, pts)
    src = _voice(rng, f0, breath, rough=0.5)
    # the mouth opens then closes ("w-oo-f"): the first formant rises and falls
    f1 = _curve(n, [(0.0, 450.0), (0.15, 800.0), (1.0, 420.0)]) * scale
    tracks = [
        (f1, 260.0 * scale, 1.0),
        (f1 * 1.9, 320.0 * scale, 0.7),
        (np.full(n, 2700.0 * scale), 500.0, 0.35),
    ]
    y = _formant_track(src, tracks)
    env = _ar(n, 0.008, 0.02) * np.exp(-np.maximum(_time(n) - 0.06, 0.0) / (0.11 * dur / 0.45))
    chest = np.sin(2 * np.pi * 130.0 * scale * _time(n)) * _decay(n, 0.05, 0.004)
    return _reverb(y * env + 0.25 * chest * env, _impulse_ir(rng, 0.35), 0.15, loop=False)


def _engine(rng: Rng, n: int, rpm: float, cylinders: int, wobble: float) -> Signal:
    """Engine drone: a harmonic series on the crank frequency, firing orders emphasised."""
    dur = n / SR
    crank = rpm / 60.0
    f = crank * (1.0 + wobble * _wobble(rng, n, 0.4) + 0.004 * _sine_lfo(n, round(dur)))
    fire_order = cylinders / 2  # a four-stroke fires cylinders/2 times per crank revolution
    amps = []
    for k in range(1, 48):
        order = k / 2.0  # half orders too: uneven cylinders give an engine its burble
        a = 1.0 / (1.0 + (order * crank / 350.0) ** 2)
        if abs(order / fire_order - round(order / fire_order)) < 1e-9:
            a *= 4.0
        amps.append(a * rng.uniform(0.5, 1.0))
    # harmonics of half the crank frequency, so the half orders exist (and wrap at the seam)
    drone = _harmonics(_phase(f / 2.0, loop=True), amps, rng.uniform(size=len(amps)).tolist())
    rough = 1.0 + 0.2 * _noise(rng, n, lambda fr: _band(fr, None, 60.0, 2))
    return drone * rough / (np.sqrt(np.mean(drone**2)) + 1e-12)


def _cars(rng: Rng, v: int) -> Signal:
    dur = 5.0
    n = _n(dur)
    left, right = np.zeros(n), np.zeros(n)
    if v == 0:  # one car cruising: steady drone with slight RPM wobble, plus tyre roar
        e = _engine(rng, n, 2400.0, 4, 0.015)
        left += e
        right += e
        tyre = 0.8
    else:  # street traffic: three engines swelling and moving as they pass
        for rpm, cyl, ph in ((1800.0, 6, 0.0), (2700.0, 4, 0.35), (3300.0, 4, 0.7)):
            e = _engine(rng, n, rpm, cyl, 0.03)
            near = 0.35 + 0.65 * (0.5 + 0.5 * _sine_lfo(n, 1, ph)) ** 2
            side = _sine_lfo(n, 1, ph - 0.25)  # passes from one side to the other
            left += e * near * (0.6 - 0.4 * side)
            right += e * near * (0.6 + 0.4 * side)
        tyre = 1.3
    for buf in (left, right):
        roar = _noise(rng, n, lambda f: _pink(f) * _band(f, 250.0, 2500.0, 2))
        road = _noise(rng, n, lambda f: _band(f, 30.0, 120.0, 2))
        buf += tyre * (0.45 * roar + 0.4 * road)
    return _stereo(left, right)


def _click(rng: Rng, freqs: Sequence[float], q: float, n: int) -> Signal:
    hit = np.zeros(n)
    hit[: _n(0.001)] = rng.standard_normal(_n(0.001))
    return sum((_resonate(hit, f, q) for f in freqs), np.zeros(n)) + 0.3 * _sos(hit, "highpass", 3000.0, 2)


def _door_opening(rng: Rng, v: int) -> Signal:
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
    n = _n(dur)
    out = np.zeros(n)
    # the latch: handle click and the bolt slipping out of the strike plate
    for at, gain in ((0.02, 0.8), (rng.uniform(0.07, 0.1), 1.0)):
        m = _n(0.08)
        _place(out, gain * _click(rng, (2600.0, 4300.0, 1250.0), 25.0, m) * 0.5, _n(at), wrap=False)
    m = _n(end - start)
    rate = _curve(m, rates) * (1.0 + 0.08 * _wobble(rng, m, 6.0))
    # stick-slip: the hinge catches and releases, one impulse per slip
    ph = _phase(rate, loop=False)
    slips = np.flatnonzero(np.diff(np.floor(ph)) > 0)
    train = np.zeros(m)
    train[slips] = rng.uniform(0.5, 1.0, len(slips))
    creak = sum(
        (g * _resonate(train, f, 9.0) for f, g in zip(body, (1.0, 0.8, 0.5), strict=True)), np.zeros(m)
    )
    creak = creak + 0.3 * _sos(train, "bandpass", (1500.0, 6000.0), 1)
    creak *= _ar(m, 0.08, 0.2) * np.clip(1.0 + 0.3 * _wobble(rng, m, 2.0), 0.3, None)
    _place(out, creak / (np.max(np.abs(creak)) + 1e-12) * 0.8, _n(start), wrap=False)
    return _reverb(out, _impulse_ir(rng, 0.4), 0.15, loop=False)


def _ping(rng: Rng, f: float, tau: float, ratios: Sequence[float]) -> Signal:
    m = _n(tau * 5)
    t = _time(m)
    y = sum(
        (np.sin(2 * np.pi * f * r * t + rng.uniform(0, 6.3)) / (i + 1) for i, r in enumerate(ratios)),
        np.zeros(m),
    )
    return y * _decay(m, tau, 0.0005)


def _glass_breaking(rng: Rng, v: int) -> Signal:
    dur, count, lo, hi = ((2.2, 140, 2500.0, 9500.0), (1.8, 80, 1400.0, 6500.0))[v]  # pane, bottle
    n = _n(dur)
    left, right = np.zeros(n), np.zeros(n)
    impact = _tone_burst(rng, _n(0.15), 1200.0, 14000.0, 0.02, 0.0005)
    thud = np.sin(2 * np.pi * 140.0 * _time(_n(0.15))) * _decay(_n(0.15), 0.03, 0.001)
    for buf in (left, right):
        _place(buf, 1.4 * impact + 0.5 * thud, _n(0.01), wrap=False)
    if v == 1:  # the bottle rings once before it flies apart
        ring = _ping(rng, 1150.0, 0.25, (1.0, 2.32, 4.1))
        for buf in (left, right):
            _place(buf, 0.6 * ring, _n(0.01), wrap=False)
    for i in range(count):
        # most shards fly at once, the rest fall and tinkle for a second or so
        at = 0.01 + (rng.exponential(0.05) if i < count * 0.6 else rng.uniform(0.15, dur - 0.5))
        level = np.exp(-at / 0.9) * rng.uniform(0.2, 1.0)
        f = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        ping = _ping(rng, f, rng.uniform(0.01, 0.1), (1.0, rng.uniform(1.5, 2.8), rng.uniform(3.0, 5.0)))
        gl, gr = _pan(rng.uniform(-0.8, 0.8))
        _place(left, gl * level * ping, _n(at), wrap=False)
        _place(right, gr * level * ping, _n(at), wrap=False)
    out = _stereo(left, right)
    ir = [_impulse_ir(rng, 0.5, 9000.0) for _ in range(2)]
    return np.stack([_reverb(out[:, c], ir[c], 0.25, loop=False) for c in range(2)], axis=1)


def _cat_meowing(rng: Rng, v: int) -> Signal:
    # (length, pitch curve, roughness): "meow", kitten "mew", growly "mrrow"
    dur, pts, rough = (
        (0.9, [(0.0, 480.0), (0.35, 720.0), (0.7, 600.0), (1.0, 420.0)], 0.1),
        (0.5, [(0.0, 700.0), (0.3, 950.0), (1.0, 720.0)], 0.05),
        (1.2, [(0.0, 300.0), (0.25, 380.0), (0.5, 560.0), (1.0, 380.0)], 0.25),
    )[v]
    n = _n(dur)
    f0 = _curve(n, pts)
    src = _voice(rng, f0, 0.15, rough=rough, vibrato=0.01, vib_rate=7.0)
    if v == 2:  # the "rr": a 25 Hz flutter at the start
        src *= 1.0 - 0.6 * (np.arange(n) < _n(0.35)) * (0.5 + 0.5 * np.sin(2 * np.pi * 25.0 * _time(n)))
    # m (closed, nasal) -> e/i -> a (mouth wide) -> ow (lips rounding)
    f1 = _curve(n, [(0.0, 350.0), (0.15, 600.0), (0.45, 1000.0), (0.8, 750.0), (1.0, 600.0)])
    f2 = _curve(n, [(0.0, 1500.0), (0.15, 2200.0), (0.45, 1700.0), (0.8, 1100.0), (1.0, 950.0)])
    tracks = [(f1, 220.0, 1.0), (f2, 300.0, 0.8), (np.full(n, 3300.0), 500.0, 0.3)]
    y = _formant_track(src, tracks)
    env = _ar(n, 0.07, 0.18) * _curve(n, [(0.0, 0.5), (0.3, 1.0), (0.8, 0.9), (1.0, 0.6)])
    return _reverb(y * env, _impulse_ir(rng, 0.3), 0.12, loop=False)


def _cheer(rng: Rng, v: int) -> Signal:
    dur, voices, clappers, room = ((5.0, 60, 18, 1.4), (5.0, 22, 40, 0.9))[v]  # stadium, room applause
    n = _n(dur)
    vowels = (
        [(750.0, 200.0, 1.0), (1200.0, 250.0, 0.7), (2600.0, 400.0, 0.3)],  # "ah / yeah"
        [(500.0, 150.0, 1.0), (1800.0, 250.0, 0.6), (2600.0, 400.0, 0.3)],  # "eh / hey"
        [(350.0, 150.0, 1.0), (850.0, 200.0, 0.6), (2500.0, 400.0, 0.2)],  # "oo / woo"
    )
    swell = 0.75 + 0.25 * _sine_lfo(n, 1, 0.1)
    out = []
    for _ in range(2):
        groups = [np.zeros(n) for _ in vowels]
        for _ in range(voices):
            length = rng.uniform(0.35, 1.6)
            m = _n(length)
            f0 = rng.uniform(150.0, 480.0) * np.exp(np.linspace(0.0, rng.uniform(-0.35, 0.45), m))
            voice = _voice(rng, f0, 0.3, rough=0.2, vibrato=0.01) * _ar(
                m, rng.uniform(0.03, 0.1), rng.uniform(0.1, 0.3)
            )
            _place(
                groups[int(rng.integers(0, 3))],
                voice * rng.lognormal(0.0, 0.4),
                _n(rng.uniform(0, dur)),
                wrap=True,
            )
        crowd = np.zeros(n)
        for g, vw in zip(groups, vowels, strict=True):
            crowd += _shape(g, lambda f, vw=vw: _formants(f, vw) + 0.02)  # type: ignore[misc]
        murmur = _noise(rng, n, lambda f: _formants(f, vowels[0]) * _band(f, 200.0, 4000.0, 2))
        claps = np.zeros(n)
        for _ in range(clappers):
            rate = rng.uniform(3.5, 5.5)
            t = rng.uniform(0.0, 1.0 / rate)
            bright = rng.uniform(900.0, 2500.0)
            while t < dur:
                m = _n(0.04)
                clap = _resonate(_tone_burst(rng, m, 500.0, 8000.0, rng.uniform(0.003, 0.008)), bright, 2.0)
                _place(claps, clap * rng.uniform(0.5, 1.0), _n(t + rng.normal(0.0, 0.008)), wrap=True)
                t += 1.0 / rate
        whistle = np.zeros(n)
        if v == 0:  # a fan whistling
            m = _n(0.8)
            fw = np.linspace(2100.0, 2900.0, m) * (1.0 + 0.01 * np.sin(2 * np.pi * 6.0 * _time(m)))
            _place(
                whistle,
                np.sin(2 * np.pi * _phase(fw, loop=False)) * _ar(m, 0.05, 0.15),
                _n(rng.uniform(0, dur)),
                wrap=True,
            )

        def rms(x: Signal) -> float:
            return float(np.sqrt(np.mean(x**2))) + 1e-12

        mix = (
            swell * (crowd / rms(crowd) + 0.5 * murmur)
            + (0.7, 1.4)[v] * claps / rms(claps)
            + 0.15 * whistle / max(rms(whistle), 1e-3) * (v == 0)
        )
        out.append(_reverb(mix, _impulse_ir(rng, room, 7000.0), 0.5, loop=True))
    return _stereo(out[0], out[1])


def _blender(rng: Rng, v: int) -> Signal:
    dur, motor, chops = ((5.0, 290.0, 11.0), (4.0, 380.0, 0.0))[v]  # ice crushing, smoothie
    n = _n(dur)
    out = []
    # the load makes the motor sag and recover: a periodic wobble of its speed
    speed = motor * (1.0 + 0.025 * _wobble(rng, n, 1.5) + 0.01 * _sine_lfo(n, 2))
    ph = _phase(speed, loop=True)
    buzz = _saw(ph, speed) + 0.5 * np.sign(np.sin(2 * np.pi * ph * 2)) * 0.3
    # the jar and housing ring at a few fixed frequencies
    buzz = _shape(
        buzz,
        lambda f: (
            _band(f, 150.0, 6000.0, 1)
            * (0.4 + _formants(f, [(1100.0, 300.0, 1.0), (2400.0, 500.0, 0.7), (4200.0, 800.0, 0.4)]))
        ),
    )
    for _ in range(2):
        brushes = _noise(rng, n, lambda f: _band(f, 3000.0, 10000.0, 2)) * (
            0.6 + 0.4 * np.sin(2 * np.pi * ph) ** 2
        )
        chopping = np.zeros(n)
        if chops:
            for _ in range(int(chops * dur)):
                m = _n(0.08)
                hit = _tone_burst(rng, m, 400.0, 3500.0, rng.uniform(0.01, 0.03), 0.001)
                hit = hit + 0.6 * _resonate(hit, rng.uniform(800.0, 2200.0), 8.0)
                _place(chopping, hit * rng.uniform(0.3, 1.0), _n(rng.uniform(0, dur)), wrap=True)
            chopping /= np.sqrt(np.mean(chopping**2)) + 1e-12
        swirl = _noise(rng, n, lambda f: _pink(f) * _band(f, 150.0, 1500.0, 2)) * np.abs(
            1.0 + 0.7 * _wobble(rng, n, 3.0)
        )
        out.append(buzz / np.sqrt(np.mean(buzz**2)) + 0.15 * brushes + 0.5 * chopping + (0.2, 0.6)[v] * swirl)
    mid = 0.5 * (out[0] + out[1])
    return _stereo(0.7 * mid + 0.3 * out[0], 0.7 * mid + 0.3 * out[1])


def _train_passing(rng: Rng, v: int) -> Signal:
    dur, period, horn_chord, horn_at, horn_len, horn_gain = (
        (5.0, 1.25, (311.1, 370.0, 466.2), 1.6, 1.6, 0.6),  # horn
        (4.8, 0.8, (277.2, 349.2), 2.6, 0.9, 0.3),  # faster, a distant two-note horn
    )[v]
    n = _n(dur)
    scale = period / 1.25
    # one car passing a rail joint: two bogies, two axles each ("ta-dum ... ta-dum")
    pattern = (0.0, 0.11 * scale, 0.36 * scale, 0.47 * scale)
    left, right = np.zeros(n), np.zeros(n)
    for c in range(round(dur / period)):
        for k, off in enumerate(pattern):
            m = _n(0.12)
            bang = _tone_burst(rng, m, 500.0, 5000.0, 0.02, 0.0005)
            ring = _resonate(bang, 1900.0 * rng.uniform(0.97, 1.03), 20.0) + 0.6 * _resonate(
                bang, 3300.0, 25.0
            )
            thump = np.sin(2 * np.pi * 85.0 * _time(m)) * _decay(m, 0.04, 0.001)
            # each part at its own peak level: the metallic bang must cut through the rumble
            bang, ring = bang / np.max(np.abs(bang)), ring / np.max(np.abs(ring))
            hit = (0.8 + 0.2 * (k % 2 == 0)) * rng.uniform(0.8, 1.1) * (bang + 0.5 * ring + thump)
            at = _n(c * period + off + rng.normal(0.0, 0.003))
            _place(left, hit, at, wrap=True)
            _place(right, hit * rng.uniform(0.85, 1.0), at + _n(0.0004), wrap=True)
    m = _n(horn_len)
    horn = np.zeros(m)
    bend = np.linspace(1.0, 0.97, m)  # it passes: the pitch drops a little (doppler)
    for f in horn_chord:
        fh = f * bend
        horn += _saw(_phase(fh, loop=False), fh)
    horn = _sos(horn, "lowpass", 2500.0, 2) * _ar(m, 0.08, 0.25)
    horn /= np.max(np.abs(horn)) + 1e-12
    out = []
    for ch, buf in enumerate((left, right)):
        rumble = _noise(rng, n, lambda f: _band(f, 25.0, 220.0, 2))
        roll = _noise(rng, n, lambda f: _pink(f) * _band(f, 220.0, 1400.0, 2)) * (
            1.0 + 0.2 * _sine_lfo(n, round(dur / period))
        )
        clacks = buf / (np.max(np.abs(left)) + 1e-12)
        y = 0.15 * rumble + 0.05 * roll + 1.5 * clacks
        _place(y, horn_gain * horn * (1.0, 0.85)[ch], _n(horn_at), wrap=True)
        out.append(y)
    return _stereo(out[0], out[1])


def _water_drop(rng: Rng, v: int) -> Signal:
    # (length, start Hz, end Hz, decay): plink, higher plip, a drop into a deep bucket
    dur, f_start, f_end, tau = (
        (0.45, 750.0, 1700.0, 0.045),
        (0.35, 1200.0, 2600.0, 0.03),
        (0.6, 480.0, 1150.0, 0.07),
    )[v]
    n = _n(dur)
    t = _time(n)
    glide = _n(0.05)
    # the bubble's resonance rises as it collapses: an exponential glide over ~50 ms
    f = f_start * (f_end / f_start) ** np.minimum(t / (glide / SR), 1.0)
    plink = np.sin(2 * np.pi * _phase(f, loop=False)) * _decay(n, tau, 0.001)
    splash = _tone_burst(rng, n, 2000.0, 12000.0, 0.0015) * 0.25
    y = np.zeros(n)
    _place(y, splash, 0, wrap=False)
    _place(y, plink, _n(0.004), wrap=False)
    return _reverb(y, _impulse_ir(rng, 0.35, 7000.0), 0.2, loop=False)


# variation names (file stems) per class, in round-robin order
RECIPES: dict[str, tuple[Recipe, tuple[str, ...]]] = {
    "train_passing": (_train_passing, ("horn", "clatter")),
    "water_drop": (_water_drop, ("plink", "plip", "bucket")),
    "river": (_river, ("river", "creek")),
    "stars_shining": (_stars, ("sparkle", "shimmer")),
    "lightning": (_lightning, ("crack", "distant")),
    "writing": (_writing, ("pencil", "pen")),
    "screaming": (_screaming, ("scream", "shriek")),
    "high_heels": (_high_heels, ("tile", "wood", "marble")),
    "wave": (_wave, ("surf", "shore")),
    "typing": (_typing, ("mechanical", "laptop")),
    "ambulance": (_ambulance, ("two_tone", "wail")),
    "dog_barking": (_dog_barking, ("woof", "big_dog", "yap")),
    "cars": (_cars, ("engine", "traffic")),
    "door_opening": (_door_opening, ("creak", "squeak")),
    "glass_breaking": (_glass_breaking, ("pane", "bottle")),
    "cat_meowing": (_cat_meowing, ("meow", "mew", "mrrow")),
    "cheer": (_cheer, ("stadium", "applause")),
    "fire": (_fire, ("campfire", "fireplace")),
    "helicopter": (_helicopter, ("hover", "fast")),
    "blender": (_blender, ("ice", "smoothie")),
}


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class SoundFile:
    """One synthesised variation: where it goes and what it is."""

    class_name: str
    index: int
    name: str

    @property
    def relpath(self) -> str:
        return f"{self.class_name}/{self.index + 1:02d}_{self.name}.ogg"


def effect_class_names() -> list[str]:
    """The classes that get sounds: every class of resources/classes.json but `otherwise`."""
    return [c.name for c in default_classes().effect_classes()]


def class_mode(class_name: str) -> SoundMode:
    sound = default_classes()[class_name].sound
    assert sound is not None, class_name
    return sound.mode


def variations(class_name: str) -> list[SoundFile]:
    try:
        _, names = RECIPES[class_name]
    except KeyError:
        raise KeyError(f"no synthesised sound for class {class_name!r}") from None
    return [SoundFile(class_name, i, name) for i, name in enumerate(names)]


def _rng(class_name: str, variation: int, seed: int) -> Rng:
    if seed < 0:
        raise ValueError("seed must not be negative")
    # crc32, not hash(): stable across runs and Python versions
    return np.random.default_rng([seed, zlib.crc32(class_name.encode()), variation])


def _finish(x: Signal, mode: str) -> Signal:
    """Remove DC, round off one-shot ends, and normalise to the library's loudness."""
    if mode == "loop":
        x = x - x.mean(axis=0)  # circular DC removal keeps the seam intact
    else:
        sos = signal.butter(2, 20.0, btype="highpass", fs=SR, output="sos")
        x = signal.sosfilt(sos, x, axis=0)
        fade = min(_n(0.05), len(x) // 4)
        ramp = np.cos(np.linspace(0.0, np.pi / 2, fade)) ** 2
        x[-fade:] = (x[-fade:].T * ramp).T
    peak = float(np.max(np.abs(x)))
    if peak <= 0:
        raise ValueError("recipe produced silence")
    gain = 10 ** (PEAK_DBFS / 20) / peak
    if mode == "loop":
        rms = float(np.sqrt(np.mean(x**2)))
        gain = min(gain, 10 ** (LOOP_RMS_DBFS / 20) / rms)
    return x * gain


def synthesize(class_name: str, variation: int = 0, seed: int = 0) -> npt.NDArray[np.float32]:
    """One variation of a class's sound: float32 at 48 kHz, shape (n,) mono or (n, 2) stereo.

    Deterministic: the same class, variation and seed always give the same samples.
    """
    recipe, names = RECIPES.get(class_name, (None, ()))
    if recipe is None:
        raise KeyError(f"no synthesised sound for class {class_name!r}")
    if not 0 <= variation < len(names):
        raise IndexError(f"{class_name} has variations 0..{len(names) - 1}, not {variation}")
    x = recipe(_rng(class_name, variation, seed), variation)
    return _finish(np.asarray(x, dtype=np.float64), class_mode(class_name)).astype(np.float32)


def encode_ogg(data: npt.NDArray[np.float32], serial: int) -> bytes:
    """OGG Vorbis bytes with a fixed stream serial number.

    libsndfile picks a random serial for every file, so the same audio would give different
    bytes on every run; pinning it keeps regenerated files byte-identical (clean git diffs).
    """
    buf = io.BytesIO()
    sf.write(buf, data, SR, format="OGG", subtype="VORBIS", compression_level=VORBIS_COMPRESSION)
    return _set_ogg_serial(buf.getvalue(), serial)


def _ogg_crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC_TABLE = _ogg_crc_table()


def _ogg_crc(data: bytes | bytearray) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return crc


def _set_ogg_serial(data: bytes, serial: int) -> bytes:
    """Rewrite every page's serial number and checksum (Ogg framing, RFC 3533)."""
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if out[pos : pos + 4] != b"OggS":
            raise ValueError(f"not an Ogg page at byte {pos}")
        nseg = out[pos + 26]
        size = 27 + nseg + sum(out[pos + 27 : pos + 27 + nseg])
        out[pos + 14 : pos + 18] = serial.to_bytes(4, "little")
        out[pos + 22 : pos + 26] = b"\0\0\0\0"
        out[pos + 22 : pos + 26] = _ogg_crc(out[pos : pos + size]).to_bytes(4, "little")
        pos += size
    return bytes(out)


def library_config(class_names: Iterable[str] | None = None) -> dict[str, object]:
    """library.json: the classes.json defaults for each class, plus the variation policy."""
    classes = {}
    for name in class_names or effect_class_names():
        sound = default_classes()[name].sound
        assert sound is not None
        attrs = sound.to_json()
        attrs.pop("enabled")  # on/off is the editor's choice per project, not the library's
        classes[name] = attrs | {"variation_policy": "round_robin"}
    return {"format": LIBRARY_FORMAT, "version": LIBRARY_VERSION, "classes": classes}


def generate_class(class_name: str, out_dir: Path, seed: int = 0) -> list[Path]:
    """Write every variation of one class under out_dir/<class>/; returns the files."""
    paths = []
    for item in variations(class_name):
        data = synthesize(class_name, item.index, seed)
        path = Path(out_dir) / item.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, encode_ogg(data, zlib.crc32(item.relpath.encode())))
        paths.append(path)
    return paths


def generate_library(
    out_dir: Path,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Synthesise the whole default library (or some classes) into out_dir.

    Writes <class>/<nn>_<name>.ogg for every variation, library.json and README.md (both always
    cover every class, so a partial rebuild keeps them whole). Returns every file written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name in classes or effect_class_names():
        paths += generate_class(name, out_dir, seed)
        if progress:
            progress(name)
    config = library_config()
    json_path = out_dir / "library.json"
    atomic_write_text(json_path, json.dumps(config, indent=1) + "\n")
    readme = out_dir / "README.md"
    atomic_write_text(readme, readme_text(seed))
    return [*paths, json_path, readme]


def readme_text(seed: int = 0) -> str:
    rows = []
    for name in effect_class_names():
        files = ", ".join(f"`{item.relpath.split('/', 1)[1]}`" for item in variations(name))
        rows.append(f"| {name} | {files} | {class_mode(name)} |")
    seed_arg = f" --seed {seed}" if seed else ""

    def span(mode: str) -> str:
        lo, hi = LENGTH_RANGES[mode]
        return f"{lo:g}-{hi:g} s"

    return f"""# Default sound library (synthetic placeholders)

Every sound here was **generated by code**, not recorded: `sfxstudio/demo/sounds.py` builds
each effect from noise, oscillators, resonators and envelopes, with fixed seeds, so the files
are reproducible sample for sample. They are placeholders that let the app, the demo and the
tests work out of the box; swap in a real library for real work. Regenerate them with

    python -m sfxstudio.demo.sounds --out sounds/{seed_arg}

All files are OGG Vorbis at 48 kHz. Loops ({span("loop")}) repeat seamlessly and sit around
{LOOP_RMS_DBFS:g} dBFS RMS; one-shots ({span("one_shot")}) and retriggered hits ({span("retrigger")})
peak at {PEAK_DBFS:g} dBFS. Ambiences are stereo with decorrelated channels; close single
sources (hits, voices) are mono.

## What is here

`library.json` holds each class's placement attributes (mode, gain, fades, loop crossfade,
retrigger interval and jitter, variation policy); they match the defaults in
`resources/classes.json`. Variations play in round-robin order.

| class | files | mode |
|---|---|---|
{chr(10).join(rows)}

## Using a real library

A sound library is any folder with the same layout:

    my_library/
      library.json          (optional: per-class attributes, same format as here)
      dog_barking/
        bark_close.wav
        bark_far.flac
      river/
        creek_loop.ogg
      ...

Folder names are class names; every audio file in a class folder (any format ffmpeg reads:
WAV, FLAC, OGG, MP3...) is one variation, decoded to 48 kHz on load. Attributes missing from
`library.json` (or a missing `library.json`) fall back to the defaults of
`resources/classes.json`. Point the app at it with `--library DIR` on the command line, or
choose the folder in the GUI's class panel.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sfxstudio.demo.sounds", description="Synthesise the default sound library."
    )
    parser.add_argument("--out", type=Path, default=SOUNDS, help="library folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--only", action="append", metavar="CLASS", help="rebuild just this class (repeatable)"
    )
    args = parser.parse_args(argv)
    names = effect_class_names()
    for name in args.only or []:
        if name not in names:
            parser.error(f"unknown class {name!r}; choose from {', '.join(names)}")
    if args.seed < 0:
        parser.error("--seed must not be negative")
    written = generate_library(
        args.out, args.seed, args.only, progress=lambda n: print(f"  {n}", file=sys.stderr)
    )
    size = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files ({size / 1e6:.2f} MB) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
