"""Items' stored rows read by key or id: the items a key names (for the questions' lookups), one
item's rows as `pulse show` reads them (the item, its status changes with the statuses' current
names, links, children, the sprints it names), and the items moved at their source.

Each read is by primary key or an index: a question about one item never scans the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from pulse.store.sql import day, first, rows
from pulse.store.timestamps import from_stored

if TYPE_CHECKING:
    from pulse.store.sql import Conn

# When the item left the store's view (deleted, access lost, or out of the synced scope); NULL
# while it is in view. SQL on the items table (the loader reads it as a column too).
GONE_AT = "COALESCE(items.deleted_at, items.access_lost_at, items.out_of_scope_at)"

# The item existed at :as_of (created by then, not gone before).
ALIVE = f"items.created <= :as_of AND ({GONE_AT} IS NULL OR {GONE_AT} > :as_of)"


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


def _in_source(source_id: int | None) -> str:
    """The condition on the ``:source_id`` parameter, when one is given."""
    return "" if source_id is None else " AND source_id = :source_id"


def items_named(
    conn: Conn, as_of: datetime, key: str, source_id: int | None = None
) -> list[tuple[int, str, str]]:
    """(source id, item id, key) of the items alive at as_of whose key, or key before a move,
    is ``key``."""
    found = rows(
        conn,
        f"SELECT source_id, item_id, key FROM items WHERE {ALIVE}"
        " AND (key = :key OR previous_key = :key)" + _in_source(source_id),
        as_of=as_of,
        key=key,
        source_id=source_id,
    )
    return [(int(s), str(i), str(k)) for s, i, k in found]


def items_with_key(
    conn: Conn, as_of: datetime, key: str, source_id: int | None = None
) -> list[tuple[int, str, str, str]]:
    """(source id, item id, type or '', project or '') of the items alive at as_of with this key."""
    found = rows(
        conn,
        "SELECT source_id, item_id, type, COALESCE(project_key, '') FROM items"
        f" WHERE {ALIVE} AND key = :key" + _in_source(source_id),
        as_of=as_of,
        key=key,
        source_id=source_id,
    )
    return [(int(s), str(i), str(t or ""), str(p)) for s, i, t, p in found]


def stored_item(conn: Conn, source_id: int, item_id: str) -> StoredItem:
    """One item's own columns (a target date stands for its due date, as in the reports)."""
    row = first(
        conn,
        "SELECT source_id, item_id, key, COALESCE(project_key, ''), COALESCE(type, ''), title,"
        " COALESCE(status, ''), created, COALESCE(target_date, due), COALESCE(url, '')"
        " FROM items WHERE source_id = :source_id AND item_id = :item_id",
        source_id=source_id,
        item_id=item_id,
    )
    if row is None:
        raise LookupError(f"no item {item_id} in source {source_id}")
    key, project, kind, title, status = (str(v) for v in row[2:7])
    created = from_stored(row[7])
    return StoredItem(
        int(row[0]),
        str(row[1]),
        key,
        project,
        kind,
        title,
        status,
        created,
        day(row[8]),
        str(row[9]),
    )


def status_changes(
    conn: Conn, source_id: int, item_id: str
) -> list[tuple[datetime, str | None, str]]:
    """(at, from status, to status) of one item in time order, statuses by their current name
    (statuses and Trello lists can be renamed)."""
    found = rows(
        conn,
        "SELECT t.at, COALESCE(st_from.name, t.from_status),"
        " COALESCE(st_to.name, t.to_status, '')"
        " FROM transitions AS t"
        " LEFT OUTER JOIN statuses AS st_from"
        " ON st_from.source_id = t.source_id AND st_from.status_id = t.from_status_id"
        " LEFT OUTER JOIN statuses AS st_to"
        " ON st_to.source_id = t.source_id AND st_to.status_id = t.to_status_id"
        " WHERE t.source_id = :source_id AND t.item_id = :item_id"
        " ORDER BY t.at, t.change_id, t.seq",
        source_id=source_id,
        item_id=item_id,
    )
    out = []
    for at, f, to in found:
        out.append((from_stored(at), None if f is None else str(f), str(to)))
    return out


