"""py-trello 0.20.1 against the emulator, through a session that redirects Trello's host, and
the emulator run standalone (`python -m pulse.emulators.trello`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from trello import Board, ResourceUnavailable, TrelloClient, Unauthorized

from pulse.emulators.http import EmulatorServer
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.emulators.trello.testing import HostRedirectSession, pytrello_client

pytestmark = pytest.mark.xdist_group("trello_pytrello")

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


class RedirectingSession(requests.Session):
    """What a connector does: py-trello hard-codes https://api.trello.com, so the session it is
    given rewrites that prefix to wherever Trello really is (here, the emulator)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith("https://api.trello.com"):
            url = self.base_url + url[len("https://api.trello.com") :]
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="module")
def emu() -> TrelloEmulator:
    return TrelloEmulator(TrelloSpec(seed=21, cards=700, now=NOW, rate_limits=False))


@pytest.fixture(scope="module")
def server(emu: TrelloEmulator) -> Iterator[EmulatorServer]:
    with emu.serve() as running:
        yield running


@pytest.fixture(scope="module")
def client(emu: TrelloEmulator, server: EmulatorServer) -> TrelloClient:
    return TrelloClient(
        api_key=emu.key, api_secret=emu.token, http_service=RedirectingSession(server.url)
    )


def _delivery(client: TrelloClient) -> Board:
    return next(b for b in client.list_boards("all") if b.name == "Design Delivery")


def test_boards_lists_and_every_card_parse(emu: TrelloEmulator, client: TrelloClient) -> None:
    boards = client.list_boards(board_filter="all")
    assert {b.name: b.closed for b in boards} == {
        b.name: b.closed for b in emu.truth.boards.values()
    }
    board = _delivery(client)
    truth = emu.truth.board(board.id)
    assert [lst.name for lst in board.all_lists()] == [lst.name for lst in truth.ordered_lists()]
    assert [lst.closed for lst in board.closed_lists()] == [True]
    cards = board.all_cards()
    assert {card.id for card in cards} == set(truth.cards)
    for card in cards:
        expected = truth.cards[card.id]
        assert card.name == expected.name and card.closed == expected.closed
        assert card.idList == expected.list_id
        assert [label.name for label in card.labels] == list(expected.labels)
        values = {field.name: field.value for field in card.customFields}
        assert set(values) == set(expected.custom_fields)
        if "Points" in values:
            assert values["Points"] == expected.custom_fields["Points"]
        if "Team" in values:
            assert values["Team"] == expected.custom_fields["Team"]
        assert card.created_date == expected.created_at.replace(microsecond=0)
    assert {c.id for c in board.closed_cards()} == {c.id for c in truth.cards.values() if c.closed}
    assert len(board.open_cards()) == len(truth.open_cards())


def test_labels_members_checklists_and_custom_fields(
    emu: TrelloEmulator, client: TrelloClient
) -> None:
    board = _delivery(client)
    assert {label.name for label in board.get_labels(limit=1000)} == set(
        emu.truth.board(board.id).labels.values()
    )
    assert emu.me_id in {member.id for member in board.all_members()}
    assert [d.name for d in board.get_custom_field_definitions()][:3] == [
        "Points",
        "Target date",
        "Team",
    ]
    checklists = board.get_checklists()
    assert checklists and all(isinstance(item["checked"], bool) for item in checklists[0].items)


def test_list_cards_paged_by_py_trello(emu: TrelloEmulator, client: TrelloClient) -> None:
    board = _delivery(client)
    truth = emu.truth.board(board.id)
    for lst in board.open_lists():
        expected = {c.id for c in truth.cards.values() if c.list_id == lst.id and not c.closed}
        paged = [card.id for card in lst.list_cards_iter(batch=7)]
        assert len(paged) == len(set(paged)) and set(paged) == expected
        assert {card.id for card in lst.list_cards()} == expected


def test_fetch_card_with_everything(emu: TrelloEmulator, client: TrelloClient) -> None:
    truth = next(
        c
        for c in emu.truth.board("Design Delivery").cards.values()
        if c.checklist_total and c.linked_jira_keys
    )
    card = client.get_card(truth.id)
    card.fetch(eager=True)
    items = [item for checklist in card.checklists for item in checklist.items]
    assert len(items) == truth.checklist_total
    assert sum(item["checked"] for item in items) == truth.checklist_checked
    urls = [attachment.url for attachment in card.get_attachments()]
    assert all(any(key in url for url in urls) for key in truth.linked_jira_keys)
    comments = card.fetch_comments(force=True)
    assert len(comments) == card.badges["comments"]
    assert all(comment["type"] == "commentCard" for comment in comments)


