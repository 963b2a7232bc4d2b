"""export_mp4's chunked mix (issue 14's export speed) holds exactly the samples the earlier
whole-array mix held: gains, original audio, master gain, padding/trimming to the video, the
lead silence and the peak guard (NaN and inf included)."""

from __future__ import annotations

import numpy as np
import pytest

from sfxstudio.media import export as ex
from sfxstudio.media.render import apply_peak_guard, db_to_gain


def _whole_array_mix(effects, original, frames, g_e, g_o, master, lead):
    """The mix as export_mp4 made it before (one array, then the guard)."""
    mix = ex._stereo_frames(effects, frames) * np.float32(db_to_gain(g_e))
    if original is not None:
        mix += ex._stereo_frames(original, frames) * np.float32(db_to_gain(g_o))
    if master:
        mix *= np.float32(db_to_gain(master))
    apply_peak_guard(mix, ex.PEAK_DBFS)
    if lead:
        mix = np.concatenate([np.zeros((lead, 2), dtype=np.float32), mix])
    return mix


def _streamed(effects, original, frames, g_e, g_o, master, lead, size):
    src = ex._MixSource(effects, original, frames, g_e, g_o, master, lead)
    pieces = list(src.chunks(size))
    assert all(p.shape[0] <= size for p in pieces)
    out = np.concatenate(pieces)
    assert out.shape == src.shape
    return out


rng = np.random.default_rng(14)
LOUD = (rng.standard_normal((5000, 2)) * 0.8).astype(np.float32)
QUIET = (rng.standard_normal((4000, 2)) * 0.01).astype(np.float32)
MONO = (rng.standard_normal(3000) * 0.3).astype(np.float32)


@pytest.mark.parametrize(
    ("effects", "original", "frames", "g_e", "g_o", "master", "lead"),
    [
        (QUIET, None, 4000, 0.0, 0.0, 0.0, 0),  # no guard
        (LOUD, None, 5000, 0.0, 0.0, 0.0, 0),  # the guard scales and clips
        (LOUD, QUIET, 4500, -3.0, 6.0, -1.5, 700),  # original shorter, trimmed, lead, master
        (QUIET, LOUD, 6000, 2.0, -2.0, 0.0, 0),  # original longer than effects, padded
        (MONO, QUIET, 3500, 0.0, 0.0, 3.0, 1),  # mono effects to both sides
        (QUIET[:0], QUIET, 4000, 0.0, 0.0, 0.0, 0),  # no effects at all
    ],
)
@pytest.mark.parametrize("size", [1000, 1 << 18])
def test_streamed_mix_equals_whole_array_mix(effects, original, frames, g_e, g_o, master, lead, size):
    want = _whole_array_mix(effects, original, frames, g_e, g_o, master, lead)
    got = _streamed(effects, original, frames, g_e, g_o, master, lead, size)
    assert got.tobytes() == want.tobytes()


def test_nan_and_inf_are_cleared_as_the_guard_clears_them():
    x = LOUD.copy()
    x[10, 0], x[2000, 1], x[4000, 0] = np.nan, np.inf, -np.inf
    want = _whole_array_mix(x, QUIET, 5000, 0.0, 0.0, 0.0, 5)
    got = _streamed(x, QUIET, 5000, 0.0, 0.0, 0.0, 5, 999)
    assert np.isfinite(got).all()
    assert got.tobytes() == want.tobytes()


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match="audio must be"):
        ex._MixSource(np.zeros((10, 3), np.float32), None, 10, 0.0, 0.0, 0.0, 0)


def test_delivery_scaled_pair_powers_and_in_place_mix_match_the_scaled_copies():
    from sfxstudio.media import loudness
    from sfxstudio.pipeline import delivery

    a = (rng.standard_normal((48000 * 3, 2)) * 0.2).astype(np.float32)
    b = (rng.standard_normal((48000 * 3, 2)) * 0.1).astype(np.float32)
    g = np.float32(db_to_gain(-7.5))
    want = loudness.pair_powers(a * g, b)
    got = delivery._scaled_pair_powers(a, b, float(g))
    for w, x in zip(want, got, strict=True):
        np.testing.assert_allclose(x, w, rtol=1e-5)
    g_e = np.float32(2.0)
    expected = b * g_e + a * g
    mixed = delivery._mix_in_place(a.copy(), g, b, g_e)
    assert mixed.tobytes() == expected.tobytes()
