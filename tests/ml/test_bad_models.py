"""Bad model bundles: every broken bundle.json or model file is one BadInputError line naming the file.

A bundle is a file people share. Whatever is wrong with it (a field of the wrong JSON type, an
unknown preprocessing, a class name that reaches outside its folder, a truncated model, a Lambda
layer, an unknown custom layer, outputs that do not match the class list...) must give exactly one
short line "<file>: <problem>" and, through the CLI, exit status 2 without a traceback.

The corpus below builds each case from one tiny real bundle (built once per module) by editing a
copy; nothing here downloads or trains anything.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.ml import bundle_file, keras_file
from sfxstudio.ml.bundle import ModelBundle, read_bundle_json, validate_meta
from sfxstudio.ml.create import read_class_names
from sfxstudio.ml.registry import list_models
from tests.fixtures.models import make_bundle

CLASSES = ["fire", "river", "otherwise"]
GOOD_MAP = {"format": "sfxstudio-imagenet-map", "version": 1, "classes": {}, "notes": {}}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny valid bundle (3 classes, 32x32); tests copy it, never edit it."""
    return make_bundle(tmp_path_factory.mktemp("good"), classes=CLASSES)


@pytest.fixture()
def copy(good: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(good, dst)
    return dst


def _meta(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "bundle.json").read_text()))


def _write_meta(folder: Path, meta: Any) -> None:
    (folder / "bundle.json").write_text(json.dumps(meta))


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "\r" not in text, text
    assert len(text) < 300, text
    assert "Traceback" not in text and "Full object config" not in text, text
    return text


def _refused(folder: Path, where: Path, *parts: str) -> str:
    """Loading folder fails with one line naming `where` and containing every part."""
    with pytest.raises(BadInputError) as e:
        ModelBundle.load(folder, runtime="tf")
    text = _one_line(e.value)
    assert e.value.path == str(where), text
    assert text.startswith(f"{where}: "), text
    for part in parts:
        assert part in text, (part, text)
    return text


# --- a) bundle.json -------------------------------------------------------------------------------

_DROP = object()  # remove the field

