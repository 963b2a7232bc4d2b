import opentimelineio as otio

from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media.timeline import VideoFacts, build_timeline, export_otio


def _project(tmp_path):
    return Project(video=str(tmp_path / "a.mp4"), segments=[
        Segment("fire", 1.0, 3.0, "manual", variation="fire/a.ogg"),
        Segment("fire", 4.0, 5.0),
        Segment("river", 0.0, 2.0),
        Segment("fire", 5.0, 6.0, "mute"),
        Segment("fire", 2.5, 3.5),  # overlaps the first fire: a second fire track
    ])


def test_picture_then_one_track_per_class_with_clips_at_the_effect_frames(tmp_path):
    (tmp_path / "fire").mkdir()
    (tmp_path / "fire" / "a.ogg").write_bytes(b"\0")
    facts = VideoFacts(tmp_path / "a.mp4", 25, 200)
    t = build_timeline(_project(tmp_path), video=facts, library_root=tmp_path)
    assert [(tr.name, tr.kind) for tr in t.tracks] == [
        ("Video", "Video"), ("fire", "Audio"), ("fire 2", "Audio"), ("river", "Audio")]
    assert all(tr.duration().value == 200 and tr.duration().rate == 25 for tr in t.tracks)
    fire = [(c.range_in_parent().start_time.value, c.duration().value) for c in t.tracks[1].find_clips()]
    assert fire == [(25, 50), (100, 25)]  # the mute range makes no clip
    assert [(c.range_in_parent().start_time.value, c.duration().value)
            for c in t.tracks[2].find_clips()] == [(62, 26)]  # 2.5 s: frame 62 (half to even); 3.5 s: 88
    first = t.tracks[1].find_clips()[0]
    assert first.media_reference.target_url.endswith("fire/a.ogg")
    assert first.metadata["sfxstudio"]["origin"] == "manual"
    picture = t.tracks[0].find_clips()[0]
    assert picture.media_reference.available_range.duration.value == 200


def test_export_round_trips_through_otio(tmp_path):
    path = tmp_path / "fx.otio"
    export_otio(_project(tmp_path), path)  # the video cannot be read: a warning, 30 fps
    back = otio.adapters.read_from_file(str(path))
    assert [tr.name for tr in back.tracks] == ["Video", "fire", "fire 2", "river"]
    assert back.tracks[3].find_clips()[0].duration().to_seconds() == 2.0
