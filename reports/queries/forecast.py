"""`pulse forecast KEY`: when an epic, version or roadmap card will be done, or how much by a date.

The forecast is the engine's (METRICS §4): the owning team's weekly throughput over the last
``weeks`` weeks, shared by the team's roadmap items in progress, 10,000 seeded trials. This
module runs the same per-team simulation as :func:`reports.metrics.forecast.forecast_when` (so
p50/p85/p95 equal those of `pulse risk` and the weekly report for the same as_of and trials) and
keeps the per-trial finish periods to draw a histogram and to answer "how many by date D".
Calibration (how past forecasts held) needs stored weekly snapshots; when the store has none it
is reported as unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from reports.metrics.forecast import PERIOD_DAYS, ForecastConfig, forecast_team
from reports.metrics.roadmap import ROADMAP_TYPES, forecast_plan
from reports.metrics.throughput import throughput_samples
from settings import Settings
from store import Store

from .errors import QueryError
from .load import Loaded, StoreMeta, alive, as_of_utc, open_connection, read_meta
from .plan import Analysis, analyse, load_plan
from .risk import I, select


@dataclass
class ForecastAnswer:
    """The JSON-ready answer of `pulse forecast` (see docs/queries.md)."""

    doc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse forecast --format json`."""
        return self.doc


def resolve(conn: Connection, meta: StoreMeta, key: str) -> tuple[str, str, str, str]:
    """(kind, source, roadmap_id, team) of an epic / roadmap card key or a version name."""
    rows = conn.execute(
        select(I.c.source_id, I.c.item_id, I.c.type, I.c.project_key).where(
            alive(meta.as_of), I.c.key == key
        )
    ).all()
    folded = {t.casefold() for t in ROADMAP_TYPES}
    for sid, iid, typ, project in rows:
        if str(typ or "").casefold() in folded:
            source = meta.source_names[int(sid)]
            p = meta.projects
            team = p[(p["source_id"] == int(sid)) & (p["project"] == (project or ""))]["team"]
            kind = "card" if str(typ).casefold() == "roadmap" else "epic"
            return kind, source, str(iid), str(team.iloc[0]) if len(team) else str(project)
    v = meta.versions
    hits = v[(v["name"].astype(str) == key) | (v["version_id"].astype(str) == key)]
    if len(hits) > 1:
        both = hits["project"].astype(str) + "/" + hits["name"].astype(str)
        ids = hits["version_id"].astype(str)
        listing = ", ".join(f"{b} (id {i})" for b, i in zip(both, ids, strict=True))
        raise QueryError(f"version {key!r} is ambiguous: {listing}; give the version id")
    if len(hits) == 1:
        h = hits.iloc[0]
        p = meta.projects
        team = p[(p["source_id"] == int(h["source_id"])) & (p["project"] == h["project"])]["team"]
        return (
            "version",
            str(h["source"]),
            f"version:{h['version_id']}",
            str(team.iloc[0]) if len(team) else str(h["project"]),
        )
    if rows:
        raise QueryError(
            f"{key} is a {rows[0][2] or 'work item'}: forecast takes an epic, a version or a "
            "roadmap card"
        )
    raise QueryError(f"unknown key {key!r} (no epic, version or roadmap card by that name)")


