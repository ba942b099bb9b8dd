"""Shared helpers for the Trello connector tests (emulator ground truth vs the store), and unit
tests of the pure pieces: card normalization, action mapping, the URL-rewriting session."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy import insert, select

from pulse.connectors.base import SyncCounts
from pulse.connectors.trello import sync_trello
from pulse.connectors.trello.actions import history_rows, trello_time
from pulse.connectors.trello.boards import BoardInfo, FieldDef, ListInfo
from pulse.connectors.trello.client import RateLimit, TrelloSession, redact
from pulse.connectors.trello.normalize import CardRules, normalize_card
from pulse.connectors.trello.roadmap import roll_up
from pulse.emulators.trello import TrelloEmulator
from pulse.settings import TrelloSource
from pulse.store import Store, open_store, schema
from pulse.store.writes import register_source

WINDOW = 0.5  # the emulator's shortened rate window in these tests, matched by the client
RATE = RateLimit(requests=90, window=WINDOW)


SYNCED = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a pinned sync time: no test reads the clock


def left_list(world: Any, move: Any, synced_ids: set[str]) -> str | None:
    """The list a card left when it moved to another board (unknown when that board is not
    synced)."""
    if move.from_board_id not in synced_ids:
        return None
    return str(world.actions[move.from_action_id].data["list"]["name"])


def source_for(
    emu: TrelloEmulator, url: str, boards: list[str] | None = None, **extra: Any
) -> TrelloSource:
    """A Trello source over the emulator: every board (archived one included) by default."""
    names = boards if boards is not None else [b.name for b in emu.truth.boards.values()]
    settings: dict[str, Any] = {
        "name": "design-trello",
        "kind": "trello",
        "key": emu.key,
        "token": emu.token,
        "boards": names,
        "url": url,
        "roadmap_boards": ["Design Roadmap"],
        "fields": {"points": "Points"},
        "max_retry_time": "60s",
        "timeout": "10s",
    }
    settings.update(extra)
    return TrelloSource.model_validate(settings)


def register(store: Store, source: TrelloSource) -> int:
    with store.transaction() as conn:
        return register_source(conn, source.name, "trello", source.url)


def run_sync(store: Store, source: TrelloSource, full: bool = False) -> SyncCounts:
    return sync_trello(source, store, register(store, source), full=full, rate=RATE)


@contextmanager
def served(emu: TrelloEmulator) -> Iterator[str]:
    with emu.serve() as server:
        yield server.url


# -- what the store holds, in comparable form ------------------------------------------------


def snapshot(store: Store, source_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the connector wrote for a source, minus bookkeeping that differs between runs
    (sync times, cursors). Deleted items are reduced to (id, deleted_at); scope and access marks
    to booleans, because the census stamps them with the wall clock."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    tables = [
        schema.items,
        schema.transitions,
        schema.changes,
        schema.links,
        schema.item_labels,
        schema.statuses,
        schema.boards,
        schema.people,
    ]
    with store.engine.connect() as conn:
        for table in tables:
            rows = []
            for row in conn.execute(select(table).where(table.c.source_id == source_id)):
                values = dict(row._mapping)
                values.pop("source_id")
                if table is schema.items:
                    values.pop("synced_at")
                    if values["deleted_at"] is not None:
                        values = {"item_id": values["item_id"], "deleted_at": values["deleted_at"]}
                    else:
                        values["out_of_scope_at"] = values["out_of_scope_at"] is not None
                        values["access_lost_at"] = values["access_lost_at"] is not None
                rows.append(tuple(sorted((k, repr(v)) for k, v in values.items())))
            out[table.name] = sorted(rows)
    return out


def stored(store: Store, source_id: int) -> StoreView:
    """The store's rows for a source, indexed for comparisons with the ground truth."""
    view = StoreView()
    with store.engine.connect() as conn:
        for row in conn.execute(select(schema.items).where(schema.items.c.source_id == source_id)):
            view.items[row.item_id] = dict(row._mapping)
        for row in conn.execute(
            select(schema.transitions).where(schema.transitions.c.source_id == source_id)
        ):
            move = (row.change_id, row.at, row.from_status, row.to_status)
            view.transitions[row.item_id].add(move)
        for row in conn.execute(
            select(schema.changes).where(schema.changes.c.source_id == source_id)
        ):
            view.changes[(row.item_id, row.field)].add((row.change_id, row.to_value))
        for row in conn.execute(select(schema.links).where(schema.links.c.source_id == source_id)):
            view.links[(row.item_id, row.link_type)].add(row.other_key or row.other_item_id)
            view.link_items[(row.item_id, row.link_type)].add(row.other_item_id)
        for row in conn.execute(
            select(schema.item_labels).where(schema.item_labels.c.source_id == source_id)
        ):
            view.labels[row.item_id].add(row.label)
        for row in conn.execute(
            select(schema.statuses).where(schema.statuses.c.source_id == source_id)
        ):
            view.statuses[row.status_id] = (row.name, row.board_id, row.closed, row.position)
    return view


