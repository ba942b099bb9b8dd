"""The whole organisation's delivery analysis at one as-of, computed once and stored for questions.

A forecast depends on the owning team's whole plan and throughput, and `pulse risk` over the
organisation needs every team: loading the store once and running the engine over everything,
all teams at once, costs less than loading slices per question. The result is what the questions
read (see :mod:`store.analysis`):

- per roadmap item (epic, version, Trello roadmap card), open or done: the `pulse risk` row
  (health status, reasons with evidence, p50/p85/p95, scope) and what `pulse forecast` shows
  (the forecast and its histogram of finish weeks);
- per work item carrying an item reason (OVERDUE, BLOCKED, STALLED, AGING_WIP, UNESTIMATED):
  its `pulse risk` row, own due day and the open roadmap items it belongs to;
- per team: throughput samples, the ordered forecast plan (to re-run one team's simulation for
  `--by` or `--trials`) and cycle times over the throughput window (for `pulse show`).

The engine's rules are those of the weekly report (METRICS §4, §5); see docs/queries.md for the
two deliberate differences (cycle-time percentiles over the throughput window, baselines rebuilt
from history). The entry is valid for every as-of between the stored events around the one it
was computed for (:func:`validity`), so answers are exact for any instant.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

import clock
from settings import Settings
from store import Store, schema
from store.analysis import (
    Entry,
    analysis_items,
    analysis_members,
    analysis_roadmap,
    analysis_teams,
    begin_snapshot,
    data_version,
    entry_by_id,
    find_entry,
    save_entry,
)

ANALYSIS_VERSION = 2  # bump when the analysis changes meaning: older entries are not reused
LEVEL_SCORE = {"high": 400, "medium": 300, "low": 100}


def instant(as_of: Any = None) -> datetime:
    """as_of as an aware UTC datetime at the store's precision (microseconds); None: now.

    A naive value is taken as UTC (as the library always has); pandas Timestamps are accepted.
    """
    if as_of is None:
        return clock.now()
    if hasattr(as_of, "to_pydatetime"):  # pandas: drop nanoseconds the store cannot keep
        as_of = as_of.floor("us").to_pydatetime()
    if isinstance(as_of, date) and not isinstance(as_of, datetime):
        raise TypeError("as_of must be an instant (datetime), not a date")
    moment: datetime = as_of
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A digest of the engine's and the queries' source: any change to the code that computes
    the analysis (rules, defaults, wording) makes earlier entries unusable."""
    reports = Path(__file__).resolve().parents[1]
    files = sorted(
        [
            *reports.joinpath("metrics").glob("*.py"),
            *reports.joinpath("queries").glob("*.py"),
            reports / "workflows.py",
        ]
    )
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.name.encode("utf-8"))
            digest.update(path.read_bytes())
    return digest.hexdigest()


