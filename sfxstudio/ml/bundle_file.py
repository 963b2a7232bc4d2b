"""The bundle file: bundle.json read, validated and written (no TensorFlow here).

A model bundle is a folder with bundle.json (what the model is) and model.keras (the model).

bundle.json (DESIGN.md section 4):
    {"format": "sfxstudio-model", "version": 1, "name", "kind": "keras",
     "classes": [names in output order, including "otherwise"], "input_size": [w, h],
     "preprocessing": "resnet_v2" | "mobilenet_v3" | "efficientnet" | "efficientnet_lite" | "unit" | "raw",
     "preprocessing_in_model": true, "backbone", "weights_source", "embedding_layer",
     "supported_classes" (optional), "description", "training": {...}, "parent" (optional)}

Models made by SFX Studio take float32 RGB in 0..255 and do their preprocessing with Keras
layers inside the graph ("preprocessing_in_model": true); "preprocessing" records which.
A bundle made elsewhere may say "preprocessing_in_model": false, and then predict() applies the
named preprocessing before the model. model.keras is always loaded with safe_mode=True: a
bundle is a file people share, and it must not be able to run code (sfxstudio.ml.keras_file).

`read_bundle_json` is the one reader of bundle.json: the model list, the command line, the
window and ModelBundle.load all go through it. A kind's own fields are checked by its
BundleKind (sfxstudio.ml.kinds).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sfxstudio.core import validate
from sfxstudio.core.atomic import atomic_write_text
from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.ml import kinds

FORMAT = "sfxstudio-model"
VERSION = 1
BUNDLE_JSON = "bundle.json"
MODEL_FILE = "model.keras"
PREPROCESSING = ("resnet_v2", "mobilenet_v3", "efficientnet", "efficientnet_lite", "unit", "raw")

# Bounds on what bundle.json may ask for: a bundle is a file people share, and no field may
# make us allocate or loop in proportion to an untrusted number.
MAX_BUNDLE_JSON_BYTES = 16 << 20
MAX_CLASSES = 1000
MIN_INPUT_SIDE, MAX_INPUT_SIDE = 8, 2048
MAX_MODEL_VERSION = 1_000_000
MAX_TEXT = 100_000  # description, weights_source...
MAX_EMBEDDING = 1 << 16  # values per frame kept in the analysis
_MESSAGE_LIMIT = 200


def one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """The first line of a (library's) message, clipped: errors the user sees are one short line."""
    first = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


def _bad(where: Path | str, problem: str) -> BadInputError:
    return BadInputError(where, one_line(problem))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"{one_line(text, 40)} is too large a number")
    return x


def _json(text: str) -> Any:
    """json.loads refusing NaN, Infinity and numbers that overflow to infinity."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)


def parse_bundle_json(raw: bytes, where: Path) -> dict[str, Any]:
    """bundle.json's bytes -> its validated content (BadInputError naming `where` otherwise)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(where, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        meta = _json(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            where, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise _bad(where, f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad(where, "is not usable JSON (nested too deeply)") from None
    return validate_meta(meta, where)


