"""The MP4's loudness as encoded (issue 14): ffmpeg's ebur128 reads the AAC track in the same run,
and a mix the encoder moved by more than 0.3 LU is encoded once more, corrected; a failing or
cancelled worker stops the whole delivery."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.core.errors import Cancelled
from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media import export
from sfxstudio.media.export import find_ffmpeg
from sfxstudio.pipeline.delivery import DeliveryRequest, deliver
from tests.fixtures.media import write_video


def _ebur128(path: Path) -> float:
    r = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128",
                        "-f", "null", "-"], capture_output=True, text=True, check=True)
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", r.stderr)[-1])


@pytest.fixture
def noisy(tmp_path: Path) -> Project:
    """White-noise effects over a silent-ish video: most of their K-weighted energy is high."""
    lib = tmp_path / "lib" / "hiss"
    lib.mkdir(parents=True)
    rng = np.random.default_rng(1)
    sf.write(lib / "hiss.wav", (rng.standard_normal((48000 * 2, 2)) * 0.1).astype(np.float32), 48000,
             subtype="PCM_16")
    video = write_video(tmp_path / "v.mp4", seconds=6.0, fps=25)
    return Project(video=str(video), library=str(tmp_path / "lib"),
                   segments=[Segment("hiss", 0.5, 5.5)])


def test_the_encoded_mp4_holds_the_target_and_says_what_it_reads(tmp_path: Path, noisy: Project) -> None:
    result = deliver(noisy, DeliveryRequest(mp4=tmp_path / "fx.mp4", loudness_target=-23.0, report=False))
    assert result.mix_encoded_lufs is not None
    assert result.mix_encoded_lufs == pytest.approx(_ebur128(tmp_path / "fx.mp4"), abs=0.1)
    assert abs(result.mix_encoded_lufs + 23.0) <= 0.3  # no second encode was needed
    assert "as encoded" in result.summary_lines()[-1]
    assert set(result.timings) >= {"render", "loudness", "mp4: original audio", "mp4: encode"}


def test_an_encoder_that_moves_the_loudness_is_corrected_once(tmp_path: Path, noisy: Project,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # A 3 kHz low-pass drops most of white noise's K-weighted energy (several LU).
    monkeypatch.setattr(export, "AAC_ARGS", ("-cutoff", "3000"))
    calls = []
    real = export.export_mp4

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("measure"))
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "export_mp4", counting)
    result = deliver(noisy, DeliveryRequest(mp4=tmp_path / "fx.mp4", loudness_target=-23.0, true_peak=-1.0,
                                            report=False))
    assert calls == [True, True]
    assert _ebur128(tmp_path / "fx.mp4") == pytest.approx(-23.0, abs=0.5)
    note = next(n for what, _, n in result.outputs if "MP4" in what)
    assert "encoded again" in note


def test_cancel_during_the_mp4_leaves_no_mp4_and_no_temporaries(tmp_path: Path, noisy: Project) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "fx.mp4").write_bytes(b"earlier")
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 3  # after the render and the loudness steps

    with pytest.raises(Cancelled):
        deliver(noisy, DeliveryRequest(mp4=out / "fx.mp4", wav=out / "fx.wav", stems=out / "stems",
                                       loudness_target=-23.0), cancel=cancel)
    assert (out / "fx.mp4").read_bytes() == b"earlier"
    assert [p.name for p in out.iterdir() if ".sfxtmp" in p.name] == []
