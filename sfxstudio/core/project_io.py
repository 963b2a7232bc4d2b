"""`.sfxproj` project files: plain JSON plus a `.npz` sidecar for the per-frame analysis.

Never pickle: the sidecar is read with allow_pickle=False, after its members, types and sizes
have been checked, so a hostile file cannot make us allocate memory it does not hold.

A project and its analysis are one unit. The sidecar's name carries a digest of its content
("<project file name>.<12 hex>.analysis.npz") and is recorded in the project file. Saving
writes the sidecar first (atomically; an identical one already there is kept), then the
project file (atomically: the rename is the moment the new pair becomes the saved pair), and
only then removes the sidecar the previous version pointed at. A crash at any moment leaves
the old pair or the new pair, never a project with another save's analysis.

Loading checks every field (type, finiteness, range) and migrates older versions; a bad file
is rejected with a one-line BadInputError naming the file, the field and the value.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from sfxstudio import __version__
from sfxstudio.core import validate as v
from sfxstudio.core.atomic import atomic_path, atomic_write_json, check_target
from sfxstudio.core.classes import SoundAttributes, default_classes
from sfxstudio.core.errors import BadInputError, warn
from sfxstudio.core.inputs import read_bytes, regular_file
from sfxstudio.core.project import (
    MAX_MARKERS,
    AnalysisCache,
    AnalysisParams,
    Marker,
    MixSettings,
    Project,
    sorted_markers,
)
from sfxstudio.core.segments import Segment

FORMAT = "sfxstudio-project"
VERSION = 5
SUFFIX = ".sfxproj"
SIDECAR_SUFFIX = ".analysis.npz"
DIGEST_CHARS = 12

MAX_PROJECT_BYTES = 256 << 20  # a project with a million effects is ~200 MB of JSON
MAX_SIDECAR_BYTES = 8 << 30  # uncompressed sum of the sidecar's arrays
MAX_CLASSES = 10_000
MAX_FRAME_DURATION = 60.0

# -- migrations ---------------------------------------------------------------------------


def _migrate_v1(d: dict[str, Any]) -> dict[str, Any]:
    """v1 had no mix settings or per-class variation lists and wrote analysis_fps "all"."""
    d = dict(d)
    d.setdefault("mix", {})
    d.setdefault("class_variations", {})
    params = d.get("params", {})
    if isinstance(params, dict):
        params = dict(params)
        if params.get("analysis_fps") == "all":
            params["analysis_fps"] = None
        d["params"] = params
    d["version"] = 2
    return d


SLIVER = 1e-6  # seconds: v2 rounded times to the microsecond, so a split on a frame edge saved
# an effect of zero length (or one shorter than this) that later versions refuse


def _is_sliver(seg: Any) -> bool:
    if not isinstance(seg, dict):
        return False
    a, b = seg.get("start"), seg.get("end")
    ok = all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in (a, b))
    return ok and 0.0 <= b - a < SLIVER  # type: ignore[operator]


def _migrate_v2(d: dict[str, Any]) -> dict[str, Any]:
    """v2 named its sidecar "<project file name>.analysis.npz" (rewritten in place on every
    save, so a crash could pair a project with another save's analysis). The name it
    recorded still loads; the next save moves to a content-named sidecar. Effects shorter
    than a microsecond (left by v2's split at a frame edge) are dropped: load_project warns."""
    d = dict(d)
    if isinstance(d.get("segments"), list):
        d["segments"] = [s for s in d["segments"] if not _is_sliver(s)]
    d["version"] = 3
    return d


def _migrate_v3(d: dict[str, Any]) -> dict[str, Any]:
    """v3 knew single mode only: its params load with the defaults (mode "single", the paper's
    semantics), its effects keep their times bit-exactly and their recorded files (none for
    automatic effects: they are assigned on the next edit or render). Version 4 exists so an
    older SFX Studio refuses a layered project by name instead of "unknown field 'mode'"."""
    d = dict(d)
    d["version"] = 4
    return d


def _migrate_v4(d: dict[str, Any]) -> dict[str, Any]:
    """v4 had no markers and no editor session (issue 15): it opens with neither. Version 5
    exists so an older SFX Studio refuses a project with markers by name."""
    d = dict(d)
    d.setdefault("markers", [])
    d["version"] = 5
    return d


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _migrate_v1, 2: _migrate_v2, 3: _migrate_v3, 4: _migrate_v4}

# -- paths --------------------------------------------------------------------------------


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


def _inside_path(value: Any, field: str) -> str:
    """A path relative to a folder that cannot leave it: not absolute, no drive, no '..'."""
    s = v.text(value, field, max_len=1024)
    posix, win = PurePosixPath(s), PureWindowsPath(s)
    if not s or posix.is_absolute() or win.is_absolute() or win.drive or win.root:
        raise ValueError(f"{field} {value!r} must be a path inside the library folder")
    if ".." in posix.parts or ".." in win.parts:
        raise ValueError(f"{field} {value!r} must not contain '..'")
    return s


def _plain_file_name(value: Any, field: str) -> str:
    """A file name in the project's folder (the sidecar): no folders at all."""
    name = v.safe_name(value, field)
    if name.startswith(".") or ":" in name:
        raise ValueError(f"{field} {value!r} is not a usable file name")
    return name


def sidecar_name(project_file: str | Path, digest: str) -> str:
    return f"{Path(project_file).name}.{digest[:DIGEST_CHARS]}{SIDECAR_SUFFIX}"


def _own_sidecar_pattern(project_file: Path) -> re.Pattern[str]:
    """Sidecars this project file's saves create (content-named, and v2's fixed name)."""
    return re.compile(re.escape(project_file.name) + rf"(\.[0-9a-f]{{{DIGEST_CHARS}}})?"
                      + re.escape(SIDECAR_SUFFIX) + r"\Z")


# -- saving -------------------------------------------------------------------------------


def _sidecar_arrays(cache: AnalysisCache) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {
        "times": np.ascontiguousarray(cache.times, dtype=np.float64),
        "probs": np.ascontiguousarray(cache.probs, dtype=np.float32),
        "embeddings": np.ascontiguousarray(cache.embeddings),
        "class_names": np.array(cache.class_names, dtype=np.str_),
        "frame_duration": np.array(cache.frame_duration, dtype=np.float64),
        "duration": np.array(cache.duration, dtype=np.float64),
        "model": np.array(cache.model, dtype=np.str_),
    }
    if cache.motion is not None:  # absent, not empty, without it: old digests stay the same
        arrays["motion"] = np.ascontiguousarray(cache.motion, dtype=np.float32)
    return arrays


def analysis_digest(cache: AnalysisCache) -> str:
    """sha256 of the analysis content (not of the .npz bytes: zip entries carry a timestamp).

    Remembered in cache.derived for the same array objects (an analysis is never changed in
    place, a new one is a new cache), so saving an edited project every few seconds does not
    hash tens of MB of embeddings each time.
    """
    key = (id(cache.times), id(cache.probs), id(cache.embeddings), id(cache.motion),
           tuple(cache.class_names), cache.frame_duration, cache.duration, cache.model)
    memo = cache.derived.get("digest")
    if memo is not None and memo[0] == key:
        return str(memo[1])
    h = hashlib.sha256(b"sfxstudio-analysis-1\0")
    for name, arr in _sidecar_arrays(cache).items():
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}\0".encode())
        h.update(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)
    digest = h.hexdigest()
    cache.derived["digest"] = (key, digest)
    return digest


