"""Signal-processing building blocks for the synthesised sound library (sfxstudio.demo.recipes).

Oscillators, noise, filters, envelopes, reverb and placement, all on float64 numpy arrays at the
mix rate. Everything a loop needs is loop-safe: circular filtering, whole cycles per loop,
events that wrap around to the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import fft as sp_fft
from scipy import signal

from sfxstudio.media.audio_io import MIX_RATE

SR = MIX_RATE

Signal = npt.NDArray[np.float64]
Rng = np.random.Generator


# --------------------------------------------------------------------------- timing and oscillators


def samples(seconds: float) -> int:
    return round(seconds * SR)


def times(n: int) -> Signal:
    return np.arange(n) / SR


def snap_freq(freq: float, seconds: float) -> float:
    """The nearest frequency with a whole number of cycles in `seconds` (seamless loops)."""
    return max(1.0, round(freq * seconds)) / seconds


def running_phase(freq: Signal, loop: bool) -> Signal:
    """Running phase in cycles of a (time-varying) frequency, starting at 0.

    For a loop the frequency curve is scaled by a hair so the total is a whole number of cycles,
    which makes the oscillator and all its harmonics continue smoothly across the seam.
    """
    if loop:
        cycles = float(freq.sum()) / SR
        freq = freq * (max(1.0, round(cycles)) / cycles)
    return (np.cumsum(freq) - freq) / SR


def saw(phase: Signal, freq: Signal) -> Signal:
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


def harmonics(phase: Signal, amps: Sequence[float], phases: Sequence[float] | None = None) -> Signal:
    out = np.zeros_like(phase)
    for k, a in enumerate(amps, start=1):
        if a:
            p0 = phases[k - 1] if phases is not None else 0.0
            out += a * np.sin(2 * np.pi * (k * phase + p0))
    return out


def fft_freqs(n: int) -> Signal:
    return np.asarray(np.fft.rfftfreq(n, 1.0 / SR), dtype=np.float64)


def spectral_filter(x: Signal, gain: Callable[[Signal], Signal], pad: int = 0) -> Signal:
    """Zero-phase filtering in the frequency domain.

    Without `pad` it is circular, which is exactly what a loop wants (the filtered noise wraps);
    one-shots pass a pad so the filter's tails do not wrap onto the start.
    """
    n = len(x)
    if pad:
        x = np.concatenate([x, np.zeros(sp_fft.next_fast_len(n + pad) - n)])
    spec = np.fft.rfft(x)
    spec *= gain(fft_freqs(len(x)))
    return np.fft.irfft(spec, n=len(x))[:n]


def band(f: Signal, lo: float | None = None, hi: float | None = None, order: int = 2) -> Signal:
    """Butterworth magnitude response (high-pass at lo, low-pass at hi)."""
    g = np.ones_like(f)
    if hi:
        g /= np.sqrt(1.0 + (f / hi) ** (2 * order))
    if lo:
        g /= np.sqrt(1.0 + (lo / np.maximum(f, 1e-3)) ** (2 * order))
    return g


def pink(f: Signal) -> Signal:
    # -3 dB/octave: natural noises (water, wind, crowds) have more energy low than white noise
    return 1.0 / np.sqrt(np.maximum(f, 20.0) / 1000.0)


def formant_peaks(f: Signal, formants: Iterable[tuple[float, float, float]]) -> Signal:
    """Sum of resonance peaks (centre Hz, bandwidth Hz, gain): a vowel's spectral envelope."""
    g = np.zeros_like(f)
    for fc, bw, a in formants:
        g += a / (1.0 + ((f - fc) / (bw / 2.0)) ** 2)
    return g


def noise(rng: Rng, n: int, gain: Callable[[Signal], Signal], pad: int = 0) -> Signal:
    """Coloured noise with unit RMS (circular unless padded)."""
    y = spectral_filter(rng.standard_normal(n), gain, pad)
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def wobble_curve(rng: Rng, n: int, rate_hz: float) -> Signal:
    """A smooth random curve (unit RMS, zero mean) varying at up to rate_hz.

    Periodic over n when n is FFT-friendly, which loop lengths always are (whole tenths of a
    second at 48 kHz); other lengths are computed on a fast FFT size and cut, as prime-sized
    FFTs are orders of magnitude slower.
    """
    m = sp_fft.next_fast_len(n)
    y = spectral_filter(rng.standard_normal(m), lambda f: np.exp(-0.5 * (f / rate_hz) ** 2) * (f > 0))[:n]
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def sine_lfo(n: int, cycles: int, phase: float = 0.0) -> Signal:
    """A sine with a whole number of cycles over n samples (loop-safe modulation)."""
    return np.sin(2 * np.pi * (cycles * np.arange(n) / n + phase))


