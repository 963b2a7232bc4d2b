"""Effects playback in sync with the video.

After every edit the effects mix is re-rendered in a worker (debounced ~300 ms, so a drag renders
once), written to a temporary WAV and played by a second, audio-only QMediaPlayer slaved to the
video's playhead: started/stopped with it, seeked with it and re-synced whenever it drifts by
more than one frame. Without an audio device (or a sound library) preview degrades to a status
message; nothing raises.

Meters: the mix the editor hears (original audio at its level + the effects at theirs) is turned
into a gui.meters.MeterFeed in a worker whenever the effects, the levels or the video change;
while the video plays a 20 Hz timer looks the levels up at the playhead and emits `levels`
(peak dBFS, momentary LUFS); pausing, stopping or the end emit -inf once.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

from sfxstudio.core.project import Project
from sfxstudio.gui.meters import FEED_HOP_S, SILENCE, MeterFeed
from sfxstudio.gui.video_view import PLAYER_RATE, VideoView
from sfxstudio.gui.workers import JobWorker, run_in_background
from sfxstudio.media.audio_io import MIX_RATE

DEBOUNCE_MS = 300
FEED_DEBOUNCE_MS = 150  # a level fader being dragged rebuilds the meter feed a few times a second


def db_to_volume(db: float) -> float:
    """QAudioOutput volume (linear, 0..1) for a level in dB; boosts above 0 dB are capped."""
    return max(0.0, min(1.0, math.pow(10.0, db / 20.0)))


class EffectsPlayback(QObject):
    """Renders and plays the effects mix slaved to `video`'s playhead."""

    statusMessage = Signal(str)
    rendered = Signal(str)  # path of the new mix WAV
    levels = Signal(float, float)  # peak dBFS, momentary LUFS of what is heard (-inf: silence)
    feedReady = Signal()  # a new meter feed is in use (tests, a meter that wants to redraw)

    def __init__(self, video: VideoView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.video = video
        self._enabled = True
        self.player = QMediaPlayer(self)
        self.output = QAudioOutput(self)
        self.player.setAudioOutput(self.output)
        self.has_device = bool(QMediaDevices.audioOutputs())
        self._tmpdir = Path(tempfile.mkdtemp(prefix="sfxstudio-mix-"))
        self._flip = 0  # alternate two files: never overwrite the one the player is reading
        self._pending: Project | None = None
        self._worker: JobWorker | None = None
        self._library: Any = None
        self._library_key: str | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._start_render)
        self.mix_path: Path | None = None
        self.renders = 0
        # Meters: what the two players sound like together, precomputed per 50 ms.
        self.original_gain_db = 0.0
        self.effects_gain_db = 0.0
        self.meter_feed: MeterFeed | None = None
        self._effects_mix: np.ndarray | None = None  # the last rendered effects, (n, 2) at MIX_RATE
        self._video_path: str | None = None
        self._original: tuple[str, np.ndarray | None] | None = None  # (video path, its decoded audio)
        self._feed_worker: JobWorker | None = None
        self._feed_debounce = QTimer(self)
        self._feed_debounce.setSingleShot(True)
        self._feed_debounce.setInterval(FEED_DEBOUNCE_MS)
        self._feed_debounce.timeout.connect(self._start_feed)
        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(round(FEED_HOP_S * 1000))
        self._meter_timer.timeout.connect(self._emit_levels)
        self.video.playingChanged.connect(self._on_playing)
        self.video.playingChanged.connect(lambda _p: self.sync(force=True))
        self.video.positionChanged.connect(lambda _t: self.sync(force=True))
        if not self.has_device:
            self.statusMessage.emit("No audio output device: playback is silent")

    # -- rendering ---------------------------------------------------------------------------
    def schedule_render(self, project: Project) -> None:
        """Queue a render of a snapshot of `project` (debounced); the meters follow its video
        and levels even when there is nothing to render."""
        video = str(project.video) if project.video else None
        gains = (project.mix.original_gain_db, project.mix.effects_gain_db)
        if video != self._video_path or gains != (self.original_gain_db, self.effects_gain_db):
            if video != self._video_path:
                self._effects_mix = None  # another video's effects must not be metered
            self._video_path = video
            self.original_gain_db, self.effects_gain_db = gains
            self._schedule_feed()
        if project.video is None or (project.analysis is None and not project.segments):
            return
        # A snapshot: the worker must never see the list the editor keeps changing.
        self._pending = replace(project, segments=list(project.segments),
                                class_attributes=dict(project.class_attributes),
                                class_variations={k: list(v) for k, v in project.class_variations.items()})
        self._debounce.start()

    def _start_render(self) -> None:
        if self._worker is not None and self._worker.is_running():
            self._debounce.start()  # one render at a time; try again shortly
            return
        project, self._pending = self._pending, None
        if project is None:
            return
        self._flip ^= 1
        target = self._tmpdir / f"mix{self._flip}.wav"

        def render() -> tuple[Path, np.ndarray]:
            from sfxstudio.pipeline import load_library, render_project

            key = str(project.library)
            if self._library is None or self._library_key != key:
                self._library, self._library_key = load_library(project), key
            mix = render_project(project, self._library)
            import soundfile as sf

            # FLOAT keeps the full mix; the file is temporary and read only by our player.
            sf.write(str(target), mix, MIX_RATE, subtype="FLOAT")
            return target, mix

        worker = run_in_background(render, name="render-mix", parent=self)
        worker.finished.connect(self._on_rendered)
        worker.failed.connect(lambda msg: self.statusMessage.emit(f"Effects preview unavailable: {msg}"))
        self._worker = worker
        worker.start()

    def _on_rendered(self, result: tuple[Path, np.ndarray]) -> None:
        path, mix = result
        self.renders += 1
        self.mix_path = path
        self._effects_mix = mix
        self.player.setSource(QUrl.fromLocalFile(str(path)))
        self.sync(force=True)
        self._schedule_feed()
        self.rendered.emit(str(path))

    def set_effects_gain(self, db: float) -> None:
        """The effects' level in dB (the mix's effects_gain_db): the player's volume (boosts
        above 0 dB are capped, see db_to_volume) and the meters."""
        self.output.setVolume(db_to_volume(db))
        if db != self.effects_gain_db:
            self.effects_gain_db = db
            self._schedule_feed()

    def set_original_gain(self, db: float) -> None:
        """The original audio's level in dB, for the meters (the video player sets its own
        volume): call it wherever VideoView.set_volume is called."""
        if db != self.original_gain_db:
            self.original_gain_db = db
            self._schedule_feed()

    @property
    def enabled(self) -> bool:
        """Whether the effects are heard (Play Effects Audio); the meters follow it."""
        return self._enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        if on != self._enabled:
            self._enabled = on
            self._schedule_feed()

    # -- meters ------------------------------------------------------------------------------
    def _schedule_feed(self) -> None:
        self._feed_debounce.start()

    def _start_feed(self) -> None:
        if self._feed_worker is not None and self._feed_worker.is_running():
            self._feed_debounce.start()
            return
        video, cached = self._video_path, self._original
        effects = self._effects_mix if self._enabled else None
        go, ge = db_to_volume(self.original_gain_db), db_to_volume(self.effects_gain_db)

        def build() -> tuple[tuple[str, np.ndarray | None] | None, MeterFeed]:
            original = cached
            if video is not None and (original is None or original[0] != video):
                from sfxstudio.media.audio_io import decode_video_audio

                original = (video, decode_video_audio(video))
            audio = original[1] if original is not None and original[0] == video else None
            return original, MeterFeed.from_sources(audio, go, effects, ge)

        worker = run_in_background(build, name="meter-feed", parent=self)
        worker.finished.connect(self._on_feed)
        worker.failed.connect(lambda msg: self.statusMessage.emit(f"Meters unavailable: {msg}"))
        self._feed_worker = worker
        worker.start()

    def _on_feed(self, result: tuple[tuple[str, np.ndarray | None] | None, MeterFeed]) -> None:
        self._original, self.meter_feed = result
        self.feedReady.emit()

    def levels_at(self, t: float) -> tuple[float, float]:
        """(peak dBFS, momentary LUFS) of what is heard at t; silence without a feed."""
        return self.meter_feed.at(t) if self.meter_feed is not None else SILENCE

    def _on_playing(self, playing: bool) -> None:
        if playing:
            self._meter_timer.start()
            self._emit_levels()
        else:
            self._meter_timer.stop()
            self.levels.emit(*SILENCE)

    def _emit_levels(self) -> None:
        if not self.video.is_playing():
            self._meter_timer.stop()
            self.levels.emit(*SILENCE)
            return
        self.levels.emit(*self.levels_at(self.video.position()))

    # -- sync --------------------------------------------------------------------------------
    def sync(self, force: bool = False) -> None:
        """Follow the video: play/pause with it; seek when the drift exceeds one frame."""
        if self.mix_path is None:
            return
        rate = self.video.rate()
        # Only at 1x: shuttling (J, or L beyond 1x) is silent, as the picture there is a series
        # of stills; a media player asked for 8x queues more audio than it can play.
        playing_forward = self.enabled and rate == PLAYER_RATE
        state = self.player.playbackState()
        target_ms = round(self.video.position() * 1000)
        if not playing_forward:
            if state == QMediaPlayer.PlaybackState.PlayingState:
                self.player.pause()
            if force:
                self.player.setPosition(target_ms)
            return
        drift_ms = abs(self.player.position() - target_ms)
        if force or drift_ms > 1000 * self.video.frame_duration():
            self.player.setPosition(target_ms)
        if self.player.playbackRate() != rate:
            self.player.setPlaybackRate(rate)
        if state != QMediaPlayer.PlaybackState.PlayingState:
            self.player.play()

    def wait(self, timeout_ms: int = 10_000) -> None:
        for worker in (self._worker, self._feed_worker):
            if worker is not None:
                worker.wait(timeout_ms)

    def close(self) -> None:
        self._debounce.stop()
        self._feed_debounce.stop()
        self._meter_timer.stop()
        self.player.stop()
        self.player.setSource(QUrl())
        self.wait()
        shutil.rmtree(self._tmpdir, ignore_errors=True)
