"""Monte Carlo forecasts: 'when will it be done' and 'how many by date D', vectorised over trials.

Model. Each trial draws the team's throughput per period (week or day) at random, with
replacement, from its last W weeks of history. The team's throughput is shared evenly, like a
processor-sharing queue, by the roadmap items it works on concurrently: by default as many as are
in progress at as_of (at least one), or a configured epic WIP. Queued items start, in order, when
an active one finishes, and capacity freed by a finished item goes to the others.

Because every active item gets the same share, the order in which items finish does not depend on
the random draws: each item finishes once the team's *cumulative* throughput reaches a fixed
amount ``C_i`` (computed once by :func:`sharing_schedule`). A trial's finish period for item i is
then a ``searchsorted`` of ``C_i`` in that trial's cumulative throughput, done for all trials and
items at once. With scope growth (new child items sampled per period from the item's own history)
the order becomes random and a per-period simulation (vectorised over trials) is used instead.

Results are period counts from as_of's calendar day: an item finishing during period n is dated at
the end of it (``today + n x period``). Seeds: each team gets its own stream derived from
``(seed, crc32(team))`` so adding a team never changes another team's answer.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # only the frame adapters at the end use pandas; the simulation is numpy
    import pandas as pd

Period = Literal["week", "day"]
PERIOD_DAYS = {"week": 7, "day": 1}
_BLOCK = {"week": 26, "day": 182}
_EPS = 1e-9


@dataclass(frozen=True)
class ForecastConfig:
    """Monte Carlo settings; defaults follow METRICS §4."""

    trials: int = 10_000
    seed: int = 0
    weeks: int = 12
    period: Period = "week"
    epic_wip: int | Mapping[str, int] | None = None
    scope_growth: bool = True
    max_periods: int | None = None
    quantiles: tuple[float, ...] = (0.5, 0.85, 0.95)
    confidence: float = 0.85
    horizon_days: int = field(default=3650)
    growth_horizon_days: int = 1095
    track_weeks: int = 26
    track_trials: int = 100

    def horizon(self) -> int:
        """Maximum number of periods simulated before giving up (result 'beyond horizon')."""
        if self.max_periods is not None:
            return self.max_periods
        return math.ceil(self.horizon_days / PERIOD_DAYS[self.period])

    def wip_for(self, team: str) -> int | None:
        """Configured epic WIP of a team, None for the default (items in progress)."""
        if isinstance(self.epic_wip, Mapping):
            return self.epic_wip.get(team)
        return self.epic_wip


def team_rng(seed: int, team: str, stream: int = 0) -> np.random.Generator:
    """A generator stable per (seed, team, stream): one dataset + seed = one answer."""
    return np.random.default_rng([seed, zlib.crc32(team.encode("utf-8")), stream])


def sharing_schedule(remaining: np.ndarray, wip: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative team capacity at which each item finishes under even sharing with a WIP limit.

    Items are served in the given order; at most ``wip`` are active at once and share capacity
    evenly. Returns (finish capacity per item, breakpoint capacities X, work done W[X, item]) so
    that the work done on item i at capacity x is ``np.interp(x, X, W[:, i])``.
    """
    rem = np.asarray(remaining, dtype=np.float64).copy()
    n = len(rem)
    finish = np.zeros(n, dtype=np.float64)
    wip = max(1, int(wip))
    queue = [i for i in range(n) if rem[i] > _EPS]
    active = queue[:wip]
    waiting = queue[wip:]
    done_work = np.zeros(n, dtype=np.float64)
    xs = [0.0]
    ws = [done_work.copy()]
    x = 0.0
    while active:
        k = len(active)
        step = min(rem[i] for i in active)
        x += step * k
        for i in active:
            rem[i] -= step
            done_work[i] += step
        still = []
        for i in active:
            if rem[i] <= _EPS:
                finish[i] = x
            else:
                still.append(i)
        while len(still) < wip and waiting:
            still.append(waiting.pop(0))
        active = still
        xs.append(x)
        ws.append(done_work.copy())
    return finish, np.array(xs), np.vstack(ws)


