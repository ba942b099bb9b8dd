"""The stored analysis behind `pulse risk / forecast / show`: reused, invalidated, and exact.

A question computes the whole organisation's analysis once for its as-of and data version, and
later questions read it. These tests count the computations, change the store with a real sync
of the Jira emulator, and check that answers from the cache equal those computed cold.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

import pulse.reports.queries.analysis as analysis
from pulse.connectors.runner import sync_source
from pulse.reports.queries.forecast import forecast
from pulse.reports.queries.risk import RiskFilters, risk
from pulse.reports.queries.show import show
from pulse.settings import Settings
from pulse.store import Store, open_store
from pulse.store.analysis import (
    CHILD_TABLES,
    analysis_runs,
    clear,
    count_entries,
)
from pulse.store.analysis_reads import data_version
from pulse.store.runs import finish_run, start_run
from pulse.store.schema import metadata, sync_runs
from tests.connectors.jira_world import jira_world
from tests.reports.test_queries import PLANT, PlantedOrg, build_planted_org


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantedOrg]:
    built = build_planted_org(tmp_path_factory.mktemp("cache") / "pulse.db")
    yield built
    built.store.dispose()


class Counter:
    """Counts the whole-organisation computations (and lets them run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = analysis.compute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(analysis, "compute", counted)


@pytest.fixture
def computed(org: PlantedOrg, monkeypatch: pytest.MonkeyPatch) -> Counter:
    with org.store.transaction() as conn:
        clear(conn)
    return Counter(monkeypatch)


def _cold(org: PlantedOrg, call: Any) -> Any:
    with org.store.transaction() as conn:
        clear(conn)
    return call()


def test_the_second_question_reads_the_stored_analysis(org: PlantedOrg, computed: Counter) -> None:
    epic = org.planted["forecast_late_epic"][0]
    first = risk(org.store, org.settings, org.now).to_json()
    assert computed.calls == 1
    assert risk(org.store, org.settings, org.now).to_json() == first
    risk(org.store, org.settings, org.now, RiskFilters(team="WEB"))
    risk(org.store, org.settings, org.now, RiskFilters(epic=epic, min_severity="medium"))
    forecast(org.store, org.settings, epic, org.now)
    forecast(org.store, org.settings, epic, org.now, by=date(2026, 12, 31), trials=500)
    # a later instant between the same stored events is the same entry
    risk(org.store, org.settings, org.now + pd.Timedelta(seconds=1))
    assert computed.calls == 1
    # show reads its team's cycle times from the same entry
    show(org.store, org.settings, org.planted["blocked_epic"][1], org.now)
    assert computed.calls == 1
    with org.store.engine.connect() as conn:
        assert count_entries(conn) == 1


def test_cached_answers_equal_cold_computations(org: PlantedOrg) -> None:
    epic = org.planted["forecast_late_epic"][0]
    past = org.now - pd.Timedelta(days=30)
    questions = [
        lambda: risk(org.store, org.settings, org.now).to_json(),
        lambda: risk(org.store, org.settings, org.now, RiskFilters(team="WEB")).to_json(),
        lambda: risk(org.store, org.settings, past, RiskFilters(min_severity="medium")).to_json(),
        lambda: forecast(org.store, org.settings, epic, org.now).to_json(),
        lambda: forecast(
            org.store, org.settings, epic, org.now, by=date(2026, 12, 31), trials=2000
        ).to_json(),
    ]
    for question in questions:
        cold = _cold(org, question)
        assert question() == cold  # the second one is read from the stored entry


def test_show_is_the_same_cold_and_from_the_entry(org: PlantedOrg) -> None:
    for key in (org.planted["blocked_epic"][1], org.planted["overdue_epic"][1]):
        direct = _cold(org, lambda k=key: show(org.store, org.settings, k, org.now).to_json())
        risk(org.store, org.settings, org.now)  # stores the entry
        assert show(org.store, org.settings, key, org.now).to_json() == direct


def test_a_forecast_run_again_gives_the_stored_answer(org: PlantedOrg) -> None:
    epic = org.planted["forecast_late_epic"][0]
    stored = forecast(org.store, org.settings, epic, org.now).to_json()
    again = forecast(org.store, org.settings, epic, org.now, trials=stored["trials"]).to_json()
    for field in ("forecast", "histogram", "beyond_horizon", "wip", "share", "throughput"):
        assert again[field] == stored[field], field


def test_forecasts_equal_the_weekly_pipelines(org: PlantedOrg) -> None:
    """p50/p85/p95 of `pulse risk` are the engine's whole-store forecasts for the same as_of."""
    from pulse.reports.dataset import load_dataset
    from pulse.reports.metrics.pipeline import compute_all

    ds = load_dataset(org.store, org.settings, org.now)
    results = compute_all(ds.inputs, ds.config, ds.as_of)
    fc = results.forecasts.set_index("roadmap_id")
    scope = results.roadmap_scope.roadmap.set_index("roadmap_id")
    rows = [r for r in risk(org.store, org.settings, org.now).rows if r["kind"] != "item"]
    assert rows
    for row in rows:
        rid = scope.index[(scope["key"] == row["key"]).to_numpy()][0]
        for q in ("p50", "p85", "p95"):
            want = fc.loc[rid, q] if rid in fc.index else pd.NaT  # empty: no forecast
            assert row[q] == (None if pd.isna(want) else pd.Timestamp(want).strftime("%Y-%m-%d"))


def test_an_event_splits_the_validity_of_an_entry(org: PlantedOrg, computed: Counter) -> None:
    with org.store.engine.connect() as conn:
        at = conn.exec_driver_sql(
            "select max(at) from transitions where at <= ?",
            (org.now.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S.%f"),),
        ).scalar_one()
    moment = pd.Timestamp(at, tz="UTC")
    tick = pd.Timedelta(microseconds=1)
    answers = [
        risk(org.store, org.settings, moment + d).to_json()["rows"] for d in (-tick, 0 * tick, tick)
    ]
    assert computed.calls == 3  # before, at (a single-instant entry), after
    for d in (-tick, 0 * tick, tick):
        risk(org.store, org.settings, moment + d)
    assert computed.calls == 3
    assert answers[1] == answers[2]  # the event counts from its own instant on
    with org.store.engine.connect() as conn:
        points = conn.execute(analysis_runs.select().where(analysis_runs.c.point)).all()
    assert len(points) == 1 and points[0].valid_from == moment.to_pydatetime()


def test_a_running_sync_keeps_entries_from_being_reused(org: PlantedOrg, computed: Counter) -> None:
    with org.store.transaction() as conn:
        run = start_run(conn, None, "sync", "cli", False)
    try:
        risk(org.store, org.settings, org.now)
        risk(org.store, org.settings, org.now)
        assert computed.calls == 2  # the sync may still commit pages
    finally:
        with org.store.transaction() as conn:
            finish_run(conn, run, "ok")
    risk(org.store, org.settings, org.now)
    risk(org.store, org.settings, org.now)
    assert computed.calls == 3


def test_a_sync_killed_outright_does_not_keep_entries_from_being_reused(
    org: PlantedOrg, computed: Counter
) -> None:
    """SIGKILL leaves a `running` row; its process is gone, so the row blocks nothing, and
    the next run marks it interrupted."""
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    dead = f"{socket.gethostname()}:{exited.pid}"
    with org.store.transaction() as conn:
        run = start_run(conn, None, "sync", "cli", False)
        conn.execute(update(sync_runs).where(sync_runs.c.id == run).values(owner=dead))
    risk(org.store, org.settings, org.now)
    risk(org.store, org.settings, org.now)
    assert computed.calls == 1
    with org.store.transaction() as conn:
        finish_run(conn, start_run(conn, None, "sync", "cli", False), "ok")
        status = conn.execute(select(sync_runs.c.status).where(sync_runs.c.id == run))
        assert status.scalar_one() == "interrupted"


def test_refresh_waits_for_the_last_running_sync(org: PlantedOrg, computed: Counter) -> None:
    with org.store.transaction() as conn:
        run = start_run(conn, None, "sync", "cli", False)
    assert analysis.refresh_analysis(org.store, org.settings, org.now) is False
    with org.store.transaction() as conn:
        finish_run(conn, run, "ok")
    assert analysis.refresh_analysis(org.store, org.settings, org.now) is True
    assert computed.calls == 1


def test_refresh_stores_the_analysis_of_now(org: PlantedOrg, computed: Counter) -> None:
    assert analysis.refresh_analysis(org.store, org.settings, org.now) is True
    assert analysis.refresh_analysis(org.store, org.settings, org.now) is False
    risk(org.store, org.settings, org.now)
    forecast(org.store, org.settings, org.planted["stalled_epic"][0], org.now)
    assert computed.calls == 1


def test_other_settings_are_another_entry(org: PlantedOrg, computed: Counter) -> None:
    risk(org.store, org.settings, org.now)
    source = org.settings.sources[0].model_copy(update={"teams": {"WEB": "Web team"}})
    other = org.settings.model_copy(update={"sources": [source]})
    teams = {r["team"] for r in risk(org.store, other, org.now).rows if r["kind"] == "item"}
    assert "Web team" in teams and "WEB" not in teams
    assert computed.calls == 2


def test_a_new_sync_invalidates_the_stored_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with jira_world("cloud", seed=5, issues=300, projects=2, plant=PLANT) as world:
        store = open_store(f"sqlite:///{tmp_path / 'pulse.db'}")
        try:
            assert sync_source(world.source, store).ok
            settings = Settings.model_validate(
                {
                    "store": {"url": f"sqlite:///{tmp_path / 'pulse.db'}"},
                    "sources": [world.source.model_dump()],
                    "report": {"timezone": "Europe/Berlin"},
                }
            )
            counter = Counter(monkeypatch)
            before = pd.Timestamp(world.emu.clock.now())
            first = risk(store, settings, before).to_json()
            with store.engine.connect() as conn:
                version = data_version(conn).digest
            # a story in progress and healthy gets flagged as blocked, then Pulse syncs
            calm = next(
                r["key"]
                for r in risk(store, settings, before, RiskFilters(min_severity="low")).rows
                if r["kind"] == "item" and "BLOCKED" not in r["reasons"]
            )
            world.emu.clock.advance(timedelta(hours=1))
            world.emu.mutate.edit(calm, flagged=True)
            world.emu.clock.advance(timedelta(minutes=5))
            after = pd.Timestamp(world.emu.clock.now())
            assert sync_source(world.source, store).ok
            with store.engine.connect() as conn:
                assert data_version(conn).digest != version
            rows = {r["key"]: r for r in risk(store, settings, after).rows}
            assert "BLOCKED" in rows[calm]["reasons"]
            # the past is recomputed from the new data, and it has not changed
            assert risk(store, settings, before).to_json() == first
            assert counter.calls == 3
        finally:
            store.dispose()


def test_validity_is_bounded_by_events_and_midnights() -> None:
    tz = "Europe/Berlin"
    moment = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    us = lambda d: int(d.timestamp() * 1_000_000)  # noqa: E731
    events = np.array(
        [
            us(moment - timedelta(hours=1)),
            us(moment + timedelta(hours=2)),
            us(moment - timedelta(days=3)),
        ]
    )
    lo, hi, point = analysis.validity(moment, events, tz)
    assert (lo, hi, point) == (moment - timedelta(hours=1), moment + timedelta(hours=2), False)
    lo, hi, point = analysis.validity(moment, np.array([], dtype=np.int64), tz)
    assert (lo, hi) == (
        datetime(2026, 11, 19, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 23, 0, tzinfo=UTC),
    )
    assert analysis.validity(moment, np.array([us(moment)]), tz) == (moment, moment, True)


def test_light_constants_match_the_engine() -> None:
    from pulse.reports.metrics.health import REASONS
    from pulse.reports.metrics.roadmap import ROADMAP_TYPES
    from pulse.reports.queries import catalog
    from pulse.reports.queries import risk as risk_module

    assert risk_module.REASONS == REASONS
    assert catalog.ROADMAP_TYPES == ROADMAP_TYPES


def test_the_migration_creates_the_cache_tables_as_declared(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = {t.name for t in (analysis_runs, *CHILD_TABLES)}
    assert [d for d in diffs if any(name in repr(d) for name in mine)] == []