# (field changes, words the message must contain: the field and, where shown, the value)
META_CASES: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"format": _DROP}, ("not an SFX Studio model",)),
    ({"format": "something-else"}, ("not an SFX Studio model", "something-else")),
    ({"format": ["sfxstudio-model"]}, ("not an SFX Studio model",)),
    ({"version": _DROP}, ("version", "None")),
    ({"version": "1"}, ("version", "'1'")),
    ({"version": 1.0}, ("version", "1.0")),
    ({"version": True}, ("version", "True")),
    ({"version": 0}, ("version", "0")),
    ({"version": -3}, ("version", "-3")),
    ({"version": 2}, ("newer SFX Studio", "2")),
    ({"version": [1]}, ("version",)),
    ({"kind": "onnx"}, ("kind", "onnx")),
    ({"kind": 3}, ("kind", "3")),
    ({"kind": ["keras"]}, ("kind",)),
    ({"kind": None}, ("kind", "None")),
    ({"classes": _DROP}, ("classes",)),
    ({"classes": []}, ("classes", "non-empty")),
    ({"classes": {"fire": 0, "otherwise": 1}}, ("classes",)),
    ({"classes": "fire,otherwise"}, ("classes",)),
    ({"classes": ["otherwise"]}, ("classes", "besides")),
    ({"classes": ["fire", "river", "rain"]}, ("classes", "otherwise")),
    ({"classes": ["fire", "fire", "otherwise"]}, ("classes", "repeat", "fire")),
    ({"classes": ["fire", 3, "otherwise"]}, ("classes[1]", "3")),
    ({"classes": ["fire", None, "otherwise"]}, ("classes[1]", "None")),
    ({"classes": ["../../etc", "river", "otherwise"]}, ("classes[0]", "../../etc")),
    ({"classes": ["a/b", "river", "otherwise"]}, ("classes[0]", "a/b")),
    ({"classes": ["a\\b", "river", "otherwise"]}, ("classes[0]",)),
    ({"classes": ["..", "river", "otherwise"]}, ("classes[0]", "'..'")),
    ({"classes": ["", "river", "otherwise"]}, ("classes[0]",)),
    ({"classes": [" fire", "river", "otherwise"]}, ("classes[0]", "' fire'")),
    ({"classes": ["fi\x00re", "river", "otherwise"]}, ("classes[0]",)),
    ({"classes": ["x" * 300, "river", "otherwise"]}, ("classes[0]",)),
    ({"classes": [f"c{i}" for i in range(1001)] + ["otherwise"]}, ("classes", "1002 entries")),
    ({"input_size": _DROP}, ("input_size", "None")),
    ({"input_size": [32]}, ("input_size", "[32]")),
    ({"input_size": [32, 32, 3]}, ("input_size",)),
    ({"input_size": {"width": 32, "height": 32}}, ("input_size",)),
    ({"input_size": "32x32"}, ("input_size", "32x32")),
    ({"input_size": [32.0, 32]}, ("input_size width", "32.0")),
    ({"input_size": ["32", 32]}, ("input_size width", "'32'")),
    ({"input_size": [True, 32]}, ("input_size width", "True")),
    ({"input_size": [0, 32]}, ("input_size width", "0")),
    ({"input_size": [-32, 32]}, ("input_size width", "-32")),
    ({"input_size": [4, 32]}, ("input_size width", "4")),
    ({"input_size": [32, 100000]}, ("input_size height", "100000")),
    ({"input_size": [32, 10**30]}, ("input_size height",)),
    ({"preprocessing": "magic"}, ("preprocessing", "magic")),
    ({"preprocessing": 5}, ("preprocessing", "5")),
    ({"preprocessing": None}, ("preprocessing", "None")),
    ({"preprocessing": ["unit"]}, ("preprocessing",)),
    ({"preprocessing_in_model": "yes"}, ("preprocessing_in_model", "yes")),
    ({"preprocessing_in_model": 1}, ("preprocessing_in_model", "1")),
    ({"supported_classes": ["dog_barking"]}, ("supported_classes", "dog_barking")),
    ({"supported_classes": "fire"}, ("supported_classes",)),
    ({"supported_classes": {"fire": True}}, ("supported_classes",)),
    ({"supported_classes": [1]}, ("supported_classes[0]", "1")),
    ({"unsupported_classes": ["dog_barking"]}, ("unsupported_classes", "dog_barking")),
    ({"embedding_layer": ""}, ("embedding_layer", "''")),
    ({"embedding_layer": 5}, ("embedding_layer", "5")),
    ({"embedding_layer": None}, ("embedding_layer", "None")),
    ({"embedding_layer": ["embedding"]}, ("embedding_layer",)),
    ({"name": 5}, ("name", "5")),
    ({"name": ["tiny"]}, ("name",)),
    ({"description": {"text": "x"}}, ("description",)),
    ({"backbone": 3}, ("backbone", "3")),
    ({"weights_source": []}, ("weights_source",)),
    ({"created": 20240101}, ("created", "20240101")),
    ({"training": [1, 2]}, ("training", "list")),
    ({"training": "trained"}, ("training", "str")),
    ({"training": {"model_version": "2"}}, ("training.model_version", "'2'")),
    ({"training": {"model_version": 0}}, ("training.model_version", "0")),
    ({"training": {"model_version": 1.5}}, ("training.model_version", "1.5")),
    ({"training": {"model_version": 10**12}}, ("training.model_version",)),
    ({"model_version": -1}, ("model_version", "-1")),
    ({"model_version": "two"}, ("model_version", "two")),
    ({"parent": 5}, ("parent",)),
    ({"parent": ["base"]}, ("parent", "list")),
    ({"parent": {"model_version": "x"}}, ("parent.model_version", "'x'")),
    ({"parent": {"name": 3}}, ("parent.name", "3")),
    ({"kind": "imagenet_mapped"}, ("mapping",)),
    ({"kind": "imagenet_mapped", "mapping": [1]}, ("mapping", "list")),
    ({"kind": "imagenet_mapped", "mapping": {"format": "x"}}, ("ImageNet mapping",)),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"version": 9}}, ("mapping version", "9")),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": []}}, ("'classes' must be an object",)),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": {"fire": [[5000, "x"]]}}},
     ("5000", "outside")),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": {"fire": [["3", "x"]]}}},
     ("fire", "not an [index, label] pair")),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": {"fire": [[3, "wrong label"]]}}},
     ("fire", "ImageNet class 3", "wrong label")),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": {"otherwise": []}}},
     ("otherwise", "not an effect class")),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": {"fire": "all"}}},
     ("fire", "list")),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"notes": ["x"]}}, ("notes",)),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"notes": {"fire": {"deep": 1}}}}, ("notes",)),
    ({"kind": "imagenet_mapped", "mapping": GOOD_MAP | {"classes": {"fire": [[0, "x" * 5000]]}}},
     ("fire", "ImageNet class 0")),
]


