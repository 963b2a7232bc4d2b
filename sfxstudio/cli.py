"""Command line: `sfxstudio [gui|demo|analyze|export|train|evaluate|teach|model] ...`.

Exit status: 0 success; 2 bad input or an output that cannot be written (one line naming the
file and the problem); 130 cancelled; 1 only for a bug (one line with the log file's path,
where the traceback is). Problems that do not stop a job are warning lines; --strict makes
them errors. Every output path is checked against the inputs before any work starts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sfxstudio import __version__
from sfxstudio.core import validate
from sfxstudio.core.errors import BadInputError, Cancelled, ExportError, SfxError, set_strict
from sfxstudio.core.outputs import Protected, check_outputs, protect
from sfxstudio.core.paths import SOUNDS
from sfxstudio.core.project import (
    DEFAULT_SMOOTHING,
    DEFAULT_STICKINESS,
    MAX_STICKINESS,
    SMOOTHINGS,
    AnalysisParams,
    Project,
)
from sfxstudio.pipeline.progress import drive

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130
LOG_DIR_ENV = "SFXSTUDIO_DATA_DIR"  # the same override as the window's log and recovery folder


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (its default prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _checked(kind: Callable[[str], float], field: str, lo: float | None = None, hi: float | None = None,
             lo_open: bool = False) -> Callable[[str], Any]:
    """An argparse type: a finite number in range, with a message naming the value."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field} must be a number, not {text!r}") from None
        try:
            return validate.number(value, field, lo, hi, lo_open)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def _int_in(lo: int, hi: int, field: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return validate.integer(int(text), field, lo, hi)
        except ValueError as exc:
            msg = str(exc) if "must be" in str(exc) else f"{field} must be a whole number, not {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
    return parse


_k = _checked(float, "k", 0.0, validate.MAX_K)
_unit_float = _checked(float, "threshold", 0.0, 1.0)
_gain = _checked(float, "gain (dB)", -validate.MAX_GAIN_DB, validate.MAX_GAIN_DB)
_batch = _int_in(1, 4096, "batch size")
_epochs = _int_in(0, 100_000, "epochs")


_stickiness = _checked(float, "stickiness", 0.0, MAX_STICKINESS)


def _class_threshold(text: str) -> tuple[str, float]:
    """CLASS=T: a class's own threshold in layered mode."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected CLASS=THRESHOLD, not {text!r}")
    try:
        name = validate.safe_name(name, "class name")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name, _checked(float, f"threshold of {name}", 0.0, 1.0)(value.strip())


def _analysis_fps(text: str) -> float | None:
    if text.lower() in ("all", "every", "0"):
        return None
    try:
        value = float(text)
    except ValueError:
        msg = f"expected a number of frames per second or 'all', not {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    try:
        return validate.number(value, "the analysis rate", 0.0, validate.MAX_ANALYSIS_FPS, lo_open=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sfxstudio", description="Sound effects for your video, drafted.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Every sub-command takes --strict (after its name, where options usually go).
    common = _Parser(add_help=False)
    common.add_argument("--strict", action="store_true",
                        help="treat warnings (unusable sounds, unknown classes...) as errors")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    g = sub.add_parser("gui", parents=[common], help="open the editor window (the default)")
    g.add_argument("target", nargs="?", help="a video or .sfxproj project to open")
    g.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit")

    d = sub.add_parser("demo", parents=[common],
                       help="render the demo video, analyse it and export the results")
    d.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    d.add_argument("--seconds", type=_checked(float, "seconds", 1.0, 3600.0), default=64.0,
                   help=argparse.SUPPRESS)

    a = sub.add_parser("analyze", parents=[common], aliases=["analyse"],
                       help="analyse a video and export effects")
    a.add_argument("video")
    a.add_argument("--model", default="imagenet",
                   help="model bundle folder, or 'imagenet': the built-in real-footage recogniser "
                        "(EfficientNet-Lite0, installed with SFX Studio, built on first use; the default)")
    a.add_argument("--k", type=_k, default=1.0, help="mode filter half width in seconds (default 1.0)")
    a.add_argument("--threshold", type=_unit_float, default=0.5, help="probability threshold tau (0.5)")
    a.add_argument("--analysis-fps", type=_analysis_fps, default=None, metavar="F|all",
                   help="frames per second to analyse, or 'all' (default: all)")
    a.add_argument("--layers", action="store_true",
                   help="layered mode: every class decided on its own, so effects may overlap")
    a.add_argument("--smoothing", choices=SMOOTHINGS, default=None,
                   help="layered mode's temporal model: majority (over +-k s) or hmm "
                        f"(on/off hidden Markov model; default {DEFAULT_SMOOTHING})")
    a.add_argument("--stickiness", type=_stickiness, default=None, metavar="S",
                   help=f"hmm stickiness in [0, {MAX_STICKINESS:g}] (default {DEFAULT_STICKINESS:g})")
    a.add_argument("--class-threshold", type=_class_threshold, action="append", default=[],
                   metavar="CLASS=T", help="layered mode: a class's own threshold (repeatable)")
    a.add_argument("--library", help="sound library folder (default: the built-in sounds/)")
    a.add_argument("--project", metavar="P", help="write a .sfxproj project")
    a.add_argument("--wav", metavar="W", help="write the effects track (48 kHz 24-bit WAV)")
    a.add_argument("--mp4", metavar="M", help="write the video with the effects mixed in")
    a.add_argument("--json", metavar="J", help="write the segments as JSON")
    a.add_argument("--batch-size", type=_batch, default=None,
                   help="frames per model call (default: by device)")
    a.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                   help="where the model runs (default: a GPU when there is one)")
    a.add_argument("--runtime", choices=("auto", "tf", "lite"), default=None,
                   help="what runs the model: LiteRT/XNNPACK (lite, the CPU default; converted once "
                        "per model and cached), TensorFlow (tf, the GPU default)")
    a.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("export", parents=[common], help="export a project's effects")
    e.add_argument("project")
    e.add_argument("--wav", metavar="W", help="the effects track (48 kHz 24-bit Broadcast WAV)")
    e.add_argument("--mp4", metavar="M", help="the video with the effects mixed in")
    e.add_argument("--stems", metavar="DIR", help="one Broadcast WAV per class")
    e.add_argument("--clips", metavar="DIR", help="one Broadcast WAV per effect, with handles")
    e.add_argument("--otio", metavar="F", help="timeline: OpenTimelineIO (.otio)")
    e.add_argument("--fcp7xml", metavar="F", help="timeline: FCP 7 XML (Premiere Pro, DaVinci Resolve)")
    e.add_argument("--fcpxml", metavar="F", help="timeline: FCPXML (Final Cut Pro, DaVinci Resolve)")
    e.add_argument("--edl", metavar="F", help="timeline: CMX3600 EDL (one list per track)")
    e.add_argument("--aaf", metavar="F", help="timeline: AAF (Avid Media Composer, Pro Tools)")
    e.add_argument("--loudness", type=_loudness_target, default=None, metavar="-23|-24|LUFS|off",
                   help="normalise to an integrated loudness: -23 (EBU R128), -24 (ATSC A/85), "
                        "off (default: measure only). The effects track, stems and clips; the full "
                        "mix for --mp4")
    e.add_argument("--true-peak", type=_checked(float, "true peak (dBTP)", -20.0, 0.0), default=-1.0,
                   metavar="DBTP", help="true-peak ceiling for --loudness (default -1)")
    e.add_argument("--handles", type=_checked(float, "handles (s)", 0.0, 10.0), default=1.0,
                   metavar="S", help="seconds of handle each side of a clip, where the sound allows (1)")
    e.add_argument("--no-report", action="store_true", help="no QC report (*.report.html) beside the export")
    e.add_argument("--original-gain", type=_gain, default=None, help="dB, original audio in the MP4")
    e.add_argument("--effects-gain", type=_gain, default=None, help="dB, effects in the MP4")

    t = sub.add_parser("train", parents=[common],
                       help="train a model bundle on a folder of images (one sub-folder per class)")
    t.add_argument("data_dir")
    t.add_argument("--backbone", default="mobilenetv3small")
    t.add_argument("--out", required=True)
    t.add_argument("--weights", default="imagenet", help="imagenet | none | PATH to a weights file")
    t.add_argument("--head-epochs", type=_epochs, default=100)
    t.add_argument("--finetune-epochs", type=_epochs, default=100)
    t.add_argument("--batch-size", type=_batch, default=32)
    t.add_argument("--download", action="store_true", help="allow downloading ImageNet weights")

    ev = sub.add_parser("evaluate", parents=[common],
                        help="evaluate a model on images or on a video with ground truth")
    ev.add_argument("model", help="model bundle folder, or 'imagenet' (the built-in real-footage recogniser)")
    ev.add_argument("data_dir", nargs="?")
    ev.add_argument("--report", metavar="DIR")
    ev.add_argument("--video")
    ev.add_argument("--truth", help="ground truth: SFX Studio's truth file or hand-made multi-label "
                                    "truth ({video, duration, segments: [{class, start, end}]})")
    ev.add_argument("--k", type=_k, default=1.0)
    ev.add_argument("--threshold", type=_unit_float, default=0.5)
    ev.add_argument("--analysis-fps", type=_analysis_fps, default=None)
    ev.add_argument("--collar", type=_checked(float, "collar", 0.0, 60.0), default=0.2,
                    help="event F1: largest onset difference that still counts, seconds (0.2)")
    ev.add_argument("--resolution", type=_checked(float, "resolution", 0.01, 60.0), default=1.0,
                    help="segment F1: cell length in seconds (1.0)")

    te = sub.add_parser("teach", parents=[common], help="improve a model from the corrections in projects")
    te.add_argument("projects", nargs="+")
    te.add_argument("--base", required=True, help="the model bundle to start from")
    te.add_argument("--out", required=True)

    lb = sub.add_parser("library", help="the editor's own sound library")
    lsub = lb.add_subparsers(dest="library_command", parser_class=_Parser)
    li = lsub.add_parser("import", parents=[common],
                         help="index a folder of sounds in place (UCS CatIDs, BWF descriptions, keywords)")
    li.add_argument("folder")
    li.add_argument("--out", metavar="FILE",
                    help="the index (JSON; the reviewable table goes beside it as CSV); "
                         "default: FOLDER/sfxstudio-index.json. An existing index is updated: "
                         "unchanged files are not read again")

    m = sub.add_parser("model", help="model bundles")
    msub = m.add_subparsers(dest="model_command", parser_class=_Parser)
    mc = msub.add_parser("create", parents=[common], help="create an untrained bundle")
    mc.add_argument("--backbone", required=True)
    mc.add_argument("--weights", default="none")
    mc.add_argument("--classes", help="JSON list of class names or a classes.json")
    mc.add_argument("--out", required=True)
    mc.add_argument("--download", action="store_true")
    mi = msub.add_parser("imagenet", parents=[common],
                         help="create the ImageNet recogniser bundle (no training)")
    mi.add_argument("--architecture", choices=("efficientnetlite0", "resnet152v2"), default="resnet152v2",
                    help="efficientnetlite0: the weights installed with SFX Studio (offline); "
                         "resnet152v2 (default): the paper's network, a local weights file or a download")
    mi.add_argument("--weights", default="imagenet")
    mi.add_argument("--out", required=True)
    mi.add_argument("--download", action="store_true")
    mz = msub.add_parser("zeroshot", parents=[common],
                         help="create an open-vocabulary (SigLIP/CLIP) model from a local keras-hub preset")
    mz.add_argument("--preset", required=True, help="a local keras-hub SigLIP/CLIP preset folder")
    mz.add_argument("--out", required=True)
    mz.add_argument("--mode", choices=("softmax", "sigmoid"), default="softmax",
                    help="calibration: softmax over the classes and 'otherwise' (default), "
                         "or SigLIP's sigmoid")
    md = msub.add_parser("download-preset", parents=[common],
                         help="download SigLIP/CLIP weights (hundreds of MB; needs --yes)")
    md.add_argument("name", help="a keras-hub preset name, e.g. siglip_base_patch16_224")
    md.add_argument("--out", required=True, help="folder to write the preset into")
    md.add_argument("--yes", action="store_true", help="confirm the download (nothing is fetched without it)")
    ml = msub.add_parser("list", parents=[common],
                         help="list the models the window offers (built-in, models/, FOLDERs)")
    ml.add_argument("folders", nargs="*")
    _add_batch_parser(sub, common)
    return parser


def _add_batch_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    from sfxstudio.pipeline.batch import DEFAULT_EXPORTS, EXPORTS

    b = sub.add_parser("batch", parents=[common],
                       help="analyse and export many videos (folders searched recursively), resumable")
    b.add_argument("inputs", nargs="+", metavar="INPUT", help="video files and folders of videos")
    b.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: DIR/<video>/ per video and DIR/manifest.jsonl")
    b.add_argument("--model", default="imagenet", help="model bundle folder or 'imagenet' (the default)")
    b.add_argument("--library", help="sound library folder (default: the built-in sounds/)")
    b.add_argument("--exports", type=_exports, default=DEFAULT_EXPORTS, metavar="LIST",
                   help=f"comma-separated, from {','.join(EXPORTS)} (default: {','.join(DEFAULT_EXPORTS)})")
    b.add_argument("--workers", type=_int_in(1, 1024, "workers"), default=None,
                   help="worker processes, each loading the model once (default: cores / --threads)")
    b.add_argument("--threads", type=_int_in(1, 256, "threads"), default=1,
                   help="CPU threads per worker (default 1)")
    b.add_argument("--ray", metavar="local|ADDRESS", default=None,
                   help="run on Ray: 'local' starts a local instance, else a cluster address")
    b.add_argument("--k", type=_k, default=1.0, help="mode filter half width in seconds (default 1.0)")
    b.add_argument("--threshold", type=_unit_float, default=0.5, help="probability threshold tau (0.5)")
    b.add_argument("--analysis-fps", type=_analysis_fps, default=None, metavar="F|all",
                   help="frames per second to analyse, or 'all' (default: all)")
    b.add_argument("--runtime", choices=("auto", "tf", "lite"), default=None,
                   help="what runs the model (see analyze --help)")
    b.add_argument("--quiet", action="store_true", help="no progress line")


def _exports(text: str) -> tuple[str, ...]:
    from sfxstudio.pipeline.batch import EXPORTS

    items = tuple(dict.fromkeys(e.strip().lower() for e in text.split(",") if e.strip()))
    unknown = [e for e in items if e not in EXPORTS]
    if not items or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown export {unknown[0]!r}; " if unknown else "no exports given; "
            + f"choose from {','.join(EXPORTS)}")
    return items


def cmd_analyze(args: argparse.Namespace) -> int:
    from sfxstudio import pipeline
    from sfxstudio.core.project_io import save_project

    video = Path(args.video)
    library = Path(args.library) if args.library else SOUNDS
    project_path = Path(args.project) if args.project else None
    from sfxstudio.ml.imagenet import is_builtin_name

    builtin = is_builtin_name(args.model)
    check_outputs(
        {"--wav": args.wav, "--mp4": args.mp4, "--json": args.json, "--project": args.project},
        [*protect("the input video", video),
         *([] if builtin else protect("the model folder", args.model, is_folder=True)),
         *protect("the sound library", library, is_folder=True), *_sidecars(project_path)])
    from sfxstudio.media.library import SoundLibrary

    sounds = SoundLibrary.load(library)  # a broken library.json fails now, not after the analysis
    if builtin:
        from sfxstudio.media.video import probe

        probe(video)  # a bad video fails before the built-in model is built (first run: seconds)
        args.model = str(_resolve_model(args.model))
    params = AnalysisParams(k=args.k, threshold=args.threshold, analysis_fps=args.analysis_fps,
                            model=str(Path(args.model).resolve()), **_layered_options(args))
    opts = pipeline.AnalyzeOptions(batch_size=args.batch_size, device=args.device, runtime=args.runtime)
    cache = drive(pipeline.analyze(video, args.model, params, options=opts), "Analysing", quiet=args.quiet)
    project = Project(video=str(video.resolve()), params=params,
                      library=str(Path(args.library).resolve()) if args.library else None, analysis=cache)
    pipeline.resegment(project)
    _check_class_thresholds(params, cache.class_names)
    pipeline.record_sounds(project, sounds)  # the project says which file each effect plays
    write_outputs(project, wav=args.wav, mp4=args.mp4, json_path=args.json, project_path=args.project,
                  library=sounds)
    if args.project:
        save_project(project, args.project)
        print(f"project: {args.project}", file=sys.stderr)
    effects = [s for s in project.segments if s.origin != "mute"]
    print(f"{len(effects)} effects in {cache.frames} analysed frames", file=sys.stderr)
    if not (args.wav or args.mp4 or args.json or args.project):
        for s in effects:
            print(f"{s.start:9.3f} {s.end:9.3f}  {s.class_name}")
    return EXIT_OK


def _layered_options(args: argparse.Namespace) -> dict[str, Any]:
    """AnalysisParams fields from --layers, --smoothing, --stickiness and --class-threshold.
    The layered-only options without --layers are refused: single mode would ignore them."""
    given = [opt for opt, value in (("--smoothing", args.smoothing), ("--stickiness", args.stickiness),
                                    ("--class-threshold", args.class_threshold or None))
             if value is not None]
    if given and not args.layers:
        raise BadInputError(None, f"{given[0]} applies to layered mode only: add --layers")
    out: dict[str, Any] = {"mode": "layered"} if args.layers else {}
    if args.smoothing is not None:
        out["smoothing"] = args.smoothing
    if args.stickiness is not None:
        out["stickiness"] = args.stickiness
    if args.class_threshold:
        out["class_thresholds"] = dict(args.class_threshold)  # the last one given for a class wins
    return out


def _check_class_thresholds(params: AnalysisParams, class_names: Sequence[str]) -> None:
    from sfxstudio.core.errors import warn

    for name in sorted(set(params.class_thresholds) - set(class_names)):
        warn(None, f"--class-threshold {name}: the model has no class {name!r}; ignored")


def _sidecars(project_path: Path | None) -> list[Protected]:
    """The analysis files that belong to a project (written and removed by save_project only)."""
    if project_path is None or not project_path.parent.is_dir():
        return []
    return [p for f in sorted(project_path.parent.glob(f"{project_path.name}*.analysis.npz"))
            for p in protect("the project's analysis file", f)]


def write_outputs(project: Project, wav: str | None = None, mp4: str | None = None,
                  json_path: str | None = None, project_path: str | None = None,
                  stems: str | None = None, otio: str | None = None, library: Any = None) -> None:
    from sfxstudio import pipeline
    from sfxstudio.core.atomic import atomic_write_json

    if json_path:
        data = {"video": project.video, "params": project.params.to_json(),
                "segments": [s.to_json() for s in project.segments]}
        atomic_write_json(json_path, data)
        print(f"segments: {json_path}", file=sys.stderr)
    if not (wav or mp4 or stems or otio):
        return
    from sfxstudio.media import export
    from sfxstudio.media.audio_io import MIX_RATE

    library = library if library is not None else pipeline.load_library(project)
    duration = project.analysis.duration if project.analysis else None
    mix = pipeline.render_project(project, library, duration=duration)
    if duration is None:
        duration = mix.shape[0] / MIX_RATE
    if wav:
        export.export_wav(mix, wav, duration)
        print(f"effects track: {wav}", file=sys.stderr)
    if mp4:
        if not project.video:
            raise BadInputError(project_path, "the project has no video to mix into")
        res = export.export_mp4(project.video, mix, mp4, original_gain_db=project.mix.original_gain_db,
                                effects_gain_db=project.mix.effects_gain_db)
        note = getattr(res, "note", "")
        print(f"video with effects: {mp4}" + (f" ({note})" if note else ""), file=sys.stderr)
    if stems:
        from sfxstudio.media.render import render_stems

        placements = pipeline.project_placements(project, library)  # the mix's files, onsets, pans
        Path(stems).mkdir(parents=True, exist_ok=True)
        export.export_stems(render_stems(placements, duration), stems, duration)
        print(f"stems: {stems}", file=sys.stderr)
    if otio:
        from sfxstudio.media.timeline import export_otio

        export_otio(project, otio)
        print(f"timeline: {otio}", file=sys.stderr)


_TIMELINE_OPTIONS = ("otio", "fcp7xml", "fcpxml", "edl", "aaf")


def _loudness_target(text: str) -> float | None:
    """--loudness: 'off', 'ebu' (-23), 'atsc' (-24) or a number of LUFS in [-70, -5]."""
    named = {"off": None, "none": None, "ebu": -23.0, "r128": -23.0, "atsc": -24.0}
    if text.strip().lower() in named:
        return named[text.strip().lower()]
    return float(_checked(float, "loudness target (LUFS)", -70.0, -5.0)(text))


def cmd_export(args: argparse.Namespace) -> int:
    from sfxstudio.core.project_io import load_project
    from sfxstudio.pipeline.delivery import DeliveryRequest, deliver

    project_path = Path(args.project)
    outputs = {"--wav": args.wav, "--mp4": args.mp4, "--stems": args.stems, "--clips": args.clips,
               **{f"--{fmt}": getattr(args, fmt) for fmt in _TIMELINE_OPTIONS}}
    if not any(outputs.values()):
        raise BadInputError(args.project, "nothing to export: give --wav, --mp4, --stems, --clips or "
                                          "a timeline (--otio, --fcp7xml, --fcpxml, --edl, --aaf)")
    project = load_project(project_path)
    check_outputs(outputs, [*protect("the project", project_path), *_sidecars(project_path),
                            *protect("the project's video", project.video),
                            *protect("the sound library", project.library or SOUNDS, is_folder=True)],
                  folders=["--stems", "--clips"])
    _warn_unknown_classes(project, project_path)
    if args.original_gain is not None:
        project.mix.original_gain_db = args.original_gain
    if args.effects_gain is not None:
        project.mix.effects_gain_db = args.effects_gain
    if args.mp4 and not project.video:
        raise BadInputError(project_path, "the project has no video to mix into")

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    request = DeliveryRequest(
        wav=path(args.wav), mp4=path(args.mp4), stems=path(args.stems), clips=path(args.clips),
        timelines={fmt: Path(getattr(args, fmt)) for fmt in _TIMELINE_OPTIONS if getattr(args, fmt)},
        loudness_target=args.loudness, true_peak=args.true_peak, handles=args.handles,
        report=not args.no_report)
    result = deliver(project, request)
    for what, out, note in result.outputs:
        print(f"{what}: {out}" + (f" ({note})" if note else ""), file=sys.stderr)
    for line in result.summary_lines():
        print(line, file=sys.stderr)
    return EXIT_OK


def _warn_unknown_classes(project: Project, path: Path) -> None:
    """A segment whose class neither the analysis nor the built-in class list knows: say so."""
    from sfxstudio.core.classes import default_classes
    from sfxstudio.core.errors import warn

    known = set(project.analysis.class_names) if project.analysis else set(default_classes().names)
    for name in sorted({s.class_name for s in project.segments} - known):
        warn(path, f"effects of class {name!r}, which this project's model does not know")


def cmd_batch(args: argparse.Namespace) -> int:
    """Exit status 0 when every video is ok, 2 when any failed, 130 when interrupted."""
    from sfxstudio.media.library import SoundLibrary
    from sfxstudio.ml.imagenet import is_builtin_name
    from sfxstudio.pipeline.batch import BatchSettings, run_batch

    library = Path(args.library) if args.library else SOUNDS
    check_outputs({"--out": args.out}, [
        *([] if is_builtin_name(args.model) else protect("the model folder", args.model, is_folder=True)),
        *protect("the sound library", library, is_folder=True)], folders=["--out"])
    SoundLibrary.load(library)  # a broken library.json fails now, not in every worker
    if args.ray is not None:
        from sfxstudio.pipeline.batch_ray import import_ray

        import_ray()  # not installed: one line now, before any work
    model = _resolve_model(args.model)
    if not (model / "bundle.json").is_file():
        raise BadInputError(model, "not a model bundle (no bundle.json)")
    params = AnalysisParams(k=args.k, threshold=args.threshold, analysis_fps=args.analysis_fps,
                            model=str(model.resolve()))
    settings = BatchSettings(model=str(model.resolve()), params=params,
                             library=str(library.resolve()) if args.library else None,
                             exports=tuple(args.exports), threads=args.threads, runtime=args.runtime)
    summary = run_batch(args.inputs, args.out, settings, workers=args.workers, ray=args.ray,
                        quiet=args.quiet)
    if summary.interrupted:
        print("sfxstudio: cancelled (run the same command again to continue)", file=sys.stderr)
    return summary.exit_status


def cmd_demo(args: argparse.Namespace) -> int:
    from sfxstudio.demo.run import run_demo

    run_demo(Path(args.out), seconds=args.seconds)
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    from sfxstudio.gui import app

    if args.screenshot:
        check_outputs({"--screenshot": args.screenshot}, protect("the file to open", args.target))
        return app.screenshot(args.screenshot, args.target)
    return app.run([sys.argv[0]] + ([args.target] if args.target else []))


def cmd_train(args: argparse.Namespace) -> int:
    from sfxstudio.ml.train import train

    check_outputs({"--out": args.out}, protect("the training images", args.data_dir, is_folder=True),
                  folders=["--out"])
    out = train(args.data_dir, args.backbone, args.out, weights=args.weights, head_epochs=args.head_epochs,
                finetune_epochs=args.finetune_epochs, batch_size=args.batch_size,
                allow_download=args.download)
    print(f"model bundle: {out}", file=sys.stderr)
    return EXIT_OK


def _resolve_model(spec: str) -> Path:
    """'imagenet' -> the built-in recogniser's folder (built on first use); else the path."""
    from sfxstudio.ml.imagenet import resolve_model

    return resolve_model(spec)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from sfxstudio.ml import evaluate

    args.model = str(_resolve_model(args.model))
    if args.video:
        if not args.truth:
            raise BadInputError(args.video, "--video needs --truth T.json")
        from sfxstudio.pipeline import evaluate_video

        res = evaluate_video(args.model, args.video, args.truth, k=args.k, tau=args.threshold,
                             analysis_fps=args.analysis_fps, collar=args.collar,
                             resolution=args.resolution)
    else:
        if not args.data_dir or not args.report:
            raise BadInputError(args.model, "give DATA_DIR and --report DIR (or --video V --truth T.json)")
        res = evaluate.evaluate_folder(args.model, args.data_dir, args.report)
        print(f"report: {Path(args.report) / 'report.html'}", file=sys.stderr)
    print(json.dumps(res, indent=1, default=float))
    return EXIT_OK


def cmd_teach(args: argparse.Namespace) -> int:
    from sfxstudio.core.project_io import load_project
    from sfxstudio.ml.teach import teach

    check_outputs({"--out": args.out}, [*protect("the base model", args.base, is_folder=True),
                                        *[q for p in args.projects for q in protect("a project", p)]],
                  folders=["--out"])
    projects = [load_project(p) for p in args.projects]
    out = teach(projects, args.base, args.out)
    print(f"model bundle: {out}", file=sys.stderr)
    return EXIT_OK


def cmd_model(args: argparse.Namespace) -> int:
    if args.model_command == "create":
        from sfxstudio.ml.create import create_bundle

        out = create_bundle(args.backbone, args.out, weights=args.weights, classes=args.classes,
                            allow_download=args.download)
        print(f"model bundle: {out}", file=sys.stderr)
    elif args.model_command == "imagenet":
        from sfxstudio.ml.imagenet import create_imagenet_bundle

        out = create_imagenet_bundle(args.out, weights=args.weights, allow_download=args.download,
                                     architecture=args.architecture)
        print(f"model bundle: {out}", file=sys.stderr)
    elif args.model_command == "zeroshot":
        from sfxstudio.ml.zeroshot import create_zeroshot_bundle

        check_outputs({"--out": args.out}, protect("the preset", args.preset, is_folder=True),
                      folders=["--out"])
        out = create_zeroshot_bundle(args.out, args.preset, mode=args.mode)
        print(f"model bundle: {out}", file=sys.stderr)
    elif args.model_command == "download-preset":
        from sfxstudio.ml.zeroshot import download_preset

        if not args.yes:
            raise BadInputError(None, f"downloading {args.name} fetches hundreds of MB from the internet; "
                                      "run again with --yes to confirm (nothing was downloaded)")
        out = download_preset(args.name, args.out, confirmed=True)
        print(f"preset: {out}", file=sys.stderr)
    elif args.model_command == "list":
        from sfxstudio.ml.registry import list_models

        for folder in args.folders:
            if not Path(folder).is_dir():
                raise BadInputError(folder, "model folder not found" if not Path(folder).exists()
                                    else "is not a folder")
        # The window's list: the built-in recogniser, models/, then the folders named here.
        for entry in list_models(args.folders):
            state = "" if entry.built else ", built on first use"
            print(f"{entry.folder}\t{entry.name}\t{len(entry.classes)} classes\t{entry.kind}{state}")
    else:
        raise BadInputError(None, "usage: sfxstudio model create|imagenet|zeroshot|download-preset|list ...")
    return EXIT_OK


COMMANDS = {"analyze": cmd_analyze, "analyse": cmd_analyze, "export": cmd_export, "demo": cmd_demo,
            "gui": cmd_gui, "train": cmd_train, "evaluate": cmd_evaluate, "teach": cmd_teach,
            "model": cmd_model, "batch": cmd_batch}


def _one_line(text: object, limit: int = 1000) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _WarningLines(logging.Handler):
    """Warnings (sfxstudio.core.errors.warn) as 'sfxstudio: warning: ...' lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"sfxstudio: warning: {_one_line(record.getMessage())}", file=sys.stderr)


def log_path() -> Path:
    """Where a bug's traceback goes: $SFXSTUDIO_DATA_DIR or the XDG data folder."""
    base = os.environ.get(LOG_DIR_ENV) or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"),
        "sfxstudio")
    return Path(base) / "sfxstudio-cli.log"


