"""Timelines for every editing tool: the effects as an OpenTimelineIO timeline, written through
OTIO's adapters (OTIO JSON, FCP 7 XML, FCPXML, CMX3600 EDL, AAF).

Every timeline has
- the video's own frame rate as its rate (a rational one: 30000/1001 for NTSC 29.97, written
  as OTIO's float rate of that fraction) and the video's duration;
- the source video on a video track (one clip over the whole video, referencing the file);
- the effects on audio tracks, one per class ("fire"), with overlapping effects of a class on
  extra tracks of that class ("fire 2"); every time snapped to whole frames;
- each effect clip referencing its own media: the per-effect file (sfxstudio.media.clips) with
  its handles as the reference's available range and the effect inside it as the clip's
  source range; without per-effect files, the library sound it plays.

FCPXML at an NTSC rate (23.976, 29.97, 59.94) carries the rational frame duration
(1001/30000s) and times that are whole multiples of it; the FCPXML adapter counts whole
frames per second only, so it writes such a timeline at its nominal rate and the times are
then stretched by 1001/1000 (read_fcpxml undoes that before the adapter reads a file).

Timecode formats (EDL, FCP 7 XML, FCPXML, AAF) need a SMPTE timecode rate. A video at a
rate that is not one (10, 12.5, 15, 20 fps...) is written at the smallest timecode rate that
is a whole multiple of it (30, 25, 30, 60), so every frame edge stays exact.

CMX3600 holds one track per list (the adapter writes one): `--edl fx.edl` writes the picture
to fx.edl and each effects track to its own list beside it (fx.fire.edl, fx.fire 2.edl).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sfxstudio.core.atomic import atomic_path, atomic_write_text
from sfxstudio.core.errors import ExportError, warn
from sfxstudio.core.project import Project
from sfxstudio.core.segments import Segment, audible

DEFAULT_RATE = Fraction(30)  # a project without a readable video (rare: tests, a moved file)


class TimelineFormat(NamedTuple):
    suffix: str  # the file name ending editors expect
    adapter: str  # OpenTimelineIO adapter name
    label: str  # for menus and messages


TIMELINE_FORMATS: dict[str, TimelineFormat] = {
    "otio": TimelineFormat(".otio", "otio_json", "OpenTimelineIO"),
    "fcp7xml": TimelineFormat(".xml", "fcp_xml", "FCP 7 XML (Premiere Pro, DaVinci Resolve)"),
    "fcpxml": TimelineFormat(".fcpxml", "fcpx_xml", "FCPXML (Final Cut Pro, DaVinci Resolve)"),
    "edl": TimelineFormat(".edl", "cmx_3600", "CMX3600 EDL"),
    "aaf": TimelineFormat(".aaf", "AAF", "AAF (Avid Media Composer, Pro Tools)"),
}


class ClipMedia(Protocol):
    """A per-effect media file (sfxstudio.media.clips.ClipFile): the effect from `start` to
    `end` (seconds on the video's clock) sits in the file after `handle_before` seconds and is
    followed by `handle_after` seconds of the sound."""

    @property
    def path(self) -> Path: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def handle_before(self) -> float: ...
    @property
    def handle_after(self) -> float: ...


@dataclass(frozen=True)
class VideoFacts:
    """What a timeline needs of the video: its file, rational rate and length in frames."""

    path: Path | None
    rate: Fraction
    frames: int

    @property
    def duration(self) -> float:
        return float(self.frames / self.rate)


def rational_rate(fps: float) -> Fraction:
    """The exact rate behind a probed float: 29.97002997 -> 30000/1001, 25.0 -> 25."""
    for den in (1, 1001):
        frac = Fraction(round(fps * den), den)
        if frac > 0 and abs(float(frac) - fps) < 1e-6 * fps:
            return frac
    return Fraction(fps).limit_denominator(1001)


def timecode_rate(rate: Fraction) -> Fraction:
    """`rate` when SMPTE timecode supports it, else its smallest whole multiple that does."""
    import opentimelineio as otio

    for mult in range(1, 13):
        cand = rate * mult
        if otio.opentime.RationalTime.is_valid_timecode_rate(float(cand)):
            return cand
    raise ValueError(f"no timecode rate is a multiple of {float(rate):g} fps; "
                     "EDL, FCP XML and AAF need one (OTIO JSON does not)")


def video_facts(project: Project, info: Any = None) -> VideoFacts:
    """The project's video as a timeline sees it; `info` is a VideoInfo already probed."""
    path = Path(project.video) if project.video else None
    if info is None and path is not None:
        from sfxstudio.media.video import probe

        try:
            info = probe(path)
        except Exception as exc:  # a moved video: the timeline still carries the effects
            warn(path, f"cannot read the video for the timeline ({exc}); using {float(DEFAULT_RATE):g} fps")
    if info is not None:
        rate = rational_rate(info.fps)
        frames = max(1, round(Fraction(info.duration) * rate))
        return VideoFacts(path, rate, frames)
    duration = project.analysis.duration if project.analysis is not None else max(
        (s.end for s in project.segments), default=1.0)
    return VideoFacts(path, DEFAULT_RATE, max(1, math.ceil(Fraction(duration) * DEFAULT_RATE)))


def _frame(t: float, rate: Fraction) -> int:
    return round(Fraction(t) * rate)


def _url(path: Path) -> str:
    import opentimelineio as otio

    return str(otio.url_utils.url_from_filepath(str(Path(path).resolve())))


def _lanes(segments: Sequence[Segment], rate: Fraction, frames: int) -> list[list[tuple[int, int, Segment]]]:
    """Frame ranges of one class's effects on as few lanes as needed (no overlap in a lane)."""
    lanes: list[list[tuple[int, int, Segment]]] = []
    for seg in sorted(segments, key=lambda s: (s.start, s.end)):
        first = min(_frame(seg.start, rate), frames - 1)
        last = min(max(first + 1, _frame(seg.end, rate)), frames)
        for lane in lanes:
            if lane[-1][1] <= first:
                lane.append((first, last, seg))
                break
        else:
            lanes.append([(first, last, seg)])
    return lanes


def _media_reference(seg: Segment, first: int, last: int, rate: Fraction, clip: ClipMedia | None,
                     library_root: Path | None) -> tuple[Any, int]:
    """(media reference, source in frame) for one effect."""
    import opentimelineio as otio

    r = float(rate)
    if clip is not None:
        before = max(0, _frame(clip.handle_before, rate))
        length = Fraction(clip.handle_before + (clip.end - clip.start) + clip.handle_after) * rate
        # A partial last frame counts: the clip must fit, and an editor sees the whole sound.
        available = max(before + (last - first), math.ceil(length - Fraction(1, 1000)))
        ref = otio.schema.ExternalReference(
            target_url=_url(clip.path),
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, r),
                                                    otio.opentime.RationalTime(available, r)))
        return ref, before
    if seg.variation and library_root is not None and (library_root / seg.variation).is_file():
        return otio.schema.ExternalReference(target_url=_url(library_root / seg.variation)), 0
    return otio.schema.MissingReference(), 0


