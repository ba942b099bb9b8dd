"""Per roadmap item Monte Carlo forecasts from the item's own share of its team (METRICS §4).

Model. Each trial draws the team's weekly throughput with replacement from its last W weeks, as
before; what changes is how much of it the item receives and how much work it has to do.

- **Share from history**: the item receives ``share`` of the team's throughput, where share is
  what its children actually got over the sample window (children done in the window divided by
  the team's completions over the weeks the item was in progress in that window), shrunk towards
  an even split ``1/k`` over the team's k open items by one week's worth of pseudo-observations.
  An item nobody touched in twelve weeks keeps a share of about ``1/(13k)``: it is not forecast to
  land in two weeks.
- **Scope growth** (on by default): each trial draws a growth ratio ``g`` from the team's
  history (children added after work started / children when it started, over the team's
  roadmap items, the item's own growth so far among them); the item must finish
  ``remaining x (1 + g)`` children.

A trial finishes the item in the first period in which ``share x cumulative throughput`` reaches
that amount, so more scope never makes a trial earlier and more throughput never makes it later.
Items are independent, which keeps 10,000 trials x 200 items to one ``searchsorted``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .forecast import _BLOCK, PERIOD_DAYS, ForecastConfig, _draw_block, _quantile_days, team_rng
from .forecast_inputs import (
    STALE_DAYS,
    dormant_chance,
    growth_ratios,
    history_shares,
    never_started,
    stale_children,
)
from .roadmap import ROADMAP_TYPES, RoadmapScope
from .throughput import throughput_samples

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


def simulate_items(
    remaining: np.ndarray,
    share: np.ndarray,
    growth: list[np.ndarray] | None,
    samples: np.ndarray,
    config: ForecastConfig,
    team: str,
    dormant: np.ndarray | None = None,
    dormant_new: float = 0.0,
) -> np.ndarray:
    """Finish period per (trial, item) of one team's items; ``inf`` beyond the horizon.

    ``growth[i]`` holds the growth ratios item i's trials draw from (None or empty: no growth);
    ``dormant[i]`` is the chance item i never finishes (a child nobody will work on).
    """
    remaining = np.asarray(remaining, dtype=np.float64)
    share = np.clip(np.asarray(share, dtype=np.float64), _EPS, 1.0)
    samples = np.asarray(samples, dtype=np.float64)
    trials = config.trials
    ratio = np.zeros((trials, len(remaining)))
    if growth is not None:
        grow_rng = team_rng(config.seed, team, 1)
        for i, pool in enumerate(growth):
            pool = np.asarray(pool, dtype=np.float64)
            if len(pool):
                ratio[:, i] = pool[grow_rng.integers(0, len(pool), size=trials)]
    targets = remaining[None, :] * (1.0 + ratio) / share[None, :]
    if dormant is not None:
        # the item never closes when a child it has, or one it will get, is never worked on
        chance = np.asarray(dormant, dtype=np.float64)[None, :]
        live = (1.0 - chance) * (1.0 - float(dormant_new)) ** (remaining[None, :] * ratio)
        never = team_rng(config.seed, team, 2).random((trials, len(remaining)))
        targets[never >= live] = np.inf
    if len(samples) == 0 or samples.max() <= 0:
        return np.where(targets > _EPS, np.inf, 0.0)
    live = np.where(np.isfinite(targets), targets, 0.0)
    return reach_periods(_cumulative(samples, live, config, team), targets)


def _cumulative(
    samples: np.ndarray, targets: np.ndarray, config: ForecastConfig, team: str
) -> np.ndarray:
    """Cumulative team throughput per trial (trials x periods), block by block until every
    trial reaches every finite target, or the horizon."""
    rng = team_rng(config.seed, team, 0)
    block, horizon = _BLOCK[config.period], config.horizon()
    if config.scope_growth:
        horizon = min(horizon, math.ceil(config.growth_horizon_days / PERIOD_DAYS[config.period]))
    parts = [np.cumsum(_draw_block(rng, samples, config.trials, block), axis=1)]
    width = block
    while width < horizon and targets.size:
        if (parts[-1][:, -1:] >= targets).all():  # stopping earlier would break monotonicity
            break
        step = np.cumsum(_draw_block(rng, samples, config.trials, block), axis=1)
        parts.append(parts[-1][:, -1:] + step)
        width += block
    return np.hstack(parts)[:, :horizon]


def item_forecasts(
    plan: pd.DataFrame,
    samples: Mapping[str, np.ndarray],
    today: pd.Timestamp,
    config: ForecastConfig | None = None,
    without: str | None = None,
) -> pd.DataFrame:
    """Raw p50/p85/p95 (days from today, NaN beyond the horizon) per planned item.

    ``plan``: roadmap_id, team, remaining, share and growth (array of ratios) per item;
    ``without`` names a column of children to leave out of ``remaining`` (e.g. ``stale``).
    Result: roadmap_id, team, share and one ``p50_days``... column per quantile.
    """
    config = config or ForecastConfig()
    labels = [f"p{round(q * 100)}_days" for q in config.quantiles]
    parts = []
    for team, part in plan.groupby("team", sort=True):
        remaining = part["remaining"].to_numpy(dtype=np.float64)
        if without is not None:
            remaining = remaining - part[without].to_numpy(dtype=np.float64)
        growth = list(part["growth"]) if config.scope_growth else None
        periods = simulate_items(
            remaining,
            part["share"].to_numpy(dtype=np.float64),
            growth,
            samples.get(str(team), np.zeros(0)),
            config,
            str(team),
            part["dormant"].to_numpy(dtype=np.float64) if "dormant" in part else None,
            float(part["dormant_new"].iloc[0]) if "dormant_new" in part else 0.0,
        )
        days = _quantile_days(periods, config.quantiles, config.period)
        frame = pd.DataFrame({"roadmap_id": part["roadmap_id"].to_numpy(), "team": team})
        frame["share"] = part["share"].to_numpy(dtype=np.float64)
        for lab, row in zip(labels, days, strict=True):
            frame[lab] = row
        parts.append(frame)
    if not parts:
        empty = pd.DataFrame({c: [] for c in ["roadmap_id", "team", "share", *labels]})
        return empty.astype({"roadmap_id": object, "team": object})
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Correction:
    """Factors on the forecast horizon per roadmap kind (and ``"*"`` for any kind), learned
    from the store's own back-test (:func:`reports.metrics.backtest.learn_correction`)."""

    p50: Mapping[str, float] = field(default_factory=dict)
    p85: Mapping[str, float] = field(default_factory=dict)

    def factor(self, q: str, kind: str) -> float:
        """The factor of quantile ``q`` ("p50" or "p85") for one kind; 1 when nothing learned."""
        table = self.p50 if q == "p50" else self.p85
        return float(table.get(kind, table.get("*", 1.0)))


