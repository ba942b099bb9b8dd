"""Monte Carlo building blocks and the per-item model by hand: exact dates, seeds, teams, daily
periods, "how many by D", scope growth, and a back-test on stationary throughput."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.forecast import ForecastConfig, at_least, days_of_periods
from pulse.reports.metrics.item_forecast import (
    TeamItems,
    done_by,
    forecast_items,
    reach_periods,
    simulate_items,
)
from pulse.reports.metrics.throughput import throughput_samples

from .factories import WF, item, items, transitions


def one(remaining: float, share: float = 1.0, growth: tuple[float, ...] = ()) -> TeamItems:
    """One roadmap item, the team's only work unless ``share`` says otherwise."""
    return TeamItems(["r"], [remaining], [share], [0.0], list(growth))


def days(
    remaining: float,
    samples: np.ndarray,
    config: ForecastConfig | None = None,
    growth: tuple[float, ...] = (),
) -> np.ndarray:
    """p50, p85, p95 in days from today of one item."""
    config = config or ForecastConfig()
    finish, _ = simulate_items(one(remaining, growth=growth), samples, config, "web")
    return days_of_periods(finish, config.quantiles, config.period)[:, 0]


def test_constant_throughput_gives_exact_dates():
    # 20 items at 5 a week: done in the 4th week, dated at its end
    assert days(20, np.full(12, 5.0)).tolist() == [28.0, 28.0, 28.0]


def test_daily_periods():
    assert days(6, np.full(84, 2.0), ForecastConfig(period="day")).tolist() == [3.0, 3.0, 3.0]


def test_no_throughput_means_no_date():
    assert np.isnan(days(5, np.zeros(12))).all()


def test_the_first_period_reaching_the_work_is_the_finish():
    cum = np.array([[2.0, 5.0, 9.0], [0.0, 4.0, 4.0]])
    got = reach_periods(cum, np.array([[5.0, 0.0], [5.0, 4.0]]))
    assert got.tolist() == [[2.0, 0.0], [np.inf, 2.0]]  # never within the horizon: inf


def test_seeded_forecasts_are_reproducible():
    samples = np.array([2, 5, 3, 6, 4, 1, 5, 3], dtype=float)
    a = days(25, samples, ForecastConfig(seed=11, trials=500))
    assert a.tolist() == days(25, samples, ForecastConfig(seed=11, trials=500)).tolist()
    others = [days(25, samples, ForecastConfig(seed=s, trials=500)) for s in range(12, 16)]
    assert any(o.tolist() != a.tolist() for o in others)


def test_another_team_does_not_change_a_forecast():
    samples = {"web": np.array([2, 5, 3, 6, 4, 1], float), "app": np.array([1, 2], float)}
    plan = pd.DataFrame(
        {
            "ri": [0, 1],
            "id": ["w", "a"],
            "team": ["web", "app"],
            "kind": "epic",
            "remaining": [30.0, 9.0],
            "share": 1.0,
            "dormant": 0.0,
        }
    )
    cfg = ForecastConfig(trials=400, seed=3)
    alone = forecast_items(plan.iloc[:1], samples, cfg, {}).frame
    both = forecast_items(plan, samples, cfg, {}).frame.set_index("id")
    assert (
        both.loc["w", ["p50", "p85", "p95"]].tolist()
        == alone.iloc[0][["p50", "p85", "p95"]].tolist()
    )


def test_how_many_by_a_date_with_85_percent_confidence():
    # 0 or 10 a week for 2 weeks: totals 0 (25%), 10 (50%), 20 (25%) -> at least 0 with 85%
    cfg = ForecastConfig(trials=4000, seed=1)
    item_ = one(30)
    _, cum = simulate_items(item_, np.array([0.0, 10.0]), cfg, "web")
    assert done_by(item_, cum, 0, 2, 1.0, 0.85) == 0
    steady = one(30, share=0.5)
    _, cum = simulate_items(steady, np.full(12, 4.0), cfg, "web")
    assert done_by(steady, cum, 0, 3, 1.0, 0.85) == 6  # half of 12 in 3 weeks
    assert done_by(steady, cum, 0, 3, 1.5, 0.85) == 4  # a p85 correction of 1.5 stretches time
    sorted_totals = np.array([[0.0], [10.0], [10.0], [10.0], [10.0], [10.0], [10.0], [20.0]])
    assert at_least(sorted_totals, 0.85)[0] == 10.0


def test_scope_growth_is_drawn_from_the_teams_ratios_and_is_never_earlier():
    samples = np.array([2, 5, 3, 6, 4, 1, 5, 3], dtype=float)
    cfg = ForecastConfig(trials=3000, seed=5)
    plain, _ = simulate_items(one(12), samples, cfg, "web")
    grown, _ = simulate_items(one(12, growth=(0.0, 0.5, 1.0)), samples, cfg, "web")
    assert np.all(grown >= plain) and np.mean(grown) > np.mean(plain)
    off = ForecastConfig(trials=3000, seed=5, scope_growth=False)
    assert np.array_equal(simulate_items(one(12, growth=(1.0,)), samples, off, "web")[0], plain)
    # every trial doubles the work: exactly the forecast of twice the items
    doubled, _ = simulate_items(one(12, growth=(1.0,)), samples, cfg, "web")
    assert np.array_equal(doubled, simulate_items(one(24), samples, cfg, "web")[0])


def test_back_test_p85_is_met_at_least_80_percent_of_the_time():
    """Stationary Poisson(6) weekly throughput over 3 years; forecast 20 items at 60 past dates."""
    rng = np.random.default_rng(2024)
    start = pd.Timestamp("2023-01-02 09:00", tz="UTC")  # a Monday
    recs, trs = [], []
    n = 0
    for week in range(156):
        for _ in range(rng.poisson(6)):
            done = start + pd.Timedelta(days=7 * week + float(rng.uniform(0, 7)))
            recs.append(item(str(n), "2022-12-01 09:00", "Done"))
            trs.append((str(n), done.strftime("%Y-%m-%d %H:%M"), "Backlog", "Done"))
            n += 1
    its = items(*recs)
    tr = transitions(*trs)
    done_at = pd.to_datetime(tr["at"], utc=True).sort_values().reset_index(drop=True)
    cfg = ForecastConfig(trials=2000, seed=1)
    hits = total = 0
    for week in range(20, 140, 2):
        as_of = start + pd.Timedelta(days=7 * week, hours=-1)  # Monday 08:00
        cd = column_dates(its, tr, WF, as_of, "UTC")
        samples = throughput_samples(cd, weeks=12)["web"]
        p85 = cd.today + pd.Timedelta(days=float(days(20, samples, cfg)[1]))
        after = done_at[done_at > as_of]
        actual = after.iloc[19].tz_convert("UTC").tz_localize(None).normalize()
        hits += int(actual <= p85)
        total += 1
    assert hits / total >= 0.80, (hits, total)
