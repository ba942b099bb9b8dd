"""Track record: the forecast model replayed at past Mondays, scored against what happened.

At each Monday of the last N weeks (local midnight), the engine replays the store's history to
that instant (items created later are unknown, states are those of that instant), forecasts
every roadmap item open then with work left, and the forecast is scored against the item's done
day as known at as_of: *met* when done on or before the date, *missed* when done later or still
open after it, *pending* otherwise (left out). Hit rate = met / (met + missed). No stored
snapshot is needed, so the record exists from the first sync (METRICS §4).

The same replay teaches the correction (conformal-style): the factor on the raw horizon that
makes past p85 dates hold 85% of the time (p50: 50%), per roadmap kind. The back-test scores each
item with factors learned from the other items only (cross-conformal by item), so a score never
sees its own outcome; the live forecast uses factors learned from every item.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .column_dates import column_dates
from .flow import estimates_at_as_of
from .forecast import ForecastConfig
from .forecast_inputs import STALE_DAYS
from .item_forecast import Correction, corrected_days, item_forecasts, plan_items
from .roadmap import ROADMAP_TYPES, roadmap_scope
from .throughput import throughput_samples
from .timeutil import day_start_utc, local_day, local_days
from .workflow import WorkflowsLike

TARGETS = {"p50": 0.55, "p85": 0.90}  # aimed above 0.5 / 0.85: see docs/metrics.md
GRID = np.round(np.geomspace(0.25, 12.0, 80), 4)
MIN_CASES = 12
FOLDS = 5


@dataclass(frozen=True)
class History:
    """The frames the replay needs (see :mod:`reports.metrics.frames`)."""

    items: pd.DataFrame
    transitions: pd.DataFrame
    changes: pd.DataFrame
    versions: pd.DataFrame
    item_versions: pd.DataFrame
    workflows: WorkflowsLike
    tz: str
    roadmap_types: tuple[str, ...] = ROADMAP_TYPES


@dataclass(frozen=True)
class Replay:
    """One past Monday: raw forecasts made then and every roadmap item's done day then."""

    as_of: pd.Timestamp
    today: pd.Timestamp
    raw: pd.DataFrame
    done: pd.Series


@dataclass(frozen=True)
class TrackRecord:
    """Scored forecasts (``cases``), hit rates per team and kind, and the correction learned."""

    cases: pd.DataFrame
    correction: Correction
    mondays: int

    def rates(self, by: str | None = None) -> pd.DataFrame:
        """Scored forecasts and p50/p85 hit rates, overall or per ``by`` (team or kind)."""
        return hit_rates(self.cases, by)