def exp_decay(n: int, tau: float, attack: float = 0.0) -> Signal:
    t = times(n)
    env = np.exp(-t / tau)
    if attack > 0:
        env *= 1.0 - np.exp(-t / (attack / 3.0))
    return env


def place(buf: Signal, sig: Signal, pos: int, wrap: bool) -> None:
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


def pan(p: float) -> tuple[float, float]:
    """Equal-power pan gains for p in [-1 (left), 1 (right)]."""
    a = (np.clip(p, -1.0, 1.0) + 1.0) * np.pi / 4.0
    return float(np.cos(a)), float(np.sin(a))


def resonate(x: Signal, freq: float, q: float) -> Signal:
    """A causal two-pole resonator: a struck object rings on after the hit (no pre-echo)."""
    b, a = signal.iirpeak(min(freq, SR * 0.45), q, fs=SR)
    return signal.lfilter(b, a, x)


def causal_filter(x: Signal, kind: str, freq: float | tuple[float, float], order: int = 2) -> Signal:
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


def room_ir(rng: Rng, seconds: float, bright: float = 6000.0) -> Signal:
    """A small diffuse room: exponentially decaying, gently low-passed noise."""
    m = samples(seconds)
    ir = rng.standard_normal(m) * np.exp(-6.9 * times(m) / seconds)  # -60 dB at `seconds`
    ir = causal_filter(ir, "lowpass", bright, 1)
    ir[: samples(0.004)] = 0.0  # a short pre-delay keeps the dry attack clear
    return ir / np.sqrt(np.sum(ir**2))


def reverb(x: Signal, ir: Signal, wet: float, loop: bool) -> Signal:
    if loop:
        # circular convolution: the tail of the end of the loop rings into its start
        spec = np.fft.rfft(x) * np.fft.rfft(ir, n=len(x))
        tail = np.fft.irfft(spec, n=len(x))
    else:
        tail = signal.fftconvolve(x, ir)[: len(x)]
    return x + wet * tail


def stereo(left: Signal, right: Signal) -> Signal:
    return np.stack([left, right], axis=1)


def noise_burst(rng: Rng, n: int, lo: float, hi: float, tau: float, attack: float = 0.0) -> Signal:
    """Band-passed noise burst with an exponential decay (clicks, scrapes, claps)."""
    burst = rng.standard_normal(n) * exp_decay(n, tau, attack)
    return causal_filter(burst, "bandpass", (lo, min(hi, SR * 0.45)), 2)


def voiced_source(
    rng: Rng, f0: Signal, breath: float, rough: float = 0.0, vibrato: float = 0.0, vib_rate: float = 5.5
) -> Signal:
    """A voiced source: band-limited saw on a pitch curve, plus breath noise and roughness."""
    n = len(f0)
    f = f0 * (1.0 + vibrato * np.sin(2 * np.pi * vib_rate * times(n)) + 0.006 * wobble_curve(rng, n, 8.0))
    ph = running_phase(f, loop=False)
    src = saw(ph, f)
    if rough:
        # period doubling (alternate cycles louder) is what makes a voice sound strained
        src *= 1.0 + rough * np.sin(np.pi * ph)
    return src + breath * rng.standard_normal(n)


def formant_track(x: Signal, tracks: Sequence[tuple[Signal, float, float]]) -> Signal:
    """Time-varying formant filter via the STFT: tracks are (centre Hz per sample, bw, gain)."""
    nper = 1024
    f, frames, spec = signal.stft(x, fs=SR, nperseg=nper, noverlap=nper * 3 // 4)
    idx = np.clip((frames * SR).astype(int), 0, len(x) - 1)
    g = np.zeros((len(f), len(frames)))
    for fc, bw, a in tracks:
        g += a / (1.0 + ((f[:, None] - fc[idx][None, :]) / (bw / 2.0)) ** 2)
    _, y = signal.istft(spec * g, fs=SR, nperseg=nper, noverlap=nper * 3 // 4)
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def curve(n: int, points: Sequence[tuple[float, float]]) -> Signal:
    """Piecewise-linear curve through (fraction of length, value) points."""
    xs, ys = zip(*points, strict=True)
    return np.interp(np.arange(n) / n, xs, ys)


def ar_envelope(n: int, attack: float, release: float) -> Signal:
    t = times(n)
    return np.clip(np.minimum(t / attack, (n / SR - t) / release), 0.0, 1.0)
