"""`sfxstudio model create` / `model list`: untrained bundles and the bundles on disk."""

from __future__ import annotations

import json
from pathlib import Path

from sfxstudio.core import validate
from sfxstudio.core.classes import OTHERWISE, default_classes, load_classes
from sfxstudio.core.errors import BadInputError

MAX_CLASS_FILE_BYTES = 1 << 20


def read_class_names(spec: str | None) -> list[str]:
    """Class names from a JSON list, a classes.json file, or the 21 defaults when None."""
    from sfxstudio.ml.bundle import MAX_CLASSES, one_line

    if spec is None:
        return default_classes().names
    path = Path(spec)
    try:
        if path.is_dir():
            raise BadInputError(path, "is a folder, not a class list")
        if path.stat().st_size > MAX_CLASS_FILE_BYTES:
            raise BadInputError(path, f"is larger than {MAX_CLASS_FILE_BYTES} bytes; not a class list")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(path, f"cannot read the class list ({exc.strerror})") from exc
    except UnicodeDecodeError:
        raise BadInputError(path, "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise BadInputError(path, f"not valid JSON ({where})") from None
    except RecursionError:
        raise BadInputError(path, "not usable JSON (nested too deeply)") from None
    if isinstance(data, dict) and "classes" in data:
        try:
            names = load_classes(path).names
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(path, f"not a valid classes.json ({one_line(str(exc), 120)})") from None
    elif isinstance(data, list):
        names = data
    else:
        raise BadInputError(path, "expected a JSON list of class names or a classes.json")
    try:
        validate.array(names, "classes", max_len=MAX_CLASSES)
        names = [validate.safe_name(n, f"class {i + 1}") for i, n in enumerate(names)]
    except ValueError as exc:
        raise BadInputError(path, one_line(str(exc))) from None
    if len(set(names)) != len(names):
        raise BadInputError(path, "class names repeat")
    if OTHERWISE not in names:
        raise BadInputError(path, f"the classes must include {OTHERWISE!r} (no effect)")
    if len(names) < 2:
        raise BadInputError(path, "need at least one effect class besides otherwise")
    return names


def create_bundle(backbone: str, out: str | Path, weights: str = "none", classes: str | None = None,
                  allow_download: bool = False) -> Path:
    """An untrained bundle: the backbone (ImageNet, random or local weights) with a new head."""
    from sfxstudio.ml.backbones import build_classifier
    from sfxstudio.ml.bundle import precompile, save_bundle

    names = read_class_names(classes)
    model, info = build_classifier(backbone, len(names), weights=weights, allow_download=allow_download)
    out_dir = save_bundle(
        model, out, names, backbone=info["backbone"], preprocessing=info["preprocessing"],
        input_size=tuple(info["input_size"]), weights_source=info["weights_source"],
        embedding_layer=info["embedding_layer"],
        description=f"Untrained {backbone} head: a starting point for `sfxstudio train`; "
                    "its predictions mean nothing yet.",
        training={"note": "untrained (sfxstudio model create)"},
    )
    precompile(out_dir)  # the first analysis with it converts nothing
    return out_dir
