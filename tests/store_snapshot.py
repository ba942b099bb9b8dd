"""Compare whole stores: every data table as sorted tuples, bookkeeping columns left out.

Contract tests use this to say "the same store" — after a re-sync, a resumed sync, or on another
backend — without caring about when rows were written or how many runs it took.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pulse.store import Store, schema

BOOKKEEPING = {"synced_at", "census_misses"}
DATA_TABLES = (
    schema.projects,
    schema.boards,
    schema.statuses,
    schema.people,
    schema.items,
    *schema.ITEM_CHILD_TABLES,
    schema.sprints,
    schema.versions,
)


def snapshot(
    store: Store, tables: tuple[Any, ...] = DATA_TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table, as sorted tuples without bookkeeping columns."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in tables:
            columns = [c for c in table.columns if c.name not in BOOKKEEPING]
            rows = conn.execute(select(*columns)).all()
            out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out


def diff(left: dict[str, list[tuple[Any, ...]]], right: dict[str, list[tuple[Any, ...]]]) -> str:
    """A short description of how two snapshots differ ("" when equal)."""
    lines = []
    for name in sorted(set(left) | set(right)):
        a, b = set(left.get(name, [])), set(right.get(name, []))
        if a != b:
            sample = sorted(a ^ b, key=repr)[:2]
            lines.append(f"{name}: {len(a - b)} only left, {len(b - a)} only right; e.g. {sample}")
    return "\n".join(lines)
