"""`pulse risk`: at-risk roadmap and work items, most severe first, with reasons and evidence.

Roadmap items (epics, versions, Trello roadmap cards) get the engine's roadmap health
(:func:`pulse.reports.metrics.health.snapshot_rows`): status, reason codes and one plain sentence of
evidence per reason. Work items get the reasons that apply to one item: OVERDUE (own due date
passed), BLOCKED (flagged, or blocked by an open issue), STALLED (in progress, no move for
``stalled_days``), AGING_WIP (in progress longer than its team's p85 cycle time) and UNESTIMATED
(no estimate while in an active or future sprint). Every row has a level: roadmap items *high*
when off track, *medium* at risk, else *low*; work items *high* when overdue or blocked,
*medium* when stalled or ageing, else *low*.

The rows come from the stored whole-organisation analysis for the as-of
(:mod:`pulse.reports.queries.analysis`), computed on the first question after new sync data; a
filter only selects among them, so a filtered answer is always the matching part of the whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, tuple_

from pulse.settings import Settings
from pulse.store import Store
from pulse.store.analysis import Entry, analysis_items, analysis_members, analysis_roadmap

from .analysis import instant, reading
from .catalog import (
    Catalog,
    ask_source,
    is_roadmap_type,
    items_with_key,
    one_source,
    read_catalog,
)
from .errors import QueryError, unknown

LEVELS = ("low", "medium", "high")
ITEM_REASONS = ("OVERDUE", "BLOCKED", "STALLED", "AGING_WIP", "UNESTIMATED")
REASONS: tuple[str, ...] = (  # reports.metrics.health.REASONS, in order
    "OVERDUE",
    "FORECAST_LATE",
    "SCOPE_GROWTH",
    "STALLED",
    "BLOCKED",
    "LATE_DEPENDENCY",
    "AGING_WIP",
    "UNESTIMATED",
    "NO_TARGET",
    "STALE_SCOPE",
)


@dataclass(frozen=True)
class RiskFilters:
    """What `pulse risk` was asked; None = no filter."""

    source: str | None = None
    project: str | None = None
    team: str | None = None
    epic: str | None = None
    version: str | None = None
    due_before: date | None = None
    reason: str | None = None
    min_severity: str = "low"


@dataclass
class RiskAnswer:
    """Rows most severe first (perhaps only the first few); each row is a JSON-ready dict
    (see docs/queries.md)."""

    as_of: datetime
    timezone: str
    filters: RiskFilters
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # counts every row, shown or not
    freshness: dict[str, Any] = field(default_factory=dict)  # the workbook's freshness line

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse risk --format json`."""
        filters = {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in asdict(self.filters).items()
        }
        return {
            "command": "risk",
            "as_of": self.as_of.isoformat(),
            "timezone": self.timezone,
            "filters": filters,
            "summary": self.summary,
            "freshness": self.freshness,
            "rows": self.rows,
        }


def check_filters(conn: Connection, catalog: Catalog, as_of: datetime, f: RiskFilters) -> None:
    """Raise QueryError naming the first filter value the store does not know."""
    ids = catalog.source_ids
    if f.source is not None and f.source not in ids:
        raise unknown("source", f.source, ids)
    projects = [p for p in catalog.projects if f.source is None or p[0] == f.source]
    if f.project is not None and f.project not in {p for _, p, _ in projects}:
        raise unknown("project", f.project, [p for _, p, _ in projects if p])
    if f.project is not None:
        ask_source(f"project {f.project}", sorted(s for s, p, _ in projects if p == f.project))
    if f.team is not None and f.team not in {t for _, _, t in projects}:
        raise unknown("team", f.team, [t for _, _, t in projects])
    if f.reason is not None and f.reason not in REASONS:
        raise unknown("reason code", f.reason, REASONS, limit=len(REASONS))
    if f.min_severity not in LEVELS:
        raise unknown("severity", f.min_severity, LEVELS)
    if f.version is not None:
        names = [n for s, _, _, _, n in catalog.versions if f.source is None or s == f.source]
        if f.version not in set(names):
            raise unknown("version", f.version, names)
        ask_source(
            f"version {f.version}",
            sorted(
                s
                for s, _, _, _, n in catalog.versions
                if n == f.version and (f.source is None or s == f.source)
            ),
        )
    if f.epic is not None:
        find_roadmap_item(conn, catalog, as_of, f.epic, f.source, what="epic")


