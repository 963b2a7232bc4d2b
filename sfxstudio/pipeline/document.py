"""A Document wired to the pipeline: live segmentation (single or layered mode) and sound
assignment (each effect records its file when it is created and keeps it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfxstudio.core.document import Document
from sfxstudio.core.project import Project
from sfxstudio.pipeline.jobs import compute_auto_segments
from sfxstudio.pipeline.sounds import SoundAssigner


def make_document(project: Project | None = None, path: Path | None = None,
                  library: Any | None = None, seed: int = 0) -> Document:
    """A Document with the analysis layer's segmenter and a `SoundAssigner` (over `library`,
    else the project's own sound library, loaded when first needed)."""
    return Document(project, path, segmenter=compute_auto_segments,
                    assigner=SoundAssigner(library, seed=seed))
