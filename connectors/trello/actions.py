"""Card history from a board's action log, paged and checkpointed.

py-trello's `fetch_actions` never pages (and defaults to 50), so this reads
`/boards/{id}/actions` itself: 1000 per page, newest first, the next page
`before=<oldest action id>` (never by date, which drops actions sharing a second). A pass
starts at `since` = the newest action stored by the last complete pass minus the overlap.
Actions are immutable and every row is keyed by (card, action id, seq), so re-reading the
overlap or a page after a kill only rewrites identical rows. Each page is one transaction with
the cursor: {"since": newest action time of the last complete pass,
"pass": {"since", "before", "top"} while a pass is under way}.

What becomes of each action type:
- updateCard with listBefore/listAfter → a transition between the two lists;
- moveCardToBoard → a transition into its list on the new board, from the list it left on the
  old board (known from that board's moveCardFromBoard, whichever board is read first, in this
  sync or an earlier one; empty when the old board is not synced); moveCardFromBoard → a
  `board` change (old board → new board) and a `left_list` change (the list it left);
- updateCard closed / due / dueComplete / name → changes `archived`, `due_date`,
  `due_complete`, `title`;
- addLabelToCard / removeLabelFromCard of the blocked label → `flagged` changes;
- copyCard / convertToCardFromCheckItem → a `copied_from` / `converted_from` link;
- deleteCard → the item is marked deleted at that instant and its labels and Jira/roadmap
  links are dropped (a tombstone row is written when the card was deleted before Pulse ever
  listed it, so its history stays attached to an item).
The card's creation time is encoded in its id, so createCard itself adds nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from pulse.connectors.base import Progress, SyncCounts
from pulse.connectors.http_policy import SyncInterrupted
from pulse.connectors.trello.boards import BoardInfo
from pulse.connectors.trello.cards import clear_card_children
from pulse.connectors.trello.client import TrelloApi, prefetching
from pulse.connectors.trello.normalize import CardRules, day_of, id_time, parse_time
from pulse.store import Store, schema
from pulse.store.writes import insert_new, insert_rows, load_cursor, save_cursor, upsert

PAGE_LIMIT = 1000
# Trello writes a move's two actions (leaving one board, arriving on the other) together.
MOVE_PAIRING = timedelta(seconds=5)
ACTION_FILTER = ",".join(
    (
        "updateCard:idList",
        "updateCard:closed",
        "updateCard:due",
        "updateCard:dueComplete",
        "updateCard:name",
        "moveCardToBoard",
        "moveCardFromBoard",
        "copyCard",
        "convertToCardFromCheckItem",
        "deleteCard",
        "addLabelToCard",
        "removeLabelFromCard",
    )
)
_CHANGED_FIELDS = (
    ("closed", "archived"),
    ("due", "due_date"),
    ("dueComplete", "due_complete"),
    ("name", "title"),
)
_ORIGIN_LINKS = {"copyCard": "copied_from", "convertToCardFromCheckItem": "converted_from"}
Row = dict[str, Any]


def actions_stream(board_id: str) -> str:
    return f"actions:{board_id}"


def trello_time(when: datetime) -> str:
    """A datetime as Trello writes dates ("2026-11-20T12:00:00.000Z")."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass
