"""Back-test over generated history: forecasts made at past Mondays, from what was known then.

A Jira emulator generates six months of work for two teams; Pulse syncs it once. At each of ten
past Mondays the store is loaded as of that Monday, so forecasts use only what was known then;
what happened afterwards is read from the same store as of now.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest

from pulse.connectors.runner import sync_source
from pulse.reports.dataset import Dataset, load_dataset
from pulse.reports.metrics.calibration import forecast_calibration
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.flow import flow_items
from pulse.reports.metrics.forecast import ForecastConfig, days_of_periods
from pulse.reports.metrics.item_forecast import TeamItems, simulate_items
from pulse.reports.metrics.pipeline import compute_all
from pulse.reports.metrics.roadmap import ROADMAP_TYPES
from pulse.reports.metrics.throughput import throughput_samples
from pulse.reports.queries.forecast import forecast
from pulse.settings import Settings
from pulse.store import Store, open_store
from pulse.store.snapshots import load_snapshots, save_baselines, save_snapshot
from tests.connectors.jira_world import jira_world

TZ = "Europe/Berlin"
SIZES = (5, 10, 20)  # items remaining in the forecast roadmap item


@dataclass
class History:
    """A synced store, its settings and the emulator's now."""

    store: Store
    settings: Settings
    now: pd.Timestamp

    def mondays(self) -> list[pd.Timestamp]:
        """07:00 Berlin on the ten Mondays from 12 to 3 weeks before now, oldest first."""
        local = self.now.tz_convert(TZ)
        monday = (local - pd.Timedelta(days=local.day_of_week)).normalize() + pd.Timedelta(hours=7)
        return [(monday - pd.Timedelta(weeks=w)).tz_convert("UTC") for w in range(12, 2, -1)]

    def known_at(self, as_of: pd.Timestamp) -> Dataset:
        """The store as it was known at ``as_of``."""
        return load_dataset(self.store, self.settings, as_of)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    with jira_world("cloud", seed=5, issues=400, projects=2) as world:
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('backtest') / 'p.db'}")
        assert sync_source(world.source, store).ok
        now = pd.Timestamp(world.emu.clock.now())
    settings = Settings.model_validate(
        {"sources": [world.source.model_dump()], "report": {"timezone": TZ}}
    )
    yield History(store, settings, now)
    store.dispose()


def when(samples: dict, team: str, remaining: int, today: pd.Timestamp) -> pd.Series:
    """p50/p85 of one roadmap item of ``remaining`` items, the team's only work."""
    config = ForecastConfig(seed=4)
    alone = TeamItems(["r"], [float(remaining)], [1.0], [0.0], [])
    finish, _ = simulate_items(alone, samples[team], config, team)
    p50, p85, _p95 = days_of_periods(finish, config.quantiles, config.period)[:, 0]
    return pd.Series({"p50": today + pd.Timedelta(days=p50), "p85": today + pd.Timedelta(days=p85)})


def test_p85_dates_forecast_at_past_mondays_are_met_at_least_80_percent(history: History) -> None:
    full = history.known_at(history.now)
    final = column_dates(
        full.inputs.items, full.inputs.transitions, full.config.workflows, history.now, TZ
    )
    delivered = flow_items(final, exclude_types=ROADMAP_TYPES)
    delivered = delivered[delivered["completed"].to_numpy(dtype=bool)]
    outcomes = []
    for monday in history.mondays():
        past = history.known_at(monday)
        cd = column_dates(
            past.inputs.items, past.inputs.transitions, past.config.workflows, monday, TZ
        )
        samples = throughput_samples(cd, weeks=12, by="team", exclude_types=ROADMAP_TYPES)
        for team in sorted(samples):
            later = delivered[(delivered["team"] == team) & (delivered["done_at"] > monday)]
            days = later["done_day"].sort_values().reset_index(drop=True)
            for size in SIZES:
                forecast = when(samples, team, size, cd.today)
                again = when(samples, team, size, cd.today)
                assert forecast.equals(again)  # seeded: one dataset, one answer
                if len(days) >= size:  # otherwise still pending at now
                    actual = days.iloc[size - 1]
                    outcomes.append((actual <= forecast["p85"], actual <= forecast["p50"]))
    assert len(outcomes) >= 40
    met_p85 = sum(p85 for p85, _ in outcomes) / len(outcomes)
    assert met_p85 >= 0.80, (met_p85, len(outcomes))
    met_p50 = sum(p50 for _, p50 in outcomes) / len(outcomes)
    assert met_p50 < met_p85  # the p50 date is the earlier, riskier one


