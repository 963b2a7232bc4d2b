"""The batch plan says when a first video needs work, so Ray can start while the rest is planned."""

from __future__ import annotations

from pathlib import Path

from sfxstudio.core.project import AnalysisParams
from sfxstudio.pipeline.batch import plan, run_batch
from sfxstudio.pipeline.batch_files import MANIFEST, Manifest
from sfxstudio.pipeline.batch_worker import BatchSettings

RED, GREEN = (230, 20, 20), (20, 200, 30)


def test_plan_announces_the_first_job_once_per_video_to_do_and_not_on_a_done_rerun(
        tmp_path: Path, make_video, color_bundle) -> None:
    root = tmp_path / "in"
    root.mkdir()
    make_video(root / "a.mp4", colors=[GREEN] * 4 + [RED] * 4, fps=10)
    make_video(root / "b.mp4", colors=[RED] * 8, fps=10)
    model = str(color_bundle.path)
    settings = BatchSettings(model=model, params=AnalysisParams(model=model), exports=("json",))
    out = tmp_path / "out"
    out.mkdir()
    calls: list[int] = []
    fp = settings.fingerprint()
    jobs, skipped, failed = plan([root], out, settings, Manifest(out / MANIFEST), fp, on_job=calls.append)
    # Called before each new video is hashed, with how many jobs there can still be.
    assert len(jobs) == 2 and not skipped and not failed
    assert calls == [2, 1]
    assert run_batch([root], out, settings, workers=1, quiet=True).exit_status == 0
    calls.clear()
    jobs, skipped, failed = plan([root], out, settings, Manifest(out / MANIFEST), fp, on_job=calls.append)
    assert not jobs and len(skipped) == 2 and calls == []


def test_ray_started_while_planning_stops_when_the_manifest_cannot_be_written(
        tmp_path: Path, monkeypatch, color_bundle) -> None:
    """Ray workers started during planning are closed when writing a failed video's line to
    the manifest raises (a full disk), not left running."""
    import pytest

    from sfxstudio.pipeline import batch

    closed: list[bool] = []

    class Workers:
        def close(self) -> None:
            closed.append(True)

    bad = {"path": str(tmp_path / "bad.mp4"), "status": "failed", "error": "not a video"}
    monkeypatch.setattr(batch, "_plan_starting_ray",
                        lambda *a, **k: ([], [], [dict(bad)], Workers()))

    def full_disk(self: Manifest, rec: dict) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Manifest, "append", full_disk)
    model = str(color_bundle.path)
    settings = BatchSettings(model=model, params=AnalysisParams(model=model), exports=("json",))
    with pytest.raises(OSError):
        run_batch([tmp_path], tmp_path / "out", settings, workers=1, ray="local", quiet=True)
    assert closed == [True]