def corrected_days(raw: pd.DataFrame, kinds: pd.Series, correction: Correction) -> pd.DataFrame:
    """Corrected p50/p85/p95 day offsets: raw horizons times the learned factor (p95 uses the
    p85 factor), rounded up to whole days and kept in order p50 <= p85 <= p95."""
    f50 = np.array([correction.factor("p50", str(k)) for k in kinds], dtype=np.float64)
    f85 = np.array([correction.factor("p85", str(k)) for k in kinds], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        p50 = np.ceil(raw["p50_days"].to_numpy(dtype=np.float64) * f50 - _EPS)
        p85 = np.ceil(raw["p85_days"].to_numpy(dtype=np.float64) * f85 - _EPS)
        p95 = np.ceil(raw["p95_days"].to_numpy(dtype=np.float64) * f85 - _EPS)
        p85 = np.maximum(p85, p50)  # NaN (beyond the horizon) stays NaN
        p95 = np.maximum(p95, p85)
    return pd.DataFrame({"p50": p50, "p85": p85, "p95": p95}, index=raw.index)


def plan_items(
    scope: RoadmapScope, cd: ColumnDates, samples: Mapping[str, np.ndarray], stale_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The forecast plan (roadmap_id, team, kind, remaining, share, growth, stale) of every open
    roadmap item with work left, and its stale children. Empty items are not planned."""
    rm = scope.roadmap
    open_rm = rm[rm["done_at"].isna() & (rm["remaining"] > 0)]
    shares = history_shares(rm, scope.children, samples, cd.today, cd.tz)
    pools = growth_ratios(rm, scope.children)
    stale = stale_children(scope.children, cd, stale_days)
    chance = dormant_chance(scope.children, cd)
    chance = chance[~chance.index.isin(stale.index)]
    # log of the chance that every unstarted (not stale) child gets worked on, per item
    log_live = (
        np.log1p(-chance.clip(upper=1 - 1e-12))
        .groupby(scope.children.loc[chance.index, "roadmap_id"])
        .sum()
    )
    counts = stale.groupby("roadmap_id").size()
    rid = open_rm["roadmap_id"].astype(str)
    plan = pd.DataFrame(
        {
            "roadmap_id": rid.to_numpy(),
            "team": open_rm["team"].astype(str).to_numpy(),
            "kind": open_rm["kind"].astype(str).to_numpy(),
            "remaining": open_rm["remaining"].to_numpy(dtype=np.float64),
            "share": rid.map(shares).fillna(1.0).to_numpy(dtype=np.float64),
            "growth": [pools.get(str(t), np.zeros(0)) for t in open_rm["team"]],
            "stale": rid.map(counts).fillna(0).to_numpy(dtype=np.float64),
        }
    )
    plan["dormant_if_closed"] = 1.0 - np.exp(rid.map(log_live).fillna(0.0).to_numpy())
    plan["dormant"] = np.where(plan["stale"] > 0, 1.0, plan["dormant_if_closed"])
    plan["dormant_new"] = never_started(scope.children, cd)
    return plan, stale


def roadmap_forecasts(
    scope: RoadmapScope,
    cd: ColumnDates,
    config: ForecastConfig | None = None,
    roadmap_types: Collection[str] = ROADMAP_TYPES,
    correction: Correction | None = None,
    stale_days: int = STALE_DAYS,
) -> pd.DataFrame:
    """Per open roadmap item with work left: p50/p85/p95 local days (NaT beyond the horizon),
    its share, raw day offsets, its stale children and p50/p85 if they were closed."""
    config = config or ForecastConfig()
    correction = correction or Correction()
    samples = throughput_samples(
        cd, weeks=config.weeks, period=config.period, by="team", exclude_types=tuple(roadmap_types)
    )
    plan, stale = plan_items(scope, cd, samples, stale_days)
    raw = item_forecasts(plan, samples, cd.today, config)
    out = plan[["roadmap_id", "team", "kind", "remaining", "stale"]].merge(
        raw.drop(columns=["team"]), on="roadmap_id", how="left"
    )
    today = pd.Timestamp(cd.today).normalize()
    days = corrected_days(out, out["kind"], correction)
    for q in ("p50", "p85", "p95"):
        out[q] = _dates(today, days[q])
    has_stale = plan[plan["stale"] > 0]
    has_stale = has_stale.assign(dormant=has_stale["dormant_if_closed"])
    if_closed = item_forecasts(has_stale, samples, cd.today, config, without="stale")
    closed = corrected_days(if_closed, has_stale["kind"].reset_index(drop=True), correction)
    for q in ("p50", "p85"):
        closed_of = dict(zip(if_closed["roadmap_id"], _dates(today, closed[q]), strict=True))
        out[f"{q}_if_closed"] = pd.to_datetime(out["roadmap_id"].map(closed_of))
    keys = stale.sort_values("key").groupby("roadmap_id")["key"].agg(list)
    out["stale_keys"] = [keys.get(r, []) for r in out["roadmap_id"]]
    out["stale"] = out["stale"].astype("int64")
    return out


def _dates(today: pd.Timestamp, days: pd.Series) -> pd.Series:
    """Day offsets from today as local days (NaT for NaN)."""
    offsets = pd.to_timedelta(days.to_numpy(dtype=np.float64), unit="D")
    return pd.Series(today + offsets, index=days.index)
