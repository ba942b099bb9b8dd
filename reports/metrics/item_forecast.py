"""Per roadmap item Monte Carlo forecasts from the item's own share of its team (METRICS §4).

Model. Each trial draws the team's weekly throughput with replacement from its last W weeks
(:func:`pulse.reports.metrics.forecast.draw_block`); what the item receives and how much it has
to do come from history (:mod:`pulse.reports.metrics.forecast_inputs`):

- **share**: the item receives ``share`` of the team's throughput, what it actually received in
  the sample window, shrunk towards an even split over the team's open items;
- **scope growth** (on by default): each trial draws a growth ratio ``g`` from the team's past
  items (children added after work started / children then); the item must finish
  ``remaining x (1 + g)`` children;
- **dormant children**: each never-started child may never be worked on (the chance rises with
  its idle age); a trial in which one of them, or one of the children it grows by, is dormant
  never finishes. Stale children (:func:`forecast_inputs.stale_children`) are dormant for sure,
  so the item's own forecast says "beyond the horizon" and the forecast *if they were closed*
  (``p50_if_closed``/``p85_if_closed``) says what the moving work needs.

A trial finishes the item in the first period in which ``share x cumulative throughput`` reaches
that amount, so more scope never makes a trial earlier and more throughput never makes it later.
Items are independent, which keeps 10,000 trials x 200 items to one ``searchsorted``. The raw
horizons are then corrected per roadmap kind by factors learned from the store's own replayed
forecasts (:mod:`pulse.reports.metrics.track_record`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .forecast import (
    BLOCK,
    PERIOD_DAYS,
    ForecastConfig,
    at_least,
    days_of_periods,
    draw_block,
    team_rng,
)

_EPS = 1e-9


def reach_periods(cum: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per (trial, item): first period whose cumulative value reaches ``targets[trial, item]``
    (1-based; 0 for targets <= 0, ``inf`` beyond the last period)."""
    trials, periods = cum.shape
    if targets.shape[1] == 0:
        return np.zeros((trials, 0))
    finite = np.where(np.isfinite(targets), targets, 0.0)
    span = float(max(cum[:, -1].max(), finite.max(), 0.0)) + 1.0
    offset = (np.arange(trials, dtype=np.float64) * span)[:, None]
    flat = (cum + offset).ravel()
    queries = np.minimum(targets, span - 0.5) - _EPS + offset
    pos = np.searchsorted(flat, queries.ravel(), side="left").reshape(targets.shape)
    n = (pos - (np.arange(trials) * periods)[:, None] + 1).astype(np.float64)
    n[(n > periods) | ~np.isfinite(targets) | (targets >= span - 0.5)] = np.inf
    n[targets <= _EPS] = 0.0
    return n


@dataclass(frozen=True)
class TeamItems:
    """One team's forecast input, item by item: what `pulse forecast --by/--trials` re-runs."""

    ids: list[str]
    remaining: list[float]
    share: list[float]
    dormant: list[float]
    growth: list[float]
    dormant_new: float = 0.0


def simulate_items(
    items: TeamItems, samples: np.ndarray, config: ForecastConfig, team: str
) -> tuple[np.ndarray, np.ndarray]:
    """Finish period per (trial, item) (``inf`` beyond the horizon or never) and the team's
    cumulative throughput per (trial, period) the trials drew."""
    remaining = np.asarray(items.remaining, dtype=np.float64)
    share = np.clip(np.asarray(items.share, dtype=np.float64), _EPS, 1.0)
    samples = np.asarray(samples, dtype=np.float64)
    trials = config.trials
    ratio = np.zeros((trials, len(remaining)))
    pool = np.asarray(items.growth, dtype=np.float64)
    if config.scope_growth and len(pool):
        ratio = pool[team_rng(config.seed, team, 1).integers(0, len(pool), ratio.shape)]
    targets = remaining[None, :] * (1.0 + ratio) / share[None, :]
    chance = np.asarray(items.dormant, dtype=np.float64)[None, :]
    if chance.any() or items.dormant_new > 0:
        # the item never closes when a child it has, or one it will get, is never worked on
        live = (1.0 - chance) * (1.0 - float(items.dormant_new)) ** (remaining[None, :] * ratio)
        never = team_rng(config.seed, team, 2).random(targets.shape)
        targets[never >= live] = np.inf
    if len(samples) == 0 or samples.max() <= 0:
        return np.where(targets > _EPS, np.inf, 0.0), np.zeros((trials, 1))
    # beyond what the best weeks in a row could reach: never, without simulating the horizon
    targets[targets > samples.max() * horizon_periods(config)] = np.inf
    finite = np.where(np.isfinite(targets), targets, 0.0)
    cum = _cumulative(samples, finite, config, team)
    return reach_periods(cum, targets), cum


