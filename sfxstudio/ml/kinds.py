"""Model kinds: what bundle.json's "kind" means, in one table.

A kind is a way of turning a validated bundle.json (and whatever else its folder holds) into a
loaded ModelBundle: "keras" (a trained classifier, sfxstudio.ml.bundle), "imagenet_mapped"
(an ImageNet classifier summed into effect classes, sfxstudio.ml.imagenet) and "zeroshot"
(image-text similarity, sfxstudio.ml.zeroshot). Each kind module defines a `BundleKind` that
says how to check its extra bundle.json fields, how to load it and how to find its cached
LiteRT conversion.

This module imports no other part of sfxstudio.ml: the table below names each built-in kind
by "module:attribute", imported on first use, so the reader of bundle.json (bundle_file) and
ModelBundle.load dispatch on the kind without importing the kind modules, which import them.
A new kind is one line in BUILTIN_KINDS (or a `register()` call) plus its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# kind name -> "module:attribute" of its BundleKind. Order: how the kinds are listed to users.
BUILTIN_KINDS: dict[str, str] = {
    "keras": "sfxstudio.ml.bundle:KERAS_KIND",
    "imagenet_mapped": "sfxstudio.ml.imagenet:IMAGENET_KIND",
    "zeroshot": "sfxstudio.ml.zeroshot:ZEROSHOT_KIND",
}


@dataclass(frozen=True)
class BundleKind:
    """How one kind of bundle is checked and loaded."""

    name: str
    # (folder, validated bundle.json, runtime "tf" | "lite") -> a loaded ModelBundle.
    load: Callable[[Path, dict[str, Any], str], Any]
    # The kind's own bundle.json fields, checked after the common ones: (meta, where) ->
    # None, raising ValueError ("field: problem") or BadInputError. None: nothing to add.
    check_meta: Callable[[dict[str, Any], Path | str], None] | None = None
    # (folder, validated bundle.json) -> the LiteRT cache key of the folder's graph; None:
    # the key of the folder's model.keras (sfxstudio.ml.lite.compiled_key).
    compiled_key: Callable[[Path, dict[str, Any]], str] | None = None


_registered: dict[str, BundleKind] = {}


def names() -> tuple[str, ...]:
    """Every kind a bundle.json may name (no kind module is imported)."""
    return tuple(dict.fromkeys([*BUILTIN_KINDS, *_registered]))


def register(kind: BundleKind) -> None:
    """Add (or replace) a kind; for kinds that live outside the table above."""
    _registered[kind.name] = kind


def get(name: str) -> BundleKind:
    """The kind called `name` (KeyError for a kind nobody registered; bundle_file.validate_meta
    refuses those first, with a line naming the file)."""
    if name in _registered:
        return _registered[name]
    module_name, _, attribute = BUILTIN_KINDS[name].partition(":")
    kind = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(kind, BundleKind) or kind.name != name:
        raise TypeError(f"{BUILTIN_KINDS[name]} is not the BundleKind {name!r}")
    _registered[name] = kind
    return kind
