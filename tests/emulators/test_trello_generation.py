"""The generated Trello organisation: deterministic, realistic, adversarial, and true to itself."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.emulators.trello.ids import id_seconds
from pulse.emulators.trello.shapes import action_text, card_json, dumps

pytestmark = pytest.mark.xdist_group("trello_generation")

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def emu() -> TrelloEmulator:
    """A modest organisation (1,000 cards) where the delivery board needs action paging."""
    return TrelloEmulator(TrelloSpec(seed=7, cards=1000, now=NOW))


def _fingerprint(emu: TrelloEmulator) -> list[str]:
    world = emu.world
    out = []
    for board in world.boards.values():
        out.append(board.id + board.name)
        out.extend(action_text(action, world) for action in board.actions)
        out.extend(dumps(card_json(world.cards[c], world)) for c in board.card_ids)
    return out


def test_same_seed_gives_the_same_organisation_and_history() -> None:
    first = TrelloEmulator(TrelloSpec(seed=11, cards=300, now=NOW))
    second = TrelloEmulator(TrelloSpec(seed=11, cards=300, now=NOW))
    other = TrelloEmulator(TrelloSpec(seed=12, cards=300, now=NOW))
    assert (first.key, first.token) == (second.key, second.token)
    assert _fingerprint(first) == _fingerprint(second)
    assert _fingerprint(first) != _fingerprint(other)
    assert first.token != other.token


def test_boards_lists_labels_and_custom_fields(emu: TrelloEmulator) -> None:
    boards = {board.name: board for board in emu.truth.boards.values()}
    assert set(boards) == {"Design Roadmap", "Design Delivery", "Marketing", "Old Website 2024"}
    assert boards["Old Website 2024"].closed
    assert boards["Design Roadmap"].role == "roadmap"
    delivery = boards["Design Delivery"]
    names = [lst.name for lst in delivery.ordered_lists()]
    assert names == ["Backlog", "Doing", "Review", "Done", "Sprint 41 (old)"]
    assert [lst.closed for lst in delivery.ordered_lists()] == [False] * 4 + [True]
    labels = set(delivery.labels.values())
    assert {"blocked", "pts:1", "pts:3", "pts:8", ""} <= labels
    assert set(delivery.custom_fields.values()) >= {"Points", "Target date", "Team"}
    world_board = emu.world.boards[delivery.id]
    types = {d.name: d.type for d in world_board.custom_fields}
    assert types["Points"] == "number" and types["Target date"] == "date"
    assert types["Team"] == "list"


def test_history_has_every_kind_of_change(emu: TrelloEmulator) -> None:
    delivery = emu.truth.board("Design Delivery")
    kinds = set(delivery.action_types)
    assert {
        "createCard",
        "updateCard",
        "deleteCard",
        "moveCardFromBoard",
        "moveCardToBoard",
        "copyCard",
        "convertToCardFromCheckItem",
        "commentCard",
        "updateList",
    } <= kinds
    cards = emu.truth.cards()
    order = {name: i for i, name in enumerate(["Backlog", "Doing", "Review", "Done"])}
    backwards = [
        move
        for card in delivery.cards.values()
        for move in card.history
        if move.to_list_name in order
        and move.from_list_name in order
        and order[move.to_list_name] < order[move.from_list_name]
    ]
    assert backwards, "cards also move back (review -> doing)"
    assert any(not c.closed and any(ch.closed for ch in c.closed_history) for c in cards)
    assert any(c.created_by == "copyCard" and c.source_card_id for c in cards)
    assert any(c.created_by == "convertToCardFromCheckItem" for c in cards)
    assert any(c.board_moves for c in cards)
    assert delivery.deleted and delivery.moved_out
    assert any(c.due is not None and c.due_complete for c in cards)


def test_one_board_needs_paging(emu: TrelloEmulator) -> None:
    assert emu.truth.board("Design Delivery").action_count > 5000
    board = emu.world.boards[emu.board_id("Design Delivery")]
    assert len(board.actions) == emu.truth.board("Design Delivery").action_count


def test_history_spans_six_months_before_now(emu: TrelloEmulator) -> None:
    created = [card.created_at for card in emu.truth.board("Design Delivery").cards.values()]
    assert min(created) >= NOW - timedelta(days=183)
    assert max(created) < NOW
    months = {(when.year, when.month) for when in created}
    assert len(months) >= 6
    for board in emu.world.boards.values():
        assert all(action.date_ms < NOW.timestamp() * 1000 for action in board.actions)


def test_action_ids_encode_their_time_and_sort_by_it(emu: TrelloEmulator) -> None:
    for board in emu.world.boards.values():
        ids = [action.id for action in board.actions]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        dates = [action.date_ms for action in board.actions]
        assert dates == sorted(dates)
        for action in board.actions:
            assert id_seconds(action.id) == action.date_ms // 1000
    for card in emu.world.cards.values():
        assert id_seconds(card.id) == card.created_ms // 1000


def test_truth_agrees_with_the_live_state(emu: TrelloEmulator) -> None:
    world = emu.world
    truth_ids = {card.id for card in emu.truth.cards()}
    assert truth_ids == set(world.cards)
    for card in emu.truth.cards():
        live = world.cards[card.id]
        assert (live.board_id, live.list_id, live.name, live.closed) == (
            card.board_id,
            card.list_id,
            card.name,
            card.closed,
        )
        assert card.in_archived_list == world.lists[live.list_id].closed
        assert card.list_name == world.lists[live.list_id].name
        assert card.created_at.timestamp() * 1000 == pytest.approx(live.created_ms)
        if card.history:
            assert card.history[-1].to_list_name == card.list_name or card.board_moves
        assert [m.action_id for m in card.history] == sorted(m.action_id for m in card.history)
    for board in emu.truth.boards.values():
        for card_id, moved in board.moved_out.items():
            if card_id in truth_ids:
                assert emu.truth.card(card_id).board_moves
            assert moved.to_board_id in emu.truth.boards
        for card_id in board.deleted:
            assert card_id not in world.cards and card_id in world.deleted


def test_cards_in_an_archived_list_stay_open(emu: TrelloEmulator) -> None:
    parked = [c for c in emu.truth.cards() if c.in_archived_list]
    assert parked
    assert any(not card.closed for card in parked)


def test_roadmap_checklists_link_delivery_cards(emu: TrelloEmulator) -> None:
    roadmap = emu.truth.board("Design Roadmap")
    delivery_id = emu.board_id("Design Delivery")
    linked = [card for card in roadmap.cards.values() if card.linked_card_ids]
    assert len(linked) >= len(roadmap.cards) // 2
    world = emu.world
    for card in linked:
        for target in card.linked_card_ids:
            live = world.cards.get(target)
            if live is None:  # a dangling link to a card deleted since
                assert target in emu.truth.deleted_card_ids
            elif not emu.truth.card(target).board_moves:
                assert live.board_id == delivery_id
        checklists = world.cards[card.id].checklists
        assert card.checklist_total == sum(len(cl.items) for cl in checklists)
        assert card.checklist_checked == sum(
            1 for cl in checklists for item in cl.items if item.state == "complete"
        )
        deliverables = [item for cl in checklists if cl.name == "Deliverables" for item in cl.items]
        assert all(re.match(r"https://trello\.com/c/[0-9A-Za-z]{8}", i.name) for i in deliverables)
        for item in deliverables:
            target = world.short_links[item.name.split("/c/")[1][:8]]
            live = world.cards.get(target)
            done = live is not None and world.lists[live.list_id].role == "done"
            assert (item.state == "complete") == done


def test_jira_issue_links_come_from_attachments(emu: TrelloEmulator) -> None:
    cards = [card for card in emu.truth.cards() if card.linked_jira_keys]
    assert len(cards) > 100
    for card in cards:
        for key in card.linked_jira_keys:
            assert re.fullmatch(r"(WEB|APP|MKT)-\d+", key)
        urls = [a.url for a in emu.world.cards[card.id].attachments]
        assert all(any(f"/browse/{key}" in url for url in urls) for key in card.linked_jira_keys)
    non_issue = [
        a.url
        for card in emu.world.cards.values()
        for a in card.attachments
        if "atlassian.net/jira/software" in a.url
    ]
    assert non_issue, "some Jira links are not issues and must not count as keys"


def test_names_and_descriptions_include_adversarial_text(emu: TrelloEmulator) -> None:
    names = [card.name for card in emu.world.cards.values()]
    assert any(name.startswith("=") for name in names)
    assert any(name.startswith("+") for name in names)
    assert any(name.startswith("@") for name in names)
    assert any(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", name) for name in names)
    assert any(re.search(r"[\U0001F300-\U0001FAFF]", name) for name in names)
    assert any(re.search(r"[\u0590-\u06ff]", name) for name in names)
    descriptions = [card.desc for card in emu.world.cards.values()]
    assert any("\x01" in desc for desc in descriptions)


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"boards": 1}, ["Design Delivery"]),
        ({"boards": 2, "archived_boards": 0}, ["Design Roadmap", "Design Delivery"]),
        (
            {"boards": 6},
            ["Design Roadmap", "Design Delivery", "Marketing", "Platform", "Mobile App", "Growth"],
        ),
    ],
)
def test_board_count_options(options: dict[str, int], names: list[str]) -> None:
    emu = TrelloEmulator(TrelloSpec(seed=2, cards=200, now=NOW, **options))  # type: ignore[arg-type]
    got = [board.name for board in emu.truth.boards.values()]
    assert got[: len(names)] == names and len(got) == len(names) + options.get("archived_boards", 1)
    made = sum(len(b.cards) + len(b.deleted) for b in emu.truth.boards.values() if not b.closed)
    assert 190 <= made <= 240  # copies and conversions count as cards


def test_empty_and_plain_organisations() -> None:
    empty = TrelloEmulator(TrelloSpec(cards=0, now=NOW))
    assert not empty.truth.cards() and len(empty.truth.boards) == 4
    plain = TrelloEmulator(TrelloSpec(cards=300, adversarial=False, now=NOW))
    assert not any(card.name[:1] in "=+-@" for card in plain.world.cards.values())


@pytest.mark.slow
def test_twenty_thousand_cards_generate_well_under_thirty_seconds() -> None:
    started = time.perf_counter()
    big = TrelloEmulator(TrelloSpec(seed=1, cards=20_000, now=NOW))
    elapsed = time.perf_counter() - started
    cards_made = sum(len(b.cards) + len(b.deleted) for b in big.truth.boards.values())
    assert cards_made >= 19_000
    assert big.truth.total_actions / cards_made >= 8.5
    assert elapsed < 30, f"generation took {elapsed:.1f} s"