@dataclass
class StoreView:
    items: dict[str, dict[str, Any]]
    transitions: defaultdict[str, set[tuple[Any, ...]]]
    changes: defaultdict[tuple[str, str], set[tuple[Any, ...]]]
    links: defaultdict[tuple[str, str], set[Any]]
    link_items: defaultdict[tuple[str, str], set[Any]]
    labels: defaultdict[str, set[str]]
    statuses: dict[str, tuple[Any, ...]]

    def __init__(self) -> None:
        self.items = {}
        self.transitions = defaultdict(set)
        self.changes = defaultdict(set)
        self.links = defaultdict(set)
        self.link_items = defaultdict(set)
        self.labels = defaultdict(set)
        self.statuses = {}

    def live(self) -> dict[str, dict[str, Any]]:
        return {
            i: row
            for i, row in self.items.items()
            if row["deleted_at"] is None and row["out_of_scope_at"] is None
        }


def assert_matches_truth(
    emu: TrelloEmulator, store: Store, source_id: int, boards: list[str] | None = None
) -> StoreView:
    """Every live card of the synced boards, its state, history, links and parent, deleted
    cards, and every list, equal the emulator's ground truth."""
    truth = emu.truth
    synced = [truth.board(name) for name in boards] if boards else list(truth.boards.values())
    synced_ids = {b.id for b in synced}
    view = stored(store, source_id)
    cards = {card.id: card for board in synced for card in board.cards.values()}
    assert set(view.live()) == set(cards), "live items differ from the cards on the boards"

    roadmap_board = truth.board("Design Roadmap").id
    parents: dict[str, str] = {}
    for rid in sorted(c.id for c in cards.values() if c.board_id == roadmap_board):
        for child in cards[rid].linked_card_ids:
            parents.setdefault(child, rid)

    world = emu.world
    for card in cards.values():
        row = view.items[card.id]
        board = truth.boards[card.board_id]
        expected = {
            "key": world.cards[card.id].short_link,
            "board_id": card.board_id,
            "project_key": board.name,
            "title": card.name,
            "status": card.list_name,
            "status_id": card.list_id,
            "archived": card.closed or card.in_archived_list,
            "due": card.due.date() if card.due else None,
            "due_complete": card.due_complete,
            "checklist_done": card.checklist_checked,
            "checklist_total": card.checklist_total,
            "created": card.created_at.replace(microsecond=0),
            "type": "Roadmap" if card.board_id == roadmap_board else "Card",
            "estimate": card.custom_fields.get("Points"),
            "parent_id": parents.get(card.id) if card.board_id != roadmap_board else None,
        }
        actual = {k: row[k] for k in expected}
        assert actual == expected, f"card {card.id}"
        if expected["type"] == "Roadmap":
            assert row["target_date"] == expected["due"]
        moves = {
            (m.action_id, m.at, m.from_list_name, m.to_list_name)
            for m in card.history
            if world.actions[m.action_id].data["board"]["id"] in synced_ids
        }
        # A move between two synced boards is a status change from the list the card left.
        moves |= {
            (m.to_action_id, m.at, left_list(world, m, synced_ids), m.to_list_name)
            for m in card.board_moves
            if m.to_board_id in synced_ids
        }
        assert view.transitions[card.id] == moves, f"transitions of {card.id}"
        closes = {(c.action_id, "true" if c.closed else "false") for c in card.closed_history}
        assert view.changes[(card.id, "archived")] == closes, f"archive history of {card.id}"
        assert view.links[(card.id, "jira")] == set(card.linked_jira_keys)
        assert view.labels[card.id] == {name for name in card.labels if name.strip()}
        if card.created_by in ("copyCard", "convertToCardFromCheckItem"):
            kind = "copied_from" if card.created_by == "copyCard" else "converted_from"
            assert view.link_items[(card.id, kind)] == {card.source_card_id}

    for board in synced:
        for deleted in board.deleted.values():
            assert view.items[deleted.id]["deleted_at"] == deleted.at.replace(
                microsecond=deleted.at.microsecond // 1000 * 1000
            )
        for lst in board.lists.values():
            assert view.statuses[lst.id] == (lst.name, board.id, lst.closed, lst.pos)

    flagged = {
        (a.card_id, a.id)
        for a in world.actions.values()
        if a.type == "addLabelToCard"
        and a.data["label"]["name"] == "blocked"
        and a.card_id in cards
    }
    stored_flags = {
        (item_id, change[0])
        for (item_id, name), found in view.changes.items()
        if name == "flagged" and item_id in cards
        for change in found
    }
    assert stored_flags == flagged
    return view