def build_timeline(project: Project, clips: Mapping[int, ClipMedia] | None = None,
                   video: VideoFacts | None = None, library_root: Path | None = None) -> Any:
    """The project as an OTIO Timeline (see the module docstring).

    clips: segment id -> its per-effect media file; an effect without one references its
    library sound (`library_root / segment.variation`) or, failing that, a MissingReference.
    """
    import opentimelineio as otio

    facts = video if video is not None else video_facts(project)
    rate = facts.rate
    r = float(rate)

    def rt(frames: int) -> Any:
        return otio.opentime.RationalTime(frames, r)

    name = facts.path.stem if facts.path is not None else "effects"
    timeline = otio.schema.Timeline(name=f"{name} - SFX Studio effects")
    timeline.global_start_time = rt(0)
    timeline.metadata["sfxstudio"] = {"rate": f"{rate.numerator}/{rate.denominator}",
                                      "frames": facts.frames}

    picture = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    whole = otio.opentime.TimeRange(rt(0), rt(facts.frames))
    if facts.path is not None:
        video_ref: Any = otio.schema.ExternalReference(target_url=_url(facts.path), available_range=whole)
    else:
        video_ref = otio.schema.MissingReference(available_range=whole)
    picture.append(otio.schema.Clip(name=facts.path.name if facts.path else "video",
                                    media_reference=video_ref, source_range=whole))
    timeline.tracks.append(picture)

    by_class: dict[str, list[Segment]] = {}
    for seg in audible(project.segments):
        if _frame(seg.start, rate) < facts.frames:  # an effect past the video's end has no place
            by_class.setdefault(seg.class_name, []).append(seg)
    clips = clips or {}
    for cls in sorted(by_class):
        for n, lane in enumerate(_lanes(by_class[cls], rate, facts.frames)):
            track = otio.schema.Track(name=cls if n == 0 else f"{cls} {n + 1}",
                                      kind=otio.schema.TrackKind.Audio)
            cursor = 0
            for first, last, seg in lane:
                if first > cursor:
                    track.append(otio.schema.Gap(
                        source_range=otio.opentime.TimeRange(rt(0), rt(first - cursor))))
                ref, source_in = _media_reference(seg, first, last, rate, clips.get(seg.id), library_root)
                track.append(otio.schema.Clip(
                    name=Path(ref.target_url).name if hasattr(ref, "target_url") else cls,
                    media_reference=ref,
                    source_range=otio.opentime.TimeRange(rt(source_in), rt(last - first)),
                    metadata={"sfxstudio": {"class": cls, "origin": seg.origin, "gain_db": seg.gain_db,
                                            "mode": seg.mode, "variation": seg.variation,
                                            "start": seg.start, "end": seg.end}},
                ))
                cursor = last
            if cursor < facts.frames:  # every track as long as the video (otiostat checks it)
                track.append(otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(rt(0), rt(facts.frames - cursor))))
            timeline.tracks.append(track)
    return timeline


