"""The synced history read whole, as raw rows for the one loader (:mod:`pulse.reports.dataset`).

Every read returns ``(rows, column names)``, the rows as the driver gives them: no per-row
processing, so 100,000 items and a million transitions are converted in bulk by the loader.
Timestamps come as stored (text on SQLite, driver datetimes on PostgreSQL); rows are keyed by
source id; status changes carry the statuses' *current* names (statuses and Trello lists can be
renamed). Nothing is cut at an as-of here: the loader drops items created after it and needs
later history rows to know the value before a later change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Select,
    Table,
    Text,
    and_,
    func,
    literal_column,
    select,
    type_coerce,
)

from pulse.store import schema
from pulse.store.item_reads import GONE_AT
from pulse.store.schema import UTCDateTime

Rows = tuple[list[Any], list[str]]  # rows as tuples, column names

I = schema.items  # noqa: E741
GONE = literal_column(GONE_AT, UTCDateTime)  # when the item left the store's view


def _raw(col: Any) -> Any:
    """A column read without SQLAlchemy's per-row result processing (parsed in bulk later)."""
    return type_coerce(col, Text)


def _fetch(conn: Connection, query: Select[Any]) -> Rows:
    """The query's rows straight from the driver's cursor, and its column names."""
    names = list(query.selected_columns.keys())
    result = conn.execute(query)
    cursor = getattr(result, "cursor", None)
    if cursor is not None:
        rows = list(cursor.fetchall())
        result.close()
        return rows, names
    return [tuple(r) for r in result], names


def statuses(conn: Connection) -> Rows:
    """source_id, status_id, name, category, board_id, position of every status."""
    st = schema.statuses
    return _fetch(
        conn,
        select(
            st.c.source_id, st.c.status_id, st.c.name, st.c.category, st.c.board_id, st.c.position
        ).order_by(st.c.source_id, st.c.status_id),
    )


def boards(conn: Connection) -> Rows:
    """source_id, board_id, name, type, team (its project, else its name), estimation."""
    b = schema.boards
    return _fetch(
        conn,
        select(
            b.c.source_id,
            b.c.board_id,
            b.c.name,
            b.c.type,
            func.coalesce(b.c.project_key, b.c.name).label("team"),
            b.c.estimation_field.label("estimation"),
        ).order_by(b.c.source_id, b.c.board_id),
    )


def versions(conn: Connection) -> Rows:
    """source_id, version_id, project, name, released, release_date of every version."""
    v = schema.versions
    return _fetch(
        conn,
        select(
            v.c.source_id,
            v.c.version_id,
            func.coalesce(v.c.project_key, "").label("project"),
            v.c.name,
            v.c.released,
            _raw(v.c.release_date).label("release_date"),
        ).order_by(v.c.source_id, v.c.version_id),
    )


def sprints(conn: Connection) -> Rows:
    """source_id, sprint_id, board_id, name, state, start, end, complete of every sprint."""
    sp = schema.sprints
    return _fetch(
        conn,
        select(
            sp.c.source_id,
            sp.c.sprint_id,
            func.coalesce(sp.c.board_id, "").label("board_id"),
            sp.c.name,
            sp.c.state,
            _raw(sp.c.start_at).label("start"),
            _raw(sp.c.end_at).label("end"),
            _raw(sp.c.complete_at).label("complete"),
        ).order_by(sp.c.source_id, sp.c.sprint_id),
    )


def sync_ends(conn: Connection) -> Rows:
    """source_id, finished_at, succeeded of every finished sync run, in the order they ended."""
    runs = schema.sync_runs
    return _fetch(
        conn,
        select(
            runs.c.source_id,
            _raw(runs.c.finished_at).label("finished_at"),
            (runs.c.status == "ok").label("succeeded"),
        )
        .where(runs.c.finished_at.is_not(None), runs.c.job == "sync")
        .order_by(runs.c.finished_at, runs.c.id),
    )