# -- unit tests of the pure pieces -----------------------------------------------------------


def _board(roadmap: bool = False) -> BoardInfo:
    board = BoardInfo(id="b" * 24, name="Design Delivery", closed=False, roadmap=roadmap)
    board.lists["l1"] = ListInfo("l1", "Doing", False, 1.0)
    board.lists["l2"] = ListInfo("l2", "Old", True, 2.0)
    board.fields["f1"] = FieldDef("f1", "Points", "number")
    board.fields["f2"] = FieldDef("f2", "Size", "list", {"o1": "5"})
    return board


def _card(**extra: Any) -> dict[str, Any]:
    card = {
        "id": "65f000000000000000000001",
        "name": "Card",
        "idList": "l1",
        "closed": False,
        "shortLink": "AbCd1234",
        "labels": [],
        "idMembers": [],
        "url": "https://trello.com/c/AbCd1234/1-card",
    }
    card.update(extra)
    return card


def test_card_points_from_custom_field_or_label_pattern() -> None:
    now = SYNCED
    field_rules = CardRules.from_source("points", [], "Blocked")
    card = _card(customFieldItems=[{"idCustomField": "f1", "value": {"number": "3.5"}}])
    assert normalize_card(card, _board(), field_rules, 1, now).item["estimate"] == 3.5
    size = CardRules.from_source("Size", [], "Blocked")
    card = _card(customFieldItems=[{"idCustomField": "f2", "idValue": "o1"}])
    assert normalize_card(card, _board(), size, 1, now).item["estimate"] == 5.0
    pattern = CardRules.from_source(r"pts:(\d+)", [], "Blocked")
    card = _card(labels=[{"name": "pts:2"}, {"name": "pts:8"}, {"name": "xpts:99"}])
    assert normalize_card(card, _board(), pattern, 1, now).item["estimate"] == 8.0
    assert normalize_card(_card(), _board(), pattern, 1, now).item["estimate"] is None


