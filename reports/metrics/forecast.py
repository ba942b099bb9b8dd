"""Monte Carlo building blocks every forecast shares: the settings, the seeded random streams,
throughput draws, and turning finish periods into dates.

Each trial draws the team's throughput per period (week or day) at random, with replacement,
from its last W weeks of history, in blocks of 26 weeks / 182 days so that a longer horizon never
changes the first draws. Results are period counts from as_of's calendar day: an item finishing
during period n is dated at the end of it (``today + n x period``). Seeds: each team gets its own
stream derived from ``(seed, crc32(team), stream)`` so adding a team never changes another
team's answer. The roadmap model built on these is :mod:`pulse.reports.metrics.item_forecast`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Period = Literal["week", "day"]
PERIOD_DAYS = {"week": 7, "day": 1}
BLOCK = {"week": 26, "day": 182}
_EPS = 1e-9


@dataclass(frozen=True)
class ForecastConfig:
    """Monte Carlo settings; defaults follow METRICS §4."""

    trials: int = 10_000
    seed: int = 0
    weeks: int = 12
    period: Period = "week"
    scope_growth: bool = True
    quantiles: tuple[float, ...] = (0.5, 0.85, 0.95)
    confidence: float = 0.85
    horizon_days: int = field(default=3650)
    growth_horizon_days: int = 1095
    track_weeks: int = 26
    track_trials: int = 100

    def horizon(self) -> int:
        """Maximum number of periods simulated before giving up (result 'beyond horizon')."""
        return math.ceil(self.horizon_days / PERIOD_DAYS[self.period])


def team_rng(seed: int, team: str, stream: int = 0) -> np.random.Generator:
    """A generator stable per (seed, team, stream): one dataset + seed = one answer."""
    return np.random.default_rng([seed, zlib.crc32(team.encode("utf-8")), stream])


def draw_block(rng: np.random.Generator, samples: np.ndarray, trials: int, size: int) -> np.ndarray:
    """``size`` periods of throughput per trial, drawn with replacement from ``samples``."""
    idx = rng.integers(0, len(samples), size=(trials, size))
    return samples[idx]


def days_of_periods(periods: np.ndarray, quantiles: Sequence[float], period: Period) -> np.ndarray:
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


def at_least(values: np.ndarray, confidence: float) -> np.ndarray:
    """Per column, the largest x with P(value >= x) >= confidence across trials (rows)."""
    values = np.sort(np.atleast_2d(values), axis=0)
    j = math.floor((1.0 - confidence) * values.shape[0] + _EPS)
    j = min(max(j, 0), values.shape[0] - 1)
    return values[j]