@pytest.mark.parametrize(("changes", "parts"), META_CASES, ids=[str(i) for i in range(len(META_CASES))])
def test_bad_bundle_json_fields_are_one_line_naming_the_field(
    copy: Path, changes: dict[str, Any], parts: tuple[str, ...]
) -> None:
    meta = _meta(copy)
    for key, value in changes.items():
        if value is _DROP:
            meta.pop(key, None)
        else:
            meta[key] = value
    _write_meta(copy, meta)
    _refused(copy, copy / "bundle.json", *parts)
    # The same check guards in-memory bundles (save_bundle, teach): no file, same message.
    with pytest.raises(BadInputError) as e:
        validate_meta(meta, "bundle.json")
    for part in parts:
        assert part in _one_line(e.value), (part, str(e.value))


# (raw bundle.json text or bytes, words the message must contain)
RAW_CASES: list[tuple[str | bytes, tuple[str, ...]]] = [
    ("", ("not valid JSON", "line 1")),
    ("{", ("not valid JSON",)),
    ('{"format": "sfxstudio-model", "classes": [}', ("not valid JSON", "line 1")),
    ("[1, 2]", ("not a JSON object", "list")),
    ('"sfxstudio-model"', ("not a JSON object", "str")),
    ("42", ("not a JSON object", "int")),
    ("null", ("not a JSON object", "NoneType")),
    ('{"format": "sfxstudio-model", "version": NaN}', ("NaN",)),
    ('{"format": "sfxstudio-model", "version": 1, "x": Infinity}', ("Infinity",)),
    ('{"format": "sfxstudio-model", "version": 1, "x": -Infinity}', ("Infinity",)),
    ('{"format": "sfxstudio-model", "version": 1, "x": 1e400}', ("1e400", "too large")),
    ("[" * 200_000 + "]" * 200_000, ("JSON",)),
    (b"\xff\xfe{}", ("not UTF-8",)),
    (b'{"format": "sfxstudio-model\x80"}', ("not UTF-8",)),
]


@pytest.mark.parametrize(("raw", "parts"), RAW_CASES, ids=[str(i) for i in range(len(RAW_CASES))])
def test_unreadable_bundle_json_is_one_line(copy: Path, raw: str | bytes, parts: tuple[str, ...]) -> None:
    target = copy / "bundle.json"
    if isinstance(raw, bytes):
        target.write_bytes(raw)
    else:
        target.write_text(raw)
    _refused(copy, target, *parts)


def test_a_valid_bundle_json_passes_and_keeps_its_values(good: Path) -> None:
    meta = read_bundle_json(good)
    assert meta["classes"] == CLASSES and meta["input_size"] == [32, 32]
    # The limits are inclusive: the smallest and largest input sizes are accepted.
    for size in ([8, 8], [2048, 2048], [8, 2048]):
        assert validate_meta(meta | {"input_size": size}, "b")["input_size"] == size
    assert validate_meta(meta | {"training": {"model_version": 3}, "parent": "base"}, "b")


def test_oversized_bundle_json_is_refused_without_reading_it(copy: Path) -> None:
    with open(copy / "bundle.json", "r+b") as f:  # sparse: 17 MiB on paper, nothing on disk
        f.truncate(bundle_file.MAX_BUNDLE_JSON_BYTES + 1)
    _refused(copy, copy / "bundle.json", str(bundle_file.MAX_BUNDLE_JSON_BYTES + 1), "at most")


