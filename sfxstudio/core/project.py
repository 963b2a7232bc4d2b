"""The project: one video, the analysis settings, the class sound settings and the effects.

Plain data, Qt-free. The per-frame analysis (probabilities and embeddings) lives in an
`AnalysisCache` that is saved in a sidecar file next to the project file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sfxstudio.core import validate as v
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.segments import Segment

DEFAULT_K = 1.0  # seconds, the paper's mode-filter half width
DEFAULT_THRESHOLD = 0.5
DEFAULT_ANALYSIS_FPS: float | None = None  # None = every frame
# Layered mode (issue 13). Kept here (core may not import analysis); analysis.layered holds the
# same names for the smoothing and its default stickiness.
MODES: tuple[str, ...] = ("single", "layered")
SMOOTHINGS: tuple[str, ...] = ("majority", "hmm")
DEFAULT_MODE = "single"
DEFAULT_SMOOTHING = "majority"
DEFAULT_STICKINESS = 0.5
MAX_STICKINESS = 0.99
MAX_CLASS_THRESHOLDS = 10_000
_PARAM_FIELDS = ("k", "threshold", "analysis_fps", "model", "mode", "smoothing", "stickiness",
                 "class_thresholds")


def _plain(x: Any) -> Any:
    """numpy scalars (np.float32 from a widget or an array) as Python numbers for the checks."""
    return x.item() if isinstance(x, np.generic) else x


def _choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{field} must be one of {', '.join(options)}, not {value!r}")
    return value


def _class_thresholds(value: Any, field: str) -> dict[str, float]:
    """Per-class thresholds: {class name: tau in [0, 1]}, sorted by name (one order in files)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{field} must be an object of class name -> threshold, not {value!r}")
    if len(value) > MAX_CLASS_THRESHOLDS:
        raise ValueError(f"{field} has {len(value)} entries, at most {MAX_CLASS_THRESHOLDS} are allowed")
    return {v.safe_name(name, f"{field}: class name"):
            v.number(_plain(tau), f"{field}: {name}", 0.0, 1.0)
            for name, tau in sorted(value.items())}


@dataclass(frozen=True)
class AnalysisParams:
    """What turns the cached per-frame analysis into automatic effects.

    mode "single" keeps DESIGN.md section 2 exactly (one effect at a time); "layered" decides
    each class on its own (its own threshold: `class_thresholds[name]`, else `threshold`), so
    effects of different classes may overlap, smoothed by `smoothing` ("majority" over +-k s,
    or "hmm", the on/off temporal model, with `stickiness` in [0, 0.99]). smoothing,
    stickiness and class_thresholds only matter in layered mode.
    """

    k: float = DEFAULT_K
    threshold: float = DEFAULT_THRESHOLD
    analysis_fps: float | None = DEFAULT_ANALYSIS_FPS
    model: str | None = None  # model bundle folder
    mode: str = DEFAULT_MODE
    smoothing: str = DEFAULT_SMOOTHING
    stickiness: float = DEFAULT_STICKINESS
    class_thresholds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Finite and in range: NaN passes `k < 0`, and a huge k or rate would size arrays.
        object.__setattr__(self, "k", v.number(_plain(self.k), "k", 0.0, v.MAX_K))
        object.__setattr__(self, "threshold", v.number(_plain(self.threshold), "threshold", 0.0, 1.0))
        object.__setattr__(self, "analysis_fps", v.optional_number(
            _plain(self.analysis_fps), "analysis rate", 0.0, v.MAX_ANALYSIS_FPS, lo_open=True))
        object.__setattr__(self, "model", v.optional_text(self.model, "model"))
        object.__setattr__(self, "mode", _choice(self.mode, "mode", MODES))
        object.__setattr__(self, "smoothing", _choice(self.smoothing, "smoothing", SMOOTHINGS))
        object.__setattr__(self, "stickiness", v.number(_plain(self.stickiness), "stickiness",
                                                        0.0, MAX_STICKINESS))
        # A private copy: the caller's dict changing later must not change frozen params.
        object.__setattr__(self, "class_thresholds",
                           _class_thresholds(self.class_thresholds, "class thresholds"))

    def __hash__(self) -> int:  # the dict field is not hashable; its items are
        return hash((self.k, self.threshold, self.analysis_fps, self.model, self.mode,
                     self.smoothing, self.stickiness, tuple(self.class_thresholds.items())))

    def with_(self, **changes: Any) -> AnalysisParams:
        return replace(self, **changes)

    def class_threshold(self, name: str) -> float:
        """The threshold class `name` is decided with in layered mode."""
        return self.class_thresholds.get(name, self.threshold)

    def segmentation_key(self) -> tuple[Any, ...]:
        """What the automatic effects depend on (besides the analysis): equal keys, equal effects.
        Single mode ignores the layered-only settings, so changing them there recomputes nothing."""
        if self.mode == "single":
            return ("single", self.k, self.threshold)
        return ("layered", self.k, self.threshold, self.smoothing, self.stickiness,
                tuple(self.class_thresholds.items()))

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "threshold": self.threshold,
                "analysis_fps": self.analysis_fps, "model": self.model,
                "mode": self.mode, "smoothing": self.smoothing, "stickiness": self.stickiness,
                "class_thresholds": dict(self.class_thresholds)}

    @classmethod
    def from_json(cls, d: Any) -> AnalysisParams:
        """From a project file's "params" object; ValueError names the field and the value.
        Fields a file of an earlier version lacks take their defaults (single mode)."""
        d = v.obj(d, "params")
        unknown = sorted(set(d) - set(_PARAM_FIELDS))
        if unknown:
            raise ValueError(f"params: unknown field {unknown[0]!r}")
        fps = d.get("analysis_fps")
        return cls(k=v.number(d.get("k", DEFAULT_K), "params: k", 0.0, v.MAX_K),
                   threshold=v.number(d.get("threshold", DEFAULT_THRESHOLD), "params: threshold", 0.0, 1.0),
                   analysis_fps=None if fps is None or fps == "all" else v.number(
                       fps, "params: analysis_fps", 0.0, v.MAX_ANALYSIS_FPS, lo_open=True),
                   model=v.optional_text(d.get("model"), "params: model"),
                   mode=_choice(d.get("mode", DEFAULT_MODE), "params: mode", MODES),
                   smoothing=_choice(d.get("smoothing", DEFAULT_SMOOTHING), "params: smoothing", SMOOTHINGS),
                   stickiness=v.number(d.get("stickiness", DEFAULT_STICKINESS), "params: stickiness",
                                       0.0, MAX_STICKINESS),
                   class_thresholds=_class_thresholds(d.get("class_thresholds", {}),
                                                      "params: class_thresholds"))


