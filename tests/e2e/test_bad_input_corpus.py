"""The bad-input corpus: every kind of broken or hostile input the command line can meet.

Generated at test time from one good world (a short video with audio, a small sound library,
an analysed project with its sidecar, earlier exports, the colour test model). Each case
breaks one thing and runs one command in-process. Every case asserts:

- the exit status (2 for bad input or an output that cannot be written, 0 for odd but valid
  input, which may warn);
- stderr holds no traceback, and an error is exactly one line naming the file;
- nothing is lost: every earlier output, the project, its sidecar, the video and the library
  are byte-identical afterwards, and no temporary file is left beside them.

Full-disk cases (a real tmpfs, when the tests run as root) and kill -9 during `export` and
`analyze --project` live at the end of the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.cli import main
from tests.fixtures.media import write_sound, write_video
from tests.fixtures.models import make_color_bundle

pytestmark = pytest.mark.timeout(120)

FPS = 10
RED, GREEN, BLUE = (230, 20, 20), (20, 200, 30), (20, 30, 220)
STORY = [GREEN] * 10 + [RED] * 20 + [GREEN] * 10 + [BLUE] * 15 + [GREEN] * 5  # 6 s


@dataclass
class World:
    root: Path
    video: Path
    model: Path
    library: Path
    project: Path
    earlier: Path  # folder with earlier exports of the project

    def sidecars(self) -> list[Path]:
        return sorted(self.root.glob(f"{self.project.name}*.analysis.npz"))


@dataclass
class Case:
    argv: list[str]
    rc: int = 2
    names: tuple[str, ...] = ()  # what the one error line (or a warning line) must name
    warns: bool = False  # rc 0 and a warning line naming `names`
    guard: list[Path] = field(default_factory=list)  # inputs that must stay identical
    outputs: list[Path] = field(default_factory=list)  # earlier outputs: identical unless rc is 0


def _digest(paths: list[Path]) -> dict[str, str]:
    out: dict[str, str] = {}
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) \
            if top.is_dir() else []
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def _temps(folders: list[Path]) -> list[str]:
    found = []
    for d in folders:
        if d.is_dir():
            found += [p.name for p in d.iterdir() if p.name.startswith(".") and p.is_file()]
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    video = write_video(root / "clip.mp4", colors=STORY, fps=FPS, audio=True)
    model = make_color_bundle(root / "models")
    library = root / "lib"
    write_sound(_mk(library / "fire" / "crackle.wav"), seconds=0.7, rate=44100, freq=300)
    write_sound(_mk(library / "river" / "flow.flac"), seconds=1.3, rate=22050, channels=2, freq=500)
    (library / "library.json").write_text(json.dumps({
        "format": "sfxstudio-library", "version": 1,
        "classes": {"fire": {"mode": "loop", "crossfade": 0.1}, "river": {"mode": "loop"}}}))
    project = root / "proj.sfxproj"
    assert main(["analyze", str(video), "--model", str(model), "--library", str(library),
                 "--k", "0.3", "--project", str(project), "--quiet"]) == 0
    earlier = root / "earlier"
    earlier.mkdir()
    assert main(["export", str(project), "--wav", str(earlier / "fx.wav"), "--otio",
                 str(earlier / "fx.otio"), "--stems", str(earlier / "stems")]) == 0
    return World(root, video, model, library, project, earlier)


def _mk(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _copy_project(w: World, d: Path) -> Path:
    """The world's project and its sidecar(s), copied into d (relative paths fixed up)."""
    data = json.loads(w.project.read_text())
    for key in ("video", "library"):
        if data.get(key):
            data[key] = str((w.root / data[key]).resolve())
    if data.get("params", {}).get("model"):
        data["params"]["model"] = str((w.root / data["params"]["model"]).resolve())
    target = d / "proj.sfxproj"
    for side in w.sidecars():
        new_name = side.name  # keep the recorded name: it starts with the project's file name
        shutil.copy2(side, d / new_name)
    target.write_text(json.dumps(data, indent=1))
    return target


def _project_case(mutate: Callable[[dict], None], rc: int = 2, warns: bool = False,
                  extra: tuple[str, ...] = ()) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        p = _copy_project(w, d)
        data = json.loads(p.read_text())
        mutate(data)
        p.write_text(json.dumps(data))  # NaN and Infinity are written as JSON's NaN tokens
        out = d / "out.wav"
        shutil.copy2(w.earlier / "fx.wav", out)
        return Case(["export", str(p), "--wav", str(out)], rc, (p.name, *extra), warns, [p], [out])
    return build


def _raw_project(text: bytes) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        p = _copy_project(w, d)
        p.write_bytes(text)
        out = d / "out.wav"
        shutil.copy2(w.earlier / "fx.wav", out)
        return Case(["export", str(p), "--wav", str(out)], 2, (p.name,), False, [p], [out])
    return build


