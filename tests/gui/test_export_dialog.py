"""Export dialog: WAV effects track and MP4 with the mix, in the background, then where they went."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtWidgets import QMessageBox

from sfxstudio.core.project import AnalysisCache, Project
from sfxstudio.core.segments import Segment
from sfxstudio.gui.export_dialog import ExportDialog


def project_for(video: Path, seconds: float = 2.0) -> Project:
    n = int(seconds * 10)
    cache = AnalysisCache(np.arange(n) / 10, np.tile(np.float32([0.0, 1.0]), (n, 1)),
                          np.zeros((n, 0), np.float32), ["fire", "otherwise"], 0.1, seconds)
    return Project(video=str(video), analysis=cache, segments=[Segment("fire", 0.5, 1.5, origin="manual")])


def run_export(qtbot: Any, dialog: ExportDialog) -> list[Any]:
    results: list[Any] = []
    dialog.exportFinished.connect(results.append)
    assert dialog.start_export()
    assert not dialog.export_button.isEnabled() and dialog.cancel_button.text() == "Cancel"
    with qtbot.waitSignal(dialog.worker.stopped, timeout=60_000):
        pass
    return results


def test_wav_export_runs_in_background_and_reports_the_path(qtbot: Any, make_video: Any, gui_settings: Any,
                                                            tmp_path: Path) -> None:
    video = make_video(seconds=2.0, fps=10)
    dialog = ExportDialog(project_for(video), gui_settings)
    qtbot.addWidget(dialog)
    assert dialog.paths["wav"].text().endswith("video0.effects.wav")  # suggested beside the video
    out = tmp_path / "out" / "effects.wav"
    out.parent.mkdir()
    dialog.set_path("wav", out)
    dialog.set_enabled("mp4", False)
    results = run_export(qtbot, dialog)
    assert results and results[0][0][1] == out
    info = sf.info(str(out))
    assert info.samplerate == 48000 and info.channels == 2 and info.subtype == "PCM_24"
    assert info.frames == 2 * 48000  # exactly the video's duration
    box = dialog.result_box
    assert isinstance(box, QMessageBox) and str(out) in box.text()
    assert any(b.text() == "Open Folder" for b in box.buttons())
    assert dialog.export_button.isEnabled() and dialog.cancel_button.text() == "Close"
    assert gui_settings.get("files/last_export_dir") == str(out.parent)


def test_mp4_export_with_levels(qtbot: Any, make_video: Any, gui_settings: Any, tmp_path: Path) -> None:
    from sfxstudio.media.export import find_ffmpeg

    try:
        find_ffmpeg()
    except Exception as exc:  # no ffmpeg on this machine
        pytest.skip(f"ffmpeg unavailable: {exc}")
    video = make_video(seconds=2.0, fps=10, audio=True)
    dialog = ExportDialog(project_for(video), gui_settings)
    qtbot.addWidget(dialog)
    levels: list[tuple[float, float]] = []
    dialog.levelsChanged.connect(lambda a, b: levels.append((a, b)))
    dialog.original_level.spin.setValue(-6.0)
    dialog.effects_level.slider.setValue(-30)  # -3.0 dB through the slider
    assert levels[-1] == (-6.0, -3.0)
    dialog.set_path("wav", tmp_path / "fx.wav")
    dialog.set_path("mp4", tmp_path / "mixed.mp4")
    results = run_export(qtbot, dialog)
    assert [r[1] for r in results[0]] == [tmp_path / "fx.wav", tmp_path / "mixed.mp4",
                                          tmp_path / "fx.report.html"]
    from sfxstudio.media.video import probe

    info = probe(tmp_path / "mixed.mp4")
    assert info.has_audio and abs(info.duration - 2.0) < 0.1
    assert gui_settings.get("export/original_gain_db") == -6.0


def test_bad_output_folder_is_refused_with_a_readable_message(qtbot: Any, make_video: Any,
                                                              gui_settings: Any, tmp_path: Path) -> None:
    dialog = ExportDialog(project_for(make_video()), gui_settings)
    qtbot.addWidget(dialog)
    dialog.set_path("wav", tmp_path / "missing" / "fx.wav")
    assert not dialog.start_export()
    boxes = [b for b in dialog.findChildren(QMessageBox) if b.objectName() == "errorDialog"]
    assert boxes and "missing" in boxes[-1].text() and "does not exist" in boxes[-1].text()


def test_cancel_leaves_no_file(qtbot: Any, make_video: Any, gui_settings: Any, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import sfxstudio.gui.export_dialog as ed

    gate = threading.Event()

    def slow_wav(job: Any, path: Path, progress: Any, cancel: Any) -> str:
        while not cancel():  # an exporter that only stops when asked
            gate.set()
            threading.Event().wait(0.01)
        from sfxstudio.core.errors import Cancelled

        raise Cancelled("cancelled")

    exporters = [ed.Exporter("wav", "Effects", ".wav", "*.wav", ".fx.wav", slow_wav)]
    dialog = ExportDialog(project_for(make_video()), gui_settings, exporters=exporters)
    qtbot.addWidget(dialog)
    dialog.set_path("wav", tmp_path / "fx.wav")
    cancelled: list[bool] = []
    assert dialog.start_export()
    dialog.worker.cancelled.connect(lambda: cancelled.append(True))
    qtbot.waitUntil(gate.is_set, timeout=30_000)
    dialog.cancel_button.click()
    with qtbot.waitSignal(dialog.worker.stopped, timeout=10_000):
        pass
    assert cancelled == [True]
    assert not (tmp_path / "fx.wav").exists()
    assert "cancelled" in dialog.status.text()


def test_every_format_to_ebu_r128_and_loudness_shown(qtbot: Any, make_video: Any, gui_settings: Any,
                                                     tmp_path: Path) -> None:
    from sfxstudio.media.bwf import read_bext
    from sfxstudio.media.loudness import integrated_loudness
    from sfxstudio.media.timeline import TIMELINE_FORMATS

    video = make_video(seconds=2.0, fps=10)
    dialog = ExportDialog(project_for(video), gui_settings)
    qtbot.addWidget(dialog)
    # the dialog offers every delivery
    assert {"wav", "mp4", "stems", "clips", *TIMELINE_FORMATS} <= set(dialog.checks)
    specs = [dialog.loudness_spec.itemData(i) for i in range(dialog.loudness_spec.count())]
    assert specs == [None, -23.0, -24.0]
    assert dialog.true_peak.value() == -1.0
    dialog.loudness_spec.setCurrentIndex(1)
    dialog.set_path("wav", tmp_path / "fx.wav")
    dialog.set_enabled("mp4", False)
    for key, name in (("stems", "stems"), ("clips", "clips"), ("otio", "fx.otio"), ("edl", "fx.edl")):
        dialog.set_enabled(key, True)
        dialog.set_path(key, tmp_path / name)
    results = run_export(qtbot, dialog)
    written = {Path(r[1]).name for r in results[0]}
    assert {"fx.wav", "stems", "clips", "fx.otio", "fx.edl", "fx.report.html"} <= written
    audio, rate = sf.read(str(tmp_path / "fx.wav"))
    assert integrated_loudness(audio, rate) == pytest.approx(-23.0, abs=0.1)
    assert read_bext(tmp_path / "fx.wav") is not None
    assert len(list((tmp_path / "clips").glob("*.wav"))) == 1
    assert "-23.0 LUFS" in dialog.loudness_label.text() and "true peak" in dialog.loudness_label.text()
    assert dialog.result_box is not None and "-23.0 LUFS" in dialog.result_box.text()
    # The choice is remembered for the next export dialog.
    again = ExportDialog(project_for(video), gui_settings)
    qtbot.addWidget(again)
    assert again.loudness_spec.currentData() == -23.0 and again.true_peak.value() == -1.0
