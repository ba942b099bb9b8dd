"""The derived-analysis cache: the whole organisation's delivery analysis for one as-of, stored.

`pulse risk` and `pulse forecast` read what the metrics engine computed for every roadmap item,
work item and team at an as-of, instead of recomputing it per question. An entry is keyed by

- the **data version**: a digest of the sync history (:func:`data_version`) that changes
  whenever a sync finishes (and with every cursor a sync saves), so new sync data never meets an
  old entry;
- the **config hash**: what in the settings changes the analysis (zone, teams, workflows,
  engine version), computed by the caller;
- the **validity interval** of the as-of: the answer only changes when the as-of crosses a
  stored event (a transition, a field change, an item created or gone, a sprint starting or
  ending, a release date) or a local midnight, so an entry computed at instant *a* is valid
  for every instant strictly between the events around *a* (``valid_from < as_of <
  valid_to``), or for *a* alone when *a* is itself such an event (``point``).

Entries computed while a sync is still running are not ``reusable``: the sync may commit more
pages before it records its end. Rows are plain columns for SQL filtering plus the JSON-ready
answer rows; nothing here needs pandas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
)

from pulse import clock
from pulse.store.run_owner import is_dead
from pulse.store.schema import UTCDateTime, metadata, sync_cursors, sync_runs
from pulse.store.writes import insert_rows

analysis_runs = Table(
    "analysis_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("data_version", String(255), nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("as_of", UTCDateTime, nullable=False),  # the instant it was computed for
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=False),
    Column("point", Boolean, nullable=False, default=False),  # valid at valid_from only
    Column("reusable", Boolean, nullable=False, default=True),  # False: a sync was running
    Column("computed_at", UTCDateTime, nullable=False),
    Column("seconds", Float),
    Column("meta", Text, nullable=False),  # JSON: today, window start, forecast settings
    Index("ix_analysis_runs_key", "data_version", "config_hash"),
)


def _run_fk() -> Column[int]:
    return Column(
        "run_id",
        Integer,
        ForeignKey("analysis_runs.id", ondelete="CASCADE"),
        primary_key=True,
    )


analysis_roadmap = Table(
    "analysis_roadmap",
    metadata,
    _run_fk(),
    Column("source", String(64), primary_key=True),
    Column("roadmap_id", String(128), primary_key=True),  # item id, or 'version:<id>'
    Column("kind", String(16), nullable=False),  # epic | version | card
    Column("key", String(255), nullable=False),
    Column("team", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("listed", Boolean, nullable=False),  # a `pulse risk` row (open, not plainly on track)
    Column("target", String(10)),  # local target day, YYYY-MM-DD
    Column("risk", Text),  # JSON: the `pulse risk` row when listed
    Column("forecast", Text, nullable=False),  # JSON: what `pulse forecast` shows
)

analysis_items = Table(
    "analysis_items",
    metadata,
    _run_fk(),
    Column("source", String(64), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("key", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("team", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("status", Text, nullable=False),  # its workflow column (else its status)
    Column("level", String(8), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("reasons", Text, nullable=False),  # codes joined by ','
    Column("evidence", Text, nullable=False),  # one sentence per code, joined by newlines
    Column("due", String(10)),  # own due day at as_of, YYYY-MM-DD
    Column("parent", Text),  # keys of its open roadmap items, joined by ', '
    Column("url", Text, nullable=False),
)

analysis_members = Table(
    "analysis_members",
    metadata,
    _run_fk(),
    Column("source", String(64), primary_key=True),
    Column("roadmap_id", String(128), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("roadmap_key", String(255), nullable=False),
    Index("ix_analysis_members_key", "run_id", "roadmap_key"),
)

analysis_teams = Table(
    "analysis_teams",
    metadata,
    _run_fk(),
    Column("team", String(255), primary_key=True),
    Column("data", Text, nullable=False),  # JSON: throughput, forecast plan, cycle times
)

CHILD_TABLES = (analysis_roadmap, analysis_items, analysis_members, analysis_teams)
KEEP_ENTRIES = 8  # reusable entries kept per (data version, config); older ones are pruned
STALE_RUN = timedelta(hours=12)  # a run 'running' for longer was left behind by a dead process
GRACE = timedelta(seconds=120)  # an entry this young may still be being read: never pruned


def begin_snapshot(conn: Connection) -> Connection:
    """Make every read on ``conn`` see one consistent state of the store until it closes.

    SQLite (WAL): an explicit read transaction; PostgreSQL: REPEATABLE READ. Call first.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
        return conn
    return conn.execution_options(isolation_level="REPEATABLE READ")


