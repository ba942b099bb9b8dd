"""Jira sync contract tests: real HTTP to the emulator, real stores, compared with ground truth.

In the style of Airbyte's connector acceptance tests: a full sync equals the source; a second
sync changes nothing; N mutations are picked up exactly; a cursor in the future reads nothing;
a sync stopped at any point and re-run ends with the same store as an uninterrupted one.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pulse.connectors.runner import sync_source
from pulse.emulators.http import Fault
from pulse.emulators.jira import JiraEmulator
from pulse.store import Store, open_store, schema
from pulse.store.writes import save_cursor
from tests.connectors.jira_world import JiraWorld, jira_world, plain_issues
from tests.store_snapshot import diff, snapshot

SMALL = {"seed": 5, "issues": 300, "projects": 3}


def stored_items(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return {row.item_id: row for row in conn.execute(select(schema.items))}


def stored_transitions(store: Store) -> dict[str, list[tuple[str, datetime, str, str]]]:
    out: dict[str, list[tuple[str, datetime, str, str]]] = {}
    query = select(schema.transitions).order_by(
        schema.transitions.c.item_id, schema.transitions.c.at, schema.transitions.c.change_id
    )
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(row.item_id, []).append(
                (row.change_id, row.at, row.from_status, row.to_status)
            )
    return out


def canonical_change(field: str, value: Any) -> Any:
    """Truth's typed change values and the store's strings, in one comparable form."""
    if field == "estimate":
        return None if value in (None, "") else float(value)
    if field == "sprint":
        if isinstance(value, tuple | list):
            return tuple(sorted(str(v) for v in value))
        return tuple(sorted(v for v in (value or "").split(",") if v))
    if field == "flagged":
        return bool(value)
    return None if value in (None, "") else str(value)


COMPARED_FIELDS = ("estimate", "sprint", "flagged", "fix_version")


def stored_changes(store: Store) -> dict[str, list[tuple[str, str, Any, Any]]]:
    out: dict[str, list[tuple[str, str, Any, Any]]] = {}
    query = select(schema.changes).where(schema.changes.c.field.in_(COMPARED_FIELDS))
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(row.item_id, []).append(
                (
                    row.change_id,
                    row.field,
                    canonical_change(row.field, row.from_value),
                    canonical_change(row.field, row.to_value),
                )
            )
    return {k: sorted(v, key=repr) for k, v in out.items()}


def assert_store_matches_truth(
    store: Store, emu: JiraEmulator, projects: set[str] | None = None
) -> None:
    """Items, keys, statuses, every transition and tracked change, and sprints equal the truth
    (of the given projects only, when the source is limited to them)."""
    truth = emu.truth
    items = stored_items(store)
    live = {
        i
        for i, row in items.items()
        if row.deleted_at is None and row.access_lost_at is None and row.out_of_scope_at is None
    }
    expected_live = {
        i for i in truth.visible_ids if projects is None or truth.issues[i].project in projects
    }
    assert live == expected_live
    for item_id in live:
        expected = truth.issues[item_id]
        row = items[item_id]
        assert (row.key, row.status, row.project_key) == (
            expected.key,
            expected.status,
            expected.project,
        )
        assert row.estimate == expected.estimate
        assert row.title == expected.summary
    transitions = stored_transitions(store)
    for item_id in live:
        expected_t = [
            (t.history_id, t.at, t.from_status, t.to_status)
            for t in truth.issues[item_id].transitions
        ]
        assert transitions.get(item_id, []) == expected_t, item_id
    changes = stored_changes(store)
    for item_id in live:
        expected_c = sorted(
            (
                (
                    c.history_id,
                    c.field,
                    canonical_change(c.field, c.from_value),
                    canonical_change(c.field, c.to_value),
                )
                for c in truth.issues[item_id].changes
                if c.field in COMPARED_FIELDS
            ),
            key=repr,
        )
        assert changes.get(item_id, []) == expected_c, item_id
    if projects is not None:
        return
    with store.engine.connect() as conn:
        sprints = {row.sprint_id: row for row in conn.execute(select(schema.sprints))}
    assert set(sprints) == {str(s) for s in truth.sprints}
    for sprint_id, expected_s in truth.sprints.items():
        row = sprints[str(sprint_id)]
        assert (row.state, row.start_at, row.complete_at) == (
            expected_s.state,
            expected_s.start,
            expected_s.complete,
        )


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_full_sync_stores_exactly_the_truth(flavour: str, store: Store) -> None:
    with jira_world(flavour, **SMALL) as world:
        result = sync_source(world.source, store)
        assert result.ok, result.line()
        assert result.counts.new == len(world.emu.truth.visible_ids)
        assert_store_matches_truth(store, world.emu)


def test_heavy_histories_are_complete_on_both_flavours(tmp_path: Path) -> None:
    for flavour in ("cloud", "datacenter"):
        with jira_world(flavour, seed=9, issues=200, projects=2, heavy_issues=3) as world:
            store = open_store(f"sqlite:///{tmp_path / flavour}.db")
            assert sync_source(world.source, store).ok
            heavy = [i for i in world.emu.truth.issues.values() if i.history_count > 100]
            assert len(heavy) == 3
            transitions = stored_transitions(store)
            assert sum(len(issue.transitions) for issue in heavy) > 0, "some moved status"
            for issue in heavy:  # an issue can have 100+ histories and no status change
                assert len(transitions.get(issue.id, [])) == len(issue.transitions)
            paths = world.server.requests.by_path
            if flavour == "cloud":  # completed in bulk: one request per search page at most
                assert not [p for p in paths if p.endswith("/changelog")]
                assert 1 <= paths["/rest/api/3/changelog/bulkfetch"] <= len(heavy)


def test_second_sync_changes_nothing(tmp_path: Path) -> None:
    with jira_world("cloud", **SMALL) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        sync_source(world.source, store)
        before = snapshot(store)
        again = sync_source(world.source, store)
        assert (again.counts.new, again.counts.updated, again.counts.transitions) == (0, 0, 0)
        assert diff(before, snapshot(store)) == ""


def mutate_world(world: JiraWorld, rng: random.Random, count: int) -> set[str]:
    """Make `count` changes to distinct issues; return the ids that changed."""
    emu = world.emu
    candidates = sorted(i for i in emu.truth.visible_ids if emu.truth.issues[i].type != "Epic")
    changed: set[str] = set()
    for item_id in rng.sample(candidates, count):
        emu.clock.advance(timedelta(minutes=3))
        issue = emu.truth.issues[item_id]
        kind = rng.choice(["transition", "estimate", "summary"])
        if kind == "transition":
            target = "In Progress" if issue.status != "In Progress" else "Done"
            emu.mutate.transition(item_id, target)
        elif kind == "estimate":
            points = [p for p in (1.0, 2.0, 3.0, 5.0, 8.0, 13.0) if p != issue.estimate]
            emu.mutate.edit(item_id, story_points=rng.choice(points))  # a real change
        else:
            emu.mutate.edit(item_id, summary=f'=HYPERLINK("http://x") edited {item_id}')
        changed.add(item_id)
    return changed


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_sync_after_mutations_picks_up_exactly_those(flavour: str, tmp_path: Path) -> None:
    with jira_world(flavour, **SMALL) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        sync_source(world.source, store)
        world.emu.clock.advance(timedelta(hours=1))
        changed = mutate_world(world, random.Random(1), 12)
        created = world.emu.mutate.create(world.source.projects[0], summary="brand new")
        result = sync_source(world.source, store)
        assert result.ok, result.line()
        assert result.counts.updated == len(changed)
        assert result.counts.new == 1
        assert str(created.id) in stored_items(store)
        assert_store_matches_truth(store, world.emu)


def test_a_cursor_far_in_the_future_reads_nothing(tmp_path: Path) -> None:
    with jira_world("cloud", **SMALL) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        sync_source(world.source, store, full=True)
        before = snapshot(store)
        future = datetime(2100, 1, 1, tzinfo=UTC).isoformat()
        with store.transaction() as conn:
            for key in world.source.projects:
                save_cursor(conn, 1, f"issues:{key}", {"since": future, "pass": None})
        mutate_world(world, random.Random(2), 5)
        result = sync_source(world.source, store)
        assert (result.counts.new, result.counts.updated) == (0, 0)
        assert diff(before, snapshot(store)) == ""


def test_interrupted_syncs_resume_to_the_same_store(tmp_path: Path) -> None:
    """Cut the connection after k requests for several random k; each re-run must converge."""
    with jira_world("cloud", **SMALL) as world:
        reference = open_store(f"sqlite:///{tmp_path / 'ref.db'}")
        first = sync_source(world.source, reference)
        expected = snapshot(reference)
        impatient = world.with_source(max_retry_time="1s")
        for attempt, k in enumerate(
            sorted(random.Random(3).sample(range(2, first.counts.requests), 5))
        ):
            store = open_store(f"sqlite:///{tmp_path / f'cut{attempt}.db'}")
            world.server.faults.inject(Fault("drop", count=10**9, after=k))
            cut = sync_source(impatient, store)
            world.server.faults.clear()
            assert not cut.ok
            assert cut.counts.requests > k, "an interrupted run still reports what it did"
            resumed = sync_source(world.source, store)
            assert resumed.ok, resumed.line()
            assert diff(expected, snapshot(store)) == "", f"cut after {k} requests"


def test_rate_limits_and_5xx_bursts_slow_the_sync_but_lose_nothing(tmp_path: Path) -> None:
    with jira_world("cloud", **SMALL) as world:
        reference = open_store(f"sqlite:///{tmp_path / 'ref.db'}")
        sync_source(world.source, reference)
        faults = world.server.faults
        faults.inject(Fault("rate_limit", count=3, retry_after=1, after=5))
        faults.inject(Fault("rate_limit", count=2, retry_after=1, http_date=True, after=12))
        faults.inject(Fault("server_error", status=503, count=4, retry_after=None, after=8))
        faults.inject(Fault("server_error", status=500, count=3, retry_after=None, after=20))
        faults.inject(Fault("drop", count=2, after=15))
        store = open_store(f"sqlite:///{tmp_path / 'faulty.db'}")
        result = sync_source(world.source, store)
        assert result.ok, result.line()
        assert result.counts.retries >= 14
        assert diff(snapshot(reference), snapshot(store)) == ""


def test_bad_credentials_stop_the_source_with_one_line(tmp_path: Path) -> None:
    with jira_world("cloud", **SMALL) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        from pydantic import SecretStr

        result = sync_source(world.with_source(token=SecretStr("wrong")), store)
        assert result.status == "failed"
        assert result.line() == (
            f"jira-cloud: failed: authentication failed at {world.server.url} (HTTP 401); "
            "check user and token"
        )
        assert stored_items(store) == {}
        assert world.server.requests.total <= 2


def test_sigkill_mid_sync_then_rerun_ends_with_the_same_store(tmp_path: Path) -> None:
    """The process dies hard after a committed page; the re-run must converge exactly."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from pulse.store.writes import load_cursor

    with jira_world("cloud", **SMALL) as world:
        reference = open_store(f"sqlite:///{tmp_path / 'ref.db'}")
        assert sync_source(world.source, reference).ok
        user, token = world.emu.credentials
        db = tmp_path / "killed.db"
        config = tmp_path / "pulse.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{db}"\n\n[[sources]]\nname = "{world.source.name}"\n'
            f'kind = "jira"\nurl = "{world.server.url}"\nuser = "{user}"\n'
            f'token = "${{KILL_TOKEN}}"\n'
            f"projects = {json.dumps(world.source.projects)}\n",
            encoding="utf-8",
        )
        world.server.faults.inject(
            Fault("latency", seconds=0.25, count=10**6, path="/rest/api/3/search")
        )
        child = subprocess.Popen(
            [sys.executable, "-m", "pulse.cli", "sync", "--config", str(config), "--no-progress"],
            env={**os.environ, "KILL_TOKEN": token},
        )
        store = open_store(f"sqlite:///{db}")
        deadline = time.monotonic() + 60
        killed_mid_pass = False
        while time.monotonic() < deadline and child.poll() is None:
            with store.engine.connect() as conn:
                states = [load_cursor(conn, 1, f"issues:{k}") for k in world.source.projects]
            if any(state.get("pass") for state in states):
                os.kill(child.pid, signal.SIGKILL)
                killed_mid_pass = True
                break
            time.sleep(0.05)
        child.wait(timeout=30)
        assert killed_mid_pass, "the sync finished before it could be killed mid-pass"
        assert child.returncode == -signal.SIGKILL
        world.server.faults.clear()
        resumed = sync_source(world.source, store)
        assert resumed.ok, resumed.line()
        assert diff(snapshot(reference), snapshot(store)) == ""


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_census_tells_deleted_moved_and_access_lost_apart(flavour: str, tmp_path: Path) -> None:
    with jira_world(flavour, seed=8, issues=300, projects=4) as world:
        emu = world.emu
        keys = sorted(p.key for p in emu.world.projects.values())
        scoped, outside = keys[:3], keys[3]
        source = world.with_source(projects=scoped)
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(source, store).ok

        def pick(project: str) -> str:
            return sorted(plain_issues(world, project))[0]

        emu.clock.advance(timedelta(hours=2))
        deleted = pick(scoped[0])
        emu.mutate.delete(deleted)
        secured = pick(scoped[0])
        emu.mutate.restrict(secured)
        moved_inside = pick(scoped[1])
        emu.mutate.move(moved_inside, scoped[0])
        moved_out = sorted(i for i in emu.truth.issues if emu.truth.issues[i].project == scoped[1])[
            -1
        ]
        emu.mutate.move(moved_out, outside)
        emu.mutate.restrict_project(scoped[2])
        hidden = {i for i in emu.truth.restricted} - {secured}

        result = sync_source(source, store, full=True)
        assert result.ok, result.line()
        items = stored_items(store)
        assert items[deleted].deleted_at is not None
        assert items[deleted].access_lost_at is None
        assert items[moved_inside].key == emu.truth.issues[moved_inside].key
        assert items[moved_inside].previous_key is not None
        assert items[moved_inside].deleted_at is None
        assert items[moved_out].out_of_scope_at is not None
        assert items[moved_out].deleted_at is None
        assert hidden and all(items[i].access_lost_at is not None for i in hidden)
        assert all(items[i].deleted_at is None for i in hidden)
        assert result.counts.access_lost == len(hidden)
        # Jira answers 404 alike for a deleted issue and one hidden by issue security.
        assert items[secured].deleted_at is not None
        assert (result.counts.gone, result.counts.deleted) == (2, 0)
        assert "2 gone (deleted or hidden)" in result.counts.summary()
        assert result.counts.moved == 2

        emu.mutate.restrict_project(scoped[2], restricted=False)
        emu.clock.advance(timedelta(hours=2))
        regained = sync_source(source, store)
        assert regained.ok, regained.line()
        items = stored_items(store)
        assert all(items[i].access_lost_at is None for i in hidden)
