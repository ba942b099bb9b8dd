"""The track record on the generated organisation: forecasts replayed at 26 past Mondays.

The playground (Jira with planted risks + Trello roadmap cards) is synced once; the engine then
replays every Monday of the last 26 weeks from the store's history alone and scores its forecasts
against what happened (METRICS §4).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.runner import sync_source
from emulators.playground import playground
from reports.dataset import load_dataset
from reports.metrics.backtest import History, TrackRecord, held_text, record_json, track_record
from settings import load_settings
from store import open_store


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackRecord]:
    root: Path = tmp_path_factory.mktemp("record")
    with playground(seed=7, scale="medium") as world:
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
    ds = load_dataset(store, settings)
    i, c = ds.inputs, ds.config
    history = History(
        i.items, i.transitions, i.changes, i.versions, i.item_versions, c.workflows, c.tz
    )
    yield track_record(history, ds.as_of, replace(c.forecast, trials=2000))
    store.dispose()


def test_p85_holds_80_to_92_and_p50_40_to_62_percent_over_26_mondays(record: TrackRecord) -> None:
    overall = record.rates().iloc[0]
    assert record.mondays == 26
    assert record.cases["made"].nunique() >= 12
    assert overall["scored"] >= 150, overall
    assert 0.80 <= overall["p85_held"] <= 0.92, overall
    assert 0.40 <= overall["p50_held"] <= 0.62, overall


def test_epics_alone_land_in_the_same_bands(record: TrackRecord) -> None:
    epics = record.rates("kind").set_index("kind").loc["epic"]
    assert epics["scored"] >= 30
    assert 0.80 <= epics["p85_held"] <= 0.92, epics
    assert 0.40 <= epics["p50_held"] <= 0.62, epics


def test_the_live_correction_is_learned_per_kind_and_widens_the_raw_model(
    record: TrackRecord,
) -> None:
    assert record.correction.factor("p85", "epic") > record.correction.factor("p50", "epic")
    assert record.correction.factor("p85", "epic") > 1.0  # the raw model alone is optimistic


def test_backtest_json_gives_the_same_rates_overall_per_kind_and_team(record: TrackRecord) -> None:
    doc = record_json(record)
    overall = record.rates().iloc[0]
    assert doc["mondays"] == 26 and doc["forecasts"] == len(record.cases)
    assert doc["overall"]["scored"] == overall["scored"]
    assert doc["overall"]["p85_held"] == round(overall["p85_held"], 4)
    assert {r["kind"] for r in doc["by_kind"]} == {"epic", "version", "card"}
    assert held_text(doc["overall"]).startswith(f"p85 held {overall['p85_held']:.0%} of ")
