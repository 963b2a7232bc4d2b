"""Effects playback in sync with the video.

After every edit the effects mix is re-rendered in a worker (debounced ~300 ms, so a drag renders
once), written to a temporary WAV and played by a second, audio-only QMediaPlayer slaved to the
video's playhead: started/stopped with it, seeked with it and re-synced whenever it drifts by
more than one frame. Without an audio device (or a sound library) preview degrades to a status
message; nothing raises.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

from sfxstudio.core.project import Project
from sfxstudio.gui.video_view import PLAYER_RATE, VideoView
from sfxstudio.gui.workers import JobWorker, run_in_background
from sfxstudio.media.audio_io import MIX_RATE

DEBOUNCE_MS = 300


def db_to_volume(db: float) -> float:
    """QAudioOutput volume (linear, 0..1) for a level in dB; boosts above 0 dB are capped."""
    return max(0.0, min(1.0, math.pow(10.0, db / 20.0)))


class EffectsPlayback(QObject):
    """Renders and plays the effects mix slaved to `video`'s playhead."""

    statusMessage = Signal(str)
    rendered = Signal(str)  # path of the new mix WAV

    def __init__(self, video: VideoView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.video = video
        self.enabled = True
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
        self.video.playingChanged.connect(lambda _p: self.sync(force=True))
        self.video.positionChanged.connect(lambda _t: self.sync(force=True))
        if not self.has_device:
            self.statusMessage.emit("No audio output device: playback is silent")

    # -- rendering ---------------------------------------------------------------------------
    def schedule_render(self, project: Project) -> None:
        """Queue a render of a snapshot of `project` (debounced)."""
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

        def render() -> Path:
            from sfxstudio.pipeline import load_library, render_project

            key = str(project.library)
            if self._library is None or self._library_key != key:
                self._library, self._library_key = load_library(project), key
            mix = render_project(project, self._library)
            import soundfile as sf

            # FLOAT keeps the full mix; the file is temporary and read only by our player.
            sf.write(str(target), mix, MIX_RATE, subtype="FLOAT")
            return target

        worker = run_in_background(render, name="render-mix", parent=self)
        worker.finished.connect(self._on_rendered)
        worker.failed.connect(lambda msg: self.statusMessage.emit(f"Effects preview unavailable: {msg}"))
        self._worker = worker
        worker.start()

    def _on_rendered(self, path: Path) -> None:
        self.renders += 1
        self.mix_path = path
        self.player.setSource(QUrl.fromLocalFile(str(path)))
        self.sync(force=True)
        self.rendered.emit(str(path))

    def set_effects_gain(self, db: float) -> None:
        self.output.setVolume(db_to_volume(db))

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
        if self._worker is not None:
            self._worker.wait(timeout_ms)

    def close(self) -> None:
        self._debounce.stop()
        self.player.stop()
        self.player.setSource(QUrl())
        self.wait()
        shutil.rmtree(self._tmpdir, ignore_errors=True)
