"""The project: one video, the analysis settings, the class sound settings and the effects.

Plain data, Qt-free. The per-frame analysis (probabilities and embeddings) lives in an
`AnalysisCache` that is saved in a sidecar file next to the project file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sfxstudio.core import validate as v
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.segments import Segment

DEFAULT_K = 1.0  # seconds, the paper's mode-filter half width
DEFAULT_THRESHOLD = 0.5
DEFAULT_ANALYSIS_FPS: float | None = None  # None = every frame


def _plain(x: Any) -> Any:
    """numpy scalars (np.float32 from a widget or an array) as Python numbers for the checks."""
    return x.item() if isinstance(x, np.generic) else x


@dataclass(frozen=True)
class AnalysisParams:
    k: float = DEFAULT_K
    threshold: float = DEFAULT_THRESHOLD
    analysis_fps: float | None = DEFAULT_ANALYSIS_FPS
    model: str | None = None  # model bundle folder

    def __post_init__(self) -> None:
        # Finite and in range: NaN passes `k < 0`, and a huge k or rate would size arrays.
        object.__setattr__(self, "k", v.number(_plain(self.k), "k", 0.0, v.MAX_K))
        object.__setattr__(self, "threshold", v.number(_plain(self.threshold), "threshold", 0.0, 1.0))
        object.__setattr__(self, "analysis_fps", v.optional_number(
            _plain(self.analysis_fps), "analysis rate", 0.0, v.MAX_ANALYSIS_FPS, lo_open=True))
        object.__setattr__(self, "model", v.optional_text(self.model, "model"))

    def with_(self, **changes: Any) -> AnalysisParams:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "threshold": self.threshold,
                "analysis_fps": self.analysis_fps, "model": self.model}

    @classmethod
    def from_json(cls, d: Any) -> AnalysisParams:
        """From a project file's "params" object; ValueError names the field and the value."""
        d = v.obj(d, "params")
        unknown = sorted(set(d) - {"k", "threshold", "analysis_fps", "model"})
        if unknown:
            raise ValueError(f"params: unknown field {unknown[0]!r}")
        fps = d.get("analysis_fps")
        return cls(k=v.number(d.get("k", DEFAULT_K), "params: k", 0.0, v.MAX_K),
                   threshold=v.number(d.get("threshold", DEFAULT_THRESHOLD), "params: threshold", 0.0, 1.0),
                   analysis_fps=None if fps is None or fps == "all" else v.number(
                       fps, "params: analysis_fps", 0.0, v.MAX_ANALYSIS_FPS, lo_open=True),
                   model=v.optional_text(d.get("model"), "params: model"))


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

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked on every assignment (the CLI and the export dialog set them one at a time):
        # a NaN gain turns the whole mix into full-scale DC.
        if name in ("original_gain_db", "effects_gain_db"):
            value = v.number(_plain(value), name, -v.MAX_GAIN_DB, v.MAX_GAIN_DB)
        super().__setattr__(name, value)

    def to_json(self) -> dict[str, Any]:
        return {"original_gain_db": self.original_gain_db, "effects_gain_db": self.effects_gain_db}

    @classmethod
    def from_json(cls, d: Any) -> MixSettings:
        d = v.obj(d, "mix")
        unknown = sorted(set(d) - {"original_gain_db", "effects_gain_db"})
        if unknown:
            raise ValueError(f"mix: unknown field {unknown[0]!r}")
        return cls(original_gain_db=v.number(d.get("original_gain_db", 0.0), "mix: original_gain_db",
                                             -v.MAX_GAIN_DB, v.MAX_GAIN_DB),
                   effects_gain_db=v.number(d.get("effects_gain_db", 0.0), "mix: effects_gain_db",
                                            -v.MAX_GAIN_DB, v.MAX_GAIN_DB))


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
