"""Every timeline format re-imports through its own adapter with the project's clips, frames,
media and duration (issue 14, point 4)."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media.timeline import (
    TIMELINE_FORMATS,
    VideoFacts,
    export_timeline,
    rational_rate,
    read_fcpxml,
    timecode_rate,
    video_facts,
)

OTIOSTAT = Path(sys.executable).with_name("otiostat")


@dataclass(frozen=True)
class Clip:
    path: Path
    start: float
    end: float
    handle_before: float
    handle_after: float


def _setup(tmp_path: Path, rate: Fraction, seconds: int = 25):
    """A project whose effects start and end on frames, its clip files and the expected
    (class, record in, record out, source in, file name) per effect, in video frames."""
    video = tmp_path / "shot.mp4"
    video.write_bytes(b"\0")  # existence is all a timeline needs of it here
    spec = [("fire", 30, 90), ("fire", 60, 150), ("river", 0, 60), ("dog_barking", 225, 246),
            ("fire", 200, 210), ("river", 240, round(seconds * rate))]
    segments, clips, expected = [], {}, []
    for i, (cls, a, b) in enumerate(spec):
        seg = Segment(cls, float(a / rate), float(b / rate), "manual" if i == 0 else "auto")
        before = min(1.0, seg.start)
        after = 0.5 if i % 2 else 1.0
        path = tmp_path / "clips" / f"{i:02d}_{cls}.wav"
        path.parent.mkdir(exist_ok=True)
        frames = round((before + seg.end - seg.start + after) * 48000)
        sf.write(path, np.zeros((frames, 2), np.float32), 48000, subtype="PCM_24")
        segments.append(seg)
        clips[seg.id] = Clip(path, seg.start, seg.end, before, after)
        expected.append((cls, a, b, round(Fraction(before) * rate), path.name))
    facts = VideoFacts(video, rate, round(seconds * rate))
    return Project(video=str(video), segments=segments), clips, facts, sorted(expected)


def _read(path: Path, fmt: str, rate: Fraction):
    if fmt == "fcpxml":  # the adapter, behind the inverse of the NTSC stretch the writer applies
        return read_fcpxml(path)
    kwargs = {"rate": float(timecode_rate(rate))} if fmt == "edl" else {}
    return otio.adapters.read_from_file(str(path), adapter_name=TIMELINE_FORMATS[fmt].adapter, **kwargs)


def _frames(t, rate: Fraction) -> int:
    value = Fraction(t.value) * Fraction(rate) / Fraction(t.rate).limit_denominator(1001)
    assert value.denominator == 1 or abs(value - round(value)) < Fraction(1, 1000), (t, rate)
    return round(value)


def _record_range(clip, rate):
    """The clip's in/out on the timeline in video frames (an EDL track starts at its first event)."""
    track = clip.parent()
    offset = track.source_range.start_time if track.source_range is not None else None
    rng = clip.range_in_parent()
    first = _frames(rng.start_time, rate) - (_frames(offset, rate) if offset is not None else 0)
    return first, first + _frames(rng.duration, rate)


def _effects(timelines, rate):
    found, videos, durations = [], [], []
    for tl in timelines:
        durations.append(_frames(tl.duration(), rate))
        for track in tl.tracks:
            for clip in track.find_clips():
                ref = clip.media_reference
                local = Path(otio.url_utils.filepath_from_url(ref.target_url))
                assert local.is_file(), ref.target_url
                if track.kind == otio.schema.TrackKind.Video:
                    videos.append((local.name, _frames(clip.source_range.duration, rate)))
                    continue
                rec = _record_range(clip, rate)
                src = _frames(clip.source_range.start_time, rate)
                if ref.available_range is not None:  # the handles: the effect lies inside the file
                    avail = ref.available_range
                    assert _frames(avail.start_time, rate) <= src
                    assert src + rec[1] - rec[0] <= _frames(avail.end_time_exclusive(), rate)
                    assert _frames(avail.duration, rate) > rec[1] - rec[0]
                found.append((clip.metadata.get("sfxstudio", {}).get("class"), *rec, src, local.name))
    return found, videos, durations