def past_mondays(as_of: pd.Timestamp, tz: str, weeks: int) -> list[pd.Timestamp]:
    """Local midnights of the ``weeks`` Mondays before as_of's day (oldest first), as UTC."""
    today = local_day(as_of, tz)
    monday = today - pd.Timedelta(days=int(today.day_of_week))
    if monday == today:
        monday -= pd.Timedelta(weeks=1)
    days = [monday - pd.Timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    return [day_start_utc(d, tz) for d in days]


def replay(
    history: History, as_of: pd.Timestamp, config: ForecastConfig, stale_days: int
) -> Replay:
    """The raw forecasts (before correction) of every open item with work left at as_of."""
    cd = column_dates(history.items, history.transitions, history.workflows, as_of, history.tz)
    scope = roadmap_scope(
        cd,
        history.changes,
        history.versions,
        history.item_versions,
        history.roadmap_types,
        period=config.period,
        estimates=estimates_at_as_of(cd, history.changes),
    )
    samples = throughput_samples(
        cd, config.weeks, config.period, by="team", exclude_types=history.roadmap_types
    )
    plan, _ = plan_items(scope, cd, samples, stale_days)
    raw = item_forecasts(plan, samples, cd.today, config)
    raw = raw.merge(plan[["roadmap_id", "kind"]], on="roadmap_id", how="left")
    rm = scope.roadmap
    done = pd.Series(
        local_days(rm["done_at"], history.tz).to_numpy(), index=rm["roadmap_id"].astype(str)
    )
    return Replay(as_of, pd.Timestamp(cd.today).normalize(), raw, done)


def outcomes(replays: Sequence[Replay], done: pd.Series, known: pd.Timestamp) -> pd.DataFrame:
    """Every raw forecast of ``replays`` with its done day from ``done`` (NaT while open) and
    the day the outcome is known at."""
    parts = []
    for r in replays:
        frame = r.raw.copy()
        frame["made"] = r.today
        frame["done_day"] = pd.to_datetime(frame["roadmap_id"].map(done))
        parts.append(frame)
    if not parts:
        cols = ["roadmap_id", "team", "kind", "made", "done_day", "p50_days", "p85_days"]
        parts = [pd.DataFrame({c: [] for c in cols})]
    out = pd.concat(parts, ignore_index=True)
    out["known"] = known
    return out


def score(cases: pd.DataFrame, q: str, days: np.ndarray) -> np.ndarray:
    """Per case: 1 met, 0 missed, NaN pending, for the date ``made + days``."""
    due = cases["made"].to_numpy(dtype="datetime64[ns]") + days.astype("timedelta64[D]")
    done = cases["done_day"].to_numpy(dtype="datetime64[ns]")
    known = cases["known"].to_numpy(dtype="datetime64[ns]")
    has = ~np.isnat(done)
    out = np.full(len(cases), np.nan)
    out[has & (done <= due)] = 1.0
    out[(has & (done > due)) | (~has & (known > due))] = 0.0
    out[~np.isfinite(days)] = np.nan
    return out


def learn_factor(cases: pd.DataFrame, q: str) -> float | None:
    """Smallest factor on the raw horizon whose past hit rate reaches TARGETS[q] (None: too few
    resolved cases to learn from)."""
    raw = cases[f"{q}_days"].to_numpy(dtype=np.float64)
    for f in GRID:
        with np.errstate(invalid="ignore"):
            s = score(cases, q, np.ceil(raw * f - 1e-9))
        resolved = s[~np.isnan(s)]
        if len(resolved) < MIN_CASES:
            continue
        if resolved.mean() >= TARGETS[q]:
            return float(f)
    return None


def learn_correction(cases: pd.DataFrame) -> Correction:
    """Per kind (with enough resolved cases) and over all kinds ("*"), the learned factors."""
    tables: dict[str, dict[str, float]] = {"p50": {}, "p85": {}}
    groups = [("*", cases), *cases.groupby("kind", sort=True)]
    for kind, part in groups:
        for q, table in tables.items():
            f = learn_factor(part, q)
            if f is not None:
                table[str(kind)] = f
    return Correction(tables["p50"], tables["p85"])


def track_record(
    history: History,
    as_of: pd.Timestamp,
    config: ForecastConfig | None = None,
    weeks: int = 26,
    stale_days: int = STALE_DAYS,
) -> TrackRecord:
    """Replay the last ``weeks`` Mondays and score every forecast, corrected with factors
    learned from the *other* items' forecasts (FOLDS folds by item, outcomes as known at as_of),
    so no forecast is scored with a correction that saw its own outcome."""
    config = config or ForecastConfig()
    mondays = past_mondays(as_of, history.tz, weeks)
    replays = [replay(history, m, config, stale_days) for m in mondays]
    now = replay(history, as_of, config, stale_days)
    cases = outcomes(replays, now.done, now.today)
    fold = cases["roadmap_id"].map(lambda r: zlib.crc32(str(r).encode("utf-8")) % FOLDS)
    for k in range(FOLDS):
        test = (fold == k).to_numpy()
        learned = learn_correction(cases[~test])
        mine = cases[test]
        days = corrected_days(mine, mine["kind"], learned)
        for q in ("p50", "p85"):
            cases.loc[test, f"{q}_hit"] = score(mine, q, days[q].to_numpy())
            cases.loc[test, q] = mine["made"] + pd.to_timedelta(days[q], unit="D")
    return TrackRecord(cases, learn_correction(cases), len(replays))


def hit_rates(cases: pd.DataFrame, by: str | Collection[str] | None = None) -> pd.DataFrame:
    """Scored forecasts (p85 resolved) and the share met at p50 and p85, overall or per group."""
    if "p85_hit" not in cases:
        cases = cases.assign(p50_hit=np.nan, p85_hit=np.nan)

    def one(part: pd.DataFrame) -> dict[str, float | int]:
        p85 = part["p85_hit"].dropna()
        p50 = part["p50_hit"].dropna()
        return {
            "forecasts": len(part),
            "scored": len(p85),
            "p85_held": float(p85.mean()) if len(p85) else float("nan"),
            "p50_scored": len(p50),
            "p50_held": float(p50.mean()) if len(p50) else float("nan"),
        }

    if by is None:
        return pd.DataFrame([one(cases)])
    keys = [by] if isinstance(by, str) else list(by)
    rows = [
        {**dict(zip(keys, k if isinstance(k, tuple) else (k,), strict=True)), **one(p)}
        for k, p in cases.groupby(keys, sort=True)
    ]
    return pd.DataFrame(rows)


def record_json(record: TrackRecord) -> dict[str, Any]:
    """The track record as JSON: hit rates overall, per kind and per team (NaN -> null)."""

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return [
            {str(k): (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
            for r in out
        ]

    return {
        "mondays": record.mondays,
        "forecasts": len(record.cases),
        "overall": rows(record.rates())[0],
        "by_kind": rows(record.rates("kind")),
        "by_team": rows(record.rates("team")),
        "correction": {"p50": dict(record.correction.p50), "p85": dict(record.correction.p85)},
    }


def held_text(row: Mapping[Any, Any]) -> str:
    """A hit-rate row as a reader says it: "p85 held 84% of 57; p50 held 51% of 80"."""
    if not row["scored"]:
        return "nothing scored yet"
    p50 = f"; p50 held {row['p50_held']:.0%} of {row['p50_scored']}" if row["p50_scored"] else ""
    return f"p85 held {row['p85_held']:.0%} of {row['scored']}{p50}"
