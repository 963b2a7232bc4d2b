"""`sfxstudio model create` / `model list`: untrained bundles and the bundles on disk."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sfxstudio.core.classes import OTHERWISE, default_classes, load_classes
from sfxstudio.core.errors import BadInputError


def read_class_names(spec: str | None) -> list[str]:
    """Class names from a JSON list, a classes.json file, or the 21 defaults when None."""
    if spec is None:
        return default_classes().names
    path = Path(spec)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(path, f"cannot read the class list ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"not valid JSON ({exc})") from exc
    if isinstance(data, dict) and "classes" in data:
        try:
            names = load_classes(path).names
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(path, f"not a valid classes.json ({exc})") from exc
    elif isinstance(data, list) and all(isinstance(n, str) and n for n in data):
        names = list(data)
    else:
        raise BadInputError(path, "expected a JSON list of class names or a classes.json")
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
    from sfxstudio.ml.bundle import save_bundle

    names = read_class_names(classes)
    model, info = build_classifier(backbone, len(names), weights=weights, allow_download=allow_download)
    return save_bundle(
        model, out, names, backbone=info["backbone"], preprocessing=info["preprocessing"],
        input_size=tuple(info["input_size"]), weights_source=info["weights_source"],
        embedding_layer=info["embedding_layer"],
        description=f"Untrained {backbone} head: a starting point for `sfxstudio train`; "
                    "its predictions mean nothing yet.",
        training={"note": "untrained (sfxstudio model create)"},
    )


def find_bundles(folders: Iterable[Path] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, bundle.json) for every bundle directly inside the folders (default: models/)."""
    from sfxstudio.paths import MODELS

    out = []
    for folder in list(folders) or [MODELS]:
        candidates = [folder] if (folder / "bundle.json").is_file() else sorted(folder.glob("*/"))
        for c in candidates:
            meta_path = c / "bundle.json"
            if not meta_path.is_file():
                continue
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(meta, dict) and meta.get("format") == "sfxstudio-model":
                out.append((c, meta))
    return out
