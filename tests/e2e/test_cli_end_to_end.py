"""A video in, an effects track out: the command line from video to WAV, MP4 and project."""

import json

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.cli import main
from sfxstudio.core.project_io import load_project

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
FPS = 10


def _storyboard():
    # 2 s nothing, 3 s fire (red), 2 s nothing, 2 s river (blue), 1 s nothing
    plan = [(GREEN, 2), (RED, 3), (GREEN, 2), (BLUE, 2), (GREEN, 1)]
    return [c for c, s in plan for _ in range(s * FPS)]


@pytest.fixture
def library(make_sound, tmp_path):
    make_sound("lib/fire/crackle.wav", seconds=0.7, rate=44100, freq=300)
    make_sound("lib/river/flow.flac", seconds=1.3, rate=22050, channels=2, freq=500)
    (tmp_path / "lib" / "library.json").write_text(json.dumps({
        "format": "sfxstudio-library", "version": 1,
        "classes": {"fire": {"mode": "loop", "crossfade": 0.1}, "river": {"mode": "loop"}}}))
    return tmp_path / "lib"


def test_analyze_writes_wav_mp4_project_and_json(tmp_path, make_video, color_bundle, library, capsys):
    video = make_video(colors=_storyboard(), fps=FPS, audio=True)
    out = {k: tmp_path / f"out.{k}" for k in ("wav", "mp4", "json")}
    proj = tmp_path / "out.sfxproj"
    code = main(["analyze", str(video), "--model", str(color_bundle.path), "--k", "0.3",
                 "--threshold", "0.5", "--library", str(library), "--project", str(proj),
                 "--wav", str(out["wav"]), "--mp4", str(out["mp4"]), "--json", str(out["json"])])
    assert code == 0, capsys.readouterr().err

    segs = json.loads(out["json"].read_text())["segments"]
    found = [(s["class"], round(s["start"], 2), round(s["end"], 2)) for s in segs]
    assert found == [("fire", 2.0, 5.0), ("river", 7.0, 9.0)]

    info = sf.info(str(out["wav"]))
    assert (info.samplerate, info.channels, info.subtype) == (48000, 2, "PCM_24")
    assert info.frames == 10 * 48000
    mix, _ = sf.read(str(out["wav"]), dtype="float32")
    loud = np.abs(mix).max(axis=1) > 1e-3
    # sound exactly where the effects are (within 1 ms), silence elsewhere
    assert not loud[: int(1.99 * 48000)].any() and not loud[int(5.01 * 48000): int(6.99 * 48000)].any()
    assert loud[int(2.1 * 48000): int(4.9 * 48000)].mean() > 0.95
    assert loud[int(7.1 * 48000): int(8.9 * 48000)].mean() > 0.95
    assert np.abs(mix).max() <= 10 ** (-1 / 20) + 1e-4

    import av

    with av.open(str(out["mp4"])) as src, av.open(str(video)) as orig:
        assert src.streams.video[0].codec_context.name == orig.streams.video[0].codec_context.name
        assert src.streams.audio[0].codec_context.name == "aac"
        assert abs(src.duration / 1e6 - 10.0) < 0.1

    project = load_project(proj)
    assert project.analysis is not None and project.analysis.frames == 100
    assert [s.class_name for s in project.segments] == ["fire", "river"]
    assert project.params.k == 0.3


def test_bad_video_exits_2_with_one_clear_line(tmp_path, capsys):
    bogus = tmp_path / "holiday.mp4"
    bogus.write_text("this is not a video")
    code = main(["analyze", str(bogus), "--wav", str(tmp_path / "x.wav")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and str(bogus) in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "x.wav").exists()


def test_bad_model_exits_2_naming_the_model(tmp_path, make_video, capsys):
    video = make_video(seconds=1.0)
    model = tmp_path / "not_a_model"
    model.mkdir()
    code = main(["analyze", str(video), "--model", str(model)])
    err = capsys.readouterr().err
    assert code == 2 and str(model) in err


def test_export_from_project_keeps_earlier_export_on_failure(tmp_path, make_video, color_bundle,
                                                              library, capsys):
    video = make_video(colors=_storyboard(), fps=FPS)
    proj = tmp_path / "p.sfxproj"
    wav = tmp_path / "fx.wav"
    assert main(["analyze", str(video), "--model", str(color_bundle.path), "--k", "0.3",
                 "--library", str(library), "--project", str(proj), "--quiet"]) == 0
    assert main(["export", str(proj), "--wav", str(wav), "--otio", str(tmp_path / "fx.otio")]) == 0
    before = wav.read_bytes()
    code = main(["export", str(proj), "--wav", str(tmp_path / "missing_dir" / "fx.wav")])
    assert code == 2 and "missing_dir" in capsys.readouterr().err
    assert wav.read_bytes() == before


def test_analyze_layered_records_sounds_motion_and_params(tmp_path, make_video, color_bundle, library,
                                                          capsys):
    video = make_video(colors=_storyboard(), fps=FPS)
    proj = tmp_path / "layered.sfxproj"
    stems = tmp_path / "stems"
    code = main(["analyze", str(video), "--model", str(color_bundle.path), "--layers", "--smoothing", "hmm",
                 "--stickiness", "0.2", "--class-threshold", "fire=0.4", "--class-threshold", "river=0.6",
                 "--library", str(library), "--project", str(proj), "--quiet"])
    assert code == 0, capsys.readouterr().err
    project = load_project(proj)
    p = project.params
    assert (p.mode, p.smoothing, p.stickiness, p.class_thresholds) == ("layered", "hmm", 0.2,
                                                                       {"fire": 0.4, "river": 0.6})
    found = [(s.class_name, round(s.start, 2), round(s.end, 2)) for s in project.segments]
    assert found == [("fire", 2.0, 5.0), ("river", 7.0, 9.0)]
    # the project says what plays, and the analysis kept the motion of its own decode pass
    assert [s.variation for s in project.segments] == ["fire/crackle.wav", "river/flow.flac"]
    motion = project.analysis.motion
    assert motion is not None and motion.shape == (100, 2)
    cuts = np.flatnonzero(motion[:, 0] > 0.1)
    assert cuts.tolist() == [20, 50, 70, 90]  # the colour changes, nothing else moves
    assert main(["export", str(proj), "--stems", str(stems)]) == 0
    assert sorted(f.name for f in stems.iterdir()) == ["fire.wav", "river.wav"]


@pytest.mark.parametrize(("args", "words"), [
    (["--smoothing", "hmm"], "--layers"),
    (["--layers", "--class-threshold", "fire"], "CLASS=THRESHOLD"),
    (["--layers", "--class-threshold", "fire=1.5"], "threshold of fire"),
    (["--layers", "--stickiness", "1"], "stickiness"),
])
def test_bad_layered_options_exit_2_with_one_line(tmp_path, make_video, args, words, capsys):
    video = make_video(seconds=1.0)
    try:  # argparse's own errors exit (2) from parse_args; ours return 2
        code = main(["analyze", str(video), "--model", str(tmp_path / "none"), *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0]