def _map_times(timeline: Any, conv: Any) -> Any:
    """A copy of the timeline with every RationalTime passed through `conv`."""
    import opentimelineio as otio

    out = timeline.deepcopy()

    def conv_range(tr: Any) -> Any:
        return otio.opentime.TimeRange(conv(tr.start_time), conv(tr.duration))

    if out.global_start_time is not None:
        out.global_start_time = conv(out.global_start_time)
    for item in out.find_children():
        if item.source_range is not None:
            item.source_range = conv_range(item.source_range)
        ref = getattr(item, "media_reference", None)
        if ref is not None and ref.available_range is not None:
            ref.available_range = conv_range(ref.available_range)
    return out


def _retimed(timeline: Any, rate: Fraction) -> Any:
    """A copy of the timeline with every time counted at `rate` (a whole multiple of its own)."""
    import opentimelineio as otio

    r = float(rate)
    return _map_times(timeline, lambda t: otio.opentime.RationalTime(round(t.value * r / t.rate), r))


def _relabelled(timeline: Any, rate: Fraction) -> Any:
    """A copy of the timeline with the same frame counts labelled with another rate."""
    import opentimelineio as otio

    r = float(rate)
    return _map_times(timeline, lambda t: otio.opentime.RationalTime(t.value, r))


def _safe_name(text: str) -> str:
    return re.sub(r"[^\w .+-]", "_", text).strip() or "track"


def edl_paths(path: str | Path, timeline: Any) -> list[Path]:
    """The lists an EDL export writes: the picture to `path`, each audio track beside it."""
    path = Path(path)
    audio = [t.name for t in timeline.tracks if t.kind == "Audio"]
    return [path] + [path.with_name(f"{path.stem}.{_safe_name(n)}{path.suffix or '.edl'}") for n in audio]


