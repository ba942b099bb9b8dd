"""The emulated Trello REST API over real HTTP: listings, filters, action paging, deletions,
archives, board moves, and mutations (from Python and through the API)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.emulators.http import EmulatorServer
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.emulators.trello.ids import id_seconds, iso_ms
from pulse.emulators.trello.testing import TrelloHttp

pytestmark = pytest.mark.xdist_group("trello_api")

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
NOT_FOUND = "The requested resource was not found."


@pytest.fixture(scope="module")
def emu() -> TrelloEmulator:
    """Read-only organisation shared by the listing tests (never mutated)."""
    return TrelloEmulator(TrelloSpec(seed=5, cards=1000, now=NOW, rate_limits=False))


@pytest.fixture(scope="module")
def server(emu: TrelloEmulator) -> Iterator[EmulatorServer]:
    with emu.serve() as running:
        yield running


@pytest.fixture(scope="module")
def api(emu: TrelloEmulator, server: EmulatorServer) -> Iterator[TrelloHttp]:
    client = TrelloHttp(server.url, emu.key, emu.token)
    yield client
    client.close()


@pytest.fixture
def live() -> Iterator[tuple[TrelloEmulator, TrelloHttp]]:
    """A small emulator of its own for tests that change things."""
    emulator = TrelloEmulator(TrelloSpec(seed=9, cards=150, now=NOW, rate_limits=False))
    with emulator.serve() as running:
        client = TrelloHttp(running.url, emulator.key, emulator.token)
        yield emulator, client
        client.close()


def _delivery(emu: TrelloEmulator) -> str:
    return emu.board_id("Design Delivery")


def _all_actions(api: TrelloHttp, board_id: str, **params: Any) -> list[dict[str, Any]]:
    """Page backwards with before=<oldest id> at the 1000 cap until a short page."""
    out: list[dict[str, Any]] = []
    before = None
    while True:
        query = {"limit": 1000, **params}
        if before:
            query["before"] = before
        page = api.json(f"/boards/{board_id}/actions", **query)
        out.extend(page)
        if len(page) < 1000:
            return out
        before = page[-1]["id"]


# -- members and boards ---------------------------------------------------------------------


def test_members_me_and_board_listing_filters(emu: TrelloEmulator, api: TrelloHttp) -> None:
    me = api.json("/members/me")
    assert me["id"] == emu.me_id and me["username"] == "alexmorgan"
    everything = api.json("/members/me/boards", filter="all")
    assert {b["name"] for b in everything} == {b.name for b in emu.truth.boards.values()}
    open_names = {b["name"] for b in api.json("/members/me/boards", filter="open")}
    closed_names = {b["name"] for b in api.json("/members/me/boards", filter="closed")}
    assert closed_names == {"Old Website 2024"}
    assert open_names == {"Design Roadmap", "Design Delivery", "Marketing"}
    assert {b["name"] for b in api.json("/members/me/boards/")} == open_names | closed_names


def test_board_by_id_or_short_link_and_errors(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    board = api.json(f"/boards/{board_id}")
    assert board["name"] == "Design Delivery" and board["closed"] is False
    assert api.json(f"/boards/{board['shortLink']}")["id"] == board_id
    missing = api.get("/boards/" + "0" * 24)
    assert (missing.status_code, missing.text) == (404, NOT_FOUND)
    malformed = api.get("/boards/Design%20Delivery")
    assert (malformed.status_code, malformed.text) == (400, "invalid id")
    assert api.json(f"/boards/{board_id}/dateLastActivity")["_value"] == board["dateLastActivity"]
    unknown = api.get("/nothing/here")
    assert unknown.status_code == 404 and unknown.text == "Cannot GET /1/nothing/here"


def test_lists_by_filter_in_board_order(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    truth = emu.truth.board(board_id)
    every = api.json(f"/boards/{board_id}/lists", filter="all", cards="none")
    assert [lst["name"] for lst in every] == [lst.name for lst in truth.ordered_lists()]
    assert [lst["pos"] for lst in every] == sorted(lst["pos"] for lst in every)
    opened = api.json(f"/boards/{board_id}/lists", filter="open")
    closed = api.json(f"/boards/{board_id}/lists/closed")
    assert len(opened) == 4 and [lst["name"] for lst in closed] == ["Sprint 41 (old)"]
    assert api.json(f"/boards/{board_id}/lists")[0]["closed"] is False  # default: open
    lst = api.json(f"/lists/{closed[0]['id']}")
    assert lst["closed"] is True and lst["idBoard"] == board_id
    nested = api.json(f"/boards/{board_id}/lists", filter="all", cards="all")
    assert sum(len(lst["cards"]) for lst in nested) == len(truth.cards)


# -- cards ----------------------------------------------------------------------------------


def test_card_filters_match_truth(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    truth = emu.truth.board(board_id)
    every = api.json(f"/boards/{board_id}/cards", filter="all", fields="all")
    assert {c["id"] for c in every} == set(truth.cards)
    assert not set(truth.deleted) & {c["id"] for c in every}
    assert not set(truth.moved_out) - set(truth.cards) & {c["id"] for c in every}
    open_ids = {c["id"] for c in api.json(f"/boards/{board_id}/cards/open")}
    closed_ids = {c["id"] for c in api.json(f"/boards/{board_id}/cards/closed")}
    visible_ids = {c["id"] for c in api.json(f"/boards/{board_id}/cards/visible")}
    assert open_ids == {c.id for c in truth.cards.values() if not c.closed}
    assert closed_ids == {c.id for c in truth.cards.values() if c.closed}
    in_archived_list = {c.id for c in truth.cards.values() if c.in_archived_list and not c.closed}
    assert in_archived_list and visible_ids == open_ids - in_archived_list
    assert {c["id"] for c in api.json(f"/boards/{board_id}/cards")} == visible_ids  # default
    assert api.get(f"/boards/{board_id}/cards/bogus").status_code == 400


def test_card_fields_match_truth(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    every = api.json(f"/boards/{board_id}/cards", filter="all", customFieldItems="true")
    fields = {f["id"]: f for f in api.json(f"/boards/{board_id}/customFields")}
    lists = {lst["id"]: lst for lst in api.json(f"/boards/{board_id}/lists", filter="all")}
    for card in every:
        truth = emu.truth.card(card["id"])
        assert card["idList"] == truth.list_id and card["name"] == truth.name
        assert card["closed"] == truth.closed and card["dueComplete"] == truth.due_complete
        assert lists[card["idList"]]["closed"] == truth.in_archived_list
        due = iso_ms(int(truth.due.timestamp() * 1000)) if truth.due else None
        assert card["due"] == due
        assert tuple(label["name"] for label in card["labels"]) == truth.labels
        assert card["idLabels"] == list(truth.label_ids)
        assert card["badges"]["checkItems"] == truth.checklist_total
        assert card["badges"]["checkItemsChecked"] == truth.checklist_checked
        values: dict[str, Any] = {}
        for item in card["customFieldItems"]:
            definition = fields[item["idCustomField"]]
            if definition["type"] == "list":
                option = next(o for o in definition["options"] if o["id"] == item["idValue"])
                values[definition["name"]] = option["value"]["text"]
            elif definition["type"] == "number":
                values[definition["name"]] = float(item["value"]["number"])
            elif definition["type"] == "date":
                values[definition["name"]] = datetime.fromisoformat(item["value"]["date"])
            else:
                values[definition["name"]] = item["value"]["checked"]
        assert values == truth.custom_fields
        assert id_seconds(card["id"]) == int(truth.created_at.timestamp())


def test_card_paging_by_id_newest_first(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    seen: list[str] = []
    before = None
    while True:
        query: dict[str, Any] = {"filter": "all", "limit": 100}
        if before:
            query["before"] = before
        page = [c["id"] for c in api.json(f"/boards/{board_id}/cards", **query)]
        assert page == sorted(page, reverse=True)
        seen.extend(page)
        if len(page) < 100:
            break
        before = page[-1]
    assert len(seen) == len(set(seen)) == len(emu.truth.board(board_id).cards)
    newest = seen[0]
    assert api.json(f"/boards/{board_id}/cards", filter="all", since=seen[2]) == api.json(
        f"/boards/{board_id}/cards", filter="all", since=seen[2], limit=2
    )
    assert [c["id"] for c in api.json(f"/boards/{board_id}/cards/all", since=seen[1])] == [newest]
    assert api.get(f"/boards/{board_id}/cards", limit=1001).status_code == 400


def test_deleted_card_is_gone_everywhere(emu: TrelloEmulator, api: TrelloHttp) -> None:
    truth = emu.truth.board(_delivery(emu))
    deleted = next(iter(truth.deleted.values()))
    for path in (f"/cards/{deleted.id}", f"/cards/{deleted.id}/actions"):
        response = api.get(path)
        assert (response.status_code, response.text) == (404, NOT_FOUND)
    actions = api.json(f"/boards/{truth.id}/actions", filter="deleteCard", limit=1000)
    assert {a["data"]["card"]["id"] for a in actions} == set(truth.deleted)
    by_card = {a["data"]["card"]["id"]: a for a in actions}
    assert by_card[deleted.id]["id"] == deleted.action_id
    assert set(by_card[deleted.id]["data"]["card"]) == {"id", "idShort", "shortLink"}


def test_moved_card_is_found_on_its_new_board(emu: TrelloEmulator, api: TrelloHttp) -> None:
    truth = emu.truth.board(_delivery(emu))
    gone = [m for m in truth.moved_out.values() if m.id not in truth.cards]
    assert gone
    moved = gone[0]
    card = api.json(f"/cards/{moved.id}")
    assert card["idBoard"] == moved.to_board_id
    away = api.json(f"/boards/{truth.id}/actions", filter="moveCardFromBoard", limit=1000)
    assert {a["data"]["card"]["id"] for a in away} == set(truth.moved_out)
    action = next(a for a in away if a["id"] == moved.action_id)
    assert action["data"]["boardTarget"]["id"] == moved.to_board_id
    arrivals = api.json(f"/boards/{moved.to_board_id}/actions", filter="moveCardToBoard")
    assert any(a["data"]["boardSource"]["id"] == truth.id for a in arrivals)
    on_board = api.get(f"/boards/{truth.id}/cards/{moved.id}")
    assert on_board.status_code == 404
    assert api.json(f"/boards/{moved.to_board_id}/cards/{moved.id}")["id"] == moved.id


def test_card_subresources(emu: TrelloEmulator, api: TrelloHttp) -> None:
    truth = next(
        c
        for c in emu.truth.board(_delivery(emu)).cards.values()
        if c.checklist_total and c.linked_jira_keys
    )
    card = api.json(f"/cards/{truth.id}", customFieldItems="true", attachments="true")
    assert len(card["customFieldItems"]) == len(truth.custom_fields)
    checklists = api.json(f"/cards/{truth.id}/checklists")
    items = [item for cl in checklists for item in cl["checkItems"]]
    assert len(items) == truth.checklist_total
    assert sum(item["state"] == "complete" for item in items) == truth.checklist_checked
    attachments = api.json(f"/cards/{truth.id}/attachments", filter="false")
    assert attachments == card["attachments"]
    assert all(any(key in a["url"] for a in attachments) for key in truth.linked_jira_keys)
    assert api.json(f"/cards/{truth.id}/list")["name"] == truth.list_name
    assert api.json(f"/cards/{truth.id}/board")["id"] == truth.board_id
    assert api.json(f"/cards/{card['shortLink']}")["id"] == truth.id
    board_checklists = api.json(f"/boards/{truth.board_id}/checklists")
    assert {cl["id"] for cl in checklists} <= {cl["id"] for cl in board_checklists}
    assert api.json(f"/cards/{truth.id}/pluginData") == []


def test_labels_members_and_custom_fields(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    labels = api.json(f"/boards/{board_id}/labels", limit=1000)
    assert {lab["name"] for lab in labels} == set(emu.truth.board(board_id).labels.values())
    assert len(api.json(f"/boards/{board_id}/labels", limit=3)) == 3
    blocked = next(lab for lab in labels if lab["name"] == "blocked")
    truth_blocked = sum("blocked" in c.labels for c in emu.truth.board(board_id).cards.values())
    assert blocked["uses"] == truth_blocked and blocked["color"] == "red"
    members = api.json(f"/boards/{board_id}/members")
    assert set(members[0]) == {"id", "fullName", "username"}
    full = api.json(f"/boards/{board_id}/members", filter="all", fields="all")
    assert emu.me_id in {m["id"] for m in full} and "avatarUrl" in full[0]
    custom = api.json(f"/boards/{board_id}/customFields")
    team = next(f for f in custom if f["name"] == "Team")
    assert team["type"] == "list" and [o["value"]["text"] for o in team["options"]]


# -- actions --------------------------------------------------------------------------------


def test_actions_are_newest_first_and_default_to_fifty(
    emu: TrelloEmulator, api: TrelloHttp
) -> None:
    board_id = _delivery(emu)
    page = api.json(f"/boards/{board_id}/actions")
    assert len(page) == 50
    assert [a["id"] for a in page] == sorted((a["id"] for a in page), reverse=True)
    newest = emu.world.boards[board_id].actions[-1]
    assert page[0]["id"] == newest.id
    assert page[0]["date"].endswith("Z") and len(page[0]["date"]) == 24
    assert page[0]["memberCreator"]["id"] == page[0]["idMemberCreator"]
    assert api.json(f"/boards/{board_id}/actions", limit=0) == []
    for bad in ({"limit": 1001}, {"limit": -1}, {"limit": "x"}, {"before": "yesterday"}):
        response = api.get(f"/boards/{board_id}/actions", **bad)
        assert response.status_code == 400 and response.text.startswith("invalid value for")


def test_paging_backwards_at_the_cap_loses_and_repeats_nothing(
    emu: TrelloEmulator, api: TrelloHttp
) -> None:
    board_id = _delivery(emu)
    truth = emu.truth.board(board_id)
    assert truth.action_count > 5000
    actions = _all_actions(api, board_id)
    ids = [a["id"] for a in actions]
    assert len(ids) == len(set(ids)) == truth.action_count
    assert ids == sorted(ids, reverse=True)
    assert ids == list(reversed(emu.world.boards[board_id].action_ids))
    by_type: dict[str, int] = defaultdict(int)
    for action in actions:
        by_type[action["type"]] += 1
    assert by_type == truth.action_types


def test_since_is_exclusive_and_returns_the_newest_first(
    emu: TrelloEmulator, api: TrelloHttp
) -> None:
    board_id = _delivery(emu)
    ids = list(reversed(emu.world.boards[board_id].action_ids))  # newest first
    anchor = ids[1500]
    page = [a["id"] for a in api.json(f"/boards/{board_id}/actions", since=anchor, limit=1000)]
    assert page == ids[:1000], "since + limit gives the newest 1000 after the anchor"
    rest = api.json(f"/boards/{board_id}/actions", since=anchor, before=page[-1], limit=1000)
    assert [a["id"] for a in rest] == ids[1000:1500]
    few = api.json(f"/boards/{board_id}/actions", since=ids[3], limit=1000)
    assert [a["id"] for a in few] == ids[:3]


def test_before_and_since_accept_dates(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    board = emu.world.boards[board_id]
    middle = board.actions[len(board.actions) // 2]
    cut = iso_ms(middle.date_ms)
    older = api.json(f"/boards/{board_id}/actions", before=cut, limit=1000)
    assert older and all(a["date"] < cut for a in older)
    expected = [a.id for a in reversed(board.actions) if a.date_ms < middle.date_ms][:1000]
    assert [a["id"] for a in older] == expected
    newer = api.json(f"/boards/{board_id}/actions", since=cut, limit=1000)
    assert newer and all(a["date"] > cut for a in newer)
    day = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = api.json(f"/boards/{board_id}/actions", since=day, limit=1000)
    assert all(a["date"] > day.replace("Z", ".000Z") for a in recent)
    assert len(recent) == sum(1 for a in board.actions if iso_ms(a.date_ms) > day[:-1] + ".000Z")


def test_page_parameter(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    first = api.json(f"/boards/{board_id}/actions", limit=200)
    second = api.json(f"/boards/{board_id}/actions", limit=100, page=1)
    assert [a["id"] for a in second] == [a["id"] for a in first[100:]]


def test_sub_filters_and_list_moves_match_truth(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    truth = emu.truth.board(board_id)
    moves = _all_actions(api, board_id, filter="updateCard:idList")
    assert len(moves) == truth.actions_matching("updateCard:idList") > 1000
    assert all(a["type"] == "updateCard" for a in moves)
    assert all(
        a["data"]["old"]["idList"] == a["data"]["listBefore"]["id"] != a["data"]["listAfter"]["id"]
        for a in moves
    )
    history: dict[str, list[tuple[str, datetime, str, str]]] = defaultdict(list)
    for action in reversed(moves):
        when = datetime.fromisoformat(action["date"])
        before, after = action["data"]["listBefore"]["name"], action["data"]["listAfter"]["name"]
        history[action["data"]["card"]["id"]].append((action["id"], when, before, after))
    stayed = [c for c in truth.cards.values() if not c.board_moves]
    assert stayed
    for card in stayed:
        assert history.get(card.id, []) == [tuple(m) for m in card.history]
    closes = _all_actions(api, board_id, filter="updateCard:closed")
    assert len(closes) == truth.actions_matching("updateCard:closed") > 0
    assert all("closed" in a["data"]["old"] for a in closes)
    assert all(a["data"]["card"]["closed"] != a["data"]["old"]["closed"] for a in closes)
    combined = _all_actions(api, board_id, filter="updateCard:idList,updateCard:closed")
    assert len(combined) == len(moves) + len(closes)
    updates = _all_actions(api, board_id, filter="updateCard")
    assert len(updates) == truth.action_types["updateCard"] > len(combined)
    archived_lists = api.json(f"/boards/{board_id}/actions", filter="updateList:closed")
    assert [a["data"]["list"]["name"] for a in archived_lists] == ["Sprint 41 (old)"]


def test_creation_actions_carry_their_sources(emu: TrelloEmulator, api: TrelloHttp) -> None:
    board_id = _delivery(emu)
    made = _all_actions(api, board_id, filter="createCard,copyCard,convertToCardFromCheckItem")
    kinds = {a["type"] for a in made}
    assert kinds == {"createCard", "copyCard", "convertToCardFromCheckItem"}
    for action in made:
        data = action["data"]
        assert {"card", "list", "board"} <= set(data)
        if action["type"] != "createCard":
            assert data["cardSource"]["id"] != data["card"]["id"]
        if action["type"] == "convertToCardFromCheckItem":
            assert data["checklist"]["id"]


def test_card_actions(emu: TrelloEmulator, api: TrelloHttp) -> None:
    card = max(emu.truth.board(_delivery(emu)).cards.values(), key=lambda c: len(c.history))
    default = api.json(f"/cards/{card.id}/actions")
    assert {a["type"] for a in default} <= {"commentCard", "updateCard"}
    assert all(a["type"] == "commentCard" or "listAfter" in a["data"] for a in default)
    moves = api.json(f"/cards/{card.id}/actions", filter="updateCard:idList", limit=1000)
    assert [a["id"] for a in reversed(moves)] == [m.action_id for m in card.history]
    every = api.json(f"/cards/{card.id}/actions", filter="all", limit=1000)
    assert every[-1]["id"] == card.created_action_id
    assert api.json(f"/actions/{every[0]['id']}")["id"] == every[0]["id"]
    ids = {a["data"]["card"]["id"] for a in every}
    assert ids == {card.id}
    by_model = api.json(f"/boards/{card.board_id}/actions", idModels=card.id, limit=1000)
    assert {a["id"] for a in by_model} <= {a["id"] for a in every}


# -- mutations ------------------------------------------------------------------------------


def test_python_mutations_record_actions_and_truth(live: tuple[TrelloEmulator, TrelloHttp]) -> None:
    emu, api = live
    board = emu.truth.board("Design Delivery")
    doing, review = board.list_by_name("Doing"), board.list_by_name("Review")
    emu.clock.now = NOW + timedelta(hours=1)
    card_id = emu.mutate.create_card(
        doing.id, '=HYPERLINK("x")', labels=["blocked"], custom={"Points": 5}, due=NOW
    )
    created = emu.truth.card(card_id)
    assert created.list_name == "Doing" and created.labels == ("blocked",)
    assert created.custom_fields == {"Points": 5.0} and created.due == NOW
    emu.clock.advance(minutes=5)
    move_id = emu.mutate.move_card(card_id, review.id)
    assert id_seconds(move_id) == int(emu.clock.now.timestamp())
    assert created.history[-1] == (move_id, emu.clock.now, "Doing", "Review")
    emu.clock.advance(minutes=5)
    [rename, due_done] = emu.mutate.update(card_id, name="Renamed ✓", dueComplete=True)
    assert created.name == "Renamed ✓" and created.due_complete and rename < due_done
    emu.clock.advance(minutes=5)
    archive_id = emu.mutate.archive(card_id)
    assert created.closed and created.closed_history[-1] == (archive_id, emu.clock.now, True)
    newest = api.json(f"/boards/{board.id}/actions", limit=4)
    assert [a["id"] for a in newest] == [archive_id, due_done, rename, move_id]
    assert newest[0]["data"]["old"] == {"closed": False}
    card = api.json(f"/cards/{card_id}")
    assert card["closed"] and card["dateLastActivity"] == iso_ms(
        int(emu.clock.now.timestamp() * 1000)
    )
    emu.mutate.unarchive(card_id)
    assert not created.closed
    emu.clock.advance(minutes=5)
    delete_id = emu.mutate.delete(card_id)
    assert card_id in board.deleted and board.deleted[card_id].action_id == delete_id
    assert api.get(f"/cards/{card_id}").status_code == 404
    with pytest.raises(KeyError):
        emu.truth.card(card_id)


def test_python_board_move_and_list_archive(live: tuple[TrelloEmulator, TrelloHttp]) -> None:
    emu, api = live
    source = emu.truth.board("Design Delivery")
    target = emu.truth.board("Marketing")
    card = next(c for c in source.cards.values() if not c.closed and not c.in_archived_list)
    emu.clock.now = NOW + timedelta(days=1)
    out_id, in_id = emu.mutate.move_to_board(card, target.id)
    assert card.id in target.cards and card.id not in source.cards
    assert source.moved_out[card.id].action_id == out_id
    assert card.board_moves[-1].to_board_id == target.id
    assert api.json(f"/cards/{card.id}")["idBoard"] == target.id
    arrived = api.json(f"/boards/{target.id}/actions", limit=1)[0]
    assert arrived["id"] == in_id and arrived["type"] == "moveCardToBoard"
    doing = target.list_by_name("Doing")
    resident = next(c for c in target.cards.values() if c.list_id == doing.id)
    emu.mutate.archive_list(doing.id)
    assert target.lists[doing.id].closed and resident.in_archived_list and not resident.closed
    visible = {c["id"] for c in api.json(f"/boards/{target.id}/cards/visible")}
    assert resident.id not in visible


def test_http_mutations(live: tuple[TrelloEmulator, TrelloHttp]) -> None:
    emu, api = live
    board = emu.truth.board("Design Delivery")
    backlog, done = board.list_by_name("Backlog"), board.list_by_name("Done")
    emu.clock.now = NOW + timedelta(days=2)
    created = api.request("POST", "/cards", json={"idList": backlog.id, "name": "From HTTP"})
    assert created.status_code == 200
    card_id = created.json()["id"]
    assert emu.truth.card(card_id).created_by == "createCard"
    emu.clock.advance(hours=1)
    moved = api.request("PUT", f"/cards/{card_id}", params={"idList": done.id})
    assert moved.json()["idList"] == done.id
    assert emu.truth.card(card_id).history[-1][2:] == ("Backlog", "Done")
    closed = api.request("PUT", f"/cards/{card_id}", json={"closed": True})
    assert closed.json()["closed"] is True and emu.truth.card(card_id).closed
    due = "2026-12-01T00:00:00.000Z"
    api.request("PUT", f"/cards/{card_id}", json={"due": due, "dueComplete": True, "name": "X"})
    truth = emu.truth.card(card_id)
    assert truth.due == datetime(2026, 12, 1, tzinfo=UTC) and truth.due_complete
    assert truth.name == "X"
    field = api.request("PUT", f"/cards/{card_id}/idList", json={"value": backlog.id})
    assert field.status_code == 200 and emu.truth.card(card_id).list_id == backlog.id
    copy = api.request("POST", "/cards", json={"idList": backlog.id, "idCardSource": card_id})
    assert emu.truth.card(copy.json()["id"]).created_by == "copyCard"
    marketing = emu.truth.board("Marketing")
    to_board = api.request("PUT", f"/cards/{card_id}", json={"idBoard": marketing.id})
    assert to_board.json()["idBoard"] == marketing.id
    assert emu.truth.card(card_id).list_name == "Ideas"  # first open list of the target
    gone = api.request("DELETE", f"/cards/{card_id}")
    assert gone.status_code == 200 and card_id in marketing.deleted
    closed_list = api.request("PUT", f"/lists/{done.id}/closed", params={"value": "true"})
    assert closed_list.json()["closed"] is True and board.lists[done.id].closed
    newest = api.json(f"/boards/{board.id}/actions", limit=1)[0]
    assert newest["type"] == "updateList" and newest["data"]["old"] == {"closed": False}
    bad = api.request("POST", "/cards", json={"name": "no list"})
    assert (bad.status_code, bad.text) == (400, "invalid value for idList")
    assert api.request("DELETE", f"/cards/{card_id}").status_code == 404


def test_mutation_ids_keep_sorting_by_time(live: tuple[TrelloEmulator, TrelloHttp]) -> None:
    emu, api = live
    board = emu.truth.board("Design Delivery")
    lists = [lst.id for lst in board.ordered_lists()[:4]]
    card = emu.mutate.create_card(lists[0], "Walker")
    for step in range(1, 12):
        emu.clock.advance(seconds=1 if step % 2 else 0)
        emu.mutate.move_card(card, lists[step % 4])
    ids = emu.world.boards[board.id].action_ids
    assert ids == sorted(ids)
    history = [m.action_id for m in emu.truth.card(card).history]
    assert history == sorted(history) and len(history) == 11
    listed = [a["id"] for a in api.json(f"/cards/{card}/actions", filter="updateCard:idList")]
    assert listed == list(reversed(history))
