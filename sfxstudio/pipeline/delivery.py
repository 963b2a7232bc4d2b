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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    warnings: list[str] = field(default_factory=list)
    report: Path | None = None
    clips: dict[int, Any] = field(default_factory=dict)  # segment id -> media.clips.ClipFile
    placements: list[Any] = field(default_factory=list)  # what was rendered (for the report)
    fps: float = 30.0
    start_timecode: str | None = None  # the video's timecode tag
    start_seconds: float = 0.0  # that timecode in seconds since midnight

    def summary_lines(self) -> list[str]:
        lines = []
        if self.effects is not None:
            lines.append(f"effects track loudness: {self.effects.describe()}"
                         + (f" (gain {self.effects_gain_db:+.1f} dB)" if self.effects_gain_db else ""))
        if self.mix is not None:
            lines.append(f"full mix loudness: {self.mix.describe()}")
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


def _deliver(project: Project, request: DeliveryRequest, library: Any, progress: ProgressFn | None,
             cancel: CancelFn | None) -> DeliveryResult:
    from sfxstudio.media import export, loudness
    from sfxstudio.media.bwf import BextInfo
    from sfxstudio.media.render import missing_sounds, render_mix, render_stems
    from sfxstudio.pipeline import load_library

    result = DeliveryResult()
    _step(progress, cancel, 0.0, "Rendering the effects")
    library = library if library is not None else load_library(project)
    duration, fps, tc_tag, tc_start = _video_facts(
        project, project.analysis.duration if project.analysis else None)
    result.fps, result.start_timecode, result.start_seconds = fps, tc_tag, tc_start
    placements = result.placements = _placements(project, library)
    effects = render_mix(placements, duration)
    for cls in missing_sounds(project.segments, library):
        result.warnings.append(f"no sound for class {cls!r}: its effects are silent")
    for cls in _unknown_classes(project):
        result.warnings.append(f"effects of class {cls!r}, which this project's model does not know")

    _step(progress, cancel, 0.15, "Measuring loudness")
    measured = loudness.measure(effects)
    norm = None
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
    rate = export.SAMPLE_RATE
    name = Path(project.video).stem if project.video else "effects"
    base_bext = BextInfo(originator_reference=name[:32], time_reference=round(tc_start * rate),
                         loudness_lufs=result.effects.integrated, true_peak_dbtp=result.effects.true_peak)

    if request.wav:
        _step(progress, cancel, 0.25, f"Writing {request.wav.name}")
        from dataclasses import replace

        export.export_wav(effects, request.wav, duration, rate, gain_db=gain,
                          bext=replace(base_bext, description=f"SFX Studio effects track: {name}"[:256]))
        result.outputs.append(("Effects track (Broadcast WAV)", request.wav, ""))

    if request.stems:
        _step(progress, cancel, 0.35, "Writing stems")
        peaks = export.export_stems(render_stems(placements, duration), request.stems, duration, rate,
                                    gain_db=gain, bext=BextInfo(originator_reference=name[:32],
                                                                time_reference=round(tc_start * rate)))
        for cls, peak in sorted(peaks.items()):
            if peak > 0.0:
                result.warnings.append(f"stem {cls!r} clips: peak {peak:+.1f} dBFS")
        result.outputs.append(("Stems (one Broadcast WAV per class)", request.stems, ""))

    clips_dir = request.clips
    for_timeline: Path | None = None
    if clips_dir is None and request.timelines:
        # Every timeline clip references its own media: render it beside the first timeline.
        for_timeline = next(iter(request.timelines.values()))
        clips_dir = for_timeline.with_name(for_timeline.stem + "_media")
    if clips_dir is not None:
        _step(progress, cancel, 0.45, "Writing per-effect clips")
        from sfxstudio.media.clips import export_clips

        made_folder = not clips_dir.exists()
        try:
            result.clips = export_clips(placements, clips_dir, fps, request.handles, gain_db=gain,
                                        tc_start=tc_start, reference=name)
        except ExportError as exc:
            if made_folder:  # nothing of this export stays behind (earlier clips are atomic)
                with contextlib.suppress(OSError):
                    shutil.rmtree(clips_dir)
            if for_timeline is None:
                raise
            # The editor asked for a timeline: say so first, then which media file failed.
            raise ExportError(for_timeline, f"its media could not be written ({exc})") from exc
        result.outputs.append((f"Per-effect clips ({len(result.clips)} Broadcast WAVs with handles)",
                               clips_dir, ""))

    if request.timelines:
        from sfxstudio.media.timeline import TIMELINE_FORMATS, export_timeline

        for i, (fmt, path) in enumerate(request.timelines.items()):
            _step(progress, cancel, 0.55 + 0.1 * i / len(request.timelines), f"Writing {path.name}")
            written = export_timeline(project, path, fmt, result.clips)
            extra = [p for p in written if p != path]
            note = f"also {', '.join(p.name for p in extra)}" if extra else ""
            result.outputs.append((f"Timeline: {TIMELINE_FORMATS[fmt].label}", path, note))

    if request.mp4:
        _step(progress, cancel, 0.7, f"Writing {request.mp4.name}")
        _deliver_mp4(project, request, effects, duration, result, progress, cancel)
    return result


