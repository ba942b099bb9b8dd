"""Idempotent writes: upserts by primary key and wholesale replacement of an item's history.

A sync may deliver the same item many times (overlap windows, retries, resumed runs); every
write here gives the same store whatever the number of deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from pulse.store.chunks import chunked
from pulse.store.schema import UTCDateTime
from pulse.store.timestamps import sqlite_text

Row = Mapping[str, Any]
_BULK = 5000  # rows per executemany


@dataclass(frozen=True)
class _Prepared:
    """A statement compiled for one dialect and column set: its SQL, parameter order, and
    which parameters need converting."""

    sql: str
    order: tuple[str, ...] | None  # positional drivers (SQLite); None: named (psycopg)
    converted: frozenset[str]
    defaults: tuple[tuple[str, Any], ...]  # columns the rows leave out, with their defaults


@lru_cache(maxsize=256)
def _prepare(dialect: Dialect, table: Table, names: tuple[str, ...], on_conflict: str) -> _Prepared:
    """Compile an insert once per dialect, table and columns; on a key conflict it fails
    ("fail"), skips the row ("skip"), or updates every non-key column ("update")."""
    keys = [c.name for c in table.primary_key.columns]
    statement: Any = insert(table)
    if on_conflict != "fail":
        statement = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
        updated = [name for name in names if name not in keys] if on_conflict == "update" else []
        if updated:
            statement = statement.on_conflict_do_update(
                index_elements=keys, set_={name: statement.excluded[name] for name in updated}
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    converted = frozenset(
        c.name
        for c in table.columns
        if dialect.name == "sqlite" and isinstance(c.type, UTCDateTime) and c.name in names
    )
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    # The compiler adds columns that have Python-side defaults; the driver needs their values.
    defaults = tuple(
        (c.name, c.default.arg)
        for c in table.columns
        if c.name not in names
        and c.name in compiled.params
        and isinstance(c.default, ScalarElementColumnDefault)
    )
    return _Prepared(str(compiled), order, converted, defaults)


def _execute_many(conn: Connection, table: Table, rows: Sequence[Row], on_conflict: str) -> None:
    """executemany at the driver level: the statement is compiled once, rows go as tuples.

    SQLAlchemy's per-row parameter processing costs tens of microseconds a row, which is most
    of a large sync; the only conversion the drivers need from us is SQLite's timestamp text.
    """
    prepared = _prepare(conn.dialect, table, tuple(rows[0]), on_conflict)
    if prepared.defaults:
        rows = [{**dict(prepared.defaults), **row} for row in rows]
    params: list[Any]
    if prepared.order is not None:
        order = prepared.order
        pick = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
        convert = [i for i, n in enumerate(order) if n in prepared.converted]
        params = [pick(row) for row in rows]
        if convert:
            rewritten = []
            for values in params:
                mutable = list(values)
                for i in convert:
                    mutable[i] = sqlite_text(mutable[i])
                rewritten.append(tuple(mutable))
            params = rewritten
    else:
        params = [dict(row) for row in rows]
    conn.exec_driver_sql(prepared.sql, params)


def insert_rows(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows that are known not to exist yet (all with the same columns)."""
    for batch in chunked(rows, _BULK):
        _execute_many(conn, table, batch, on_conflict="fail")


def insert_new(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows, skipping those whose key is already stored (for rows that never change)."""
    for batch in chunked(rows, _BULK):
        _execute_many(conn, table, batch, on_conflict="skip")


def upsert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows, or update every non-key column of the rows that already exist."""
    for batch in chunked(rows, _BULK):
        _execute_many(conn, table, batch, on_conflict="update")


def delete_missing(
    conn: Connection, table: Table, source_id: int, key: str, keep: Iterable[Any], where: Any = None
) -> None:
    """Delete a source's rows whose `key` column is not in `keep` (e.g. sprints now gone)."""
    kept = set(keep)
    query = select(table.c[key]).where(table.c.source_id == source_id)
    if where is not None:
        query = query.where(where)
    gone = [value for (value,) in conn.execute(query) if value not in kept]
    for chunk in chunked(gone):
        conn.execute(delete(table).where(table.c.source_id == source_id, table.c[key].in_(chunk)))