def _write_edls(timeline: Any, path: Path) -> list[Path]:
    import opentimelineio as otio

    picture = next(t for t in timeline.tracks if t.kind == "Video")
    audio = [t for t in timeline.tracks if t.kind == "Audio"]
    paths = edl_paths(path, timeline)
    texts = []
    for track in [picture, *audio]:
        one = otio.schema.Timeline(name=f"{timeline.name} - {track.name}")
        one.global_start_time = timeline.global_start_time
        one.tracks.append(track.deepcopy())
        if track is not picture:  # the adapter wants exactly one video track, and writes track 0
            one.tracks.append(picture.deepcopy())
        text = otio.adapters.write_to_string(one, adapter_name="cmx_3600")
        # The frame-count mode line the adapter leaves out (its own TODO): OTIO writes drop
        # frame timecode (00:00:01;00) at 29.97 and 59.94, and a reader must not guess.
        fcm = "DROP FRAME" if re.search(r"\d\d;\d\d ", text) else "NON-DROP FRAME"
        texts.append(re.sub(r"^(TITLE:[^\n]*\n)", rf"\1FCM: {fcm}\n", text, count=1))
    for text, target in zip(texts, paths, strict=True):
        atomic_write_text(target, text)
    return paths


# FCPXML's own names for the NTSC rates in a format's name (FFVideoFormat1080p2997).
_NTSC_FORMAT_SUFFIX = {24: "2398", 30: "2997", 60: "5994"}
_FCPX_TIME_ATTR = re.compile(r'(?<=\s)(offset|duration|start|tcStart)="(-?\d+)(?:/(\d+))?s"')
_FCPX_FRAME_DURATION = re.compile(r'frameDuration="(\d+)/(\d+)s"')


def _fcpx_seconds(value: Fraction) -> str:
    return f"{value.numerator}s" if value.denominator == 1 else f"{value.numerator}/{value.denominator}s"


def _fcpx_times(text: str, conv: Callable[[Fraction], str], frame_duration: Fraction) -> str:
    """An FCPXML text with every time attribute passed through `conv` (seconds in, text out)
    and every format's frameDuration set to `frame_duration` seconds."""
    text = _FCPX_TIME_ATTR.sub(lambda m: f'{m[1]}="{conv(Fraction(int(m[2]), int(m[3] or 1)))}"', text)
    fd = f"{frame_duration.numerator}/{frame_duration.denominator}s"
    return _FCPX_FRAME_DURATION.sub(f'frameDuration="{fd}"', text)


def _fcpx_nominal(rate: Fraction) -> int | None:
    """The whole frames per second FCPXML counts `rate` in (30 for 30000/1001), or None."""
    if rate.denominator == 1:
        return rate.numerator
    if rate.denominator == 1001 and rate.numerator % 1000 == 0:
        return rate.numerator // 1000
    return None


def _fcpx_module() -> Any:
    """The module the FCPXML adapter runs (OTIO's plugin loader may hold its own copy of it)."""
    import opentimelineio as otio

    return otio.adapters.from_name(TIMELINE_FORMATS["fcpxml"].adapter).module()


def _write_fcpxml(timeline: Any, rate: Fraction) -> str:
    """The timeline as FCPXML at `rate`, exact at NTSC rates too.

    The adapter (otio-fcpx-xml-adapter 1.0) counts frames at int(rate) everywhere (int(29.97)
    = 29: clips land a frame off every second), so an NTSC timeline is written at its whole
    nominal rate (30 for 30000/1001: the same frame counts) and every time of the file is
    then stretched by 1001/1000, with the format's frameDuration 1001/30000s: each time stays
    a whole number of the video's frames, as Final Cut Pro requires. An integer rate missing
    from the adapter's table of frame durations (48) is added to it."""
    nominal = _fcpx_nominal(rate)
    if nominal is None:
        raise ValueError(f"FCPXML cannot carry {float(rate):g} fps")
    ntsc = rate != nominal
    module = _fcpx_module()
    module.FRAMERATE_FRAMEDURATION.setdefault(nominal, f"1/{nominal}s")
    text: str = module.write_to_string(_relabelled(timeline, Fraction(nominal)) if ntsc else timeline)
    if not ntsc:
        return text
    stretch = Fraction(1001, 1000)
    text = _fcpx_times(text, lambda t: _fcpx_seconds(t * stretch), 1 / rate)
    # FCPXML's own name for the format (FFVideoFormat1080p2997), where the adapter named one.
    suffix = _NTSC_FORMAT_SUFFIX.get(nominal)
    return text.replace(f'p{nominal}"', f'p{suffix}"') if suffix else text