def test_card_state_links_and_roadmap_checklist_links() -> None:
    now = SYNCED
    rules = CardRules.from_source(None, ["Doing"], "Blocked")
    card = _card(
        idList="l2",
        due="2026-03-01T23:30:00.000Z",
        labels=[{"name": " bug "}, {"name": ""}, {"name": "bug"}],
        attachments=[
            {"url": "https://acme.atlassian.net/browse/WEB-12?focusedCommentId=1"},
            {"url": "https://jira.acme.com/jira/browse/APP-7/"},
            {"url": "https://acme.atlassian.net/browse/WEB-12"},
            {"url": "https://acme.atlassian.net/jira/software/projects/WEB/boards/1"},
        ],
    )
    rows = normalize_card(card, _board(), rules, 1, now)
    assert rows.item["archived"] is True  # in an archived list
    assert rows.item["type"] == "Card"  # the roadmap list is "Doing", the card is in "Old"
    assert rows.item["due"].isoformat() == "2026-03-01"
    assert rows.item["created"] == datetime(2024, 3, 12, 7, 10, 56, tzinfo=UTC)
    assert rows.labels == ["bug"]
    assert sorted(link["other_key"] for link in rows.links) == ["APP-7", "WEB-12"]
    roadmap = _card(
        due="2026-04-01T10:00:00.000Z",
        checklists=[
            {
                "checkItems": [
                    {"id": "c1", "name": "https://trello.com/c/Zz9Yy8Xx/12-thing"},
                    {"id": "c2", "name": "see https://trello.com/c/Qq1Ww2Ee and more"},
                    {"id": "c3", "name": "just text"},
                ]
            }
        ],
    )
    rows = normalize_card(roadmap, _board(), rules, 1, now)  # in "Doing": a roadmap list
    assert rows.item["type"] == "Roadmap" and str(rows.item["target_date"]) == "2026-04-01"
    assert [link["other_key"] for link in rows.links] == ["Zz9Yy8Xx", "Qq1Ww2Ee"]


def test_action_mapping() -> None:
    board = _board()
    rules = CardRules.from_source(None, [], "Blocked")
    card = {"id": "c" * 24, "shortLink": "AbCd1234", "name": "X"}
    actions = [
        {
            "id": "a1",
            "type": "updateCard",
            "date": "2026-01-02T03:04:05.678Z",
            "data": {
                "card": card,
                "listBefore": {"id": "l1", "name": "Doing"},
                "listAfter": {"id": "l2", "name": "Old"},
                "old": {"idList": "l1"},
            },
        },
        {
            "id": "a2",
            "type": "updateCard",
            "date": "2026-01-02T03:04:06.000Z",
            "data": {"card": {**card, "due": "2026-02-01T00:00:00.000Z"}, "old": {"due": None}},
        },
        {
            "id": "a2b",
            "type": "updateCard",
            "date": "2026-01-02T03:04:06.500Z",
            "data": {
                "card": {**card, "name": "Y", "closed": True},
                "old": {"name": "X", "closed": False},
            },
        },
        {
            "id": "a3",
            "type": "addLabelToCard",
            "date": "2026-01-02T03:04:07.000Z",
            "data": {"card": card, "label": {"name": "blocked"}},
        },
        {
            "id": "a4",
            "type": "addLabelToCard",
            "date": "2026-01-02T03:04:07.000Z",
            "data": {"card": card, "label": {"name": "bug"}},
        },
        {
            "id": "a5",
            "type": "deleteCard",
            "date": "2026-01-03T00:00:00.000Z",
            "data": {"card": {"id": card["id"], "shortLink": "AbCd1234"}, "list": {"id": "l1"}},
        },
    ]
    rows = history_rows(actions, board, {}, rules, 1, SYNCED)
    assert [(t["from_status"], t["to_status"]) for t in rows.transitions] == [("Doing", "Old")]
    assert rows.transitions[0]["at"] == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert [c["seq"] for c in rows.changes if c["change_id"] == "a2b"] == [0, 1]
    assert [(c["field"], c["from_value"], c["to_value"]) for c in rows.changes] == [
        ("due_date", None, "2026-02-01"),
        ("archived", "false", "true"),
        ("title", "X", "Y"),
        ("flagged", "", "blocked"),
    ]
    assert rows.deleted[card["id"]]["deleted_at"] == datetime(2026, 1, 3, tzinfo=UTC)
    when = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    assert trello_time(when) == "2026-01-02T03:04:05.678Z"