class HistoryRows:
    """The rows one page of actions produces."""

    transitions: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    people: dict[str, Row] = field(default_factory=dict)
    deleted: dict[str, Row] = field(default_factory=dict)
    # (card id, instant) of each move to another board -> the list the card left there.
    left_lists: dict[tuple[str, datetime], dict[str, Any]] = field(default_factory=dict)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def history_rows(
    actions: list[dict[str, Any]],
    board: BoardInfo,
    board_names: Mapping[str, str],
    rules: CardRules,
    source_id: int,
    synced_at: datetime,
) -> HistoryRows:
    """Normalize one page of a board's actions (see the module docstring for the mapping)."""
    out = HistoryRows()
    for action in actions:
        data = action.get("data") or {}
        card = data.get("card") or {}
        at = parse_time(action.get("date"))
        if not card.get("id") or at is None:
            continue
        creator = action.get("memberCreator") or {}
        author = action.get("idMemberCreator") or creator.get("id")
        if creator.get("id"):
            out.people[creator["id"]] = {
                "source_id": source_id,
                "person_id": creator["id"],
                "display_name": creator.get("fullName"),
            }
        base = {
            "source_id": source_id,
            "item_id": str(card["id"]),
            "change_id": str(action["id"]),
            "seq": 0,
            "at": at,
            "author_id": author,
        }
        kind = action.get("type")
        old = data.get("old") or {}
        if kind == "updateCard":
            if data.get("listAfter"):
                before, after = data.get("listBefore") or {}, data["listAfter"]
                out.transitions.append(_transition(base, before, after))
            changed = [(name, normalized) for name, normalized in _CHANGED_FIELDS if name in old]
            for seq, (name, normalized) in enumerate(changed):  # one action may change several
                change = _change(base, normalized, name, old[name], card.get(name))
                out.changes.append({**change, "seq": seq})
        elif kind == "moveCardToBoard":
            out.transitions.append(_transition(base, {}, data.get("list") or {}))
        elif kind == "moveCardFromBoard":
            source_board = data.get("board") or {}
            target = str((data.get("boardTarget") or {}).get("id") or "")
            change = _change(base, "board", "idBoard", source_board.get("id"), target or None)
            change["from_string"] = source_board.get("name") or board_names.get(board.id)
            change["to_string"] = board_names.get(target)
            out.changes.append(change)
            if data.get("list"):
                left = data["list"]
                out.changes.append(
                    {**_change(base, "left_list", "idList", left.get("id"), None), "seq": 1}
                    | {"from_string": left.get("name")}
                )
                out.left_lists[(str(card["id"]), at)] = left
        elif kind in ("addLabelToCard", "removeLabelFromCard"):
            label = str((data.get("label") or {}).get("name") or "")
            if rules.is_blocked(label):
                old_flag, new_flag = ("", label) if kind == "addLabelToCard" else (label, "")
                out.changes.append(_change(base, "flagged", "label", old_flag, new_flag))
        elif kind in _ORIGIN_LINKS and (data.get("cardSource") or {}).get("id"):
            origin = data["cardSource"]
            out.links.append(
                {
                    "source_id": source_id,
                    "item_id": str(card["id"]),
                    "link_id": str(action["id"]),
                    "direction": "outward",
                    "link_type": _ORIGIN_LINKS[kind],
                    "other_item_id": str(origin["id"]),
                    "other_key": origin.get("shortLink"),
                    "other_url": None,
                }
            )
        elif kind == "deleteCard":
            out.deleted[str(card["id"])] = _tombstone(
                card, data.get("list") or {}, board, rules, source_id, at, synced_at
            )
    return out


def _day_text(value: Any) -> str | None:
    day = day_of(value)
    return day.isoformat() if day is not None else None


def _transition(base: Row, before: dict[str, Any], after: dict[str, Any]) -> Row:
    return {
        **base,
        "from_status": before.get("name"),
        "to_status": after.get("name"),
        "from_status_id": before.get("id"),
        "to_status_id": after.get("id"),
    }


def _change(base: Row, normalized: str, source_field: str, old: Any, new: Any) -> Row:
    from_value, to_value = _text(old), _text(new)
    if normalized == "due_date":
        from_value, to_value = _day_text(old), _day_text(new)
    return {
        **base,
        "field": normalized,
        "source_field": source_field,
        "from_value": from_value,
        "to_value": to_value,
        "from_string": _text(old),
        "to_string": _text(new),
    }


def _tombstone(
    card: dict[str, Any],
    lst: dict[str, Any],
    board: BoardInfo,
    rules: CardRules,
    source_id: int,
    at: datetime,
    synced_at: datetime,
) -> Row:
    """The item row of a card known only from its deletion."""
    card_id = str(card["id"])
    list_id = lst.get("id")
    return {
        "source_id": source_id,
        "item_id": card_id,
        "key": str(card.get("shortLink") or card_id),
        "project_key": board.name,
        "board_id": board.id,
        "type": "Roadmap" if rules.is_roadmap(board, list_id) else "Card",
        "title": str(card.get("name") or ""),
        "status": lst.get("name"),
        "status_id": list_id,
        "created": id_time(card_id),
        "archived": False,
        "deleted_at": at,
        "synced_at": synced_at,
    }


