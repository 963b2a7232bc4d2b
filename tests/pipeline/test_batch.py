"""`sfxstudio batch`: finding videos, the manifest, statuses and exit codes, reruns that skip
what is done and redo what changed, a failed file that never stops the batch, and a batch that
is interrupted (Ctrl+C) and killed (SIGKILL) and then finishes with one ok line per video."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sfxstudio import cli
from sfxstudio.pipeline.batch_files import (
    MANIFEST,
    Manifest,
    find_videos,
    output_names,
    read_manifest,
)

RED, GREEN = (230, 20, 20), (20, 200, 30)
ROOT = Path(__file__).resolve().parents[2]


def _lines(out: Path) -> list[dict]:
    return read_manifest(out / MANIFEST)


@pytest.fixture
def videos(tmp_path: Path, make_video) -> Path:
    """in/a.mp4 (a red stretch: one fire effect), in/sub/b.mp4 (fire), in/sub/broken.mp4 (not a video)."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    make_video(root / "a.mp4", colors=[GREEN] * 6 + [RED] * 12 + [GREEN] * 6, fps=10)
    make_video(root / "sub" / "b.mp4", colors=[RED] * 10 + [GREEN] * 10, fps=10)
    (root / "sub" / "broken.mp4").write_bytes(b"this is not a video " * 20)
    (root / "notes.txt").write_text("not a video either: never picked up from a folder")
    return root


def test_find_videos_recurses_skips_the_output_folder_and_names_uniquely(tmp_path: Path) -> None:
    (tmp_path / "in" / "x").mkdir(parents=True)
    (tmp_path / "in" / "out").mkdir()
    for rel in ("in/clip.mp4", "in/x/clip.MOV", "in/x/.hidden.mp4", "in/x/readme.txt", "in/out/old.mp4"):
        (tmp_path / rel).write_bytes(b"x")
    videos, problems = find_videos([tmp_path / "in", tmp_path / "in" / "clip.mp4", tmp_path / "nope.mp4"],
                                   exclude=tmp_path / "in" / "out")
    assert [v.relative_to(tmp_path).as_posix() for v in videos] == ["in/clip.mp4", "in/x/clip.MOV"]
    assert problems == [(tmp_path / "nope.mp4", "not found")]
    assert output_names(videos) == ["clip", "clip-2"]


