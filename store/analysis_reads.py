"""What the questions read from one stored analysis entry (:mod:`pulse.store.analysis`).

`pulse risk` picks roadmap and work-item rows with its filters (the database filters, counts and
ranks the work items, so a screenful reads only its own rows); `pulse forecast` reads a roadmap
item's forecast and its team's data; `pulse show` reads items' stories. Rows come back as the
JSON text or plain values stored; nothing here needs pandas.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, tuple_

from pulse.store.analysis import (
    Entry,
    analysis_items,
    analysis_members,
    analysis_roadmap,
    analysis_stories,
    analysis_teams,
)

Ranked = tuple[int, str, str, str]  # severity, key, source, the row's JSON


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


def _scoped(table: Any, pick: RiskPick) -> list[Any]:
    conds = []
    if pick.source is not None:
        conds.append(table.c.source == pick.source)
    if pick.project is not None:
        conds.append(table.c.project == pick.project)
    if pick.team is not None:
        conds.append(table.c.team == pick.team)
    return conds


def listed_roadmap(conn: Connection, entry: Entry, pick: RiskPick) -> list[str]:
    """The JSON rows of the listed roadmap items the scope, epic or version and due date pick
    (the level and reason filters are left to the caller)."""
    ar = analysis_roadmap
    conds = [ar.c.run_id == entry.id, ar.c.listed.is_(True), *_scoped(ar, pick)]
    if pick.epic is not None:
        conds += [ar.c.key == pick.epic, ar.c.kind != "version"]
    if pick.version is not None:
        conds += [ar.c.key == pick.version, ar.c.kind == "version"]
    if pick.due_before is not None:
        conds += [ar.c.target.is_not(None), ar.c.target < pick.due_before.isoformat()]
    return [str(raw) for (raw,) in conn.execute(select(ar.c.risk).where(*conds))]


def _member_of(entry: Entry, keys: Sequence[str]) -> Any:
    """The work item belongs to (is a child of) one of these open roadmap items: a subquery
    the database evaluates once, through the members' key index."""
    am, ai = analysis_members, analysis_items
    children = select(am.c.source, am.c.item_id).where(
        am.c.run_id == entry.id, am.c.roadmap_key.in_(list(keys))
    )
    return tuple_(ai.c.source, ai.c.item_id).in_(children)


def _item_conditions(entry: Entry, pick: RiskPick, roadmap_keys: set[str]) -> list[Any]:
    """The work items picked: the children of the epic / version asked about, or every work
    item in the source / project / team; with a due date, those due before it or belonging to
    one of ``roadmap_keys``; then the level and reason filters."""
    ai = analysis_items
    conds = [ai.c.run_id == entry.id, *_scoped(ai, pick), ai.c.level.in_(pick.levels)]
    named = [k for k in (pick.epic, pick.version) if k is not None]
    if named:
        conds.append(_member_of(entry, named))
    if pick.due_before is not None:
        due = and_(ai.c.due.is_not(None), ai.c.due < pick.due_before.isoformat())
        conds.append(or_(due, _member_of(entry, sorted(roadmap_keys))) if roadmap_keys else due)
    if pick.reason is not None:  # codes are joined by ','
        conds.append(("," + ai.c.reasons + ",").contains(f",{pick.reason},", autoescape=True))
    return conds


def item_risks(
    conn: Connection,
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
    ai = analysis_items
    conds = _item_conditions(entry, pick, roadmap_keys)
    key = ai.c.key.collate("C") if conn.dialect.name == "postgresql" else ai.c.key
    source = ai.c.source.collate("C") if conn.dialect.name == "postgresql" else ai.c.source
    query = (
        select(ai.c.severity, ai.c.key, ai.c.source, ai.c.row)
        .where(*conds)
        .order_by(ai.c.severity.desc(), key, source)
        .limit(limit)
    )
    result = conn.execute(query)
    rows = result.cursor.fetchall() if result.cursor is not None else result.all()
    ranked = [(int(sev), str(k), str(src), str(text)) for sev, k, src, text in rows]
    counted = select(ai.c.level, func.count()).where(*conds).group_by(ai.c.level)
    levels = {str(lvl): int(n) for lvl, n in conn.execute(counted)}
    return ranked, levels


def roadmap_forecast(conn: Connection, entry: Entry, source: str, roadmap_id: str) -> Any:
    """What `pulse forecast` shows for one roadmap item (parsed JSON), None when not stored."""
    ar = analysis_roadmap
    raw = conn.execute(
        select(ar.c.forecast).where(
            ar.c.run_id == entry.id, ar.c.source == source, ar.c.roadmap_id == roadmap_id
        )
    ).scalar()
    return None if raw is None else json.loads(raw)


def team_data(conn: Connection, entry: Entry, team: str) -> dict[str, Any] | None:
    """The stored per-team data (throughput, forecast plan, cycle times), None when unknown."""
    raw = conn.execute(
        select(analysis_teams.c.data).where(
            analysis_teams.c.run_id == entry.id, analysis_teams.c.team == team
        )
    ).scalar()
    return None if raw is None else dict(json.loads(raw))


def roadmap_risk(conn: Connection, entry: Entry, source: str, key: str) -> dict[str, Any] | None:
    """The `pulse risk` row of a roadmap item (with its late-work drill-down), None when the
    item is no roadmap item or not listed."""
    raw = conn.execute(
        select(analysis_roadmap.c.risk).where(
            analysis_roadmap.c.run_id == entry.id,
            analysis_roadmap.c.source == source,
            analysis_roadmap.c.key == key,
        )
    ).scalar()
    return None if raw is None else dict(json.loads(raw))


def stories(
    conn: Connection,
    entry: Entry,
    source: str,
    item_ids: Sequence[str] = (),
    keys: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The stored stories (:data:`pulse.store.analysis.analysis_stories` rows) of one
    source's items, by item id or by key."""
    st = analysis_stories
    picked = []
    if item_ids:
        picked.append(st.c.item_id.in_(sorted(set(item_ids))))
    if keys:
        picked.append(st.c.key.in_(sorted(set(keys))))
    if not picked:
        return []
    query = select(st).where(st.c.run_id == entry.id, st.c.source == source, or_(*picked))
    return [dict(row._mapping) for row in conn.execute(query)]


__all__ = [
    "Ranked",
    "RiskPick",
    "item_risks",
    "listed_roadmap",
    "roadmap_forecast",
    "roadmap_risk",
    "stories",
    "team_data",
]