def _deliver_mp4(project: Project, request: DeliveryRequest, effects: np.ndarray, duration: float,
                 result: DeliveryResult, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
    from sfxstudio.media import export, loudness
    from sfxstudio.media.audio_io import decode_video_audio
    from sfxstudio.media.render import db_to_gain

    assert request.mp4 is not None
    if not project.video:
        raise ValueError("the project has no video to mix into")
    g_o = project.mix.original_gain_db if request.original_gain_db is None else request.original_gain_db
    g_e = project.mix.effects_gain_db if request.effects_gain_db is None else request.effects_gain_db
    original = decode_video_audio(project.video)
    n = effects.shape[0]
    orig = None
    if original is not None:
        orig = np.zeros((n, 2), np.float32)
        m = min(n, original.shape[0])
        orig[:m] = original[:m] * np.float32(db_to_gain(g_o))
    master = 0.0
    if request.loudness_target is not None:
        target = request.loudness_target
        if orig is None:
            g_e += result.effects_gain_db if result.effects is not None else 0.0
        else:
            solved = loudness.effects_gain_for_mix(orig, effects * np.float32(db_to_gain(g_e)), target)
            if solved is not None:
                g_e += solved
            else:
                # The original alone is louder than the target (or the effects are silent):
                # keep the balance and lower the whole mix.
                mix_now = orig + effects * np.float32(db_to_gain(g_e))
                master = target - loudness.integrated_loudness(mix_now)
                if not math.isfinite(master):
                    master = 0.0
    mix = effects * np.float32(db_to_gain(g_e))
    if orig is not None:
        mix += orig
    if master:
        mix *= np.float32(db_to_gain(master))
    measured = loudness.measure(mix)
    if measured.true_peak > request.true_peak:
        cut = request.true_peak - loudness.TRUE_PEAK_SAFETY_DB - measured.true_peak
        if request.loudness_target is not None or measured.true_peak > 0.0:
            master += cut
            mix *= np.float32(db_to_gain(cut))
            measured = loudness.Loudness(measured.integrated + cut, measured.true_peak + cut)
            if request.loudness_target is not None:
                warn(request.mp4, f"mix loudness {loudness.fmt_db(measured.integrated)} LUFS, below "
                                  f"the {request.loudness_target:g} LUFS target: the true-peak ceiling "
                                  "allows no more")
    result.mix = measured
    result.mix_effects_gain_db = g_e

    def on_progress(f: float) -> None:
        if progress is not None:
            progress(0.7 + 0.3 * f, f"Writing {request.mp4.name if request.mp4 else ''}")

    res = export.export_mp4(project.video, mix, request.mp4, original=None, effects_gain_db=0.0,
                            progress=on_progress, cancel=cancel)
    result.outputs.append(("Video with effects (MP4)", request.mp4, res.note))


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
