"""The sub-commands: each checks its outputs against its inputs before any work, then runs."""


from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sfxstudio.cli.options import EXIT_OK
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.outputs import Protected, check_outputs, protect
from sfxstudio.core.paths import SOUNDS
from sfxstudio.core.project import (
    AnalysisParams,
    Project,
)
from sfxstudio.pipeline.progress import drive


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


def cmd_batch(args: argparse.Namespace) -> int:
    """Exit status 0 when every video is ok, 2 when any failed, 130 when interrupted."""
    from sfxstudio.media.library import SoundLibrary
    from sfxstudio.ml.imagenet import is_builtin_name
    from sfxstudio.pipeline.batch import run_batch
    from sfxstudio.pipeline.batch_worker import BatchSettings

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