def test_a_torn_last_line_is_dropped_and_the_next_line_starts_clean(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    good = {"path": "/v/a.mp4", "status": "ok", "sha256": "aa"}
    path.write_text(json.dumps(good) + "\n" + '{"path": "/v/b.mp4", "sta')
    m = Manifest(path)
    assert m.latest == {"/v/a.mp4": good} and m.lines == 1
    assert path.read_text() == json.dumps(good) + "\n"  # rewritten without the torn piece
    m.append({"path": "/v/b.mp4", "status": "failed", "error": "bad"})
    assert [r["path"] for r in read_manifest(path)] == ["/v/a.mp4", "/v/b.mp4"]


def test_pool_batch_statuses_exit_2_rerun_skips_and_a_changed_parameter_redoes(
        videos: Path, tmp_path: Path, color_bundle, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["batch", str(videos), "--out", str(out), "--model", str(color_bundle.path),
            "--exports", "wav,json,project", "--workers", "2", "--quiet"]
    assert cli.main(argv) == 2  # one file failed
    lines = _lines(out)
    by_name = {Path(r["path"]).name: r for r in lines}
    assert sorted(by_name) == ["a.mp4", "b.mp4", "broken.mp4"] and len(lines) == 3
    assert by_name["a.mp4"]["status"] == by_name["b.mp4"]["status"] == "ok"
    assert by_name["broken.mp4"]["status"] == "failed"
    err = by_name["broken.mp4"]["error"]
    assert "\n" not in err and "not a readable video" in err
    a = by_name["a.mp4"]
    assert a["effects"] == 1 and a["classes"] == ["fire"] and a["duration"] == pytest.approx(2.4)
    assert len(a["sha256"]) == 64 and a["params"]["params"]["k"] == 1.0 and a["seconds"] > 0
    assert (out / "a" / "a.effects.wav").stat().st_size > 0 and (out / "b" / "b.sfxproj").is_file()
    seg = json.loads((out / "a" / "a.segments.json").read_text())["segments"]
    assert [s["class"] for s in seg if s["origin"] != "mute"] == ["fire"]
    wav_mtime = (out / "a" / "a.effects.wav").stat().st_mtime_ns

    # Rerun: the two done videos are skipped (no new lines), the broken one is tried again.
    assert cli.main(argv) == 2
    again = _lines(out)
    assert len(again) == 4 and Path(again[-1]["path"]).name == "broken.mp4"
    assert (out / "a" / "a.effects.wav").stat().st_mtime_ns == wav_mtime

    # Without the broken file and with another k: both good videos are redone, exit 0.
    (videos / "sub" / "broken.mp4").unlink()
    assert cli.main([*argv[:-1], "--k", "0.5", "--quiet"]) == 0
    redone = _lines(out)[4:]
    assert sorted(Path(r["path"]).name for r in redone) == ["a.mp4", "b.mp4"]
    assert all(r["status"] == "ok" and r["params"]["params"]["k"] == 0.5 for r in redone)
    assert (out / "a" / "a.effects.wav").stat().st_mtime_ns != wav_mtime
    # And a changed video (same name, new content) is redone on its own.
    (videos / "a.mp4").write_bytes((videos / "sub" / "b.mp4").read_bytes())
    assert cli.main([*argv[:-1], "--k", "0.5", "--quiet"]) == 0
    assert [Path(r["path"]).name for r in _lines(out)[6:]] == ["a.mp4"]


def test_bad_model_stops_before_any_work_with_one_line(videos: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nomodel").mkdir()
    rc = cli.main(["batch", str(videos), "--out", str(tmp_path / "out"),
                   "--model", str(tmp_path / "nomodel")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(err) == 1 and "nomodel" in err[0] and "bundle" in err[0]
    assert not (tmp_path / "out" / MANIFEST).exists()


def _start(argv: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "sfxstudio", *argv], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_lines(manifest: Path, n: int, proc: subprocess.Popen[bytes], timeout: float = 240) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and manifest.read_text().count("\n") >= n:
            break
        time.sleep(0.02)
    return manifest.read_text().count("\n") if manifest.exists() else 0


def _no_process_left(pgid: int, timeout: float = 15.0) -> bool:
    """Every process of the batch's group (coordinator, workers, helpers) gone within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_ctrl_c_then_kill_9_then_a_rerun_ends_with_one_ok_line_per_video(
        tmp_path: Path, make_video, color_bundle) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for i in range(5):
        # Long enough that a video takes a while: the batch is stopped between videos.
        make_video(root / f"v{i}.mp4", colors=[RED] * 150 + [GREEN] * 150, fps=25, size=(320, 180))
    out = tmp_path / "out"
    manifest = out / MANIFEST
    argv = ["batch", str(root), "--out", str(out), "--model", str(color_bundle.path), "--workers", "1",
            "--exports", "wav,json"]

    # Ctrl+C (SIGINT to the process group, as a terminal sends it): exit 130, workers gone.
    proc = _start(argv, tmp_path)
    at_stop = _wait_for_lines(manifest, 1, proc)
    assert 1 <= at_stop < 5, "the batch finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-800:]
    assert "cancelled" in err.decode() and "run the same command again" in err.decode()
    assert _no_process_left(proc.pid)
    after_int = len(_lines(out))
    assert all(r["status"] == "ok" for r in _lines(out))

    # SIGKILL of everything mid-batch: nothing is left to clean up but the manifest stays readable.
    proc = _start(argv, tmp_path)
    at_kill = _wait_for_lines(manifest, after_int + 1, proc)
    assert at_kill < 5, "the batch finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    proc = _start(argv, tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-800:]
    lines = _lines(out)
    assert sorted(Path(r["path"]).name for r in lines) == [f"v{i}.mp4" for i in range(5)]
    assert all(r["status"] == "ok" for r in lines)
    assert not [p for p in out.rglob("*") if ".sfxtmp" in p.name]  # no temporary left as an output
    for i in range(5):
        assert (out / f"v{i}" / f"v{i}.effects.wav").stat().st_size > 0