def save_weekly_snapshots(history: History) -> tuple[list[pd.Timestamp], list[pd.DataFrame]]:
    """What the weekly report stores on every other past Monday (idempotent): the Mondays and
    their snapshots."""
    mondays = history.mondays()[::2]
    saved = []
    for monday in mondays:
        week = history.known_at(monday)
        results = compute_all(week.inputs, week.config, week.as_of)
        save_snapshot(history.store, results.snapshot)
        save_baselines(history.store, results.baselines)
        saved.append(results.snapshot)
    return mondays, saved


def test_calibration_of_the_stored_weekly_snapshots(history: History) -> None:
    """The stored snapshots are the audit trail of what was reported: calibrating them scores
    every stored forecast, and a past Monday's engine run reproduces its stored rows exactly."""
    mondays, saved = save_weekly_snapshots(history)
    stored = load_snapshots(history.store)
    assert stored["snapshot_at"].nunique() == len(saved)

    now = history.known_at(history.now)
    results = compute_all(now.inputs, now.config, now.as_of)
    calibration = forecast_calibration(stored, results.roadmap_scope.roadmap, now.as_of, TZ)
    # a week whose open items all have no date before the horizon has nothing to score
    dated = [
        m.floor("us") for m, snap in zip(mondays, saved, strict=True) if snap["p85"].notna().any()
    ]
    assert len(dated) >= 2
    assert list(calibration.by_snapshot["snapshot_at"]) == dated
    assert calibration.resolved > 0
    expected = forecast_calibration(
        pd.concat(saved, ignore_index=True), results.roadmap_scope.roadmap, now.as_of, TZ
    )
    assert (calibration.resolved, calibration.hit_rate_p85, calibration.hit_rate_p50) == (
        expected.resolved,
        expected.hit_rate_p85,
        expected.hit_rate_p50,
    )
    rerun = history.known_at(mondays[-1])
    again = compute_all(rerun.inputs, rerun.config, rerun.as_of).snapshot
    pd.testing.assert_frame_equal(again, saved[-1])  # a past Monday reproduces exactly


def test_pulse_forecast_calibrates_from_the_same_snapshots(history: History) -> None:
    """`pulse forecast KEY` lists every stored forecast of the item, as the snapshots hold it."""
    _, saved = save_weekly_snapshots(history)
    snaps = pd.concat(saved, ignore_index=True)
    epics = snaps[(snaps["kind"] == "epic") & snaps["p85"].notna()]
    key = str(epics["key"].value_counts().index[0])
    # a stored forecast is a row with a date (one beyond the horizon says nothing to score)
    mine = snaps[(snaps["key"] == key) & snaps["p85"].notna()].sort_values("snapshot_at")
    doc = forecast(history.store, history.settings, key, history.now).to_json()
    calibration = doc["calibration"]
    assert calibration is not None
    made = [f["made"] for f in calibration["forecasts"]]
    assert made == list(mine["snapshot_at"].dt.tz_convert(TZ).dt.strftime("%Y-%m-%d"))
    p85 = [f["p85"] for f in calibration["forecasts"]]
    assert p85 == [
        None if pd.isna(t) else t.tz_convert(TZ).strftime("%Y-%m-%d") for t in mine["p85"]
    ]