def project_to_json(project: Project, base: Path, analysis_file: str | bool | None = True) -> dict[str, Any]:
    """The project file's content. analysis_file: the sidecar name to record (True: the
    project's own `analysis_file`)."""
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
        "markers": [m.to_json() for m in sorted_markers(project.markers)],
        "analysis": project.analysis_file if analysis_file is True else (analysis_file or None),
    } | ({"session": project.session} if project.session else {})


def _recorded_sidecar(path: Path) -> str | None:
    """The sidecar the project file now on disk points at (None when none or unreadable)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_PROJECT_BYTES:
            return None
        data = json.loads(path.read_bytes().decode("utf-8"))
        name = data.get("analysis") if isinstance(data, dict) else None
        return _plain_file_name(name, "analysis") if name is not None else None
    except (OSError, ValueError, RecursionError):
        return None


def save_project(project: Project, path: str | Path) -> None:
    """Write the project and its analysis sidecar as one unit (see the module notes).

    On failure (ExportError, or any exception) the earlier project file and its sidecar are
    untouched and nothing this save wrote is left behind.
    """
    path = Path(path)
    check_target(path)  # a folder or FIFO in the way: say so before writing the sidecar
    base = path.resolve().parent
    old = _recorded_sidecar(path)
    new: str | None = None
    wrote_new = False
    if project.analysis is not None:
        new = sidecar_name(path, analysis_digest(project.analysis))
        if not (base / new).is_file():  # same content, same name: already on disk, complete
            save_analysis(project.analysis, base / new)
            wrote_new = True
    elif project.analysis_file:
        # The analysis was not loaded (or is missing): keep pointing at it when it is here.
        with contextlib.suppress(ValueError):
            name = _plain_file_name(project.analysis_file, "analysis")
            if (base / name).is_file():
                new = name
    try:
        atomic_write_json(path, project_to_json(project, base, analysis_file=new or False))
    except BaseException:
        if wrote_new and new != old:
            with contextlib.suppress(OSError):
                (base / new).unlink()  # type: ignore[operator]
        raise
    project.analysis_file = new
    _remove_old_sidecars(path, base, keep=new)


def _remove_old_sidecars(path: Path, base: Path, keep: str | None) -> None:
    """After the project file points at `keep`: remove this project's other sidecars (the one
    the previous version used, and any a killed save left behind)."""
    pattern = _own_sidecar_pattern(path)
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if name != keep and pattern.match(name):
            with contextlib.suppress(OSError):
                (base / name).unlink()


def save_analysis(cache: AnalysisCache, path: str | Path) -> None:
    """The sidecar alone, atomically (the recovery snapshots use it directly)."""
    arrays = _sidecar_arrays(cache)
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


# -- loading ------------------------------------------------------------------------------


def load_project(path: str | Path, load_analysis: bool = True) -> Project:
    path = Path(path)
    raw = read_bytes(path, "project file", MAX_PROJECT_BYTES)  # never blocks on a FIFO
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"not a valid project file (broken JSON: {exc})") from exc
    except RecursionError:
        raise BadInputError(path, "not a valid project file (nested too deeply)") from None
    base = path.resolve().parent
    if isinstance(data, dict) and isinstance(data.get("version"), int) and data["version"] < 3 \
            and isinstance(data.get("segments"), list):
        slivers = sum(_is_sliver(seg) for seg in data["segments"])
        if slivers:
            warn(path, f"{slivers} effect(s) shorter than a microsecond (left by an older version's "
                       "split) were dropped")
    if isinstance(data, dict) and data.get("session") is not None and not isinstance(data["session"], dict):
        warn(path, f"the editor session (view state and undo history) is not an object "
                   f"({type(data['session']).__name__}); the project opens without it")
    try:
        project = project_from_json(data, base)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        msg = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise BadInputError(path, msg.replace("\n", " ")) from None
    if project.analysis_file is None and isinstance(data, dict) and int(data.get("version", 0)) < 3 \
            and "analysis" not in data and (base / (path.name + SIDECAR_SUFFIX)).is_file():
        project.analysis_file = path.name + SIDECAR_SUFFIX  # v1 files did not record it
    if load_analysis and project.analysis_file:
        sidecar = base / project.analysis_file
        if sidecar.exists():  # a folder or FIFO there is refused by load_analysis_file
            project.analysis = load_analysis_file(sidecar)
            _check_segments_in_video(path, project)
        else:
            warn(sidecar, "the project's analysis file is missing; the project opens without "
                          "its analysis (analyse the video again)")
            project.analysis_file = None
    if load_analysis:
        _warn_unknown_classes(path, project)
    return project


def _warn_unknown_classes(path: Path, project: Project) -> None:
    """Effects of a class neither the analysis nor the built-in class list knows: a warning line
    naming the project (they play only if the sound library has that class)."""
    known = set(project.analysis.class_names) if project.analysis else set(default_classes().names)
    for name in sorted({s.class_name for s in project.segments} - known):
        warn(path, f"effects of class {name!r}, which this project's model does not know")


def _check_segments_in_video(path: Path, project: Project) -> None:
    cache = project.analysis
    if cache is None:
        return
    limit = cache.duration + cache.frame_duration / 2
    for i, s in enumerate(project.segments):
        if s.end > limit:
            raise BadInputError(path, f"segment {i + 1} ends at {s.end!r} s, after the end of the video "
                                      f"({cache.duration!r} s)")
    for i, m in enumerate(project.markers):
        if m.time > limit:
            raise BadInputError(path, f"marker {i + 1} is at {m.time!r} s, after the end of the video "
                                      f"({cache.duration!r} s)")


def project_from_json(data: Any, base: Path) -> Project:
    """Project from a parsed project file; ValueError naming the field and the value."""
    if not isinstance(data, dict):
        raise ValueError(f"not a valid project file (the top level must be a JSON object, "
                         f"not {type(data).__name__})")
    if data.get("format") != FORMAT:
        raise ValueError(f"not a valid project file (format is {data.get('format')!r}, expected {FORMAT!r})")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"version must be a whole number, not {version!r}")
    if version > VERSION:
        raise ValueError(f"version {version} is newer than this SFX Studio understands ({VERSION}); "
                         "update SFX Studio")
    while version < VERSION:
        if version not in MIGRATIONS:
            raise ValueError(f"version {version} is too old to migrate")
        data = MIGRATIONS[version](data)
        version = data["version"]

    segments = []
    for i, s in enumerate(v.array(data.get("segments", []), "segments")):
        try:
            segments.append(Segment.from_json(v.obj(s, "segment")))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            msg = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"segment {i + 1}: {msg}") from None
    attrs = {}
    for name, a in v.obj(data.get("class_attributes", {}), "class_attributes").items():
        v.safe_name(name, "class_attributes: class name")
        try:
            attrs[name] = SoundAttributes.from_json(v.obj(a, f"class {name}"))
        except (TypeError, ValueError, OverflowError) as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(f"class {name}") else f"class {name}: {msg}") from None
    variations: dict[str, list[str]] = {}
    for name, paths in v.obj(data.get("class_variations", {}), "class_variations").items():
        v.safe_name(name, "class_variations: class name")
        variations[name] = [_inside_path(p, f"class_variations: {name}")
                            for p in v.array(paths, f"class_variations: {name}", max_len=100_000)]
    params = AnalysisParams.from_json(data.get("params", {}))
    params = params.with_(model=_abs(params.model, base))
    analysis = data.get("analysis")
    markers = []
    for i, m in enumerate(v.array(data.get("markers", []), "markers", max_len=MAX_MARKERS)):
        try:
            markers.append(Marker.from_json(m))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"marker {i + 1}: {str(exc).removeprefix('marker: ')}") from None
    session = data.get("session")
    return Project(
        video=_abs(v.optional_text(data.get("video"), "video"), base),
        params=params,
        library=_abs(v.optional_text(data.get("library"), "library"), base),
        class_attributes=attrs,
        class_variations=variations,
        segments=segments,
        mix=MixSettings.from_json(data.get("mix", {})),
        analysis_file=None if analysis is None else _plain_file_name(analysis, "analysis"),
        markers=sorted_markers(markers),
        session=dict(session) if isinstance(session, dict) else {},
    )


# -- the sidecar --------------------------------------------------------------------------

_REQUIRED = ("times", "probs", "embeddings", "class_names", "frame_duration", "duration")
_OPTIONAL = ("model", "motion")
MOTION_SLACK = 1e-3  # float32 rounding of energy (in [0, 1]) and centre (in [-1, 1])
_FLOAT_KINDS = "f"


def _npy_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype[Any]]]:
    """Shape and dtype of every array in the .npz, from the zip directory and the .npy headers
    alone: nothing is allocated from a number the file states until it is known to be bounded."""
    from numpy.lib import format as npformat

    try:
        size_on_disk = path.stat().st_size
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise BadInputError(path, f"not a valid analysis file (not an .npz archive: {exc})") from None
    out: dict[str, tuple[tuple[int, ...], np.dtype[Any]]] = {}
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        expected = {f"{n}.npy" for n in (*_REQUIRED, *_OPTIONAL)}
        extra = sorted(set(names) - expected)
        if extra:
            raise BadInputError(path, f"not a valid analysis file (unexpected member {extra[0]!r})")
        if len(names) != len(set(names)):
            raise BadInputError(path, "not a valid analysis file (a member appears twice)")
        missing = [n for n in _REQUIRED if f"{n}.npy" not in names]
        if missing:
            raise BadInputError(path, f"not a valid analysis file (no {missing[0]!r} array)")
        total = sum(i.file_size for i in infos)
        if total > MAX_SIDECAR_BYTES:
            raise BadInputError(path, f"not a valid analysis file (its arrays would take {total} bytes)")
        for info in infos:
            name = info.filename[:-4]
            if info.compress_type == zipfile.ZIP_STORED:
                ok = info.file_size == info.compress_size <= size_on_disk
            else:  # deflate cannot expand more than ~1032:1
                ok = (info.file_size <= 1100 * max(info.compress_size, 1)
                      and info.compress_size <= size_on_disk)
            if not ok:
                raise BadInputError(path, f"not a valid analysis file ({name}: sizes do not add up)")
            try:
                with zf.open(info) as fh:
                    version = npformat.read_magic(fh)
                    if version == (1, 0):
                        shape, _fortran, dtype = npformat.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _fortran, dtype = npformat.read_array_header_2_0(fh)
                    else:
                        raise ValueError(f"npy version {version}")
                    header_len = fh.tell()
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, SyntaxError) as exc:
                raise BadInputError(path, f"not a valid analysis file ({name}: {exc})") from None
            if dtype.hasobject:
                raise BadInputError(path, f"not a valid analysis file ({name} holds Python objects)")
            count = math.prod(shape)
            if count * dtype.itemsize > info.file_size - header_len:
                raise BadInputError(path, f"not a valid analysis file ({name}: shape {shape} does not fit "
                                          f"its {info.file_size} bytes)")
            out[name] = (tuple(int(x) for x in shape), dtype)
    return out


def _check_headers(path: Path, heads: dict[str, tuple[tuple[int, ...], np.dtype[Any]]]) -> None:
    def bad(problem: str) -> BadInputError:
        return BadInputError(path, f"not a valid analysis file ({problem})")

    (tshape, tdt), (pshape, pdt), (eshape, edt) = heads["times"], heads["probs"], heads["embeddings"]
    (cshape, cdt) = heads["class_names"]
    if len(tshape) != 1 or tdt.kind not in _FLOAT_KINDS:
        raise bad(f"times must be a 1-D float array, not {tdt} of shape {tshape}")
    n = tshape[0]
    if len(cshape) != 1 or cdt.kind != "U" or not 0 < cshape[0] <= MAX_CLASSES:
        raise bad(f"class_names must be a list of 1 to {MAX_CLASSES} texts, not {cdt} of shape {cshape}")
    if pshape != (n, cshape[0]) or pdt.kind not in _FLOAT_KINDS:
        raise bad(f"probs must be a float array of shape {(n, cshape[0])}, not {pdt} of shape {pshape}")
    if len(eshape) != 2 or eshape[0] != n or edt.kind not in _FLOAT_KINDS:
        raise bad(f"embeddings must be a float array of {n} rows, not {edt} of shape {eshape}")
    for name in ("frame_duration", "duration"):
        shape, dt = heads[name]
        if shape != () or dt.kind not in "fiu":
            raise bad(f"{name} must be a single number, not {dt} of shape {shape}")
    if "model" in heads and (heads["model"][0] != () or heads["model"][1].kind != "U"):
        raise bad("model must be a single text")
    if "motion" in heads and (heads["motion"][0] != (n, 2) or heads["motion"][1].kind not in _FLOAT_KINDS):
        mshape, mdt = heads["motion"]
        raise bad(f"motion must be a float array of shape {(n, 2)}, not {mdt} of shape {mshape}")


def _all_finite(x: np.ndarray, block: int = 1 << 16) -> bool:
    """np.isfinite in row blocks: no full-size boolean copy of a large array."""
    return all(bool(np.isfinite(x[i : i + block]).all()) for i in range(0, x.shape[0], block))


def load_analysis_file(path: str | Path) -> AnalysisCache:
    """The sidecar, checked before and after loading; BadInputError naming the file and field."""
    path = Path(path)
    regular_file(path, "analysis file")  # a FIFO or device would block np.load
    heads = _npy_headers(path)
    _check_headers(path, heads)

    def bad(problem: str) -> BadInputError:
        return BadInputError(path, f"not a valid analysis file ({problem})")

    try:
        with np.load(path, allow_pickle=False) as z:
            times = np.asarray(z["times"], dtype=np.float64)
            probs = z["probs"]
            embeddings = z["embeddings"]
            names = [str(x) for x in z["class_names"]]
            frame_duration = float(z["frame_duration"])
            duration = float(z["duration"])
            model = str(z["model"]) if "model" in z.files else ""
            motion = np.asarray(z["motion"], dtype=np.float32) if "motion" in z.files else None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise bad(str(exc).replace("\n", " ")) from None
    if not (math.isfinite(frame_duration) and 0 < frame_duration <= MAX_FRAME_DURATION):
        raise bad(f"frame_duration must be a finite number in (0, {MAX_FRAME_DURATION:g}] s, "
                  f"not {frame_duration!r}")
    if not (math.isfinite(duration) and 0 < duration <= v.MAX_DURATION):
        raise bad(f"duration must be a finite number in (0, {v.MAX_DURATION:g}] s, not {duration!r}")
    if not np.isfinite(times).all():
        raise bad("times must be finite numbers")
    if times.size and (np.any(np.diff(times) < 0) or times[0] < 0 or times[-1] > duration + frame_duration):
        raise bad(f"times must be non-decreasing within [0, {duration + frame_duration!r}] s")
    if not _all_finite(probs):
        raise bad("probs must be finite numbers")
    if probs.size and (probs.min() < -1e-3 or probs.max() > 1 + 1e-3):
        raise bad(f"probs must lie between 0 and 1, not {float(probs.min())!r}..{float(probs.max())!r}")
    if not _all_finite(embeddings):
        raise bad("embeddings must be finite numbers")
    if motion is not None:
        if not np.isfinite(motion).all():
            raise bad("motion must be finite numbers")
        if motion.size and (motion[:, 0].min() < -MOTION_SLACK or motion[:, 0].max() > 1 + MOTION_SLACK):
            raise bad("motion energy must lie between 0 and 1")
        if motion.size and np.abs(motion[:, 1]).max() > 1 + MOTION_SLACK:
            raise bad("motion centre must lie between -1 and 1")
    for i, name in enumerate(names):
        if not name or len(name) > 255 or "\x00" in name:
            raise bad(f"class_names entry {i + 1} {name!r} is not a usable class name")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise bad(f"class_names lists {dup!r} twice")
    try:
        return AnalysisCache(times=times, probs=probs, embeddings=embeddings, class_names=names,
                             frame_duration=frame_duration, duration=duration, model=model,
                             motion=motion)
    except ValueError as exc:
        raise bad(str(exc)) from None