def _seg(i: int, **changes: object) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        data["segments"][i].update(changes)
    return mutate


def _set(path: str, value: object) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        node = data
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return mutate


# ------------------------------------------------------------------------------ videos


def _analyze(w: World, d: Path, video: Path | str, *extra: str, rc: int = 2,
             names: tuple[str, ...] = (), model: Path | None = None, library: Path | None = None,
             warns: bool = False) -> Case:
    out = d / "out.wav"
    shutil.copy2(w.earlier / "fx.wav", out)
    proj = d / "out.sfxproj"
    shutil.copy2(w.project, proj)
    argv = ["analyze", str(video), "--model", str(model or w.model), "--library", str(library or w.library),
            "--k", "0.3", "--wav", str(out), "--project", str(proj), "--quiet", *extra]
    return Case(argv, rc, names or (Path(video).name,), warns, [], [out, proj])


def _video_bytes(data: Callable[[World], bytes], name: str = "bad.mp4") -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        v = d / name
        v.write_bytes(data(w))
        return _analyze(w, d, v)
    return build


def _v_folder(w: World, d: Path) -> Case:
    (d / "folder.mp4").mkdir()
    return _analyze(w, d, d / "folder.mp4")


def _v_fifo(w: World, d: Path) -> Case:
    os.mkfifo(d / "pipe.mp4")
    return _analyze(w, d, d / "pipe.mp4")


def _v_link(target: str) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        link = d / "linked.mp4"
        os.symlink(target if target != "loop" else str(link), link)
        return _analyze(w, d, link)
    return build


def _v_missing(w: World, d: Path) -> Case:
    return _analyze(w, d, d / "missing.mp4")


def _v_odd_name(name: str) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        v = d / name
        shutil.copy2(w.video, v)
        return _analyze(w, d, v, rc=0)
    return build


def _v_zeroed(offset: int, length: int) -> Callable[[World], bytes]:
    def data(w: World) -> bytes:
        b = bytearray(w.video.read_bytes())
        b[offset:offset + length] = bytes(length)
        return bytes(b)
    return data


VIDEO_CASES: dict[str, Callable[[World, Path], Case]] = {
    "video-empty": _video_bytes(lambda w: b""),
    "video-random-bytes": _video_bytes(lambda w: np.random.default_rng(1).bytes(65536)),
    "video-text": _video_bytes(lambda w: b"this is not a video\n" * 50),
    "video-truncated-head": _video_bytes(lambda w: w.video.read_bytes()[:2000]),
    "video-truncated-64": _video_bytes(lambda w: w.video.read_bytes()[:64]),
    "video-audio-only-wav": _video_bytes(lambda w: (w.earlier / "fx.wav").read_bytes(), "sound.mp4"),
    "video-json": _video_bytes(lambda w: w.project.read_bytes(), "project.mp4"),
    "video-header-zeroed": _video_bytes(_v_zeroed(0, 4096)),
    "video-folder": _v_folder,
    "video-fifo": _v_fifo,
    "video-dev-zero": _v_link("/dev/zero"),
    "video-symlink-loop": _v_link("loop"),
    "video-dangling-link": _v_link("/nonexistent/clip.mp4"),
    "video-missing": _v_missing,
    "video-odd-name-unicode": _v_odd_name("clip é 日本 (1).mp4"),
    "video-odd-name-dash": _v_odd_name("-clip.mp4"),
}


# ------------------------------------------------------------------------------ models


def _model_case(mutate: Callable[[Path], None], name: str = "bundle.json") -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        m = d / "model"
        shutil.copytree(w.model, m)
        mutate(m)
        return _analyze(w, d, w.video, model=m, names=(name,))
    return build