def _cumulative(
    samples: np.ndarray, targets: np.ndarray, config: ForecastConfig, team: str
) -> np.ndarray:
    """Cumulative team throughput per trial (trials x periods), block by block until every
    trial reaches every finite target, or the horizon."""
    rng = team_rng(config.seed, team, 0)
    block, horizon = BLOCK[config.period], horizon_periods(config)
    parts = [np.cumsum(draw_block(rng, samples, config.trials, block), axis=1)]
    width = block
    while width < horizon and targets.size:
        if (parts[-1][:, -1:] >= targets).all():  # the first blocks never depend on the targets
            break
        step = np.cumsum(draw_block(rng, samples, config.trials, block), axis=1)
        parts.append(parts[-1][:, -1:] + step)
        width += block
    return np.hstack(parts)[:, :horizon]


def horizon_periods(config: ForecastConfig) -> int:
    """Periods simulated before a trial counts as never finishing."""
    horizon = config.horizon()
    if config.scope_growth:
        horizon = min(horizon, math.ceil(config.growth_horizon_days / PERIOD_DAYS[config.period]))
    return horizon


@dataclass(frozen=True)
class Correction:
    """Factors on the raw forecast horizon per roadmap kind (``"*"``: any kind), learned from
    the store's own replayed forecasts
    (:func:`pulse.reports.metrics.track_record.learn_correction`)."""

    p50: Mapping[str, float] = field(default_factory=dict)
    p85: Mapping[str, float] = field(default_factory=dict)

    def factor(self, q: str, kind: str) -> float:
        """The factor of quantile ``q`` ("p50" or "p85") for one kind; 1 when nothing learned."""
        table = self.p50 if q == "p50" else self.p85
        return float(table.get(kind, table.get("*", 1.0)))


def corrected_days(raw: np.ndarray, factor: np.ndarray | float) -> np.ndarray:
    """Raw horizons (days, NaN beyond the horizon) times their factor, rounded up to days."""
    with np.errstate(invalid="ignore"):
        return np.ceil(np.asarray(raw, dtype=np.float64) * factor - _EPS)


@dataclass(frozen=True)
class ItemForecast:
    """Forecasts of a set of roadmap items: the frame (ri, team, kind, share, raw and corrected
    p50/p85/p95 days), finish periods per trial (corrected) and each team's input."""

    frame: pd.DataFrame
    periods: dict[str, np.ndarray]
    teams: dict[str, TeamItems]


