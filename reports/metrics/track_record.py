"""Roadmap forecasts, live and replayed at past Mondays, and how well the replayed ones held.

At each of the last N Mondays (local midnight) the engine takes the roadmap as the store knew it
then (:class:`pulse.reports.metrics.item_state.Replay`: children, their states, targets), forecasts
every item open then with the same model as today's forecast
(:mod:`pulse.reports.metrics.item_forecast`)
and scores it against the item's done day as known at as_of: *held* when done on or before the
date, *missed* when done later or still open after it, unknown otherwise (left out). No stored
snapshot is needed, so the record exists from the first sync (METRICS §4).

The replay also teaches the correction (conformal-style): the factor on the raw horizon that makes
past p85 dates hold 87% of the time (p50: 55%; aimed a little above 85% / 50% because a factor
learned on past weeks is applied to new ones), per roadmap kind. Each replayed forecast is scored
with factors learned from the *other* items only (cross-conformal, five folds by item), so a score
never sees its own outcome; today's forecast uses the factors learned from every item.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .forecast import ForecastConfig
from .forecast_inputs import (
    STALE_DAYS,
    dormant_chance,
    growth_ratios,
    history_shares,
    never_started,
    stale_children,
)
from .item_forecast import Correction, ItemForecast, TeamItems, corrected_days, forecast_items
from .item_state import Replay, State
from .roadmap import RoadmapScope
from .timeutil import day_start_utc, local_day, local_days

TARGETS = {"p50": 0.55, "p85": 0.87}
GRID = np.round(np.geomspace(0.25, 12.0, 80), 4)
MIN_CASES = 12
FOLDS = 5
HISTORY_COLUMNS = (
    "as_of", "source", "roadmap_id", "key", "kind", "team", "target", "p50", "p85", "status",
    "done_at", "p50_held", "p85_held",
)  # fmt: skip


@dataclass(frozen=True)
class RoadmapForecast:
    """Today's forecast of every open roadmap item with work left.

    ``frame``: source, roadmap_id, team, kind, share, remaining, p50/p85/p95 (local days, NaT
    beyond the horizon), stale (count), stale_keys, p50_if_closed, p85_if_closed. ``periods``:
    finish period per trial (corrected), ``teams``: each team's input (what ``--by`` re-runs),
    ``samples``: each team's weekly throughput, ``correction``: the factors applied.
    """

    frame: pd.DataFrame
    periods: dict[str, np.ndarray]
    teams: dict[str, TeamItems]
    samples: Mapping[str, np.ndarray]
    correction: Correction


def past_mondays(as_of: pd.Timestamp, tz: str, weeks: int) -> list[pd.Timestamp]:
    """Local midnights of the ``weeks`` Mondays before as_of's day (oldest first), as UTC."""
    today = local_day(as_of, tz)
    monday = today - pd.Timedelta(days=int(today.day_of_week))
    if monday == today:
        monday -= pd.Timedelta(weeks=1)
    days = [monday - pd.Timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    return [day_start_utc(d, tz) for d in days]


@dataclass(frozen=True)
class Plan:
    """What the forecast at one instant starts from: per open item with work left (``frame``:
    ri, id, team, kind, remaining, share, stale, dormant, dormant_if_closed), each team's growth
    ratios, the chance a new child is never worked on, and the mask of stale children."""

    frame: pd.DataFrame
    pools: dict[str, np.ndarray]
    dormant_new: float
    stale: np.ndarray


def plan_of(
    state: State, samples: Mapping[str, np.ndarray], ids: np.ndarray, stale_days: int
) -> Plan:
    """The forecast plan of every open item with work left at ``state``."""
    items, kids = state.items, state.kids
    live = items[~items["done"].to_numpy(dtype=bool) & (items["remaining"] > 0).to_numpy()]
    ri = live["ri"].to_numpy(dtype=np.int64)
    shares = history_shares(items, kids, samples, state.at_ms)
    stale = stale_children(kids, state.at_ms, stale_days)
    chance = np.where(stale, 0.0, dormant_chance(kids, state.at_ms))
    log_live = pd.Series(np.log1p(-np.clip(chance, 0, 1 - 1e-12))).groupby(kids["ri"]).sum()
    counts = pd.Series(stale.astype(np.int64)).groupby(kids["ri"].to_numpy()).sum()
    plan = pd.DataFrame(
        {
            "ri": ri,
            "id": ids[ri],
            "team": live["team"].to_numpy(),
            "kind": live["kind"].to_numpy(),
            "remaining": live["remaining"].to_numpy(dtype=np.float64),
            "share": shares.reindex(ri).fillna(1.0).to_numpy(dtype=np.float64),
            "stale": counts.reindex(ri).fillna(0).to_numpy(dtype=np.float64),
        }
    )
    plan["dormant_if_closed"] = 1.0 - np.exp(log_live.reindex(ri).fillna(0.0).to_numpy())
    plan["dormant"] = np.where(plan["stale"] > 0, 1.0, plan["dormant_if_closed"])
    new = never_started(kids, state.at_ms)
    return Plan(plan, growth_ratios(items, kids), new, stale)


def _forecast(
    state: State,
    samples: Mapping[str, np.ndarray],
    ids: np.ndarray,
    config: ForecastConfig,
    correction: Correction | None,
    stale_days: int,
    keep_trials: bool = False,
) -> tuple[pd.DataFrame, ItemForecast, np.ndarray]:
    """Forecast days per planned item (raw and corrected, and if its stale children were
    closed), the item forecast and the stale mask."""
    p = plan_of(state, samples, ids, stale_days)
    plan = p.frame
    # the items as if their stale children were closed ride along in the same trials
    has = plan[plan["stale"] > 0]
    closed_rows = has.assign(
        ri=-1 - has["ri"],
        remaining=has["remaining"] - has["stale"],
        dormant=has["dormant_if_closed"],
        id=has["id"] + "#if-closed",
    )
    both = pd.concat([plan, closed_rows], ignore_index=True)
    main = forecast_items(
        both, samples, config, p.pools, p.dormant_new, correction, keep_trials=keep_trials
    )
    frame = main.frame
    closed = frame[frame["ri"] < 0].assign(ri=lambda f: -1 - f["ri"])
    out = plan[["ri", "remaining", "stale"]].merge(
        frame[frame["ri"] >= 0].drop(columns=["id"]), on="ri", how="left"
    )
    for q in ("p50", "p85"):
        for suffix in ("", "_raw"):
            got = dict(zip(closed["ri"], closed[f"{q}{suffix}"], strict=True))
            out[f"{q}{suffix}_if_closed"] = out["ri"].map(got).astype("float64")
    return out, main, p.stale


def roadmap_forecast(
    replay: Replay,
    k: int,
    config: ForecastConfig,
    correction: Correction,
    stale_days: int = STALE_DAYS,
    keep_trials: bool = True,
) -> RoadmapForecast:
    """The forecast at the replay's ``k``-th instant (as_of) with the learned correction; each
    item's trials (for its histogram) only with ``keep_trials``."""
    cd, scope = replay.cd, replay.scope
    rm = scope.roadmap
    today = local_day(pd.Timestamp(int(replay.times[k]), unit="ms", tz="UTC"), cd.tz)
    samples = replay.samples(k, config.weeks)
    state = replay.state(k)
    ids = rm["roadmap_id"].astype(str).to_numpy()
    days, main, stale = _forecast(state, samples, ids, config, correction, stale_days, keep_trials)
    frame = pd.DataFrame(
        {
            "source": rm["source"].astype(str).to_numpy()[days["ri"]],
            "roadmap_id": ids[days["ri"]],
            "team": days["team"].astype(str).to_numpy(),
            "kind": days["kind"].astype(str).to_numpy(),
            "share": days["share"].to_numpy(dtype=np.float64),
            "remaining": days["remaining"].to_numpy(dtype=np.int64),
            "stale": days["stale"].to_numpy(dtype=np.int64),
        }
    )
    for col in ("p50", "p85", "p95", "p50_if_closed", "p85_if_closed"):
        offsets = pd.to_timedelta(days[col].to_numpy(dtype=np.float64), unit="D")
        frame[col] = pd.Series(today + offsets).to_numpy()
    kids = state.kids
    keys = cd.items["key"].astype(str).to_numpy()
    listed = pd.DataFrame({"ri": kids["ri"].to_numpy()[stale], "key": keys[kids["row"][stale]]})
    by_ri = listed.sort_values("key").groupby("ri")["key"].agg(list)
    frame["stale_keys"] = [by_ri.get(r, []) for r in days["ri"]]
    return RoadmapForecast(frame, main.periods, main.teams, samples, correction)


def replay_cases(
    replay: Replay,
    mondays: int,
    config: ForecastConfig,
    stale_days: int = STALE_DAYS,
) -> pd.DataFrame:
    """Every roadmap item open at each of the replay's first ``mondays`` instants with its raw
    forecast days, target and scope."""
    cd, rm = replay.cd, replay.scope.roadmap
    tz = cd.tz
    ids = rm["roadmap_id"].astype(str).to_numpy()
    parts = []
    for k in range(mondays):
        state = replay.state(k)
        made = local_day(pd.Timestamp(int(replay.times[k]), unit="ms", tz="UTC"), tz)
        samples = replay.samples(k, config.weeks)
        days, _, _ = _forecast(state, samples, ids, config, None, stale_days)
        open_now = state.items[~state.items["done"].to_numpy(dtype=bool)]
        frame = open_now[["ri", "team", "kind", "scope", "remaining", "target_day"]].merge(
            days.drop(columns=["team", "kind", "remaining"]), on="ri", how="left"
        )
        frame["made"] = made
        frame["as_of"] = pd.Timestamp(int(replay.times[k]), unit="ms", tz="UTC")
        parts.append(frame)
    if not parts:
        return pd.DataFrame(
            {"ri": np.zeros(0, dtype=np.int64), "as_of": pd.to_datetime([], utc=True)}
        )
    cases = pd.concat(parts, ignore_index=True)
    cases["ri"] = cases["ri"].to_numpy(dtype=np.int64)
    cases["fold"] = [zlib.crc32(i.encode("utf-8")) % FOLDS for i in ids[cases["ri"]]]
    return cases


def outcomes(cases: pd.DataFrame, replay: Replay, known: pd.Timestamp) -> pd.DataFrame:
    """The cases made before ``known`` (a UTC instant), each with its item's done day as known
    then (NaT while open) and the day the outcomes are known at."""
    cd, rm = replay.cd, replay.scope.roadmap
    done_at = pd.to_datetime(rm["done_at"], utc=True)
    done_day = local_days(done_at.where(done_at <= known), cd.tz).to_numpy()
    mine = cases[(cases["as_of"] < known).to_numpy()].copy()
    mine["ri"] = mine["ri"].to_numpy(dtype=np.int64)
    mine["done_at"] = done_at.where(done_at <= known).to_numpy()[mine["ri"].to_numpy()]
    mine["done_day"] = done_day[mine["ri"].to_numpy(dtype=np.int64)]
    mine["known"] = local_day(known, cd.tz)
    return mine.reset_index(drop=True)


def score(cases: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """Per case (row of ``days``; columns: alternative dates): 1 held, 0 missed, NaN unknown
    or no date, for the date ``made + days``."""
    days = np.asarray(days, dtype=np.float64)
    flat = days.ndim == 1
    days = days[:, None] if flat else days
    day = 86_400_000_000_000
    made = cases["made"].to_numpy(dtype="datetime64[ns]").astype(np.int64)[:, None]
    done = cases["done_day"].to_numpy(dtype="datetime64[ns]")
    known = cases["known"].to_numpy(dtype="datetime64[ns]").astype(np.int64)[:, None]
    has = ~np.isnat(done)[:, None]
    done_ns = done.astype(np.int64)[:, None]
    finite = np.isfinite(days)
    due = made + np.where(finite, days, 0).astype(np.int64) * day
    out = np.full(days.shape, np.nan)
    out[has & (done_ns <= due)] = 1.0
    out[(has & (done_ns > due)) | (~has & (known > due))] = 0.0
    out[~finite] = np.nan
    return out[:, 0] if flat else out


def grid_scores(cases: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per quantile, every case scored (see :func:`score`) with each factor of ``GRID`` on its
    raw horizon: what learning a factor reads, scored once for all the folds that learn."""
    return {
        q: score(cases, corrected_days(cases[f"{q}_raw"].to_numpy(dtype=np.float64)[:, None], GRID))
        for q in TARGETS
    }


def learn_factor(scores: np.ndarray, q: str) -> float | None:
    """Smallest factor on the raw horizon whose past hit rate reaches ``TARGETS[q]`` (``scores``:
    cases x ``GRID`` from :func:`grid_scores`; None: too few resolved cases to learn from)."""
    resolved = (~np.isnan(scores)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        rate = np.nansum(scores, axis=0) / resolved
    ok = (resolved >= MIN_CASES) & (rate >= TARGETS[q])
    return float(GRID[np.argmax(ok)]) if ok.any() else None


def learn_correction(cases: pd.DataFrame, scores: Mapping[str, np.ndarray]) -> Correction:
    """Per kind (with enough resolved cases) and over all kinds ("*"), the factors learned from
    the cases' :func:`grid_scores` (``scores``, row for row)."""
    tables: dict[str, dict[str, float]] = {"p50": {}, "p85": {}}
    groups = [("*", np.arange(len(cases))), *cases.groupby("kind", sort=True).indices.items()]
    for kind, rows in groups:
        for q, table in tables.items():
            f = learn_factor(scores[q][rows], q)
            if f is not None:
                table[str(kind)] = f
    return Correction(tables["p50"], tables["p85"])


@dataclass(frozen=True)
class TrackRecord:
    """The replayed forecasts (``history``, see :data:`HISTORY_COLUMNS`), the correction learned
    from them, and the number of Mondays replayed."""

    history: pd.DataFrame
    correction: Correction
    mondays: int


def score_cases(cases: pd.DataFrame, replay: Replay) -> tuple[pd.DataFrame, Correction]:
    """Corrected dates, status and outcome of every replayed forecast (factors learned from the
    other folds' items) as the ``forecast_history`` frame, and the correction from all items."""
    rm = replay.scope.roadmap
    if len(cases) == 0:
        return empty_forecast_history(), Correction()
    p50 = np.full(len(cases), np.nan)
    p85 = np.full(len(cases), np.nan)
    c50 = np.full(len(cases), np.nan)
    c85 = np.full(len(cases), np.nan)
    scores = grid_scores(cases)
    for k in range(FOLDS):
        test = (cases["fold"] == k).to_numpy()
        learned = learn_correction(cases[~test], {q: s[~test] for q, s in scores.items()})
        mine = cases[test]
        f50 = np.array([learned.factor("p50", str(x)) for x in mine["kind"]])
        f85 = np.array([learned.factor("p85", str(x)) for x in mine["kind"]])
        p50[test] = corrected_days(mine["p50_raw"].to_numpy(dtype=np.float64), f50)
        p85[test] = np.fmax(
            corrected_days(mine["p85_raw"].to_numpy(dtype=np.float64), f85), p50[test]
        )
        c50[test] = corrected_days(mine["p50_raw_if_closed"].to_numpy(dtype=np.float64), f50)
        c85[test] = corrected_days(mine["p85_raw_if_closed"].to_numpy(dtype=np.float64), f85)
    made = pd.to_datetime(cases["made"])
    ids = rm["roadmap_id"].astype(str).to_numpy()
    ri = cases["ri"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "as_of": pd.to_datetime(cases["as_of"], utc=True),
            "source": rm["source"].astype(str).to_numpy()[ri],
            "roadmap_id": ids[ri],
            "key": rm["key"].astype(str).to_numpy()[ri],
            "kind": cases["kind"].astype(str).to_numpy(),
            "team": cases["team"].astype(str).to_numpy(),
            "target": pd.to_datetime(cases["target_day"]),
            "p50": made + pd.to_timedelta(p50, unit="D"),
            "p85": made + pd.to_timedelta(p85, unit="D"),
        }
    )
    # with stale children, the work that is moving decides the status (METRICS §5)
    stale = cases["stale"].fillna(0).to_numpy() > 0
    s50 = np.where(stale, c50, p50)
    s85 = np.where(stale, c85, p85)
    frame["status"] = statuses(frame["target"], made, s50, s85, cases["scope"].to_numpy())
    frame["done_at"] = pd.to_datetime(cases["done_at"], utc=True)
    for q, days in (("p50", p50), ("p85", p85)):
        s = score(cases, days)
        frame[f"{q}_held"] = pd.array(
            [None if np.isnan(x) else bool(x) for x in s], dtype="boolean"
        )
    return frame[list(HISTORY_COLUMNS)], learn_correction(cases, scores)


def statuses(
    target: pd.Series, today: pd.Series, p50: np.ndarray, p85: np.ndarray, scope: np.ndarray
) -> np.ndarray:
    """:func:`pulse.reports.metrics.health.status_of` for many open items at once (p50/p85 in days
    from ``today``, NaN beyond the horizon)."""
    t = pd.to_datetime(target).to_numpy(dtype="datetime64[ns]")
    d = pd.to_datetime(today).to_numpy(dtype="datetime64[ns]")
    ahead = (t - d) / np.timedelta64(1, "D")  # NaN without a target
    no_target = np.isnat(t)
    with np.errstate(invalid="ignore"):
        off = (ahead < 0) | np.isnan(p50) | (ahead < p50)
        risk = np.isnan(p85) | (ahead < p85)
    out = np.where(off, "off track", np.where(risk, "at risk", "on track")).astype(object)
    out[no_target] = "no target"
    out[np.asarray(scope) == 0] = "no scope"
    return out


def empty_forecast_history() -> pd.DataFrame:
    """The replay's frame with no rows, typed as the replay types it."""
    frame = pd.DataFrame({c: [] for c in HISTORY_COLUMNS})
    for c in ("as_of", "done_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    for c in ("target", "p50", "p85"):
        frame[c] = pd.to_datetime(frame[c])
    for c in ("p50_held", "p85_held"):
        frame[c] = frame[c].astype("boolean")
    return frame


def hit_rates(history: pd.DataFrame, by: str | Collection[str] | None = None) -> pd.DataFrame:
    """Forecasts, scored and held counts and rates at p50 and p85, overall or per group."""

    def one(part: pd.DataFrame) -> dict[str, float | int]:
        p85 = part["p85_held"].dropna().astype(bool)
        p50 = part["p50_held"].dropna().astype(bool)
        return {
            "forecasts": len(part),
            "p85_scored": len(p85),
            "p85_held": int(p85.sum()),
            "p85_rate": float(p85.mean()) if len(p85) else float("nan"),
            "p50_scored": len(p50),
            "p50_held": int(p50.sum()),
            "p50_rate": float(p50.mean()) if len(p50) else float("nan"),
        }

    if by is None:
        return pd.DataFrame([one(history)])
    keys = [by] if isinstance(by, str) else list(by)
    rows = [
        {**dict(zip(keys, k if isinstance(k, tuple) else (k,), strict=True)), **one(p)}
        for k, p in history.groupby(keys, sort=True)
    ]
    cols = [*keys, *one(history.iloc[:0]).keys()]
    return pd.DataFrame(rows, columns=cols)


def held_text(row: Mapping[str, Any]) -> str:
    """A hit-rate row as a reader says it: "p85 held 84% of 57; p50 held 51% of 57"."""
    if not row["p85_scored"]:
        return "nothing scored yet"
    text = f"p85 held {row['p85_rate']:.0%} of {row['p85_scored']}"
    if row["p50_scored"]:
        text += f"; p50 held {row['p50_rate']:.0%} of {row['p50_scored']}"
    return text


@dataclass(frozen=True)
class ForecastRecord:
    """Today's forecast and track record, and the same a week earlier when asked for."""

    live: RoadmapForecast
    record: TrackRecord
    previous: ForecastRecord | None = None


def forecast_and_record(
    scope: RoadmapScope,
    cd: ColumnDates,
    changes: pd.DataFrame,
    config: ForecastConfig,
    roadmap_types: Collection[str],
    stale_days: int = STALE_DAYS,
    previous: pd.Timestamp | None = None,
) -> ForecastRecord:
    """Replay the last ``config.track_weeks`` Mondays and as_of together; score the replayed
    forecasts and forecast today with the correction they teach. With ``previous`` (last week's
    as_of) the replay also covers its Mondays and the record and forecast as of then are
    computed from the same replay, as its own run would (:func:`pipeline.weekly`)."""
    ends = [cd.as_of] if previous is None else [previous, cd.as_of]
    mondays = sorted({m for end in ends for m in past_mondays(end, cd.tz, config.track_weeks)})
    times = [int(m.value // 1_000_000) for m in mondays]
    times += [int(pd.Timestamp(e).value // 1_000_000) for e in ends]
    replay = Replay.build(scope, cd, changes, times, roadmap_types)
    fast = replace(config, trials=min(config.trials, config.track_trials))
    cases = replay_cases(replay, len(mondays), fast, stale_days)
    runs = []
    for k, end in enumerate(ends):
        mine = past_mondays(end, cd.tz, config.track_weeks)
        known = outcomes(cases[cases["as_of"].isin(mine)], replay, pd.Timestamp(end))
        history, correction = score_cases(known, replay)
        last = k == len(ends) - 1  # last week's trials are never shown
        live = roadmap_forecast(replay, len(mondays) + k, config, correction, stale_days, last)
        runs.append(ForecastRecord(live, TrackRecord(history, correction, len(mine))))
    if previous is None:
        return runs[0]
    return ForecastRecord(runs[1].live, runs[1].record, runs[0])


def track_summary(history: pd.DataFrame) -> pd.DataFrame:
    """Hit rates per (team, kind), with ``"all"`` rows per team, per kind and overall: what
    every forecast shows beside it ("p85 held 84% of 57") and the workbook lists per team."""
    parts = [
        hit_rates(history, ["team", "kind"]),
        hit_rates(history, "team").assign(kind="all"),
        hit_rates(history, "kind").assign(team="all"),
        hit_rates(history).assign(team="all", kind="all"),
    ]
    frame = pd.concat(parts, ignore_index=True)
    cols = ["team", "kind", *[c for c in frame.columns if c not in ("team", "kind")]]
    return frame[cols].reset_index(drop=True)


def team_record(summary: pd.DataFrame, team: str) -> dict[str, Any]:
    """One team's row of the summary (all kinds) as a plain dict; nothing scored when absent."""
    mine = summary[(summary["team"] == team) & (summary["kind"] == "all")]
    if len(mine) == 0:
        mine = hit_rates(summary.iloc[:0].assign(p50_held=[], p85_held=[]))
    row = mine.drop(columns=["team", "kind"], errors="ignore").iloc[0]
    return {
        str(k): (None if np.isnan(v) else round(float(v), 4)) if str(k).endswith("rate") else int(v)
        for k, v in row.items()
    }
