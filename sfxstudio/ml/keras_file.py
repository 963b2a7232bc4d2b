"""model.keras: checked before Keras reads it, then loaded in safe mode.

A bundle is a file people share: its model must not be able to run code, and a damaged or
oversized archive is refused with one line naming the file before Keras sees it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from sfxstudio.core.errors import BadInputError
from sfxstudio.ml.bundle_file import one_line

# model.keras: the archive may unpack to at most this much (ResNet152V2 is ~240 MB), and its
# config.json (the layer graph, read before Keras sees the file) to at most this much.
MAX_MODEL_UNPACKED_BYTES = 8 << 30
MAX_MODEL_CONFIG_BYTES = 64 << 20


def _bad(where: Path | str, problem: str) -> BadInputError:
    return BadInputError(where, one_line(problem))


def check_model_file(path: Path) -> None:
    """model.keras exists and is a non-empty regular file (BadInputError naming it otherwise)."""
    if not path.exists():
        raise BadInputError(path, "is missing; a model folder needs bundle.json and model.keras")
    if not path.is_file():
        raise BadInputError(path, "is not a file (a Keras model file was expected)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise BadInputError(path, "is empty (0 bytes); not a Keras model")


def _code_in_config(config: Any) -> str | None:
    """What in a Keras config.json carries Python code ("a Lambda layer"...), or None.

    Keras' safe_mode refuses these too; looking first gives a plain one-line reason instead of
    Keras' message (which quotes the layer's whole config).
    """
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("class_name")
            if name in ("Lambda", "TFOpLambda"):
                return "a Lambda layer"
            if name == "__lambda__":
                return "a Python lambda"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _inspect_archive(path: Path) -> None:
    """Refuse, before Keras reads it, a .keras file that is damaged, too big or carries code."""
    if not zipfile.is_zipfile(path):
        raise BadInputError(path, "is not a Keras model file (.keras files are zip archives)")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "config.json" not in names:
                raise BadInputError(path, "is a zip archive but not a Keras model (it has no config.json)")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > MAX_MODEL_UNPACKED_BYTES:
                raise BadInputError(
                    path, f"unpacks to {unpacked} bytes; at most {MAX_MODEL_UNPACKED_BYTES} are allowed"
                )
            if z.getinfo("config.json").file_size > MAX_MODEL_CONFIG_BYTES:
                raise BadInputError(path, "has a config.json too large for a model description")
            raw = z.read("config.json")
    except BadInputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as exc:  # damaged, encrypted, odd compression
        problem = f"is a damaged zip archive ({type(exc).__name__}: {one_line(str(exc), 100)})"
        raise _bad(path, problem) from None
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        problem = f"has a damaged config.json ({type(exc).__name__}: {one_line(str(exc), 100)})"
        raise _bad(path, problem) from None
    if not isinstance(config, dict):
        raise BadInputError(path, "has a config.json that is not a JSON object; not a Keras model")
    code = _code_in_config(config)
    if code:
        raise BadInputError(path, f"contains code ({code}); refused")


def _keras_error(path: Path, exc: BaseException) -> BadInputError:
    """One line for whatever Keras raised while loading (its messages quote whole configs)."""
    import re

    text = str(exc)
    found = re.search(r"Could not (?:locate|deserialize) (?:class |function )?'([^']{1,120})'", text)
    if found:
        return _bad(path, f"uses an unknown layer or object {found.group(1)!r} "
                          "(custom code is never loaded); refused")
    if "safe_mode" in text or "lambda" in text.lower():
        return _bad(path, "contains code (refused by safe mode); refused")
    return _bad(path, f"cannot be loaded as a Keras model ({type(exc).__name__}: {one_line(text, 120)})")


def load_keras_model(path: Path) -> Any:
    """keras.saving.load_model(safe_mode=True) with every failure one BadInputError line."""
    from sfxstudio.ml import tf_setup

    path = Path(path)
    check_model_file(path)
    _inspect_archive(path)
    tf_setup.configure()  # threads and devices are fixed by TensorFlow's first op
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except MemoryError:
        raise
    except Exception as exc:  # zip/h5/deserialisation errors come in many types
        raise _keras_error(path, exc) from None