def forecast_items(
    plan: pd.DataFrame,
    samples: Mapping[str, np.ndarray],
    config: ForecastConfig,
    pools: Mapping[str, np.ndarray],
    dormant_new: float = 0.0,
    correction: Correction | None = None,
    keep_trials: bool = False,
) -> ItemForecast:
    """Forecast every planned item, team by team (plan: ri, id, team, kind, remaining, share,
    dormant; ``pools``: each team's growth ratios; ``dormant_new``: the chance a new child is
    never worked on)."""
    correction = correction or Correction()
    labels = [f"p{round(q * 100)}" for q in config.quantiles]
    parts: list[dict[str, np.ndarray]] = []  # per team, one array per column
    periods: dict[str, np.ndarray] = {}
    teams: dict[str, TeamItems] = {}
    cols = {c: plan[c].to_numpy() for c in ("ri", "id", "team", "kind", "share")}
    remaining_all = plan["remaining"].to_numpy(dtype=np.float64)
    dormant_all = plan["dormant"].to_numpy(dtype=np.float64)
    for team, ix in plan.groupby("team", sort=True).indices.items():
        kinds = cols["kind"][ix]
        items = TeamItems(
            ids=[str(x) for x in cols["id"][ix]],
            remaining=remaining_all[ix].tolist(),
            share=cols["share"][ix].astype(np.float64).tolist(),
            dormant=dormant_all[ix].tolist(),
            growth=np.asarray(pools.get(str(team), ()), dtype=np.float64).tolist(),
            dormant_new=float(dormant_new),
        )
        finish, _ = simulate_items(items, samples.get(str(team), np.zeros(0)), config, str(team))
        raw = days_of_periods(finish, config.quantiles, config.period)
        values = {c: v[ix] for c, v in cols.items()}
        f50 = np.array([correction.factor("p50", str(k)) for k in kinds])
        f85 = np.array([correction.factor("p85", str(k)) for k in kinds])
        prev = None
        for lab, row in zip(labels, raw, strict=True):
            values[f"{lab}_raw"] = row
            days = corrected_days(row, f50 if lab == "p50" else f85)
            if prev is not None:  # quantiles stay in order (NaN: beyond the horizon stays)
                days = np.where(np.isnan(days), days, np.fmax(days, prev))
            values[lab] = prev = days
        parts.append(values)
        if keep_trials:
            stretched = stretch(finish, f50, f85)
            periods.update(zip(items.ids, stretched.T, strict=True))
            teams[str(team)] = items
    names = ["ri", "id", "team", "kind", "share"]
    names += [f"{x}{s}" for x in labels for s in ("_raw", "")]
    frame = (
        pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in names})
        if parts
        else pd.DataFrame(columns=names)
    )
    return ItemForecast(frame, periods, teams)


def stretch(finish: np.ndarray, f50: np.ndarray, f85: np.ndarray) -> np.ndarray:
    """Trials' finish periods with the correction applied by rank: the p50 factor up to the
    median trial, the p85 factor from the 85th percentile on, interpolated between (order kept),
    so the histogram of finish weeks agrees with the corrected dates."""
    trials = finish.shape[0]
    if trials == 0 or finish.shape[1] == 0:
        return finish
    order = np.argsort(finish, axis=0, kind="stable")
    rank = (np.arange(trials) / max(trials - 1, 1))[:, None]
    w = np.clip((rank - 0.5) / 0.35, 0.0, 1.0)
    factor = f50[None, :] * (1 - w) + f85[None, :] * w
    srt = np.take_along_axis(finish, order, axis=0)
    with np.errstate(invalid="ignore"):
        srt = np.ceil(np.fmax.accumulate(srt * factor, axis=0) - _EPS)
    out = np.empty_like(finish)
    np.put_along_axis(out, order, srt, axis=0)
    return out


def quantile_days(periods: np.ndarray, config: ForecastConfig) -> np.ndarray:
    """Quantiles (config.quantiles x items) in days of finish periods per trial."""
    return days_of_periods(periods, config.quantiles, config.period)


def done_by(
    items: TeamItems,
    cum: np.ndarray,
    col: int,
    until_periods: int,
    factor: float,
    confidence: float,
) -> int:
    """Children of item ``col`` done by ``until_periods`` with ``confidence``: its share of the
    team's cumulative throughput by then (the p85 correction stretching time), at most its
    remaining children."""
    reach = math.floor(until_periods / max(factor, _EPS))
    if reach <= 0 or cum.shape[1] == 0:
        return 0
    got = cum[:, min(reach, cum.shape[1]) - 1] * float(items.share[col])
    whole = np.minimum(np.floor(got + _EPS), float(items.remaining[col]))
    return int(at_least(whole[:, None], confidence)[0])