@dataclass(frozen=True)
class DataVersion:
    """What the sync history says about the data: a digest and whether a sync is running."""

    digest: str
    busy: bool


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def data_version(conn: Connection, now: datetime | None = None) -> DataVersion:
    """The data version: changes whenever a sync (or census) starts, finishes, or saves a cursor.

    Report runs are left out: they write roadmap snapshots, which the analysis does not read.
    ``busy`` is True while a run is `running`: started less than :data:`STALE_RUN` ago, and
    not by a process of this host that is gone (a killed sync must not keep every question
    from reusing the stored analysis).
    """
    now = now or clock.now()
    data_runs = sync_runs.c.job != "report"
    runs = conn.execute(
        select(
            func.count(),
            func.max(sync_runs.c.id),
            func.max(sync_runs.c.finished_at),
        ).where(data_runs)
    ).one()
    running = conn.execute(
        select(sync_runs.c.owner).where(
            data_runs,
            sync_runs.c.status == "running",
            sync_runs.c.started_at > now - STALE_RUN,
        )
    ).all()
    cursors = conn.execute(select(func.count(), func.max(sync_cursors.c.updated_at))).one()
    parts = [*runs, *cursors]
    busy = any(not is_dead(owner) for (owner,) in running)
    return DataVersion(":".join(_text(p) for p in parts), busy)


@dataclass(frozen=True)
class Entry:
    """One stored analysis: its id and what it was computed from."""

    id: int
    as_of: datetime
    meta: dict[str, Any]


def find_entry(conn: Connection, version: str, config_hash: str, as_of: datetime) -> Entry | None:
    """The newest reusable entry for this data version and config that is valid at ``as_of``."""
    r = analysis_runs
    row = conn.execute(
        select(r.c.id, r.c.as_of, r.c.meta)
        .where(
            r.c.data_version == version,
            r.c.config_hash == config_hash,
            r.c.reusable.is_(True),
            or_(
                and_(r.c.point.is_(True), r.c.valid_from == as_of),
                and_(r.c.point.is_(False), r.c.valid_from < as_of, r.c.valid_to > as_of),
            ),
        )
        .order_by(r.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Entry(int(row.id), row.as_of, json.loads(row.meta))


def entry_by_id(conn: Connection, entry_id: int) -> Entry:
    """A stored entry by id."""
    r = analysis_runs
    row = conn.execute(select(r.c.id, r.c.as_of, r.c.meta).where(r.c.id == entry_id)).first()
    if row is None:
        raise LookupError(f"no stored analysis {entry_id}")
    return Entry(int(row.id), row.as_of, json.loads(row.meta))


Rows = Sequence[Mapping[str, Any]]


def save_entry(
    conn: Connection,
    run: Mapping[str, Any],
    children: Mapping[Table, Rows],
) -> int:
    """Store one entry (``run``: the analysis_runs columns but id) with its rows; return its id.

    Then prune: entries of other data versions or configs, unusable ones, and all but the
    newest :data:`KEEP_ENTRIES` of this version and config.
    """
    entry_id = int(conn.execute(insert(analysis_runs).values(**run)).inserted_primary_key[0])  # type: ignore[index]
    for table, rows in children.items():
        if rows:
            insert_rows(conn, table, [{"run_id": entry_id, **row} for row in rows])
    prune(conn, str(run["data_version"]), str(run["config_hash"]), keep=entry_id)
    return entry_id


def prune(
    conn: Connection,
    version: str,
    config_hash: str,
    keep: int | None = None,
    now: datetime | None = None,
) -> int:
    """Delete the entries that can no longer be used, and all but the newest few; return count.

    Entries younger than :data:`GRACE` stay: a question may be reading the one it just stored.
    """
    r = analysis_runs
    young = (now or clock.now()) - GRACE
    rows = conn.execute(
        select(r.c.id, r.c.data_version, r.c.config_hash, r.c.reusable, r.c.computed_at).order_by(
            r.c.id.desc()
        )
    ).all()
    room = KEEP_ENTRIES - (1 if keep is not None else 0)
    kept: list[int] = []
    gone: list[int] = []
    for entry_id, v, c, reusable, computed_at in rows:
        if entry_id == keep:
            continue
        if v == version and c == config_hash and reusable and len(kept) < room:
            kept.append(int(entry_id))
        elif computed_at is None or computed_at < young:
            gone.append(int(entry_id))
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        for table in CHILD_TABLES:
            conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
        conn.execute(delete(r).where(r.c.id.in_(chunk)))
    return len(gone)


def clear(conn: Connection) -> None:
    """Forget every stored analysis (the next question recomputes)."""
    for table in CHILD_TABLES:
        conn.execute(delete(table))
    conn.execute(delete(analysis_runs))


def count_entries(conn: Connection) -> int:
    """How many entries are stored."""
    return int(conn.execute(select(func.count()).select_from(analysis_runs)).scalar_one())


__all__ = [
    "CHILD_TABLES",
    "DataVersion",
    "Entry",
    "analysis_items",
    "analysis_members",
    "analysis_roadmap",
    "analysis_runs",
    "analysis_teams",
    "begin_snapshot",
    "clear",
    "count_entries",
    "data_version",
    "entry_by_id",
    "find_entry",
    "prune",
    "save_entry",
]