def test_folder_problems_are_named(good: Path, tmp_path: Path) -> None:
    _refused(tmp_path / "nowhere", tmp_path / "nowhere", "does not exist")
    (tmp_path / "file").write_text("x")
    _refused(tmp_path / "file", tmp_path / "file", "not a model folder")
    shutil.copy(good / "model.keras", tmp_path / "model.keras")  # a model file given as the folder
    _refused(tmp_path / "model.keras", tmp_path / "model.keras", "not a model folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    _refused(empty, empty / "bundle.json", "missing")
    only_model = tmp_path / "only_model"
    only_model.mkdir()
    shutil.copy(good / "model.keras", only_model / "model.keras")
    _refused(only_model, only_model / "bundle.json", "missing")
    as_dir = tmp_path / "json_dir"
    (as_dir / "bundle.json").mkdir(parents=True)
    _refused(as_dir, as_dir / "bundle.json", "not a file")


# --- b) model files -------------------------------------------------------------------------------


def _rewrite_zip(path: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite model.keras entry by entry: change(name, data) -> new data, or None to drop it."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            new = change(name, data)
            if new is not None:
                z.writestr(name, new)


def _config_edit(edit: Callable[[str], str]) -> Callable[[str, bytes], bytes | None]:
    return lambda name, data: edit(data.decode()).encode() if name == "config.json" else data


def _save_model(folder: Path, build: Callable[[Any, Any], Any]) -> None:
    import keras

    inp = keras.Input((32, 32, 3), name="frames")
    build(keras, inp).save(folder / "model.keras")


def _lambda_model(keras: Any, inp: Any) -> Any:
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(4, name="embedding")(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))


def _lambda_activation_model(keras: Any, inp: Any) -> Any:
    x = keras.layers.GlobalAveragePooling2D()(inp)
    x = keras.layers.Dense(4, name="embedding", activation=lambda t: t * 2.0)(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))


def _two_output_model(keras: Any, inp: Any) -> Any:
    x = keras.layers.GlobalAveragePooling2D()(inp)
    e = keras.layers.Dense(4, name="embedding")(x)
    return keras.Model(inp, [keras.layers.Dense(3, activation="softmax")(e), e])


def _image_output_model(keras: Any, inp: Any) -> Any:
    x = keras.layers.Conv2D(3, 3, padding="same", activation="softmax", name="embedding")(inp)
    return keras.Model(inp, x)


def _image_embedding_model(keras: Any, inp: Any) -> Any:
    e = keras.layers.Conv2D(4, 3, padding="same", name="embedding")(inp)
    x = keras.layers.GlobalAveragePooling2D()(e)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))


def _two_input_model(keras: Any, inp: Any) -> Any:
    other = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Add()([inp, other]))
    e = keras.layers.Dense(4, name="embedding")(x)
    return keras.Model([inp, other], keras.layers.Dense(3, activation="softmax")(e))


def _wrong_input_model(keras: Any, inp: Any) -> Any:
    inp = keras.Input((48, 48, 3))
    e = keras.layers.Dense(4, name="embedding")(keras.layers.GlobalAveragePooling2D()(inp))
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(e))


