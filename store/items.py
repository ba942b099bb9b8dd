"""Items and what hangs off them: the reads a sync compares with, the marks it sets (deleted,
access lost, out of scope), and the wholesale replacement of an item's children.

Item ids are unique only within a source, so everything here is scoped by `source_id`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Column, Connection, delete, select, update

from pulse.store.chunks import chunked
from pulse.store.schema import ITEM_CHILD_TABLES, item_labels, items, links, people, statuses
from pulse.store.writes import Row, insert_rows, upsert

Mark = Literal["deleted", "access_lost", "out_of_scope"]
_MARKS: dict[Mark, Column[Any]] = {
    "deleted": items.c.deleted_at,
    "access_lost": items.c.access_lost_at,
    "out_of_scope": items.c.out_of_scope_at,
}


def write_items(
    conn: Connection,
    rows: Sequence[Row],
    status_rows: Sequence[Row] = (),
    people_rows: Sequence[Row] = (),
) -> None:
    """Upsert items with the statuses and people they refer to (those first)."""
    upsert(conn, statuses, status_rows)
    upsert(conn, people, people_rows)
    upsert(conn, items, rows)


def stored_items(
    conn: Connection, source_id: int, ids: Sequence[str], columns: Sequence[str]
) -> dict[str, Any]:
    """The stored rows (these `columns`, `item_id` among them) of these items, by item id."""
    out: dict[str, Any] = {}
    for chunk in chunked(ids):
        query = select(*(items.c[name] for name in columns)).where(
            items.c.source_id == source_id, items.c.item_id.in_(chunk)
        )
        out.update({row.item_id: row for row in conn.execute(query)})
    return out


def live_items(
    conn: Connection, source_id: int, columns: Sequence[str], in_view: bool = False
) -> list[Any]:
    """A source's items not marked deleted (with `in_view`, nor access-lost or out of scope)."""
    query = (
        select(*(items.c[name] for name in columns))
        .where(items.c.source_id == source_id)
        .where(items.c.deleted_at.is_(None))
    )
    if in_view:
        query = query.where(items.c.out_of_scope_at.is_(None), items.c.access_lost_at.is_(None))
    return list(conn.execute(query).all())


def unchanged_items(
    conn: Connection, source_id: int, stamps: Mapping[str, datetime | None]
) -> set[str]:
    """Ids of live items in view whose stored `updated` is the given stamp."""
    idle: set[str] = set()
    for chunk in chunked(list(stamps)):
        query = select(items.c.item_id, items.c.updated).where(
            items.c.source_id == source_id,
            items.c.item_id.in_(chunk),
            items.c.deleted_at.is_(None),
            items.c.out_of_scope_at.is_(None),
            items.c.access_lost_at.is_(None),
        )
        idle.update(
            r.item_id for r in conn.execute(query) if r.updated and r.updated == stamps[r.item_id]
        )
    return idle


def touch_items(conn: Connection, source_id: int, ids: Sequence[str], synced_at: datetime) -> None:
    """Record that these items were seen unchanged at `synced_at`."""
    for chunk in chunked(ids):
        conn.execute(
            update(items)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id.in_(chunk))
            .values(synced_at=synced_at)
        )


def mark_items(
    conn: Connection, source_id: int, ids: Sequence[str], mark: Mark, at: datetime
) -> int:
    """Mark these items deleted, access-lost or out of scope at `at` (those not marked so
    already); how many were marked."""
    column = _MARKS[mark]
    marked = 0
    for chunk in chunked(ids):
        result = conn.execute(
            update(items)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id.in_(chunk))
            .where(column.is_(None))
            .values({column.name: at})
        )
        marked += result.rowcount
    return marked


def mark_project_items_access_lost(
    conn: Connection, source_id: int, project_keys: Iterable[str], at: datetime
) -> int:
    """Mark access-lost the live items of projects we can no longer see; how many."""
    result = conn.execute(
        update(items)
        .where(items.c.source_id == source_id)
        .where(items.c.project_key.in_(sorted(project_keys)))
        .where(items.c.access_lost_at.is_(None), items.c.deleted_at.is_(None))
        .values(access_lost_at=at)
    )
    return int(result.rowcount)


