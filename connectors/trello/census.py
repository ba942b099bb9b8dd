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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, select, update
from trello import ResourceUnavailable

from pulse.connectors.trello.boards import BoardInfo
from pulse.connectors.trello.cards import CardWriter, clear_card_children, learn_lists
from pulse.connectors.trello.client import TrelloApi, http_status
from pulse.connectors.trello.normalize import card_params
from pulse.store import schema

_CHUNK = 500


@dataclass
class CensusResult:
    """What the census found, by card id."""

    deleted: list[str] = field(default_factory=list)
    refetched: list[str] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)
    access_lost: list[str] = field(default_factory=list)


def run_census(
    api: TrelloApi,
    writer: CardWriter,
    boards: Mapping[str, BoardInfo],
    listed_since: Mapping[str, datetime],
) -> CensusResult:
    """Classify the stored live cards that this sync's listings did not return."""
    items = schema.items
    result = CensusResult()
    with writer.store.engine.connect() as conn:
        rows = conn.execute(
            select(items.c.item_id, items.c.board_id, items.c.synced_at)
            .where(items.c.source_id == writer.source_id)
            .where(items.c.deleted_at.is_(None))
            .where(items.c.out_of_scope_at.is_(None))
            .where(items.c.access_lost_at.is_(None))
        ).all()
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
        result.refetched.append(card_id)
    now = writer.now()
    with writer.store.transaction() as conn:
        for ids, column in (
            (result.deleted, items.c.deleted_at),
            (result.out_of_scope, items.c.out_of_scope_at),
            (result.access_lost, items.c.access_lost_at),
        ):
            _mark(conn, writer.source_id, ids, column, now)
        clear_card_children(conn, writer.source_id, result.deleted)
    return result


def _get_card(
    api: TrelloApi, card_id: str, params: dict[str, str], result: CensusResult
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


def _mark(conn: Any, source_id: int, ids: list[str], column: Column[Any], now: datetime) -> None:
    items = schema.items
    for start in range(0, len(ids), _CHUNK):
        conn.execute(
            update(items)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id.in_(ids[start : start + _CHUNK]))
            .where(column.is_(None))
            .values({column.name: now})
        )
