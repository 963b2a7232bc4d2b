"""Every real video in ../shared/data/videos analyses and exports (WAV and MP4)."""

import json

import pytest
import soundfile as sf

from sfxstudio.cli import main
from tests.conftest import SHARED_DATA

VIDEOS = sorted((SHARED_DATA / "videos").glob("*")) if SHARED_DATA.is_dir() else []


@pytest.mark.shared_data
@pytest.mark.parametrize("video", VIDEOS, ids=[v.name for v in VIDEOS])
def test_real_video_analyses_and_exports(video, tmp_path, color_bundle, shared_data):
    import av

    out = tmp_path / "o"
    code = main(["analyze", str(video), "--model", str(color_bundle.path), "--analysis-fps", "2",
                 "--quiet", "--wav", f"{out}.wav", "--mp4", f"{out}.mp4", "--json", f"{out}.json",
                 "--project", f"{out}.sfxproj"])
    assert code == 0
    from sfxstudio.media.video import probe

    info = probe(video)
    wav = sf.info(f"{out}.wav")
    assert wav.samplerate == 48000 and wav.subtype == "PCM_24"
    assert abs(wav.frames / 48000 - info.duration) < 1e-3
    with av.open(f"{out}.mp4") as c:
        assert len(c.streams.video) == 1 and len(c.streams.audio) == 1
        assert abs(c.duration / 1e6 - info.duration) < 0.15
    segs = json.loads((tmp_path / "o.json").read_text())["segments"]
    assert all(0 <= s["start"] < s["end"] <= info.duration + 1e-6 for s in segs)


def test_every_shared_video_is_covered():
    if not VIDEOS:
        pytest.skip(f"real media folder {SHARED_DATA} is absent")
    assert len(VIDEOS) == 8
