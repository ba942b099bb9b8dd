"""`pulse risk`: at-risk roadmap and work items, most severe first, with reasons and evidence.

Roadmap items (epics, versions, Trello roadmap cards) get the engine's roadmap health
(:func:`reports.metrics.health.snapshot_rows`): status, reason codes and one plain sentence of
evidence per reason. Work items get the reasons that apply to one item: OVERDUE (own due date
passed), BLOCKED (flagged, or blocked by an open issue), STALLED (in progress, no move for
``stalled_days``), AGING_WIP (in progress longer than its team's p85 cycle time) and UNESTIMATED
(no estimate while in an active or future sprint). Every row has a level: roadmap items *high*
when off track, *medium* at risk, else *low*; work items *high* when overdue or blocked,
*medium* when stalled or ageing, else *low*.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, literal, or_, select

from reports.metrics.health import (
    REASONS,
    HealthConfig,
    _blocked_reasons,
    _blocker_lookup,
    _flag_lookup,
    snapshot_rows,
)
from reports.metrics.history import FieldHistory, Membership, current_values
from reports.metrics.roadmap import ROADMAP_TYPES, target_days
from reports.metrics.sprints import sprints_at
from reports.metrics.timeutil import local_day
from settings import Settings
from store import Store, schema

from .errors import QueryError, unknown
from .load import (
    Loaded,
    StoreMeta,
    alive,
    as_of_utc,
    ids_where,
    of_types,
    open_connection,
    read_meta,
)
from .plan import Analysis, analyse, load_plan, scope_condition

I = schema.items  # noqa: E741
LEVELS = ("low", "medium", "high")
ITEM_REASONS = ("OVERDUE", "BLOCKED", "STALLED", "AGING_WIP", "UNESTIMATED")
_LEVEL_SCORE = {"high": 400, "medium": 300, "low": 100}


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

    as_of: pd.Timestamp
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


def _day(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def check_filters(conn: Connection, meta: StoreMeta, f: RiskFilters) -> None:
    """Raise QueryError naming the first filter value the store does not know."""
    if f.source is not None and f.source not in meta.source_ids:
        raise unknown("source", f.source, meta.source_ids)
    projects = meta.projects
    if f.source is not None:
        projects = projects[projects["source"] == f.source]
    if f.project is not None and f.project not in set(projects["project"]):
        raise unknown("project", f.project, [p for p in projects["project"] if p])
    if f.team is not None and f.team not in set(projects["team"]):
        raise unknown("team", f.team, projects["team"])
    if f.reason is not None and f.reason not in REASONS:
        raise unknown("reason code", f.reason, REASONS, limit=len(REASONS))
    if f.min_severity not in LEVELS:
        raise unknown("severity", f.min_severity, LEVELS)
    if f.version is not None:
        v = meta.versions
        if f.source is not None:
            v = v[v["source"] == f.source]
        if f.version not in set(v["name"].astype(str)):
            raise unknown("version", f.version, v["name"].astype(str))
    if f.epic is not None:
        find_roadmap_item(conn, meta, f.epic, f.source, what="epic")


def find_roadmap_item(
    conn: Connection, meta: StoreMeta, key: str, source: str | None, what: str
) -> tuple[int, str]:
    """(source_id, item_id) of the epic / roadmap card with this key at as_of, else QueryError."""
    conds = [alive(meta.as_of), I.c.key == key]
    if source is not None:
        conds.append(I.c.source_id == meta.source_ids[source])
    rows = conn.execute(select(I.c.source_id, I.c.item_id, I.c.type).where(*conds)).all()
    folded = {t.casefold() for t in ROADMAP_TYPES}
    hits = [(int(s), str(i)) for s, i, t in rows if str(t or "").casefold() in folded]
    if hits:
        return hits[0]
    if rows:
        kind = rows[0][2] or "item"
        raise QueryError(f"{key} is a {kind}, not an {what} (epic or roadmap card)")
    raise QueryError(f"unknown {what} {key!r} (no such key in the store at {_day(meta.as_of)})")


def _level(kind: str, status: str, codes: Collection[str]) -> str:
    if kind != "item":
        return {"off track": "high", "at risk": "medium"}.get(status, "low")
    if "OVERDUE" in codes or "BLOCKED" in codes:
        return "high"
    if "STALLED" in codes or "AGING_WIP" in codes:
        return "medium"
    return "low"


def risk(
    store: Store,
    settings: Settings,
    as_of: pd.Timestamp | None = None,
    filters: RiskFilters | None = None,
    health: HealthConfig | None = None,
) -> RiskAnswer:
    """Answer `pulse risk` from the store as it was known at ``as_of``."""
    f = filters or RiskFilters()
    when = as_of_utc(as_of)
    health = health or HealthConfig()
    with open_connection(store) as conn:
        meta = read_meta(conn, settings, when)
        check_filters(conn, meta, f)
        loaded = Loaded(meta, settings)
        teams, scope = _plan_teams(conn, meta, f)
        candidates = _work_candidates(conn, meta, f, scope)
        cand_items = loaded.add(conn, candidates)
        plan = load_plan(conn, loaded, teams, extra_teams=set(cand_items["team"].astype(str)))
        analysis = analyse(plan)
    rows = _roadmap_rows(analysis, meta, f, health)
    rows += _item_rows(analysis, meta, f, health, candidates, rows)
    rows = _filtered(rows, f)
    rows.sort(key=lambda r: (-r["severity"], r["key"], r["source"]))
    return RiskAnswer(when, meta.config.tz, f, rows)


def _plan_teams(conn: Connection, meta: StoreMeta, f: RiskFilters) -> tuple[set[str], Any]:
    """Teams whose plans the question needs, and the SQL scope of work items."""
    projects = meta.projects
    if f.source is not None:
        projects = projects[projects["source"] == f.source]
    if f.project is not None:
        projects = projects[projects["project"] == f.project]
    if f.team is not None:
        projects = projects[projects["team"] == f.team]
    teams = set(projects["team"].astype(str))
    if f.epic is not None:
        sid, iid = find_roadmap_item(conn, meta, f.epic, f.source, what="epic")
        row = conn.execute(
            select(func.coalesce(I.c.project_key, "")).where(
                I.c.source_id == sid, I.c.item_id == iid
            )
        ).scalar_one()
        team = meta.projects[
            (meta.projects["source_id"] == sid) & (meta.projects["project"] == row)
        ]["team"]
        teams = set(team.astype(str))
    if f.version is not None:
        v = meta.versions[meta.versions["name"].astype(str) == f.version]
        if f.source is not None:
            v = v[v["source"] == f.source]
        pairs = set(zip(v["source_id"].astype(int), v["project"].astype(str), strict=True))
        p = meta.projects
        mask = [
            (int(s), str(k)) in pairs for s, k in zip(p["source_id"], p["project"], strict=True)
        ]
        teams = set(p[np.asarray(mask, dtype=bool)]["team"].astype(str))
    scope = scope_condition(
        meta,
        f.source,
        [f.project] if f.project is not None else None,
        [f.team] if f.team is not None else None,
    )
    return teams, scope


def _work_statuses(meta: StoreMeta) -> list[str]:
    names: set[str] = set()
    for wf in meta.workflows.by_key().values():
        for col in wf.columns[wf.committed_index : wf.done_index]:
            names.update(col.statuses)
    return sorted(names)


def _work_candidates(
    conn: Connection, meta: StoreMeta, f: RiskFilters, scope: Any
) -> set[tuple[int, str]]:
    """Work items that may carry an item reason at as_of (a superset; the engine decides).

    Flagged ever; blocked by a link; in a sprint not closed at as_of; with a due date; in a
    work status now; or changed after as_of (whose state then the engine replays).
    """
    if f.epic is not None or f.version is not None:
        return set()  # the roadmap item's children are loaded with its plan
    cut = meta.as_of.to_pydatetime()
    base = and_(scope, ~of_types(ROADMAP_TYPES), I.c.is_subtask.is_(False))
    c, t, lk, isp = schema.changes, schema.transitions, schema.links, schema.item_sprints

    def joined(table: Any, *conds: Any) -> set[tuple[int, str]]:
        rows = conn.execute(
            select(table.c.source_id, table.c.item_id)
            .select_from(
                table.join(
                    I, and_(I.c.source_id == table.c.source_id, I.c.item_id == table.c.item_id)
                )
            )
            .where(base, *conds)
            .distinct()
        ).all()
        return {(int(s), str(i)) for s, i in rows}

    out = joined(
        c,
        or_(
            c.c.field == "flagged",
            and_(c.c.field.in_(["sprint", "due_date"]), c.c.at > cut),
        ),
    )
    out |= joined(t, t.c.at > cut)
    out |= joined(lk, lk.c.direction == "inward", func.lower(lk.c.link_type).like("%block%"))
    sp = meta.sprints
    not_closed = sp[
        ~(sp["state"].astype(str) == "closed").to_numpy()
        | (sp["complete"].isna() | (sp["complete"] > meta.as_of)).to_numpy()
    ]
    started = not_closed[not_closed["start"].isna() | (not_closed["start"] <= meta.as_of)]
    del started
    open_ids = sorted(set(not_closed["sprint_id"].astype(str)))
    for start in range(0, len(open_ids), 500):
        out |= joined(isp, isp.c.sprint_id.in_(open_ids[start : start + 500]))
    work = _work_statuses(meta)
    out |= ids_where(
        conn,
        base,
        or_(
            func.coalesce(I.c.target_date, I.c.due).is_not(None),
            func.coalesce(I.c.status, "").in_(work) if work else literal(False),
        ),
    )
    return out


def _roadmap_rows(
    a: Analysis, meta: StoreMeta, f: RiskFilters, health: HealthConfig
) -> list[dict[str, Any]]:
    rm = a.plan.roadmap
    mask = np.ones(len(rm), dtype=bool)
    if f.source is not None:
        mask &= (rm["source"] == f.source).to_numpy()
    if f.project is not None:
        mask &= (rm["project"] == f.project).to_numpy()
    if f.team is not None:
        mask &= (rm["team"] == f.team).to_numpy()
    if f.epic is not None:
        mask &= ((rm["key"] == f.epic) & (rm["kind"] != "version")).to_numpy()
    if f.version is not None:
        mask &= ((rm["key"] == f.version) & (rm["kind"] == "version")).to_numpy()
    if f.due_before is not None:
        due = pd.to_datetime(rm["target_day"])
        mask &= (due.notna() & (due < pd.Timestamp(f.due_before))).to_numpy()
    picked = set(rm["roadmap_id"][mask].astype(str))
    if not picked:
        return []
    # health over the whole plan: a blocker's epic may be another team's row (LATE_DEPENDENCY)
    chosen = a.plan
    inputs = a.dataset.inputs
    snap = snapshot_rows(
        chosen, a.forecasts, a.cd, a.baselines, a.blocked, inputs.links, a.ageing, health
    )
    snap = snap[snap["roadmap_id"].astype(str).isin(list(picked)).to_numpy()]
    project = dict(zip(chosen.roadmap["roadmap_id"], chosen.roadmap["project"], strict=True))
    url = dict(zip(a.cd.items["key"], a.cd.items["url"], strict=False))
    tz = a.dataset.config.tz
    rows = []
    rec: Any
    for rec in snap.itertuples(index=False):
        codes = [c for c in str(rec.reasons).split(",") if c]
        texts = [t for t in str(rec.evidence).split("\n") if t]
        if rec.status == "on track" and not codes:
            continue
        level = _level(str(rec.kind), str(rec.status), codes)
        rows.append(
            {
                "kind": str(rec.kind),
                "source": str(rec.source),
                "key": str(rec.key),
                "title": str(rec.title),
                "team": str(rec.team),
                "project": str(project.get(rec.roadmap_id, "")),
                "status": str(rec.status),
                "level": level,
                "severity": int(rec.severity),
                "reasons": codes,
                "evidence": [{"code": c, "text": t} for c, t in zip(codes, texts, strict=False)],
                "target": _local(rec.target, tz),
                "p50": _local(rec.p50, tz),
                "p85": _local(rec.p85, tz),
                "p95": _local(rec.p95, tz),
                "scope": int(rec.scope),
                "remaining": int(rec.remaining),
                "parent": None,
                "url": str(url.get(rec.key, "")) if rec.kind != "version" else "",
            }
        )
    return rows


def _local(value: Any, tz: str) -> str | None:
    """A snapshot day (local midnight as a UTC instant) as its local calendar date."""
    if value is None or pd.isna(value):
        return None
    return local_day(pd.Timestamp(value), tz).strftime("%Y-%m-%d")


def _item_rows(
    a: Analysis,
    meta: StoreMeta,
    f: RiskFilters,
    health: HealthConfig,
    candidates: set[tuple[int, str]],
    roadmap_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    cd = a.cd
    items = cd.items
    n = len(items)
    if n == 0:
        return []
    folded = {t.casefold() for t in ROADMAP_TYPES}
    is_roadmap = items["type"].astype(object).map(lambda t: str(t).casefold() in folded)
    pos = items["position"].to_numpy()
    done = (pos >= 0) & (pos >= items["done_index"].to_numpy())
    eligible = ~is_roadmap.to_numpy(dtype=bool) & ~items["is_subtask"].to_numpy(dtype=bool) & ~done
    # which rows are asked about
    asked = np.zeros(n, dtype=bool)
    kids = a.plan.children
    if f.epic is not None or f.version is not None:
        chosen = {r["key"] for r in roadmap_rows} | {f.epic, f.version}
        ids = a.plan.roadmap[a.plan.roadmap["key"].isin(list(chosen))]["roadmap_id"]
        asked[kids[kids["roadmap_id"].isin(list(ids))]["row"].astype(int).to_numpy()] = True
    else:
        names = {v: k for k, v in meta.source_ids.items()}
        wanted = {(names[s], i) for s, i in candidates}
        asked = np.fromiter(
            ((s, i) in wanted for s, i in zip(items["source"], items["item_id"], strict=True)),
            dtype=bool,
            count=n,
        )
    if f.source is not None:
        asked &= (items["source"] == f.source).to_numpy()
    if f.project is not None:
        asked &= (items["project"] == f.project).to_numpy()
    if f.team is not None:
        asked &= (items["team"] == f.team).to_numpy()
    rows = np.flatnonzero(asked & eligible)
    if len(rows) == 0:
        return []
    today = cd.today
    reasons: dict[int, list[tuple[str, str]]] = {int(r): [] for r in rows}
    # OVERDUE: own due date at as_of passed
    due_hist = FieldHistory.build(
        items,
        a.dataset.inputs.changes,
        "due_date",
        current=items["due"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    due_now = due_hist.value_at(rows, np.full(len(rows), cd.as_of_ms, dtype=np.int64))
    due_days = target_days(
        pd.to_datetime(pd.Series(due_now, dtype=object), utc=True, errors="coerce"), cd.tz
    )
    due_of = {int(r): d for r, d in zip(rows, due_days, strict=True) if pd.notna(d)}
    for r, d in due_of.items():
        if d < today:
            reasons[r].append(
                ("OVERDUE", f"due {_day(d)} passed {(today - d).days} days ago, not done")
            )
    # BLOCKED: flagged now, or blocked by an open item (the engine's wording)
    inputs = a.dataset.inputs
    by_key = {(s, k): i for i, (s, k) in enumerate(zip(items["source"], items["key"], strict=True))}
    arrays = {
        c: items[c].astype(object).to_numpy() if c in ("source", "key") else items[c].to_numpy()
        for c in ("source", "key", "position", "committed_index", "done_index")
    }
    flagged = _flag_lookup(a.blocked, cd)
    blockers = _blocker_lookup(inputs.links, cd, by_key)
    for r in rows.tolist():
        hit = _blocked_reasons([int(r)], flagged, blockers, arrays, health)
        if hit:
            text = hit[0][1]
            key = str(arrays["key"][r])
            if text.startswith(key + " "):
                text = text[len(key) + 1 :]
            reasons[int(r)].append(("BLOCKED", text))
    # STALLED / AGING_WIP: in progress at as_of
    in_progress = (pos >= items["committed_index"].to_numpy()) & ~done & (pos >= 0)
    last = items["last_move_at"]
    aging = {
        (str(s), str(i)): (int(g), float(p))
        for s, i, g, p, o in zip(
            a.ageing["source"],
            a.ageing["item_id"],
            a.ageing["age_days"],
            a.ageing["p85_days"],
            a.ageing["over_p85"],
            strict=True,
        )
        if o
    }
    for r in rows.tolist():
        if not in_progress[r]:
            continue
        column = items["column"].iloc[r]
        when = last.iloc[r]
        ref = when if pd.notna(when) else items["created"].iloc[r]
        idle = (today - local_day(ref, cd.tz)).days
        if idle >= health.stalled_days:
            reasons[int(r)].append(
                (
                    "STALLED",
                    f"no move in {idle} days (in {column} since {_day(local_day(ref, cd.tz))})",
                )
            )
        aged = aging.get((str(items["source"].iloc[r]), str(items["item_id"].iloc[r])))
        if aged:
            reasons[int(r)].append(
                ("AGING_WIP", f"in progress {aged[0]} days (team p85 {aged[1]:g} days)")
            )
    # UNESTIMATED: no estimate at as_of while in an active or future sprint
    for r, text in _unestimated(a, rows).items():
        reasons[r].append(("UNESTIMATED", text))

    parent_of: dict[int, list[str]] = {}
    rk = dict(zip(a.plan.roadmap["roadmap_id"], a.plan.roadmap["key"], strict=True))
    for rid, r in zip(kids["roadmap_id"], kids["row"].astype(int), strict=True):
        parent_of.setdefault(int(r), []).append(str(rk.get(rid, "")))
    due_keys = {x["key"] for x in roadmap_rows}
    out = []
    for r, found in reasons.items():
        if not found:
            continue
        if f.due_before is not None:
            own = due_of.get(r)
            mine = own is not None and own < pd.Timestamp(f.due_before)
            if not mine and not (set(parent_of.get(r, [])) & due_keys):
                continue
        found.sort(key=lambda x: REASONS.index(x[0]))
        codes = [c for c, _ in found]
        level = _level("item", "", codes)
        rec = items.iloc[r]
        out.append(
            {
                "kind": "item",
                "source": str(rec["source"]),
                "key": str(rec["key"]),
                "title": str(rec["title"]),
                "team": str(rec["team"]),
                "project": str(rec["project"]),
                "status": str(rec["column"]) if pd.notna(rec["column"]) else str(rec["status"]),
                "level": level,
                "severity": _LEVEL_SCORE[level] + sum(health.weights.get(c, 0) for c in codes),
                "reasons": codes,
                "evidence": [{"code": c, "text": t} for c, t in found],
                "target": _day(due_of.get(r)),
                "p50": None,
                "p85": None,
                "p95": None,
                "scope": None,
                "remaining": None,
                "parent": ", ".join(sorted(p for p in parent_of.get(r, []) if p)) or None,
                "url": str(rec["url"]),
            }
        )
    return out


def _unestimated(a: Analysis, rows: np.ndarray) -> dict[int, str]:
    cd = a.cd
    inputs = a.dataset.inputs
    sprints = inputs.sprints
    started = sprints_at(sprints, cd.as_of)
    active = set(started.loc[started["state_at"] == "active", "sprint_id"].astype(str))
    future = sprints[sprints["start"].isna() | (sprints["start"] > cd.as_of)]
    open_sprints = active | set(future["sprint_id"].astype(str))
    if not open_sprints or len(rows) == 0:
        return {}
    items = cd.items
    eligible = np.zeros(len(items), dtype=bool)
    eligible[rows] = True
    mem = Membership.build(
        items,
        inputs.changes,
        "sprint",
        current_values(items, inputs.item_sprints, "sprint_id"),
        eligible,
        cd.as_of_ms,
        universe=open_sprints,
    )
    pairs = mem.pairs
    now = np.full(len(pairs), cd.as_of_ms, dtype=np.int64)
    inside = pairs[mem.member_at(pairs["pair"].to_numpy(dtype=np.int64), now)]
    est = a.estimates.to_numpy()
    names = dict(zip(sprints["sprint_id"].astype(str), sprints["name"].astype(str), strict=True))
    out: dict[int, str] = {}
    for r, sid in zip(inside["row"].astype(int), inside["member"].astype(str), strict=True):
        if np.isnan(est[r]) and r not in out:
            state = "active" if sid in active else "future"
            out[int(r)] = f"no estimate, in {state} sprint {names.get(sid, sid)}"
    return out


def _filtered(rows: list[dict[str, Any]], f: RiskFilters) -> list[dict[str, Any]]:
    floor = LEVELS.index(f.min_severity)
    out = [r for r in rows if LEVELS.index(r["level"]) >= floor]
    if f.reason is not None:
        out = [r for r in out if f.reason in r["reasons"]]
    return out
