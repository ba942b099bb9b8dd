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
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from pulse.connectors.base import Progress, SyncCounts
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
from pulse.store import Store, schema
from pulse.store.writes import insert_rows, load_cursor, save_cursor, upsert

PAGE_LIMIT = 1000
_CHUNK = 500
Row = dict[str, Any]


def cards_stream(board_id: str) -> str:
    return f"cards:{board_id}"


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
        cursor: tuple[str, Mapping[str, Any]] | None = None,
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
            upsert(conn, schema.statuses, statuses or [])
            upsert(conn, schema.items, changed)
            for start in range(0, len(unchanged), _CHUNK):
                conn.execute(
                    update(schema.items)
                    .where(schema.items.c.source_id == self.source_id)
                    .where(schema.items.c.item_id.in_(unchanged[start : start + _CHUNK]))
                    .values(synced_at=synced_at)
                )
            _replace_card_children(conn, self.source_id, relinked)
            if cursor is not None:
                save_cursor(conn, self.source_id, cursor[0], cursor[1])
        self.counts.pages += 1

    def _classify(
        self, conn: Connection, rows: list[CardRows]
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
        stored = _stored_items(conn, self.source_id, ids, compared)
        labels, links = _stored_children(conn, self.source_id, ids)
        for card in rows:
            item_id = card.item["item_id"]
            before = stored.get(item_id)
            if before is None:
                self.counts.new += 1
                changed.append(card.item)
            elif before != tuple(card.item[k] for k in compared):
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


def _idle_cards(conn: Connection, source_id: int, cards: list[dict[str, Any]]) -> set[str]:
    """Ids of live stored cards whose `dateLastActivity` is the stored `updated`."""
    items = schema.items
    stamps = {str(card["id"]): parse_time(card.get("dateLastActivity")) for card in cards}
    ids = list(stamps)
    idle: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        query = select(items.c.item_id, items.c.updated).where(
            items.c.source_id == source_id,
            items.c.item_id.in_(ids[start : start + _CHUNK]),
            items.c.deleted_at.is_(None),
            items.c.out_of_scope_at.is_(None),
            items.c.access_lost_at.is_(None),
        )
        idle.update(
            r.item_id for r in conn.execute(query) if r.updated and r.updated == stamps[r.item_id]
        )
    return idle


def _stored_items(
    conn: Connection, source_id: int, ids: list[str], columns: list[str]
) -> dict[str, tuple[Any, ...]]:
    """The stored values of `columns` (item_id among them) for these items, by item id."""
    items = schema.items
    key = columns.index("item_id")
    out: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(*(items.c[name] for name in columns)).where(
            items.c.source_id == source_id, items.c.item_id.in_(ids[start : start + _CHUNK])
        )
        out.update({row[key]: tuple(row) for row in conn.execute(query)})
    return out


def _stored_children(
    conn: Connection, source_id: int, ids: list[str]
) -> tuple[defaultdict[str, set[str]], defaultdict[str, set[tuple[Any, ...]]]]:
    labels: defaultdict[str, set[str]] = defaultdict(set)
    links: defaultdict[str, set[tuple[Any, ...]]] = defaultdict(set)
    lab, lnk = schema.item_labels, schema.links
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in conn.execute(
            select(lab.c.item_id, lab.c.label)
            .where(lab.c.source_id == source_id)
            .where(lab.c.item_id.in_(chunk))
        ):
            labels[row.item_id].add(row.label)
        for link in conn.execute(
            select(lnk.c.item_id, lnk.c.link_id, lnk.c.link_type, lnk.c.other_key, lnk.c.other_url)
            .where(lnk.c.source_id == source_id)
            .where(lnk.c.item_id.in_(chunk))
            .where(lnk.c.link_type.in_(CARD_LINK_TYPES))
        ):
            links[link.item_id].add((link.link_id, link.link_type, link.other_key, link.other_url))
    return labels, links


def _link_keys(card: CardRows) -> set[tuple[Any, ...]]:
    return {(r["link_id"], r["link_type"], r["other_key"], r["other_url"]) for r in card.links}


def clear_card_children(conn: Connection, source_id: int, ids: list[str]) -> None:
    """Delete the labels and card-owned links (Jira, roadmap) of these cards; links recorded
    from actions (copies, conversions) are left alone."""
    lab, lnk = schema.item_labels, schema.links
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(
            delete(lab).where(lab.c.source_id == source_id).where(lab.c.item_id.in_(chunk))
        )
        conn.execute(
            delete(lnk)
            .where(lnk.c.source_id == source_id)
            .where(lnk.c.item_id.in_(chunk))
            .where(lnk.c.link_type.in_(CARD_LINK_TYPES))
        )


def _replace_card_children(conn: Connection, source_id: int, cards: list[CardRows]) -> None:
    """Replace the labels and card-owned links of these cards with their current ones."""
    clear_card_children(conn, source_id, [card.item["item_id"] for card in cards])
    label_rows = [
        {"source_id": source_id, "item_id": card.item["item_id"], "label": name}
        for card in cards
        for name in card.labels
    ]
    link_rows = [link for card in cards for link in card.links]
    if label_rows:
        insert_rows(conn, schema.item_labels, label_rows)
    if link_rows:
        insert_rows(conn, schema.links, link_rows)


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
    with writer.store.engine.connect() as conn:
        state = load_cursor(conn, writer.source_id, stream)
    structure = board.fingerprint(writer.rules.signature)
    if full or not state or state.get("done") or (thorough and state.get("quick")):
        state = {
            "started": writer.now().astimezone(UTC).isoformat(),
            "before": None,
            "done": False,
            "structure": structure,
            "quick": not thorough and state.get("structure") == structure,
        }
    params = card_params(checklists=board.roadmap or bool(writer.rules.roadmap_lists))
    path = f"/boards/{board.id}/cards"

    def query(before: str | None) -> dict[str, Any]:
        return {**params, "limit": PAGE_LIMIT, **({"before": before} if before else {})}

    task = f"{board.name}: cards"
    progress.begin(task, None)
    with prefetching(api) as fetch:
        pending = fetch(path, query(state["before"]))
        while True:
            if stop.is_set():
                raise SyncInterrupted(f"{api.source.name}: stopped after a committed page")
            page = pending.result()
            done = len(page) < PAGE_LIMIT
            before = min((str(card["id"]) for card in page), default=state["before"])
            state = {**state, "before": before, "done": done}
            if not done:
                pending = fetch(path, query(before))
            statuses = learn_lists(api, board, page, writer.source_id)
            quick = bool(state.get("quick"))
            writer.write(page, board, cursor=(stream, state), statuses=statuses, quick=quick)
            progress.advance(task, len(page))
            if done:
                break
    progress.end(task)
    return datetime.fromisoformat(state["started"])


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
