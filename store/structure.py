"""A source's structure: projects, boards, sprints, versions, statuses (workflow states and
Trello lists) and people, as a sync reads them before the items that refer to them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from pulse.store.schema import boards, people, projects, sprints, statuses, versions
from pulse.store.writes import Row, delete_missing, upsert


def write_projects(conn: Connection, rows: Sequence[Row]) -> None:
    """Upsert projects as read now."""
    upsert(conn, projects, rows)


def hidden_projects(conn: Connection, source_id: int) -> set[str]:
    """Keys of the projects last seen not visible to us."""
    return {
        str(key)
        for (key,) in conn.execute(
            select(projects.c.key)
            .where(projects.c.source_id == source_id)
            .where(projects.c.accessible.is_(False))
        )
    }


def hide_projects(conn: Connection, source_id: int, keys: Iterable[str]) -> None:
    """Record that we can no longer see these projects."""
    conn.execute(
        update(projects)
        .where(projects.c.source_id == source_id)
        .where(projects.c.key.in_(sorted(keys)))
        .values(accessible=False)
    )


def write_boards(conn: Connection, rows: Sequence[Row]) -> None:
    """Upsert boards as read now."""
    upsert(conn, boards, rows)


def replace_sprints(
    conn: Connection, source_id: int, rows: Sequence[Row], board_ids: Sequence[Any]
) -> None:
    """Store these boards' sprints and forget their sprints no longer listed."""
    upsert(conn, sprints, rows)
    delete_missing(
        conn,
        sprints,
        source_id,
        "sprint_id",
        [r["sprint_id"] for r in rows],
        where=sprints.c.board_id.in_(board_ids),
    )


def write_versions(conn: Connection, rows: Sequence[Row]) -> None:
    """Upsert versions as read now."""
    upsert(conn, versions, rows)


def write_statuses(conn: Connection, rows: Sequence[Row]) -> None:
    """Upsert statuses (workflow states, Trello lists)."""
    upsert(conn, statuses, rows)


def replace_board_statuses(
    conn: Connection, source_id: int, board_id: str, rows: Sequence[Row]
) -> None:
    """Store a board's lists and forget those it no longer has."""
    upsert(conn, statuses, rows)
    delete_missing(
        conn,
        statuses,
        source_id,
        "status_id",
        [r["status_id"] for r in rows],
        where=statuses.c.board_id == board_id,
    )


def write_people(conn: Connection, rows: Sequence[Row]) -> None:
    """Upsert people (assignees, reporters, authors of changes)."""
    upsert(conn, people, rows)
