"""The whole organisation's delivery analysis at one as-of, computed once and stored for questions.

A forecast depends on the owning team's whole plan and throughput, and `pulse risk` over the
organisation needs every team: loading the store once and running the engine over everything,
all teams at once, costs less than loading slices per question. The result is what the questions
read (see :mod:`pulse.store.analysis`):

- per roadmap item (epic, version, Trello roadmap card), open or done: the `pulse risk` row
  (health status, reasons with evidence, p50/p85/p95, scope) and what `pulse forecast` shows
  (the forecast and its histogram of finish weeks);
- per work item carrying an item reason (OVERDUE, BLOCKED, STALLED, AGING_WIP, UNESTIMATED):
  its `pulse risk` row, own due day and the open roadmap items it belongs to;
- per team: throughput samples, the ordered forecast plan (to re-run one team's simulation for
  `--by` or `--trials`) and cycle times over the throughput window (for `pulse show`).

Every number comes from the one calculator pipeline over the one loader's frames
(:mod:`pulse.reports.dataset`): :func:`pulse.reports.metrics.pipeline.compute_risks` runs the steps
of
``compute_all`` the questions read, so they show what the weekly workbook shows for the same
as-of, row for row. This module only turns the results into cache rows. An entry is valid for
every as-of between the stored events around the one it was computed for (:func:`validity`),
so answers are exact for any instant.
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
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pulse import clock
from pulse.settings import Settings
from pulse.store import Store
from pulse.store.analysis_reads import Entry, data_version, entry_by_id, find_entry
from pulse.store.sql import Reader, begin_snapshot

if TYPE_CHECKING:
    from pulse.store import Connection

ANALYSIS_VERSION = 3  # bump when the analysis changes meaning: older entries are not reused


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
    """A digest of the loader's, the engine's and the queries' source: any change to the code
    that computes the analysis (rules, defaults, wording) makes earlier entries unusable; the
    store's reads the loader makes are part of it."""
    reports = Path(__file__).resolve().parents[1]
    store = reports.parent / "store"
    files = sorted(
        [
            *reports.joinpath("metrics").glob("*.py"),
            *reports.joinpath("queries").glob("*.py"),
            reports / "workflows.py",
            reports / "dataset.py",
            reports / "freshness.py",
            store / "loader_reads.py",
            store / "catalog.py",
            store / "item_reads.py",
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

    from pulse.reports.dataset import to_utc
    from pulse.store.loader_reads import item_instants

    values = item_instants(conn, start, end)
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
    stories: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


def _day(value: Any) -> str | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def compute(
    conn: Connection,
    settings: Settings,
    as_of: datetime,
    health: Any = None,
    statuses: list[dict[str, Any]] | None = None,
) -> OrgAnalysis:
    """Run the pipeline over the whole store as known at ``as_of`` (reads only, on ``conn``);
    ``statuses`` (:func:`pulse.store.status.source_status`) give a failed sync's error message."""
    import dataclasses

    import numpy as np
    import pandas as pd

    from pulse.reports.dataset import read_dataset
    from pulse.reports.freshness import facts_frame
    from pulse.reports.metrics.pipeline import compute_risks

    started = time.perf_counter()
    ds = read_dataset(conn, settings, pd.Timestamp(as_of))
    config = ds.config if health is None else dataclasses.replace(ds.config, health=health)
    inputs, tz = ds.inputs, config.tz
    timings: dict[str, float] = {"load": round(time.perf_counter() - started, 3)}
    steps: dict[str, float] = {}
    results = compute_risks(inputs, config, ds.as_of, steps)
    timings.update({k: round(v, 3) for k, v in steps.items()})
    mark = time.perf_counter()
    cd = results.column_dates
    since = results.window_start
    kinds = {s.name: str(s.kind) for s in settings.sources}
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
            "freshness": freshness_doc(facts_frame(results.freshness, kinds, statuses or [])),
            "workflows": {
                key: {"columns": wf.names, "statuses": wf.status_positions()}
                for key, wf in cd.workflows.items()
            },
        },
    )
    run = results.forecast_run
    extra = _forecast_extra(run, cd.today, config.forecast, results.track_record)
    out.roadmap = _roadmap_rows(
        results.roadmap_scope,
        results.snapshot,
        extra,
        cd,
        _baselines(results.baselines, tz),
        _track_records(results.track_record),
        _late_work(results.late_work, tz),
    )
    out.meta["cross_links"] = _cross_links(results.cross_links, tz)
    out.items = [
        {**r, "row": json.dumps(item_row(r), ensure_ascii=False)}
        for r in _records(results.item_risks)
    ]
    flagged = {(r["source"], r["item_id"]) for r in out.items}
    out.members = [
        m for m in _members(results.roadmap_scope) if (m["source"], m["item_id"]) in flagged
    ]
    out.teams = _team_rows(cd, since, run, results.percentiles)
    out.stories = [
        {str(k): v for k, v in r.items()} for r in results.item_stories.to_dict("records")
    ]
    timings["rows"] = round(time.perf_counter() - mark, 3)

    # the as-of instants at which this answer could change
    day_lo, day_hi = day_bounds(as_of, tz)
    events: list[Any] = []
    sp = inputs.sprints
    runs = inputs.sync_runs if inputs.sync_runs is not None else pd.DataFrame()
    stale_at = [
        at + 2 * config.sync_intervals[str(src)]
        for src, at in zip(runs.get("source", []), runs.get("finished_at", []), strict=True)
        if str(src) in config.sync_intervals
    ]
    for series in (
        inputs.transitions["at"],
        inputs.changes["at"],
        sp["start"],
        sp["end"],
        sp["complete"],
        inputs.versions["release_date"],
        runs.get("finished_at", pd.Series([], dtype="datetime64[ns, UTC]")),
        pd.Series(stale_at, dtype="datetime64[ns, UTC]"),
    ):
        stamps = pd.to_datetime(series, utc=True).dropna().dt.as_unit("us")
        events.append(stamps.astype("int64").to_numpy())
    events.append(np.asarray(_item_instants(conn, day_lo, day_hi), dtype=np.int64))
    valid_from, valid_to, point = validity(as_of, np.concatenate(events), tz)
    out.valid_from, out.valid_to, out.point = valid_from, valid_to, point
    out.seconds = time.perf_counter() - started
    out.timings = timings
    return out


