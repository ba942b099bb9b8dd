"""Hand-worked examples of the forecast inputs: share from history, growth, stale and dormant
children, and the per-item simulation (METRICS §4)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.metrics.forecast import ForecastConfig
from reports.metrics.forecast_inputs import (
    dormant_chance,
    growth_ratios,
    history_shares,
    stale_children,
)
from reports.metrics.item_forecast import Correction, corrected_days, simulate_items

TODAY = pd.Timestamp("2026-03-23")  # a Monday: the window is the 12 weeks before it
UTC = "UTC"


def at(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def roadmap(**rows: dict[str, Any]) -> pd.DataFrame:
    base = {"team": "web", "done_at": pd.NaT, "remaining": 3, "started_at": at("2025-11-03")}
    frame = pd.DataFrame([{"roadmap_id": rid, **base, **row} for rid, row in rows.items()])
    for col in ("done_at", "started_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def test_share_comes_from_what_the_item_received_not_an_even_split() -> None:
    rm = roadmap(A={}, B={}, C={}, D={})
    kids = pd.DataFrame(
        {"roadmap_id": ["A"] * 12 + ["B"], "done_at": [at("2026-02-10")] * 12 + [at("2025-10-01")]}
    )
    shares = history_shares(rm, kids, {"web": np.full(12, 4.0)}, TODAY, UTC)
    # 48 done by the team in 12 weeks, k = 4 open items, prior = one week (4): (12 + 1) / 52
    assert shares["A"] == 13 / 52
    # B's only child was done before the window: it received nothing, (0 + 1) / 52
    assert shares["B"] == 1 / 52


def test_a_recently_started_item_is_measured_over_its_own_weeks() -> None:
    rm = roadmap(A={"started_at": at("2026-03-04")}, B={})
    kids = pd.DataFrame({"roadmap_id": ["A"] * 4, "done_at": [at("2026-03-12")] * 4})
    shares = history_shares(rm, kids, {"web": np.full(12, 4.0)}, TODAY, UTC)
    # started in the week of 03-02: 3 weeks, 12 done by the team; k = 2: (4 + 2) / (12 + 4)
    assert shares["A"] == 6 / 16


def test_an_untouched_item_is_not_forecast_to_land_in_two_weeks() -> None:
    cfg = ForecastConfig(trials=2000, seed=1, scope_growth=False)
    periods = simulate_items(
        np.array([3.0, 3.0]), np.array([13 / 52, 1 / 52]), None, np.full(12, 4.0), cfg, "web"
    )
    # constant 4/week: 3 / (4 x 0.25) = 3 weeks; 3 / (4 / 52) = 39 weeks
    assert set(periods[:, 0]) == {3.0} and set(periods[:, 1]) == {39.0}


def test_growth_ratio_is_children_added_after_the_start_over_all_children() -> None:
    rm = roadmap(A={"started_at": at("2026-01-10")}, B={"started_at": pd.NaT})
    kids = pd.DataFrame(
        {
            "roadmap_id": ["A", "A", "A", "A", "B"],
            "added_at": [at("2026-01-01"), at("2026-01-05"), at("2026-02-01"), at("2026-03-01"),
                         at("2026-01-01")],
        }
    )  # fmt: skip
    # A: 2 of its 4 children came after work started on 01-10; B never started
    assert {t: r.tolist() for t, r in growth_ratios(rm, kids).items()} == {"web": [0.5]}


def test_more_growth_is_never_earlier_and_growth_is_sampled_per_trial() -> None:
    cfg = ForecastConfig(trials=4000, seed=3)
    plain = simulate_items(np.array([4.0]), np.array([1.0]), None, np.full(12, 2.0), cfg, "w")
    grown = simulate_items(
        np.array([4.0]), np.array([1.0]), [np.array([0.0, 1.0])], np.full(12, 2.0), cfg, "w"
    )
    assert set(plain[:, 0]) == {2.0}
    # growth 0 or 100% at even odds: 4 items take 2 weeks, 8 items take 4
    assert set(grown[:, 0]) == {2.0, 4.0} and 0.45 < (grown[:, 0] == 4.0).mean() < 0.55


def cd_of(created: list[str], as_of: str) -> Any:
    items = pd.DataFrame({"created": pd.to_datetime(created, utc=True)})
    return SimpleNamespace(items=items, as_of=at(as_of))


def children(**cols: list[Any]) -> pd.DataFrame:
    n = len(cols["roadmap_id"])
    frame = pd.DataFrame({"row": range(n), "completed": False, "committed_at": pd.NaT, **cols})
    for col in ("added_at", "last_move_at", "committed_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def test_stale_children_are_untouched_60_days_while_a_sibling_moved() -> None:
    kids = children(
        roadmap_id=["A", "A", "A", "B"],
        key=["A-1", "A-2", "A-3", "B-1"],
        added_at=[at("2025-12-01"), at("2025-12-01"), at("2026-03-01"), at("2025-12-01")],
        last_move_at=[pd.NaT, at("2026-03-10"), pd.NaT, pd.NaT],
        committed_at=[pd.NaT, at("2026-03-10"), pd.NaT, pd.NaT],
    )
    cd = cd_of(["2025-12-01", "2025-12-01", "2026-03-01", "2025-12-01"], "2026-03-23")
    stale = stale_children(kids, cd)
    # idle since 12-01 while A-2 moved on 03-10; A-3 is new; B-1 has no moving sibling
    assert stale["key"].tolist() == ["A-1"]


def test_a_child_idle_longer_than_children_usually_wait_is_probably_dormant() -> None:
    # 4 started children waited 1, 2, 3 and 40 days; 1 of the 5 children older than 120 days
    # was never started (pi = 0.2). Open idle children: 10 and 50 days.
    created = ["2025-09-01"] * 5 + ["2026-03-13", "2026-02-01"]
    waits = [1, 2, 3, 40]
    committed = [at("2025-09-01") + pd.Timedelta(days=d) for d in waits] + [pd.NaT] * 3
    kids = children(
        roadmap_id=["A"] * 7,
        added_at=[at(c) for c in created],
        last_move_at=[pd.NaT] * 7,
        committed_at=committed,
    )
    kids["completed"] = [True] * 4 + [False] * 3
    chance = dormant_chance(kids, cd_of(created, "2026-03-23"))
    # S(10) = 1/4: 0.2 / (0.2 + 0.8 x 0.25) = 0.5; S(50) = 0: certainly dormant
    assert chance.round(6).tolist() == [1.0, 0.5, 1.0]


def test_correction_scales_horizons_and_keeps_the_order() -> None:
    raw = pd.DataFrame({"p50_days": [14.0, 7.0], "p85_days": [21.0, np.nan], "p95_days": [28.0, 9]})
    got = corrected_days(raw, pd.Series(["epic", "card"]), Correction({"*": 1.5}, {"epic": 2.0}))
    assert got["p50"].tolist() == [21.0, 11.0]  # ceil(7 x 1.5)
    assert got["p85"].tolist()[0] == 42.0 and np.isnan(got["p85"].tolist()[1])
    assert got["p95"].tolist()[0] == 56.0 and np.isnan(got["p95"].tolist()[1])  # no p85: none


history = st.lists(st.integers(0, 12), min_size=1, max_size=12).filter(lambda xs: max(xs) > 0)
growth_pool = st.lists(st.floats(0, 2), min_size=1, max_size=5).map(np.array)


@settings(max_examples=40, deadline=None)
@given(
    history,
    st.lists(st.integers(1, 40), min_size=1, max_size=4),
    st.integers(1, 20),
    st.integers(0, 3),
    growth_pool,
    st.floats(0.0, 0.5),
)
def test_the_engine_model_is_never_earlier_with_more_scope(
    samples, remaining, extra, which, pool, dormant
):
    cfg = ForecastConfig(trials=300, seed=3)
    n = len(remaining)
    share, growth = np.full(n, 0.3), [pool] * n
    chance = np.full(n, dormant)
    base = simulate_items(np.array(remaining, float), share, growth, samples, cfg, "t", chance, 0.1)
    more = list(remaining)
    more[which % n] += extra
    bigger = simulate_items(np.array(more, float), share, growth, samples, cfg, "t", chance, 0.1)
    assert np.all(bigger >= base)


@settings(max_examples=40, deadline=None)
@given(
    history,
    st.lists(st.integers(0, 4), min_size=12, max_size=12),
    st.lists(st.integers(1, 40), min_size=1, max_size=4),
    growth_pool,
)
def test_the_engine_model_is_never_later_with_more_throughput(samples, boost, remaining, pool):
    cfg = ForecastConfig(trials=300, seed=4)
    base = np.array(samples, float)
    richer = base + np.array(boost[: len(samples)], float)
    n = len(remaining)
    args = (np.array(remaining, float), np.full(n, 0.3), [pool] * n)
    slow = simulate_items(*args, base, cfg, "t", np.full(n, 0.2), 0.1)
    fast = simulate_items(*args, richer, cfg, "t", np.full(n, 0.2), 0.1)
    assert np.all(fast <= slow)