@dataclass
class HistoryWriter:
    """Writes one page of history rows and the actions cursor in one transaction."""

    store: Store
    source_id: int
    rules: CardRules
    board_names: Mapping[str, str]
    counts: SyncCounts
    now: Callable[[], datetime]
    people: set[str] = field(default_factory=set)

    def write(
        self, actions: list[dict[str, Any]], board: BoardInfo, cursor: tuple[str, Mapping[str, Any]]
    ) -> None:
        """Store one page's history rows (only those not stored yet: actions never change),
        deletions and the cursor, atomically."""
        page = history_rows(
            actions, board, self.board_names, self.rules, self.source_id, self.now()
        )
        items = schema.items
        people = [row for pid, row in page.people.items() if pid not in self.people]
        with self.store.transaction() as conn:
            new_transitions = _unstored(conn, self.source_id, page.transitions)
            upsert(conn, schema.people, people)
            for table, rows in (
                (schema.transitions, page.transitions),
                (schema.changes, page.changes),
                (schema.links, page.links),
            ):
                insert_new(conn, table, rows)
            arrivals = {(r["item_id"], r["at"]) for r in page.transitions if not r["from_status"]}
            _pair_moves(conn, self.source_id, arrivals | set(page.left_lists))
            if page.deleted:
                known = set(
                    conn.execute(
                        select(items.c.item_id)
                        .where(items.c.source_id == self.source_id)
                        .where(items.c.item_id.in_(list(page.deleted)))
                    ).scalars()
                )
                missing = [row for item_id, row in page.deleted.items() if item_id not in known]
                if missing:
                    insert_rows(conn, items, missing)
                for item_id, row in page.deleted.items():
                    result = conn.execute(
                        update(items)
                        .where(items.c.source_id == self.source_id)
                        .where(items.c.item_id == item_id)
                        .where(items.c.deleted_at.is_(None))
                        .values(deleted_at=row["deleted_at"])
                    )
                    self.counts.deleted += result.rowcount
                self.counts.deleted += len(missing)
                clear_card_children(conn, self.source_id, list(page.deleted))
            save_cursor(conn, self.source_id, cursor[0], cursor[1])
        self.people.update(row["person_id"] for row in people)
        self.counts.transitions += new_transitions  # an overlap re-read adds nothing
        self.counts.pages += 1
        self.counts.extra["actions"] = self.counts.extra.get("actions", 0) + len(actions)


def _unstored(conn: Any, source_id: int, transitions: list[Row]) -> int:
    """How many of these transitions the store does not hold yet."""
    if not transitions:
        return 0
    t = schema.transitions
    stored = set(
        conn.execute(
            select(t.c.item_id, t.c.change_id)
            .where(t.c.source_id == source_id)
            .where(t.c.change_id.in_(sorted({row["change_id"] for row in transitions})))
        ).all()
    )
    return sum(1 for row in transitions if (row["item_id"], row["change_id"]) not in stored)


def _pair_moves(conn: Any, source_id: int, moves: set[tuple[str, datetime]]) -> None:
    """Give each arrival on a board the list the card left on its old board, whichever of the
    two actions was stored first (they carry the same instant, give or take MOVE_PAIRING)."""
    t, c = schema.transitions, schema.changes
    for card_id, at in sorted(moves):
        left = conn.execute(
            select(c.c.from_value, c.c.from_string)
            .where(c.c.source_id == source_id, c.c.item_id == card_id)
            .where(c.c.field == "left_list")
            .where(c.c.at.between(at - MOVE_PAIRING, at + MOVE_PAIRING))
        ).first()
        if left is None:
            continue
        conn.execute(
            update(t)
            .where(t.c.source_id == source_id, t.c.item_id == card_id)
            .where(t.c.at.between(at - MOVE_PAIRING, at + MOVE_PAIRING))
            .where(t.c.from_status.is_(None))
            .values(from_status=left.from_string, from_status_id=left.from_value)
        )


def sync_actions(
    api: TrelloApi,
    writer: HistoryWriter,
    board: BoardInfo,
    full: bool,
    overlap: timedelta,
    stop: threading.Event,
    progress: Progress,
) -> None:
    """Read a board's new actions (all of them on the first or a full sync) into the store."""
    stream = actions_stream(board.id)
    with writer.store.engine.connect() as conn:
        state = {} if full else load_cursor(conn, writer.source_id, stream)
    last = parse_time(state.get("since"))
    current = state.get("pass") or {
        "since": trello_time(last - overlap) if last is not None else None,
        "before": None,
        "top": state.get("since"),
    }
    path = f"/boards/{board.id}/actions"

    def query(bounds: dict[str, Any]) -> dict[str, Any]:
        extra = {name: bounds[name] for name in ("since", "before") if bounds[name]}
        return {"filter": ACTION_FILTER, "limit": PAGE_LIMIT, "memberCreator_fields": "fullName",
                **extra}  # fmt: skip

    task = f"{board.name}: history"
    progress.begin(task, None)
    with prefetching(api) as fetch:
        pending = fetch(path, query(current))
        while True:
            if stop.is_set():
                raise SyncInterrupted(f"{api.source.name}: stopped after a committed page")
            page = pending.result()
            newest = max((str(a.get("date")) for a in page if a.get("date")), default=None)
            # Trello writes every date in one fixed-width format: strings order like instants.
            top = max(filter(None, (current["top"], newest)), default=None)
            done = len(page) < PAGE_LIMIT
            current = {
                "since": current["since"],
                "before": min((str(a["id"]) for a in page), default=current["before"]),
                "top": top,
            }
            if not done:
                pending = fetch(path, query(current))
            cursor: dict[str, Any] = (
                {"since": top, "pass": None}
                if done
                else {"since": state.get("since"), "pass": current}
            )
            writer.write(page, board, (stream, cursor))
            progress.advance(task, len(page))
            if done:
                break
    progress.end(task)