def find_roadmap_item(
    conn: Connection,
    catalog: Catalog,
    as_of: datetime,
    key: str,
    source: str | None,
    what: str,
) -> tuple[int, str]:
    """(source_id, item_id) of the epic / roadmap card with this key at as_of, else QueryError."""
    sid = catalog.source_ids[source] if source is not None else None
    rows = items_with_key(conn, as_of, key, sid)
    hits = [(s, i) for s, i, t, _ in rows if is_roadmap_type(t)]
    one_source(conn, key, [s for s, _ in hits])
    if hits:
        return hits[0]
    if rows:
        kind = rows[0][2] or "item"
        raise QueryError(f"{key} is a {kind}, not an {what} (epic or roadmap card)")
    day = as_of.strftime("%Y-%m-%d")
    raise QueryError(f"unknown {what} {key!r} (no such key in the store at {day})")


def risk(
    store: Store,
    settings: Settings,
    as_of: Any = None,
    filters: RiskFilters | None = None,
    health: Any = None,
    limit: int | None = None,
) -> RiskAnswer:
    """Answer `pulse risk` from the store as it was known at ``as_of`` (default now).

    ``health``: a :class:`pulse.reports.metrics.health.HealthConfig` other than the default.
    ``limit``: keep only the most severe rows (the summary still counts every row). The
    database filters, counts and ranks the work items, so a table's screenful reads only
    its own rows.
    """
    f = filters or RiskFilters()
    when = instant(as_of)
    with store.engine.connect() as conn:
        check_filters(conn, read_catalog(conn, settings), when, f)
    with reading(store, settings, when, health) as (conn, entry):
        fresh = dict(entry.meta.get("freshness") or {})
        listed = _roadmap_rows(conn, entry, f)
        conds = _item_conditions(entry, f, {r["key"] for r in listed})
        items = _item_rows(conn, conds, limit)
        level = analysis_items.c.level
        counted = select(level, func.count()).where(*conds).group_by(level)
        item_levels = {str(lvl): int(n) for lvl, n in conn.execute(counted)}
    roadmap = _filtered(listed, f)
    rows = sorted(roadmap + items, key=lambda r: (-r["severity"], r["key"], r["source"]))
    by_level = {
        lvl: sum(1 for r in roadmap if r["level"] == lvl) + item_levels.get(lvl, 0)
        for lvl in LEVELS
    }
    summary = {
        "rows": sum(by_level.values()),
        "roadmap_items": len(roadmap),
        "work_items": sum(by_level.values()) - len(roadmap),
        "by_level": by_level,
    }
    shown = rows[:limit] if limit else rows
    return RiskAnswer(when, settings.report.timezone, f, shown, summary, fresh)


def _scoped(table: Any, f: RiskFilters) -> list[Any]:
    conds = []
    if f.source is not None:
        conds.append(table.c.source == f.source)
    if f.project is not None:
        conds.append(table.c.project == f.project)
    if f.team is not None:
        conds.append(table.c.team == f.team)
    return conds


def _roadmap_rows(conn: Connection, entry: Entry, f: RiskFilters) -> list[dict[str, Any]]:
    """The listed roadmap rows the filters pick (before the level and reason filters)."""
    ar = analysis_roadmap
    conds = [ar.c.run_id == entry.id, ar.c.listed.is_(True), *_scoped(ar, f)]
    if f.epic is not None:
        conds += [ar.c.key == f.epic, ar.c.kind != "version"]
    if f.version is not None:
        conds += [ar.c.key == f.version, ar.c.kind == "version"]
    if f.due_before is not None:
        conds += [ar.c.target.is_not(None), ar.c.target < f.due_before.isoformat()]
    return [json.loads(raw) for (raw,) in conn.execute(select(ar.c.risk).where(*conds))]


