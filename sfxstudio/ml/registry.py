"""The model list: every model the editor can choose, the same for the window and `model list`.

In order: the built-in real-footage recogniser ("imagenet": EfficientNet-Lite0 mapped to the
effect classes, listed before it is built, built on first use), the models beside the program
(models/, the demo model among them), then the editor's own folders, each either a bundle or a
folder of bundles. A folder is listed once however many times it is reached. Only bundle.json
is read (through the one reader, bundle_file.read_bundle_json): no TensorFlow, no model file.
A bundle.json that does not validate is a warning line naming it (an error with --strict) and
is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sfxstudio.core.errors import BadInputError, warn
from sfxstudio.ml.bundle_file import BUNDLE_JSON, read_bundle_json


@dataclass(frozen=True)
class ModelEntry:
    """One model the editor can choose."""

    name: str  # what the editor sees: bundle.json's name, else the folder's name
    folder: Path  # the bundle folder (for the built-in one, possibly not built yet)
    kind: str  # bundle.json's kind (sfxstudio.ml.kinds)
    classes: tuple[str, ...]  # the class names in output order, `otherwise` included
    builtin: bool = False  # the built-in recogniser (`--model imagenet`)

    @property
    def built(self) -> bool:
        """Whether the folder holds the bundle yet (only the built-in one may not)."""
        return (self.folder / BUNDLE_JSON).is_file()


def builtin_entry() -> ModelEntry | None:
    """The built-in real-footage recogniser, built or not (None when its mapping table cannot be
    read: a warning line says why)."""
    from sfxstudio.core.classes import default_classes
    from sfxstudio.ml import imagenet

    try:
        folder = imagenet.builtin_bundle_dir()
    except BadInputError as exc:
        warn(exc.path, f"{exc.problem}; the built-in recogniser is not listed")
        return None
    # create_imagenet_bundle writes the default classes, in their order.
    return ModelEntry(imagenet.BUILTIN_LABEL, folder, imagenet.KIND,
                      tuple(default_classes().names), builtin=True)


def read_entry(folder: Path) -> ModelEntry:
    """The entry of one bundle folder (BadInputError naming bundle.json when it does not validate)."""
    meta = read_bundle_json(folder)
    return ModelEntry(str(meta.get("name") or folder.name), folder, str(meta.get("kind", "keras")),
                      tuple(str(c) for c in meta["classes"]))


def list_models(extra_folders: Iterable[str | Path] = (), *, builtin: bool = True,
                beside_program: bool = True) -> list[ModelEntry]:
    """The models to offer, built-in first (see the module doc).

    extra_folders: the editor's folders, each a bundle or a folder of bundles; ones that do not
    exist (a folder remembered from another machine) are skipped. builtin / beside_program:
    include the built-in recogniser / the bundles in models/.
    """
    from sfxstudio.core.paths import MODELS

    found: list[ModelEntry] = []
    seen: set[Path] = set()
    if builtin:
        entry = builtin_entry()
        if entry is not None:
            found.append(entry)
            seen.add(entry.folder.resolve())
    roots = [*([MODELS] if beside_program else []), *(Path(f) for f in extra_folders)]
    for root in roots:
        if not root.is_dir():
            continue
        for folder in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
            if not (folder / BUNDLE_JSON).is_file() or folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            try:
                found.append(read_entry(folder))
            except BadInputError as exc:
                warn(exc.path, f"{exc.problem}; not listed")
    return found
