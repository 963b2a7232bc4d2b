"""Command-line options: the parser, with one-line errors and range-checked numbers."""


from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from sfxstudio import __version__
from sfxstudio.core import validate
from sfxstudio.core.project import (
    DEFAULT_SMOOTHING,
    DEFAULT_STICKINESS,
    MAX_STICKINESS,
    SMOOTHINGS,
)

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


def _loudness_target(text: str) -> float | None:
    """--loudness: 'off', 'ebu' (-23), 'atsc' (-24) or a number of LUFS in [-70, -5]."""
    named = {"off": None, "none": None, "ebu": -23.0, "r128": -23.0, "atsc": -24.0}
    if text.strip().lower() in named:
        return named[text.strip().lower()]
    return float(_checked(float, "loudness target (LUFS)", -70.0, -5.0)(text))


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
    from sfxstudio.pipeline.batch_worker import DEFAULT_EXPORTS, EXPORTS

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
    from sfxstudio.pipeline.batch_worker import EXPORTS

    items = tuple(dict.fromkeys(e.strip().lower() for e in text.split(",") if e.strip()))
    unknown = [e for e in items if e not in EXPORTS]
    if not items or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown export {unknown[0]!r}; " if unknown else "no exports given; "
            + f"choose from {','.join(EXPORTS)}")
    return items


