"""The derived-analysis cache: the whole organisation's delivery analysis for one as-of, stored.

`pulse risk` and `pulse forecast` read what the metrics engine computed for every roadmap item,
work item and team at an as-of, instead of recomputing it per question. An entry is keyed by

- the **data version**: a digest of the sync history
  (:func:`pulse.store.analysis_reads.data_version`) that changes whenever a sync finishes (and
  with every cursor a sync saves), so new sync data never meets an old entry;
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

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
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
    delete,
    func,
    insert,
    select,
)

from pulse import clock
from pulse.store.chunks import chunked
from pulse.store.schema import UTCDateTime, metadata

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
    Column("row", Text, nullable=False),  # JSON: the `pulse risk` row
)

analysis_stories = Table(
    "analysis_stories",
    metadata,
    _run_fk(),
    Column("source", String(64), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("key", String(255), nullable=False),
    Column("team", String(255), nullable=False),
    Column("workflow", Text),
    Column("stage", String(16), nullable=False),  # unmapped | not started | in progress | done
    Column("column", Text),
    Column("committed", String(10)),  # local days, YYYY-MM-DD
    Column("done", String(10)),
    Column("cycle_days", Integer),
    Column("age_days", Integer),
    Column("estimate", Float),
    Column("epic", Text),
    Column("versions", Text, nullable=False),  # JSON list of names
    Column("entered", Text, nullable=False),  # JSON {column: day}
    Column("sprints", Text, nullable=False),  # JSON [[sprint id, in it at as-of], ...]
    Column("blocked", Text, nullable=False),  # JSON [[start ms, end ms], ...]
    Index("ix_analysis_stories_key", "run_id", "key"),
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

CHILD_TABLES = (
    analysis_roadmap,
    analysis_items,
    analysis_stories,
    analysis_members,
    analysis_teams,
)
KEEP_ENTRIES = 8  # reusable entries kept per (data version, config); older ones are pruned
GRACE = timedelta(seconds=120)  # an entry this young may still be being read: never pruned


Rows = Sequence[Mapping[str, Any]]


def save_entry(
    conn: Connection,
    run: Mapping[str, Any],
    children: Mapping[str, Rows],
) -> int:
    """Store one entry (``run``: the analysis_runs columns but id) with its rows; return its id.

    ``children``: the rows of each child table by its name without the ``analysis_`` prefix
    (``roadmap``, ``items``, ``stories``, ``members``, ``teams``). Then prune: entries of other
    data versions or configs, unusable ones, and all but the newest :data:`KEEP_ENTRIES` of
    this version and config.
    """
    from pulse.store.writes import insert_rows  # the dialects' inserts: only a refresh needs them

    tables = {t.name.removeprefix("analysis_"): t for t in CHILD_TABLES}
    entry_id = int(conn.execute(insert(analysis_runs).values(**run)).inserted_primary_key[0])  # type: ignore[index]
    for name, rows in children.items():
        if rows:
            insert_rows(conn, tables[name], [{"run_id": entry_id, **row} for row in rows])
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
    for chunk in chunked(gone):
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
    "analysis_items",
    "analysis_members",
    "analysis_roadmap",
    "analysis_runs",
    "analysis_stories",
    "analysis_teams",
    "clear",
    "count_entries",
    "prune",
    "save_entry",
]