def item_row(risk: dict[str, Any]) -> dict[str, Any]:
    """A work item's `pulse risk` row (docs/queries.md) from its item-risks columns; work items
    have no forecast. Reasons are joined by ',', evidence sentences by newlines."""
    codes = risk["reasons"].split(",") if risk["reasons"] else []
    texts = risk["evidence"].split("\n") if risk["evidence"] else []
    return {
        "kind": "item",
        "source": risk["source"],
        "key": risk["key"],
        "title": risk["title"],
        "team": risk["team"],
        "project": risk["project"],
        "status": risk["status"],
        "level": risk["level"],
        "severity": int(risk["severity"]),
        "reasons": codes,
        "evidence": [{"code": c, "text": t} for c, t in zip(codes, texts, strict=True)],
        "target": risk["due"],
        "p50": None,
        "p85": None,
        "p95": None,
        "scope": None,
        "remaining": None,
        "baseline": None,
        "since": None,
        "late_work": [],
        "parent": risk["parent"],
        "url": risk["url"],
    }


def _records(frame: Any) -> list[dict[str, Any]]:
    """A frame's rows as dicts for the cache tables: missing values as NULL, never NaN."""
    import pandas as pd

    return [
        {
            str(k): None if v is None or (not isinstance(v, str) and pd.isna(v)) else v
            for k, v in r.items()
        }
        for r in frame.to_dict("records")
    ]


def freshness_doc(facts: Any) -> dict[str, Any]:
    """The freshness facts (:func:`pulse.reports.freshness.facts_frame`) and the warning line, as
    the
    questions print them: the workbook's words for the same as-of."""
    import pandas as pd

    from pulse.reports.freshness import freshness_line

    sources = []
    for rec in facts.to_dict("records"):
        last = rec["last_success"]
        sources.append(
            {
                "source": str(rec["source"]),
                "state": str(rec["state"]),
                "last_success": None if pd.isna(last) else pd.Timestamp(last).isoformat(),
                "age_hours": None if pd.isna(rec["age_hours"]) else round(rec["age_hours"], 2),
            }
        )
    return {"line": freshness_line(facts), "sources": sources}


