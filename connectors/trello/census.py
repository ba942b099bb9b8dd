"""The census: which stored cards did this sync's listings not return, and why.

Every sync lists all cards of every board (`cards`), bumping `synced_at` on each card it sees,
so a live card of a configured board whose `synced_at` is older than its board's listing pass
was not listed; a live card of a board no longer configured is out of scope at once. Deleted
cards have usually been marked already from `deleteCard` actions; the rest are confirmed one by
one with `GET /cards/{id}`: 404 → deleted; found on another configured board → re-read there (a
move between boards, which the card writer counts); found on a board outside the source →
marked out of scope; 401/403 → access lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trello import ResourceUnavailable

from pulse.connectors.census import CensusFindings
from pulse.connectors.trello.boards import BoardInfo
from pulse.connectors.trello.cards import CardWriter, clear_card_children, learn_lists
from pulse.connectors.trello.client import TrelloApi, http_status
from pulse.connectors.trello.normalize import card_params
from pulse.store.items import live_items


def run_census(
    api: TrelloApi,
    writer: CardWriter,
    boards: Mapping[str, BoardInfo],
    listed_since: Mapping[str, datetime],
) -> CensusFindings:
    """Classify the stored live cards that this sync's listings did not return (a card found
    on another configured board is read again there: the card writer counts the move)."""
    result = CensusFindings()
    with writer.store.reading() as conn:
        columns = ("item_id", "board_id", "synced_at")
        rows = live_items(conn, writer.source_id, columns, in_view=True)
    # Cards of boards no longer configured are out of scope without asking.
    result.out_of_scope = [r.item_id for r in rows if r.board_id not in listed_since]
    missing = [
        r.item_id
        for r in rows
        if r.board_id in listed_since and r.synced_at < listed_since[r.board_id]
    ]
    params = card_params(checklists=True)
    for card_id in missing:
        card = _get_card(api, card_id, params, result)
        if card is None:
            continue
        board = boards.get(str(card.get("idBoard")))
        if board is None:
            result.out_of_scope.append(card_id)
            continue
        writer.write([card], board, statuses=learn_lists(api, board, [card], writer.source_id))
    now = writer.now()
    with writer.store.transaction() as conn:
        result.mark(conn, writer.source_id, now)
        clear_card_children(conn, writer.source_id, result.deleted)
    return result


def _get_card(
    api: TrelloApi, card_id: str, params: dict[str, str], result: CensusFindings
) -> dict[str, Any] | None:
    try:
        card = api.get(f"/cards/{card_id}", params)
    except ResourceUnavailable as exc:
        status = http_status(exc)
        if status == 404:
            result.deleted.append(card_id)
            return None
        if status in (401, 403):
            result.access_lost.append(card_id)
            return None
        raise
    return card if isinstance(card, dict) else None