def _bundle_json(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        data = json.loads((m / "bundle.json").read_text())
        result = change(data)
        (m / "bundle.json").write_text(json.dumps(result if result is not None else data))
    return mutate


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        (m / name).write_bytes(data)
    return mutate


def _remove(name: str) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        (m / name).unlink()
    return mutate


def _m_folder_is_file(w: World, d: Path) -> Case:
    f = d / "model"
    f.write_text("not a folder")
    return _analyze(w, d, w.video, model=f, names=("model",))


def _m_missing(w: World, d: Path) -> Case:
    return _analyze(w, d, w.video, model=d / "nomodel", names=("nomodel",))


def _m_lambda(w: World, d: Path) -> Case:
    import keras

    m = d / "model"
    shutil.copytree(w.model, m)
    inp = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    x = keras.layers.GlobalAveragePooling2D(name="embedding")(x)
    meta = json.loads((m / "bundle.json").read_text())
    out = keras.layers.Dense(len(meta["classes"]), activation="softmax")(x)
    keras.Model(inp, [out, x]).save(m / "model.keras")
    return _analyze(w, d, w.video, model=m, names=("model.keras",))


def _truncate(name: str, keep: float) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        b = (m / name).read_bytes()
        (m / name).write_bytes(b[: int(len(b) * keep)])
    return mutate


def _model_fifo(name: str) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        (m / name).unlink()
        os.mkfifo(m / name)
    return mutate


MODEL_CASES: dict[str, Callable[[World, Path], Case]] = {
    "model-missing": _m_missing,
    "model-is-file": _m_folder_is_file,
    "model-no-bundle-json": _model_case(_remove("bundle.json")),
    "model-bundle-broken-json": _model_case(_write("bundle.json", b"{\"format\": ")),
    "model-bundle-list": _model_case(_bundle_json(lambda d: [d])),
    "model-bundle-no-classes": _model_case(_bundle_json(lambda d: d.pop("classes") and None)),
    "model-classes-object": _model_case(_bundle_json(lambda d: d.update(classes={"a": 1}))),
    "model-classes-duplicate": _model_case(_bundle_json(
        lambda d: d.update(classes=["fire"] * len(d["classes"])))),
    "model-class-path": _model_case(_bundle_json(
        lambda d: d.update(classes=["../../evil", *d["classes"][1:]]))),
    "model-input-size-nan": _model_case(_bundle_json(lambda d: d.update(input_size=[float("nan"), 32]))),
    "model-input-size-huge": _model_case(_bundle_json(lambda d: d.update(input_size=[10**9, 10**9]))),
    "model-input-size-negative": _model_case(_bundle_json(lambda d: d.update(input_size=[-32, 32]))),
    "model-input-size-text": _model_case(_bundle_json(lambda d: d.update(input_size="big"))),
    "model-preprocessing-unknown": _model_case(_bundle_json(lambda d: d.update(preprocessing="magic"))),
    "model-keras-missing": _model_case(_remove("model.keras"), "model.keras"),
    "model-keras-empty": _model_case(_write("model.keras", b""), "model.keras"),
    "model-keras-garbage": _model_case(_write("model.keras", b"PK\x03\x04garbage" * 100), "model.keras"),
    "model-keras-text": _model_case(_write("model.keras", b"hello"), "model.keras"),
    "model-keras-truncated": _model_case(_truncate("model.keras", 0.5), "model.keras"),
    "model-more-classes-than-outputs": _model_case(_bundle_json(
        lambda d: d.update(classes=[*d["classes"], "extra_class"]))),
    "model-lambda-layer": _m_lambda,
    "model-keras-fifo": _model_case(_model_fifo("model.keras"), "model.keras"),
    "model-bundle-json-fifo": _model_case(_model_fifo("bundle.json")),
    "model-list-missing-folder": lambda w, d: Case(["model", "list", str(d / "gone")], 2, ("gone",)),
}


# ----------------------------------------------------------------------------- libraries


def _lib_case(mutate: Callable[[Path], None], rc: int = 2, name: str = "library.json",
              strict: bool = False, warns: bool = False) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        lib = d / "lib"
        shutil.copytree(w.library, lib)
        mutate(lib)
        extra = ("--strict",) if strict else ()
        return _analyze(w, d, w.video, *extra, rc=rc, library=lib, names=(name,), warns=warns)
    return build


def _lib_json(classes: object = None, **top: object) -> Callable[[Path], None]:
    def mutate(lib: Path) -> None:
        data: dict[str, object] = {"format": "sfxstudio-library", "version": 1}
        data["classes"] = classes if classes is not None else {}
        data.update(top)
        (lib / "library.json").write_text(json.dumps(data))
    return mutate


def _fire(**attrs: object) -> Callable[[Path], None]:
    return _lib_json({"fire": {"mode": "loop", **attrs}})


def _lib_sound(data: Callable[[], bytes]) -> Callable[[Path], None]:
    def mutate(lib: Path) -> None:
        (lib / "fire" / "crackle.wav").write_bytes(data())
    return mutate


def _lib_nan_sound(lib: Path) -> None:
    import soundfile as sf

    x = np.full((4800, 1), np.nan, dtype=np.float32)
    sf.write(str(lib / "fire" / "crackle.wav"), x, 48000, subtype="FLOAT")


def _lib_empty(lib: Path) -> None:
    for p in list(lib.iterdir()):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def _put(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _lib_missing(w: World, d: Path) -> Case:
    return _analyze(w, d, w.video, library=d / "nolib", names=("nolib",))


def _lib_is_file(w: World, d: Path) -> Case:
    (d / "lib").write_text("x")
    return _analyze(w, d, w.video, library=d / "lib", names=("lib",))


LIBRARY_MUTATIONS: dict[str, Callable[[Path], None]] = {
    "library-json-broken": lambda lib: _put(lib / "library.json", b"{"),
    "library-json-list": lambda lib: _put(lib / "library.json", b"[]"),
    "library-json-binary": lambda lib: _put(lib / "library.json", b"\xff\xfe\x00\x01"),
    "library-format-wrong": _lib_json({}, format="something-else"),
    "library-version-future": _lib_json({}, version=99),
    "library-version-text": _lib_json({}, version="1"),
    "library-classes-list": _lib_json(["fire"]),
    "library-entry-list": _lib_json({"fire": ["loop"]}),
    "library-mode-unknown": _fire(mode="bounce"),
    "library-gain-nan": _fire(gain_db=float("nan")),
    "library-gain-inf": _fire(gain_db=float("inf")),
    "library-gain-text": _fire(gain_db="loud"),
    "library-gain-huge": _fire(gain_db=1e308),
    "library-interval-tiny": _lib_json({"fire": {"mode": "retrigger", "interval": 1e-7}}),
    "library-interval-zero": _lib_json({"fire": {"mode": "retrigger", "interval": 0}}),
    "library-interval-nan": _lib_json({"fire": {"mode": "retrigger", "interval": float("nan")}}),
    "library-fade-negative": _fire(fade_in=-1),
    "library-fade-nan": _fire(fade_out=float("nan")),
    "library-fade-huge": _fire(fade_out=1e12),
    "library-crossfade-inf": _fire(crossfade=float("inf")),
    "library-jitter-negative": _lib_json({"fire": {"mode": "retrigger", "jitter": -0.5}}),
    "library-enabled-text": _fire(enabled="false"),
    "library-policy-unknown": _fire(variation_policy="shuffle"),
    "library-unknown-key": _fire(volume=3),
}
LIBRARY_CASES: dict[str, Callable[[World, Path], Case]] = {
    "library-missing": _lib_missing,
    "library-is-file": _lib_is_file,
    **{name: _lib_case(mutate) for name, mutate in LIBRARY_MUTATIONS.items()},
}

WARN_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "sound-empty-file": (_lib_sound(lambda: b""), "crackle.wav"),
    "sound-garbage": (_lib_sound(lambda: b"RIFF\x00\x00\x00\x00WAVEjunk" * 20), "crackle.wav"),
    "sound-nan-samples": (_lib_nan_sound, "crackle.wav"),
    "library-empty": (_lib_empty, "lib"),
}
for _name, (_mutate, _file) in WARN_CASES.items():
    LIBRARY_CASES[_name] = _lib_case(_mutate, rc=0, name=_file, warns=True)
    LIBRARY_CASES[_name + "-strict"] = _lib_case(_mutate, rc=2, name=_file, strict=True)


# ------------------------------------------------------------------------------ projects


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _p_unknown_class(data: dict) -> None:
    data["segments"].append({"class": "unicorn", "start": 0.5, "end": 1.0, "origin": "manual"})


def _p_video_missing_mp4(w: World, d: Path) -> Case:
    p = _copy_project(w, d)
    data = json.loads(p.read_text())
    data["video"] = str(d / "gone.mp4")
    p.write_text(json.dumps(data))
    out = d / "out.mp4"
    out.write_bytes(b"earlier mp4")
    return Case(["export", str(p), "--mp4", str(out)], 2, ("gone.mp4",), False, [p], [out])


def _p_sidecar_missing(w: World, d: Path) -> Case:
    p = _copy_project(w, d)
    for side in d.glob("*.analysis.npz"):
        side.unlink()
    out = d / "out.wav"
    shutil.copy2(w.earlier / "fx.wav", out)
    return Case(["export", str(p), "--wav", str(out)], 0, ("analysis.npz",), True, [p])


def _p_missing(w: World, d: Path) -> Case:
    out = d / "out.wav"
    shutil.copy2(w.earlier / "fx.wav", out)
    return Case(["export", str(d / "nope.sfxproj"), "--wav", str(out)], 2, ("nope.sfxproj",), False, [],
                [out])


def _p_folder(w: World, d: Path) -> Case:
    (d / "dir.sfxproj").mkdir()
    out = d / "out.wav"
    shutil.copy2(w.earlier / "fx.wav", out)
    return Case(["export", str(d / "dir.sfxproj"), "--wav", str(out)], 2, ("dir.sfxproj",), False, [],
                [out])


def _p_fifo(w: World, d: Path) -> Case:
    os.mkfifo(d / "pipe.sfxproj")
    out = d / "out.wav"
    shutil.copy2(w.earlier / "fx.wav", out)
    return Case(["export", str(d / "pipe.sfxproj"), "--wav", str(out)], 2, ("pipe.sfxproj",), False, [],
                [out])


def _sidecar_fifo(w: World, d: Path) -> Case:
    p = _copy_project(w, d)
    side = next(d.glob("*.analysis.npz"))
    side.unlink()
    os.mkfifo(side)
    out = d / "out.wav"
    shutil.copy2(w.earlier / "fx.wav", out)
    return Case(["export", str(p), "--wav", str(out)], 2, (side.name,), False, [p], [out])


PROJECT_CASES: dict[str, Callable[[World, Path], Case]] = {
    "project-missing": _p_missing,
    "project-fifo": _p_fifo,
    "project-sidecar-fifo": _sidecar_fifo,
    "project-folder": _p_folder,
    "project-empty": _raw_project(b""),
    "project-not-json": _raw_project(b"{ not json"),
    "project-binary": _raw_project(bytes(range(256)) * 8),
    "project-utf16": _raw_project('{"format": "sfxstudio-project"}'.encode("utf-16")),
    "project-list": _raw_project(b"[]"),
    "project-number": _raw_project(b"42"),
    "project-empty-object": _raw_project(b"{}"),
    "project-deep-nesting": _raw_project(_deep(100_000)),
    "project-format-wrong": _project_case(_set("format", "other-app")),
    "project-version-future": _project_case(_set("version", 99)),
    "project-version-text": _project_case(_set("version", "2")),
    "project-version-float": _project_case(_set("version", 2.5)),
    "project-segments-object": _project_case(_set("segments", {"a": 1})),
    "project-segments-text": _project_case(_set("segments", "many")),
    "project-segment-list": _project_case(lambda d: d["segments"].__setitem__(0, [1, 2])),
    "project-segment-start-nan": _project_case(_seg(0, start=float("nan"))),
    "project-segment-start-inf": _project_case(_seg(0, start=float("-inf"))),
    "project-segment-start-text": _project_case(_seg(0, start="0:01")),
    "project-segment-start-bool": _project_case(_seg(0, start=True)),
    "project-segment-start-negative": _project_case(_seg(0, start=-5.0)),
    "project-segment-end-before-start": _project_case(_seg(0, start=3.0, end=2.0)),
    "project-segment-end-equals-start": _project_case(_seg(0, start=2.0, end=2.0)),
    "project-segment-after-video": _project_case(_seg(0, start=100.0, end=200.0)),
    "project-segment-huge": _project_case(_seg(0, start=0.0, end=1e300)),
    "project-segment-class-path": _project_case(_seg(0, **{"class": "../../etc"})),
    "project-segment-class-empty": _project_case(_seg(0, **{"class": ""})),
    "project-segment-class-number": _project_case(_seg(0, **{"class": 7})),
    "project-segment-origin-unknown": _project_case(_seg(0, origin="robot")),
    "project-segment-gain-nan": _project_case(_seg(0, gain_db=float("nan"))),
    "project-segment-gain-huge": _project_case(_seg(0, gain_db=1e308)),
    "project-segment-gain-text": _project_case(_seg(0, gain_db="+3")),
    "project-segment-mode-unknown": _project_case(_seg(0, mode="bounce")),
    "project-segment-variation-escape": _project_case(_seg(0, variation="../../../etc/passwd")),
    "project-segment-variation-absolute": _project_case(_seg(0, variation="/etc/passwd")),
    "project-params-list": _project_case(_set("params", [1, 2])),
    "project-k-nan": _project_case(_set("params.k", float("nan"))),
    "project-k-negative": _project_case(_set("params.k", -1)),
    "project-k-huge": _project_case(_set("params.k", 1e12)),
    "project-k-text": _project_case(_set("params.k", "one")),
    "project-threshold-above-one": _project_case(_set("params.threshold", 2.0)),
    "project-threshold-nan": _project_case(_set("params.threshold", float("nan"))),
    "project-fps-zero": _project_case(_set("params.analysis_fps", 0)),
    "project-fps-negative": _project_case(_set("params.analysis_fps", -4)),
    "project-fps-text": _project_case(_set("params.analysis_fps", "fast")),
    "project-fps-huge": _project_case(_set("params.analysis_fps", 1e9)),
    "project-mix-list": _project_case(_set("mix", [0, 0])),
    "project-mix-nan": _project_case(_set("mix.original_gain_db", float("nan"))),
    "project-mix-huge": _project_case(_set("mix.effects_gain_db", 1e6)),
    "project-attributes-list": _project_case(_set("class_attributes", ["fire"])),
    "project-attributes-mode-unknown": _project_case(_set("class_attributes.fire", {"mode": "bounce"})),
    "project-attributes-interval-tiny": _project_case(
        _set("class_attributes.fire", {"mode": "retrigger", "interval": 1e-7})),
    "project-attributes-gain-nan": _project_case(_set("class_attributes.fire", {"gain_db": float("nan")})),
    "project-variations-escape": _project_case(_set("class_variations.fire", ["../../../etc/passwd"])),
    "project-variations-absolute": _project_case(_set("class_variations.fire", ["/etc/passwd"])),
    "project-variations-not-list": _project_case(_set("class_variations.fire", "crackle.wav")),
    "project-video-number": _project_case(_set("video", 12)),
    "project-video-missing-mp4": _p_video_missing_mp4,
    "project-sidecar-missing": _p_sidecar_missing,
    "project-unknown-class": _project_case(_p_unknown_class, rc=0, warns=True, extra=("unicorn",)),
}


# ------------------------------------------------------------------------------ sidecars


def _sidecar_case(change: Callable[[dict[str, np.ndarray]], None] | None = None,
                  raw: bytes | None = None) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        p = _copy_project(w, d)
        side = next(d.glob("*.analysis.npz"))
        if raw is not None:
            side.write_bytes(raw)
        else:
            with np.load(side, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            assert change is not None
            change(arrays)
            with open(side, "wb") as fh:
                np.savez(fh, **arrays)
        out = d / "out.wav"
        shutil.copy2(w.earlier / "fx.wav", out)
        return Case(["export", str(p), "--wav", str(out)], 2, (side.name,), False, [p], [out])
    return build


def _arr(key: str, fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[dict[str, np.ndarray]], None]:
    def change(a: dict[str, np.ndarray]) -> None:
        a[key] = fn(a[key])
    return change


def _nan_at(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64 if x.dtype == np.float64 else np.float32).copy()
    x.flat[len(x.flat) // 2] = np.nan
    return x


SIDECAR_CASES: dict[str, Callable[[World, Path], Case]] = {
    "sidecar-garbage": _sidecar_case(raw=b"garbage" * 100),
    "sidecar-empty": _sidecar_case(raw=b""),
    "sidecar-zip-not-npz": _sidecar_case(raw=b"PK\x05\x06" + bytes(18)),
    "sidecar-missing-probs": _sidecar_case(lambda a: a.pop("probs") is None),
    "sidecar-probs-wrong-shape": _sidecar_case(_arr("probs", lambda x: x[:, :-1])),
    "sidecar-probs-nan": _sidecar_case(_arr("probs", _nan_at)),
    "sidecar-probs-huge": _sidecar_case(_arr("probs", lambda x: x * 1e30)),
    "sidecar-times-nan": _sidecar_case(_arr("times", _nan_at)),
    "sidecar-times-decreasing": _sidecar_case(_arr("times", lambda x: x[::-1].copy())),
    "sidecar-times-2d": _sidecar_case(_arr("times", lambda x: x.reshape(-1, 1))),
    "sidecar-duration-nan": _sidecar_case(_arr("duration", lambda x: np.float64(np.nan))),
    "sidecar-duration-negative": _sidecar_case(_arr("duration", lambda x: np.float64(-6.0))),
    "sidecar-duration-huge": _sidecar_case(_arr("duration", lambda x: np.float64(1e12))),
    "sidecar-frame-zero": _sidecar_case(_arr("frame_duration", lambda x: np.float64(0.0))),
    "sidecar-object-array": _sidecar_case(_arr("class_names", lambda x: np.array(list(x), dtype=object))),
    "sidecar-class-names-short": _sidecar_case(_arr("class_names", lambda x: x[:-1])),
}


# ------------------------------------------------------------------------------- outputs


def _export_to(option: str, target: Callable[[World, Path, Path], Path | str], names: tuple[str, ...],
               extra: Callable[[World, Path], list[str]] | None = None) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        p = _copy_project(w, d)
        t = target(w, d, p)
        argv = ["export", str(p), option, str(t), *(extra(w, d) if extra else [])]
        named = tuple(Path(t).name if n == "<target>" else n for n in names)
        return Case(argv, 2, named, False, [p, *d.glob("*.npz")])
    return build


def _analyze_to(option: str, target: Callable[[World, Path], Path | str],
                names: tuple[str, ...]) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        v = d / "clip.mp4"
        shutil.copy2(w.video, v)
        t = target(w, d)
        argv = ["analyze", str(v), "--model", str(w.model), "--library", str(w.library), option, str(t),
                "--quiet"]
        return Case(argv, 2, names, False, [v])
    return build


def _fifo(d: Path) -> Path:
    f = d / "fifo.wav"
    os.mkfifo(f)
    return f


def _symlink_to(target: Path, d: Path, name: str) -> Path:
    link = d / name
    os.symlink(target, link)
    return link


def _hardlink_to(target: Path, d: Path, name: str) -> Path:
    link = d / name
    os.link(target, link)
    return link


def _two(option_a: str, option_b: str) -> Callable[[World, Path], Case]:
    def build(w: World, d: Path) -> Case:
        p = _copy_project(w, d)
        t = d / "same.out"
        t.write_bytes(b"earlier")
        return Case(["export", str(p), option_a, str(t), option_b, str(t)], 2, ("same.out",), False, [p], [t])
    return build


OUTPUT_CASES: dict[str, Callable[[World, Path], Case]] = {
    "out-analyze-wav-is-video": _analyze_to("--wav", lambda w, d: d / "clip.mp4", ("clip.mp4",)),
    "out-analyze-mp4-is-video": _analyze_to("--mp4", lambda w, d: d / "clip.mp4", ("clip.mp4",)),
    "out-analyze-json-is-video": _analyze_to("--json", lambda w, d: d / "clip.mp4", ("clip.mp4",)),
    "out-analyze-project-is-video": _analyze_to("--project", lambda w, d: d / "clip.mp4", ("clip.mp4",)),
    "out-analyze-wav-dotdot-video": _analyze_to("--wav", lambda w, d: d / "sub" / ".." / "clip.mp4",
                                                ("clip.mp4",)),
    "out-analyze-wav-symlink-video": _analyze_to(
        "--wav", lambda w, d: _symlink_to(d / "clip.mp4", d, "fx.wav"), ("fx.wav",)),
    "out-analyze-wav-hardlink-video": _analyze_to(
        "--wav", lambda w, d: _hardlink_to(d / "clip.mp4", d, "fx.wav"), ("fx.wav",)),
    "out-analyze-wav-in-library": _analyze_to("--wav", lambda w, d: w.library / "fire" / "new.wav",
                                              ("new.wav",)),
    "out-analyze-wav-is-library-sound": _analyze_to("--wav", lambda w, d: w.library / "fire" / "crackle.wav",
                                                    ("crackle.wav",)),
    "out-analyze-json-is-library-json": _analyze_to("--json", lambda w, d: w.library / "library.json",
                                                    ("library.json",)),
    "out-analyze-json-in-model": _analyze_to("--json", lambda w, d: w.model / "bundle.json",
                                             ("bundle.json",)),
    "out-export-wav-is-project": _export_to("--wav", lambda w, d, p: p, ("proj.sfxproj",)),
    "out-export-mp4-is-project": _export_to("--mp4", lambda w, d, p: p, ("proj.sfxproj",)),
    "out-export-otio-is-project": _export_to("--otio", lambda w, d, p: p, ("proj.sfxproj",)),
    "out-export-wav-is-sidecar": _export_to("--wav", lambda w, d, p: next(d.glob("*.npz")),
                                            ("analysis.npz",)),
    "out-export-mp4-is-video": _export_to("--mp4", lambda w, d, p: w.video, ("clip.mp4",)),
    "out-export-wav-is-folder": _export_to("--wav", lambda w, d, p: d, ("<target>",)),
    "out-export-wav-is-fifo": _export_to("--wav", lambda w, d, p: _fifo(d), ("fifo.wav",)),
    "out-export-wav-dev-null": _export_to("--wav", lambda w, d, p: "/dev/null", ("/dev/null",)),
    "out-export-wav-missing-folder": _export_to("--wav", lambda w, d, p: d / "no" / "such" / "fx.wav",
                                                ("fx.wav",)),
    "out-export-stems-is-file": _export_to("--stems", lambda w, d, p: p, ("proj.sfxproj",)),
    "out-export-wav-equals-otio": _two("--wav", "--otio"),
    "out-export-wav-equals-mp4": _two("--wav", "--mp4"),
    "out-export-empty-name": _export_to("--wav", lambda w, d, p: "", ("--wav",)),
    "out-screenshot-missing-folder": lambda w, d: Case(
        ["gui", str(w.project), "--screenshot", str(d / "no" / "shot.png")], 2, ("shot.png",)),
    "out-screenshot-is-project": lambda w, d: Case(
        ["gui", str(w.project), "--screenshot", str(w.project)], 2, ("proj.sfxproj",)),
}

ALL_CASES = {**VIDEO_CASES, **MODEL_CASES, **LIBRARY_CASES, **PROJECT_CASES, **SIDECAR_CASES,
             **OUTPUT_CASES}


def test_the_corpus_is_large_enough() -> None:
    assert len(ALL_CASES) >= 100


@pytest.mark.parametrize("case_id", sorted(ALL_CASES))
def test_bad_input(case_id: str, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = ALL_CASES[case_id](world, tmp_path)
    watched = [world.video, world.library, world.model, world.project, *world.sidecars(), world.earlier,
               *case.guard, *(case.outputs if case.rc != 0 else [])]
    before = _digest(watched)
    capsys.readouterr()
    rc = main(case.argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert rc == case.rc, f"exit {rc}, expected {case.rc}: {err}"
    lines = [ln for ln in err.splitlines() if ln.startswith("sfxstudio")]
    errors = [ln for ln in lines if ": warning:" not in ln]
    warnings = [ln for ln in lines if ": warning:" in ln]
    if case.rc == 2:
        assert len(errors) == 1, err
        assert all(n in errors[0] for n in case.names), f"{errors[0]!r} does not name {case.names}"
    else:
        assert errors == [], err
    if case.warns:
        assert any(all(n in w for n in case.names) for w in warnings), \
            f"no warning naming {case.names}: {err}"
    assert _digest(watched) == before, "an input or an earlier output changed"
    assert _temps([tmp_path, world.root, world.earlier]) == []


# ------------------------------------------------------------------------------ full disk


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 384 KiB tmpfs (root only): a real 'No space left on device'."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full-disk test needs root to mount a small tmpfs")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(disk: Path) -> None:
    """Write until the disk is full (unbuffered, so closing the file raises nothing more)."""
    with open(disk / "filler.bin", "wb", buffering=0) as fh, pytest.raises(OSError):
        while True:
            fh.write(b"\0" * 4096)


@pytest.mark.parametrize("option,name", [("--wav", "fx.wav"), ("--otio", "fx.otio"),
                                         ("--stems", "stems"), ("--mp4", "fx.mp4")])
def test_full_disk_keeps_the_earlier_output(option: str, name: str, world: World, small_disk: Path,
                                            tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _copy_project(world, tmp_path)
    target = small_disk / name
    if option == "--stems":
        target.mkdir()
        (target / "fire.wav").write_bytes(b"earlier stem")
    else:
        target.write_bytes(b"earlier output")
    _fill(small_disk)  # even a small timeline cannot be written now
    before = _digest([small_disk])
    capsys.readouterr()
    rc = main(["export", str(p), option, str(target)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("sfxstudio") and ": warning:" not in ln]
    assert len(errors) == 1 and name in errors[0], err
    assert _digest([small_disk]) == before
    assert _temps([small_disk, small_disk / "stems"]) == []


def test_project_on_a_full_disk_keeps_the_old_pair(world: World, small_disk: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from sfxstudio.core.project_io import load_project

    old = load_project(world.project)
    target = small_disk / "proj.sfxproj"
    # The old pair fits; the filler leaves no room for a new sidecar.
    from sfxstudio.core.project_io import save_project

    save_project(old, target)
    _fill(small_disk)
    before = _digest([small_disk])
    rc = main(["analyze", str(world.video), "--model", str(world.model), "--library", str(world.library),
               "--k", "0.7", "--project", str(target), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err, err
    assert _digest([small_disk]) == before
    again = load_project(target)
    assert again.params.k == old.params.k
    assert again.analysis is not None and old.analysis is not None
    assert np.array_equal(again.analysis.times, old.analysis.times)


# ------------------------------------------------------------------------------- kill -9


_KILL_SCRIPT = r"""
import sys
from sfxstudio.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _kill_during(argv: list[str], delays: list[float]) -> list[int | None]:
    codes = []
    for delay in delays:
        proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, *argv], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        codes.append(proc.wait())
    return codes


@pytest.mark.slow
def test_kill_9_during_export_leaves_earlier_or_complete_outputs(world: World, tmp_path: Path) -> None:
    import soundfile as sf

    p = _copy_project(world, tmp_path)
    wav, otio = tmp_path / "fx.wav", tmp_path / "fx.otio"
    shutil.copy2(world.earlier / "fx.wav", wav)
    shutil.copy2(world.earlier / "fx.otio", otio)
    earlier = {wav: wav.read_bytes(), otio: otio.read_bytes()}
    argv = ["export", str(p), "--wav", str(wav), "--otio", str(otio)]
    _kill_during(argv, [0.5, 1.5, 2.5, 3.5])
    for f in (wav, otio):
        data = f.read_bytes()
        if data != earlier[f] and f.suffix == ".wav":
            assert sf.info(str(f)).frames == 6 * 48000  # a complete new file
    # The next write to the same place removes what a killed writer left behind.
    assert main(argv) == 0
    assert _temps([tmp_path]) == []
    assert sf.info(str(wav)).frames == 6 * 48000


@pytest.mark.slow
def test_kill_9_during_analyze_project_leaves_a_consistent_pair(world: World, tmp_path: Path) -> None:
    from sfxstudio.core.project_io import load_project

    target = tmp_path / "proj.sfxproj"
    assert main(["analyze", str(world.video), "--model", str(world.model), "--k", "0.3",
                 "--project", str(target), "--quiet"]) == 0
    other = tmp_path / "short.mp4"
    write_video(other, colors=[RED] * 25, fps=FPS)
    argv = ["analyze", str(other), "--model", str(world.model), "--k", "0.6", "--project", str(target),
            "--quiet"]
    _kill_during(argv, [1.0, 2.0, 3.0, 4.0, 5.0])
    project = load_project(target)
    assert project.analysis is not None
    # Old pair (6 s video, k 0.3) or new pair (2.5 s video, k 0.6), never a mix.
    pair = (project.params.k, round(project.analysis.duration, 1))
    assert pair in {(0.3, 6.0), (0.6, 2.5)}, pair
    assert all(s.end <= project.analysis.duration + 1e-9 for s in project.segments)
