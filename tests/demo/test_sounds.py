"""The synthesised default library: reproducible code, and committed files that fit their class.

Synthesis tests run the recipes for a few quick classes; everything else reads the committed
files in sounds/, so what users actually hear is what is checked.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from sfxstudio.core.classes import SOUND_MODES, SoundAttributes, default_classes
from sfxstudio.core.paths import SOUNDS
from sfxstudio.demo import sounds

SR = sounds.SAMPLE_RATE
EFFECT_CLASSES = [c.name for c in default_classes().effect_classes()]
LIBRARY = json.loads((SOUNDS / "library.json").read_text(encoding="utf-8"))


def _files(class_name: str) -> list[Path]:
    return sorted((SOUNDS / class_name).glob("*.ogg"))


def _read(path: Path) -> np.ndarray:
    data, rate = sf.read(path, dtype="float64", always_2d=True)
    assert rate == SR, f"{path}: {rate} Hz"
    return data


def _mono(path: Path) -> np.ndarray:
    return _read(path).mean(axis=1)


# --------------------------------------------------------------------------- the code


@pytest.mark.parametrize(("class_name", "variation"), [("water_drop", 0), ("high_heels", 2), ("typing", 1)])
def test_synthesis_is_deterministic(class_name: str, variation: int) -> None:
    a = sounds.synthesize(class_name, variation, seed=0)
    b = sounds.synthesize(class_name, variation, seed=0)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    other = sounds.synthesize(class_name, variation, seed=1)
    assert not np.array_equal(a, other), "the seed must change the sound"


def test_variations_differ() -> None:
    a, b = (sounds.synthesize("dog_barking", v) for v in (0, 1))
    assert len(a) != len(b) or not np.allclose(a, b)


def test_encoding_is_byte_identical_and_decodes() -> None:
    data = sounds.synthesize("water_drop", 1)
    first = sounds.encode_ogg(data, serial=1234)
    assert first == sounds.encode_ogg(data, serial=1234), "Ogg serial numbers must be pinned"
    assert first[14:18] == (1234).to_bytes(4, "little")
    decoded, rate = sf.read(io.BytesIO(first), dtype="float32")
    assert rate == SR and len(decoded) == len(data)
    # lossy, but the same sound: strongly correlated with the source
    assert np.corrcoef(decoded, data)[0, 1] > 0.95


def test_generate_class_writes_every_variation(tmp_path: Path) -> None:
    paths = sounds.generate_class("high_heels", tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        v.relpath for v in sounds.variations("high_heels")
    ]
    for p in paths:
        assert p.read_bytes() == (SOUNDS / p.relative_to(tmp_path)).read_bytes(), (
            f"{p.name} differs from the committed file: rerun python -m sfxstudio.demo.sounds"
        )


def test_cli_rebuilds_one_class_with_full_library_json(tmp_path: Path) -> None:
    assert sounds.main(["--out", str(tmp_path), "--only", "water_drop"]) == 0
    assert sorted(p.name for p in (tmp_path / "water_drop").iterdir()) == [
        "01_plink.ogg",
        "02_plip.ogg",
        "03_bucket.ogg",
    ]
    written = json.loads((tmp_path / "library.json").read_text(encoding="utf-8"))
    assert written == LIBRARY
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == (SOUNDS / "README.md").read_text(
        encoding="utf-8"
    )


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="otherwise"):
        sounds.synthesize("otherwise")
    with pytest.raises(IndexError):
        sounds.synthesize("fire", 7)
    with pytest.raises(ValueError, match="seed"):
        sounds.synthesize("fire", 0, seed=-1)
    with pytest.raises(SystemExit):
        sounds.main(["--out", str(tmp_path), "--only", "unicorn"])


# --------------------------------------------------------------------------- committed files


def test_recipes_cover_exactly_the_effect_classes() -> None:
    assert set(sounds.RECIPES) == set(EFFECT_CLASSES)
    assert default_classes().otherwise not in sounds.RECIPES


@pytest.mark.parametrize("class_name", EFFECT_CLASSES)
def test_committed_files_decode_and_fit_their_mode(class_name: str) -> None:
    files = _files(class_name)
    assert len(files) >= 2, f"{class_name}: needs at least two variations"
    # the folder holds exactly what the code makes, so a rebuild reproduces the library
    assert [f.name for f in files] == [Path(v.relpath).name for v in sounds.variations(class_name)]
    mode = LIBRARY["classes"][class_name]["mode"]
    lo, hi = sounds.LENGTH_RANGES[mode]
    for path in files:
        x = _read(path)
        seconds = len(x) / SR
        assert lo <= seconds <= hi, f"{path.name}: {seconds:.2f} s for a {mode}"
        peak = float(np.max(np.abs(x)))
        assert peak <= 0.99, f"{path.name}: clips ({peak:.3f})"
        rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
        assert rms_db > -40, f"{path.name}: nearly silent ({rms_db:.1f} dBFS RMS)"
        if mode == "loop":
            assert x.shape[1] == 2, f"{path.name}: ambiences and loops are stereo"
            # the library's loudness target, give or take what the peak cap and Vorbis allow
            assert -30 < rms_db < -17, f"{path.name}: {rms_db:.1f} dBFS RMS"
        else:
            # hits and one-shots are peak-normalised (to -3 dBFS before encoding)
            assert peak > 0.5, f"{path.name}: peak {peak:.3f}"


@pytest.mark.parametrize("class_name", [c for c in EFFECT_CLASSES if LIBRARY["classes"][c]["mode"] == "loop"])
def test_loops_have_no_seam_click(class_name: str) -> None:
    for path in _files(class_name):
        x = _read(path)
        step = np.abs(np.diff(x, axis=0))
        seam = float(np.max(np.abs(x[0] - x[-1])))
        # wrapping from the last sample to the first is no bigger a jump than the sound's own
        assert seam <= 1.5 * float(np.percentile(step, 99.9)), f"{path.name}: seam jump {seam:.3f}"


@pytest.mark.parametrize("class_name", EFFECT_CLASSES)
def test_stereo_ambiences_are_decorrelated(class_name: str) -> None:
    for path in _files(class_name):
        x = _read(path)
        if x.shape[1] == 2 and LIBRARY["classes"][class_name]["mode"] == "loop":
            r = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
            assert r < 0.99, f"{path.name}: left and right are identical (r={r:.3f})"


def test_library_json_is_valid_and_matches_classes_json() -> None:
    assert LIBRARY["format"] == "sfxstudio-library" and LIBRARY["version"] == 1
    assert list(LIBRARY["classes"]) == EFFECT_CLASSES
    fields = {f.name for f in dataclasses.fields(SoundAttributes)}
    for name, attrs in LIBRARY["classes"].items():
        assert attrs["mode"] in SOUND_MODES
        assert attrs["variation_policy"] == "round_robin"
        plain = {k: v for k, v in attrs.items() if k != "variation_policy"}
        assert set(plain) <= fields
        assert set(plain) >= {"mode", "gain_db", "fade_in", "fade_out", "crossfade", "interval", "jitter"}
        parsed = SoundAttributes.from_json(plain)
        assert parsed == default_classes()[name].sound, f"{name}: differs from resources/classes.json"


def test_paper_modes() -> None:
    modes = {name: attrs["mode"] for name, attrs in LIBRARY["classes"].items()}
    for name in (
        "river",
        "wave",
        "fire",
        "cheer",
        "cars",
        "helicopter",
        "train_passing",
        "blender",
        "ambulance",
    ):
        assert modes[name] == "loop", name
    for name in ("screaming", "glass_breaking", "door_opening", "lightning"):
        assert modes[name] == "one_shot", name
    for name in ("dog_barking", "high_heels", "water_drop", "cat_meowing"):
        assert modes[name] == "retrigger", name
        attrs = LIBRARY["classes"][name]
        longest = max(len(_read(p)) for p in _files(name)) / SR
        # a hit should mostly finish before the earliest next one starts
        assert longest <= attrs["interval"] - attrs["jitter"] + 0.5, name


def test_readme_lists_every_file_and_the_command() -> None:
    text = (SOUNDS / "README.md").read_text(encoding="utf-8")
    assert "python -m sfxstudio.demo.sounds" in text and "--library" in text
    for name in EFFECT_CLASSES:
        assert f"| {name} |" in text
        for path in _files(name):
            assert path.name in text


# --------------------------------------------------------------------------- recognisable?


def _dominant_freqs(x: np.ndarray, seconds: float = 0.05) -> np.ndarray:
    nper = round(seconds * SR)
    f, _, z = signal.stft(x, SR, nperseg=nper, noverlap=nper // 2, boundary=None)
    return f[np.argmax(np.abs(z), axis=0)]


@pytest.mark.parametrize("path", _files("ambulance"), ids=lambda p: p.name)
def test_siren_sweeps_between_500_and_1600_hz(path: Path) -> None:
    dom = _dominant_freqs(_mono(path), 0.085)
    inside = np.mean((dom > 450) & (dom < 1700))
    assert inside > 0.9, f"dominant frequency outside the siren band {1 - inside:.0%} of the time"
    lo, hi = np.percentile(dom, [10, 90])
    assert hi - lo > 150, f"no sweep: {lo:.0f}..{hi:.0f} Hz"
    # it moves back and forth, not once: many changes of direction over the loop
    assert np.count_nonzero(np.abs(np.diff(dom)) > 50) >= 4


@pytest.mark.parametrize("path", _files("helicopter"), ids=lambda p: p.name)
def test_helicopter_thumps_at_4_to_10_hz(path: Path) -> None:
    x = _mono(path)
    env = signal.sosfilt(signal.butter(2, 40, fs=SR, output="sos"), np.abs(x))[::240]  # 200 Hz
    env = env - env.mean()
    spec = np.abs(np.fft.rfft(env * np.hanning(len(env))))
    f = np.fft.rfftfreq(len(env), 1 / 200)
    band = (f > 1) & (f < 40)
    peak = f[band][np.argmax(spec[band])]
    assert 4 <= peak <= 10, f"envelope periodicity {peak:.1f} Hz"
    assert spec[band].max() > 8 * np.median(spec[band]), "the blade rhythm is not strong"


@pytest.mark.parametrize("path", _files("typing"), ids=lambda p: p.name)
def test_typing_has_many_short_transients(path: Path) -> None:
    x = _mono(path)
    hp = signal.sosfilt(signal.butter(2, 1000, "highpass", fs=SR, output="sos"), x)
    env = np.sqrt(np.convolve(hp**2, np.ones(48) / 48, "same"))  # 1 ms RMS
    peaks, _ = signal.find_peaks(env, height=0.15 * env.max(), distance=round(0.04 * SR))
    rate = len(peaks) / (len(x) / SR)
    assert rate >= 4, f"{rate:.1f} keystrokes per second"
    # short: the clicks occupy a small part of the time
    assert np.mean(env > 0.15 * env.max()) < 0.2


@pytest.mark.parametrize("path", _files("water_drop"), ids=lambda p: p.name)
def test_water_drop_pitch_rises_then_decays(path: Path) -> None:
    x = _mono(path)
    nper = 1024
    f, t, z = signal.stft(x, SR, nperseg=nper, noverlap=nper - 64, boundary=None)
    mag = np.abs(z)
    mag[f < 300] = 0
    dom = f[np.argmax(mag, axis=0)]
    early = dom[(t > 0.012) & (t < 0.025)].mean()
    late = dom[(t > 0.06) & (t < 0.1)].mean()
    assert late > 1.3 * early, f"pitch {early:.0f} -> {late:.0f} Hz"
    level = np.sqrt(np.mean(x[: round(0.1 * SR)] ** 2)), np.sqrt(np.mean(x[-round(0.1 * SR) :] ** 2))
    assert level[1] < 0.05 * level[0], "a plink dies away"


@pytest.mark.parametrize("path", _files("wave"), ids=lambda p: p.name)
def test_wave_swells_and_brightens_at_the_crest(path: Path) -> None:
    x = _mono(path)
    win = round(0.5 * SR)
    frames = x[: len(x) // win * win].reshape(-1, win)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    assert 20 * np.log10(rms.max() / rms.min()) > 8, "no swell"
    f = np.fft.rfftfreq(win, 1 / SR)
    spectra = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    centroid = (spectra * f).sum(axis=1) / spectra.sum(axis=1)
    assert centroid[np.argmax(rms)] > 1.5 * centroid[np.argmin(rms)], "the low-pass should open at the crest"


@pytest.mark.parametrize("path", _files("lightning"), ids=lambda p: p.name)
def test_thunder_rumbles_low_after_the_crack(path: Path) -> None:
    x = _mono(path)
    tail = x[round(0.6 * SR) : round(2.0 * SR)]
    spec = np.abs(np.fft.rfft(tail)) ** 2
    f = np.fft.rfftfreq(len(tail), 1 / SR)
    assert spec[f < 250].sum() > 0.7 * spec.sum(), "the rumble is low"
    onset = np.argmax(np.abs(x) > 0.5 * np.abs(x).max()) / SR
    assert onset < 0.3, "the strike comes first"
    first, last = x[:SR], x[-round(0.7 * SR) :]
    assert np.sqrt(np.mean(first**2)) > 3 * np.sqrt(np.mean(last**2)), "the rumble dies away"
