"""What the questions read from the stored analysis (:mod:`pulse.store.analysis`), in plain SQL.

Which entry answers an as-of (:func:`data_version`, :func:`find_entry`); then `pulse risk` picks
roadmap and work-item rows with its filters (the database filters, counts and ranks the work
items, so a screenful reads only its own rows); `pulse forecast` reads a roadmap item's forecast
and its team's data; `pulse show` reads items' stories. Rows come back as the JSON text or plain
values stored. Everything here runs on the driver's connection without SQLAlchemy, or on a
SQLAlchemy connection (:mod:`pulse.store.sql`); nothing here needs pandas.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pulse import clock
from pulse.store.run_owner import is_dead
from pulse.store.sql import dialect_of, first, records, rows, scalar
from pulse.store.timestamps import from_stored, to_text

if TYPE_CHECKING:
    from pulse.store.sql import Conn

Ranked = tuple[int, str, str, str]  # severity, key, source, the row's JSON
STALE_RUN = timedelta(hours=12)  # a run 'running' for longer was left behind by a dead process
DATA_RUNS = "job != 'report'"  # report runs write roadmap snapshots, which the analysis ignores


# -- which entry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataVersion:
    """What the sync history says about the data: a digest and whether a sync is running."""

    digest: str
    busy: bool


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return to_text(value)
    return str(value)


def data_version(conn: Conn, now: datetime | None = None) -> DataVersion:
    """The data version: changes whenever a sync (or census) starts, finishes, or saves a cursor.

    Report runs are left out: they write roadmap snapshots, which the analysis does not read.
    ``busy`` is True while a run is `running`: started less than :data:`STALE_RUN` ago, and
    not by a process of this host that is gone (a killed sync must not keep every question
    from reusing the stored analysis).
    """
    now = now or clock.now()
    count, last_id, finished = rows(
        conn, f"SELECT COUNT(*), MAX(id), MAX(finished_at) FROM sync_runs WHERE {DATA_RUNS}"
    )[0]
    running = rows(
        conn,
        f"SELECT owner FROM sync_runs WHERE {DATA_RUNS} AND status = 'running'"
        " AND started_at > :since",
        since=now - STALE_RUN,
    )
    cursors, updated = rows(conn, "SELECT COUNT(*), MAX(updated_at) FROM sync_cursors")[0]
    stamps = [None if v is None else from_stored(v) for v in (finished, updated)]
    parts = [count, last_id, stamps[0], cursors, stamps[1]]
    busy = any(not is_dead(owner) for (owner,) in running)
    return DataVersion(":".join(_text(p) for p in parts), busy)


@dataclass(frozen=True)
class Entry:
    """One stored analysis: its id and what it was computed from."""

    id: int
    as_of: datetime
    meta: dict[str, Any]


def _entry(row: tuple[Any, ...] | None) -> Entry | None:
    if row is None:
        return None
    return Entry(int(row[0]), from_stored(row[1]), json.loads(row[2]))


def find_entry(conn: Conn, version: str, config_hash: str, as_of: datetime) -> Entry | None:
    """The newest reusable entry for this data version and config that is valid at ``as_of``."""
    return _entry(
        first(
            conn,
            "SELECT id, as_of, meta FROM analysis_runs"
            " WHERE data_version = :version AND config_hash = :config_hash AND reusable = :yes"
            " AND ((point = :yes AND valid_from = :as_of)"
            " OR (point = :no AND valid_from < :as_of AND valid_to > :as_of))"
            " ORDER BY id DESC LIMIT 1",
            version=version,
            config_hash=config_hash,
            as_of=as_of,
            yes=True,
            no=False,
        )
    )


def entry_by_id(conn: Conn, entry_id: int) -> Entry:
    """A stored entry by id."""
    found = _entry(
        first(conn, "SELECT id, as_of, meta FROM analysis_runs WHERE id = :id", id=entry_id)
    )
    if found is None:
        raise LookupError(f"no stored analysis {entry_id}")
    return found


# -- the rows of one entry ------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskPick:
    """Which risk rows a question wants; None = no filter. ``levels``: the levels kept."""

    source: str | None = None
    project: str | None = None
    team: str | None = None
    epic: str | None = None  # key of an epic or roadmap card
    version: str | None = None  # name of a version
    due_before: date | None = None
    reason: str | None = None  # one reason code
    levels: tuple[str, ...] = ("low", "medium", "high")


def _scoped(table: str, pick: RiskPick) -> str:
    """Conditions on the scope columns, with the ``:source``, ``:project`` and ``:team``
    parameters of :func:`_pick_params`."""
    conds = [
        f"{table}.{c} = :{c}" for c in ("source", "project", "team") if getattr(pick, c) is not None
    ]
    return "".join(f" AND {c}" for c in conds)


def _pick_params(entry: Entry, pick: RiskPick) -> dict[str, Any]:
    return {
        "run_id": entry.id,
        "source": pick.source,
        "project": pick.project,
        "team": pick.team,
        "epic": pick.epic,
        "version": pick.version,
        "due": pick.due_before.isoformat() if pick.due_before is not None else None,
        "levels": list(pick.levels),
        "reason": f"%,{_like(pick.reason)},%" if pick.reason is not None else None,
        "yes": True,
    }


def _like(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '/'."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def listed_roadmap(conn: Conn, entry: Entry, pick: RiskPick) -> list[str]:
    """The JSON rows of the listed roadmap items the scope, epic or version and due date pick
    (the level and reason filters are left to the caller)."""
    sql = "SELECT risk FROM analysis_roadmap AS ar WHERE run_id = :run_id AND listed = :yes"
    sql += _scoped("ar", pick)
    if pick.epic is not None:
        sql += " AND key = :epic AND kind != 'version'"
    if pick.version is not None:
        sql += " AND key = :version AND kind = 'version'"
    if pick.due_before is not None:
        sql += " AND target IS NOT NULL AND target < :due"
    return [str(raw) for (raw,) in rows(conn, sql, **_pick_params(entry, pick))]


def _member_of(keys: str) -> str:
    """The work item belongs to (is a child of) one of the open roadmap items in the ``keys``
    parameter: a subquery the database evaluates once, through the members' key index."""
    return (
        "(ai.source, ai.item_id) IN (SELECT am.source, am.item_id FROM analysis_members AS am"
        f" WHERE am.run_id = :run_id AND am.roadmap_key IN (:{keys}))"
    )