def read_bundle_json(folder: str | Path) -> dict[str, Any]:
    """The one reader of a bundle folder's bundle.json: read, parse and validate it.

    Every problem is a one-line BadInputError naming the folder or bundle.json.
    """
    folder = Path(folder)
    if not folder.exists():
        raise BadInputError(folder, "model folder does not exist")
    if not folder.is_dir():
        raise BadInputError(
            folder, f"is not a model folder (expected a folder with {BUNDLE_JSON} and {MODEL_FILE})"
        )
    path = folder / BUNDLE_JSON
    if not path.exists():
        raise BadInputError(path, "is missing; a model folder needs bundle.json and model.keras")
    if not path.is_file():
        raise BadInputError(path, "is not a file")
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_JSON_BYTES:
            raise BadInputError(
                path, f"is {size} bytes; a bundle.json is at most {MAX_BUNDLE_JSON_BYTES} bytes"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_bundle_json(raw, path)


def _names(value: Any, field: str, max_len: int = MAX_CLASSES) -> list[str]:
    """A list of unique safe names (ValueError naming the field and the value otherwise)."""
    items = validate.array(value, field, max_len=max_len)
    names = [validate.safe_name(v, f"{field}[{i}]") for i, v in enumerate(items)]
    dupes = sorted({n for i, n in enumerate(names) if n in names[:i]}) if len(set(names)) < len(names) else []
    if dupes:
        raise ValueError(f"{field}: class names repeat: {', '.join(dupes)}")
    return names


def _model_version(value: Any, field: str) -> None:
    if value is not None:
        validate.integer(value, field, 1, MAX_MODEL_VERSION)


def validate_meta(meta: Any, where: Path | str) -> dict[str, Any]:
    """Check bundle.json's content: types, known values, finite numbers in range, bounded sizes.

    Returns meta; every problem is a one-line BadInputError naming `where` ("field: problem").
    """
    try:
        return _validate_meta(meta, where)
    except ValueError as exc:
        raise _bad(where, str(exc)) from None


def _validate_meta(meta: Any, where: Path | str) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise _bad(where, f"is not a JSON object (it is a {type(meta).__name__})")
    fmt = meta.get("format")
    if fmt != FORMAT:
        shown = fmt if isinstance(fmt, str | int | float | bool) or fmt is None else type(fmt).__name__
        raise _bad(where, f"is not an SFX Studio model (format is {shown!r}, not {FORMAT!r})")
    version = validate.integer(meta.get("version"), "version")
    if version > VERSION:
        raise _bad(
            where, f"was made by a newer SFX Studio (bundle version {version}, this one reads {VERSION})"
        )
    if version < 1:
        raise _bad(where, f"version: unknown bundle version {version}")
    kind = meta.get("kind", "keras")
    if not isinstance(kind, str) or kind not in kinds.names():
        raise _bad(where, f"kind: model kind {kind!r} is not supported (one of {', '.join(kinds.names())})")
    classes = meta.get("classes")
    if not isinstance(classes, list) or not classes:
        raise _bad(where, "classes: 'classes' must be a non-empty list of class names")
    names = _names(classes, "classes")
    if OTHERWISE not in names:
        raise _bad(where, f"classes: 'classes' must include {OTHERWISE!r} (frames with no effect)")
    if len(names) < 2:
        raise _bad(where, "classes: a model needs at least one effect class besides 'otherwise'")
    size = meta.get("input_size")
    if not isinstance(size, list) or len(size) != 2:
        raise _bad(where, f"input_size: 'input_size' must be [width, height] in pixels, not {size!r}")
    for axis, v in zip(("width", "height"), size, strict=True):
        validate.integer(v, f"input_size {axis}", MIN_INPUT_SIDE, MAX_INPUT_SIDE)
    prep = meta.get("preprocessing", "raw")
    if not isinstance(prep, str) or prep not in PREPROCESSING:
        raise _bad(
            where,
            f"preprocessing: unknown preprocessing {prep!r}; expected one of {', '.join(PREPROCESSING)}",
        )
    if "preprocessing_in_model" in meta:
        validate.boolean(meta["preprocessing_in_model"], "preprocessing_in_model")
    for key in ("supported_classes", "unsupported_classes"):
        if meta.get(key) is not None:
            listed = _names(meta[key], key)
            outside = [n for n in listed if n not in names]
            if outside:
                raise _bad(
                    where, f"{key}: '{key}' must be a list of names taken from 'classes', "
                    f"not {outside[0]!r}"
                )
    emb = meta.get("embedding_layer", "embedding")
    if not isinstance(emb, str) or not emb or len(emb) > 255:
        raise _bad(where, f"embedding_layer: 'embedding_layer' must be a layer name, not {emb!r}")
    for key in ("name", "backbone", "weights_source", "description", "created", "keras_version",
                "mapping_source"):
        if meta.get(key) is not None:
            validate.text(meta[key], key, max_len=MAX_TEXT)
    _model_version(meta.get("model_version"), "model_version")
    training = meta.get("training")
    if training is not None:
        validate.obj(training, "training")
        _model_version(training.get("model_version"), "training.model_version")
    parent = meta.get("parent")
    if parent is not None and not isinstance(parent, str):
        validate.obj(parent, "parent")
        _model_version(parent.get("model_version"), "parent.model_version")
        for key in ("name", "path", "kind"):
            if parent.get(key) is not None:
                validate.text(parent[key], f"parent.{key}", max_len=MAX_TEXT)
    elif isinstance(parent, str):
        validate.text(parent, "parent", max_len=MAX_TEXT)
    check = kinds.get(kind).check_meta
    if check is not None:
        check(meta, where)  # the kind's own fields (imagenet_mapped: the table; zeroshot: prompts...)
    return meta


def write_bundle_json(folder: Path, meta: dict[str, Any]) -> None:
    """The one writer of bundle.json: meta as indented UTF-8 JSON, atomically, readable by all.

    NaN and infinities (a diverged loss, say) are written as null: read_bundle_json refuses
    non-finite numbers, so a bundle must never be saved with one.
    """
    text = json.dumps(_finite_json(meta), indent=2, ensure_ascii=False, allow_nan=False)
    path = Path(folder) / BUNDLE_JSON
    atomic_write_text(path, text + "\n")
    os.chmod(path, 0o644)  # temporary files are created private; a bundle is an ordinary file


def _finite_json(value: Any) -> Any:
    """meta with NaN and infinities (a diverged loss, say) written as null: bundle.json is
    read back with non-finite numbers refused, so a bundle must never be saved with one."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_json(v) for v in value]
    return value


def write_bundle_folder(out_dir: Path, model: Any, meta: dict[str, Any], overwrite: bool = False) -> None:
    """model.keras + bundle.json written into a temporary folder, then renamed onto out_dir.

    A crash leaves the old bundle or the new one, never half of one; a failure restores the old.
    """
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ExportError(out_dir, "exists and is not a folder")
        if any(out_dir.iterdir()) and not overwrite:
            raise ExportError(
                out_dir, "folder exists and is not empty; choose another name or allow overwriting"
            )
    parent_dir = out_dir.parent
    try:
        parent_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent_dir))
    except OSError as exc:
        raise ExportError(out_dir, f"cannot create a folder there ({exc.strerror or exc})") from exc
    old: Path | None = None
    try:
        model.save(tmp / MODEL_FILE)
        write_bundle_json(tmp, meta)
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; a bundle folder is an ordinary folder
        if out_dir.exists():
            # Move the old bundle aside first: rename onto a non-empty folder is not allowed.
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
    except OSError as exc:
        if old is not None and old.exists() and not out_dir.exists():
            os.replace(old, out_dir)
        raise ExportError(out_dir, f"writing the model failed ({exc.strerror or exc})") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and out_dir.exists():
            with contextlib.suppress(OSError):
                shutil.rmtree(old)