def config_hash(settings: Settings, health: Any = None) -> str:
    """What changes the analysis besides the data: the report zone, the sources' teams and
    workflows, a health configuration other than the default, and the engine's code."""
    payload = {
        "version": ANALYSIS_VERSION,
        "engine": engine_fingerprint(),
        "timezone": settings.report.timezone,
        "sources": [
            {
                "name": s.name,
                "kind": s.kind,
                "team": s.team,
                "teams": dict(sorted(s.teams.items())),
                "workflow": s.workflow.model_dump(mode="json"),
            }
            for s in settings.sources
        ],
        "health": "default" if health is None else repr(health),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- validity of an entry ------------------------------------------------------------------------


def day_bounds(moment: datetime, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants of the local midnights that start and end ``moment``'s local day."""
    zone = ZoneInfo(tz)
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def validity(moment: datetime, events_us: Any, tz: str) -> tuple[datetime, datetime, bool]:
    """(valid_from, valid_to, point) for an analysis computed at ``moment``.

    ``events_us``: every stored instant the analysis compares the as-of with (microseconds since
    the epoch, any order). The answer can only change when the as-of crosses one of them or a
    local midnight, so it is the same for every instant strictly between the nearest ones around
    ``moment``; when ``moment`` is one of them, only for ``moment`` itself (``point``).
    """
    import numpy as np

    start, end = day_bounds(moment, tz)

    def us(d: datetime) -> int:
        return (d - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)

    a, lo, hi = us(moment), us(start), us(end)
    ev = np.asarray(events_us, dtype=np.int64)
    ev = ev[(ev >= lo) & (ev <= hi)]
    if a == lo or bool((ev == a).any()):
        return moment, moment, True
    before = ev[ev < a]
    after = ev[ev > a]
    lo = max(lo, int(before.max())) if len(before) else lo
    hi = min(hi, int(after.min())) if len(after) else hi
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + timedelta(microseconds=lo), epoch + timedelta(microseconds=hi), False


def _item_instants(conn: Connection, start: datetime, end: datetime) -> list[int]:
    """Creation and disappearance instants of items within [start, end], in microseconds."""
    import pandas as pd

    from .load import to_utc

    i = schema.items
    gone = func.coalesce(i.c.deleted_at, i.c.access_lost_at, i.c.out_of_scope_at)
    values: list[Any] = []
    for col in (i.c.created, gone):
        values += [r[0] for r in conn.execute(select(col).where(col >= start, col <= end)).all()]
    if not values:
        return []
    stamps = to_utc(pd.Series(values, dtype=object))
    return [int(v) // 1000 for v in stamps.dropna().astype("int64")]


# -- computing ------------------------------------------------------------------------------------


@dataclass
class OrgAnalysis:
    """The computed analysis, as rows for the cache tables."""

    as_of: datetime
    valid_from: datetime
    valid_to: datetime
    point: bool
    meta: dict[str, Any]
    roadmap: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


def _day(value: Any) -> str | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def level_of(kind: str, status: str, codes: list[str]) -> str:
    """Roadmap items: high off track, medium at risk; work items: high overdue or blocked,
    medium stalled or ageing; else low."""
    if kind != "item":
        return {"off track": "high", "at risk": "medium"}.get(status, "low")
    if "OVERDUE" in codes or "BLOCKED" in codes:
        return "high"
    if "STALLED" in codes or "AGING_WIP" in codes:
        return "medium"
    return "low"


def compute(
    conn: Connection, settings: Settings, as_of: datetime, health: Any = None
) -> OrgAnalysis:
    """Run the engine over the whole store as known at ``as_of`` (reads only, on ``conn``)."""
    import numpy as np
    import pandas as pd

    from reports.metrics.baselines import history_baselines
    from reports.metrics.blocked import blocked_time
    from reports.metrics.column_dates import column_dates
    from reports.metrics.flow import cycle_time_percentiles, estimates_at_as_of
    from reports.metrics.health import HealthConfig, snapshot_rows
    from reports.metrics.roadmap import roadmap_scope
    from reports.metrics.throughput import throughput_samples
    from reports.metrics.wip import ageing_wip

    from .load import Loaded, read_meta
    from .plan import restrict, window_start

    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = [started]

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - mark[0], 3)
        mark[0] = now

    health = health or HealthConfig()
    when = pd.Timestamp(as_of)
    meta = read_meta(conn, settings, when)
    loaded = Loaded(meta, settings)
    loaded.add_all(conn)
    ds = loaded.dataset()
    inputs, config = ds.inputs, ds.config
    tz = config.tz
    lap("load")
    cd = column_dates(inputs.items, inputs.transitions, config.workflows, ds.as_of, tz)
    est = estimates_at_as_of(cd, inputs.changes)
    lap("column dates")
    scope = roadmap_scope(
        cd,
        inputs.changes,
        inputs.versions,
        inputs.item_versions,
        config.roadmap_types,
        period=config.forecast.period,
        estimates=est,
    )
    lap("roadmap scope")
    open_ids = scope.roadmap.loc[scope.roadmap["done_at"].isna(), "roadmap_id"].astype(str)
    plan = restrict(scope, set(open_ids))
    since = window_start(meta)
    samples = throughput_samples(
        cd,
        weeks=config.forecast.weeks,
        period=config.forecast.period,
        by="team",
        exclude_types=tuple(config.roadmap_types),
    )
    fc, fc_extra, team_plans = _forecasts(plan, samples, cd.today, config.forecast)
    fc = _held_forecasts(inputs, config, ds.as_of, scope, cd, fc_extra)
    lap("forecasts")
    blocked = blocked_time(cd, inputs.changes)
    ageing = ageing_wip(cd, since=since)
    baselines = history_baselines(plan, cd, inputs.changes, inputs.item_versions)
    lap("blocked, ageing, baselines")
    snap = snapshot_rows(plan, fc, cd, baselines, blocked, inputs.links, ageing, health)
    lap("roadmap health")

    out = OrgAnalysis(
        as_of=as_of,
        valid_from=as_of,
        valid_to=as_of,
        point=True,
        meta={
            "today": _day(cd.today),
            "since": _day(since),
            "timezone": tz,
            "trials": config.forecast.trials,
            "weeks": config.forecast.weeks,
            "period": config.forecast.period,
            "confidence": config.forecast.confidence,
            "scope_growth": config.forecast.scope_growth,
        },
    )
    out.roadmap = _roadmap_rows(scope, snap, fc_extra, cd, health)
    lap("roadmap rows")
    out.items = _item_rows(cd, inputs, plan, est, blocked, ageing, health)
    lap("work item rows")
    flagged = {(r["source"], r["item_id"]) for r in out.items}
    out.members = [m for m in _members(plan) if (m["source"], m["item_id"]) in flagged]
    pct = cycle_time_percentiles(cd, by="team", since=since)
    out.teams = _team_rows(cd, since, samples, team_plans, pct)
    lap("teams")

    # the as-of instants at which this answer could change
    day_lo, day_hi = day_bounds(as_of, tz)
    events: list[Any] = []
    sp = meta.sprints
    for series in (
        inputs.transitions["at"],
        inputs.changes["at"],
        sp["start"],
        sp["end"],
        sp["complete"],
        meta.versions["release_date"],
    ):
        stamps = pd.to_datetime(series, utc=True).dropna().dt.as_unit("us")
        events.append(stamps.astype("int64").to_numpy())
    events.append(np.asarray(_item_instants(conn, day_lo, day_hi), dtype=np.int64))
    valid_from, valid_to, point = validity(as_of, np.concatenate(events), tz)
    out.valid_from, out.valid_to, out.point = valid_from, valid_to, point
    lap("validity")
    out.seconds = time.perf_counter() - started
    out.timings = timings
    return out


def _forecasts(
    plan: Any, samples: dict[str, Any], today: Any, config: Any
) -> tuple[Any, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The engine's forecast per open roadmap item (as :func:`forecast_when`), keeping each
    item's finish-period histogram and each team's ordered plan."""
    import numpy as np
    import pandas as pd

    from reports.metrics.forecast import PERIOD_DAYS, forecast_team
    from reports.metrics.roadmap import forecast_plan

    fplan = forecast_plan(plan)
    today = pd.Timestamp(today).normalize()
    labels = [f"p{round(q * 100)}" for q in config.quantiles]
    step = PERIOD_DAYS[config.period]
    parts = []
    extra: dict[str, dict[str, Any]] = {}
    teams: dict[str, dict[str, Any]] = {}
    for team, part in fplan.groupby("team", sort=True):
        part = part.sort_values(["started", "rank"], ascending=[False, True], kind="stable")
        remaining = part["remaining"].to_numpy(dtype=np.float64)
        started = part["started"].to_numpy(dtype=bool) & (remaining > 1e-9)
        configured = config.wip_for(str(team))
        wip = configured if configured is not None else max(1, int(started.sum()))
        growth = [
            np.asarray(g, dtype=np.float64) if g is not None else np.zeros(0)
            for g in part["growth"]
        ]
        team_samples = samples.get(str(team), np.zeros(0))
        res = forecast_team(
            remaining, team_samples, config, str(team), wip, growth if config.scope_growth else None
        )
        ids = part["roadmap_id"].astype(str).tolist()
        frame = pd.DataFrame({"roadmap_id": ids, "team": team})
        frame["wip"] = wip
        concurrent = min(wip, max(1, int((remaining > 1e-9).sum())))
        frame["share"] = np.where(remaining > 1e-9, 1.0 / concurrent, 0.0)
        for lab, days in zip(labels, res["days"], strict=True):
            frame[lab] = [
                today + pd.Timedelta(days=int(d)) if not np.isnan(d) else pd.NaT for d in days
            ]
            frame[lab] = pd.to_datetime(frame[lab])
        parts.append(frame)
        periods = res["periods"]
        for col, rid in enumerate(ids):
            hist, beyond = finish_histogram(periods[:, col], today, step)
            extra[rid] = {
                "forecast": quantile_days(res["days"][:, col], labels, today),
                "histogram": hist,
                "beyond_horizon": beyond,
                "wip": int(wip),
                "share": round(1.0 / concurrent, 4),
            }
        teams[str(team)] = {
            "ids": ids,
            "remaining": remaining.tolist(),
            "wip": int(wip),
            "growth": [g.tolist() for g in growth],
        }
    cols = ["roadmap_id", "team", "wip", "share", *labels]
    fc = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in cols})
    return fc, extra, teams


def _held_forecasts(
    inputs: Any, config: Any, as_of: Any, scope: Any, cd: Any, extra: dict[str, dict[str, Any]]
) -> Any:
    """The weekly engine's forecasts (share from history, corrected by the track record), with
    each item's dates and its team's track record written into ``extra``."""
    from dataclasses import replace

    from reports.metrics.backtest import History, held_text, track_record
    from reports.metrics.item_forecast import roadmap_forecasts

    fcfg = config.forecast
    history = History(
        inputs.items,
        inputs.transitions,
        inputs.changes,
        inputs.versions,
        inputs.item_versions,
        config.workflows,
        config.tz,
        tuple(config.roadmap_types),
    )
    record = track_record(
        history, as_of, replace(fcfg, trials=fcfg.track_trials), weeks=fcfg.track_weeks
    )
    fc = roadmap_forecasts(scope, cd, fcfg, config.roadmap_types, record.correction)
    held = {str(r["team"]): held_text(r) for r in record.rates("team").to_dict("records")}
    for entry in extra.values():  # empty items are not forecast (METRICS §4)
        entry["forecast"] = None
    for rec in fc.to_dict("records"):
        mine = extra.get(str(rec["roadmap_id"]))
        if mine is not None:
            mine["forecast"] = {q: _day(rec[q]) for q in ("p50", "p85", "p95")}
            mine["share"] = round(float(rec["share"]), 4)
            mine["track_record"] = held.get(str(rec["team"]), "nothing scored yet")
    return fc


def _calendar_day(today: Any) -> date:
    """A local day (date or pandas Timestamp) as a plain date: no pandas needed to count on."""
    return date(today.year, today.month, today.day)


def quantile_days(days: Any, labels: list[str], today: Any) -> dict[str, str | None]:
    """Forecast quantiles (days from today, NaN beyond the horizon) as local dates."""
    import numpy as np

    start = _calendar_day(today)
    return {
        lab: ((start + timedelta(days=int(d))).isoformat() if not np.isnan(d) else None)
        for lab, d in zip(labels, days, strict=True)
    }


def finish_histogram(periods: Any, today: Any, step: int) -> tuple[list[dict[str, Any]], int]:
    """Trials finishing per period (dated at the period's end), with the cumulative share, and
    the number of trials not finished within the horizon."""
    import numpy as np

    start = _calendar_day(today)
    finite = periods[np.isfinite(periods)].astype(np.int64)
    total = len(periods)
    hist = []
    if len(finite):
        values, counts = np.unique(finite, return_counts=True)
        cum = 0
        for n, c in zip(values.tolist(), counts.tolist(), strict=True):
            cum += int(c)
            hist.append(
                {
                    "date": (start + timedelta(days=int(n) * step)).isoformat(),
                    "trials": int(c),
                    "cumulative_pct": round(100.0 * cum / total, 1),
                }
            )
    return hist, int(total - len(finite))


def _local(value: Any, tz: str) -> str | None:
    """A snapshot day (local midnight as a UTC instant) as its local calendar date."""
    import pandas as pd

    from reports.metrics.timeutil import local_day

    if value is None or pd.isna(value):
        return None
    return local_day(pd.Timestamp(value), tz).strftime("%Y-%m-%d")


def _roadmap_rows(
    scope: Any, snap: Any, extra: dict[str, dict[str, Any]], cd: Any, health: Any
) -> list[dict[str, Any]]:
    import pandas as pd

    tz = cd.tz
    url = dict(zip(cd.items["key"], cd.items["url"], strict=False))
    snap_by = {(str(r.source), str(r.roadmap_id)): r for r in snap.itertuples(index=False)}
    out = []
    rec: Any
    for rec in scope.roadmap.itertuples(index=False):
        source, rid = str(rec.source), str(rec.roadmap_id)
        is_open = pd.isna(rec.done_at)
        done_at = None if is_open else pd.Timestamp(rec.done_at)
        fdoc: dict[str, Any] = {
            "title": str(rec.title),
            "team": str(rec.team),
            "target": _day(rec.target_day),
            "state": "open" if is_open else "done",
            "done_at": None if done_at is None else _local(done_at, tz),
            "done_at_utc": None if done_at is None else done_at.isoformat(),
            "scope": int(rec.scope),
            "done_items": int(rec.done_children),
            "remaining": int(rec.remaining),
        }
        if is_open and rid in extra:
            fdoc.update(extra[rid])
        risk = None
        listed = False
        snap_rec = snap_by.get((source, rid)) if is_open else None
        if snap_rec is not None:
            codes = [c for c in str(snap_rec.reasons).split(",") if c]
            texts = [t for t in str(snap_rec.evidence).split("\n") if t]
            listed = not (snap_rec.status == "on track" and not codes)
            if listed:
                risk = {
                    "kind": str(snap_rec.kind),
                    "source": source,
                    "key": str(snap_rec.key),
                    "title": str(snap_rec.title),
                    "team": str(snap_rec.team),
                    "project": str(rec.project),
                    "status": str(snap_rec.status),
                    "level": level_of(str(snap_rec.kind), str(snap_rec.status), codes),
                    "severity": int(snap_rec.severity),
                    "reasons": codes,
                    "evidence": [
                        {"code": c, "text": t} for c, t in zip(codes, texts, strict=False)
                    ],
                    "target": _local(snap_rec.target, tz),
                    "p50": _local(snap_rec.p50, tz),
                    "p85": _local(snap_rec.p85, tz),
                    "p95": _local(snap_rec.p95, tz),
                    "scope": int(snap_rec.scope),
                    "remaining": int(snap_rec.remaining),
                    "parent": None,
                    "url": str(url.get(snap_rec.key, "")) if snap_rec.kind != "version" else "",
                }
        out.append(
            {
                "source": source,
                "roadmap_id": rid,
                "kind": str(rec.kind),
                "key": str(rec.key),
                "team": str(rec.team),
                "project": str(rec.project),
                "open": bool(is_open),
                "listed": listed,
                "target": _day(rec.target_day),
                "risk": json.dumps(risk, ensure_ascii=False) if risk is not None else None,
                "forecast": json.dumps(fdoc, ensure_ascii=False),
            }
        )
    return out


def _members(plan: Any) -> list[dict[str, Any]]:
    """Every (child source, roadmap id, child item id) of the open roadmap items, with the
    roadmap item's key (what `--epic` and `--version` name)."""
    kids = plan.children
    rm = plan.roadmap
    key_of = {str(r): str(k) for r, k in zip(rm["roadmap_id"], rm["key"], strict=True)}
    out = []
    seen = set()
    for s, rid, iid in zip(kids["source"], kids["roadmap_id"], kids["item_id"], strict=True):
        row = (str(s), str(rid), str(iid))
        if row in seen:
            continue
        seen.add(row)
        out.append(
            {
                "source": row[0],
                "roadmap_id": row[1],
                "item_id": row[2],
                "roadmap_key": key_of.get(row[1], ""),
            }
        )
    return out


def _item_rows(
    cd: Any,
    inputs: Any,
    plan: Any,
    est: Any,
    blocked: Any,
    ageing: Any,
    health: Any,
) -> list[dict[str, Any]]:
    """The `pulse risk` rows of work items (not roadmap items, sub-tasks or done items) that
    carry an item reason at as_of."""
    import numpy as np
    import pandas as pd

    from reports.metrics.health import (
        REASONS,
        blocked_reasons,
        blocker_lookup,
        flag_lookup,
        n_days,
    )
    from reports.metrics.history import FieldHistory
    from reports.metrics.roadmap import ROADMAP_TYPES, target_days
    from reports.metrics.timeutil import local_days

    items = cd.items
    n = len(items)
    if n == 0:
        return []
    folded = {t.casefold() for t in ROADMAP_TYPES}
    is_roadmap = items["type"].astype(object).map(lambda t: str(t).casefold() in folded)
    pos = items["position"].to_numpy()
    done = (pos >= 0) & (pos >= items["done_index"].to_numpy())
    eligible = ~is_roadmap.to_numpy(dtype=bool) & ~items["is_subtask"].to_numpy(dtype=bool) & ~done
    rows = np.flatnonzero(eligible)
    if len(rows) == 0:
        return []
    today = cd.today
    reasons: dict[int, list[tuple[str, str]]] = {}

    def add(r: int, code: str, text: str) -> None:
        reasons.setdefault(r, []).append((code, text))

    # OVERDUE: own due date at as_of passed
    due_hist = FieldHistory.build(
        items,
        inputs.changes,
        "due_date",
        current=items["due"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    due_now = due_hist.value_at(rows, np.full(len(rows), cd.as_of_ms, dtype=np.int64))
    due_days = target_days(
        pd.to_datetime(pd.Series(due_now, dtype=object), utc=True, errors="coerce"), cd.tz
    )
    today_d = np.datetime64(pd.Timestamp(today).date(), "D")
    due_d = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    due_d[rows] = due_days.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    due_text = np.datetime_as_string(due_d, unit="D")
    late = np.flatnonzero(~np.isnat(due_d) & (due_d < today_d))
    for r, gap in zip(
        late.tolist(), (today_d - due_d[late]).astype(np.int64).tolist(), strict=True
    ):
        add(r, "OVERDUE", f"due {due_text[r]} passed {n_days(gap)} ago, not done")
    # BLOCKED: flagged now, or blocked by an open item (the engine's wording)
    by_key = {(s, k): i for i, (s, k) in enumerate(zip(items["source"], items["key"], strict=True))}
    arrays = {
        c: items[c].astype(object).to_numpy() if c in ("source", "key") else items[c].to_numpy()
        for c in ("source", "key", "position", "committed_index", "done_index")
    }
    flagged = flag_lookup(blocked, cd)
    blockers = blocker_lookup(inputs.links, cd, by_key)
    for r in sorted((set(flagged) | set(blockers)) & set(rows.tolist())):
        hit = blocked_reasons([int(r)], flagged, blockers, arrays, health)
        if hit:
            text = hit[0][1]
            key = str(arrays["key"][r])
            if text.startswith(key + " "):
                text = text[len(key) + 1 :]
            add(int(r), "BLOCKED", text)
    # STALLED / AGING_WIP: in progress at as_of
    in_progress = (pos >= items["committed_index"].to_numpy()) & ~done & (pos >= 0)
    work = np.flatnonzero(eligible & in_progress)
    if len(work):
        last = items["last_move_at"].iloc[work]
        ref = last.where(last.notna(), items["created"].iloc[work])
        ref_day = local_days(pd.Series(pd.to_datetime(ref, utc=True).to_numpy()), cd.tz)
        ref_d = ref_day.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        ref_text = np.datetime_as_string(ref_d, unit="D")
        idle = (today_d - ref_d).astype(np.int64)
        column = items["column"].iloc[work].to_numpy()
        aging = {
            (str(s), str(i)): (int(g), float(p))
            for s, i, g, p, o in zip(
                ageing["source"],
                ageing["item_id"],
                ageing["age_days"],
                ageing["p85_days"],
                ageing["over_p85"],
                strict=True,
            )
            if o
        }
        src = items["source"].to_numpy()
        iid = items["item_id"].to_numpy()
        for k, r in enumerate(work.tolist()):
            if idle[k] >= health.stalled_days:
                add(
                    r,
                    "STALLED",
                    f"no move in {n_days(int(idle[k]))} (in {column[k]} since {ref_text[k]})",
                )
            aged = aging.get((str(src[r]), str(iid[r])))
            if aged:
                add(r, "AGING_WIP", f"in progress {n_days(aged[0])} (team p85 {aged[1]:g} days)")
    # UNESTIMATED: no estimate at as_of while in an active or future sprint
    for r, text in _unestimated(cd, inputs, est, rows).items():
        add(r, "UNESTIMATED", text)

    parent_of: dict[int, list[str]] = {}
    kids = plan.children
    rk = dict(zip(plan.roadmap["roadmap_id"], plan.roadmap["key"], strict=True))
    for rid, r in zip(kids["roadmap_id"], kids["row"].astype(int), strict=True):
        parent_of.setdefault(int(r), []).append(str(rk.get(rid, "")))
    out = []
    cols = {
        c: items[c].to_numpy()
        for c in ("source", "item_id", "key", "title", "team", "project", "url", "status")
    }
    column_all = items["column"].to_numpy()
    for r in sorted(reasons):
        found = reasons[r]
        found.sort(key=lambda x: REASONS.index(x[0]))
        codes = [c for c, _ in found]
        level = level_of("item", "", codes)
        column = column_all[r]
        parents = parent_of.get(r, [])
        due = None if np.isnat(due_d[r]) else str(due_text[r])
        out.append(
            {
                "source": str(cols["source"][r]),
                "item_id": str(cols["item_id"][r]),
                "key": str(cols["key"][r]),
                "title": str(cols["title"][r]),
                "team": str(cols["team"][r]),
                "project": str(cols["project"][r]),
                "status": str(column) if pd.notna(column) else str(cols["status"][r]),
                "level": level,
                "severity": LEVEL_SCORE[level] + sum(health.weights.get(c, 0) for c in codes),
                "reasons": ",".join(codes),
                "evidence": "\n".join(t.replace("\n", " ") for _, t in found),
                "due": due,
                "parent": ", ".join(sorted(p for p in parents if p)) or None,
                "url": str(cols["url"][r]),
            }
        )
    return out


def _unestimated(cd: Any, inputs: Any, est: Any, rows: Any) -> dict[int, str]:
    import numpy as np

    from reports.metrics.history import Membership, current_values
    from reports.metrics.sprints import sprints_at

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
    values = est.to_numpy()
    names = dict(zip(sprints["sprint_id"].astype(str), sprints["name"].astype(str), strict=True))
    out: dict[int, str] = {}
    for r, sid in zip(inside["row"].astype(int), inside["member"].astype(str), strict=True):
        if np.isnan(values[r]) and r not in out:
            state = "active" if sid in active else "future"
            out[int(r)] = f"no estimate, in {state} sprint {names.get(sid, sid)}"
    return out


def _team_rows(
    cd: Any, since: Any, samples: dict[str, Any], plans: dict[str, dict[str, Any]], pct: Any
) -> list[dict[str, Any]]:
    """Per team: throughput samples, forecast plan, cycle times over the throughput window."""
    import pandas as pd

    items = cd.items
    done = items[
        items["completed"].to_numpy(dtype=bool)
        & (items["done_day"] >= pd.Timestamp(since)).to_numpy()
        & ~items["is_subtask"].to_numpy(dtype=bool)
    ]
    cycles = {
        str(team): sorted(float(x) for x in part["cycle_days"].dropna())
        for team, part in done.groupby("team", sort=True)
    }
    pct_by = {
        str(r.team): {
            "count": int(r.count),
            "p50": float(r.p50),
            "p85": float(r.p85),
            "p95": float(r.p95),
        }
        for r in pct.itertuples(index=False)
    }
    teams = sorted(set(samples) | set(plans) | set(cycles) | set(pct_by))
    out = []
    for team in teams:
        data = {
            "throughput": [float(x) for x in samples.get(team, [])],
            "plan": plans.get(team),
            "cycle": pct_by.get(team, {"count": 0, "p50": None, "p85": None, "p95": None}),
            "cycle_days": cycles.get(team, []),
        }
        out.append({"team": team, "data": json.dumps(data)})
    return out


# -- the cache --------------------------------------------------------------------------------


def store_analysis(store: Store, org: OrgAnalysis, version: str, chash: str, reusable: bool) -> int:
    """Save a computed analysis as a cache entry; return its id."""
    run = {
        "data_version": version,
        "config_hash": chash,
        "as_of": org.as_of,
        "valid_from": org.valid_from,
        "valid_to": org.valid_to,
        "point": org.point,
        "reusable": reusable,
        "computed_at": clock.now(),
        "seconds": round(org.seconds, 3),
        "meta": json.dumps(org.meta),
    }
    with store.transaction() as conn:
        return save_entry(
            conn,
            run,
            {
                analysis_roadmap: org.roadmap,
                analysis_items: org.items,
                analysis_members: org.members,
                analysis_teams: org.teams,
            },
        )


def _compute_and_store(
    store: Store, settings: Settings, as_of: datetime, chash: str, health: Any
) -> int:
    with store.engine.connect() as conn:
        begin_snapshot(conn)
        version = data_version(conn)
        org = compute(conn, settings, as_of, health)
    return store_analysis(store, org, version.digest, chash, reusable=not version.busy)


@contextmanager
def reading(
    store: Store, settings: Settings, as_of: datetime, health: Any = None
) -> Iterator[tuple[Connection, Entry]]:
    """A connection reading one consistent state of the store, and the analysis entry valid at
    ``as_of`` for the store's current data: found, or computed and stored first."""
    chash = config_hash(settings, health)
    for _attempt in range(3):
        with store.engine.connect() as conn:
            begin_snapshot(conn)
            version = data_version(conn)
            entry = find_entry(conn, version.digest, chash, as_of)
            if entry is not None:
                yield conn, entry
                return
        entry_id = _compute_and_store(store, settings, as_of, chash, health)
        with store.engine.connect() as conn:
            begin_snapshot(conn)
            try:
                entry = entry_by_id(conn, entry_id)
            except LookupError:
                continue  # pruned before we could read it (a race with another writer)
            yield conn, entry
            return
    raise RuntimeError("the analysis cache keeps losing its entries; is another Pulse pruning?")


def lookup(store: Store, settings: Settings, as_of: datetime) -> Entry | None:
    """The reusable entry valid at ``as_of`` if there is one (never computes)."""
    with store.engine.connect() as conn:
        begin_snapshot(conn)
        version = data_version(conn)
        return find_entry(conn, version.digest, config_hash(settings), as_of)


def refresh_analysis(store: Store, settings: Settings, as_of: Any = None) -> bool:
    """Make sure the analysis for ``as_of`` (default now) is stored; True when it computed.

    Call after a sync has finished (`pulse sync`, the service's sync job) so the next question
    is answered from the store. Nothing is computed while another sync is still running: what
    it commits would make the entry stale at once, and its own end calls this again. Errors
    (e.g. the store cannot be written) are left to the caller.
    """
    when = instant(as_of)
    chash = config_hash(settings)
    with store.engine.connect() as conn:
        begin_snapshot(conn)
        version = data_version(conn)
        if version.busy or find_entry(conn, version.digest, chash, when) is not None:
            return False
    _compute_and_store(store, settings, when, chash, None)
    return True


def team_data(conn: Connection, entry: Entry, team: str) -> dict[str, Any] | None:
    """The cached per-team data (throughput, forecast plan, cycle times), None when unknown."""
    raw = conn.execute(
        select(analysis_teams.c.data).where(
            analysis_teams.c.run_id == entry.id, analysis_teams.c.team == team
        )
    ).scalar()
    return None if raw is None else dict(json.loads(raw))


__all__ = [
    "ANALYSIS_VERSION",
    "OrgAnalysis",
    "compute",
    "config_hash",
    "instant",
    "level_of",
    "lookup",
    "reading",
    "refresh_analysis",
    "team_data",
    "validity",
]
