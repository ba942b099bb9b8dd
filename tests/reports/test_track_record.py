"""The track record on the generated organisation: forecasts replayed at 26 past Mondays.

The playground (Jira with planted risks + Trello roadmap cards) is synced once; the pipeline then
replays every Monday of the last 26 weeks from the store's history alone and scores its forecasts
against what happened (METRICS §4).

The world is pinned to one instant: a world made "now" moves its events across the Monday
boundaries from one minute and one day to the next, and the number of forecasts already scored
with it (123 to 179 over seven consecutive days, hit rates in the bands on every one of them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from pulse.connectors.runner import sync_source
from pulse.emulators.playground import playground
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics.pipeline import RiskResults, compute_risks
from pulse.reports.metrics.track_record import HISTORY_COLUMNS, hit_rates
from pulse.settings import load_settings
from pulse.store import open_store

WORLD_END = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RiskResults]:
    root: Path = tmp_path_factory.mktemp("record")
    with playground(seed=7, scale="medium", now=WORLD_END) as world:
        config = root / "pulse.toml"
        config.write_text(world.config(f"sqlite:///{root / 'p.db'}", str(root)), encoding="utf-8")
        saved = dict(os.environ)
        os.environ.update(world.environment())
        try:
            settings = load_settings(config)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        store = open_store(settings.store.url)
        for source in settings.sources:
            assert sync_source(source, store, full=True).ok
    ds = load_dataset(store, settings, as_of=pd.Timestamp(WORLD_END))
    yield compute_risks(ds.inputs, ds.config, ds.as_of)
    store.dispose()


def test_p85_holds_80_to_92_and_p50_40_to_62_percent_over_the_mondays(
    results: RiskResults,
) -> None:
    history = results.forecast_history
    overall = hit_rates(history).iloc[0]
    assert history["as_of"].nunique() >= 12
    assert overall["p85_scored"] >= 150, overall
    assert 0.80 <= overall["p85_rate"] <= 0.92, overall
    assert 0.40 <= overall["p50_rate"] <= 0.62, overall


def test_epics_alone_land_in_the_same_bands(results: RiskResults) -> None:
    epics = hit_rates(results.forecast_history, "kind").set_index("kind").loc["epic"]
    assert epics["p85_scored"] >= 30
    assert 0.80 <= epics["p85_rate"] <= 0.92, epics
    assert 0.40 <= epics["p50_rate"] <= 0.62, epics


def test_forecast_history_is_one_typed_row_per_monday_and_item(results: RiskResults) -> None:
    history = results.forecast_history
    assert tuple(history.columns) == HISTORY_COLUMNS
    assert not history.duplicated(["as_of", "source", "roadmap_id"]).any()
    assert isinstance(history["as_of"].dtype, pd.DatetimeTZDtype)
    assert str(history["p85_held"].dtype) == "boolean"
    assert set(history["status"]) <= {"on track", "at risk", "off track", "no target", "no scope"}
    scored = history[history["p85_held"].notna()]
    late = scored[scored["done_at"].isna()]
    assert not late["p85_held"].any()  # still open and scored: its p85 passed, a miss


def test_the_summary_counts_what_the_history_holds_per_team(results: RiskResults) -> None:
    summary = results.track_record
    for team, part in results.forecast_history.groupby("team"):
        row = summary[(summary["team"] == team) & (summary["kind"] == "all")].iloc[0]
        assert row["p85_scored"] == part["p85_held"].notna().sum()
        assert row["p85_held"] == part["p85_held"].sum()


def test_the_live_correction_widens_the_raw_model(results: RiskResults) -> None:
    correction = results.forecast_run.correction
    assert correction.factor("p85", "epic") > correction.factor("p50", "epic") > 1.0
