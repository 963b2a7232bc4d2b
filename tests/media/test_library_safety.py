"""The sound library refuses bad library.json values, keeps every path inside its folder,
never lets a NaN sound into a mix and reports its problems as one-line warnings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError, collect_warnings, set_strict
from sfxstudio.core.segments import Segment
from sfxstudio.media import library as library_mod
from sfxstudio.media.library import OutsideLibraryError, SoundLibrary
from sfxstudio.media.render import placements_for

HEADER = '{"format": "sfxstudio-library", "version": 1, "classes": '


@pytest.fixture
def root(tmp_path: Path, make_sound: Any) -> Path:
    lib = tmp_path / "lib"
    make_sound(lib / "dog_barking" / "bark.wav", seconds=0.2)
    make_sound(lib / "river" / "flow.wav", seconds=0.2)
    # Things a hostile project might try to reach.
    make_sound(tmp_path / "secret.wav", seconds=0.2)
    make_sound(tmp_path / "lib_other" / "x.wav", seconds=0.2)  # shares the root's name as a prefix
    return lib


# ------------------------------------------------------------------ library.json corpus

# (the "classes" value or the whole document, words the one-line message must hold)
BAD_CONFIGS: list[tuple[str, tuple[str, ...]]] = [
    # the document itself
    ("[]", ("not a sound library",)),
    ('"text"', ("not a sound library",)),
    ("null", ("not a sound library",)),
    ('{"format": "sfxstudio-library"}', ("version",)),
    ('{"format": "sfxstudio-library", "version": "1"}', ("version", "'1'")),
    ('{"format": "sfxstudio-library", "version": true}', ("version", "True")),
    ('{"format": "sfxstudio-library", "version": 1.0}', ("version", "1.0")),
    ('{"format": "sfxstudio-library", "version": 0}', ("version", "0")),
    ('{"format": "sfxstudio-library", "version": -3}', ("version",)),
    ('{"format": "sfxstudio-library", "version": 99}', ("newer",)),
    ('{"format": "sfxstudio-library", "version": 1, "classes": 3}', ("classes", "a number")),
    ('{"format": "sfxstudio-library", "version": 1, "classes": "river"}', ("classes", "text")),
    ('{"format": "sfxstudio-library", "version": 1, "classes": null}', ("classes", "null")),
    ('{"format": "sfxstudio-library", "version": 1, "classes": [{"river": {}}]}', ("classes", "a list")),
    ('{"format": "sfxstudio-library", "version": 1, "classes": {}', ("not valid json",)),
    # an entry is an object
    (HEADER + '{"river": []}}', ("'river'", "object", "a list")),
    (HEADER + '{"river": "loop"}}', ("'river'", "object", "text")),
    (HEADER + '{"river": 3}}', ("'river'", "object", "a number")),
    (HEADER + '{"river": null}}', ("'river'", "object", "null")),
    (HEADER + '{"river": true}}', ("'river'", "object")),
    # class names that would make paths
    (HEADER + '{"../river": {}}}', ("class name", "'../river'")),
    (HEADER + '{"a/b": {}}}', ("class name", "'a/b'")),
    (HEADER + '{"a\\\\b": {}}}', ("class name",)),
    (HEADER + '{"..": {}}}', ("class name", "'..'")),
    (HEADER + '{".": {}}}', ("class name",)),
    (HEADER + '{"": {}}}', ("class name",)),
    (HEADER + '{" river": {}}}', ("class name",)),
    # attribute values: the class, the field and the value
    (HEADER + '{"river": {"gain_db": NaN}}}', ("'river'", "gain_db", "nan")),
    (HEADER + '{"river": {"gain_db": Infinity}}}', ("'river'", "gain_db", "inf")),
    (HEADER + '{"river": {"gain_db": -Infinity}}}', ("'river'", "gain_db", "-inf")),
    (HEADER + '{"river": {"gain_db": 1e999}}}', ("'river'", "gain_db", "inf")),
    (HEADER + '{"river": {"gain_db": 1000}}}', ("'river'", "gain_db", "1000")),
    (HEADER + '{"river": {"gain_db": -200}}}', ("'river'", "gain_db", "-200")),
    (HEADER + '{"river": {"gain_db": "-3"}}}', ("'river'", "gain_db", "'-3'")),
    (HEADER + '{"river": {"gain_db": null}}}', ("'river'", "gain_db", "None")),
    (HEADER + '{"river": {"gain_db": [3]}}}', ("'river'", "gain_db")),
    (HEADER + '{"river": {"fade_in": -1}}}', ("'river'", "fade_in", "-1")),
    (HEADER + '{"river": {"fade_in": NaN}}}', ("'river'", "fade_in", "nan")),
    (HEADER + '{"river": {"fade_out": 1e9}}}', ("'river'", "fade_out")),
    (HEADER + '{"river": {"fade_out": false}}}', ("'river'", "fade_out", "False")),
    (HEADER + '{"river": {"crossfade": -0.25}}}', ("'river'", "crossfade", "-0.25")),
    (HEADER + '{"river": {"crossfade": Infinity}}}', ("'river'", "crossfade")),
    (HEADER + '{"river": {"interval": 1e-7}}}', ("'river'", "interval", "1e-07")),
    (HEADER + '{"river": {"interval": 0}}}', ("'river'", "interval", "0")),
    (HEADER + '{"river": {"interval": -2}}}', ("'river'", "interval", "-2")),
    (HEADER + '{"river": {"interval": NaN}}}', ("'river'", "interval", "nan")),
    (HEADER + '{"river": {"interval": 1e12}}}', ("'river'", "interval")),
    (HEADER + '{"river": {"jitter": -0.1}}}', ("'river'", "jitter", "-0.1")),
    (HEADER + '{"river": {"interval": 0.5, "jitter": 0.9}}}', ("'river'", "jitter", "0.9")),
    (HEADER + '{"river": {"jitter": NaN}}}', ("'river'", "jitter", "nan")),
    (HEADER + '{"river": {"enabled": "false"}}}', ("'river'", "enabled", "'false'")),
    (HEADER + '{"river": {"enabled": 0}}}', ("'river'", "enabled", "0")),
    (HEADER + '{"river": {"enabled": null}}}', ("'river'", "enabled")),
    (HEADER + '{"river": {"mode": "reverse"}}}', ("'river'", "mode", "'reverse'")),
    (HEADER + '{"river": {"mode": 2}}}', ("'river'", "mode", "2")),
    (HEADER + '{"river": {"mode": null}}}', ("'river'", "mode")),
    (HEADER + '{"river": {"volume": 3}}}', ("'river'", "unknown", "volume")),
    (HEADER + '{"river": {"variation_policy": "shuffle"}}}', ("'river'", "variation_policy", "'shuffle'")),
    (HEADER + '{"river": {"variation_policy": 1}}}', ("'river'", "variation_policy", "1")),
    (HEADER + '{"river": {"variation_policy": ["first"]}}}', ("'river'", "variation_policy")),
    (HEADER + '{"river": {"variation_policy": {}}}}', ("'river'", "variation_policy")),
]


@pytest.mark.parametrize(("text", "words"), BAD_CONFIGS)
def test_bad_library_json_is_one_line_naming_file_class_field_and_value(
        root: Path, text: str, words: tuple[str, ...]) -> None:
    (root / "library.json").write_text(text)
    with pytest.raises(BadInputError) as err:
        SoundLibrary.load(root)
    message = str(err.value)
    assert message.startswith(str(root / "library.json") + ": ")
    assert "\n" not in message and "Traceback" not in message and len(message) < 400
    for word in words:
        assert word.lower() in message.lower(), (word, message)


def test_a_good_library_json_still_loads(root: Path) -> None:
    (root / "library.json").write_text(HEADER + json.dumps(
        {"river": {"mode": "loop", "gain_db": -48, "interval": 0.01, "jitter": 0.01, "enabled": False,
                   "variation_policy": "first"}}) + "}")
    lib = SoundLibrary.load(root)
    assert lib.attributes("river") == SoundAttributes(mode="loop", gain_db=-48.0, fade_in=0.8, fade_out=0.8,
                                                      crossfade=0.25, interval=0.01, jitter=0.01,
                                                      enabled=False)
    assert lib.policy("river") == "first"


# ------------------------------------------------------------------ paths stay inside

ESCAPES = [
    "../secret.wav",
    "dog_barking/../../secret.wav",
    "./../secret.wav",
    "river/./../../secret.wav",
    "..",
    ".",
    "../lib_other/x.wav",
    "C:/secret.wav",
    "c:secret.wav",
    "dog_barking\\..\\..\\secret.wav",
    "\\secret.wav",
]


@pytest.mark.parametrize("rel", ESCAPES)
def test_relative_escapes_are_refused_before_anything_is_read(
        root: Path, rel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = SoundLibrary.load(root)
    monkeypatch.setattr(library_mod, "decode_audio", lambda *a, **k: pytest.fail("a file was decoded"))
    with pytest.raises(OutsideLibraryError) as err:
        lib.samples(rel)
    assert isinstance(err.value, BadInputError)
    assert "outside the sound library folder" in str(err.value) and rel in str(err.value)
    with pytest.raises(OutsideLibraryError):
        lib.resolve(rel)


def test_absolute_paths_outside_the_folder_are_refused(root: Path, tmp_path: Path) -> None:
    lib = SoundLibrary.load(root)
    for path in (tmp_path / "secret.wav", tmp_path / "lib_other" / "x.wav", Path("/etc/passwd"),
                 root / ".." / "secret.wav", root, root / "dog_barking" / ".." / ".." / "secret.wav"):
        with pytest.raises(OutsideLibraryError, match="outside the sound library folder"):
            lib.samples(str(path))
        with pytest.raises(OutsideLibraryError):
            lib.samples(path)  # a Path as well as text


@pytest.mark.parametrize("bad", ["", "a\x00b.wav", 3, None, ["river/flow.wav"]])
def test_unusable_path_values_are_refused(root: Path, bad: Any) -> None:
    with pytest.raises(OutsideLibraryError):
        SoundLibrary.load(root).samples(bad)


def test_paths_inside_the_folder_still_work(root: Path) -> None:
    lib = SoundLibrary.load(root)
    a = lib.samples("river/flow.wav")
    assert a.shape[1] == 2 and a.shape[0] > 0
    assert lib.samples("./river/flow.wav").shape == a.shape
    assert lib.samples(str(root / "river" / "flow.wav")).shape == a.shape  # absolute but inside
    assert lib.resolve("river/flow.wav") == root / "river" / "flow.wav"


def test_a_project_cannot_make_the_render_read_outside_the_library(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """class_variations and a segment's variation come from the project: they stay inside."""
    lib = SoundLibrary.load(root)
    decoded: list[str] = []
    real = library_mod.decode_audio

    def spy(path: Any, *args: Any) -> np.ndarray:
        decoded.append(str(path))
        return real(path, *args)

    monkeypatch.setattr(library_mod, "decode_audio", spy)
    segs = [Segment("dog_barking", 0.0, 1.0), Segment("river", 0.0, 1.0, variation="../secret.wav"),
            Segment("river", 2.0, 3.0)]
    with collect_warnings() as lines:
        ps = placements_for(segs, lib, class_variations={"dog_barking": [str(tmp_path / "secret.wav")]})
    assert not any("secret" in d for d in decoded)
    assert [p.class_name for p in ps] == ["river"] and ps[0].start == 2.0
    assert len(lines) == 2 and all("outside the sound library folder" in line for line in lines)
    set_strict(True)
    try:
        with pytest.raises(BadInputError, match="outside the sound library folder"):
            placements_for(segs, lib)
    finally:
        set_strict(False)


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", ".", "", "a\\b", " lead", "x\x00y"])
def test_add_variation_refuses_class_names_that_make_paths(root: Path, tmp_path: Path, make_sound: Any,
                                                           name: str) -> None:
    src = make_sound(tmp_path / "incoming" / "new.wav", seconds=0.1)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(BadInputError, match="class name"):
        SoundLibrary.load(root).add_variation(name, src)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing created anywhere


