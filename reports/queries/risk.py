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
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pulse.reports.metrics.reasons import REASONS
from pulse.settings import Settings
from pulse.store import Store
from pulse.store.analysis_reads import RiskPick, item_risks, listed_roadmap
from pulse.store.item_reads import items_with_key

from .analysis import instant, reading
from .catalog import Catalog, ask_source, is_roadmap_type, one_source, read_catalog
from .errors import QueryError, unknown

if TYPE_CHECKING:
    from pulse.store.sql import Conn

LEVELS = ("low", "medium", "high")


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
    """Rows most severe first (perhaps only the first few), each kept as its JSON text as the
    stored analysis holds it (see docs/queries.md); :attr:`rows` parses them."""

    as_of: datetime
    timezone: str
    filters: RiskFilters
    texts: list[str] = field(default_factory=list)  # each row's JSON document
    summary: dict[str, Any] = field(default_factory=dict)  # counts every row, shown or not
    freshness: dict[str, Any] = field(default_factory=dict)  # the workbook's freshness line

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts."""
        return [json.loads(text) for text in self.texts]

    def _head(self) -> dict[str, Any]:
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
        }

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse risk --format json`."""
        return {**self._head(), "rows": self.rows}

    def to_json_text(self) -> str:
        """That document as compact JSON text, the stored rows spliced in unparsed (the whole
        organisation's 21,000 rows are written without being decoded and encoded again)."""
        head = json.dumps(self._head(), ensure_ascii=False)
        return f'{head[:-1]}, "rows": [{", ".join(self.texts)}]}}'


def check_filters(conn: Conn, catalog: Catalog, as_of: datetime, f: RiskFilters) -> None:
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
    conn: Conn,
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
    catalog: Catalog | None = None,
) -> RiskAnswer:
    """Answer `pulse risk` from the store as it was known at ``as_of`` (default now).

    ``health``: a :class:`pulse.reports.metrics.health.HealthConfig` other than the default.
    ``limit``: keep only the most severe rows (the summary still counts every row). The
    database filters, counts and ranks the work items, so a table's screenful reads only
    its own rows. ``catalog``: the store's catalog when the caller has read it already.
    """
    f = filters or RiskFilters()
    when = instant(as_of)
    with store.reads() as conn:
        check_filters(conn, catalog or read_catalog(conn, settings), when, f)
    pick = RiskPick(
        source=f.source,
        project=f.project,
        team=f.team,
        epic=f.epic,
        version=f.version,
        due_before=f.due_before,
        reason=f.reason,
        levels=LEVELS[LEVELS.index(f.min_severity) :],
    )
    with reading(store, settings, when, health) as (conn, entry):
        fresh = dict(entry.meta.get("freshness") or {})
        listed = [(json.loads(text), text) for text in listed_roadmap(conn, entry, pick)]
        items, item_levels = item_risks(conn, entry, pick, {r["key"] for r, _ in listed}, limit)
    roadmap = [(r["severity"], r["key"], r["source"], text) for r, text in _filtered(listed, f)]
    rows = sorted(roadmap + items, key=lambda r: (-r[0], r[1], r[2]))
    by_level = {
        lvl: sum(1 for r, _ in _filtered(listed, f) if r["level"] == lvl) + item_levels.get(lvl, 0)
        for lvl in LEVELS
    }
    summary = {
        "rows": sum(by_level.values()),
        "roadmap_items": len(roadmap),
        "work_items": sum(by_level.values()) - len(roadmap),
        "by_level": by_level,
    }
    shown = [text for *_, text in (rows[:limit] if limit else rows)]
    return RiskAnswer(when, settings.report.timezone, f, shown, summary, fresh)


def _filtered(
    rows: list[tuple[dict[str, Any], str]], f: RiskFilters
) -> list[tuple[dict[str, Any], str]]:
    """The level and reason filters, on roadmap rows (the database applies them to items)."""
    floor = LEVELS.index(f.min_severity)
    out = [(r, t) for r, t in rows if LEVELS.index(r["level"]) >= floor]
    if f.reason is not None:
        out = [(r, t) for r, t in out if f.reason in r["reasons"]]
    return out


__all__ = ["LEVELS", "RiskAnswer", "RiskFilters", "check_filters", "risk"]
