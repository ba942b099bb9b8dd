"""Stored roadmap history: a snapshot of every roadmap row per report, and each item's baseline.

The weekly report saves its ``roadmap_snapshot`` frame (see ``pulse.reports.metrics.frames``) so
next
week's report can show what changed and how often past forecasts came true, and the baseline
(scope and target when an item was first seen with a target) so scope growth is measured against
it. Frames carry the source *name*; rows are keyed by source id like the rest of the store.
Timestamps are kept to the microsecond (what both backends store). pandas is imported only by
the functions that build frames: `pulse forecast` asks
:func:`pulse.store.item_reads.has_snapshots` without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from pulse.store.engine import Store
from pulse.store.schema import UTCDateTime, _source_fk, metadata, sources
from pulse.store.timestamps import frame_instant
from pulse.store.writes import insert_rows

if TYPE_CHECKING:
    import pandas as pd

roadmap_snapshots = Table(
    "roadmap_snapshots",
    metadata,
    Column("snapshot_at", UTCDateTime, primary_key=True),
    _source_fk(),
    Column("roadmap_id", String(128), primary_key=True),  # item id, or 'version:<id>'
    Column("kind", String(16), nullable=False),  # epic | version | card
    Column("key", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("team", String(255), nullable=False),
    Column("target", UTCDateTime),  # local midnight of the target day, as a UTC instant
    Column("p50", UTCDateTime),
    Column("p85", UTCDateTime),
    Column("p95", UTCDateTime),
    Column("done_at", UTCDateTime),
    Column("scope", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("pct_complete", Float),  # NULL without children
    Column("status", String(16), nullable=False),
    Column("reasons", Text, nullable=False),  # reason codes joined by ','
    Column("evidence", Text, nullable=False),  # one sentence per reason, joined by newlines
    Column("severity", Integer, nullable=False),
)

roadmap_baselines = Table(
    "roadmap_baselines",
    metadata,
    _source_fk(),
    Column("roadmap_id", String(128), primary_key=True),
    Column("baseline_at", UTCDateTime, nullable=False),
    Column("baseline_scope", Integer, nullable=False),
    Column("baseline_target", UTCDateTime, nullable=False),
)

# The frames' columns in contract order (reports.metrics.frames): the source name for source_id.
SNAPSHOT_COLUMNS = ["snapshot_at", "source", *[c.name for c in roadmap_snapshots.columns][2:]]
BASELINE_COLUMNS = ["source", *[c.name for c in roadmap_baselines.columns][1:]]


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, NaN / NA as None."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _rows(
    store: Store, frame: pd.DataFrame, table: Table, columns: list[str]
) -> list[dict[str, Any]]:
    """Frame rows as table rows: source name -> id, timestamps -> aware datetimes."""
    ids = store.source_ids()
    unknown = sorted(set(frame["source"].astype(str)) - set(ids))
    if unknown:
        raise ValueError(f"unknown sources {unknown}: sync them before saving their roadmap")
    times = {c.name for c in table.columns if isinstance(c.type, UTCDateTime)}
    out = []
    for rec in frame[columns].to_dict("records"):
        row: dict[str, Any] = {"source_id": ids[str(rec.pop("source"))]}
        row.update({str(k): frame_instant(v) if k in times else _plain(v) for k, v in rec.items()})
        out.append(row)
    return out


def read_frame(
    conn: Connection, table: Table, columns: list[str], where: Iterable[Any]
) -> pd.DataFrame:
    """Read a table with source names, typed as the metrics engine's frames expect."""
    import pandas as pd

    others = [table.c[c] for c in columns if c != "source"]
    query = select(sources.c.name.label("source"), *others).join(
        sources, sources.c.id == table.c.source_id
    )
    for clause in where:
        query = query.where(clause)
    result = conn.execute(query)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in table.columns:
        if col.name not in frame:
            continue
        if isinstance(col.type, UTCDateTime):
            frame[col.name] = pd.to_datetime(frame[col.name], utc=True).dt.as_unit("ns")
        elif isinstance(col.type, Integer):
            frame[col.name] = frame[col.name].astype("int64")
        elif isinstance(col.type, Float):
            frame[col.name] = pd.to_numeric(frame[col.name]).astype("float64")
        else:
            frame[col.name] = frame[col.name].astype(object)
    frame["source"] = frame["source"].astype(object)
    return frame[columns]


