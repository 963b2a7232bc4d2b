"""Long jobs as generators that yield progress and honour cooperative cancellation.

The CLI drives them with a progress bar, the GUI wraps them in a thin Qt worker
(napari style). Each job yields `Progress` items; the last one carries the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from sfxstudio.analysis import (
    LayeredCache,
    MotionTracker,
    auto_segments,
    layered_segments,
    top_labels,
)
from sfxstudio.analysis.layered import Smoothing
from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError, Cancelled, SfxError
from sfxstudio.core.project import AnalysisCache, AnalysisParams, Project
from sfxstudio.core.segments import Segment, merge_segments, min_frame_length
from sfxstudio.pipeline.sounds import load_library, project_placements

CancelFn = Callable[[], bool]


@dataclass
class Progress:
    """One step of a job. `partial` holds new results as they stream in."""

    done: int
    total: int
    started: float  # time.monotonic() at the start of the job
    message: str = ""
    partial: Any = None
    result: Any = None
    finished: bool = False

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Units (frames, seconds of audio...) per second so far."""
        el = self.elapsed
        return self.done / el if el > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, None when unknown."""
        r = self.rate
        if r <= 0 or not self.total:
            return None
        return max(0.0, (self.total - self.done) / r)


@dataclass
class AnalysisChunk:
    """Frames analysed since the previous progress step (for live timelines); `motion` is
    their (n, 2) motion energy and horizontal centre (AnalysisCache.motion)."""

    times: np.ndarray
    probs: np.ndarray
    motion: np.ndarray | None = None


class _MotionTap:
    """Motion of the frames on their way to the model, in the same decode pass.

    Wraps the frame iterator (it runs in the inference's producer thread, so the few tens of
    microseconds per frame overlap the model); `take(n)` hands the main thread the next n
    frames' (energy, centre) rows in order. Frames reach the model in the order they pass
    here, so row i belongs to the i-th analysed frame.
    """

    def __init__(self, frames: Any) -> None:
        self._frames = frames
        self._tracker = MotionTracker()
        self._rows: list[tuple[float, float]] = []
        self._taken = 0

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        for t, frame in self._frames:
            energy, centre = self._tracker.update(np.asarray(frame)[None])
            self._rows.append((float(energy[0]), float(centre[0])))  # list.append: thread-safe
            yield t, frame

    def take(self, n: int) -> np.ndarray:
        rows = self._rows[self._taken:self._taken + n]
        if len(rows) != n:  # cannot happen: a frame is tapped before it is handed on
            raise RuntimeError(f"motion for {n} frames expected, {len(rows)} computed")
        self._taken += n
        return np.asarray(rows, dtype=np.float32).reshape(n, 2)

    def close(self) -> None:
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


CPU_BATCH = 32  # TensorFlow on a CPU: enough to amortise its per-call overhead
LITE_BATCH = 8  # LiteRT/XNNPACK: little per-call overhead; bigger batches spill the caches
OPTIMISING_MESSAGE = "Optimising the model for this CPU (once per model; up to a minute for big models)"
GPU_BATCH = 256  # keeps a large GPU busy while the decoder thread fills the next batch


@dataclass
class AnalyzeOptions:
    batch_size: int | None = None  # None: sized to the device
    device: str = "auto"  # auto | cpu | gpu
    runtime: str | None = None  # auto | tf | lite (None: $SFXSTUDIO_RUNTIME or auto)
    frame_size_override: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def analyze(
    video: str | Path,
    model: str | Path | Any,
    params: AnalysisParams,
    cancel: CancelFn | None = None,
    options: AnalyzeOptions | None = None,
) -> Iterator[Progress]:
    """Classify the video's frames; the last Progress has result=AnalysisCache.

    `model` is a bundle folder or an already loaded ModelBundle.
    Raises Cancelled when cancel() becomes true, BadInputError on bad input.
    """
    from sfxstudio.media.video import analysis_rate, estimate_analysis_frames, iter_frames, probe
    from sfxstudio.ml import lite, tf_setup
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.inference import infer_frames

    options = options or AnalyzeOptions()
    started = time.monotonic()
    info = probe(video)
    yield Progress(0, 0, started, message="Loading model")
    on_gpu = False
    if options.device == "gpu" or tf_setup.maybe_gpu():
        # A GPU may be there (or is asked for): TensorFlow must be told before its first op.
        # Without one, the LiteRT path never imports TensorFlow (seconds saved per start).
        try:
            on_gpu = tf_setup.configure(device=options.device)["device"] == "gpu"  # type: ignore[arg-type]
        except RuntimeError as exc:  # e.g. --device gpu on a machine without one
            raise SfxError(f"cannot run the model on {options.device}: {exc}") from exc
    if isinstance(model, ModelBundle):
        bundle = model
    else:
        from sfxstudio.ml.imagenet import resolve_model

        # "imagenet" (or the built-in recogniser's folder, not built yet): built on first use.
        model = resolve_model(model)
        runtime = lite.resolve_runtime(options.runtime, on_gpu=on_gpu)
        if runtime == "lite" and not lite.cached_for_folder(model):
            yield Progress(0, 0, started, message=OPTIMISING_MESSAGE)
        bundle = ModelBundle.load(model, runtime=runtime)
    batch_size = options.batch_size or (
        GPU_BATCH if on_gpu else LITE_BATCH if bundle.runtime == "lite" else CPU_BATCH)
    if OTHERWISE not in bundle.class_names:
        raise BadInputError(bundle.path, f"the model has no {OTHERWISE!r} class")
    fa = analysis_rate(info, params.analysis_fps)
    total = estimate_analysis_frames(info, params.analysis_fps)
    size = options.frame_size_override or bundle.input_size
    frames = _MotionTap(iter_frames(video, size=size, analysis_fps=params.analysis_fps))
    times_parts: list[np.ndarray] = []
    probs_parts: list[np.ndarray] = []
    emb_parts: list[np.ndarray] = []
    motion_parts: list[np.ndarray] = []
    done = 0
    yield Progress(0, total, started, message=f"Analysing {Path(video).name}")
    try:
        for t, p, e in infer_frames(bundle, frames, batch_size=batch_size, cancel=cancel):
            times_parts.append(t)
            probs_parts.append(p.astype(np.float32, copy=False))
            emb_parts.append(e.astype(np.float16, copy=False))
            motion_parts.append(frames.take(len(t)))
            done += len(t)
            yield Progress(done, max(total, done), started, message="Analysing",
                           partial=AnalysisChunk(t, p, motion_parts[-1]))
            if cancel is not None and cancel():
                raise Cancelled("analysis cancelled")
    finally:
        frames.close()
    if cancel is not None and cancel():
        raise Cancelled("analysis cancelled")
    if done == 0:
        raise BadInputError(video, "no frames could be decoded")
    n_classes = len(bundle.class_names)
    cache = AnalysisCache(
        times=np.concatenate(times_parts),
        probs=np.concatenate(probs_parts) if probs_parts else np.zeros((0, n_classes), np.float32),
        embeddings=np.concatenate(emb_parts) if emb_parts else np.zeros((0, 0), np.float16),
        class_names=list(bundle.class_names),
        frame_duration=1.0 / fa,
        duration=info.duration,
        model=str(bundle.path),
        motion=np.concatenate(motion_parts),
    )
    yield Progress(done, done, started, message="Analysis finished", result=cache, finished=True)


def compute_auto_segments(cache: AnalysisCache, params: AnalysisParams) -> list[Segment]:
    """The cheap step after the cache: automatic effects from the per-frame probabilities.

    Single mode (params.mode "single"): threshold + mode filter + segmentation, DESIGN.md
    section 2 exactly (the per-frame argmax is kept in cache.derived["top"]). Layered mode:
    every class on its own (analysis.layered_segments with the project's smoothing,
    stickiness and per-class thresholds; its LayeredCache is kept in cache.derived["layered"]).
    Per-class thresholds of classes this analysis does not have are ignored (a project keeps
    them when its model changes).
    """
    if OTHERWISE not in cache.class_names:
        raise ValueError(f"analysis has no {OTHERWISE!r} class")
    if params.mode == "layered":
        layered = cache.derived.get("layered")
        if layered is None:
            layered = cache.derived["layered"] = LayeredCache(cache.probs)
        known = set(cache.class_names) - {OTHERWISE}
        class_tau = {c: t for c, t in params.class_thresholds.items() if c in known}
        return layered_segments(
            layered, cache.times, cache.frame_duration, cache.class_names,
            cache.class_names.index(OTHERWISE), params.k, params.threshold, cache.duration,
            class_tau=class_tau, smoothing=cast("Smoothing", params.smoothing),
            stickiness=params.stickiness)
    top = cache.derived.get("top")
    if top is None:
        top = cache.derived["top"] = top_labels(cache.probs)
    return auto_segments(
        cache.probs, cache.times, cache.frame_duration, cache.class_names,
        cache.class_names.index(OTHERWISE), params.k, params.threshold, cache.duration, top=top,
    )


def resegment(project: Project) -> list[Segment]:
    """Recompute automatic segments from the cache, keeping every manual and mute range
    (each clips the automatic effects of its own class; fragments under one frame go)."""
    if project.analysis is None:
        return list(project.segments)
    autos = compute_auto_segments(project.analysis, project.params)
    project.segments = merge_segments(autos, project.manual_segments(),
                                      min_length=min_frame_length(project.analysis.frame_duration))
    return project.segments


def render_project(project: Project, library: Any | None = None, duration: float | None = None,
                   seed: int = 0, follow_pan: bool = False) -> np.ndarray:
    """The effects mix of the project: float32 48 kHz stereo, exactly the video's duration.

    Each effect plays its recorded file, with its hits on visual onsets and its auto pan
    (pipeline.sounds.project_placements)."""
    from sfxstudio.media.render import render_mix

    library = library or load_library(project)
    if duration is None:
        if project.analysis is not None:
            duration = project.analysis.duration
        elif project.video:
            from sfxstudio.media.video import probe

            duration = probe(project.video).duration
        else:
            raise ValueError("the project has no video")
    return render_mix(project_placements(project, library, seed=seed, follow_pan=follow_pan), duration)


def run_job(job: Iterator[Progress], on_progress: Callable[[Progress], None] | None = None) -> Any:
    """Drive a job generator to its end; returns the last step's result."""
    result = None
    for p in job:
        if on_progress is not None:
            on_progress(p)
        if p.finished:
            result = p.result
    return result


def analyze_to_cache(video: str | Path, model: str | Path | Any, params: AnalysisParams,
                     cancel: CancelFn | None = None) -> AnalysisCache:
    """`analyze` without progress reporting: the finished AnalysisCache."""
    cache = run_job(analyze(video, model, params, cancel=cancel))
    assert isinstance(cache, AnalysisCache)
    return cache


def evaluate_video(model: str | Path | Any, video: str | Path, truth_json: str | Path, k: float,
                   tau: float, analysis_fps: float | None = None, collar: float = 0.2,
                   resolution: float = 1.0) -> dict[str, Any]:
    """Event F1 (onset collar, 200 ms) and segment F1 (1 s cells) of the proposed effects vs
    truth (SFX Studio's truth file or hand-made multi-label truth), per class and overall."""
    from sfxstudio.ml import evaluate

    return evaluate.evaluate_video(model, video, truth_json, k, tau, analysis_fps,
                                   analyze=analyze_to_cache, collar=collar, resolution=resolution)
