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
    # both modes scored on the same analysis, printed beside each other
    assert set(summary["modes"]) == {"single", "layered"}
    assert summary["mode"] == "layered"
    assert summary["modes"]["layered"]["event_f1_200ms"] == summary["event_f1_200ms"]
    assert "single   mode: event F1" in err and "layered  mode: event F1" in err
    # the truth holds an overlap (14 s: a sky scene over a ground scene) and the drawn events
    truth = json.loads((out / "demo.truth.json").read_text())
    segs = [(s["class"], s["start"], s["end"]) for s in truth["segments"]]
    assert any(a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for a in segs for b in segs)
    assert truth["events"]
    assert all(e["class"] in {"lightning", "water_drop", "typing"} for e in truth["events"])
    info = sf.info(str(out / "demo_effects.wav"))
    assert info.samplerate == 48000 and abs(info.frames / 48000 - 14.0) < 0.05
    assert (out / "demo_with_effects.mp4").stat().st_size > 0