def _truncate_half(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _truncate_tail(p: Path) -> None:
    p.write_bytes(p.read_bytes()[:-100])


def _replace_dir(p: Path) -> None:
    p.unlink()
    p.mkdir()


def _zip_with(entries: dict[str, bytes]) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        with zipfile.ZipFile(p, "w") as z:
            for name, data in entries.items():
                z.writestr(name, data)
    return write


def _corrupt_weights(p: Path) -> None:
    _rewrite_zip(p, lambda name, data: b"\x89HDF\r\n" + b"junk" * 50 if name.endswith(".h5") else data)


def _drop_weights(p: Path) -> None:
    _rewrite_zip(p, lambda name, data: None if name.endswith(".h5") else data)


def _custom_layer(p: Path) -> None:
    _rewrite_zip(p, _config_edit(lambda c: c.replace('"GlobalAveragePooling2D"', '"FancyPool"')))


def _custom_module(p: Path) -> None:
    _rewrite_zip(p, _config_edit(lambda c: c.replace('"keras.layers"', '"evil.payload"', 1)))


def _lambda_in_config(p: Path) -> None:
    # A Lambda layer written by hand into an otherwise genuine model (never reaches Keras).
    _rewrite_zip(p, _config_edit(lambda c: c.replace('"class_name": "Dropout"', '"class_name": "Lambda"')))


# (how to break model.keras, words the message must contain)
FILE_CASES: list[tuple[Callable[[Path], None], tuple[str, ...]]] = [
    (lambda p: p.unlink(), ("missing",)),
    (_replace_dir, ("not a file",)),
    (lambda p: p.write_bytes(b""), ("empty",)),
    (lambda p: p.write_text("this is not a model\n"), ("not a Keras model file",)),
    (lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 200), ("not a Keras model file",)),
    (_truncate_half, ("not a Keras model file",)),
    (_truncate_tail, ("model",)),
    (_zip_with({"hello.txt": b"hi"}), ("not a Keras model", "config.json")),
    (_zip_with({"config.json": b"{not json"}), ("damaged config.json",)),
    (_zip_with({"config.json": b"[1, 2]"}), ("config.json", "not a JSON object")),
    (_zip_with({"config.json": b"[" * 100_000 + b"]" * 100_000}), ("damaged config.json",)),
    (_zip_with({"config.json": b'{"class_name": "Functional"}', "metadata.json": b"{}"}), ("Keras model",)),
    (_zip_with({"config.json": b'{"class_name": "Sequential", "config": {"layers": [{"class_name": '
                b'"Lambda", "config": {}}]}}'}), ("contains code (a Lambda layer); refused",)),
    (_zip_with({"config.json": b'{"class_name": "MyLayer", "module": "evil", "config": {}}',
                "metadata.json": b'{"keras_version": "3.0.0"}'}), ("unknown layer", "MyLayer", "refused")),
    (_custom_layer, ("unknown layer", "FancyPool", "refused")),
    (_custom_module, ("unknown layer", "refused")),
    (_lambda_in_config, ("contains code (a Lambda layer); refused",)),
    (_corrupt_weights, ("model",)),
    (_drop_weights, ("model",)),
    (lambda p: _save_model(p.parent, _lambda_model), ("contains code (a Lambda layer); refused",)),
    # Keras 3 writes a lambda activation as bare bytecode; safe mode refuses to rebuild it.
    (lambda p: _save_model(p.parent, _lambda_activation_model), ("cannot be loaded as a Keras model",)),
    (lambda p: _save_model(p.parent, _two_output_model), ("2 outputs",)),
    (lambda p: _save_model(p.parent, _image_output_model), ("output", "not one row of class probabilities")),
    (lambda p: _save_model(p.parent, _image_embedding_model), ("embedding", "not one vector per frame")),
    (lambda p: _save_model(p.parent, _two_input_model), ("2 inputs",)),
    (lambda p: _save_model(p.parent, _wrong_input_model), ("input", "does not match input_size 32x32")),
]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("breaker", "parts"), FILE_CASES, ids=[str(i) for i in range(len(FILE_CASES))])
def test_bad_model_files_are_one_line_naming_the_file(
    copy: Path, breaker: Callable[[Path], None], parts: tuple[str, ...]
) -> None:
    breaker(copy / "model.keras")
    _refused(copy, copy / "model.keras", *parts)


@pytest.mark.parametrize(
    ("changes", "parts"),
    [
        ({"classes": ["fire", "otherwise"]}, ("3 outputs but bundle.json names 2 classes",)),
        ({"classes": ["fire", "river", "rain", "otherwise"]}, ("3 outputs but bundle.json names 4 classes",)),
        ({"input_size": [64, 64]}, ("does not match input_size 64x64",)),
        ({"embedding_layer": "penultimate"}, ("no layer named 'penultimate'",)),
        ({"embedding_layer": "backbone"}, ("'backbone'", "not one vector per frame")),
        ({"kind": "imagenet_mapped", "mapping": GOOD_MAP}, ("not an ImageNet-mapped model",)),
    ],
)
def test_model_that_does_not_match_bundle_json_is_named(
    copy: Path, changes: dict[str, Any], parts: tuple[str, ...]
) -> None:
    _write_meta(copy, _meta(copy) | changes)
    _refused(copy, copy / "model.keras", *parts)