def read_fcpxml(path: str | Path) -> Any:
    """An FCPXML file read through the FCPXML adapter, exact at every rate.

    The adapter turns a time into frames as int(seconds * int(rate)) in floating point, so a
    29.97 file comes back a frame short every second, and even at 30 fps 509/30 s reads as
    508 frames. Each time is therefore first rewritten at the file's whole nominal rate (30
    for 1001/30000s: the inverse of _write_fcpxml's stretch) and half a frame past its frame
    edge, which the adapter's truncation brings back to exactly that frame; the frames are
    then labelled with the file's own (rational) rate."""
    text = Path(path).read_text(encoding="utf-8")
    found = _FCPX_FRAME_DURATION.search(text)
    module = _fcpx_module()
    rate = Fraction(int(found[2]), int(found[1])) if found is not None and int(found[1]) else None
    nominal = _fcpx_nominal(rate) if rate is not None else None
    if rate is None or nominal is None:
        return module.read_from_string(text)

    def half_past(t: Fraction) -> str:
        frames = round(t * rate)
        return "0s" if frames == 0 else _fcpx_seconds(Fraction(2 * frames + 1, 2 * nominal))

    timeline = module.read_from_string(_fcpx_times(text, half_past, Fraction(1, nominal)))
    return _relabelled(timeline, rate) if rate != nominal else timeline


def write_timeline(timeline: Any, path: str | Path, fmt: str) -> list[Path]:
    """Write a built timeline in one of TIMELINE_FORMATS; returns the files written."""
    import opentimelineio as otio

    if fmt not in TIMELINE_FORMATS:
        raise ValueError(f"unknown timeline format {fmt!r} (one of {', '.join(TIMELINE_FORMATS)})")
    adapter = TIMELINE_FORMATS[fmt].adapter
    path = Path(path)
    if fmt != "otio":
        rate = Fraction(timeline.tracks[0].duration().rate).limit_denominator(1001)
        try:
            tc_rate = timecode_rate(rate)
        except ValueError as exc:
            raise ExportError(path, str(exc)) from exc
        if tc_rate != rate:
            timeline, rate = _retimed(timeline, tc_rate), tc_rate
    try:
        if fmt == "edl":
            return _write_edls(timeline, path)
        if fmt == "aaf":
            # pyaaf2 writes to a file it can seek in; the atomic temp file is that file.
            with atomic_path(path) as tmp:
                # Our media files carry no AAF MobIDs: the adapter makes a fresh one per clip.
                otio.adapters.write_to_file(timeline, str(tmp), adapter_name=adapter,
                                            use_empty_mob_ids=True)
            return [path]
        if fmt == "fcpxml":
            text = _write_fcpxml(timeline, rate)
        else:
            text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    except (otio.exceptions.OTIOError, ValueError) as exc:
        label = TIMELINE_FORMATS[fmt].label
        raise ExportError(path, f"the {label} adapter refused the timeline: {exc}") from exc
    # Serialised in memory, then written by the one atomic writer: OTIO's own file writer
    # reports no error when the disk fills up and leaves a truncated file.
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")
    return [path]


def export_timeline(project: Project, path: str | Path, fmt: str = "otio",
                    clips: Mapping[int, ClipMedia] | None = None, *, video: VideoFacts | None = None,
                    library_root: Path | None = None) -> list[Path]:
    """Build the project's timeline and write it as `fmt`; returns the files written.

    clips: segment id -> per-effect media (sfxstudio.media.clips.export_clips). None: effects
    reference their library sounds (library_root, default the project's library, / variation)
    where those exist, else a MissingReference; the delivery (pipeline.delivery) renders the
    per-effect media first, so there every reference exists.
    """
    if clips is None and library_root is None:
        from sfxstudio.core.paths import SOUNDS

        library_root = Path(project.library) if project.library else SOUNDS
    timeline = build_timeline(project, clips, video, library_root)
    return write_timeline(timeline, path, fmt)


def export_otio(project: Project, path: str | Path, library_root: Path | None = None) -> None:
    """The OTIO JSON timeline (kept for callers of the first version)."""
    export_timeline(project, path, "otio", library_root=library_root)