def _draw_block(
    rng: np.random.Generator, samples: np.ndarray, trials: int, size: int
) -> np.ndarray:
    idx = rng.integers(0, len(samples), size=(trials, size))
    return samples[idx]


def cumulative_throughput(
    samples: np.ndarray,
    trials: int,
    need: float,
    period: Period,
    horizon: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Cumulative throughput per trial (trials x periods), extended block by block until every
    trial reaches ``need`` or the horizon; the first blocks never depend on ``need``."""
    samples = np.asarray(samples, dtype=np.float64)
    block = _BLOCK[period]
    if len(samples) == 0:
        return np.zeros((trials, 1))
    parts = [_draw_block(rng, samples, trials, block)]
    total = np.cumsum(parts[0], axis=1)
    while total[:, -1].min() < need and total.shape[1] < horizon:
        nxt = _draw_block(rng, samples, trials, block)
        total = np.hstack([total, total[:, -1:] + np.cumsum(nxt, axis=1)])
    return total[:, :horizon]


def throughput_draws(
    samples: np.ndarray, trials: int, periods: int, period: Period, rng: np.random.Generator
) -> np.ndarray:
    """Per-period throughput draws (trials x periods) in the blocks :func:`cumulative_throughput`
    uses, so a trial sees the same numbers with and without scope growth."""
    samples = np.asarray(samples, dtype=np.float64)
    block = _BLOCK[period]
    blocks = [_draw_block(rng, samples, trials, block) for _ in range(math.ceil(periods / block))]
    return np.hstack(blocks)[:, :periods]


def periods_to_reach(cum: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Periods needed per (trial, target): first period whose cumulative value reaches the
    target (0 for targets <= 0); ``inf`` when never within the horizon."""
    trials, periods = cum.shape
    targets = np.asarray(targets, dtype=np.float64)
    if len(targets) == 0:
        return np.zeros((trials, 0))
    span = float(max(cum[:, -1].max(), targets.max(), 0.0)) + 1.0
    offset = (np.arange(trials, dtype=np.float64) * span)[:, None]
    flat = (cum + offset).ravel()
    queries = (targets[None, :] - _EPS + offset).ravel()
    pos = np.searchsorted(flat, queries, side="left").reshape(trials, len(targets))
    n = pos - (np.arange(trials) * periods)[:, None] + 1
    out = n.astype(np.float64)
    out[n > periods] = np.inf
    out[:, targets <= _EPS] = 0.0
    return out


def _growth_draws(
    growth: Sequence[np.ndarray], order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queued items' growth histories laid end to end (an empty history counts as [0]), each
    one's offset and length, and a final [0] entry for empty slots: a uniform u in [0, 1) picks
    ``flat[offset + floor(u x length)]``, one of the item's past periods at random."""
    parts = [np.asarray(growth[i], dtype=np.float64) for i in order]
    parts = [p if len(p) else np.zeros(1) for p in parts] + [np.zeros(1)]
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    return np.concatenate(parts), offsets, sizes.astype(np.float64)


def simulate_with_growth(
    remaining: np.ndarray,
    wip: int,
    draws: np.ndarray,
    growth: Sequence[np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Per-period simulation (vectorised over trials) with scope growth; finish period per
    (trial, item), ``inf`` when unfinished at the end of ``draws``.

    Each period, every active (started, unfinished) item first grows by a draw from its own
    history of child additions per period, then the period's throughput is shared evenly among
    the active items, with capacity freed by finishing items passed on (water-filling) and queued
    items admitted in order as slots free up. State is kept per WIP *slot* x trial (the queue
    position a slot holds and that item's remaining work, ``inf`` when empty), so a period costs
    O(wip x trials), and trials whose items are all done leave the simulation.
    """
    trials, periods = draws.shape
    remaining = np.asarray(remaining, dtype=np.float64)
    out = np.tile(np.where(remaining > _EPS, np.inf, 0.0), (trials, 1))
    order = np.flatnonzero(remaining > _EPS)
    m = len(order)  # queue positions 0..m-1; m marks an empty slot
    if m == 0:
        return out
    width = min(max(1, int(wip)), m)
    start = np.r_[remaining[order], np.inf]
    flat, offsets, sizes = _growth_draws(growth, order)
    grows = bool(flat.any())
    capacity = np.where(draws > _EPS, draws, 0.0).T.copy()  # periods x trials
    finish = np.full((m, trials), np.inf)
    live = np.arange(trials)
    slot = np.repeat(np.arange(width)[:, None], trials, axis=1)
    rem, base, size = start[slot], offsets[slot], sizes[slot]
    busy = np.full(trials, width, dtype=np.int64)
    ptr = np.full(trials, width, dtype=np.int64)
    for p in range(periods):
        if grows:
            rem += flat[base + (rng.random(rem.shape) * size).astype(np.int64)]
        cap = capacity[p, live]
        cols, k, r = np.arange(len(live)), busy, rem
        while True:  # water-filling: equal shares until an item ends, then pass the rest on
            step = np.minimum(cap / np.maximum(k, 1), np.minimum.reduce(r, axis=0))
            r -= step
            cap -= step * k
            if r is not rem:
                rem[:, cols] = r
            done = r <= _EPS
            hit = np.flatnonzero(np.logical_or.reduce(done, axis=0))
            if len(hit) == 0:
                break
            cols, cap, done = cols[hit], cap[hit], done[:, hit]
            j, i = np.nonzero(done)  # slot and column of every item that just finished
            at = cols[i]
            finish[slot[j, at], live[at]] = p + 1
            # freed slots take the next queued items, in queue order
            nxt = np.minimum(ptr[at] + np.cumsum(done, axis=0)[j, i] - 1, m)
            slot[j, at], rem[j, at] = nxt, start[nxt]
            if grows:
                base[j, at], size[j, at] = offsets[nxt], sizes[nxt]
            ptr[cols] = np.minimum(ptr[cols] + np.bincount(i, minlength=len(cols)), m)
            busy[cols] -= np.bincount(i[nxt == m], minlength=len(cols))
            going = cap > _EPS
            cols, cap = cols[going], cap[going]
            k, r = busy[cols], rem[:, cols]
            if len(cols) == 0:
                break
        left = busy > 0  # trials with every item done leave the simulation
        if not left.all():
            live, busy, ptr = live[left], busy[left], ptr[left]
            slot, rem, base, size = slot[:, left], rem[:, left], base[:, left], size[:, left]
            if len(live) == 0:
                break
    out[:, order] = finish.T
    return out


def _quantile_days(periods: np.ndarray, quantiles: Sequence[float], period: Period) -> np.ndarray:
    """Linear-interpolation quantiles of finish periods per item, in whole days (ceil); NaN when
    the quantile falls on trials that never finish within the horizon."""
    srt = np.sort(periods, axis=0)
    trials = srt.shape[0]
    out = np.full((len(quantiles), srt.shape[1]), np.nan)
    for j, q in enumerate(quantiles):
        pos = q * (trials - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, trials - 1)
        frac = pos - lo
        a, b = srt[lo], srt[hi]
        with np.errstate(invalid="ignore"):
            val = a if frac <= _EPS else a + (b - a) * frac
        val = np.where(np.isfinite(val), val, np.nan)
        out[j] = np.ceil(val * PERIOD_DAYS[period] - _EPS)
    return out


def forecast_team(
    remaining: np.ndarray,
    samples: np.ndarray,
    config: ForecastConfig,
    team: str,
    wip: int,
    growth: Sequence[np.ndarray] | None = None,
    until_periods: int | None = None,
) -> dict[str, np.ndarray]:
    """Finish-period percentiles (in days from today) for one team's ordered roadmap items.

    Returns ``days`` (quantiles x items, NaN = beyond horizon), ``periods`` (trials x items) and,
    when ``until_periods`` is given, ``done_by`` (items of each roadmap item completed by then with
    ``config.confidence``).
    """
    remaining = np.asarray(remaining, dtype=np.float64)
    rng = team_rng(config.seed, team, 0)
    horizon = config.horizon()
    samples = np.asarray(samples, dtype=np.float64)
    result: dict[str, np.ndarray] = {}
    if len(samples) == 0 or samples.max() <= 0:
        periods = np.where(remaining[None, :] > _EPS, np.inf, 0.0)
        periods = np.repeat(periods, config.trials, axis=0)
        cum = np.zeros((config.trials, 1))
        finish = None
        xs = ws = None
    elif growth is None or not any(len(g) and np.any(g) for g in growth):
        finish, xs, ws = sharing_schedule(remaining, wip)
        need = float(finish.max()) if len(finish) else 0.0
        cum = cumulative_throughput(samples, config.trials, need, config.period, horizon, rng)
        periods = periods_to_reach(cum, finish)
    else:
        horizon = min(horizon, math.ceil(config.growth_horizon_days / PERIOD_DAYS[config.period]))
        draws = throughput_draws(samples, config.trials, horizon, config.period, rng)
        growth_rng = team_rng(config.seed, team, 1)
        periods = simulate_with_growth(remaining, wip, draws, growth, growth_rng)
        finish = xs = ws = None
    result["periods"] = periods
    result["days"] = _quantile_days(periods, config.quantiles, config.period)
    if until_periods is not None:
        if xs is not None and ws is not None and until_periods > 0:
            col = min(until_periods, cum.shape[1]) - 1
            cap = cum[:, col]
            done = np.vstack([np.interp(cap, xs, ws[:, i]) for i in range(len(remaining))]).T
            whole = np.floor(done + _EPS)
        else:
            whole = np.zeros((config.trials, len(remaining)))
            if until_periods > 0:
                whole = np.where(periods <= until_periods, remaining[None, :], 0.0)
        result["done_by"] = at_least(whole, config.confidence)
    return result


def at_least(values: np.ndarray, confidence: float) -> np.ndarray:
    """Per column, the largest x with P(value >= x) >= confidence across trials (rows)."""
    values = np.sort(np.atleast_2d(values), axis=0)
    j = math.floor((1.0 - confidence) * values.shape[0] + _EPS)
    j = min(max(j, 0), values.shape[0] - 1)
    return values[j]


def forecast_how_many(
    samples: np.ndarray,
    today: pd.Timestamp,
    until: pd.Timestamp,
    config: ForecastConfig,
    team: str = "",
) -> int:
    """Items the team completes from today to ``until`` (a local day) with config.confidence.

    Only whole periods before ``until`` count (a partial last period is not credited).
    """
    import pandas as pd

    days = (pd.Timestamp(until).normalize() - pd.Timestamp(today).normalize()).days
    n = max(0, days // PERIOD_DAYS[config.period])
    samples = np.asarray(samples, dtype=np.float64)
    if n == 0 or len(samples) == 0:
        return 0
    rng = team_rng(config.seed, team, 0)
    idx = rng.integers(0, len(samples), size=(config.trials, n))
    totals = samples[idx].sum(axis=1)
    return int(at_least(totals[:, None], config.confidence)[0])


@dataclass(frozen=True)
class TeamPlan:
    """One team's forecast input in simulation order: what `--by` and `--trials` re-run."""

    ids: list[str]
    remaining: list[float]
    wip: int
    growth: list[list[float]]


@dataclass(frozen=True)
class PlanForecast:
    """The forecast of a plan: the per-item frame, each item's finish period per trial, each
    team's ordered plan and its throughput samples."""

    frame: pd.DataFrame
    periods: dict[str, np.ndarray]
    plans: dict[str, TeamPlan]
    samples: Mapping[str, np.ndarray]


def forecast_when(
    plan: pd.DataFrame,
    samples: Mapping[str, np.ndarray],
    today: pd.Timestamp,
    config: ForecastConfig | None = None,
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """p50/p85/p95 finish days per roadmap item from a plan frame (see :func:`simulate_plan`)."""
    return simulate_plan(plan, samples, today, config, until).frame


def simulate_plan(
    plan: pd.DataFrame,
    samples: Mapping[str, np.ndarray],
    today: pd.Timestamp,
    config: ForecastConfig | None = None,
    until: pd.Timestamp | None = None,
) -> PlanForecast:
    """Forecast every team's roadmap items from a plan frame.

    ``plan`` columns: ``roadmap_id`` (with ``source`` kept alongside when given), ``team``,
    ``remaining`` (items or points), ``started``
    (bool: in progress at as_of), ``rank`` (sortable priority within a team, lower first) and
    optionally ``growth`` (array of per-period child additions since it started). ``samples`` maps
    team -> throughput history. Frame: roadmap_id, team, share (1 / concurrent items at as_of),
    wip, p50/p85/p95 (local days, NaT beyond horizon), and ``done_by`` when ``until`` is given.
    """
    import pandas as pd

    config = config or ForecastConfig()
    today = pd.Timestamp(today).normalize()
    labels = [f"p{round(q * 100)}" for q in config.quantiles]
    until_periods = None
    if until is not None:
        until_periods = (
            max(0, (pd.Timestamp(until).normalize() - today).days) // PERIOD_DAYS[config.period]
        )
    out_parts = []
    periods: dict[str, np.ndarray] = {}
    plans: dict[str, TeamPlan] = {}
    for team, part in plan.groupby("team", sort=True):
        part = part.sort_values(["started", "rank"], ascending=[False, True], kind="stable")
        remaining = part["remaining"].to_numpy(dtype=np.float64)
        started = part["started"].to_numpy(dtype=bool) & (remaining > _EPS)
        configured = config.wip_for(str(team))
        wip = configured if configured is not None else max(1, int(started.sum()))
        growth = [
            np.asarray(g, dtype=np.float64) if g is not None else np.zeros(0)
            for g in (part["growth"] if "growth" in part.columns else [None] * len(part))
        ]
        res = forecast_team(
            remaining,
            samples.get(str(team), np.zeros(0)),
            config,
            str(team),
            wip,
            growth if config.scope_growth else None,
            until_periods,
        )
        ids = part["roadmap_id"].astype(str).tolist()
        keys = [c for c in ("source", "roadmap_id") if c in part.columns]
        frame = pd.DataFrame({**{c: part[c].to_numpy() for c in keys}, "team": team})
        frame["wip"] = wip
        concurrent = min(wip, max(1, int((remaining > _EPS).sum())))
        frame["share"] = np.where(remaining > _EPS, 1.0 / concurrent, 0.0)
        for lab, days in zip(labels, res["days"], strict=True):
            frame[lab] = [
                today + pd.Timedelta(days=int(d)) if not np.isnan(d) else pd.NaT for d in days
            ]
            frame[lab] = pd.to_datetime(frame[lab])
        if "done_by" in res:
            frame["done_by"] = res["done_by"]
        out_parts.append(frame)
        for col, rid in enumerate(ids):
            periods[rid] = res["periods"][:, col]
        plans[str(team)] = TeamPlan(ids, remaining.tolist(), int(wip), [g.tolist() for g in growth])
    if not out_parts:
        keys = [c for c in ("source", "roadmap_id") if c in plan.columns]
        cols = [*keys, "team", "wip", "share", *labels]
        frame = pd.DataFrame({c: [] for c in cols})
    else:
        frame = pd.concat(out_parts, ignore_index=True)
    return PlanForecast(frame, periods, plans, samples)
