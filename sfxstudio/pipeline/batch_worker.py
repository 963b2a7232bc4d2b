"""Batch workers: the settings, one video's job, and the worker that analyses and exports it.

Shared by the local process pool (sfxstudio.pipeline.batch) and the Ray actors
(sfxstudio.pipeline.batch_ray); see sfxstudio.pipeline.batch for the rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfxstudio.core.errors import BadInputError, Cancelled, SfxError
from sfxstudio.core.project import AnalysisParams

TIMELINES = ("otio", "fcp7xml", "fcpxml", "edl", "aaf")
EXPORTS = ("wav", "mp4", "stems", "clips", *TIMELINES, "json", "project", "report")
DEFAULT_EXPORTS = ("wav", "json", "project")
_PROGRESS_EVERY = 0.5  # seconds between a worker's progress messages

ResultFn = Callable[[dict[str, Any]], None]
CancelFn = Callable[[], bool]


# --- settings and jobs ---------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSettings:
    """What every video of a batch is analysed and exported with (sent to each worker once)."""

    model: str  # a bundle folder (the built-in name already resolved)
    params: AnalysisParams
    library: str | None = None  # sound library folder; None: the built-in sounds
    exports: tuple[str, ...] = DEFAULT_EXPORTS
    threads: int = 1  # CPU threads per worker (model and decoding)
    runtime: str | None = None  # auto | tf | lite (None: $SFXSTUDIO_RUNTIME or auto)
    device: str = "auto"
    batch_size: int | None = None

    def __post_init__(self) -> None:
        unknown = [e for e in self.exports if e not in EXPORTS]
        if unknown:
            raise BadInputError(None, f"unknown export {unknown[0]!r}; choose from {', '.join(EXPORTS)}")
        if self.threads < 1:
            raise BadInputError(None, "threads per worker must be at least 1")

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes a video's outputs; a rerun redoes a video when it differs."""
        return {"params": self.params.to_json(), "model_id": model_fingerprint(self.model),
                "library": self.library, "exports": sorted(set(self.exports))}


def params_key(fingerprint: dict[str, Any]) -> str:
    text = json.dumps(fingerprint, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def model_fingerprint(folder: str | Path) -> str:
    """A bundle's identity: its bundle.json bytes and every file's name, size and mtime (a model
    retrained into the same folder is a new model; hashing gigabytes of weights is not needed)."""
    folder = Path(folder)
    h = hashlib.sha256()
    try:
        h.update((folder / "bundle.json").read_bytes())
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    except OSError as exc:
        raise BadInputError(folder, f"cannot read the model bundle ({exc.strerror or exc})") from None
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class VideoJob:
    """One video of the batch, as handed to a worker (plain data: it crosses processes)."""

    index: int
    path: str  # absolute
    name: str  # the output folder's name
    out: str  # absolute output folder of this video
    sha256: str
    size: int
    mtime_ns: int
    frames: int = 0  # expected analysed frames (for the ETA); 0 when unknown


@dataclass
class BatchSummary:
    records: list[dict[str, Any]] = field(default_factory=list)  # this run's records, input order
    interrupted: bool = False
    seconds: float = 0.0
    manifest: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.records if r["status"] == status)

    @property
    def exit_status(self) -> int:
        """0 every video ok (or skipped), 2 any failed, 130 interrupted."""
        if self.interrupted:
            return 130
        return 2 if self.count("failed") else 0


def output_paths(job: VideoJob, exports: Iterable[str]) -> dict[str, Path]:
    """Where each export of a video goes, inside its own folder, named after the video."""
    from sfxstudio.media.timeline import TIMELINE_FORMATS

    out, name = Path(job.out), job.name
    table = {"wav": out / f"{name}.effects.wav", "mp4": out / f"{name}.sfx.mp4",
             "stems": out / f"{name}.stems", "clips": out / f"{name}.clips",
             "json": out / f"{name}.segments.json", "project": out / f"{name}.sfxproj"}
    for fmt in TIMELINES:
        table[fmt] = out / f"{name}{TIMELINE_FORMATS[fmt].suffix}"
    return {e: table[e] for e in exports if e in table}