def test_model_archive_larger_than_the_limit_is_refused_before_keras(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = sum(i.file_size for i in zipfile.ZipFile(copy / "model.keras").infolist())
    monkeypatch.setattr(keras_file, "MAX_MODEL_UNPACKED_BYTES", size - 1)
    _refused(copy, copy / "model.keras", f"unpacks to {size} bytes")
    monkeypatch.setattr(keras_file, "MAX_MODEL_UNPACKED_BYTES", size)
    assert ModelBundle.load(copy, runtime="tf").class_names == CLASSES


def test_damaged_weights_fail_at_predict_with_one_line_naming_the_model(copy: Path) -> None:
    import keras

    from tests.fixtures.models import build_color_model

    for poison, words in ((np.nan, "not finite"), (np.inf, "not finite"), (-50.0, "outside 0..1")):
        model = build_color_model(CLASSES)
        if np.isnan(poison) or np.isinf(poison):
            w, b = model.get_layer("probs").get_weights()
            model.get_layer("probs").set_weights([w, np.full_like(b, poison)])
        else:  # a linear head: "probabilities" that are not probabilities
            head = model.get_layer("probs")
            head.activation = keras.activations.linear
            w, b = head.get_weights()
            head.set_weights([w, np.full_like(b, poison)])
        model.save(copy / "model.keras")
        loaded = ModelBundle.load(copy, runtime="tf")
        with pytest.raises(BadInputError) as e:
            loaded.predict(np.zeros((2, 32, 32, 3), np.uint8))
        assert e.value.path == str(copy / "model.keras")
        assert words in _one_line(e.value)


def test_a_good_copy_of_the_fixture_loads_and_predicts(copy: Path) -> None:
    """The corpus edits a bundle that is itself valid (so every refusal is the edit's doing)."""
    b = ModelBundle.load(copy, runtime="tf")
    probs, emb = b.predict(np.zeros((2, 32, 32, 3), np.uint8))
    assert probs.shape == (2, 3) and emb.shape == (2, 32)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


# --- the model list and class lists ---------------------------------------------------


def test_model_list_warns_about_bad_bundles_and_lists_the_good(good: Path, tmp_path: Path) -> None:
    from sfxstudio.core.errors import collect_warnings, set_strict

    root = tmp_path / "models"
    shutil.copytree(good, root / "ok")
    shutil.copytree(good, root / "bad")
    _write_meta(root / "bad", _meta(root / "bad") | {"input_size": [32, "x"]})
    (root / "not_a_bundle").mkdir()  # no bundle.json: not a bundle, nothing to say
    with collect_warnings() as lines:
        found = list_models([root], builtin=False, beside_program=False)
    assert [e.folder.name for e in found] == ["ok"]
    assert len(lines) == 1 and lines[0].startswith(f"{root / 'bad' / 'bundle.json'}: input_size height")
    set_strict(True)
    try:
        with pytest.raises(BadInputError, match="input_size height"):
            list_models([root], builtin=False, beside_program=False)
    finally:
        set_strict(False)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('["fire", "../up", "otherwise"]', "'../up'"),
        ('["fire", "a/b", "otherwise"]', "'a/b'"),
        ('["fire", 3, "otherwise"]', "class 2"),
        ('["fire", "", "otherwise"]', "class 2"),
        ('["otherwise"]', "besides otherwise"),
        ("[" + ", ".join(f'"c{i}"' for i in range(1001)) + ', "otherwise"]', "at most 1000"),
        ('["fire", "otherwise", NaN]', "class 3"),
        ("[" * 100_000 + "]" * 100_000, "JSON"),
        ("42", "expected a JSON list"),
    ],
)
def test_bad_class_lists_for_model_create(tmp_path: Path, content: str, problem: str) -> None:
    f = tmp_path / "c.json"
    f.write_text(content)
    with pytest.raises(BadInputError, match=None) as e:
        read_class_names(str(f))
    assert e.value.path == str(f) and problem in _one_line(e.value)


# --- through the CLI: exit 2, one line, no traceback -------------------------------------------------


@pytest.fixture()
def video(make_video: Callable[..., Path]) -> Path:
    return make_video(seconds=0.5, fps=5, size=(64, 48))


