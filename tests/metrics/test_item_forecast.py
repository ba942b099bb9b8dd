"""Properties of the per-item Monte Carlo model (METRICS §4), every effect switched on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.reports.metrics.forecast import ForecastConfig
from pulse.reports.metrics.item_forecast import TeamItems, simulate_items, stretch

CONFIG = ForecastConfig(trials=300, seed=2)
history = st.lists(st.integers(0, 12), min_size=1, max_size=12).filter(lambda xs: max(xs) > 0)


def team(remaining, share=0.3, dormant=0.0, growth=(0.0, 0.5, 1.0)):
    return TeamItems(
        ids=[f"i{k}" for k in range(len(remaining))],
        remaining=[float(r) for r in remaining],
        share=[share] * len(remaining),
        dormant=[dormant] * len(remaining),
        growth=list(growth),
        dormant_new=0.02,
    )


@settings(max_examples=40, deadline=None)
@given(history, st.lists(st.integers(1, 30), min_size=1, max_size=4), st.integers(1, 10))
def test_more_scope_is_never_earlier(samples, remaining, more):
    base, _ = simulate_items(team(remaining), np.array(samples, float), CONFIG, "t")
    bigger, _ = simulate_items(
        team([r + more for r in remaining]), np.array(samples, float), CONFIG, "t"
    )
    assert np.all(bigger >= base)


@settings(max_examples=40, deadline=None)
@given(history, st.lists(st.integers(1, 30), min_size=1, max_size=4), st.integers(1, 5))
def test_more_throughput_is_never_later(samples, remaining, extra):
    slow, _ = simulate_items(team(remaining), np.array(samples, float), CONFIG, "t")
    richer = np.array(samples, float) + extra
    fast, _ = simulate_items(team(remaining), richer, CONFIG, "t")
    assert np.all(fast <= slow)


def test_an_item_that_got_a_bigger_share_lands_no_later():
    samples = np.array([4, 6, 5, 7, 3, 6], float)
    small, _ = simulate_items(team([10], share=0.1), samples, CONFIG, "t")
    large, _ = simulate_items(team([10], share=0.5), samples, CONFIG, "t")
    assert np.all(large <= small) and np.median(large) < np.median(small)


def test_a_dormant_child_means_the_trial_never_finishes():
    samples = np.full(12, 5.0)
    sure, _ = simulate_items(team([3], dormant=1.0), samples, CONFIG, "t")
    assert np.isinf(sure).all()
    never = np.isinf(simulate_items(team([3], dormant=0.5), samples, CONFIG, "t")[0]).mean()
    assert 0.4 < never < 0.65  # half the trials, and a few more through the children it gains


def test_the_correction_stretches_trials_by_rank_and_keeps_their_order():
    finish = np.arange(1.0, 101.0)[:, None]
    out = stretch(finish, np.array([2.0]), np.array([3.0]))[:, 0]
    assert out[0] == 2.0 and out[-1] == 300.0  # p50 factor at the bottom, p85's at the top
    assert np.all(np.diff(out) >= 0)
