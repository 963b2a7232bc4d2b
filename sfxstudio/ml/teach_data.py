"""Learn from my corrections, step 1: the labelled frames (see sfxstudio.ml.teach for the method).

Every analysed frame already has its embedding in the project's analysis cache. The editor's
edits say what those frames really are: manual segments give their class, mute ranges say
`otherwise`, frames left alone keep the current proposal's label with the lower weight
pseudo_weight. A frame belongs to a range when its centre (t + frame_duration / 2) lies inside
it; a frame inside manual segments of k classes counts for each with weight 1/k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, Project

DEFAULT_PSEUDO_WEIGHT = 0.3  # a left-alone frame counts 0.3 of a corrected one


@dataclass
class TeachingData:
    embeddings: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, indices into class_names
    weights: np.ndarray  # (N,) float32: 1 for corrections, pseudo_weight for pseudo-labels
    class_names: list[str]
    corrected: np.ndarray  # (N,) bool: the label comes from the editor
    sources: list[dict[str, Any]] = field(default_factory=list)
    # Per project, the cache frame of each row (a frame in two classes' segments gives two rows).
    frame_index: list[np.ndarray] = field(default_factory=list)

    def frame_key(self) -> np.ndarray | None:
        """(N,) one number per (project, frame): rows that share it are one frame."""
        if not self.frame_index:
            return None
        start = np.cumsum([0] + [int(f.max()) + 1 if len(f) else 0 for f in self.frame_index[:-1]])
        return np.concatenate([f + s for f, s in zip(self.frame_index, start, strict=True)])

    def counts(self, corrected_only: bool = False) -> dict[str, int]:
        labels = self.labels[self.corrected] if corrected_only else self.labels
        n = np.bincount(labels, minlength=len(self.class_names))
        return {c: int(k) for c, k in zip(self.class_names, n, strict=True) if k}


def _as_project(p: Project | str | Path) -> tuple[Project, str | None]:
    if isinstance(p, Project):
        return p, None
    from sfxstudio.core.project_io import load_project

    return load_project(p), str(Path(p).resolve())


def _frame_labels(
    cache: AnalysisCache, project: Project, names: list[str], pseudo: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> (frame index, label, share, corrected) per labelled row.

    A frame inside manual segments of k classes (classes overlap: an ambulance among cars)
    gives k rows, one per class, each with share 1/k: a soft target that says "these classes",
    instead of dropping the frame. Other labelled frames give one row with share 1.
    """
    n = cache.frames
    centre = np.asarray(cache.times, np.float64) + 0.5 * cache.frame_duration
    manual = np.zeros((n, len(names)), bool)
    muted = np.zeros(n, bool)
    auto = np.full(n, -1, np.int64)
    for seg in project.segments:
        inside = (centre >= seg.start) & (centre < seg.end)
        if seg.origin == "mute":
            muted |= inside
        elif seg.origin == "manual":
            manual[inside, names.index(seg.class_name)] = True
        else:
            auto[inside] = names.index(seg.class_name)
    otherwise = names.index(OTHERWISE)
    claimed = manual.sum(axis=1)
    # A manual segment states what is there; a mute only removes a proposal. Manual wins.
    frame_m, label_m = np.nonzero(manual)
    share_m = 1.0 / claimed[frame_m]
    only_muted = np.flatnonzero(muted & (claimed == 0))
    frames = [frame_m, only_muted]
    labels = [label_m, np.full(len(only_muted), otherwise, np.int64)]
    shares = [share_m, np.ones(len(only_muted))]
    corrected = [np.ones(len(frame_m), bool), np.ones(len(only_muted), bool)]
    if pseudo:
        left_alone = np.flatnonzero(~muted & (claimed == 0))
        frames.append(left_alone)
        labels.append(np.where(auto[left_alone] >= 0, auto[left_alone], otherwise))
        shares.append(np.ones(len(left_alone)))
        corrected.append(np.zeros(len(left_alone), bool))
    order = np.argsort(np.concatenate(frames), kind="stable")
    return (
        np.concatenate(frames)[order].astype(np.int64),
        np.concatenate(labels)[order].astype(np.int64),
        np.concatenate(shares)[order].astype(np.float32),
        np.concatenate(corrected)[order],
    )


def collect_frames(
    projects: Sequence[Project | str | Path],
    pseudo_weight: float = DEFAULT_PSEUDO_WEIGHT,
    class_names: Sequence[str] | None = None,
) -> TeachingData:
    """The labelled cached frames of all projects (see the module doc for the rules).

    All projects must have been analysed by the same model (same classes and embedding size).
    Manual segments of a class the model does not have add that class at the end.
    """
    if not 0.0 <= pseudo_weight <= 1.0:
        raise ValueError("pseudo_weight must be between 0 and 1")
    names: list[str] | None = list(class_names) if class_names is not None else None
    loaded = [_as_project(p) for p in projects]
    if not loaded:
        raise BadInputError(None, "no projects to learn from")
    dim: int | None = None
    for project, file in loaded:
        where = file or project.video
        cache = project.analysis
        if cache is None or cache.frames == 0:
            raise BadInputError(where, "the project has no analysis; analyse the video first")
        if cache.embeddings.ndim != 2 or cache.embeddings.shape[1] == 0:
            raise BadInputError(where, "the analysis has no embeddings; analyse the video again")
        if names is None:
            names = list(cache.class_names)
        elif list(cache.class_names) != names[: len(cache.class_names)]:
            raise BadInputError(where, "was analysed with a model with other classes than the other projects")
        if dim is None:
            dim = int(cache.embeddings.shape[1])
        elif cache.embeddings.shape[1] != dim:
            raise BadInputError(where, "was analysed with another model (embedding size differs)")
    assert names is not None
    if OTHERWISE not in names:
        raise BadInputError(None, f"the model has no {OTHERWISE!r} class")
    for project, _ in loaded:
        for seg in project.segments:
            if seg.origin == "manual" and seg.class_name not in names:
                names.append(seg.class_name)

    embs, labels, weights, corrected, sources, frame_index = [], [], [], [], [], []
    for project, file in loaded:
        cache = project.analysis
        assert cache is not None
        idx, lab, share, corr = _frame_labels(cache, project, names, pseudo_weight > 0)
        embs.append(np.asarray(cache.embeddings[idx], np.float32))
        frame_index.append(idx)
        labels.append(lab)
        weights.append((np.where(corr, 1.0, pseudo_weight) * share).astype(np.float32))
        corrected.append(corr)
        counts = np.bincount(lab[corr], minlength=len(names))
        sources.append(
            {
                "project": file,
                "video": project.video,
                "frames": int(cache.frames),
                "corrected_frames": len(np.unique(idx[corr])),
                "pseudo_labelled_frames": int((~corr).sum()),
                "corrected_per_class": {c: int(k) for c, k in zip(names, counts, strict=True) if k},
            }
        )
    data = TeachingData(
        np.concatenate(embs),
        np.concatenate(labels),
        np.concatenate(weights),
        names,
        np.concatenate(corrected),
        sources,
        frame_index,
    )
    if not data.corrected.any():
        raise BadInputError(
            None, "the projects have no corrections (manual segments or deleted effects) to learn from"
        )
    return data


def frames_from_projects(
    projects: Sequence[Project | str | Path], pseudo_weight: float = DEFAULT_PSEUDO_WEIGHT
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """-> (embeddings (N, D), labels (N,), class_names) of the frames the editor labelled."""
    d = collect_frames(projects, pseudo_weight)
    return d.embeddings, d.labels, d.class_names
