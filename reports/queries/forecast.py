"""`pulse forecast KEY`: when an epic, version or roadmap card will be done, or how much by a date.

The forecast is the engine's (METRICS §4): the owning team's weekly throughput over the last
``weeks`` weeks, shared by the team's roadmap items in progress, 10,000 seeded trials. The
stored whole-organisation analysis (:mod:`pulse.reports.queries.analysis`) holds each open item's
p50/p85/p95 and its histogram of finish weeks, and each team's ordered plan: with ``--by`` or
``--trials`` the team's simulation is run again from that plan (same seed, same answer as the
engine's for the same trials). Calibration (how past forecasts held) needs stored weekly
snapshots; when the store has none for the item it is reported as unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pulse.settings import Settings
from pulse.store import Store
from pulse.store.analysis_reads import Entry, roadmap_forecast, team_data
from pulse.store.catalog import source_names
from pulse.store.item_reads import has_snapshots, items_with_key

from .analysis import instant, reading
from .catalog import (
    is_roadmap_type,
    one_source,
    read_catalog,
    source_id_of,
    team_of,
)
from .errors import QueryError

if TYPE_CHECKING:
    from pulse.store.sql import Conn


@dataclass
class ForecastAnswer:
    """The JSON-ready answer of `pulse forecast` (see docs/queries.md)."""

    doc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse forecast --format json`."""
        return self.doc


def resolve(
    conn: Conn, settings: Settings, as_of: datetime, key: str, source: str | None = None
) -> tuple[str, str, str, str]:
    """(kind, source, roadmap_id, team) of an epic / roadmap card key or a version name (of
    `source`, needed when several sources have it)."""
    catalog = read_catalog(conn, settings)
    wanted = source_id_of(conn, source)
    rows = items_with_key(conn, as_of, key, wanted)
    one_source(conn, key, [sid for sid, _iid, typ, _p in rows if is_roadmap_type(typ)])
    for sid, iid, typ, project in rows:
        if is_roadmap_type(typ):
            source = catalog.sources[sid]
            kind = "card" if typ.casefold() == "roadmap" else "epic"
            return kind, source, iid, team_of(settings, source, project)
    hits = [v for v in catalog.versions if key in (v[4], v[2]) and wanted in (None, v[1])]
    if len(hits) > 1:
        listing = ", ".join(f"{p}/{n} (id {i})" for _, _, i, p, n in hits)
        raise QueryError(f"version {key!r} is ambiguous: {listing}; give the version id")
    if len(hits) == 1:
        source, _sid, vid, project, _name = hits[0]
        return "version", source, f"version:{vid}", team_of(settings, source, project)
    if rows:
        raise QueryError(
            f"{key} is a {rows[0][2] or 'work item'}: forecast takes an epic, a version or a "
            "roadmap card"
        )
    raise QueryError(f"unknown key {key!r} (no epic, version or roadmap card by that name)")


def forecast(
    store: Store,
    settings: Settings,
    key: str,
    as_of: Any = None,
    by: date | None = None,
    trials: int | None = None,
    source: str | None = None,
) -> ForecastAnswer:
    """Answer `pulse forecast KEY` (of `source` when several have it) from the store as it
    was known at ``as_of``."""
    when = instant(as_of)
    with store.reads() as conn:
        kind, source, rid, team = resolve(conn, settings, when, key, source)
    if trials is not None and trials < 100:
        raise QueryError(f"--trials {trials} is too few (use at least 100)")
    with reading(store, settings, when) as (conn, entry):
        stored = roadmap_forecast(conn, entry, source, rid)
        doc = _answer(entry, when, settings, key, kind, source, team, stored, trials)
        if stored is not None and stored["state"] == "open":
            data = team_data(conn, entry, stored["team"]) or {}
            doc["throughput"] = data.get("throughput", [])
            if by is not None or trials is not None:
                _rerun(doc, entry, data, rid, by, trials)
        done_at = stored.get("done_at_utc") if stored is not None else None
        doc["calibration"] = _calibration(store, conn, entry, when, source, rid, done_at)
    return ForecastAnswer(doc)