RATES = {"24": Fraction(24), "ntsc": Fraction(30000, 1001), "23.976": Fraction(24000, 1001),
         "59.94": Fraction(60000, 1001), "25": Fraction(25), "30": Fraction(30), "12.5": Fraction(25, 2)}


@pytest.mark.parametrize("fmt", list(TIMELINE_FORMATS))
@pytest.mark.parametrize("rate_name", list(RATES))
def test_each_format_reimports_with_the_project_frames(tmp_path, fmt, rate_name):
    rate = RATES[rate_name]
    project, clips, facts, expected = _setup(tmp_path, rate)
    target = tmp_path / f"fx{TIMELINE_FORMATS[fmt].suffix}"
    written = export_timeline(project, target, fmt, clips, video=facts)
    assert written[0] == target and all(p.is_file() for p in written)
    timelines = [_read(p, fmt, rate) for p in written]
    found, videos, durations = _effects(timelines, rate)
    # Classes travel in OTIO/AAF metadata only; the other formats are compared without them.
    if fmt not in ("otio",):
        found = [(None, *rest) for _, *rest in found]
        expected = [(None, *rest) for _, *rest in expected]
    assert sorted(found) == sorted(expected)
    assert videos == [("shot.mp4", facts.frames)]
    if fmt == "edl":
        assert len(written) == 1 + 4  # the picture, then dog_barking, fire, fire 2, river
    assert durations[0] == facts.frames  # the picture list / the whole timeline: the video's length


def test_edl_writes_one_list_per_track(tmp_path):
    rate = Fraction(24)
    project, clips, facts, _ = _setup(tmp_path, rate)
    written = export_timeline(project, tmp_path / "fx.edl", "edl", clips, video=facts)
    assert [p.name for p in written] == ["fx.edl", "fx.dog_barking.edl", "fx.fire.edl", "fx.fire 2.edl",
                                         "fx.river.edl"]
    fire = written[2].read_text()
    # source in/out inside the file (after its 1 s handle), record in/out on the timeline
    assert "00:00:01:00 00:00:03:12 00:00:01:06 00:00:03:18" in fire
    assert "FROM CLIP: file://" in fire and "00_fire.wav" in fire


def test_the_rate_is_the_videos_and_timecode_formats_use_a_whole_multiple():
    assert rational_rate(30000 / 1001) == Fraction(30000, 1001)
    assert rational_rate(24000 / 1001) == Fraction(24000, 1001)
    assert rational_rate(25.0) == 25 and rational_rate(12.5) == Fraction(25, 2)
    assert timecode_rate(Fraction(10)) == 30 and timecode_rate(Fraction(20)) == 60
    assert timecode_rate(Fraction(25, 2)) == 25
    assert timecode_rate(Fraction(30000, 1001)) == Fraction(30000, 1001)


def test_ntsc_timeline_carries_the_rational_rate_and_exact_duration(tmp_path):
    rate = Fraction(30000, 1001)
    project, clips, facts, _ = _setup(tmp_path, rate, seconds=64)
    export_timeline(project, tmp_path / "fx.otio", "otio", clips, video=facts)
    tl = otio.adapters.read_from_file(str(tmp_path / "fx.otio"))
    assert tl.duration().rate == float(rate)
    assert tl.duration().value == round(64 * rate) == 1918
    assert abs(tl.duration().to_seconds() - 64.0) <= 1 / float(rate)
    assert tl.metadata["sfxstudio"]["rate"] == "30000/1001"
    # FCP 7 XML marks it as NTSC 30 (Premiere and Resolve read 29.97 from that).
    export_timeline(project, tmp_path / "fx.xml", "fcp7xml", clips, video=facts)
    seq = ET.parse(tmp_path / "fx.xml").getroot().find(".//sequence/rate")
    assert seq is not None and seq.findtext("timebase") == "30" and seq.findtext("ntsc") == "TRUE"