def items(conn: Connection) -> Rows:
    """Every item's columns the engine reads, and its assignee; ``due`` is its target date, else
    its due date, and ``deleted_at`` when it was deleted, lost to access or went out of scope."""
    return _fetch(
        conn,
        select(
            I.c.source_id,
            I.c.item_id,
            I.c.key,
            func.coalesce(I.c.project_key, "").label("project"),
            func.coalesce(I.c.type, "").label("type"),
            I.c.is_subtask,
            I.c.title,
            func.coalesce(I.c.status, "").label("status"),
            _raw(I.c.created).label("created"),
            I.c.estimate,
            I.c.parent_key,
            _raw(func.coalesce(I.c.target_date, I.c.due)).label("due"),
            _raw(GONE).label("deleted_at"),
            func.coalesce(I.c.url, "").label("url"),
            I.c.assignee_id,
            I.c.archived,
        )
        .select_from(I)
        .order_by(I.c.source_id, I.c.item_id),
    )


def people(conn: Connection) -> Rows:
    """source_id, person_id, display name of every synced person (assignees, reporters)."""
    pp = schema.people
    return _fetch(conn, select(pp.c.source_id, pp.c.person_id, pp.c.display_name))


def transitions(conn: Connection) -> Rows:
    """source_id, item_id, at, from_status, to_status of every status change, by item and time."""
    t = schema.transitions
    st_from, st_to = schema.statuses.alias("st_from"), schema.statuses.alias("st_to")
    return _fetch(
        conn,
        select(
            t.c.source_id,
            t.c.item_id,
            _raw(t.c.at).label("at"),
            func.coalesce(st_from.c.name, t.c.from_status).label("from_status"),
            func.coalesce(st_to.c.name, t.c.to_status, "").label("to_status"),
        )
        .select_from(
            t.outerjoin(
                st_from,
                and_(
                    st_from.c.source_id == t.c.source_id,
                    st_from.c.status_id == t.c.from_status_id,
                ),
            ).outerjoin(
                st_to,
                and_(st_to.c.source_id == t.c.source_id, st_to.c.status_id == t.c.to_status_id),
            )
        )
        .order_by(t.c.source_id, t.c.item_id, t.c.at, t.c.change_id, t.c.seq),
    )


def changes(conn: Connection) -> Rows:
    """source_id, item_id, at, field, from_value, to_value, from_string, to_string of every
    field change, by item and time."""
    c = schema.changes
    return _fetch(
        conn,
        select(
            c.c.source_id,
            c.c.item_id,
            _raw(c.c.at).label("at"),
            c.c.field,
            c.c.from_value,
            c.c.to_value,
            c.c.from_string,
            c.c.to_string,
        )
        .select_from(c)
        .order_by(c.c.source_id, c.c.item_id, c.c.at, c.c.change_id, c.c.seq),
    )


def links(conn: Connection) -> Rows:
    """source_id, item_id, link_type, direction, other_key of every link to a keyed item."""
    lk = schema.links
    return _fetch(
        conn,
        select(lk.c.source_id, lk.c.item_id, lk.c.link_type, lk.c.direction, lk.c.other_key)
        .select_from(lk)
        .where(lk.c.other_key.is_not(None))
        .order_by(lk.c.source_id, lk.c.item_id, lk.c.link_id, lk.c.direction),
    )


def memberships(conn: Connection, kind: Literal["sprint", "version"]) -> Rows:
    """source_id, item_id, sprint_id (or version_id) of every item's sprints (or versions)."""
    table: Table = schema.item_sprints if kind == "sprint" else schema.item_versions
    column = table.c[f"{kind}_id"]
    return _fetch(
        conn,
        select(table.c.source_id, table.c.item_id, column)
        .select_from(table)
        .order_by(table.c.source_id, table.c.item_id, column),
    )


def item_instants(conn: Connection, start: datetime, end: datetime) -> list[Any]:
    """Every instant within [start, end] at which an item was created or disappeared, as the
    driver gives it."""
    values: list[Any] = []
    for col in (I.c.created, GONE):
        query = select(col).select_from(I).where(col >= start, col <= end)
        values += [r[0] for r in conn.execute(query).all()]
    return values


__all__ = [
    "Rows",
    "boards",
    "changes",
    "item_instants",
    "items",
    "links",
    "memberships",
    "people",
    "sprints",
    "statuses",
    "sync_ends",
    "transitions",
    "versions",
]