def record_deletions(conn: Connection, source_id: int, deleted: Mapping[str, Row]) -> int:
    """Mark these items deleted at their row's `deleted_at`, storing a tombstone row for those
    never stored; how many items became deleted."""
    known = set(
        conn.execute(
            select(items.c.item_id)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id.in_(list(deleted)))
        ).scalars()
    )
    missing = [row for item_id, row in deleted.items() if item_id not in known]
    if missing:
        insert_rows(conn, items, missing)
    count = len(missing)
    for item_id, row in deleted.items():
        result = conn.execute(
            update(items)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id == item_id)
            .where(items.c.deleted_at.is_(None))
            .values(deleted_at=row["deleted_at"])
        )
        count += result.rowcount
    return count


def project_keys(conn: Connection, source_id: int) -> list[str]:
    """The projects a source's stored items belong to."""
    rows = conn.execute(
        select(items.c.project_key).where(items.c.source_id == source_id).distinct()
    )
    return sorted(str(r[0]) for r in rows if r[0])


def has_project_items(conn: Connection, source_id: int, project_key: str) -> bool:
    """Whether any item of this project is stored."""
    found = conn.execute(
        select(items.c.item_id)
        .where(items.c.source_id == source_id)
        .where(items.c.project_key == project_key)
        .limit(1)
    ).first()
    return found is not None


def replace_item_children(
    conn: Connection,
    source_id: int,
    item_ids: Iterable[str],
    rows: Mapping[str, Sequence[Row]],
    known: Iterable[str] | None = None,
) -> None:
    """Replace the histories, memberships, links and labels of these items with `rows`
    (by table name).

    `known` are the ids that may already have children (None: any of them); only those need
    deleting, which spares a first sync a delete per table per page.
    """
    ids = list(item_ids if known is None else known)
    for table in ITEM_CHILD_TABLES:
        for chunk in chunked(ids):
            conn.execute(
                delete(table).where(table.c.source_id == source_id, table.c.item_id.in_(chunk))
            )
        if rows.get(table.name):
            insert_rows(conn, table, rows[table.name])


def labels_and_links(
    conn: Connection, source_id: int, ids: Sequence[str], link_types: Sequence[str]
) -> tuple[defaultdict[str, set[str]], defaultdict[str, set[tuple[Any, ...]]]]:
    """These items' labels, and their links of `link_types` as (id, type, other key, other
    url), by item id."""
    labels: defaultdict[str, set[str]] = defaultdict(set)
    found: defaultdict[str, set[tuple[Any, ...]]] = defaultdict(set)
    lab, lnk = item_labels, links
    for chunk in chunked(ids):
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
            .where(lnk.c.link_type.in_(link_types))
        ):
            found[link.item_id].add((link.link_id, link.link_type, link.other_key, link.other_url))
    return labels, found


def clear_labels_and_links(
    conn: Connection, source_id: int, ids: Sequence[str], link_types: Sequence[str]
) -> None:
    """Delete these items' labels and their links of `link_types` (others are left alone)."""
    lab, lnk = item_labels, links
    for chunk in chunked(ids):
        conn.execute(
            delete(lab).where(lab.c.source_id == source_id).where(lab.c.item_id.in_(chunk))
        )
        conn.execute(
            delete(lnk)
            .where(lnk.c.source_id == source_id)
            .where(lnk.c.item_id.in_(chunk))
            .where(lnk.c.link_type.in_(link_types))
        )


def add_labels_and_links(
    conn: Connection, label_rows: Sequence[Row], link_rows: Sequence[Row]
) -> None:
    """Insert label and link rows known not to be stored yet."""
    if label_rows:
        insert_rows(conn, item_labels, label_rows)
    if link_rows:
        insert_rows(conn, links, link_rows)