# ------------------------------------------------------------------ NaN sounds


def test_a_sound_with_nan_samples_is_unusable(root: Path) -> None:
    import soundfile as sf

    x = np.full((4800, 1), 0.1, dtype=np.float32)
    x[100] = np.nan
    sf.write(str(root / "river" / "nan.wav"), x, 48000, subtype="FLOAT")
    y = np.full((4800, 1), 0.1, dtype=np.float32)
    y[7] = np.inf
    sf.write(str(root / "river" / "inf.wav"), y, 48000, subtype="FLOAT")
    lib = SoundLibrary.load(root)
    for name in ("nan.wav", "inf.wav"):
        with pytest.raises(BadInputError) as err:
            lib.samples(f"river/{name}")
        assert name in str(err.value) and "not finite" in str(err.value)
    with collect_warnings() as lines:
        problems = lib.validate()
    assert len(problems) == 2 and lib.variations("river") == ["river/flow.wav"]
    assert len(lines) == 2 and all("not finite" in line for line in lines)
    src = root.parent / "incoming_nan.wav"
    sf.write(str(src), x, 48000, subtype="FLOAT")
    with pytest.raises(BadInputError, match="not finite"):
        lib.add_variation("river", src)
    assert not (root / "river" / "incoming_nan.wav").exists()


