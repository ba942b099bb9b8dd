"""Trello sync against the emulator over loopback HTTP: full and incremental syncs equal the
ground truth (moves back and forth, archives, archived lists, deletions, board moves, copies,
conversions, roadmap roll-up, Jira links, points), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import pulse.connectors.trello.actions as actions_module
from pulse.connectors.base import AuthError, SourceError
from pulse.connectors.runner import sync_source
from pulse.connectors.trello import sync_trello
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.store import Store, open_store, schema
from tests.connectors.test_trello_support import (
    RATE,
    WINDOW,
    assert_matches_truth,
    register,
    run_sync,
    served,
    snapshot,
    source_for,
    stored,
)


def _emulator(**extra: object) -> TrelloEmulator:
    spec = {"seed": 7, "boards": 3, "cards": 300, "rate_window_s": WINDOW, **extra}
    return TrelloEmulator(TrelloSpec(**spec))  # type: ignore[arg-type]


def _mutate(emu: TrelloEmulator) -> dict[str, str]:
    """One of every change the sync must follow; returns the cards involved by role."""
    truth, mutate, clock = emu.truth, emu.mutate, emu.clock
    delivery = truth.board("Design Delivery")
    marketing = truth.board("Marketing")
    lists = {lst.name: lst.id for lst in delivery.ordered_lists()}
    open_cards = sorted(
        (c for c in delivery.cards.values() if not c.closed and not c.in_archived_list),
        key=lambda c: c.id,
    )
    mover, archived, deleted, leaver, renamed = open_cards[:5]
    leaver_list = leaver.list_name
    roles = {
        "mover": mover.id,
        "archived": archived.id,
        "deleted": deleted.id,
        "leaver": leaver.id,
        "renamed": renamed.id,
    }
    first = "Review" if mover.list_name != "Review" else "Doing"
    steps = [
        lambda: mutate.move_card(mover, lists[first]),
        lambda: mutate.move_card(mover, lists["Backlog"]),
        lambda: mutate.move_card(mover, lists["Done"]),
        lambda: mutate.archive(archived),
        lambda: mutate.unarchive(archived),
        lambda: mutate.archive(archived),
        lambda: mutate.delete(deleted),
        lambda: mutate.move_to_board(leaver, marketing.id),
        lambda: mutate.update(renamed, name="Renamed ✨ card", due=clock.now + timedelta(days=9)),
        lambda: mutate.attach(renamed, "https://acme.atlassian.net/browse/WEB-4242"),
    ]
    for step in steps:
        clock.advance(minutes=3)
        step()
    clock.advance(minutes=3)
    fresh = mutate.create_card(lists["Doing"], "Brand new", custom={"Points": 5})
    copy = mutate.create_card(lists["Backlog"], "Copy of it", source=renamed.id)
    doomed = mutate.create_card(lists["Backlog"], "Short-lived")
    clock.advance(minutes=1)
    mutate.delete(doomed)
    clock.advance(minutes=1)
    parked = next(lst for lst in delivery.lists.values() if not lst.closed and lst.name == "Review")
    mutate.archive_list(parked.id)
    roles.update(fresh=fresh, copy=copy, doomed=doomed, leaver_list=leaver_list)
    return roles


def test_full_then_incremental_sync_equals_ground_truth(store: Store, tmp_path: Path) -> None:
    emu = _emulator()
    with served(emu) as url:
        source = source_for(emu, url)
        counts = run_sync(store, source)
        source_id = register(store, source)
        view = assert_matches_truth(emu, store, source_id)
        assert counts.new == len(view.live()) and counts.census
        assert counts.deleted == len(view.items) - len(view.live())  # tombstones
        assert any(row["parent_id"] for row in view.items.values())
        assert any(row["archived"] for row in view.items.values())
        assert counts.transitions > 0 and emu.rate_limit_hits == 0

        roles = _mutate(emu)
        counts = run_sync(store, source)
        view = assert_matches_truth(emu, store, source_id)
        assert (counts.new, counts.deleted, counts.moved) == (2, 2, 1)  # doomed: a tombstone
        # Unchanged boards were listed trusting activity stamps; the board whose list was
        # archived was compared card by card.
        assert _quick_passes(store, source_id) == {
            board.id: board.name != "Design Delivery" for board in emu.truth.boards.values()
        }
        assert not counts.census
        assert view.items[roles["leaver"]]["board_id"] == emu.truth.board("Marketing").id
        # Moving between two synced boards is a status change from the list it left.
        arrival = max(view.transitions[roles["leaver"]], key=lambda t: t[1])
        assert arrival[2] == roles["leaver_list"]
        assert view.items[roles["doomed"]]["deleted_at"] is not None
        assert view.items[roles["archived"]]["archived"] is True
        assert len(view.transitions[roles["mover"]]) >= 3

        # The incrementally maintained store equals a fresh full sync of the same boards.
        fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
        try:
            run_sync(fresh, source)
            assert snapshot(fresh, register(fresh, source)) == snapshot(store, source_id)
        finally:
            fresh.dispose()
        # A second incremental sync with nothing new changes nothing.
        before = snapshot(store, source_id)
        counts = run_sync(store, source)
        assert (counts.new, counts.updated, counts.deleted, counts.transitions) == (0, 0, 0, 0)
        assert snapshot(store, source_id) == before


def _quick_passes(store: Store, source_id: int) -> dict[str, bool]:
    with store.engine.connect() as conn:
        cursors = conn.execute(
            select(schema.sync_cursors.c.stream, schema.sync_cursors.c.value).where(
                schema.sync_cursors.c.source_id == source_id,
                schema.sync_cursors.c.stream.like("cards:%"),
            )
        )
        return {stream[6:]: json.loads(value)["quick"] for stream, value in cursors}


def test_cards_leaving_the_configured_boards_are_out_of_scope(sqlite_url: str) -> None:
    emu = _emulator(seed=11, cards=120)
    store = open_store(sqlite_url)
    boards = ["Design Roadmap", "Design Delivery"]
    with served(emu) as url:
        source = source_for(emu, url, boards=boards)
        run_sync(store, source)
        source_id = register(store, source)
        assert_matches_truth(emu, store, source_id, boards)
        delivery = emu.truth.board("Design Delivery")
        leaver = sorted(delivery.cards)[0]
        emu.clock.advance(minutes=5)
        emu.mutate.move_to_board(leaver, emu.truth.board("Marketing").id)
        counts = run_sync(store, source)
        assert counts.moved == 1
        row = stored(store, source_id).items[leaver]
        assert row["out_of_scope_at"] is not None and row["deleted_at"] is None
        assert_matches_truth(emu, store, source_id, boards)
        # A board dropped from the configuration takes its cards out of scope.
        counts = run_sync(store, source_for(emu, url, boards=boards[1:], roadmap_boards=[]))
        roadmap = emu.truth.board(boards[0])
        assert counts.moved == len(roadmap.cards)
        assert_matches_truth(emu, store, source_id, boards[1:])
    store.dispose()


def test_census_confirms_deletions_the_action_log_missed(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    without = ",".join(t for t in actions_module.ACTION_FILTER.split(",") if t != "deleteCard")
    monkeypatch.setattr(actions_module, "ACTION_FILTER", without)
    emu = _emulator(seed=13, cards=80)
    store = open_store(sqlite_url)
    with served(emu) as url:
        source = source_for(emu, url)
        run_sync(store, source)
        source_id = register(store, source)
        gone = sorted(emu.truth.board("Marketing").cards)[0]
        emu.clock.advance(minutes=5)
        emu.mutate.delete(gone)
        emu.requests.reset()
        counts = run_sync(store, source)
        assert counts.deleted == 1
        assert emu.requests.by_path.get(f"/1/cards/{gone}") == 1  # confirmed by a 404
        assert stored(store, source_id).items[gone]["deleted_at"] is not None
    store.dispose()


def test_points_from_a_label_pattern_and_roadmap_lists(sqlite_url: str) -> None:
    emu = _emulator(seed=5, cards=150)
    store = open_store(sqlite_url)
    with served(emu) as url:
        source = source_for(
            emu,
            url,
            boards=["Design Delivery"],
            roadmap_boards=[],
            roadmap_lists=["Review"],
            fields={"points": r"pts:(\d+)", "blocked_label": "BLOCKED"},
        )
        run_sync(store, source)
        view = stored(store, register(store, source))
    for card in emu.truth.board("Design Delivery").cards.values():
        row = view.items[card.id]
        points = [float(name[4:]) for name in card.labels if name.startswith("pts:")]
        assert row["estimate"] == (max(points) if points else None)
        assert row["type"] == ("Roadmap" if card.list_name == "Review" else "Card")
    assert any(row["type"] == "Roadmap" for row in view.items.values())
    store.dispose()


def test_bad_credentials_are_one_line_and_leave_the_store_unchanged(sqlite_url: str) -> None:
    emu = _emulator(cards=20)
    store = open_store(sqlite_url)
    with served(emu) as url:
        for bad in ({"token": "ATTA" + "0" * 64}, {"key": "0" * 32}):
            source = source_for(emu, url, **bad)
            with pytest.raises(AuthError) as caught:
                sync_trello(source, store, register(store, source), rate=RATE)
            message = str(caught.value)
            assert "\n" not in message and message.startswith("design-trello: ")
            assert emu.token not in message and "0" * 32 not in message
            result = sync_source(source, store)
            assert result.status == "failed" and result.error == message
    with store.engine.connect() as conn:
        for table in (schema.items, schema.boards, schema.statuses, schema.sync_cursors):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    store.dispose()


def test_unknown_board_is_a_config_error(sqlite_url: str) -> None:
    emu = _emulator(cards=20)
    store = open_store(sqlite_url)
    with served(emu) as url:
        for ref in ("Design Roadmapp", "0123456789abcdef01234567"):
            source = source_for(emu, url, boards=["Design Delivery", ref])
            with pytest.raises(SourceError, match=f"board '{ref}' not found"):
                sync_trello(source, store, register(store, source), rate=RATE)
    store.dispose()


def test_request_urls_never_reach_the_logs(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    emu = _emulator(cards=40)
    emu.faults.inject(emu.rate_limit_fault(count=1, path="/1/boards"))
    store = open_store(sqlite_url)
    with caplog.at_level(logging.DEBUG), served(emu) as url:
        run_sync(store, source_for(emu, url))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/1/boards" in text  # the DEBUG lines are there ...
    assert emu.token not in text and emu.key not in text  # ... without the credentials
    store.dispose()


def test_a_card_moved_while_its_board_is_being_read_is_not_lost(sqlite_url: str) -> None:
    """A list move made after the sync read the board's cards and actions is stored by the
    next sync: the actions cursor covers what was read, not the time the pass ended."""
    from pulse.emulators.http import EmulatorServer

    emu = _emulator()
    delivery = emu.truth.board("Design Delivery")
    card = sorted(c.id for c in delivery.cards.values() if not c.closed)[3]
    target = next(
        lst.id
        for lst in delivery.ordered_lists()
        if not lst.closed and lst.name != emu.truth.card(card).list_name
    )
    moved: list[str] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        body = b"".join(emu.app(environ, start_response))  # type: ignore[arg-type]
        if environ["PATH_INFO"] == f"/1/boards/{delivery.id}/actions" and not moved:
            emu.clock.advance(minutes=1)
            moved.append(emu.mutate.move_card(card, target))
        return [body]

    with EmulatorServer(app, faults=emu.faults, requests=emu.requests) as server:
        source = source_for(emu, server.url)
        store = open_store(sqlite_url)
        run_sync(store, source)
        assert moved, "the move came while the board was being read"
        emu.clock.advance(minutes=5)
        run_sync(store, source)
        assert_matches_truth(emu, store, register(store, source))