class Worker:
    """A loaded model and sound library; `run(job)` analyses and exports one video."""

    def __init__(self, settings: BatchSettings) -> None:
        from sfxstudio.media.library import SoundLibrary
        from sfxstudio.ml import lite, tf_setup
        from sfxstudio.ml.bundle import ModelBundle

        self.settings = settings
        on_gpu = False
        if settings.device == "gpu" or tf_setup.maybe_gpu():
            on_gpu = tf_setup.configure(device=settings.device)["device"] == "gpu"  # type: ignore[arg-type]
        runtime = lite.resolve_runtime(settings.runtime, on_gpu=on_gpu)
        self.bundle = ModelBundle.load(settings.model, runtime=runtime)
        from sfxstudio.core.paths import SOUNDS

        self.library = SoundLibrary.load(Path(settings.library) if settings.library else SOUNDS)
        self.host = f"{socket.gethostname()}:{os.getpid()}"
        # Import now what every video needs (seconds on a busy machine: scipy.signal for the
        # loudness meter), so it overlaps the other workers' start rather than the first video.
        import importlib

        for module in ("sfxstudio.pipeline.delivery", "sfxstudio.media.export", "sfxstudio.media.render",
                       "sfxstudio.core.project_io", "scipy.signal"):
            with contextlib.suppress(ImportError):
                importlib.import_module(module)

    def run(self, job: VideoJob, cancel: CancelFn | None = None,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """The video's manifest record (status ok or failed). Cancelled propagates."""
        started = time.monotonic()
        rec: dict[str, Any] = {"status": "failed", "duration": None, "frames": 0, "effects": 0,
                               "outputs": [], "warnings": [], "error": None, "worker": self.host}
        try:
            rec.update(self._run(job, cancel, progress))
            rec["status"] = "ok"
        except Cancelled:
            raise
        except (SfxError, OSError) as exc:
            # The video's own problem without its path (the record names it); any other file named.
            same = isinstance(exc, BadInputError) and exc.path and Path(exc.path).absolute() == Path(job.path)
            rec["error"] = _one_line(exc.problem if same and isinstance(exc, BadInputError) else exc)
        except MemoryError:
            rec["error"] = "out of memory while analysing this video"
        except Exception as exc:  # one bad file never stops the batch: say what, in one line
            rec["error"] = f"internal error ({type(exc).__name__}: {_one_line(exc, 300)})"
        rec["seconds"] = round(time.monotonic() - started, 3)
        return rec

    def _run(self, job: VideoJob, cancel: CancelFn | None,
             progress: Callable[[int], None] | None) -> dict[str, Any]:
        from sfxstudio import pipeline
        from sfxstudio.core.atomic import atomic_write_json
        from sfxstudio.core.errors import collect_warnings
        from sfxstudio.core.project import Project
        from sfxstudio.core.project_io import save_project

        s = self.settings
        opts = pipeline.AnalyzeOptions(batch_size=s.batch_size, device=s.device, runtime=s.runtime)
        cache = None
        last = 0.0
        with collect_warnings() as warnings:
            for p in pipeline.analyze(job.path, self.bundle, s.params, cancel=cancel, options=opts):
                now = time.monotonic()
                if progress is not None and p.total and (p.finished or now - last >= _PROGRESS_EVERY):
                    progress(p.done)
                    last = now
                if p.finished:
                    cache = p.result
            assert cache is not None
            project = Project(video=job.path, params=s.params, library=s.library, analysis=cache)
            pipeline.resegment(project)
            pipeline.record_sounds(project, self.library)
            paths = output_paths(job, s.exports)
            Path(job.out).mkdir(parents=True, exist_ok=True)
            if cancel is not None and cancel():
                raise Cancelled("batch cancelled")
            if "json" in paths:
                atomic_write_json(paths["json"], {
                    "video": project.video, "params": project.params.to_json(),
                    "segments": [seg.to_json() for seg in project.segments]})
            media = {k: v for k, v in paths.items() if k not in ("json", "project")}
            if media:
                from sfxstudio.pipeline.delivery import DeliveryRequest, deliver

                request = DeliveryRequest(
                    wav=media.get("wav"), mp4=media.get("mp4"), stems=media.get("stems"),
                    clips=media.get("clips"), timelines={f: media[f] for f in TIMELINES if f in media},
                    report="report" in s.exports)
                deliver(project, request, library=self.library, cancel=cancel)
            if "project" in paths:
                save_project(project, paths["project"])
        effects = [seg for seg in project.segments if seg.origin != "mute"]
        return {"duration": round(float(cache.duration), 6), "frames": int(cache.frames),
                "effects": len(effects), "classes": sorted({seg.class_name for seg in effects}),
                "outputs": [str(p) for p in paths.values()], "warnings": list(warnings)[:20]}


def _one_line(text: object, limit: int = 1000) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cap_threads(index: int, threads: int) -> list[int] | None:
    """Confine this process to `threads` of the cores it may use, chosen by its worker index
    (worker i gets cores i*threads...), so N workers share the machine without oversubscribing
    it: TensorFlow, LiteRT and the decoder size their thread pools from the cores a process may
    use (ml.tf_setup.cpu_count). Returns the cores, or None where affinity is not available."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) <= threads:
        return cores
    mine = [cores[(index * threads + j) % len(cores)] for j in range(threads)]
    os.sched_setaffinity(0, mine)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    return mine


class WorkerStartError(SfxError):
    """A worker could not load the model or the library: no video can be done, the batch stops."""
