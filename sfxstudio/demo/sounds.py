"""The default sound library, synthesised: placeholder effects for every class, made by code.

Nobody recorded these; each recipe (sfxstudio.demo.recipes) builds a sound an editor recognises
by ear from noise, oscillators, resonators and envelopes (a siren is a swept tone, fire is pops
over a rumble...), with the building blocks of sfxstudio.demo.dsp.
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
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy import signal

from sfxstudio.core.atomic import atomic_write_bytes, atomic_write_text
from sfxstudio.core.classes import SoundMode, default_classes
from sfxstudio.core.paths import SOUNDS
from sfxstudio.demo.dsp import Rng, Signal, samples
from sfxstudio.demo.recipes import RECIPES
from sfxstudio.media.audio_io import MIX_RATE
from sfxstudio.media.library import LIBRARY_FILE, library_json

SAMPLE_RATE = MIX_RATE  # the library is stored at the rate the mix is rendered at

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
        sos = signal.butter(2, 20.0, btype="highpass", fs=SAMPLE_RATE, output="sos")
        x = signal.sosfilt(sos, x, axis=0)
        fade = min(samples(0.05), len(x) // 4)
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
    sf.write(buf, data, SAMPLE_RATE, format="OGG", subtype="VORBIS", compression_level=VORBIS_COMPRESSION)
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
    names = list(class_names or effect_class_names())
    attributes = {}
    for name in names:
        sound = default_classes()[name].sound
        assert sound is not None
        attributes[name] = sound
    # on/off is the editor's choice per project, not the library's
    return library_json(attributes, dict.fromkeys(names, "round_robin"), with_enabled=False)


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
    json_path = out_dir / LIBRARY_FILE
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
