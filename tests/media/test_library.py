"""The sound library: folder layout, library.json attributes, lazy decoding, variation policies."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.classes import SoundAttributes, default_classes
from sfxstudio.core.errors import BadInputError
from sfxstudio.media import library as library_mod
from sfxstudio.media.library import SoundLibrary, library_json


@pytest.fixture
def lib_root(tmp_path: Path, make_sound) -> Path:
    root = tmp_path / "sounds"
    make_sound(root / "dog_barking" / "b_bark.ogg", seconds=0.2, rate=22050)
    make_sound(root / "dog_barking" / "a_bark.wav", seconds=0.3, rate=44100)
    make_sound(root / "dog_barking" / "c_bark.flac", seconds=0.25, rate=96000, channels=2)
    (root / "dog_barking" / "LICENSE.txt").write_text("CC0")
    make_sound(root / "dog_barking" / ".hidden.wav", seconds=0.1)
    make_sound(root / "river" / "flow.wav", seconds=0.4)
    make_sound(root / "my_own_class" / "thing.wav", seconds=0.1)
    (root / "empty_class").mkdir()
    (root / "glass_breaking").mkdir()
    (root / "glass_breaking" / "broken.wav").touch()  # 0 bytes
    return root


def write_config(root: Path, classes: dict) -> Path:
    path = root / "library.json"
    path.write_text(json.dumps({"format": "sfxstudio-library", "version": 1, "classes": classes}))
    return path


def test_load_lists_variations_and_reports_unreadable_files(lib_root):
    lib = SoundLibrary.load(lib_root)
    assert lib.root == lib_root
    assert lib.variations("dog_barking") == [
        "dog_barking/a_bark.wav",
        "dog_barking/b_bark.ogg",
        "dog_barking/c_bark.flac",
    ]
    assert lib.variations("river") == ["river/flow.wav"]
    assert lib.variations("glass_breaking") == []
    assert lib.variations("cheer") == []  # known class without a folder
    assert len(lib.problems) == 1
    assert "broken.wav" in lib.problems[0] and "empty" in lib.problems[0]


def test_class_names_app_order_then_extras(lib_root):
    names = SoundLibrary.load(lib_root).class_names()
    order = default_classes().names
    assert names == ["river", "dog_barking", "glass_breaking", "empty_class", "my_own_class"]
    assert order.index("river") < order.index("dog_barking") < order.index("glass_breaking")


def test_load_decodes_nothing(lib_root, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("decoded during load")

    monkeypatch.setattr(library_mod, "decode_audio", boom)
    lib = SoundLibrary.load(lib_root)
    assert len(lib.variations("dog_barking")) == 3


def test_attributes_default_to_the_class_defaults(lib_root):
    lib = SoundLibrary.load(lib_root)
    classes = default_classes()
    assert lib.attributes("dog_barking") == classes["dog_barking"].sound
    assert lib.attributes("river").mode == "loop"
    assert lib.attributes("my_own_class") == SoundAttributes()
    assert lib.attributes("otherwise").enabled is False
    assert lib.policy("dog_barking") == "round_robin"


def test_library_json_overrides_attributes_and_policy(lib_root):
    write_config(
        lib_root,
        {
            "dog_barking": {"gain_db": -9, "variation_policy": "random"},
            "my_own_class": {"mode": "loop", "crossfade": 0.2},
            "helicopter": {"gain_db": 3},
        },
    )
    lib = SoundLibrary.load(lib_root)
    dog = lib.attributes("dog_barking")
    assert dog.gain_db == -9.0
    assert dog.mode == default_classes()["dog_barking"].sound.mode  # untouched fields kept
    assert lib.policy("dog_barking") == "random"
    assert lib.attributes("my_own_class").mode == "loop"
    assert lib.attributes("my_own_class").crossfade == 0.2
    assert "helicopter" in lib.class_names() and lib.variations("helicopter") == []
    assert lib.attributes("helicopter").gain_db == 3.0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid json"),
        ('{"format": "something-else", "version": 1}', "not a sound library"),
        ('{"format": "sfxstudio-library", "version": 7, "classes": {}}', "newer"),
        ('{"format": "sfxstudio-library", "version": 1, "classes": []}', "classes"),
        (
            '{"format": "sfxstudio-library", "version": 1, "classes": {"river": {"volume": 3}}}',
            "unknown sound attribute",
        ),
        (
            '{"format": "sfxstudio-library", "version": 1, "classes": {"river": {"mode": "reverse"}}}',
            "mode must be",
        ),
        (
            '{"format": "sfxstudio-library", "version": 1,'
            ' "classes": {"river": {"variation_policy": "shuffle"}}}',
            "variation_policy",
        ),
    ],
)
def test_bad_library_json_names_the_file(lib_root, text, problem):
    (lib_root / "library.json").write_text(text)
    with pytest.raises(BadInputError) as err:
        SoundLibrary.load(lib_root)
    assert "library.json" in str(err.value)
    assert problem in str(err.value).lower()


def test_missing_root(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        SoundLibrary.load(tmp_path / "nowhere")


def test_library_json_helper_round_trips(lib_root):
    attrs = {"river": SoundAttributes(mode="loop", gain_db=-4.0)}
    (lib_root / "library.json").write_text(json.dumps(library_json(attrs, {"river": "first"})))
    lib = SoundLibrary.load(lib_root)
    assert lib.attributes("river") == attrs["river"]
    assert lib.policy("river") == "first"


# -- variation policies --------------------------------------------------------------------------


def test_round_robin_and_first(lib_root):
    lib = SoundLibrary.load(lib_root)
    files = lib.variations("dog_barking")
    assert [lib.pick_variation("dog_barking", i) for i in range(5)] == [
        files[0],
        files[1],
        files[2],
        files[0],
        files[1],
    ]
    write_config(lib_root, {"dog_barking": {"variation_policy": "first"}})
    lib = SoundLibrary.load(lib_root)
    assert {lib.pick_variation("dog_barking", i) for i in range(6)} == {files[0]}
    assert lib.pick_variation("cheer", 0) is None


def test_random_is_deterministic_and_uses_every_variation(lib_root):
    write_config(lib_root, {"dog_barking": {"variation_policy": "random"}})
    lib = SoundLibrary.load(lib_root)
    first = [lib.pick_variation("dog_barking", i, seed=1) for i in range(60)]
    again = [SoundLibrary.load(lib_root).pick_variation("dog_barking", i, seed=1) for i in range(60)]
    other = [lib.pick_variation("dog_barking", i, seed=2) for i in range(60)]
    assert first == again
    assert first != other
    counts = Counter(first)
    assert set(counts) == set(lib.variations("dog_barking"))
    assert min(counts.values()) >= 8  # roughly uniform, not stuck on one file


# -- samples ---------------------------------------------------------------------------------


def test_samples_are_48k_stereo_cached_and_read_only(lib_root):
    lib = SoundLibrary.load(lib_root)
    a = lib.samples("dog_barking/a_bark.wav")
    assert a.dtype == np.float32 and a.shape == (round(0.3 * 48000), 2)
    assert lib.samples("dog_barking/a_bark.wav") is a
    assert lib.samples(lib_root / "dog_barking" / "a_bark.wav") is a  # absolute path, same entry
    with pytest.raises(ValueError):
        a[0, 0] = 1.0
    c = lib.samples("dog_barking/c_bark.flac")
    assert c.shape == (round(0.25 * 48000), 2)


def test_samples_decode_once_across_threads(lib_root, monkeypatch):
    calls: list[Path] = []
    real = library_mod.decode_audio
    gate = threading.Barrier(8)

    def counting(path, rate):
        calls.append(Path(path))
        return real(path, rate)

    monkeypatch.setattr(library_mod, "decode_audio", counting)
    lib = SoundLibrary.load(lib_root)
    results: list[np.ndarray] = []

    def worker() -> None:
        gate.wait()
        results.append(lib.samples("river/flow.wav"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_samples_of_a_broken_file_raise_bad_input(lib_root):
    (lib_root / "river" / "fake.ogg").write_text("not audio" * 20)
    lib = SoundLibrary.load(lib_root)
    with pytest.raises(BadInputError) as err:
        lib.samples("river/fake.ogg")
    assert "fake.ogg" in str(err.value)


def test_validate_decodes_everything_and_drops_broken_files(lib_root):
    (lib_root / "river" / "fake.ogg").write_text("not audio" * 20)
    lib = SoundLibrary.load(lib_root)
    assert "river/fake.ogg" in lib.variations("river")
    new = lib.validate()
    assert len(new) == 1 and "fake.ogg" in new[0]
    assert lib.variations("river") == ["river/flow.wav"]
    assert len(lib.problems) == 2  # the empty file found at load, plus this one
    assert [lib.pick_variation("river", i) for i in range(3)] == ["river/flow.wav"] * 3


def test_add_variation_copies_into_the_class_folder(lib_root, make_sound, tmp_path):
    lib = SoundLibrary.load(lib_root)
    source = make_sound(tmp_path / "elsewhere" / "flow.wav", seconds=0.2)
    rel = lib.add_variation("river", source)
    assert rel == "river/flow (2).wav"  # never overwrites the existing flow.wav
    assert (lib_root / rel).read_bytes() == source.read_bytes()
    assert lib.variations("river") == ["river/flow (2).wav", "river/flow.wav"]
    assert lib.samples(rel).shape == (round(0.2 * 48000), 2)
    rel2 = lib.add_variation("brand_new", source)
    assert rel2 == "brand_new/flow.wav" and "brand_new" in lib.class_names()


def test_add_variation_refuses_a_broken_file(lib_root, tmp_path):
    lib = SoundLibrary.load(lib_root)
    bad = tmp_path / "bad.wav"
    bad.write_text("nope" * 30)
    with pytest.raises(BadInputError):
        lib.add_variation("river", bad)
    assert not (lib_root / "river" / "bad.wav").exists()
    assert lib.variations("river") == ["river/flow.wav"]