def _item_conditions(pick: RiskPick, roadmap_keys: set[str]) -> str:
    """The work items picked: the children of the epic / version asked about, or every work
    item in the source / project / team; with a due date, those due before it or belonging to
    one of ``roadmap_keys`` (the ``:listed`` parameter); then the level and reason filters."""
    sql = " WHERE ai.run_id = :run_id" + _scoped("ai", pick) + " AND ai.level IN (:levels)"
    if pick.epic is not None or pick.version is not None:
        sql += " AND " + _member_of("named")
    if pick.due_before is not None:
        due = "(ai.due IS NOT NULL AND ai.due < :due)"
        sql += f" AND ({due} OR {_member_of('listed')})" if roadmap_keys else f" AND {due}"
    if pick.reason is not None:  # codes are joined by ','
        sql += " AND ',' || ai.reasons || ',' LIKE :reason ESCAPE '/'"
    return sql


def item_risks(
    conn: Conn,
    entry: Entry,
    pick: RiskPick,
    roadmap_keys: set[str],
    limit: int | None = None,
) -> tuple[list[Ranked], dict[str, int]]:
    """The picked work items' (severity, key, source, row JSON), most severe first (only the
    first ``limit`` ones when given), and how many were picked at each level.

    ``roadmap_keys``: the listed roadmap items a work item due later still counts through when
    a due date is asked. Keys rank by code point, as Python sorts them (PostgreSQL: the "C"
    collation)."""
    where = _item_conditions(pick, roadmap_keys)
    params = {
        **_pick_params(entry, pick),
        "named": [k for k in (pick.epic, pick.version) if k is not None],
        "listed": sorted(roadmap_keys),
    }
    collate = ' COLLATE "C"' if dialect_of(conn) == "postgresql" else ""
    sql = (
        "SELECT ai.severity, ai.key, ai.source, ai.row FROM analysis_items AS ai"
        f"{where} ORDER BY ai.severity DESC, ai.key{collate}, ai.source{collate}"
    )
    if limit is not None:
        sql += " LIMIT :limit"
    found = rows(conn, sql, **params, limit=limit)
    ranked = [(int(sev), str(k), str(src), str(text)) for sev, k, src, text in found]
    counted = rows(
        conn,
        f"SELECT ai.level, COUNT(*) FROM analysis_items AS ai{where} GROUP BY ai.level",
        **params,
    )
    return ranked, {str(lvl): int(n) for lvl, n in counted}


def roadmap_forecast(conn: Conn, entry: Entry, source: str, roadmap_id: str) -> Any:
    """What `pulse forecast` shows for one roadmap item (parsed JSON), None when not stored."""
    raw = scalar(
        conn,
        "SELECT forecast FROM analysis_roadmap"
        " WHERE run_id = :run_id AND source = :source AND roadmap_id = :roadmap_id",
        run_id=entry.id,
        source=source,
        roadmap_id=roadmap_id,
    )
    return None if raw is None else json.loads(raw)


def team_data(conn: Conn, entry: Entry, team: str) -> dict[str, Any] | None:
    """The stored per-team data (throughput, forecast plan, cycle times), None when unknown."""
    raw = scalar(
        conn,
        "SELECT data FROM analysis_teams WHERE run_id = :run_id AND team = :team",
        run_id=entry.id,
        team=team,
    )
    return None if raw is None else dict(json.loads(raw))


def roadmap_risk(conn: Conn, entry: Entry, source: str, key: str) -> dict[str, Any] | None:
    """The `pulse risk` row of a roadmap item (with its late-work drill-down), None when the
    item is no roadmap item or not listed."""
    raw = scalar(
        conn,
        "SELECT risk FROM analysis_roadmap WHERE run_id = :run_id AND source = :source"
        " AND key = :key",
        run_id=entry.id,
        source=source,
        key=key,
    )
    return None if raw is None else dict(json.loads(raw))


def stories(
    conn: Conn,
    entry: Entry,
    source: str,
    item_ids: Sequence[str] = (),
    keys: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The stored stories (:data:`pulse.store.analysis.analysis_stories` rows) of one
    source's items, by item id or by key."""
    picked = []
    if item_ids:
        picked.append("item_id IN (:item_ids)")
    if keys:
        picked.append("key IN (:keys)")
    if not picked:
        return []
    return records(
        conn,
        "SELECT * FROM analysis_stories WHERE run_id = :run_id AND source = :source"
        f" AND ({' OR '.join(picked)})",
        run_id=entry.id,
        source=source,
        item_ids=sorted(set(item_ids)),
        keys=sorted(set(keys)),
    )


__all__ = [
    "STALE_RUN",
    "DataVersion",
    "Entry",
    "Ranked",
    "RiskPick",
    "data_version",
    "entry_by_id",
    "find_entry",
    "item_risks",
    "listed_roadmap",
    "roadmap_forecast",
    "roadmap_risk",
    "stories",
    "team_data",
]