def _member_of(entry: Entry, keys: Sequence[str]) -> Any:
    """The work item belongs to (is a child of) one of these open roadmap items: a subquery
    the database evaluates once, through the members' key index."""
    am, ai = analysis_members, analysis_items
    children = select(am.c.source, am.c.item_id).where(
        am.c.run_id == entry.id, am.c.roadmap_key.in_(list(keys))
    )
    return tuple_(ai.c.source, ai.c.item_id).in_(children)


def _item_conditions(entry: Entry, f: RiskFilters, roadmap_keys: set[str]) -> list[Any]:
    """The work items the filters pick: the children of the epic / version asked about, or
    every work item in the source / project / team; with --due-before, those due before the
    date or belonging to a listed roadmap item that is; then the level and reason filters."""
    ai = analysis_items
    conds = [
        ai.c.run_id == entry.id,
        *_scoped(ai, f),
        ai.c.level.in_(LEVELS[LEVELS.index(f.min_severity) :]),
    ]
    named = [k for k in (f.epic, f.version) if k is not None]
    if named:
        conds.append(_member_of(entry, named))
    if f.due_before is not None:
        due = and_(ai.c.due.is_not(None), ai.c.due < f.due_before.isoformat())
        conds.append(or_(due, _member_of(entry, sorted(roadmap_keys))) if roadmap_keys else due)
    if f.reason is not None:  # codes are joined by ','
        conds.append(("," + ai.c.reasons + ",").contains(f",{f.reason},", autoescape=True))
    return conds


def _item_rows(conn: Connection, conds: list[Any], limit: int | None) -> list[dict[str, Any]]:
    """The picked work items' rows, most severe first; with ``limit``, only the first ones.

    Keys rank by code point, as Python sorts them (PostgreSQL: the "C" collation)."""
    ai = analysis_items
    key = ai.c.key.collate("C") if conn.dialect.name == "postgresql" else ai.c.key
    source = ai.c.source.collate("C") if conn.dialect.name == "postgresql" else ai.c.source
    query = (
        select(
            ai.c.source,
            ai.c.key,
            ai.c.title,
            ai.c.team,
            ai.c.project,
            ai.c.status,
            ai.c.level,
            ai.c.severity,
            ai.c.reasons,
            ai.c.evidence,
            ai.c.due,
            ai.c.parent,
            ai.c.url,
        )
        .where(*conds)
        .order_by(ai.c.severity.desc(), key, source)
        .limit(limit)
    )
    out = []
    result = conn.execute(query)
    for row in result.cursor.fetchall() if result.cursor is not None else result:
        source_, key_, title, team, project, status, level = row[:7]
        severity, reasons, evidence, due, parent, url = row[7:]
        codes = reasons.split(",") if reasons else []
        texts = evidence.split("\n") if evidence else []
        out.append(
            {
                "kind": "item",
                "source": source_,
                "key": key_,
                "title": title,
                "team": team,
                "project": project,
                "status": status,
                "level": level,
                "severity": int(severity),
                "reasons": codes,
                "evidence": [{"code": c, "text": t} for c, t in zip(codes, texts, strict=True)],
                "target": due,
                "p50": None,
                "p85": None,
                "p95": None,
                "scope": None,
                "remaining": None,
                "baseline": None,
                "parent": parent,
                "url": url,
            }
        )
    return out


def _filtered(rows: list[dict[str, Any]], f: RiskFilters) -> list[dict[str, Any]]:
    """The level and reason filters, on roadmap rows (the database applies them to items)."""
    floor = LEVELS.index(f.min_severity)
    out = [r for r in rows if LEVELS.index(r["level"]) >= floor]
    if f.reason is not None:
        out = [r for r in out if f.reason in r["reasons"]]
    return out


__all__ = ["ITEM_REASONS", "LEVELS", "RiskAnswer", "RiskFilters", "check_filters", "risk"]