@pytest.mark.parametrize("fmt", ["otio", "fcp7xml", "fcpxml", "aaf", "edl"])
@pytest.mark.parametrize("rate_name", ["24", "ntsc", "23.976", "59.94", "25"])
def test_otiostat_finds_no_error(tmp_path, fmt, rate_name):
    if fmt == "edl" and rate_name != "24":
        pytest.skip("otiostat reads an EDL at its default 24 fps and takes no rate")
    rate = RATES[rate_name]
    project, clips, facts, _ = _setup(tmp_path, rate)
    for path in export_timeline(project, tmp_path / f"fx{TIMELINE_FORMATS[fmt].suffix}", fmt, clips,
                                video=facts):
        out = subprocess.run([str(OTIOSTAT), str(path)], capture_output=True, text=True, timeout=120)
        text = out.stdout + out.stderr
        assert "parsed: True" in text, text
        if fmt in ("fcp7xml", "fcpxml"):
            # XML tracks have no end of their own: their readers end each audio track at its
            # last clip, and otiostat then finds tracks of different lengths. Nothing else.
            text = "\n".join(line for line in text.splitlines()
                             if "is not the same duration as the other tracks" not in line)
        assert "error" not in text.lower(), text


def _seconds(value: str) -> Fraction:
    num, _, den = value.removesuffix("s").partition("/")
    return Fraction(int(num), int(den or 1))


@pytest.mark.parametrize("rate_name", ["ntsc", "23.976", "59.94"])
def test_fcpxml_at_ntsc_rates_has_the_rational_frame_and_every_time_on_a_frame(tmp_path, rate_name):
    rate = RATES[rate_name]
    project, clips, facts, expected = _setup(tmp_path, rate)
    export_timeline(project, tmp_path / "fx.fcpxml", "fcpxml", clips, video=facts)
    root = ET.parse(tmp_path / "fx.fcpxml").getroot()
    (fmt,) = root.findall("./resources/format")
    assert fmt.get("frameDuration") == f"1001/{rate.numerator}s"
    frame = _seconds(fmt.get("frameDuration"))
    times = [_seconds(el.get(a)) for el in root.iter() for a in ("offset", "duration", "start") if el.get(a)]
    assert len(times) > 3 * len(expected)
    assert all((t / frame).denominator == 1 for t in times)  # Final Cut Pro refuses a time off the frame edge
    assert _seconds(root.find(".//sequence").get("duration")) / frame == facts.frames
    # The adapter alone finds every clip (its frame counts at int(rate) are its own limit).
    plain = otio.adapters.read_from_file(str(tmp_path / "fx.fcpxml"), adapter_name="fcpx_xml")
    assert len(plain.find_clips()) == len(expected) + 1


def test_edl_states_its_frame_count_mode(tmp_path):
    for rate, mode in ((Fraction(30000, 1001), "FCM: DROP FRAME"), (Fraction(25), "FCM: NON-DROP FRAME")):
        (tmp_path / str(rate.denominator)).mkdir()
        project, clips, facts, _ = _setup(tmp_path / str(rate.denominator), rate)
        for path in export_timeline(project, tmp_path / f"{float(rate)}.edl", "edl", clips, video=facts):
            assert path.read_text().splitlines()[1] == mode


def test_video_facts_come_from_the_probed_video(make_video):
    video = make_video(seconds=3.0, fps=10)
    facts = video_facts(Project(video=str(video)))
    assert facts.rate == 10 and facts.frames == 30 and facts.path == video


def test_without_clip_files_effects_reference_their_library_sounds(tmp_path):
    rate = Fraction(24)
    (tmp_path / "lib" / "fire").mkdir(parents=True)
    sf.write(tmp_path / "lib" / "fire" / "a.wav", np.zeros(4800, np.float32), 48000)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0")
    project = Project(video=str(video), segments=[
        Segment("fire", 1.0, 2.0, "manual", variation="fire/a.wav"),
        Segment("fire", 3.0, 4.0, "manual", variation="fire/gone.wav")])
    export_timeline(project, tmp_path / "fx.otio", "otio", video=VideoFacts(video, rate, 120),
                    library_root=tmp_path / "lib")
    tl = otio.adapters.read_from_file(str(tmp_path / "fx.otio"))
    refs = [c.media_reference for c in tl.tracks[1].find_clips()]
    assert refs[0].target_url.endswith("fire/a.wav")
    assert isinstance(refs[1], otio.schema.MissingReference)  # a sound that does not exist is not linked
