"""Timeline interchange: the effects as an OpenTimelineIO timeline (one audio track per class).

Editors can bring the draft into their NLE (via OTIO adapters) and keep cutting there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfxstudio.core.atomic import atomic_write_text
from sfxstudio.core.project import Project
from sfxstudio.core.segments import audible
from sfxstudio.media.audio_io import MIX_RATE

RATE = float(MIX_RATE)  # OTIO rational times count samples of the mix


def build_timeline(project: Project, library_root: Path | None = None) -> Any:
    import opentimelineio as otio

    name = Path(project.video).stem if project.video else "effects"
    timeline = otio.schema.Timeline(name=f"{name} - SFX Studio effects")
    by_class: dict[str, list[Any]] = {}
    for seg in audible(project.segments):
        by_class.setdefault(seg.class_name, []).append(seg)
    for cls in sorted(by_class):
        track = otio.schema.Track(name=cls, kind=otio.schema.TrackKind.Audio)
        cursor = 0.0
        for seg in sorted(by_class[cls], key=lambda s: s.start):
            start = max(seg.start, cursor)
            if start >= seg.end:
                continue  # overlaps the previous effect of this class: one track holds one at a time
            if start > cursor:
                track.append(otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(duration=otio.opentime.from_seconds(
                        start - cursor, RATE))))
            ref: Any
            if seg.variation and library_root is not None:
                ref = otio.schema.ExternalReference(target_url=(library_root / seg.variation).as_uri())
            else:
                ref = otio.schema.MissingReference()
            track.append(otio.schema.Clip(
                name=f"{cls} ({seg.origin})",
                media_reference=ref,
                source_range=otio.opentime.TimeRange(
                    start_time=otio.opentime.from_seconds(0.0, RATE),
                    duration=otio.opentime.from_seconds(seg.end - start, RATE)),
                metadata={"sfxstudio": {"class": cls, "origin": seg.origin, "gain_db": seg.gain_db,
                                        "mode": seg.mode, "variation": seg.variation}},
            ))
            cursor = seg.end
        timeline.tracks.append(track)
    return timeline


def export_otio(project: Project, path: str | Path, library_root: Path | None = None) -> None:
    import opentimelineio as otio

    timeline = build_timeline(project, library_root)
    # Serialised in memory, then written by the one atomic writer: OTIO's own file writer
    # reports no error when the disk fills up and leaves a truncated file.
    text = otio.adapters.write_to_string(timeline, adapter_name="otio_json")
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")
