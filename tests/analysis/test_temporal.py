"""The on/off temporal model: the fast Viterbi against a literal one, and what stickiness means."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfxstudio.analysis.temporal import (
    decode_on_off,
    dwell_seconds,
    evidence_costs,
    hmm_on_off,
    log_odds,
    path_cost,
    reference_viterbi,
    switch_cost,
)


@pytest.mark.parametrize("seed", range(40))
def test_fast_viterbi_equals_reference_on_exact_grid_values(seed):
    # Multiples of 1/8 add up exactly in float32, so ties happen and must be broken alike.
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 90)), int(rng.integers(1, 4))
    cost = (rng.integers(-8, 9, (n, c)) / 8).astype(np.float32)
    lam = float(rng.integers(0, 16)) / 8
    block = int(rng.integers(1, 12))
    fast = decode_on_off(cost, lam, block=block)
    for j in range(c):
        assert np.array_equal(fast[:, j], reference_viterbi(cost[:, j], lam)), (seed, j)


@pytest.mark.parametrize("seed", range(20))
def test_fast_viterbi_is_optimal_on_random_costs(seed):
    rng = np.random.default_rng(100 + seed)
    n, c = int(rng.integers(1, 400)), 3
    cost = rng.normal(0.0, 0.3, (n, c))
    lam = rng.uniform(0.0, 2.0, c)
    fast = decode_on_off(cost, lam)  # float64 in, float64 arithmetic
    for j in range(c):
        ref = reference_viterbi(cost[:, j], float(lam[j]))
        assert path_cost(cost[:, j], lam[j], fast[:, j]) == pytest.approx(
            path_cost(cost[:, j], lam[j], ref), abs=1e-9)


def test_default_block_length_gives_the_same_path_as_tiny_blocks():
    rng = np.random.default_rng(7)
    cost = (rng.integers(-4, 5, (5000, 2)) / 16).astype(np.float32)
    assert np.array_equal(decode_on_off(cost, 0.75), decode_on_off(cost, 0.75, block=3))


def test_switch_cost_zero_is_a_per_frame_decision():
    cost = np.array([[-1.0], [2.0], [-0.5], [0.1]])
    assert decode_on_off(cost, 0.0)[:, 0].tolist() == [True, False, True, False]


def _blip_logits(n_frames: int, fps: float, blip: tuple[float, float], p_on: float = 0.99):
    t = np.arange(n_frames) / fps
    p = np.full(n_frames, 0.01)
    p[(t >= blip[0]) & (t < blip[1])] = p_on
    return log_odds(p[:, None])


def test_single_frame_blip_removed_at_high_stickiness_kept_at_zero():
    fps = 30.0
    lg = _blip_logits(90, fps, (1.0, 1.0 + 1 / fps))
    assert not hmm_on_off(lg, np.array([0.5]), 1 / fps, 0.5).any()
    kept = hmm_on_off(lg, np.array([0.5]), 1 / fps, 0.0)
    assert np.flatnonzero(kept[:, 0]).tolist() == [30]


def test_gap_inside_an_effect_is_filled():
    p = np.full((60, 1), 0.95)
    p[30:32] = 0.05  # two frames of doubt at 30 fps
    on = hmm_on_off(log_odds(p), np.array([0.5]), 1 / 30, 0.3)
    assert on.all()


def test_long_effect_survives_high_stickiness():
    fps = 25.0
    lg = _blip_logits(250, fps, (2.0, 6.0))
    on = hmm_on_off(lg, np.array([0.5]), 1 / fps, 0.6)[:, 0]
    assert np.flatnonzero(on).tolist() == list(range(50, 150))


def test_stickiness_is_frame_rate_independent():
    # The same 3 s of picture at 10 and at 30 fps: the same decisions within a frame.
    for blip in [(1.0, 1.2), (1.0, 1.6), (0.5, 2.3)]:
        on10 = hmm_on_off(_blip_logits(30, 10.0, blip, 0.9), np.array([0.5]), 0.1, 0.4)[:, 0]
        on30 = hmm_on_off(_blip_logits(90, 30.0, blip, 0.9), np.array([0.5]), 1 / 30, 0.4)[:, 0]
        if not on10.any():
            assert not on30.any(), blip
            continue
        a10, b10 = np.flatnonzero(on10)[[0, -1]] / 10.0
        a30, b30 = np.flatnonzero(on30)[[0, -1]] / 30.0
        assert abs(a10 - a30) <= 0.1 + 1e-9 and abs(b10 - b30) <= 0.1 + 1e-9, blip


def test_blip_shorter_than_the_dwell_goes_longer_stays():
    fps = 30.0
    stick = 0.5  # dwell 1 s for a fully confident blip
    assert dwell_seconds(stick) == pytest.approx(1.0)
    short = hmm_on_off(_blip_logits(300, fps, (3.0, 3.8)), np.array([0.5]), 1 / fps, stick)
    long = hmm_on_off(_blip_logits(300, fps, (3.0, 4.3)), np.array([0.5]), 1 / fps, stick)
    assert not short.any()
    assert long.any()


def test_hmm_on_off_equals_decode_of_evidence_costs():
    rng = np.random.default_rng(3)
    probs = rng.random((1000, 5)).astype(np.float32)
    tau = np.array([0.3, 0.5, 0.7, 0.5, 0.9])
    lg = log_odds(probs)
    expected = decode_on_off(evidence_costs(lg, tau, 0.04), switch_cost(0.3))
    assert np.array_equal(hmm_on_off(lg, tau, 0.04, 0.3), expected)


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan"), 2])
def test_stickiness_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match="stickiness"):
        dwell_seconds(bad)


def test_bad_switch_cost_is_refused():
    with pytest.raises(ValueError, match="switch cost"):
        decode_on_off(np.zeros((3, 1)), -1.0)
    with pytest.raises(ValueError, match="switch cost"):
        decode_on_off(np.zeros((3, 1)), float("inf"))


def test_empty_input():
    assert decode_on_off(np.zeros((0, 4)), 1.0).shape == (0, 4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=60), st.integers(0, 10), st.integers(1, 9))
def test_property_fast_equals_reference(values, lam8, block):
    cost = (np.array(values, dtype=np.float32) / 4)[:, None]
    lam = lam8 / 8
    assert np.array_equal(decode_on_off(cost, lam, block=block)[:, 0], reference_viterbi(cost[:, 0], lam))
