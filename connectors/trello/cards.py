"""Card listings: every card of a board (archived included), stored page by page.

Trello cannot list cards changed since a date, so every sync lists them all (`filter=all`, 1000
per page, newest first by id, the next page `before=<smallest id seen>`). Only new or changed
cards are written; the others just get their `synced_at` bumped, which is what the census
relies on to see which cards were not listed. Each page is one transaction with the cursor that
lets a killed listing resume where it stopped.

A pass is *quick* when the board's fingerprint (name, lists, labels, custom fields, card rules)
is the one the last complete pass saw: then a card whose `dateLastActivity` equals the stored
`updated` is unchanged without being normalized and compared field by field. A pass is
thorough (every card compared) on the first and `--full` syncs, after any structure change,
and when the census is due (`census_every`), as a safety net for changes Trello does not
stamp on the card.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pulse.connectors.base import Cursor, Progress, SyncCounts
from pulse.connectors.http_policy import SyncInterrupted
from pulse.connectors.trello.boards import BoardInfo, ListInfo, status_row
from pulse.connectors.trello.client import TrelloApi, prefetching
from pulse.connectors.trello.normalize import (
    CARD_LINK_TYPES,
    CardRows,
    CardRules,
    card_params,
    normalize_card,
    parse_time,
)
from pulse.store import Store, Transaction
from pulse.store.cursors import load_cursor, save_cursor
from pulse.store.items import (
    add_labels_and_links,
    clear_labels_and_links,
    labels_and_links,
    stored_items,
    touch_items,
    unchanged_items,
    write_items,
)
from pulse.store.timestamps import from_text, to_text

PAGE_LIMIT = 1000
Row = dict[str, Any]


def cards_stream(board_id: str) -> str:
    return f"cards:{board_id}"


@dataclass(frozen=True)
class CardsCursor:
    """Where a board's listing pass stands: when it started, the smallest card id listed so
    far (the next page lists before it), whether it is done, the board's fingerprint, and
    whether the pass is quick (see the module's docstring)."""

    started: datetime
    before: str | None = None
    done: bool = False
    structure: str | None = None
    quick: bool = False

    @classmethod
    def from_json(cls, state: Mapping[str, Any]) -> CardsCursor | None:
        started = from_text(state.get("started"))
        if started is None:
            return None
        return cls(
            started=started,
            before=state.get("before"),
            done=bool(state.get("done")),
            structure=state.get("structure"),
            quick=bool(state.get("quick")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "started": to_text(self.started),
            "before": self.before,
            "done": self.done,
            "structure": self.structure,
            "quick": self.quick,
        }


@dataclass
class CardWriter:
    """Writes normalized cards, touching only what changed, in one transaction per call."""

    store: Store
    source_id: int
    rules: CardRules
    counts: SyncCounts
    now: Callable[[], datetime]

    def write(
        self,
        cards: list[dict[str, Any]],
        board: BoardInfo,
        cursor: tuple[str, Cursor] | None = None,
        statuses: list[Row] | None = None,
        quick: bool = False,
    ) -> None:
        """Store the cards (and new lists, and the cursor) atomically; with `quick`, cards
        whose activity stamp is the stored one are taken as unchanged."""
        synced_at = self.now()
        with self.store.transaction() as conn:
            idle = _idle_cards(conn, self.source_id, cards) if quick else set()
            rows = [
                normalize_card(c, board, self.rules, self.source_id, synced_at)
                for c in cards
                if c["id"] not in idle
            ]
            changed, unchanged, relinked = self._classify(conn, rows)
            unchanged += idle
            write_items(conn, changed, statuses or [])
            touch_items(conn, self.source_id, unchanged, synced_at)
            _replace_card_children(conn, self.source_id, relinked)
            if cursor is not None:
                save_cursor(conn, self.source_id, cursor[0], cursor[1].to_json())
        self.counts.pages += 1

    def _classify(
        self, conn: Transaction, rows: list[CardRows]
    ) -> tuple[list[Row], list[str], list[CardRows]]:
        """Compare cards with the store: (item rows to write, ids unchanged, cards whose
        labels or links changed); count them as new, moved (other board) or updated."""
        changed: list[Row] = []
        unchanged: list[str] = []
        relinked: list[CardRows] = []
        if not rows:
            return changed, unchanged, relinked
        ids = [r.item["item_id"] for r in rows]
        compared = [k for k in rows[0].item if k != "synced_at"]
        board_at = compared.index("board_id")
        stored = stored_items(conn, self.source_id, ids, compared)
        labels, links = labels_and_links(conn, self.source_id, ids, CARD_LINK_TYPES)
        for card in rows:
            item_id = card.item["item_id"]
            before = stored.get(item_id)
            if before is None:
                self.counts.new += 1
                changed.append(card.item)
            elif tuple(before) != tuple(card.item[k] for k in compared):
                if before[board_at] != card.item["board_id"]:
                    self.counts.moved += 1
                else:
                    self.counts.updated += 1
                changed.append(card.item)
            else:
                unchanged.append(item_id)
            if set(card.labels) != labels[item_id] or _link_keys(card) != links[item_id]:
                relinked.append(card)
        return changed, unchanged, relinked


def _idle_cards(conn: Transaction, source_id: int, cards: list[dict[str, Any]]) -> set[str]:
    """Ids of live stored cards whose `dateLastActivity` is the stored `updated`."""
    stamps = {str(card["id"]): parse_time(card.get("dateLastActivity")) for card in cards}
    return unchanged_items(conn, source_id, stamps)


def _link_keys(card: CardRows) -> set[tuple[Any, ...]]:
    return {(r["link_id"], r["link_type"], r["other_key"], r["other_url"]) for r in card.links}


def clear_card_children(conn: Transaction, source_id: int, ids: list[str]) -> None:
    """Delete the labels and card-owned links (Jira, roadmap) of these cards; links recorded
    from actions (copies, conversions) are left alone."""
    clear_labels_and_links(conn, source_id, ids, CARD_LINK_TYPES)


def _replace_card_children(conn: Transaction, source_id: int, cards: list[CardRows]) -> None:
    """Replace the labels and card-owned links of these cards with their current ones."""
    clear_card_children(conn, source_id, [card.item["item_id"] for card in cards])
    label_rows = [
        {"source_id": source_id, "item_id": card.item["item_id"], "label": name}
        for card in cards
        for name in card.labels
    ]
    add_labels_and_links(conn, label_rows, [link for card in cards for link in card.links])


def sync_cards(
    api: TrelloApi,
    writer: CardWriter,
    board: BoardInfo,
    full: bool,
    thorough: bool,
    stop: threading.Event,
    progress: Progress,
) -> datetime:
    """List every card of a board into the store; return when this listing pass started.

    `full` starts a new pass even if one was interrupted; `thorough` compares every card.
    """
    stream = cards_stream(board.id)
    with writer.store.reading() as conn:
        stored = CardsCursor.from_json(load_cursor(conn, writer.source_id, stream))
    structure = board.fingerprint(writer.rules.signature)
    state = stored
    if full or state is None or state.done or (thorough and state.quick):
        state = CardsCursor(
            started=writer.now(),
            structure=structure,
            quick=not thorough and stored is not None and stored.structure == structure,
        )
    params = card_params(checklists=board.roadmap or bool(writer.rules.roadmap_lists))
    path = f"/boards/{board.id}/cards"

    def query(before: str | None) -> dict[str, Any]:
        return {**params, "limit": PAGE_LIMIT, **({"before": before} if before else {})}

    task = f"{board.name}: cards"
    progress.begin(task, None)
    with prefetching(api) as fetch:
        pending = fetch(path, query(state.before))
        while True:
            if stop.is_set():
                raise SyncInterrupted(f"{api.source.name}: stopped after a committed page")
            page = pending.result()
            done = len(page) < PAGE_LIMIT
            before = min((str(card["id"]) for card in page), default=state.before)
            state = replace(state, before=before, done=done)
            if not done:
                pending = fetch(path, query(before))
            statuses = learn_lists(api, board, page, writer.source_id)
            cursor = (stream, state)
            writer.write(page, board, cursor=cursor, statuses=statuses, quick=state.quick)
            progress.advance(task, len(page))
            if done:
                break
    progress.end(task)
    return state.started


def learn_lists(
    api: TrelloApi, board: BoardInfo, cards: list[dict[str, Any]], source_id: int
) -> list[Row]:
    """Read lists created since the board was read (a card in an unknown list) as statuses."""
    unknown = {str(c.get("idList")) for c in cards if c.get("idList")} - set(board.lists)
    rows = []
    for list_id in sorted(unknown):
        raw = api.get(f"/lists/{list_id}", {"fields": "name,closed,pos"})
        name, closed = str(raw.get("name") or ""), bool(raw.get("closed"))
        lst = ListInfo(list_id, name, closed, float(raw.get("pos") or 0))
        board.lists[list_id] = lst
        rows.append(status_row(source_id, board.id, lst))
    return rows
