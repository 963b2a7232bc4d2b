"""Stems written sparsely (media.export.export_sparse_stems, media.bwf.write_bwf_regions): the
same bytes as the dense stems, silence never converted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxstudio.core.classes import SoundAttributes
from sfxstudio.media.bwf import BextInfo, write_bwf, write_bwf_regions
from sfxstudio.media.export import export_sparse_stems, export_stems
from sfxstudio.media.render import Placement, render_placement, render_stems

RATE = 48000
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5)


def _noise(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((round(seconds * RATE), 2)) * 0.3).astype(np.float32)


def _placements() -> list[Placement]:
    loop = SoundAttributes(mode="loop")
    shot = SoundAttributes(mode="one_shot")
    return [
        Placement(0.5, 2.0, _noise(0.7, 1), loop, class_name="rain"),
        Placement(1.5, 3.0, _noise(0.4, 2), shot, gain_db=6.0, class_name="rain"),  # overlaps the first
        Placement(4.0, 5.5, _noise(2.0, 3), shot, class_name="door", pan=-0.5),
        Placement(5.9, 7.0, _noise(1.0, 4), loop, class_name="rain"),  # runs past the end
        Placement(2.0, 2.5, _noise(0.0, 5), shot, class_name="empty"),  # renders nothing
    ]


def test_sparse_stems_are_the_dense_stems_byte_for_byte(tmp_path: Path) -> None:
    duration = 6.5
    n = round(duration * RATE)
    placements = _placements()
    blocks: dict[str, list[tuple[int, np.ndarray]]] = {}
    for p in placements:
        group = blocks.setdefault(p.class_name, [])
        rendered = render_placement(p, RATE, n, {})
        if rendered is not None:
            group.append(rendered)
    bext = BextInfo(originator_reference="v", time_reference=1234, origination=WHEN)
    dense = export_stems(render_stems(placements, duration), tmp_path / "dense", duration, gain_db=-3.5,
                         bext=bext)
    sparse = export_sparse_stems(dict(sorted(blocks.items())), tmp_path / "sparse", duration, gain_db=-3.5,
                                 bext=bext)
    assert sparse == dense
    names = sorted(p.name for p in (tmp_path / "dense").iterdir())
    assert names == ["door.wav", "empty.wav", "rain.wav"]
    assert sorted(p.name for p in (tmp_path / "sparse").iterdir()) == names
    for name in names:
        assert (tmp_path / "sparse" / name).read_bytes() == (tmp_path / "dense" / name).read_bytes(), name
    rain, rate = sf.read(tmp_path / "sparse" / "rain.wav", dtype="float32")
    assert rate == RATE and rain.shape == (n, 2)
    assert np.abs(rain[: RATE // 2]).max() == 0.0 and np.abs(rain[RATE:RATE + 100]).max() > 0.0


def test_regions_writer_leaves_silence_between_and_after(tmp_path: Path) -> None:
    a, b = _noise(0.01, 6), _noise(0.02, 7)
    path = write_bwf_regions(tmp_path / "r.wav", 5000, 2, [(100, a), (2000, b)], RATE,
                             BextInfo(origination=WHEN))
    expected = np.zeros((5000, 2), np.float32)
    expected[100 : 100 + a.shape[0]] = a
    expected[2000 : 2000 + b.shape[0]] = b
    dense = write_bwf(tmp_path / "d.wav", expected, RATE, BextInfo(origination=WHEN))
    assert path.read_bytes() == dense.read_bytes()


def _z(frames: int, channels: int = 2) -> np.ndarray:
    return np.zeros((frames, channels), np.float32)


@pytest.mark.parametrize("regions", [[(10, _z(20)), (15, _z(5))],  # overlapping
                                     [(90, _z(20))],  # past the end
                                     [(0, _z(5, 1))]])  # wrong channel count
def test_regions_that_do_not_fit_are_refused_and_leave_nothing(tmp_path: Path, regions: list) -> None:
    with pytest.raises(ValueError):
        write_bwf_regions(tmp_path / "bad.wav", 100, 2, regions, RATE, BextInfo())
    assert list(tmp_path.iterdir()) == []
