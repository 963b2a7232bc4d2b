"""`sfxstudio demo` end to end on a short demo video (the README's first command runs 64 s)."""

import json

import pytest
import soundfile as sf

from sfxstudio.cli import main
from sfxstudio.core.paths import DEMO_MODEL


@pytest.mark.skipif(not (DEMO_MODEL / "bundle.json").is_file(), reason="models/demo is not generated")
def test_demo_writes_every_output_and_scores_itself(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--seconds", "14"]) == 0
    err = capsys.readouterr().err
    assert "Event F1 (200 ms onset collar)" in err and str(out / "demo.sfxproj") in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["segments_truth"] >= 1
    assert 0.0 <= summary["event_f1_200ms"] <= 1.0
    # the drawn scenes are what the demo model was made for: it must find them
    assert summary["event_f1_200ms"] >= 0.6
    info = sf.info(str(out / "demo_effects.wav"))
    assert info.samplerate == 48000 and abs(info.frames / 48000 - 14.0) < 0.05
    assert (out / "demo_with_effects.mp4").stat().st_size > 0