def _day(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def forecast(
    store: Store,
    settings: Settings,
    key: str,
    as_of: pd.Timestamp | None = None,
    by: date | None = None,
    trials: int | None = None,
) -> ForecastAnswer:
    """Answer `pulse forecast KEY` from the store as it was known at ``as_of``."""
    when = as_of_utc(as_of)
    with open_connection(store) as conn:
        meta = read_meta(conn, settings, when)
        kind, source, rid, team = resolve(conn, meta, key)
        if trials is not None:
            if trials < 100:
                raise QueryError(f"--trials {trials} is too few (use at least 100)")
            fc = replace(meta.config.forecast, trials=int(trials))
            meta.config = replace(meta.config, forecast=fc)
        loaded = Loaded(meta, settings)
        plan = load_plan(conn, loaded, {team})
        analysis = analyse(plan, forecast=False, include={rid})
        calibration = _calibration(store, analysis, source, rid)
    return ForecastAnswer(_answer(analysis, meta, key, kind, source, rid, team, by, calibration))


def _answer(
    a: Analysis,
    meta: StoreMeta,
    key: str,
    kind: str,
    source: str,
    rid: str,
    team: str,
    by: date | None,
    calibration: dict[str, Any] | None,
) -> dict[str, Any]:
    config: ForecastConfig = meta.config.forecast
    cd = a.cd
    today = cd.today
    full = a.full_scope.roadmap
    me = full[(full["roadmap_id"] == rid) & (full["source"] == source)]
    doc: dict[str, Any] = {
        "command": "forecast",
        "as_of": meta.as_of.isoformat(),
        "timezone": meta.config.tz,
        "key": key,
        "kind": kind,
        "source": source,
        "title": key,
        "team": team,
        "state": "open",
        "target": None,
        "done_at": None,
        "scope": 0,
        "done_items": 0,
        "remaining": 0,
        "trials": config.trials,
        "weeks": config.weeks,
        "period": config.period,
        "throughput": [],
        "wip": None,
        "share": None,
        "forecast": None,
        "histogram": [],
        "beyond_horizon": 0,
        "by": None,
        "calibration": calibration,
    }
    if len(me) == 0:
        return doc
    rec = me.iloc[0]
    doc.update(
        title=str(rec["title"]),
        team=str(rec["team"]),
        target=_day(rec["target_day"]),
        scope=int(rec["scope"]),
        done_items=int(rec["done_children"]),
        remaining=int(rec["remaining"]),
    )
    if pd.notna(rec["done_at"]):
        doc.update(state="done", done_at=_day(_local(rec["done_at"], cd.tz)))
        return doc
    samples = throughput_samples(
        cd,
        weeks=config.weeks,
        period=config.period,
        by="team",
        exclude_types=tuple(meta.config.roadmap_types),
    )
    plan = forecast_plan(a.plan)
    part = plan[plan["team"] == rec["team"]]
    part = part.sort_values(["started", "rank"], ascending=[False, True], kind="stable")
    remaining = part["remaining"].to_numpy(dtype=np.float64)
    started = part["started"].to_numpy(dtype=bool) & (remaining > 1e-9)
    configured = config.wip_for(str(rec["team"]))
    wip = configured if configured is not None else max(1, int(started.sum()))
    growth = None
    if config.scope_growth:
        growth = [
            np.asarray(g, dtype=np.float64) if g is not None else np.zeros(0)
            for g in part["growth"]
        ]
    step = PERIOD_DAYS[config.period]
    until = None
    if by is not None:
        until = max(0, (pd.Timestamp(by) - today).days) // step
    team_samples = samples.get(str(rec["team"]), np.zeros(0))
    res = forecast_team(remaining, team_samples, config, str(rec["team"]), wip, growth, until)
    col = int(np.flatnonzero(part["roadmap_id"].to_numpy() == rid)[0])
    periods = res["periods"][:, col]
    labels = [f"p{round(q * 100)}" for q in config.quantiles]
    days = res["days"][:, col]
    concurrent = min(wip, max(1, int((remaining > 1e-9).sum())))
    doc.update(
        throughput=[float(x) for x in team_samples],
        wip=int(wip),
        share=round(1.0 / concurrent, 4),
        forecast={
            lab: (_day(today + pd.Timedelta(days=int(d))) if not np.isnan(d) else None)
            for lab, d in zip(labels, days, strict=True)
        },
    )
    finite = periods[np.isfinite(periods)]
    doc["beyond_horizon"] = int(len(periods) - len(finite))
    if len(finite):
        counts = pd.Series(finite.astype(np.int64)).value_counts().sort_index()
        total = len(periods)
        cum = 0
        hist = []
        for n, c in zip(counts.index.tolist(), counts.tolist(), strict=True):
            cum += int(c)
            hist.append(
                {
                    "date": _day(today + pd.Timedelta(days=int(n) * step)),
                    "trials": int(c),
                    "cumulative_pct": round(100.0 * cum / total, 1),
                }
            )
        doc["histogram"] = hist
    if by is not None and until is not None:
        done_by = int(res["done_by"][col]) if "done_by" in res else 0
        doc["by"] = {
            "date": pd.Timestamp(by).strftime("%Y-%m-%d"),
            "items_done": min(done_by, int(rec["remaining"])),
            "confidence": config.confidence,
            "remaining": int(rec["remaining"]),
            "probability_all_done": round(float(np.mean(periods <= until)), 4),
        }
    return doc


def _local(value: Any, tz: str) -> Any:
    from reports.metrics.timeutil import local_day

    return local_day(pd.Timestamp(value), tz)


def _calibration(store: Store, a: Analysis, source: str, rid: str) -> dict[str, Any] | None:
    """How past forecasts of this item held, from stored snapshots when the store has them."""
    try:
        from reports.metrics.history_inputs import with_history
    except ImportError:
        return None
    from reports.metrics.calibration import forecast_calibration

    try:
        ds = with_history(a.dataset, store)
    except (AttributeError, LookupError, ValueError):
        return None
    past = getattr(ds.inputs, "past_snapshots", None)
    if past is None or len(past) == 0:
        return None
    mine = past[(past["source"] == source) & (past["roadmap_id"] == rid)]
    if len(mine) == 0:
        return None
    cal = forecast_calibration(mine, a.full_scope.roadmap, a.dataset.as_of, a.dataset.config.tz)
    detail = cal.detail
    return {
        "hit_rate_p85": None if np.isnan(cal.hit_rate_p85) else round(cal.hit_rate_p85, 4),
        "hit_rate_p50": None if np.isnan(cal.hit_rate_p50) else round(cal.hit_rate_p50, 4),
        "resolved": int(cal.resolved),
        "forecasts": [
            {
                "made": _day(r.snapshot_at),
                "p50": _day(r.p50_day),
                "p85": _day(r.p85_day),
                "done": _day(r.done_day),
                "p85_outcome": str(r.p85_outcome),
            }
            for r in detail.itertuples(index=False)
        ],
    }
