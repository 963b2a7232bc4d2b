"""The project: one video, the analysis settings, the class sound settings and the effects.

Plain data, Qt-free. The per-frame analysis (probabilities and embeddings) lives in an
`AnalysisCache` that is saved in a sidecar file next to the project file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.segments import Segment

DEFAULT_K = 1.0  # seconds, the paper's mode-filter half width
DEFAULT_THRESHOLD = 0.5
DEFAULT_ANALYSIS_FPS: float | None = None  # None = every frame


@dataclass(frozen=True)
class AnalysisParams:
    k: float = DEFAULT_K
    threshold: float = DEFAULT_THRESHOLD
    analysis_fps: float | None = DEFAULT_ANALYSIS_FPS
    model: str | None = None  # model bundle folder

    def __post_init__(self) -> None:
        if self.k < 0:
            raise ValueError("k must not be negative")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        if self.analysis_fps is not None and self.analysis_fps <= 0:
            raise ValueError("analysis rate must be positive")

    def with_(self, **changes: Any) -> AnalysisParams:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "threshold": self.threshold,
                "analysis_fps": self.analysis_fps, "model": self.model}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AnalysisParams:
        fps = d.get("analysis_fps")
        return cls(k=float(d.get("k", DEFAULT_K)),
                   threshold=float(d.get("threshold", DEFAULT_THRESHOLD)),
                   analysis_fps=None if fps in (None, "all") else float(fps),
                   model=d.get("model"))


@dataclass
class AnalysisCache:
    """Per-frame model outputs for the analysed frames of the video.

    times: (N,) float64 presentation timestamps in seconds, increasing.
    probs: (N, C) float32 class probabilities, columns in `class_names` order.
    embeddings: (N, D) float16/32 penultimate features (may be (N, 0) if unavailable).
    frame_duration: 1 / f_a, the length each analysed frame covers.
    """

    times: np.ndarray
    probs: np.ndarray
    embeddings: np.ndarray
    class_names: list[str]
    frame_duration: float
    duration: float  # video duration in seconds
    model: str = ""
    # Values derived from the arrays (e.g. per-frame argmax) kept between slider moves.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.probs.shape != (n, len(self.class_names)):
            raise ValueError(f"probabilities have shape {self.probs.shape}, "
                             f"expected ({n}, {len(self.class_names)})")
        if self.embeddings.shape[0] != n:
            raise ValueError("embeddings and timestamps differ in length")

    @property
    def frames(self) -> int:
        return len(self.times)


@dataclass
class MixSettings:
    original_gain_db: float = 0.0
    effects_gain_db: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"original_gain_db": self.original_gain_db, "effects_gain_db": self.effects_gain_db}


@dataclass
class Project:
    video: str | None = None
    params: AnalysisParams = field(default_factory=AnalysisParams)
    library: str | None = None  # sound library folder; None = built-in sounds/
    class_attributes: dict[str, SoundAttributes] = field(default_factory=dict)  # overrides
    class_variations: dict[str, list[str]] = field(default_factory=dict)  # overrides, ordered
    segments: list[Segment] = field(default_factory=list)
    mix: MixSettings = field(default_factory=MixSettings)
    analysis: AnalysisCache | None = None
    analysis_file: str | None = None  # sidecar, relative to the project file

    def manual_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.origin != "auto"]

    def auto_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.origin == "auto"]
