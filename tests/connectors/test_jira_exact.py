"""Not one update lost: issues leaving or entering the result while a pass pages through it,
rows the passes missed, and scopes defined by JQL alone — each healed exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pulse.connectors.runner import sync_source
from pulse.store import open_store
from pulse.store.writes import save_cursor
from tests.connectors.jira_world import jira_world, plain_issues
from tests.connectors.test_jira_sync import SMALL, assert_store_matches_truth, stored_items


@pytest.mark.parametrize("change", ["delete", "move_out", "delete_and_move_in"])
@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_issues_leaving_or_entering_mid_pass_shift_nothing(
    flavour: str, incremental: bool, change: str, tmp_path: Path
) -> None:
    """After the first page, one of its issues leaves the result (and maybe another enters):
    no later issue may be skipped, and the store ends equal to the truth."""
    with jira_world(flavour, **SMALL) as world:
        emu = world.emu
        keys = sorted(p.key for p in emu.world.projects.values())
        scoped, outside = keys[:2], keys[2]
        source = world.with_source(projects=scoped, page_size=5)
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        edited: list[str] = []
        if incremental:
            assert sync_source(source, store).ok
            emu.clock.advance(timedelta(hours=1))
            edited = plain_issues(world, scoped[0])[:12]
            for item_id in edited:
                emu.clock.advance(timedelta(minutes=1))
                emu.mutate.edit(item_id, summary=f"edited {item_id}")
        newcomer = plain_issues(world, outside)[-1]  # enters late: it cannot fill the gap
        plain = set(plain_issues(world, scoped[0]))

        def leave_after_first_page(page: list[str]) -> None:
            emu.clock.advance(timedelta(minutes=1))
            victim = next(i for i in page if i in plain)
            if change == "move_out":
                emu.mutate.move(victim, outside)
            else:
                emu.mutate.delete(victim)
            if change == "delete_and_move_in":
                emu.mutate.move(newcomer, scoped[0])

        world.hook.actions[world.hook.searches + 1] = leave_after_first_page
        result = sync_source(source, store)
        assert result.ok, result.line()
        assert world.hook.searches > 1 and not world.hook.actions, "the change came mid-pass"
        items = stored_items(store)
        for item_id in edited:
            truth = emu.truth.issues.get(item_id)
            if truth is not None and truth.project in scoped:
                assert items[item_id].title == truth.summary, item_id
        if not incremental:
            assert_store_matches_truth(store, emu, set(scoped))
        # What left is only found by the census; the next one heals everything.
        emu.clock.advance(timedelta(hours=25))
        assert sync_source(source, store).ok
        assert_store_matches_truth(store, emu, set(scoped))


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_the_census_refetches_rows_older_than_the_source(flavour: str, tmp_path: Path) -> None:
    """An edit every pass missed (here: cursors pushed past it) is repaired by the census."""
    with jira_world(flavour, **SMALL) as world:
        emu, source = world.emu, world.source
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(source, store).ok
        emu.clock.advance(timedelta(hours=1))
        missed = plain_issues(world, source.projects[0])[3]
        emu.mutate.edit(missed, summary="an edit no pass saw")
        future = datetime(2100, 1, 1, tzinfo=UTC).isoformat()
        with store.transaction() as conn:
            for key in source.projects:
                save_cursor(conn, 1, f"issues:{key}", {"since": future, "pass": None})
        emu.clock.advance(timedelta(hours=25))
        result = sync_source(source, store)
        assert result.ok and result.counts.census, result.line()
        assert result.counts.updated == 1
        assert stored_items(store)[missed].title == "an edit no pass saw"


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_an_issue_leaving_a_jql_only_scope_is_out_of_scope(flavour: str, tmp_path: Path) -> None:
    with jira_world(flavour, **SMALL) as world:
        emu = world.emu
        keys = sorted(p.key for p in emu.world.projects.values())
        source = world.with_source(projects=[], jql=f"project in ({keys[0]}, {keys[1]})")
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(source, store).ok
        emu.clock.advance(timedelta(hours=1))
        leaver = plain_issues(world, keys[1])[0]
        emu.mutate.move(leaver, keys[2])
        emu.clock.advance(timedelta(hours=25))
        result = sync_source(source, store)
        assert result.ok, result.line()
        row = stored_items(store)[leaver]
        assert row.out_of_scope_at is not None
        assert row.deleted_at is None
        assert_store_matches_truth(store, emu, set(keys[:2]))


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_earlier_keys_come_from_the_changelog(flavour: str, tmp_path: Path) -> None:
    """An issue moved before Pulse ever saw it still answers to its old key."""
    with jira_world(flavour, **SMALL) as world:
        emu = world.emu
        keys = sorted(p.key for p in emu.world.projects.values())
        moved = plain_issues(world, keys[0])[0]
        old_key = emu.truth.issues[moved].key
        emu.mutate.move(moved, keys[1])
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(world.source, store).ok
        row = stored_items(store)[moved]
        assert (row.key, row.previous_key) == (emu.truth.issues[moved].key, old_key)


def test_boards_with_more_than_a_page_of_sprints_are_read_whole(tmp_path: Path) -> None:
    """The agile API pages at 50: a board of two-day sprints over six months has ~90."""
    with jira_world("cloud", seed=3, issues=200, projects=1, sprint_days=2) as world:
        per_board: dict[int, int] = {}
        for sprint in world.emu.world.sprints.values():
            per_board[sprint.board_id] = per_board.get(sprint.board_id, 0) + 1
        assert max(per_board.values()) > 50
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        result = sync_source(world.source, store)
        assert result.ok, result.line()
        assert result.counts.sprints == len(world.emu.truth.sprints)
        assert_store_matches_truth(store, world.emu)


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_an_edit_indexed_late_is_read_through_the_overlap_window(
    flavour: str, tmp_path: Path
) -> None:
    """Jira's search index is eventually consistent: an edit stamped before our last pass
    began may only become searchable after it. The next window reaches back `overlap`."""
    with jira_world(flavour, **SMALL) as world:
        emu, source = world.emu, world.source
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        emu.clock.advance(timedelta(hours=1))
        assert sync_source(source, store).ok
        late = plain_issues(world, source.projects[0])[2]
        emu.clock.set(emu.clock.now() - timedelta(minutes=5))  # stamped before the pass
        emu.mutate.edit(late, summary="indexed after the pass read past it")
        emu.clock.advance(timedelta(minutes=20))
        result = sync_source(source, store)
        assert result.ok and not result.counts.census, result.line()
        assert stored_items(store)[late].title == "indexed after the pass read past it"


def test_issue_counts_are_asked_only_for_a_progress_bar(tmp_path: Path) -> None:
    """approximate-count costs the server a query: only worth it when someone watches."""
    count_path = "/rest/api/3/search/approximate-count"

    class Bars:
        def __init__(self) -> None:
            self.totals: dict[str, int | None] = {}

        def begin(self, task: str, total: int | None) -> None:
            self.totals.setdefault(task, total)

        def advance(self, task: str, amount: int) -> None:
            pass

        def end(self, task: str) -> None:
            pass

    with jira_world("cloud", **SMALL) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(world.source, store).ok
        assert world.server.requests.by_path.get(count_path) is None
        bars = Bars()
        assert sync_source(world.source, store, full=True, progress=bars).ok
        assert world.server.requests.by_path[count_path] == len(world.source.projects)
        project = world.source.projects[0]
        assert bars.totals[project] == sum(
            1 for i in world.emu.truth.visible_ids if world.emu.truth.issues[i].project == project
        )