# ------------------------------------------------------------------ warnings


def test_each_problem_file_is_a_warning_naming_it(root: Path) -> None:
    (root / "river" / "empty.wav").touch()
    with collect_warnings() as lines:
        lib = SoundLibrary.load(root)
    assert lines == [f"{root / 'river' / 'empty.wav'}: file is empty (0 bytes)"]
    assert len(lib.problems) == 1


def test_a_library_without_any_usable_sound_warns_naming_the_folder(tmp_path: Path, make_sound: Any) -> None:
    root = tmp_path / "nothing"
    (root / "river").mkdir(parents=True)
    (root / "river" / "README.txt").write_text("not a sound")
    make_sound(root / "otherwise" / "negative.wav", seconds=0.1)  # `otherwise` never plays
    with collect_warnings() as lines:
        SoundLibrary.load(root)
    assert len(lines) == 1 and lines[0].startswith(f"{root}: ") and "no usable sound" in lines[0]


def test_a_good_library_loads_without_warnings(root: Path) -> None:
    with collect_warnings() as lines:
        SoundLibrary.load(root)
    assert lines == []


def test_strict_turns_library_warnings_into_errors(root: Path, tmp_path: Path, strict: None) -> None:
    (root / "river" / "empty.wav").touch()
    with pytest.raises(BadInputError, match=r"empty\.wav: file is empty"):
        SoundLibrary.load(root)
    (tmp_path / "bare").mkdir()
    with pytest.raises(BadInputError, match="no usable sound"):
        SoundLibrary.load(tmp_path / "bare")


def test_the_shipped_library_is_clean() -> None:
    from sfxstudio.core.paths import SOUNDS

    if not (SOUNDS / "library.json").is_file():
        pytest.skip("no shipped library")
    with collect_warnings() as lines:
        lib = SoundLibrary.load(SOUNDS)
    assert lines == [] and lib.problems == []
    assert all(os.sep not in n and ".." not in n for n in lib.class_names())