def _forecast_extra(run: Any, today: Any, config: Any, summary: Any) -> dict[str, dict[str, Any]]:
    """Per open roadmap item with work left: its forecast dates, finish-period histogram, share
    of its team, stale children and the date if they were closed, and its team's track record."""
    from pulse.reports.metrics.forecast import PERIOD_DAYS

    labels = [f"p{round(q * 100)}" for q in config.quantiles]
    step = PERIOD_DAYS[config.period]
    records = _track_records(summary)
    extra: dict[str, dict[str, Any]] = {}
    for rec in run.frame.to_dict("records"):
        rid = str(rec["roadmap_id"])
        hist, beyond = finish_histogram(run.periods[rid], today, step)
        record = records.get(str(rec["team"]))
        extra[rid] = {
            "forecast": {lab: _day(rec[lab]) for lab in labels},
            "histogram": hist,
            "beyond_horizon": beyond,
            "wip": None,
            "share": round(float(rec["share"]), 4),
            "stale": list(rec["stale_keys"]),
            "if_closed": {q: _day(rec[f"{q}_if_closed"]) for q in ("p50", "p85")},
            "track_record": record,
        }
    return extra


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

    from pulse.reports.metrics.timeutil import local_day

    if value is None or pd.isna(value):
        return None
    return local_day(pd.Timestamp(value), tz).strftime("%Y-%m-%d")