def _answer(
    entry: Entry,
    when: datetime,
    settings: Settings,
    key: str,
    kind: str,
    source: str,
    team: str,
    stored: dict[str, Any] | None,
    trials: int | None,
) -> dict[str, Any]:
    meta = entry.meta
    doc: dict[str, Any] = {
        "command": "forecast",
        "as_of": when.isoformat(),
        "timezone": settings.report.timezone,
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
        "trials": int(trials if trials is not None else meta["trials"]),
        "weeks": int(meta["weeks"]),
        "period": str(meta["period"]),
        "throughput": [],
        "wip": None,
        "share": None,
        "forecast": None,
        "histogram": [],
        "beyond_horizon": 0,
        "by": None,
        "calibration": None,
        "track_record": None,
        "stale": [],
        "if_closed": None,
        "freshness": dict(meta.get("freshness") or {}),
    }
    if stored is None:
        return doc
    doc.update(
        title=stored["title"],
        team=stored["team"],
        target=stored["target"],
        scope=stored["scope"],
        done_items=stored["done_items"],
        remaining=stored["remaining"],
        track_record=stored.get("track_record"),
    )
    if stored["state"] == "done":
        doc.update(state="done", done_at=stored["done_at"])
        return doc
    doc.update(
        wip=stored.get("wip"),
        share=stored.get("share"),
        forecast=stored.get("forecast"),
        histogram=stored.get("histogram", []),
        beyond_horizon=stored.get("beyond_horizon", 0),
        track_record=stored.get("track_record"),
        stale=stored.get("stale", []),
        if_closed=stored.get("if_closed"),
    )
    return doc


def _rerun(
    doc: dict[str, Any],
    entry: Entry,
    data: dict[str, Any],
    rid: str,
    by: date | None,
    trials: int | None,
) -> None:
    """Run the team's simulation again (other trials, or 'how many by DATE') from the stored
    plan; the same seed and plan give the stored p-values for the same trials."""
    from dataclasses import replace

    import numpy as np

    from pulse.reports.metrics.forecast import PERIOD_DAYS, ForecastConfig
    from pulse.reports.metrics.item_forecast import (
        Correction,
        TeamItems,
        corrected_days,
        done_by,
        simulate_items,
        stretch,
    )
    from pulse.reports.metrics.item_forecast import (
        quantile_days as item_quantile_days,
    )

    from .analysis import finish_histogram, quantile_days

    plan = data.get("plan")
    if not plan or rid not in plan["ids"]:
        return
    meta = entry.meta
    config = ForecastConfig()
    if trials is not None:
        config = replace(config, trials=int(trials))
    today = date.fromisoformat(meta["today"])
    step = PERIOD_DAYS[config.period]
    until = None if by is None else max(0, (by - today).days) // step
    items = TeamItems(**plan)
    col = plan["ids"].index(rid)
    kind = data.get("kinds", [""] * len(plan["ids"]))[col]
    correction = Correction(**data.get("correction", {}))
    f50 = np.array([correction.factor("p50", kind)])
    f85 = np.array([correction.factor("p85", kind)])
    throughput = np.asarray(data.get("throughput", []), dtype=np.float64)
    finish, cum = simulate_items(items, throughput, config, str(doc["team"]))
    raw = item_quantile_days(finish[:, [col]], config)[:, 0]
    labels = [f"p{round(q * 100)}" for q in config.quantiles]
    days = [
        corrected_days(d, f50 if lab == "p50" else f85)[0]
        for lab, d in zip(labels, raw, strict=True)
    ]
    days = list(np.maximum.accumulate(np.array(days)))
    periods = stretch(finish[:, [col]], f50, f85)[:, 0]
    doc["forecast"] = quantile_days(np.array(days), labels, today)
    doc["histogram"], doc["beyond_horizon"] = finish_histogram(periods, today, step)
    if by is not None and until is not None:
        done = done_by(items, cum, col, until, float(f85[0]), config.confidence)
        doc["by"] = {
            "date": by.isoformat(),
            "items_done": min(done, int(doc["remaining"])),
            "confidence": config.confidence,
            "remaining": int(doc["remaining"]),
            "probability_all_done": round(float(np.mean(periods <= until)), 4),
        }