def _report_bug(exc: BaseException) -> int:
    """Log the traceback; one line on stderr with the log's path; exit status 1."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- sfxstudio {__version__}: {' '.join(sys.argv)}\n")
            fh.write("".join(traceback.format_exception(exc)))
        where = f"details in {path}"
    except OSError:
        where = "the log could not be written"
    kind = "out of memory" if isinstance(exc, MemoryError) else type(exc).__name__
    print(f"sfxstudio: internal error ({kind}: {_one_line(exc, 200)}); this is a bug, {where}",
          file=sys.stderr)
    return EXIT_BUG


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from sfxstudio.ml.platform_tuning import tune_allocator

    tune_allocator()
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["gui"])
    warnings_log = logging.getLogger("sfxstudio.warnings")
    handler = _WarningLines()
    warnings_log.addHandler(handler)
    warnings_log.propagate = False
    set_strict(getattr(args, "strict", False))
    try:
        return COMMANDS[args.command](args)
    except (SfxError, BadInputError, ExportError) as exc:
        if isinstance(exc, Cancelled):
            print("sfxstudio: cancelled", file=sys.stderr)
            return EXIT_CANCELLED
        print(f"sfxstudio: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sfxstudio: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except OSError as exc:
        if exc.filename is None:
            return _report_bug(exc)
        # The environment, not us: a file that vanished, a full disk, no permission.
        print(f"sfxstudio: error: {exc.filename}: {_one_line(exc.strerror or exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        return _report_bug(exc)
    finally:
        set_strict(False)
        warnings_log.removeHandler(handler)


def cmd_library(args: argparse.Namespace) -> int:
    if args.library_command != "import":
        raise BadInputError(None, "usage: sfxstudio library import FOLDER [--out FILE]")
    from sfxstudio.media.library_index import DEFAULT_INDEX_NAME, build_index, write_index

    folder = Path(args.folder)
    if not folder.is_dir():
        raise BadInputError(folder, "is not a folder of sounds")
    out = Path(args.out) if args.out else folder / DEFAULT_INDEX_NAME
    check_outputs({"--out": str(out), "--out (its table)": str(out.with_suffix(".csv"))}, [])
    index = build_index(folder, previous=out)
    json_path, table = write_index(index, out)
    for cls, entries in sorted(index.by_class().items()):
        print(f"{cls:16} {len(entries):5d}")
    for e in index.unassigned():
        print(f"unassigned: {e.file}", file=sys.stderr)
    print(f"{len(index.assigned())} of {len(index.entries)} sounds assigned "
          f"({index.reused} unchanged since the last import); index: {json_path}; table: {table}",
          file=sys.stderr)
    return EXIT_OK


COMMANDS["library"] = cmd_library


if __name__ == "__main__":
    sys.exit(main())
