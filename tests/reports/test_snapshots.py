"""Stored roadmap snapshots and baselines, and the weekly sequence that reads and writes them.

The weekly workbook runs: ``load_dataset(...)`` -> ``pipeline.weekly`` (last week = the same
engine a week earlier) -> ``save_snapshot`` + ``save_baselines`` (the audit trail). Two weeks of
that against a synced Jira emulator must show what changed in between: date slips, scope deltas,
status changes, new and cleared risks; and the stored rows are exactly what was reported.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pulse.connectors.runner import sync_source
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics import frames as F
from pulse.reports.metrics.pipeline import Results, weekly
from pulse.settings import Settings
from pulse.store import Store
from pulse.store.schema import metadata
from pulse.store.snapshots import (
    BASELINE_COLUMNS,
    SNAPSHOT_COLUMNS,
    load_baselines,
    load_snapshots,
    previous_snapshot,
    roadmap_baselines,
    roadmap_snapshots,
    save_baselines,
    save_snapshot,
)
from pulse.store.writes import register_source
from tests.connectors.jira_world import jira_world

T1 = pd.Timestamp("2026-03-09 06:00:00.123456789", tz="UTC")  # nanoseconds: stored as micro
T2 = pd.Timestamp("2026-03-16 06:00", tz="UTC")


def row(at: pd.Timestamp, rid: str, source: str = "acme", **kw: object) -> dict:
    rec = {
        "snapshot_at": at,
        "source": source,
        "roadmap_id": rid,
        "kind": "epic",
        "key": f"WEB-{rid}",
        "title": f'=HYPERLINK("x") {rid}',
        "team": "web",
        "target": "2026-04-29 22:00",
        "p50": "2026-04-19 22:00",
        "p85": "2026-04-27 22:00",
        "p95": None,
        "done_at": None,
        "scope": 20,
        "remaining": 10,
        "pct_complete": 50.0,
        "status": "on track",
        "reasons": "STALLED,BLOCKED",
        "evidence": "no child moved in 15 days\nWEB-3 flagged as blocked for 2 days",
        "severity": 140,
    }
    rec.update(kw)
    return rec


def snapshot(*rows: dict) -> pd.DataFrame:
    return F.build_frame(F.SNAPSHOT, rows)


def baseline(rid: str, at: pd.Timestamp, scope: int, source: str = "acme") -> pd.DataFrame:
    return F.build_frame(
        F.BASELINES,
        [
            {
                "source": source,
                "roadmap_id": rid,
                "baseline_at": at,
                "baseline_scope": scope,
                "baseline_target": "2026-04-29 22:00",
            }
        ],
    )


@pytest.fixture
def sources(store: Store) -> Store:
    with store.transaction() as conn:
        register_source(conn, "acme", "jira", "https://acme.example")
        register_source(conn, "boards", "trello", "https://trello.example")
    return store


def test_the_migration_creates_the_tables_as_declared(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = {roadmap_snapshots.name, roadmap_baselines.name}
    assert [d for d in diffs if any(name in repr(d) for name in mine)] == []
    assert (F.SNAPSHOT.names, F.BASELINES.names) == (SNAPSHOT_COLUMNS, BASELINE_COLUMNS)


def test_a_snapshot_round_trips_in_the_frame_contract(sources: Store) -> None:
    frame = snapshot(
        row(T1, "1"),
        row(T1, "version:7", kind="version", p50=None, p85=None, pct_complete=None, scope=0),
        row(T1, "c9", source="boards", kind="card", done_at="2026-03-08 17:45:12.5"),
    )
    save_snapshot(sources, frame)
    got = load_snapshots(sources)
    F.validate_snapshot(got)
    want = frame.sort_values(["source", "roadmap_id"]).reset_index(drop=True)
    for name, kind in F.SNAPSHOT.kinds.items():
        if kind in ("ts", "ts?"):
            want[name] = want[name].dt.as_unit("ns").dt.floor("us")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert pd.isna(got.loc[got["roadmap_id"] == "version:7", "pct_complete"]).all()


def test_saving_a_report_again_replaces_its_rows(sources: Store) -> None:
    save_snapshot(sources, snapshot(row(T1, "1"), row(T1, "2"), row(T1, "c9", source="boards")))
    save_snapshot(sources, snapshot(row(T2, "1")))
    save_snapshot(sources, snapshot(row(T1, "1", status="at risk")))
    save_snapshot(sources, snapshot(row(T1, "1", status="at risk")))
    got = load_snapshots(sources)
    assert sorted(zip(got["snapshot_at"], got["roadmap_id"], got["status"], strict=True)) == [
        (T1.floor("us"), "1", "at risk"),  # "2" was not in the re-run
        (T1.floor("us"), "c9", "on track"),  # another source's rows stay
        (T2, "1", "on track"),  # another week stays
    ]


def test_previous_snapshot_is_the_latest_strictly_before(sources: Store) -> None:
    save_snapshot(sources, snapshot(row(T1, "1"), row(T1, "2")))
    save_snapshot(sources, snapshot(row(T2, "1", remaining=8)))
    assert previous_snapshot(sources, T1) is None
    assert previous_snapshot(sources, T1.floor("us")) is None  # the stored instant is T1's own
    week1 = previous_snapshot(sources, T2)
    assert week1 is not None
    assert list(week1["roadmap_id"]) == ["1", "2"]
    latest = previous_snapshot(sources, T2 + pd.Timedelta(microseconds=1))
    assert latest is not None and list(latest["remaining"]) == [8]
    assert set(load_snapshots(sources, before=T2)["snapshot_at"]) == {T1.floor("us")}
    assert len(load_snapshots(sources)) == 3


def test_an_item_keeps_its_earliest_baseline(sources: Store) -> None:
    save_baselines(sources, baseline("1", T2, 10))
    save_baselines(sources, baseline("1", T1, 8))  # a re-run of an older week: earlier wins
    save_baselines(sources, baseline("1", T2 + pd.Timedelta(days=7), 30))  # later: ignored
    got = load_baselines(sources)
    F.validate_baselines(got)
    assert list(zip(got["baseline_at"], got["baseline_scope"], strict=True)) == [
        (T1.floor("us"), 8)
    ]
    assert load_baselines(sources, as_of=T1 - pd.Timedelta(days=1)).empty


def test_rows_of_an_unknown_source_are_refused(sources: Store) -> None:
    with pytest.raises(ValueError, match="unknown sources"):
        save_snapshot(sources, snapshot(row(T1, "1", source="nowhere")))


def test_the_store_starts_without_history(sources: Store) -> None:
    assert load_snapshots(sources).empty
    assert previous_snapshot(sources, T2) is None
    F.validate_snapshot(load_snapshots(sources))
    F.validate_baselines(load_baselines(sources))


RISKS = ("overdue_epic", "forecast_late_epic", "stalled_epic", "blocked_epic")


def weekly_report(store: Store, settings: Settings, now: pd.Timestamp) -> Results:
    """What the weekly workbook does with the store: load, compute with last week, save."""
    dataset = load_dataset(store, settings, now)
    results = weekly(dataset.inputs, dataset.config, dataset.as_of)
    save_snapshot(store, results.snapshot)
    save_baselines(store, results.baselines)
    return results


def test_two_consecutive_weeks_show_what_changed(store: Store) -> None:
    with jira_world("cloud", seed=5, issues=250, projects=2, plant=RISKS) as world:
        emu, planted = world.emu, world.emu.world.planted
        settings = Settings.model_validate(
            {"sources": [world.source.model_dump()], "report": {"timezone": "Europe/Berlin"}}
        )
        assert sync_source(world.source, store).ok
        week1 = weekly_report(store, settings, pd.Timestamp(emu.clock.now()))
        assert week1.snapshot_diff is not None  # the first report already compares

        emu.clock.advance(timedelta(days=7))
        overdue, *overdue_kids = planted["overdue_epic"]
        for kid in overdue_kids[3:]:  # the three still in progress get done
            emu.mutate.transition(kid, "Done")
        stalled = planted["stalled_epic"][0]
        for _ in range(3):  # 5 -> 8 children: +60% on the baseline
            emu.mutate.create("WEB", summary="late addition", parent=stalled, story_points=2)
        blocked, flagged, *_rest, blocker = planted["blocked_epic"]
        emu.mutate.edit(flagged, flagged=False)
        emu.mutate.transition(blocker, "Done")
        late = planted["forecast_late_epic"][0]
        moved = (emu.clock.now() + timedelta(days=90)).date()
        emu.mutate.edit(late, duedate=moved, target_end=moved)
        assert sync_source(world.source, store).ok
        week2 = weekly_report(store, settings, pd.Timestamp(emu.clock.now()))

    assert week2.snapshot_diff is not None and week2.previous_snapshot is not None
    # last week is the engine a week earlier: what week 1 reported, whatever is stored
    pd.testing.assert_frame_equal(
        week2.previous_snapshot.drop(columns="snapshot_at"),
        week1.snapshot.drop(columns="snapshot_at"),
    )
    diff = week2.snapshot_diff.set_index("key")
    assert diff.loc[stalled, "scope_delta"] == 3
    assert "SCOPE_GROWTH" in diff.loc[stalled, "new_risks"].split(",")
    assert (diff.loc[overdue, "status_before"], diff.loc[overdue, "status_after"]) == (
        "off track",
        "done",
    )
    assert "OVERDUE" in diff.loc[overdue, "cleared_risks"].split(",")
    assert "BLOCKED" in diff.loc[blocked, "cleared_risks"].split(",")
    assert diff.loc[late, "target_shift_days"] > 60
    assert (diff["p85_slip_days"] > 0).any()
    assert set(diff["change"]) >= {"changed"}
    assert "scope +3 items (5 -> 8)" in diff.loc[stalled, "summary"]

    baselines = week2.baselines.set_index("roadmap_id")
    stalled_id = week2.snapshot.set_index("key").loc[stalled, "roadmap_id"]
    assert baselines.loc[stalled_id, "baseline_scope"] == 5
    assert baselines.loc[stalled_id, "baseline_at"] < week1.as_of  # known from history
    stored = load_snapshots(store)
    assert stored["snapshot_at"].nunique() == 2


def test_a_rerun_in_the_same_week_replaces_that_weeks_snapshot(tmp_path: Path) -> None:
    from pulse.store import open_store
    from pulse.store.snapshots import load_snapshots, save_snapshot
    from pulse.store.writes import register_source

    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.transaction() as conn:
        register_source(conn, "acme", "jira", "https://acme.test")

    def week_row(at: str, p85: str) -> pd.DataFrame:
        frame = F.empty_frame(F.SNAPSHOT)
        row = {name: None for name in F.SNAPSHOT.names}
        row.update(
            snapshot_at=pd.Timestamp(at), source="acme", roadmap_id="1", kind="epic", key="WEB-1",
            title="Epic", team="Web", target=pd.Timestamp("2026-12-01T00:00Z"),
            p50=pd.Timestamp(p85), p85=pd.Timestamp(p85), p95=pd.Timestamp(p85),
            done_at=pd.NaT, scope=10, remaining=4, pct_complete=60.0, status="on track",
            reasons="", evidence="", severity=0,
        )  # fmt: skip
        return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)

    save_snapshot(store, week_row("2026-11-16T07:00Z", "2026-11-30T00:00Z"))
    save_snapshot(store, week_row("2026-11-23T07:00Z", "2026-12-07T00:00Z"))
    save_snapshot(store, week_row("2026-11-24T15:30Z", "2026-12-08T00:00Z"))  # re-run, same week
    stored = load_snapshots(store)
    assert [str(t.date()) for t in stored["snapshot_at"]] == ["2026-11-16", "2026-11-24"]
    assert str(stored["p85"].iloc[-1].date()) == "2026-12-08"