def test_session_rewrites_trellos_host_only() -> None:
    sent: list[str] = []

    class Recording(TrelloSession):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            sent.append(str(request.url))
            response = requests.Response()
            response.status_code = 200
            return response

    session = Recording("http://127.0.0.1:9100/")
    session.request("GET", "https://api.trello.com/1/boards/x", params={"key": "k"})
    session.request("GET", "https://example.com/1/y")
    assert sent == ["http://127.0.0.1:9100/1/boards/x?key=k", "https://example.com/1/y"]


def test_credentials_are_redacted_from_library_logs() -> None:
    args = ("http://h", "/1/x?key=K1&token=T2&a=1", 200)
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, "", 0, '%s "GET %s" %s', args, None
    )
    assert redact(record) is True
    assert "K1" not in record.getMessage() and "T2" not in record.getMessage()


def test_roll_up_by_check_item_link_then_label(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    with store.transaction() as conn:
        source_id = register_source(conn, "t", "trello", "https://api.trello.com")
    now = SYNCED

    def item(
        item_id: str, key: str, title: str, kind: str = "Card", **extra: Any
    ) -> dict[str, Any]:
        return {
            "source_id": source_id, "item_id": item_id, "key": key, "title": title, "type": kind,
            "created": now, "synced_at": now, "deleted_at": None, "parent_id": None,
            "parent_key": None, **extra,
        }  # fmt: skip

    rows = [
        item("r1", "RoadMap1", "Checkout revamp", "Roadmap"),
        item("r2", "RoadMap2", "checkout REVAMP ", "Roadmap"),  # same name, younger: loses
        item("r3", "RoadMap3", "Search", "Roadmap"),
        item("r4", "RoadMap4", "Gone", "Roadmap", deleted_at=now),
        item("c1", "Card0001", "by label"),
        item("c2", "Card0002", "by link, labelled too"),
        item("c3", "Card0003", "label of a deleted roadmap card"),
        item("c4", "Card0004", "nothing", parent_id="r3", parent_key="RoadMap3"),
    ]
    link = {"source_id": source_id, "direction": "outward", "link_type": "roadmap"}
    with store.transaction() as conn:
        conn.execute(insert(schema.items), rows)
        conn.execute(
            insert(schema.item_labels),
            [
                {"source_id": source_id, "item_id": "c1", "label": "Checkout Revamp"},
                {"source_id": source_id, "item_id": "c2", "label": "Checkout revamp"},
                {"source_id": source_id, "item_id": "c3", "label": "Gone"},
            ],
        )
        conn.execute(
            insert(schema.links),
            [
                {
                    **link,
                    "item_id": "r3",
                    "link_id": "checkitem:x:Card0002",
                    "other_key": "Card0002",
                },
                {
                    **link,
                    "item_id": "r3",
                    "link_id": "checkitem:y:Nope0000",
                    "other_key": "Nope0000",
                },
            ],
        )
        assert roll_up(conn, source_id) == 3
        assert roll_up(conn, source_id) == 0  # idempotent
    view = stored(store, source_id)
    parents = {i: (r["parent_id"], r["parent_key"]) for i, r in view.items.items()}
    assert parents["c1"] == ("r1", "RoadMap1")
    assert parents["c2"] == ("r3", "RoadMap3")
    assert parents["c3"] == parents["c4"] == (None, None)
    assert view.link_items[("r3", "roadmap")] == {"c2", None}
    store.dispose()
