"""Idempotent writes: upserts by primary key and wholesale replacement of an item's history.

A sync may deliver the same item many times (overlap windows, retries, resumed runs); every
write here gives the same store whatever the number of deliveries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from pulse import clock
from pulse.store.run_owner import current_owner, is_dead
from pulse.store.schema import ITEM_CHILD_TABLES, UTCDateTime, sources, sync_cursors, sync_runs

Row = Mapping[str, Any]
_CHUNK = 500  # ids per IN (...) clause
_BULK = 5000  # rows per executemany


def utcnow() -> datetime:
    """The one clock, for run and row stamps."""
    return clock.now()


def _sqlite_utc(value: datetime | None) -> str | None:
    """An aware datetime in the exact text form SQLAlchemy's SQLite DATETIME stores."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} given to the store; use aware UTC")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


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
                    mutable[i] = _sqlite_utc(mutable[i])
                rewritten.append(tuple(mutable))
            params = rewritten
    else:
        params = [dict(row) for row in rows]
    conn.exec_driver_sql(prepared.sql, params)


def insert_rows(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows that are known not to exist yet (all with the same columns)."""
    for start in range(0, len(rows), _BULK):
        _execute_many(conn, table, rows[start : start + _BULK], on_conflict="fail")


def insert_new(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows, skipping those whose key is already stored (for rows that never change)."""
    for start in range(0, len(rows), _BULK):
        _execute_many(conn, table, rows[start : start + _BULK], on_conflict="skip")


def upsert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows, or update every non-key column of the rows that already exist."""
    for start in range(0, len(rows), _BULK):
        _execute_many(conn, table, rows[start : start + _BULK], on_conflict="update")


def replace_item_children(
    conn: Connection,
    source_id: int,
    item_ids: Iterable[str],
    rows: Mapping[Table, Sequence[Row]],
    known: Iterable[str] | None = None,
) -> None:
    """Replace the histories, memberships, links and labels of these items with `rows`.

    `known` are the ids that may already have children (None: any of them); only those need
    deleting, which spares a first sync a delete per table per page.
    """
    ids = list(item_ids if known is None else known)
    for table in ITEM_CHILD_TABLES:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            conn.execute(
                delete(table).where(table.c.source_id == source_id, table.c.item_id.in_(chunk))
            )
        if rows.get(table):
            insert_rows(conn, table, rows[table])


def delete_missing(
    conn: Connection, table: Table, source_id: int, key: str, keep: Iterable[Any], where: Any = None
) -> None:
    """Delete a source's rows whose `key` column is not in `keep` (e.g. sprints now gone)."""
    kept = set(keep)
    query = select(table.c[key]).where(table.c.source_id == source_id)
    if where is not None:
        query = query.where(where)
    gone = [value for (value,) in conn.execute(query) if value not in kept]
    for start in range(0, len(gone), _CHUNK):
        conn.execute(
            delete(table).where(
                table.c.source_id == source_id, table.c[key].in_(gone[start : start + _CHUNK])
            )
        )


def register_source(conn: Connection, name: str, kind: str, url: str) -> int:
    """The id of a configured source, registering it on first sight."""
    found = conn.execute(select(sources.c.id, sources.c.kind).where(sources.c.name == name)).first()
    if found is not None:
        conn.execute(update(sources).where(sources.c.id == found.id).values(kind=kind, url=url))
        return int(found.id)
    result = conn.execute(
        insert(sources).values(name=name, kind=kind, url=url, created_at=utcnow())
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_source(conn: Connection, source_id: int, **values: Any) -> None:
    """Record what a sync learnt about its source (deployment, time zone, fields chosen)."""
    if "fields" in values and not isinstance(values["fields"], str):
        values["fields"] = json.dumps(values["fields"], sort_keys=True)
    conn.execute(update(sources).where(sources.c.id == source_id).values(**values))


def load_cursor(conn: Connection, source_id: int, stream: str) -> dict[str, Any]:
    """A stream's saved state, or {} when it has never been synced."""
    value = conn.execute(
        select(sync_cursors.c.value).where(
            tuple_(sync_cursors.c.source_id, sync_cursors.c.stream) == (source_id, stream)
        )
    ).scalar()
    return dict(json.loads(value)) if value else {}


def save_cursor(conn: Connection, source_id: int, stream: str, state: Mapping[str, Any]) -> None:
    """Save a stream's state in the caller's transaction, beside the rows it covers."""
    upsert(
        conn,
        sync_cursors,
        [
            {
                "source_id": source_id,
                "stream": stream,
                "value": json.dumps(dict(state), sort_keys=True),
                "updated_at": utcnow(),
            }
        ],
    )


def start_run(conn: Connection, source_id: int | None, job: str, trigger: str, full: bool) -> int:
    """Open a run-history row in state `running`, owned by this process; first close the rows
    that killed processes of this host left `running`."""
    close_dead_runs(conn)
    result = conn.execute(
        insert(sync_runs).values(
            source_id=source_id,
            job=job,
            trigger=trigger,
            full=full,
            started_at=utcnow(),
            status="running",
            requests=0,
            owner=current_owner(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def close_dead_runs(conn: Connection) -> int:
    """Mark `interrupted` the running rows whose process (on this host) is gone."""
    running = conn.execute(
        select(sync_runs.c.id, sync_runs.c.owner).where(sync_runs.c.status == "running")
    ).all()
    dead = [run_id for run_id, owner in running if is_dead(owner)]
    if dead:
        conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id.in_(dead))
            .values(status="interrupted", error="its process ended before the run finished")
        )
    return len(dead)


def finish_run(
    conn: Connection,
    run_id: int,
    status: str,
    counts: Mapping[str, Any] | None = None,
    requests: int = 0,
    error: str | None = None,
) -> None:
    """Close a run-history row with its outcome."""
    conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(
            finished_at=utcnow(),
            status=status,
            counts=json.dumps(dict(counts or {}), sort_keys=True),
            requests=requests,
            error=error,
        )
    )
