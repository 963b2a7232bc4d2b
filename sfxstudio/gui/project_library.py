"""The open project's sound library, for the class panel and the export dialog."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sfxstudio.core.errors import SfxError
from sfxstudio.gui import errors
from sfxstudio.gui.document_model import DocumentModel

if TYPE_CHECKING:
    from sfxstudio.media.library import SoundLibrary


class ProjectLibrary:
    """Loads the project's library once per library folder; an unreadable one is reported and
    replaced by an empty library, so the panels still open."""

    def __init__(self, model: DocumentModel) -> None:
        self.model = model
        self._library: SoundLibrary | None = None
        self._key: str | None = None

    def library(self) -> SoundLibrary:
        project = self.model.document.project
        key = str(project.library)
        if self._library is None or self._key != key:
            from sfxstudio.pipeline import load_library

            try:
                self._library = load_library(project)
            except SfxError as exc:
                errors.report(exc, "sound library")
                from sfxstudio.media.library import SoundLibrary

                self._library = SoundLibrary.load(Path(tempfile.mkdtemp(prefix="sfxstudio-nolib-")))
            self._key = key
        return self._library