def item_snapshots(
    conn: Connection, source_id: int, roadmap_id: str, before: datetime
) -> pd.DataFrame:
    """Every snapshot row of one roadmap item taken strictly before ``before``."""
    t = roadmap_snapshots
    mine = [t.c.source_id == source_id, t.c.roadmap_id == roadmap_id, t.c.snapshot_at < before]
    return read_frame(conn, t, SNAPSHOT_COLUMNS, mine)


def _cutoff(before: pd.Timestamp) -> datetime:
    """``before`` at the precision the store keeps, so a saved instant compares as itself."""
    stamp = frame_instant(before)
    if stamp is None:
        raise ValueError("before must be a timestamp")
    return stamp


def save_snapshot(store: Store, frame: pd.DataFrame) -> None:
    """Store a report's roadmap snapshot: one per week, a re-run replaces the week's rows.

    Rows are keyed by (snapshot_at, source, roadmap_id). Whatever is already stored for the same
    sources in the same week (Monday 00:00 UTC to the next) is replaced as a whole, so forecast
    calibration counts one forecast per item per week however often the report was re-run.
    """
    if frame.empty:
        return
    rows = _rows(store, frame, roadmap_snapshots, SNAPSHOT_COLUMNS)
    replaced: dict[datetime, set[int]] = {}
    for row in rows:
        replaced.setdefault(row["snapshot_at"], set()).add(row["source_id"])
    table = roadmap_snapshots
    with store.transaction() as conn:
        for at, source_ids in replaced.items():
            monday = datetime.combine(at.date() - timedelta(days=at.weekday()), time(), UTC)
            conn.execute(
                delete(table).where(
                    table.c.snapshot_at >= monday,
                    table.c.snapshot_at < monday + timedelta(days=7),
                    table.c.source_id.in_(source_ids),
                )
            )
        insert_rows(conn, table, rows)


def load_snapshots(store: Store, before: pd.Timestamp | None = None) -> pd.DataFrame:
    """Every stored snapshot row (taken strictly before ``before`` when given), oldest first."""
    table = roadmap_snapshots
    where = [] if before is None else [table.c.snapshot_at < _cutoff(before)]
    with store.engine.connect() as conn:
        frame = read_frame(conn, table, SNAPSHOT_COLUMNS, where)
    order = ["snapshot_at", "source", "roadmap_id"]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def previous_snapshot(store: Store, before: pd.Timestamp) -> pd.DataFrame | None:
    """The latest snapshot taken strictly before ``before``, or None when there is none."""
    table = roadmap_snapshots
    cutoff = _cutoff(before)
    with store.engine.connect() as conn:
        latest = conn.execute(
            select(func.max(table.c.snapshot_at)).where(table.c.snapshot_at < cutoff)
        ).scalar()
        if latest is None:
            return None
        frame = read_frame(conn, table, SNAPSHOT_COLUMNS, [table.c.snapshot_at == latest])
    return frame.sort_values(["source", "roadmap_id"], kind="stable").reset_index(drop=True)


def save_baselines(store: Store, frame: pd.DataFrame) -> None:
    """Store baselines; an item keeps its earliest one (a re-run of an older week may move it
    earlier, a later report never overwrites it)."""
    if frame.empty:
        return
    rows = _rows(store, frame, roadmap_baselines, BASELINE_COLUMNS)
    table = roadmap_baselines
    with store.transaction() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={c: statement.excluded[c] for c in BASELINE_COLUMNS[2:]},
            where=statement.excluded.baseline_at < table.c.baseline_at,
        )
        conn.execute(statement, rows)


def load_baselines(store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Stored baselines (only those taken at or before ``as_of`` when given)."""
    table = roadmap_baselines
    where = [] if as_of is None else [table.c.baseline_at <= _cutoff(as_of)]
    with store.engine.connect() as conn:
        frame = read_frame(conn, table, BASELINE_COLUMNS, where)
    return frame.sort_values(["source", "roadmap_id"], kind="stable").reset_index(drop=True)
