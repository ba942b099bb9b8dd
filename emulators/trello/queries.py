"""Selecting and paging cards and actions the way Trello does.

Actions come newest first. `before`/`since` take an ObjectId or a date and are exclusive;
`limit` is 0-1000 (default 50) and `page` skips `page * limit` matches. With paging parameters
cards also come newest first by id; without them, in board order (list pos, then card pos).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from .ids import ID_RE, id_floor, parse_date_ms
from .model import Action, Board, Card, World

CARD_FILTERS = ("all", "closed", "complete", "incomplete", "none", "open", "visible")


class BadParam(ValueError):
    """A query parameter Trello would reject (400 `invalid value for <name>`)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"invalid value for {name}")
        self.name = name


@dataclass(frozen=True)
class Bound:
    """A `before`/`since` bound: an object id or a date in epoch ms."""

    object_id: str | None = None
    at_ms: int | None = None

    @classmethod
    def parse(cls, name: str, text: str | None) -> Bound | None:
        """Parse a bound, or None when absent; BadParam when malformed."""
        if text is None or text == "" or text == "null":
            return None
        if ID_RE.match(text.lower()):
            return cls(object_id=text.lower())
        at_ms = parse_date_ms(text)
        if at_ms is None:
            raise BadParam(name)
        return cls(at_ms=at_ms)

    def id_key(self) -> str:
        """An id to bisect with (date bounds use the first id of their second)."""
        if self.object_id is not None:
            return self.object_id
        assert self.at_ms is not None
        return id_floor(self.at_ms)


def parse_limit(text: str | None, default: int, maximum: int, name: str = "limit") -> int:
    """Parse a limit in 0..maximum."""
    if text is None or text == "":
        return default
    try:
        value = int(float(text))
    except ValueError as exc:
        raise BadParam(name) from exc
    if value < 0 or value > maximum:
        raise BadParam(name)
    return value


def parse_filter(text: str | None, default: str) -> frozenset[str] | None:
    """Action filter: comma list of types or `type:field`; None means all."""
    raw = default if text is None or text == "" else text
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or "all" in parts:
        return None
    for part in parts:
        name = part.split(":", 1)
        if not all(piece.isalnum() for piece in name):
            raise BadParam("filter")
    return frozenset(parts)


def select_actions(
    actions: list[Action],
    ids: list[str],
    wanted: frozenset[str] | None,
    before: Bound | None,
    since: Bound | None,
    limit: int,
    page: int = 0,
    id_models: frozenset[str] | None = None,
) -> list[Action]:
    """Newest-first actions matching the filter, strictly between `since` and `before`."""
    if limit == 0:
        return []
    hi = len(ids)
    if before is not None:
        key = before.id_key()
        hi = (
            bisect.bisect_left(ids, key)
            if before.at_ms is None
            else bisect.bisect_right(ids, key[:8] + "f" * 16)
        )
    lo = 0
    if since is not None:
        key = since.id_key()
        lo = bisect.bisect_right(ids, key) if since.at_ms is None else bisect.bisect_left(ids, key)
    skip = page * limit
    out: list[Action] = []
    for index in range(hi - 1, lo - 1, -1):
        action = actions[index]
        if before is not None and before.at_ms is not None and action.date_ms >= before.at_ms:
            continue
        if since is not None and since.at_ms is not None and action.date_ms <= since.at_ms:
            continue
        if wanted is not None and wanted.isdisjoint(action.keys):
            continue
        if id_models is not None and id_models.isdisjoint(action_models(action)):
            continue
        if skip:
            skip -= 1
            continue
        out.append(action)
        if len(out) >= limit:
            break
    return out


def action_models(action: Action) -> set[str]:
    """Ids of the models an action is about (card, board, lists, checklist...)."""
    models = set()
    for value in action.data.values():
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            models.add(value["id"])
    return models


def board_cards(world: World, board: Board, card_filter: str) -> list[Card]:
    """A board's cards for a Trello card filter, in board order (deleted cards never)."""
    if card_filter not in CARD_FILTERS:
        raise BadParam("filter")
    if card_filter == "none":
        return []
    lists = world.lists
    cards = [world.cards[card_id] for card_id in board.card_ids]
    if card_filter == "open":
        cards = [card for card in cards if not card.closed]
    elif card_filter == "closed":
        cards = [card for card in cards if card.closed]
    elif card_filter == "visible":
        cards = [card for card in cards if not card.closed and not lists[card.list_id].closed]
    elif card_filter == "complete":
        cards = [card for card in cards if card.due_complete]
    elif card_filter == "incomplete":
        cards = [card for card in cards if not card.due_complete]
    cards.sort(key=lambda card: (lists[card.list_id].pos, card.pos))
    return cards


def page_cards(
    cards: Iterable[Card], before: Bound | None, since: Bound | None, limit: int | None
) -> list[Card]:
    """Trello's card paging: by id, newest first, strictly between the bounds."""
    chosen = []
    for card in cards:
        if before is not None and not _after(before, card, reverse=True):
            continue
        if since is not None and not _after(since, card):
            continue
        chosen.append(card)
    chosen.sort(key=lambda card: card.id, reverse=True)
    return chosen if limit is None else chosen[:limit]


def _after(bound: Bound, card: Card, reverse: bool = False) -> bool:
    """Whether a card was created strictly after (or, reversed, before) a bound."""
    if bound.at_ms is not None:
        return card.created_ms < bound.at_ms if reverse else card.created_ms > bound.at_ms
    assert bound.object_id is not None
    return card.id < bound.object_id if reverse else card.id > bound.object_id