@dataclass
class AnalysisCache:
    """Per-frame model outputs for the analysed frames of the video.

    times: (N,) float64 presentation timestamps in seconds, increasing.
    probs: (N, C) float32 class probabilities, columns in `class_names` order.
    embeddings: (N, D) float16/32 penultimate features (may be (N, 0) if unavailable).
    frame_duration: 1 / f_a, the length each analysed frame covers.
    motion: (N, 2) float32 or None: per analysed frame, motion energy in [0, 1] and the
        horizontal centre of motion in [-1, 1] (computed in the analysis's decode pass;
        None for analyses made before it existed).
    """

    times: np.ndarray
    probs: np.ndarray
    embeddings: np.ndarray
    class_names: list[str]
    frame_duration: float
    duration: float  # video duration in seconds
    model: str = ""
    motion: np.ndarray | None = None
    # Values derived from the arrays (e.g. per-frame argmax) kept between slider moves.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.probs.shape != (n, len(self.class_names)):
            raise ValueError(f"probabilities have shape {self.probs.shape}, "
                             f"expected ({n}, {len(self.class_names)})")
        if self.embeddings.shape[0] != n:
            raise ValueError("embeddings and timestamps differ in length")
        if self.motion is not None and self.motion.shape != (n, 2):
            raise ValueError(f"motion has shape {self.motion.shape}, expected ({n}, 2)")

    @property
    def motion_energy(self) -> np.ndarray | None:
        return None if self.motion is None else self.motion[:, 0]

    @property
    def motion_centre(self) -> np.ndarray | None:
        return None if self.motion is None else self.motion[:, 1]

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


MAX_MARKERS = 100_000
MAX_MARKER_NAME = 255


def marker_name(value: Any, field: str = "marker name") -> str:
    """A marker's label: text of at most 255 characters without control characters (a label
    shown in the timeline and saved in the project, never used as a path)."""
    name = v.text(value, field, max_len=MAX_MARKER_NAME)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{field} {value!r} contains control characters")
    return name


@dataclass(frozen=True)
class Marker:
    """A named point of the video (M in the editor); markers are kept sorted by time."""

    time: float
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", v.number(_plain(self.time), "marker time", 0.0, v.MAX_DURATION))
        object.__setattr__(self, "name", marker_name(self.name))

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "name": self.name}

    @classmethod
    def from_json(cls, d: Any) -> Marker:
        d = v.obj(d, "marker")
        unknown = sorted(set(d) - {"time", "name"})
        if unknown:
            raise ValueError(f"marker: unknown field {unknown[0]!r}")
        if "time" not in d:
            raise ValueError("marker: time is missing")
        return cls(time=v.number(d["time"], "marker: time", 0.0, v.MAX_DURATION),
                   name=marker_name(d.get("name", ""), "marker: name"))


def sorted_markers(markers: list[Marker]) -> list[Marker]:
    """Markers in time order (stable for equal times, so names keep their order)."""
    return sorted(markers, key=lambda m: m.time)


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
    markers: list[Marker] = field(default_factory=list)  # sorted by time
    # The editor's view state kept with the project (playhead, zoom, panel widths, in/out,
    # undo history): plain JSON written by the GUI, checked by it on restore (never fatal).
    session: dict[str, Any] = field(default_factory=dict)

    def manual_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.origin != "auto"]

    def auto_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.origin == "auto"]
