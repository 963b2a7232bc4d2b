"""The batch on a local Ray instance (2 CPUs, 2 actors): same manifest and outputs as the pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfxstudio.core.project import AnalysisParams
from sfxstudio.pipeline.batch import run_batch
from sfxstudio.pipeline.batch_files import MANIFEST, read_manifest
from sfxstudio.pipeline.batch_worker import BatchSettings

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'sfxstudio[ray]'; "
                                        "scripts/setup.sh installs it)")

RED, GREEN = (230, 20, 20), (20, 200, 30)


@pytest.mark.slow
def test_ray_local_two_actors_write_the_outputs_and_the_manifest(tmp_path: Path, make_video,
                                                                 color_bundle) -> None:
    root = tmp_path / "in"
    root.mkdir()
    make_video(root / "a.mp4", colors=[GREEN] * 6 + [RED] * 12 + [GREEN] * 6, fps=10)
    make_video(root / "b.mp4", colors=[RED] * 10 + [GREEN] * 10, fps=10)
    model = str(color_bundle.path)
    settings = BatchSettings(model=model, params=AnalysisParams(model=model), exports=("wav", "json"))
    out = tmp_path / "out"
    summary = run_batch([root], out, settings, workers=2, ray="local", quiet=True)
    assert summary.exit_status == 0 and not ray.is_initialized()  # the local instance is shut down
    lines = read_manifest(out / MANIFEST)
    assert sorted(Path(r["path"]).name for r in lines) == ["a.mp4", "b.mp4"]
    assert all(r["status"] == "ok" and r["classes"] == ["fire"] for r in lines)
    assert (out / "a" / "a.effects.wav").stat().st_size > 0 and (out / "b" / "b.segments.json").is_file()
    # A rerun on Ray skips both without starting any work.
    again = run_batch([root], out, settings, workers=2, ray="local", quiet=True)
    assert again.count("skipped") == 2 and len(read_manifest(out / MANIFEST)) == 2