def test_list_movements_after_fetching_all_moves(emu: TrelloEmulator, client: TrelloClient) -> None:
    board = _delivery(client)
    truth = max(
        (c for c in emu.truth.board(board.id).cards.values() if not c.board_moves),
        key=lambda c: len(c.history),
    )
    card = board.get_card(truth.id)
    card.fetch_actions("updateCard:idList", action_limit=1000)
    movements = card.list_movements()
    assert [(m["source"]["name"], m["destination"]["name"], m["datetime"]) for m in movements] == [
        (m.from_list_name, m.to_list_name, m.at) for m in reversed(truth.history)
    ]


def test_board_actions_paged_with_py_trello(emu: TrelloEmulator, client: TrelloClient) -> None:
    board = _delivery(client)
    wanted = "createCard,deleteCard,moveCardFromBoard,updateCard:closed,updateCard:idList"
    seen: list[dict[str, Any]] = []
    before = None
    while True:
        page = board.fetch_actions(wanted, action_limit=1000, before=before)
        seen.extend(page)
        if len(page) < 1000:
            break
        before = page[-1]["id"]
    truth = emu.truth.board(board.id)
    assert len(seen) == len({a["id"] for a in seen}) == truth.actions_matching(wanted) > 1000
    deleted = {a["data"]["card"]["id"] for a in seen if a["type"] == "deleteCard"}
    assert deleted == set(truth.deleted)
    recent = board.fetch_actions(wanted, action_limit=5, since=seen[10]["id"])
    assert [a["id"] for a in recent] == [a["id"] for a in seen[:5]]


def test_deleted_and_moved_cards(emu: TrelloEmulator, client: TrelloClient) -> None:
    truth = emu.truth.board("Design Delivery")
    deleted = next(iter(truth.deleted))
    with pytest.raises(ResourceUnavailable) as caught:
        client.get_card(deleted)
    assert caught.value._status == 404
    assert "The requested resource was not found." in str(caught.value)
    moved = next(m for m in truth.moved_out.values() if m.id not in truth.cards)
    assert client.get_card(moved.id).board.id == moved.to_board_id


def test_py_trello_mutations_reach_truth() -> None:
    emu = TrelloEmulator(TrelloSpec(seed=4, cards=80, now=NOW, rate_limits=False))
    with emu.serve() as server:
        client = pytrello_client(server.url, emu.key, emu.token)
        board = client.get_board(emu.board_id("Design Delivery"))
        backlog, doing = board.open_lists()[:2]
        emu.clock.now = NOW + timedelta(hours=2)
        card = backlog.add_card("Made by py-trello", desc="hello")
        assert emu.truth.card(card.id).list_name == "Backlog"
        emu.clock.advance(minutes=1)
        card.change_list(doing.id)
        assert emu.truth.card(card.id).history[-1][2:] == ("Backlog", "Doing")
        card.set_closed(True)
        assert emu.truth.card(card.id).closed
        card.set_name("Renamed")
        card.set_due(NOW + timedelta(days=3))
        card.set_due_complete()
        truth = emu.truth.card(card.id)
        assert truth.name == "Renamed" and truth.due_complete
        assert truth.due == NOW + timedelta(days=3)
        marketing = client.get_board(emu.board_id("Marketing"))
        target = marketing.open_lists()[1]
        card.change_board(marketing.id, target.id)
        assert emu.truth.card(card.id).board_id == marketing.id
        card.delete()
        assert card.id in emu.truth.board("Marketing").deleted
        doing.close()
        assert emu.truth.board("Design Delivery").lists[doing.id].closed


def test_oauth_signed_requests_are_accepted() -> None:
    emu = TrelloEmulator(TrelloSpec(seed=4, cards=20, now=NOW))
    with emu.serve() as server:
        client = TrelloClient(
            api_key=emu.key,
            api_secret="app-secret",
            token=emu.token,
            token_secret="token-secret",
            http_service=HostRedirectSession(server.url),
        )
        assert {b.name for b in client.list_boards()} >= {"Design Delivery"}
        wrong = TrelloClient(
            api_key=emu.key, token="ATTAwrong", http_service=HostRedirectSession(server.url)
        )
        with pytest.raises(Unauthorized):
            wrong.list_boards()


def test_py_trello_sees_429_as_resource_unavailable() -> None:
    emu = TrelloEmulator(TrelloSpec(seed=4, cards=20, now=NOW, token_limit=2, rate_window_s=5))
    with emu.serve() as server:
        client = pytrello_client(server.url, emu.key, emu.token)
        client.list_boards()
        client.list_boards()
        with pytest.raises(ResourceUnavailable) as caught:
            client.list_boards()
    assert caught.value._status == 429
    assert "API_TOKEN_LIMIT_EXCEEDED" in str(caught.value)
    assert emu.rate_limit_hits == 1


def test_standalone_process_prints_coordinates_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse.emulators.trello",
            "--port",
            "0",
            "--seed",
            "3",
            "--cards",
            "50",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        assert set(line) >= {"url", "key", "token"}
        me = requests.get(
            f"{line['url']}/1/members/me",
            params={"key": line["key"], "token": line["token"]},
            timeout=10,
        )
        assert me.status_code == 200 and me.json()["username"] == "alexmorgan"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