CLI_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("bundle.json", lambda b: (b / "bundle.json").write_text("[1]"), "not a JSON object"),
    ("bundle.json", lambda b: _write_meta(b, _meta(b) | {"input_size": [32, 1e9]}), "input_size height"),
    ("bundle.json", lambda b: _write_meta(b, _meta(b) | {"classes": ["../x", "otherwise"]}), "classes[0]"),
    ("bundle.json", lambda b: _write_meta(b, _meta(b) | {"preprocessing": "magic"}), "preprocessing"),
    ("bundle.json", lambda b: (b / "bundle.json").unlink(), "missing"),
    ("model.keras", lambda b: _save_model(b, _lambda_model), "contains code (a Lambda layer); refused"),
    ("model.keras", lambda b: _custom_layer(b / "model.keras"), "unknown layer"),
    ("model.keras", lambda b: _truncate_half(b / "model.keras"), "not a Keras model file"),
    ("model.keras", lambda b: (b / "model.keras").write_bytes(b""), "empty"),
    ("model.keras", lambda b: _write_meta(b, _meta(b) | {"classes": ["fire", "otherwise"]}),
     "3 outputs but bundle.json names 2 classes"),
]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("file", "breaker", "words"), CLI_CASES, ids=[str(i) for i in range(len(CLI_CASES))])
def test_cli_analyze_with_a_bad_model_exits_2_with_one_line(
    copy: Path, video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    file: str, breaker: Callable[[Path], None], words: str,
) -> None:
    from sfxstudio.cli import main

    breaker(copy)
    out_wav = tmp_path / "out.wav"
    code = main(["analyze", str(video), "--model", str(copy), "--quiet", "--wav", str(out_wav)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("sfxstudio: error:")]
    assert errors == [line for line in err.splitlines() if line.strip()], err
    assert len(errors) == 1 and errors[0].startswith(f"sfxstudio: error: {copy / file}: "), err
    assert words in errors[0] and len(errors[0]) < 300
    assert not out_wav.exists()


def test_cli_analyze_with_a_file_as_the_model_folder(
    good: Path, video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sfxstudio.cli import main

    code = main(["analyze", str(video), "--model", str(good / "model.keras"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.strip() == (f"sfxstudio: error: {good / 'model.keras'}: is not a model folder "
                           "(expected a folder with bundle.json and model.keras)")


@pytest.mark.parametrize("runtime", ["tf", "lite"])
def test_cli_analyze_with_damaged_weights_exits_2_naming_the_model(
    copy: Path, video: Path, capsys: pytest.CaptureFixture[str], runtime: str
) -> None:
    """NaN weights load fine and only show when the model runs: still one line, exit 2."""
    from sfxstudio.cli import main
    from tests.fixtures.models import build_color_model

    model = build_color_model(CLASSES)
    w, b = model.get_layer("probs").get_weights()
    model.get_layer("probs").set_weights([w, np.full_like(b, np.nan)])
    model.save(copy / "model.keras")
    code = main(["analyze", str(video), "--model", str(copy), "--quiet", "--runtime", runtime])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert err.strip() == (f"sfxstudio: error: {copy / 'model.keras'}: gives numbers that are not finite "
                           "(NaN or infinity); its weights are damaged")


def test_a_bundle_saved_with_a_diverged_loss_still_loads(tmp_path: Path) -> None:
    """bundle.json refuses NaN on reading, so saving writes non-finite numbers as null."""
    import keras

    from sfxstudio.ml import backbones
    from sfxstudio.ml.bundle import save_bundle

    keras.utils.set_random_seed(0)
    model, _ = backbones.build_classifier("tiny", 3, (32, 32), weights="none")
    folder = save_bundle(model, tmp_path / "m", CLASSES, "tiny", "unit", (32, 32), "none",
                         training={"final_loss": float("nan"), "history": [1.5, float("inf")], "epochs": 2})
    assert "NaN" not in (folder / "bundle.json").read_text()
    loaded = ModelBundle.load(folder, runtime="tf")
    assert loaded.meta["training"] == {"final_loss": None, "history": [1.5, None], "epochs": 2}