def _baselines(frame: Any, tz: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The pipeline's baselines (scope, target, instant) by (source, roadmap id)."""
    return {
        (str(r.source), str(r.roadmap_id)): {
            "scope": int(r.baseline_scope),
            "target": _local(r.baseline_target, tz),
            "at": _local(r.baseline_at, tz),
        }
        for r in frame.itertuples(index=False)
    }


def _track_records(summary: Any) -> dict[str, dict[str, Any]]:
    """Each team's forecast track record (all kinds), with the sentence a reader sees."""
    from pulse.reports.metrics.track_record import held_text, team_record

    teams = sorted({str(t) for t in summary["team"]} - {"all"})
    return {
        team: {**record, "text": held_text(record)}
        for team in teams
        for record in [team_record(summary, team)]
    }


def _late_work(frame: Any, tz: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The drill-down by (source, roadmap id): since when off track, and the open children."""
    import pandas as pd

    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in frame.itertuples(index=False):
        doc = out.setdefault(
            (str(r.source), str(r.roadmap_id)),
            {"since": _local(r.since, tz), "children": []},
        )
        doc["children"].append(
            {
                "key": str(r.key),
                "title": str(r.title),
                "status": str(r.status),
                "column": None if pd.isna(r.column) else str(r.column),
                "age_days": None if pd.isna(r.age_days) else int(r.age_days),
                "assignee": None if pd.isna(r.assignee) else str(r.assignee),
                "blocked_by": [k for k in str(r.blocked_by).split(", ") if k],
                "flagged": bool(r.flagged),
            }
        )
    return out


def _cross_links(frame: Any, tz: str) -> dict[str, list[dict[str, Any]]]:
    """Cross-tool links by 'source:key' of the item that has them (both directions)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in frame.itertuples(index=False):
        out.setdefault(f"{r.source}:{r.key}", []).append(
            {
                "direction": str(r.direction),
                "source": str(r.other_source),
                "key": str(r.other_key),
                "title": str(r.other_title),
                "status": str(r.other_status),
                "stage": str(r.other_stage),
                "roadmap_key": r.roadmap_key if isinstance(r.roadmap_key, str) else None,
                "roadmap_status": r.roadmap_status if isinstance(r.roadmap_status, str) else None,
                "p50": _local(r.p50, tz),
                "p85": _local(r.p85, tz),
            }
        )
    return out


def _roadmap_rows(
    scope: Any,
    snap: Any,
    extra: dict[str, dict[str, Any]],
    cd: Any,
    baselines: dict[tuple[str, str], dict[str, Any]],
    records: dict[str, dict[str, Any]],
    late: dict[tuple[str, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    import pandas as pd

    from pulse.reports.metrics.item_risks import level_of

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
            "track_record": records.get(str(rec.team)),
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
                    "baseline": baselines.get((source, rid)),
                    "since": (late.get((source, rid)) or {}).get("since"),
                    "late_work": (late.get((source, rid)) or {}).get("children", []),
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
    rm = rm[rm["done_at"].isna()]
    key_of = {str(r): str(k) for r, k in zip(rm["roadmap_id"], rm["key"], strict=True)}
    out = []
    seen = set()
    for s, rid, iid in zip(kids["source"], kids["roadmap_id"], kids["item_id"], strict=True):
        row = (str(s), str(rid), str(iid))
        if row in seen or row[1] not in key_of:
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


def _team_rows(cd: Any, since: Any, run: Any, pct: Any) -> list[dict[str, Any]]:
    """Per team: throughput samples, forecast plan, cycle times over the throughput window."""
    import dataclasses

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
    samples, plans = run.samples, run.teams
    kinds = dict(zip(run.frame["roadmap_id"].astype(str), run.frame["kind"], strict=True))
    teams = sorted(set(samples) | set(plans) | set(cycles) | set(pct_by))
    out = []
    for team in teams:
        plan = plans.get(team)
        data = {
            "throughput": [float(x) for x in samples.get(team, [])],
            "plan": None if plan is None else dataclasses.asdict(plan),
            "kinds": [] if plan is None else [str(kinds.get(i, "")) for i in plan.ids],
            "correction": dataclasses.asdict(run.correction),
            "cycle": pct_by.get(team, {"count": 0, "p50": None, "p85": None, "p95": None}),
            "cycle_days": cycles.get(team, []),
        }
        out.append({"team": team, "data": json.dumps(data)})
    return out


# -- the cache --------------------------------------------------------------------------------


def store_analysis(store: Store, org: OrgAnalysis, version: str, chash: str, reusable: bool) -> int:
    """Save a computed analysis as a cache entry; return its id."""
    from pulse.store.analysis import save_entry  # SQLAlchemy's tables: only a refresh needs them

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
                "roadmap": org.roadmap,
                "items": org.items,
                "stories": org.stories,
                "members": org.members,
                "teams": org.teams,
            },
        )


def _compute_and_store(
    store: Store, settings: Settings, as_of: datetime, chash: str, health: Any
) -> int:
    from pulse.store.status import source_status

    statuses = source_status(store)
    with store.reading() as conn:
        begin_snapshot(conn)
        version = data_version(conn)
        org = compute(conn, settings, as_of, health, statuses)
    return store_analysis(store, org, version.digest, chash, reusable=not version.busy)


@contextmanager
def reading(
    store: Store, settings: Settings, as_of: datetime, health: Any = None
) -> Iterator[tuple[Reader, Entry]]:
    """A connection reading one consistent state of the store, and the analysis entry valid at
    ``as_of`` for the store's current data: found, or computed and stored first (only then is
    SQLAlchemy, and the engine, imported)."""
    chash = config_hash(settings, health)
    for _attempt in range(3):
        with store.reads() as conn:
            begin_snapshot(conn)
            version = data_version(conn)
            entry = find_entry(conn, version.digest, chash, as_of)
            if entry is not None:
                yield conn, entry
                return
        entry_id = _compute_and_store(store, settings, as_of, chash, health)
        with store.reads() as conn:
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
    with store.reads() as conn:
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
    with store.reads() as conn:
        begin_snapshot(conn)
        version = data_version(conn)
        if version.busy or find_entry(conn, version.digest, chash, when) is not None:
            return False
    _compute_and_store(store, settings, when, chash, None)
    return True


__all__ = [
    "ANALYSIS_VERSION",
    "OrgAnalysis",
    "compute",
    "config_hash",
    "instant",
    "lookup",
    "reading",
    "refresh_analysis",
    "validity",
]
