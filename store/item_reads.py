"""Items' stored rows read by key or id: the items a key names (for the questions' lookups), one
item's rows as `pulse show` reads them (the item, its status changes with the statuses' current
names, links, children, the sprints it names), and the items moved at their source.

Each read is by primary key or an index: a question about one item never scans the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, true

from pulse.store import schema

I = schema.items  # noqa: E741


def gone_at() -> Any:
    """SQL expression: when the item left the store's view (deleted, access lost, or out of the
    synced scope); NULL while it is in view."""
    return func.coalesce(I.c.deleted_at, I.c.access_lost_at, I.c.out_of_scope_at)


def alive(as_of: datetime) -> Any:
    """SQL condition: the item existed at as_of (created by then, not gone before)."""
    gone = gone_at()
    return and_(I.c.created <= as_of, or_(gone.is_(None), gone > as_of))


@dataclass(frozen=True)
class StoredItem:
    """An item's own columns as `pulse show` prints them (as synced last)."""

    source_id: int
    item_id: str
    key: str
    project: str
    type: str
    title: str
    status: str
    created: datetime
    due: date | None
    url: str


def items_named(
    conn: Connection, as_of: datetime, key: str, source_id: int | None = None
) -> list[tuple[int, str, str]]:
    """(source id, item id, key) of the items alive at as_of whose key, or key before a move,
    is ``key``."""
    rows = conn.execute(
        select(I.c.source_id, I.c.item_id, I.c.key).where(
            alive(as_of),
            or_(I.c.key == key, I.c.previous_key == key),
            I.c.source_id == source_id if source_id is not None else true(),
        )
    ).all()
    return [(int(s), str(i), str(k)) for s, i, k in rows]


def items_with_key(
    conn: Connection, as_of: datetime, key: str, source_id: int | None = None
) -> list[tuple[int, str, str, str]]:
    """(source id, item id, type or '', project or '') of the items alive at as_of with this key."""
    conds = [alive(as_of), I.c.key == key]
    if source_id is not None:
        conds.append(I.c.source_id == source_id)
    rows = conn.execute(
        select(I.c.source_id, I.c.item_id, I.c.type, func.coalesce(I.c.project_key, "")).where(
            *conds
        )
    ).all()
    return [(int(s), str(i), str(t or ""), str(p)) for s, i, t, p in rows]


def stored_item(conn: Connection, source_id: int, item_id: str) -> StoredItem:
    """One item's own columns (a target date stands for its due date, as in the reports)."""
    row = conn.execute(
        select(
            I.c.source_id,
            I.c.item_id,
            I.c.key,
            func.coalesce(I.c.project_key, ""),
            func.coalesce(I.c.type, ""),
            I.c.title,
            func.coalesce(I.c.status, ""),
            I.c.created,
            func.coalesce(I.c.target_date, I.c.due),
            func.coalesce(I.c.url, ""),
        ).where(I.c.source_id == source_id, I.c.item_id == item_id)
    ).one()
    due = row[8]
    if isinstance(due, str):  # coalesce() loses the column type on SQLite
        due = date.fromisoformat(due[:10])
    key, project, kind, title, status = (str(v) for v in row[2:7])
    return StoredItem(
        int(row[0]), str(row[1]), key, project, kind, title, status, row[7], due, str(row[9])
    )


def status_changes(
    conn: Connection, source_id: int, item_id: str
) -> list[tuple[datetime, str | None, str]]:
    """(at, from status, to status) of one item in time order, statuses by their current name
    (statuses and Trello lists can be renamed)."""
    t = schema.transitions
    st_from, st_to = schema.statuses.alias("st_from"), schema.statuses.alias("st_to")
    query = (
        select(
            t.c.at,
            func.coalesce(st_from.c.name, t.c.from_status),
            func.coalesce(st_to.c.name, t.c.to_status, ""),
        )
        .select_from(
            t.outerjoin(
                st_from,
                and_(
                    st_from.c.source_id == t.c.source_id, st_from.c.status_id == t.c.from_status_id
                ),
            ).outerjoin(
                st_to,
                and_(st_to.c.source_id == t.c.source_id, st_to.c.status_id == t.c.to_status_id),
            )
        )
        .where(t.c.source_id == source_id, t.c.item_id == item_id)
        .order_by(t.c.at, t.c.change_id, t.c.seq)
    )
    return [(at, None if f is None else str(f), str(to)) for at, f, to in conn.execute(query)]


def links_of(conn: Connection, source_id: int, item_id: str) -> list[tuple[str, str, str]]:
    """(link type, direction, other key) of one item's links to keyed items."""
    lk = schema.links
    rows = conn.execute(
        select(lk.c.link_type, lk.c.direction, lk.c.other_key)
        .where(lk.c.source_id == source_id, lk.c.item_id == item_id, lk.c.other_key.is_not(None))
        .order_by(lk.c.link_id, lk.c.direction)
    )
    return [(str(t), str(d), str(k)) for t, d, k in rows]


def keyed_items(
    conn: Connection, as_of: datetime, source_id: int, keys: Sequence[str]
) -> dict[str, tuple[str, str, str]]:
    """key -> (item id, title, status) of the items alive at as_of with these keys."""
    if not keys:
        return {}
    rows = conn.execute(
        select(I.c.key, I.c.item_id, I.c.title, func.coalesce(I.c.status, "")).where(
            alive(as_of), I.c.source_id == source_id, I.c.key.in_(sorted(set(keys)))
        )
    )
    return {str(k): (str(i), str(t), str(s)) for k, i, t, s in rows}


def children_of(conn: Connection, as_of: datetime, source_id: int, key: str) -> list[str]:
    """Item ids of the items alive at as_of whose parent (epic, roadmap card) is ``key`` now."""
    rows = conn.execute(
        select(I.c.item_id)
        .where(alive(as_of), I.c.source_id == source_id, I.c.parent_key == key)
        .order_by(I.c.item_id)
    )
    return [str(i) for (i,) in rows]


def sprint_names(
    conn: Connection, source_id: int, sprint_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """sprint id -> (name, state) of one source's sprints."""
    if not sprint_ids:
        return {}
    sp = schema.sprints
    rows = conn.execute(
        select(sp.c.sprint_id, sp.c.name, sp.c.state).where(
            sp.c.source_id == source_id, sp.c.sprint_id.in_(sorted(set(sprint_ids)))
        )
    )
    return {str(i): (str(n), str(s)) for i, n, s in rows}


def moved_items(
    conn: Connection, since: datetime, until: datetime
) -> list[tuple[str, str, str, str]]:
    """(source name, item id, key, previous key) of the items whose key changed at the source
    (moved project) and that were updated in (since, until], by source name and key."""
    src = schema.sources
    rows = conn.execute(
        select(src.c.name, I.c.item_id, I.c.key, I.c.previous_key)
        .join(src, src.c.id == I.c.source_id)
        .where(
            I.c.previous_key.is_not(None),
            I.c.previous_key != I.c.key,
            I.c.updated > since,
            I.c.updated <= until,
        )
        .order_by(src.c.name, I.c.key)
    )
    return [(str(s), str(i), str(k), str(p)) for s, i, k, p in rows]


__all__ = [
    "StoredItem",
    "alive",
    "children_of",
    "gone_at",
    "items_named",
    "items_with_key",
    "keyed_items",
    "links_of",
    "moved_items",
    "sprint_names",
    "status_changes",
    "stored_item",
]
