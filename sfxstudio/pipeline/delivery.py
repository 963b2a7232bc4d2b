"""Delivery: every export of a project in one pass, shared by the command line and the window.

The effects are placed and mixed once; loudness is measured (and, with a target, normalised)
once; then the effects track, stems, per-effect clips, the MP4 and the timelines are written,
and a QC report goes beside the first output.

Loudness (EBU R128 -23 LUFS, ATSC A/85 -24 LKFS; true peak -1 dBTP by default):
- the effects track, its stems and its clips get one gain: target - measured loudness,
  lowered when the true peak would pass the ceiling (stems and clips keep summing to the track);
- the MP4's mix is original audio + effects: the effects gain is solved so the whole mix hits
  the target (exact, media.loudness.effects_gain_for_mix), and when the original alone is too
  loud, or the peak would pass the ceiling, the whole mix is lowered instead.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from sfxstudio.core.errors import Cancelled, ExportError, collect_warnings, warn
from sfxstudio.core.project import Project

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


@dataclass
class DeliveryRequest:
    wav: Path | None = None
    mp4: Path | None = None
    stems: Path | None = None
    clips: Path | None = None
    timelines: dict[str, Path] = field(default_factory=dict)  # media.timeline.TIMELINE_FORMATS key -> file
    loudness_target: float | None = None  # LUFS; None: measure only
    true_peak: float = -1.0  # dBTP ceiling
    handles: float = 1.0  # seconds each side of a clip, where the sound allows
    report: bool = True
    original_gain_db: float | None = None  # None: the project's mix settings
    effects_gain_db: float | None = None

    def outputs(self) -> list[Path]:
        return [p for p in (self.wav, self.mp4, self.stems, self.clips, *self.timelines.values()) if p]


@dataclass
class DeliveryResult:
    outputs: list[tuple[str, Path, str]] = field(default_factory=list)  # (what, path, note)
    effects: Any = None  # media.loudness.Loudness of the effects track as written
    mix: Any = None  # Loudness of the MP4's mix (None without an MP4)
    effects_gain_db: float = 0.0  # normalisation gain on the effects track
    mix_effects_gain_db: float | None = None  # the MP4's effects gain (after normalisation)
    mix_encoded_lufs: float | None = None  # the MP4's audio as encoded, read by ffmpeg's ebur128
    warnings: list[str] = field(default_factory=list)
    report: Path | None = None
    clips: dict[int, Any] = field(default_factory=dict)  # segment id -> media.clips.ClipFile
    placements: list[Any] = field(default_factory=list)  # what was rendered (for the report)
    fps: float = 30.0
    start_timecode: str | None = None  # the video's timecode tag
    start_seconds: float = 0.0  # that timecode in seconds since midnight
    timings: dict[str, float] = field(default_factory=dict)  # part -> wall seconds (parts overlap)

    def summary_lines(self) -> list[str]:
        lines = []
        if self.effects is not None:
            lines.append(f"effects track loudness: {self.effects.describe()}"
                         + (f" (gain {self.effects_gain_db:+.1f} dB)" if self.effects_gain_db else ""))
        if self.mix is not None:
            encoded = (f" (as encoded: {self.mix_encoded_lufs:.1f} LUFS)"
                       if self.mix_encoded_lufs is not None and math.isfinite(self.mix_encoded_lufs) else "")
            lines.append(f"full mix loudness: {self.mix.describe()}{encoded}")
        return lines


def _placements(project: Project, library: Any) -> list[Any]:
    try:
        from sfxstudio.pipeline.sounds import project_placements
    except ImportError:  # before issue 13's pipeline.sounds: the plain rule
        from sfxstudio.media.render import placements_for
        from sfxstudio.pipeline.jobs import class_attributes  # type: ignore[attr-defined]

        return placements_for(project.segments, library, class_attributes(project, library),
                              project.class_variations or None)
    return list(project_placements(project, library))


def _video_facts(project: Project, duration: float | None) -> tuple[float, float, str | None, float]:
    """(duration, fps, start timecode tag, start timecode seconds)."""
    fps = 0.0
    if project.video and Path(project.video).is_file():
        from sfxstudio.media.bwf import video_start_timecode
        from sfxstudio.media.video import probe

        info = probe(project.video)
        fps = info.fps
        if duration is None:
            duration = info.duration
        tag, seconds = video_start_timecode(project.video)
    else:
        tag, seconds = None, 0.0
    if duration is None:
        if project.analysis is None:
            raise ValueError("the project has no video")
        duration = project.analysis.duration
    if not fps and project.analysis is not None and project.analysis.frame_duration > 0:
        fps = 1.0 / project.analysis.frame_duration
    return duration, fps or 30.0, tag, seconds


def _unknown_classes(project: Project) -> list[str]:
    from sfxstudio.core.classes import default_classes

    known = set(project.analysis.class_names) if project.analysis else set(default_classes().names)
    return sorted({s.class_name for s in project.segments} - known)


def deliver(project: Project, request: DeliveryRequest, library: Any = None,
            progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> DeliveryResult:
    """Write every output `request` names; returns what was written and the loudness."""
    with collect_warnings() as lines:
        result = _deliver(project, request, library, progress, cancel)
    result.warnings = [*lines, *result.warnings]
    if request.report and request.outputs():
        _write_report(project, request, result)
    return result


def _step(progress: ProgressFn | None, cancel: CancelFn | None, fraction: float, message: str) -> None:
    if cancel is not None and cancel():
        raise Cancelled("export cancelled")
    if progress is not None:
        progress(fraction, message)


@contextlib.contextmanager
def _timed(timings: dict[str, float], part: str) -> Iterator[None]:
    """Add the wall time of the block to timings[part] (the benchmark's per-part figures)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[part] = round(timings.get(part, 0.0) + time.perf_counter() - start, 3)


def _render(placements: list[Any], duration: float, keep: bool) -> tuple[np.ndarray, dict[str, list[Any]]]:
    """The effects track (media.render.render_mix) and, when `keep`, each class's rendered blocks
    [(first sample, block)] in render order, sorted by class: the stems are written from those
    (media.export.export_sparse_stems) instead of rendering every effect again into a
    full-length buffer per class."""
    from sfxstudio.media.render import render_mix

    stems: dict[str, list[Any]] | None = {} if keep else None
    effects = render_mix(placements, duration, keep=stems)
    return effects, dict(sorted(stems.items())) if stems else {}


@dataclass(frozen=True)
class _EffectsLoudness:
    """What the MP4 worker needs from the main thread's loudness step."""

    powers: np.ndarray  # K-weighted 100 ms sub-block powers of the effects track as rendered
    gain_db: float  # the normalisation gain (0 without a target)


def _deliver(project: Project, request: DeliveryRequest, library: Any, progress: ProgressFn | None,
             cancel: CancelFn | None) -> DeliveryResult:
    """Render once, then write. The MP4 (decode the original audio, solve the mix, AAC encode in
    ffmpeg) and the timelines (pure Python, the AAF adapter) run on worker threads while this
    thread writes the clips, the WAV and the stems: ffmpeg, numpy and file writes release the
    GIL, so on two cores the export takes about as long as its longest strand, not their sum.
    Any failure or Cancel stops the workers (ffmpeg is killed, its temporary file removed)
    before the error is raised; outputs are listed in the order they always were."""
    from sfxstudio.media import export, loudness
    from sfxstudio.media.bwf import BextInfo
    from sfxstudio.media.render import missing_sounds
    from sfxstudio.pipeline import load_library

    result = DeliveryResult()
    timings = result.timings
    _step(progress, cancel, 0.0, "Rendering the effects")
    abort = threading.Event()

    def stopped() -> bool:
        return abort.is_set() or (cancel is not None and bool(cancel()))

    # The MP4 worker starts at once: decoding the video's own audio needs nothing rendered.
    rendered: Future[np.ndarray] = Future()
    effects_loudness: Future[_EffectsLoudness] = Future()
    mp4_done = [0.0]  # the MP4 worker's encoding progress, reported by this thread
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sfx-delivery")
    mp4_job = (pool.submit(_deliver_mp4, project, request, rendered, result, effects_loudness, stopped,
                           mp4_done) if request.mp4 else None)
    timelines_job: Future[list[tuple[str, Path, str]]] | None = None

    def step(fraction: float, message: str) -> None:
        for job in (mp4_job, timelines_job):
            if job is not None and job.done() and job.exception() is not None:
                job.result()  # a worker failed: stop here with its error
        _step(progress, cancel, fraction, message)

    outputs: dict[str, list[tuple[str, Path, str]]] = {}
    try:
        with _timed(timings, "render"):
            library = library if library is not None else load_library(project)
            duration, fps, tc_tag, tc_start = _video_facts(
                project, project.analysis.duration if project.analysis else None)
            result.fps, result.start_timecode, result.start_seconds = fps, tc_tag, tc_start
            placements = result.placements = _placements(project, library)
            effects, stem_blocks = _render(placements, duration, keep=request.stems is not None)
        rendered.set_result(effects)
        for cls in missing_sounds(project.segments, library):
            result.warnings.append(f"no sound for class {cls!r}: its effects are silent")
        for cls in _unknown_classes(project):
            result.warnings.append(f"effects of class {cls!r}, which this project's model does not know")

        step(0.15, "Measuring loudness")
        with _timed(timings, "loudness"):
            powers = loudness.sub_block_powers(effects)
            measured = loudness.Loudness(loudness.gated_loudness(powers), loudness.true_peak(effects))
        gain = 0.0
        if request.loudness_target is not None:
            norm = loudness.normalisation_gain(measured, request.loudness_target, request.true_peak)
            gain = norm.gain_db
            if norm.limited_by_peak:
                warn(request.wav or request.stems, "effects track: " + norm.note(request.loudness_target))
            result.effects = norm.after
        else:
            result.effects = measured
        result.effects_gain_db = gain
        effects_loudness.set_result(_EffectsLoudness(powers, gain))
        rate = export.SAMPLE_RATE
        name = Path(project.video).stem if project.video else "effects"
        base_bext = BextInfo(originator_reference=name[:32], time_reference=round(tc_start * rate),
                             loudness_lufs=result.effects.integrated, true_peak_dbtp=result.effects.true_peak)

        # Clips first: every timeline references them, and the timelines then run beside the rest.
        clips_dir = request.clips
        for_timeline: Path | None = None
        if clips_dir is None and request.timelines:
            # Every timeline clip references its own media: render it beside the first timeline.
            for_timeline = next(iter(request.timelines.values()))
            clips_dir = for_timeline.with_name(for_timeline.stem + "_media")
        if clips_dir is not None:
            step(0.25, "Writing per-effect clips")
            with _timed(timings, "clips"):
                result.clips = _write_clips(placements, clips_dir, for_timeline, fps, request, gain, tc_start,
                                            name)
            outputs["clips"] = [(f"Per-effect clips ({len(result.clips)} Broadcast WAVs with handles)",
                                 clips_dir, "")]
        if request.timelines:
            timelines_job = pool.submit(_write_timelines, project, request.timelines, result.clips, stopped,
                                        timings)

        if request.wav:
            step(0.4, f"Writing {request.wav.name}")
            with _timed(timings, "wav"):
                bext = replace(base_bext, description=f"SFX Studio effects track: {name}"[:256])
                export.export_wav(effects, request.wav, duration, rate, gain_db=gain, bext=bext)
            outputs["wav"] = [("Effects track (Broadcast WAV)", request.wav, "")]

        if request.stems:
            step(0.5, "Writing stems")
            with _timed(timings, "stems"):
                peaks = export.export_sparse_stems(
                    stem_blocks, request.stems, duration, rate, gain_db=gain,
                    bext=BextInfo(originator_reference=name[:32], time_reference=round(tc_start * rate)))
            stem_blocks.clear()
            for cls, peak in sorted(peaks.items()):
                if peak > 0.0:
                    result.warnings.append(f"stem {cls!r} clips: peak {peak:+.1f} dBFS")
            outputs["stems"] = [("Stems (one Broadcast WAV per class)", request.stems, "")]

        if timelines_job is not None:
            outputs["timelines"] = _wait(timelines_job, lambda: step(0.6, "Writing the timelines"))
        if mp4_job is not None:
            assert request.mp4 is not None
            label = f"Writing {request.mp4.name}"
            outputs["mp4"] = [_wait(mp4_job, lambda: step(0.7 + 0.3 * mp4_done[0], label))]
    except BaseException:
        abort.set()  # the workers stop at their next check; ffmpeg is killed
        for pending in (rendered, effects_loudness):
            if not pending.done():
                pending.set_exception(Cancelled("export stopped"))
        raise
    finally:
        pool.shutdown(wait=True)
    for part in ("wav", "stems", "clips", "timelines", "mp4"):
        result.outputs.extend(outputs.get(part, []))
    return result


_T = TypeVar("_T")


def _wait(job: Future[_T], tick: Callable[[], None]) -> _T:
    """job's result, calling tick() (progress, Cancel) every 0.1 s until it is done."""
    while True:
        try:
            return job.result(timeout=0.1)
        except FutureTimeout:
            tick()


def _write_clips(placements: list[Any], clips_dir: Path, for_timeline: Path | None, fps: float,
                 request: DeliveryRequest, gain: float, tc_start: float, name: str) -> dict[int, Any]:
    from sfxstudio.media.clips import export_clips

    made_folder = not clips_dir.exists()
    try:
        return export_clips(placements, clips_dir, fps, request.handles, gain_db=gain,
                            tc_start=tc_start, reference=name)
    except ExportError as exc:
        if made_folder:  # nothing of this export stays behind (earlier clips are atomic)
            with contextlib.suppress(OSError):
                shutil.rmtree(clips_dir)
        if for_timeline is None:
            raise
        # The editor asked for a timeline: say so first, then which media file failed.
        raise ExportError(for_timeline, f"its media could not be written ({exc})") from exc


def _write_timelines(project: Project, timelines: dict[str, Path], clips: dict[int, Any], stopped: CancelFn,
                     timings: dict[str, float]) -> list[tuple[str, Path, str]]:
    """Every requested timeline, in order (a worker thread: pure Python, mostly the AAF adapter)."""
    from sfxstudio.media.timeline import TIMELINE_FORMATS, export_timeline

    out = []
    for fmt, path in timelines.items():
        if stopped():
            raise Cancelled("export cancelled")
        with _timed(timings, f"timeline {fmt}"):
            written = export_timeline(project, path, fmt, clips)
        extra = [p for p in written if p != path]
        note = f"also {', '.join(p.name for p in extra)}" if extra else ""
        out.append((f"Timeline: {TIMELINE_FORMATS[fmt].label}", path, note))
    return out


# The AAC encoder may still move a mix's loudness (whatever it drops, K-weighting counted);
# beyond this the MP4 is encoded once more with the difference corrected.
ENCODED_TOLERANCE_LU = 0.3


def _deliver_mp4(project: Project, request: DeliveryRequest, rendered: Future[np.ndarray],
                 result: DeliveryResult, effects_loudness: Future[_EffectsLoudness], stopped: CancelFn,
                 done: list[float]) -> tuple[str, Path, str]:
    """The MP4 (a worker thread): original audio + effects solved to the loudness target under
    the true-peak ceiling, AAC encoded, its loudness as encoded read back and, when off by more
    than ENCODED_TOLERANCE_LU, corrected by one more encode."""
    from sfxstudio.media import export, loudness
    from sfxstudio.media.audio_io import decode_video_audio
    from sfxstudio.media.render import db_to_gain

    mp4, video = request.mp4, project.video
    assert mp4 is not None
    if not video:
        raise ValueError("the project has no video to mix into")
    timings = result.timings
    g_o = project.mix.original_gain_db if request.original_gain_db is None else request.original_gain_db
    g_e = project.mix.effects_gain_db if request.effects_gain_db is None else request.effects_gain_db
    target = request.loudness_target
    with _timed(timings, "mp4: original audio"):
        original = decode_video_audio(video)
    effects = rendered.result()  # the main thread's render
    if stopped():
        raise Cancelled("export cancelled")
    with _timed(timings, "mp4: mix loudness"):
        n = effects.shape[0]
        master = 0.0
        if original is not None:
            if original.shape[0] < n:  # the soundtrack ends before the video: silence after it
                original = np.concatenate([original, np.zeros((n - original.shape[0], 2), np.float32)])
            orig = original[:n]  # a view: the original gain is applied to the powers instead
            del original
            pa, pb, pab = _scaled_pair_powers(orig, effects, db_to_gain(g_o))
            if target is not None:
                solved = loudness.solve_effects_gain((pa, pb, pab), target, offset_db=g_e)
                if solved is not None:
                    g_e += solved
                else:
                    # The original alone is louder than the target (or the effects are silent):
                    # keep the balance and lower the whole mix.
                    master = target - loudness.mix_loudness(pa, pb, pab, db_to_gain(g_e))
                    if not math.isfinite(master):
                        master = 0.0
            # Into the decoded soundtrack's own buffer (this thread's): no 230 MB array to fault in.
            mix = _mix_in_place(orig, np.float32(db_to_gain(g_o)), effects, np.float32(db_to_gain(g_e)))
            del orig
            m2 = db_to_gain(master) ** 2
            integrated = loudness.mix_loudness(pa * m2, pb * m2, pab * m2, db_to_gain(g_e))
        else:
            fx = effects_loudness.result()  # the main thread's measurement
            if target is not None:
                g_e += fx.gain_db
            mix = effects * np.float32(db_to_gain(g_e))
            integrated = loudness.gated_loudness(fx.powers * db_to_gain(g_e + master) ** 2)
        if master:
            mix *= np.float32(db_to_gain(master))
        measured = loudness.Loudness(integrated, loudness.true_peak(mix))
    if measured.true_peak > request.true_peak:
        cut = request.true_peak - loudness.TRUE_PEAK_SAFETY_DB - measured.true_peak
        if target is not None or measured.true_peak > 0.0:
            master += cut
            mix *= np.float32(db_to_gain(cut))
            measured = loudness.Loudness(measured.integrated + cut, measured.true_peak + cut)
            if target is not None:
                warn(request.mp4, f"mix loudness {loudness.fmt_db(measured.integrated)} LUFS, below "
                                  f"the {target:g} LUFS target: the true-peak ceiling allows no more")
    result.mix = measured
    result.mix_effects_gain_db = g_e

    def encode(share: float, offset: float) -> Any:
        def on_progress(f: float) -> None:
            done[0] = offset + share * f

        with _timed(timings, "mp4: encode"):
            return export.export_mp4(video, mix, mp4, original=None, effects_gain_db=0.0,
                                     progress=on_progress, cancel=stopped, measure=target is not None)

    res = encode(1.0, 0.0)
    note = res.note
    if target is not None:
        encoded = _encoded_loudness(res, mp4, timings)
        off = target - encoded
        # Correct once, never past the true-peak ceiling.
        fix = min(off, request.true_peak - loudness.TRUE_PEAK_SAFETY_DB - measured.true_peak)
        if math.isfinite(off) and abs(off) > ENCODED_TOLERANCE_LU and abs(fix) >= 0.05:
            mix *= np.float32(db_to_gain(fix))
            res = encode(0.5, 0.5)
            measured = result.mix = loudness.Loudness(measured.integrated + fix, measured.true_peak + fix)
            encoded = _encoded_loudness(res, mp4, timings)
            extra = (f"the AAC encoder moved the loudness by {-off:+.1f} LU, so it was encoded again "
                     f"{fix:+.1f} dB")
            note = f"{note}; {extra}" if note else extra
        if math.isfinite(encoded) and abs(target - encoded) > 0.5:
            warn(request.mp4, f"the encoded mix reads {loudness.fmt_db(encoded)} LUFS, off the "
                              f"{target:g} LUFS target: the true-peak ceiling allows no more")
        result.mix_encoded_lufs = encoded
    return ("Video with effects (MP4)", mp4, note)


def _scaled_pair_powers(a: np.ndarray, b: np.ndarray,
                        gain: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """loudness.pair_powers(a * gain, b) without making a * gain: K-weighting is linear, so
    P(g a) = g^2 P(a) and P(g a + b) = g^2 P(a) + P(b) + g (P(a + b) - P(a) - P(b)). (A scaled
    copy of a 10-minute soundtrack is 230 MB written and read once more.)"""
    from sfxstudio.media import loudness

    pa, pb, pab = loudness.pair_powers(a, b)
    if gain == 1.0:
        return pa, pb, pab
    cross = pab - pa - pb
    return pa * gain**2, pb, np.maximum(pa * gain**2 + pb + gain * cross, 0.0)


_ADD_CHUNK = 1 << 18  # frames per step of _mix_in_place (a few MB: the temporary stays in cache)


def _mix_in_place(orig: np.ndarray, g_o: np.float32, effects: np.ndarray, g_e: np.float32) -> np.ndarray:
    """orig * g_o + effects * g_e, written over `orig` (same shape) in chunks and returned: the
    same float32 samples as `effects * g_e + orig * g_o` (addition is commutative) without a
    new array the size of the mix or a temporary one."""
    for pos in range(0, orig.shape[0], _ADD_CHUNK):
        piece = orig[pos : pos + _ADD_CHUNK]
        piece *= g_o
        piece += effects[pos : pos + _ADD_CHUNK] * g_e
    return orig


def _encoded_loudness(res: Any, mp4: Path, timings: dict[str, float]) -> float:
    """The MP4's audio loudness as encoded: ffmpeg's own reading, else measured from the file."""
    if res.encoded_lufs is not None:
        return float(res.encoded_lufs)
    from sfxstudio.media import loudness
    from sfxstudio.media.audio_io import decode_video_audio

    with _timed(timings, "mp4: measure the encoded audio"):
        audio = decode_video_audio(mp4)
        return loudness.integrated_loudness(audio) if audio is not None else -math.inf


def _write_report(project: Project, request: DeliveryRequest, result: DeliveryResult) -> None:
    from sfxstudio.media.qc_report import LoudnessRow, QcReport, effect_rows, report_path, write_report

    first = request.outputs()[0]
    path = report_path(first)
    report = QcReport(
        title=f"QC report: {first.name}", video=project.video, fps=result.fps,
        start_timecode=result.start_timecode, target_lufs=request.loudness_target,
        true_peak_ceiling=request.true_peak,
        outputs=[(what, str(p)) for what, p, _ in result.outputs],
        warnings=list(result.warnings))
    if result.effects is not None:
        report.loudness.append(LoudnessRow("Effects track (WAV, stems, clips)", result.effects.integrated,
                                           result.effects.true_peak, result.effects_gain_db))
    if result.mix is not None:
        report.loudness.append(LoudnessRow("Full mix (MP4: original + effects)", result.mix.integrated,
                                           result.mix.true_peak, 0.0))
    report.effects = effect_rows(result.placements, result.fps, result.start_seconds, result.clips)
    result.report = write_report(report, path)
    result.outputs.append(("QC report", path, ""))


def timeline_paths(options: Mapping[str, str | None]) -> dict[str, Path]:
    """{format: path} for the timeline options that were given."""
    return {fmt: Path(p) for fmt, p in options.items() if p}