def _calibration(
    store: Store,
    conn: Conn,
    entry: Entry,
    when: datetime,
    source: str,
    rid: str,
    done_at: str | None,
) -> dict[str, Any] | None:
    """How past forecasts of this item held, from the stored weekly snapshots taken before
    as_of (None while there are none for it)."""
    sid = {n: i for i, n in source_names(conn).items()}.get(source)
    if sid is None or not has_snapshots(conn, sid, rid, when):
        return None
    return _calibrate(store, entry, when, source, rid, sid, done_at)


def _calibrate(
    store: Store,
    entry: Entry,
    when: datetime,
    source: str,
    rid: str,
    sid: int,
    done_at: str | None,
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from pulse.reports.metrics.calibration import forecast_calibration
    from pulse.store.snapshots import item_snapshots

    with store.reading() as conn:  # a frame: SQLAlchemy and pandas are loaded by now anyway
        frame = item_snapshots(conn, sid, rid, when)
    outcome = pd.DataFrame(
        {
            "source": [source],
            "roadmap_id": [rid],
            "done_at": pd.to_datetime(pd.Series([done_at], dtype=object), utc=True),
        }
    )
    cal = forecast_calibration(frame, outcome, pd.Timestamp(when), entry.meta["timezone"])

    def day(value: Any) -> str | None:
        return None if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")

    return {
        "hit_rate_p85": None if np.isnan(cal.hit_rate_p85) else round(cal.hit_rate_p85, 4),
        "hit_rate_p50": None if np.isnan(cal.hit_rate_p50) else round(cal.hit_rate_p50, 4),
        "resolved": int(cal.resolved),
        "forecasts": [
            {
                "made": day(r.snapshot_at),
                "p50": day(r.p50_day),
                "p85": day(r.p85_day),
                "done": day(r.done_day),
                "p85_outcome": str(r.p85_outcome),
            }
            for r in cal.detail.itertuples(index=False)
        ],
    }


def backtest(store: Store, settings: Settings, as_of: Any = None) -> dict[str, Any]:
    """`pulse forecast --backtest`: the pipeline's track record (replayed Mondays, hit rates
    overall, per kind and per team) as JSON, each row with its reader's text."""
    import pandas as pd

    from pulse.reports.dataset import read_dataset
    from pulse.reports.metrics.pipeline import compute_risks
    from pulse.reports.metrics.track_record import held_text

    when = instant(as_of)
    with store.reading() as conn:
        ds = read_dataset(conn, settings, pd.Timestamp(when))
    results = compute_risks(ds.inputs, ds.config, ds.as_of)
    summary = results.track_record

    def rows(frame: pd.DataFrame, drop: str) -> list[dict[str, Any]]:
        out = []
        for rec in frame.drop(columns=[drop]).to_dict("records"):
            row: dict[str, Any] = {
                str(k): (None if pd.isna(v) else round(float(v), 4))
                if str(k).endswith("rate")
                else (int(v) if k not in ("team", "kind") else str(v))
                for k, v in rec.items()
            }
            out.append({**row, "text": held_text(row)})
        return out

    overall = summary[(summary["team"] == "all") & (summary["kind"] == "all")]
    by_kind = summary[(summary["team"] == "all") & (summary["kind"] != "all")]
    by_team = summary[(summary["team"] != "all") & (summary["kind"] == "all")]
    return {
        "command": "forecast --backtest",
        "as_of": when.isoformat(),
        "mondays": int(results.forecast_history["as_of"].nunique()),
        "overall": {**rows(overall, "team")[0], "kind": None},
        "by_kind": rows(by_kind, "team"),
        "by_team": rows(by_team, "kind"),
    }


__all__ = ["ForecastAnswer", "backtest", "forecast", "resolve"]
