import opentimelineio as otio

from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment
from sfxstudio.media.timeline import build_timeline, export_otio


def _project():
    return Project(video="/footage/a.mp4", segments=[
        Segment("fire", 1.0, 3.0, "manual", variation="fire/a.ogg"),
        Segment("fire", 4.0, 5.0),
        Segment("river", 0.0, 2.0),
        Segment("fire", 5.0, 6.0, "mute"),
    ])


def test_one_track_per_class_with_clips_at_the_effect_times(tmp_path):
    t = build_timeline(_project(), library_root=tmp_path)
    tracks = {tr.name: tr for tr in t.tracks}
    assert set(tracks) == {"fire", "river"}  # the mute range makes no clip
    fire = [(c.range_in_parent().start_time.to_seconds(), c.duration().to_seconds())
            for c in tracks["fire"] if isinstance(c, otio.schema.Clip)]
    assert fire == [(1.0, 2.0), (4.0, 1.0)]
    first = next(c for c in tracks["fire"] if isinstance(c, otio.schema.Clip))
    assert first.media_reference.target_url.endswith("fire/a.ogg")
    assert first.metadata["sfxstudio"]["origin"] == "manual"


def test_export_round_trips_through_otio(tmp_path):
    path = tmp_path / "fx.otio"
    export_otio(_project(), path)
    back = otio.adapters.read_from_file(str(path))
    assert [tr.name for tr in back.tracks] == ["fire", "river"]
    assert back.tracks[1][0].duration().to_seconds() == 2.0