def links_of(conn: Conn, source_id: int, item_id: str) -> list[tuple[str, str, str]]:
    """(link type, direction, other key) of one item's links to keyed items."""
    found = rows(
        conn,
        "SELECT link_type, direction, other_key FROM links"
        " WHERE source_id = :source_id AND item_id = :item_id AND other_key IS NOT NULL"
        " ORDER BY link_id, direction",
        source_id=source_id,
        item_id=item_id,
    )
    return [(str(t), str(d), str(k)) for t, d, k in found]


def keyed_items(
    conn: Conn, as_of: datetime, source_id: int, keys: Sequence[str]
) -> dict[str, tuple[str, str, str]]:
    """key -> (item id, title, status) of the items alive at as_of with these keys."""
    if not keys:
        return {}
    found = rows(
        conn,
        "SELECT key, item_id, title, COALESCE(status, '') FROM items"
        f" WHERE {ALIVE} AND source_id = :source_id AND key IN (:keys)",
        as_of=as_of,
        source_id=source_id,
        keys=sorted(set(keys)),
    )
    return {str(k): (str(i), str(t), str(s)) for k, i, t, s in found}


def children_of(conn: Conn, as_of: datetime, source_id: int, key: str) -> list[str]:
    """Item ids of the items alive at as_of whose parent (epic, roadmap card) is ``key`` now."""
    found = rows(
        conn,
        f"SELECT item_id FROM items WHERE {ALIVE} AND source_id = :source_id"
        " AND parent_key = :key ORDER BY item_id",
        as_of=as_of,
        source_id=source_id,
        key=key,
    )
    return [str(i) for (i,) in found]


def sprint_names(
    conn: Conn, source_id: int, sprint_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """sprint id -> (name, state) of one source's sprints."""
    if not sprint_ids:
        return {}
    found = rows(
        conn,
        "SELECT sprint_id, name, state FROM sprints"
        " WHERE source_id = :source_id AND sprint_id IN (:ids)",
        source_id=source_id,
        ids=sorted(set(sprint_ids)),
    )
    return {str(i): (str(n), str(s)) for i, n, s in found}


def moved_items(conn: Conn, since: datetime, until: datetime) -> list[tuple[str, str, str, str]]:
    """(source name, item id, key, previous key) of the items whose key changed at the source
    (moved project) and that were updated in (since, until], by source name and key."""
    found = rows(
        conn,
        "SELECT sources.name, items.item_id, items.key, items.previous_key"
        " FROM items JOIN sources ON sources.id = items.source_id"
        " WHERE items.previous_key IS NOT NULL AND items.previous_key != items.key"
        " AND items.updated > :since AND items.updated <= :until"
        " ORDER BY sources.name, items.key",
        since=since,
        until=until,
    )
    return [(str(s), str(i), str(k), str(p)) for s, i, k, p in found]


def has_snapshots(conn: Conn, source_id: int, roadmap_id: str, before: datetime) -> bool:
    """Whether any weekly snapshot of this roadmap item was taken strictly before ``before``."""
    found = first(
        conn,
        "SELECT source_id FROM roadmap_snapshots WHERE source_id = :source_id"
        " AND roadmap_id = :roadmap_id AND snapshot_at < :before LIMIT 1",
        source_id=source_id,
        roadmap_id=roadmap_id,
        before=before,
    )
    return found is not None


__all__ = [
    "ALIVE",
    "GONE_AT",
    "StoredItem",
    "children_of",
    "has_snapshots",
    "items_named",
    "items_with_key",
    "keyed_items",
    "links_of",
    "moved_items",
    "sprint_names",
    "status_changes",
    "stored_item",
]
