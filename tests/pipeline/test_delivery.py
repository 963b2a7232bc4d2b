"""Delivery end to end: loudness to spec measured by ffmpeg's ebur128 (an independent meter),
BWF everywhere, clips behind every timeline clip, a QC report beside the export."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media.bwf import read_bext
from sfxstudio.media.export import find_ffmpeg
from sfxstudio.pipeline.delivery import DeliveryRequest, deliver
from tests.fixtures.media import write_video


def _ebur128(path: Path) -> tuple[float, float]:
    r = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostats", "-i", str(path),
                        "-af", "ebur128=peak=true", "-f", "null", "-"],
                       capture_output=True, text=True, check=True)
    return (float(re.findall(r"I:\s+(-?[\d.]+) LUFS", r.stderr)[-1]),
            float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", r.stderr)[-1]))


@pytest.fixture
def project(tmp_path) -> Project:
    lib = tmp_path / "lib"
    rng = np.random.default_rng(0)
    for cls, seconds in (("fire", 1.5), ("river", 2.0)):
        (lib / cls).mkdir(parents=True)
        noise = rng.standard_normal((round(seconds * 48000), 2)) * 0.05
        sf.write(lib / cls / f"{cls}.wav", noise.astype(np.float32), 48000, subtype="PCM_16")
    video = write_video(tmp_path / "v.mp4", seconds=6.0, fps=25, audio=True)
    return Project(video=str(video), library=str(lib), segments=[
        Segment("fire", 0.5, 2.5), Segment("river", 1.0, 5.0), Segment("fire", 3.0, 4.0)])


def test_everything_at_once_to_ebu_r128(tmp_path, project):
    out = tmp_path / "out"
    out.mkdir()
    request = DeliveryRequest(wav=out / "fx.wav", mp4=out / "fx.mp4", stems=out / "stems",
                              clips=out / "clips",
                              timelines={"otio": out / "fx.otio", "fcp7xml": out / "fx.xml"},
                              loudness_target=-23.0, true_peak=-1.0)
    result = deliver(project, request)
    for path in (out / "fx.wav", out / "fx.mp4"):
        integrated, peak = _ebur128(path)
        assert integrated == pytest.approx(-23.0, abs=0.5), path
        assert peak <= -1.0, path
    assert result.effects.integrated == pytest.approx(-23.0, abs=0.01)
    assert result.mix.integrated == pytest.approx(-23.0, abs=0.01)
    # every WAV is a Broadcast WAV; the effects track says its loudness
    bext = read_bext(out / "fx.wav")
    assert bext["loudness_lufs"] == pytest.approx(-23.0, abs=0.01) and bext["originator"] == "SFX Studio"
    for wav in [*sorted((out / "stems").iterdir()), *sorted((out / "clips").iterdir())]:
        assert read_bext(wav) is not None, wav
    assert sorted(p.name for p in (out / "stems").iterdir()) == ["fire.wav", "river.wav"]
    # stems carry the effects track's gain, so they still sum to it
    track, _ = sf.read(out / "fx.wav")
    stems = sum(sf.read(p)[0] for p in sorted((out / "stems").iterdir()))
    assert np.abs(track - stems).max() < 1e-4
    assert len(result.clips) == 3
    # the timelines reference the clip files, which exist
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(out / "fx.otio"))
    urls = [c.media_reference.target_url for c in timeline.find_clips()
            if isinstance(c.media_reference, otio.schema.ExternalReference)]
    files = {Path(unquote(urlparse(u).path)) for u in urls}
    assert {c.path.resolve() for c in result.clips.values()} <= {f.resolve() for f in files}
    assert all(f.exists() for f in files)
    report = (out / "fx.report.html").read_text(encoding="utf-8")
    assert result.report == out / "fx.report.html"
    assert "-23.0" in report and "fire/fire.wav" in report and "river/river.wav" in report


def test_measure_only_and_a_timeline_alone_renders_its_media(tmp_path, project):
    result = deliver(project, DeliveryRequest(timelines={"otio": tmp_path / "t.otio"}))
    media = tmp_path / "t_media"
    assert len(list(media.glob("*.wav"))) == 3 and len(result.clips) == 3
    assert result.effects_gain_db == 0.0 and result.mix is None
    assert (tmp_path / "t.report.html").exists()


def test_ceiling_wins_over_the_target(tmp_path, project):
    result = deliver(project, DeliveryRequest(wav=tmp_path / "fx.wav", loudness_target=-5.0, true_peak=-6.0,
                                              report=False))
    integrated, peak = _ebur128(tmp_path / "fx.wav")
    assert peak <= -6.0 and integrated < -5.5
    assert any("true-peak ceiling" in w for w in result.warnings)
    assert not (tmp_path / "fx.report.html").exists()
