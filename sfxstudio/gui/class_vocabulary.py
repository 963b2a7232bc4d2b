"""Open vocabulary of a zero-shot model, edited from the class panel: a class typed by name,
its text prompts, and the undoable command that saves them with the model and re-scores the
current analysis from its cached embeddings (no video decoding)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfxstudio.core.commands import Command
from sfxstudio.core.document import Document
from sfxstudio.core.errors import SfxError
from sfxstudio.core.project import AnalysisCache
from sfxstudio.core.validate import safe_name
from sfxstudio.gui import errors


def class_name_from_text(text: str) -> str:
    """What the editor typed ("Door bell") -> a class name ("door_bell"); ValueError if unusable."""
    name = "_".join(text.strip().lower().replace("-", " ").split())
    return safe_name(name, "class name")


def rescored(cache: AnalysisCache | None, bundle: Any) -> AnalysisCache | None:
    """The analysis re-scored by a zero-shot model from its cached embeddings, or None when the
    analysis did not come from this model (its embeddings would mean nothing to it)."""
    if cache is None or bundle.path is None or not cache.model:
        return None
    try:
        same = Path(cache.model).resolve() == Path(bundle.path).resolve()
    except OSError:
        return None
    if not same or cache.embeddings.ndim != 2 or cache.embeddings.shape[1] != bundle.embedding_dim:
        return None
    probs = bundle.probs_from_embeddings(cache.embeddings)
    return AnalysisCache(times=cache.times, probs=probs, embeddings=cache.embeddings,
                         class_names=list(bundle.class_names), frame_duration=cache.frame_duration,
                         duration=cache.duration, model=cache.model)


class SetZeroShotVocabulary(Command):
    """Change a zero-shot model's classes and prompts (one undo step).

    do/undo write the model's bundle.json and re-score the analysis made with it, so the
    proposals follow the prompts at once. A vocabulary the model refuses is a refused edit
    (ValueError), and changes nothing.
    """

    def __init__(self, bundle: Any, classes: list[str], prompts: dict[str, list[str]], name: str) -> None:
        self.bundle = bundle
        self.name = name
        self._new = (list(classes), {k: list(v) for k, v in prompts.items()})
        self._old = (list(bundle.class_names), bundle.prompts)
        self._caches: tuple[AnalysisCache | None, AnalysisCache | None] | None = None

    def _apply(self, classes: list[str], prompts: dict[str, list[str]]) -> None:
        try:
            self.bundle.set_vocabulary(prompts, classes)
            self.bundle.save()
        except (SfxError, OSError) as exc:
            raise ValueError(errors.user_message(exc)) from None

    def do(self, doc: Document) -> None:
        self._apply(*self._new)
        if self._caches is None:
            self._caches = (doc.analysis, rescored(doc.analysis, self.bundle))
        if self._caches[1] is not None:
            doc.set_analysis(self._caches[1])

    def undo(self, doc: Document) -> None:
        self._apply(*self._old)
        if self._caches is not None and self._caches[1] is not None:
            doc.set_analysis(self._caches[0])
