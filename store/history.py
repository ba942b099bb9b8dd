"""Item histories: status transitions and field changes, which never change once read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from pulse.store.schema import changes, links, transitions
from pulse.store.writes import Row, insert_new


def add_history(
    conn: Connection,
    transition_rows: Sequence[Row],
    change_rows: Sequence[Row],
    link_rows: Sequence[Row],
) -> None:
    """Insert history rows, skipping those already stored (a history row never changes)."""
    for table, rows in ((transitions, transition_rows), (changes, change_rows), (links, link_rows)):
        insert_new(conn, table, rows)


def count_unstored_transitions(conn: Connection, source_id: int, rows: Sequence[Row]) -> int:
    """How many of these transitions the store does not hold yet."""
    if not rows:
        return 0
    t = transitions
    stored = set(
        conn.execute(
            select(t.c.item_id, t.c.change_id)
            .where(t.c.source_id == source_id)
            .where(t.c.change_id.in_(sorted({row["change_id"] for row in rows})))
        ).all()
    )
    return sum(1 for row in rows if (row["item_id"], row["change_id"]) not in stored)


def pair_moves(
    conn: Connection, source_id: int, moves: Iterable[tuple[str, datetime]], window: timedelta
) -> None:
    """Give each arrival of an item (a transition with no `from_status`) the list it left,
    recorded as a `left_list` change at the same instant give or take `window`, whichever of
    the two was stored first."""
    t, c = transitions, changes
    for item_id, at in sorted(moves):
        left = conn.execute(
            select(c.c.from_value, c.c.from_string)
            .where(c.c.source_id == source_id, c.c.item_id == item_id)
            .where(c.c.field == "left_list")
            .where(c.c.at.between(at - window, at + window))
        ).first()
        if left is None:
            continue
        conn.execute(
            update(t)
            .where(t.c.source_id == source_id, t.c.item_id == item_id)
            .where(t.c.at.between(at - window, at + window))
            .where(t.c.from_status.is_(None))
            .values(from_status=left.from_string, from_status_id=left.from_value)
        )
