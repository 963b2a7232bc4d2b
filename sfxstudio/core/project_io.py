"""`.sfxproj` project files: plain JSON plus a `.npz` sidecar for the per-frame analysis.

Never pickle: the sidecar is read with allow_pickle=False. Writes are atomic. Loading
validates every field and migrates older versions; a bad file is rejected with a
BadInputError naming the file and the problem.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio import __version__
from sfxstudio.core.atomic import atomic_path, atomic_write_text
from sfxstudio.core.classes import SoundAttributes
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, AnalysisParams, MixSettings, Project
from sfxstudio.core.segments import Segment

FORMAT = "sfxstudio-project"
VERSION = 2
SUFFIX = ".sfxproj"
SIDECAR_SUFFIX = ".analysis.npz"


def _migrate_v1(d: dict[str, Any]) -> dict[str, Any]:
    """v1 had no mix settings or per-class variation lists and wrote analysis_fps "all"."""
    d = dict(d)
    d.setdefault("mix", {})
    d.setdefault("class_variations", {})
    params = dict(d.get("params", {}))
    if params.get("analysis_fps") == "all":
        params["analysis_fps"] = None
    d["params"] = params
    d["version"] = 2
    return d


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_v1}


def _rel(path: str | None, base: Path) -> str | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    try:
        return os.path.relpath(p, base)
    except ValueError:  # another drive on Windows
        return str(p)


def _abs(path: str | None, base: Path) -> str | None:
    if path is None:
        return None
    p = Path(path)
    return str(p if p.is_absolute() else (base / p).resolve())


def project_to_json(project: Project, base: Path) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "app_version": __version__,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "video": _rel(project.video, base),
        "params": project.params.to_json() | {"model": _rel(project.params.model, base)},
        "library": _rel(project.library, base),
        "class_attributes": {k: v.to_json() for k, v in sorted(project.class_attributes.items())},
        "class_variations": {k: list(v) for k, v in sorted(project.class_variations.items())},
        "mix": project.mix.to_json(),
        "segments": [s.to_json() for s in project.segments],
        "analysis": project.analysis_file,
    }


def save_project(project: Project, path: str | Path) -> None:
    """Write the project (and its analysis sidecar when there is one) atomically."""
    path = Path(path)
    base = path.resolve().parent
    if project.analysis is not None:
        sidecar = path.name + SIDECAR_SUFFIX
        save_analysis(project.analysis, base / sidecar)
        project.analysis_file = sidecar
    text = json.dumps(project_to_json(project, base), indent=1)
    atomic_write_text(path, text + "\n")


def load_project(path: str | Path, load_analysis: bool = True) -> Project:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(path, f"cannot read the project file ({exc.strerror})") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"not a valid project file (broken JSON: {exc})") from exc
    try:
        project = project_from_json(data, path.resolve().parent)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise BadInputError(path, f"not a valid project file ({msg})") from exc
    if load_analysis and project.analysis_file:
        sidecar = path.resolve().parent / project.analysis_file
        if sidecar.exists():
            project.analysis = load_analysis_file(sidecar)
    return project


def project_from_json(data: Any, base: Path) -> Project:
    if not isinstance(data, dict):
        raise ValueError("the top level must be a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
    version = data.get("version")
    if not isinstance(version, int):
        raise ValueError("version must be a whole number")
    if version > VERSION:
        raise ValueError(f"version {version} is newer than this SFX Studio understands ({VERSION}); "
                         "update SFX Studio")
    while version < VERSION:
        if version not in MIGRATIONS:
            raise ValueError(f"version {version} is too old to migrate")
        data = MIGRATIONS[version](data)
        version = data["version"]
    segments = []
    for i, s in enumerate(data.get("segments", [])):
        try:
            segments.append(Segment.from_json(s))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"segment {i + 1}: {exc}") from None
    attrs = {}
    for name, a in data.get("class_attributes", {}).items():
        try:
            attrs[name] = SoundAttributes.from_json(a)
        except ValueError as exc:
            raise ValueError(f"class {name}: {exc}") from None
    variations = {str(k): [str(p) for p in v] for k, v in data.get("class_variations", {}).items()}
    mix = data.get("mix", {})
    params = AnalysisParams.from_json(data.get("params", {}))
    params = params.with_(model=_abs(params.model, base))
    return Project(
        video=_abs(data.get("video"), base),
        params=params,
        library=_abs(data.get("library"), base),
        class_attributes=attrs,
        class_variations=variations,
        segments=segments,
        mix=MixSettings(float(mix.get("original_gain_db", 0.0)), float(mix.get("effects_gain_db", 0.0))),
        analysis_file=data.get("analysis"),
    )


def save_analysis(cache: AnalysisCache, path: str | Path) -> None:
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            times=np.asarray(cache.times, dtype=np.float64),
            probs=np.asarray(cache.probs, dtype=np.float32),
            embeddings=np.asarray(cache.embeddings),
            class_names=np.array(cache.class_names, dtype=np.str_),
            frame_duration=np.float64(cache.frame_duration),
            duration=np.float64(cache.duration),
            model=np.array(cache.model, dtype=np.str_),
        )


def load_analysis_file(path: str | Path) -> AnalysisCache:
    try:
        with np.load(path, allow_pickle=False) as z:
            return AnalysisCache(
                times=z["times"],
                probs=z["probs"],
                embeddings=z["embeddings"],
                class_names=[str(x) for x in z["class_names"]],
                frame_duration=float(z["frame_duration"]),
                duration=float(z["duration"]),
                model=str(z["model"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise BadInputError(path, f"not a valid analysis file ({exc})") from exc
