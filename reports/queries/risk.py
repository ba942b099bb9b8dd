"""`pulse risk`: at-risk roadmap and work items, most severe first, with reasons and evidence.

Roadmap items (epics, versions, Trello roadmap cards) get the engine's roadmap health
(:func:`reports.metrics.health.snapshot_rows`): status, reason codes and one plain sentence of
evidence per reason. Work items get the reasons that apply to one item: OVERDUE (own due date
passed), BLOCKED (flagged, or blocked by an open issue), STALLED (in progress, no move for
``stalled_days``), AGING_WIP (in progress longer than its team's p85 cycle time) and UNESTIMATED
(no estimate while in an active or future sprint). Every row has a level: roadmap items *high*
when off track, *medium* at risk, else *low*; work items *high* when overdue or blocked,
*medium* when stalled or ageing, else *low*.

The rows come from the stored whole-organisation analysis for the as-of
(:mod:`reports.queries.analysis`), computed on the first question after new sync data; a
filter only selects among them, so a filtered answer is always the matching part of the whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from settings import Settings
from store import Store
from store.analysis import Entry, analysis_items, analysis_members, analysis_roadmap

from .analysis import instant, reading
from .catalog import Catalog, is_roadmap_type, items_with_key, read_catalog
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
    """Rows most severe first; each row is a JSON-ready dict (see docs/queries.md)."""

    as_of: datetime
    timezone: str
    filters: RiskFilters
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse risk --format json`."""
        filters = {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in asdict(self.filters).items()
        }
        by_level = {lvl: sum(1 for r in self.rows if r["level"] == lvl) for lvl in LEVELS}
        return {
            "command": "risk",
            "as_of": self.as_of.isoformat(),
            "timezone": self.timezone,
            "filters": filters,
            "summary": {
                "rows": len(self.rows),
                "roadmap_items": sum(1 for r in self.rows if r["kind"] != "item"),
                "work_items": sum(1 for r in self.rows if r["kind"] == "item"),
                "by_level": by_level,
            },
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
) -> RiskAnswer:
    """Answer `pulse risk` from the store as it was known at ``as_of`` (default now).

    ``health``: a :class:`reports.metrics.health.HealthConfig` other than the default.
    """
    f = filters or RiskFilters()
    when = instant(as_of)
    with store.engine.connect() as conn:
        check_filters(conn, read_catalog(conn, settings), when, f)
    with reading(store, settings, when, health) as (conn, entry):
        rows = _roadmap_rows(conn, entry, f)
        rows += _item_rows(conn, entry, f, {r["key"] for r in rows})
    rows = _filtered(rows, f)
    rows.sort(key=lambda r: (-r["severity"], r["key"], r["source"]))
    return RiskAnswer(when, settings.report.timezone, f, rows)


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
    """The listed roadmap rows the filters pick."""
    ar = analysis_roadmap
    conds = [ar.c.run_id == entry.id, ar.c.listed.is_(True), *_scoped(ar, f)]
    if f.epic is not None:
        conds += [ar.c.key == f.epic, ar.c.kind != "version"]
    if f.version is not None:
        conds += [ar.c.key == f.version, ar.c.kind == "version"]
    if f.due_before is not None:
        conds += [ar.c.target.is_not(None), ar.c.target < f.due_before.isoformat()]
    return [json.loads(raw) for (raw,) in conn.execute(select(ar.c.risk).where(*conds))]


def _item_rows(
    conn: Connection, entry: Entry, f: RiskFilters, roadmap_keys: set[str]
) -> list[dict[str, Any]]:
    """The work-item rows the filters pick: the children of the epic / version asked about,
    or every work item in the source / project / team; with --due-before, those due before
    the date or belonging to a listed roadmap item that is."""
    ai = analysis_items
    query = select(
        ai.c.source,
        ai.c.item_id,
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
        ai.c.parents,
        ai.c.url,
    )
    conds = [ai.c.run_id == entry.id, *_scoped(ai, f)]
    named: Sequence[str] = [k for k in (f.epic, f.version) if k is not None]
    if named:
        am = analysis_members
        query = query.select_from(
            ai.join(
                am,
                and_(
                    am.c.run_id == ai.c.run_id,
                    am.c.source == ai.c.source,
                    am.c.item_id == ai.c.item_id,
                ),
            )
        )
        conds.append(am.c.roadmap_key.in_(list(named)))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    cut = f.due_before.isoformat() if f.due_before is not None else None
    result = conn.execute(query.where(*conds))
    for row in result.cursor.fetchall() if result.cursor is not None else result:
        source, item_id, key, title, team, project, status, level = row[:8]
        severity, reasons, evidence, due, parent, parents, url = row[8:]
        if (source, item_id) in out:
            continue
        if cut is not None:
            mine = due is not None and due < cut
            if not mine and not (set(json.loads(parents)) & roadmap_keys):
                continue
        codes = reasons.split(",") if reasons else []
        texts = evidence.split("\n") if evidence else []
        out[(source, item_id)] = {
            "kind": "item",
            "source": source,
            "key": key,
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
            "parent": parent,
            "url": url,
        }
    return list(out.values())


def _filtered(rows: list[dict[str, Any]], f: RiskFilters) -> list[dict[str, Any]]:
    floor = LEVELS.index(f.min_severity)
    out = [r for r in rows if LEVELS.index(r["level"]) >= floor]
    if f.reason is not None:
        out = [r for r in out if f.reason in r["reasons"]]
    return out


__all__ = ["ITEM_REASONS", "LEVELS", "RiskAnswer", "RiskFilters", "check_filters", "risk"]
