"""What a roadmap item's forecast starts from: its share of the team, growth and idle children.

Every function reads the state of roadmap items and their children at one instant (see
:mod:`pulse.reports.metrics.item_state`), so the live forecast and the track record's replay at a
past
Monday use the same code on what was known then (METRICS §4). Instants are int64 milliseconds
(``NAT``: never).

- ``items``: ri (roadmap item), team, kind, started_ms, scope, remaining, done.
- ``kids``: ri, row, created_ms, added_ms, committed_ms, done_ms, moved_ms, completed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

STALE_DAYS = 60
DORMANT_DAYS = 120
SUSPECT = 0.85
NAT = np.iinfo(np.int64).min
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


def history_shares(
    items: pd.DataFrame,
    kids: pd.DataFrame,
    samples: Mapping[str, np.ndarray],
    week_ms: int,
) -> pd.Series:
    """Per open item with work left (index ri): the share of its team's throughput it received.

    Over the sample window (the ``len(samples[team])`` whole weeks before the week starting at
    ``week_ms``), share = ``(done + prior / k) / (team + prior)``: ``done`` = its children
    finished in the window since its work started, ``team`` = the team's completions over those
    weeks, ``k`` = the team's open items with work left and ``prior`` = one average week of the
    team's throughput, so an item without history gets ``1/k`` and one that got nothing for
    twelve weeks about ``1/(13k)``. Clipped to [1e-6, 1].
    """
    live = items[~items["done"].to_numpy(dtype=bool) & (items["remaining"] > 0).to_numpy()]
    ri = live["ri"].to_numpy(dtype=np.int64)
    teams = live["team"].astype(str).to_numpy()
    k = pd.Series(teams).value_counts()
    weeks = np.array([len(samples.get(t, ())) for t in teams], dtype=np.int64)
    first = week_ms - weeks * WEEK_MS
    start = live["started_ms"].to_numpy(dtype=np.int64)
    since = np.maximum(first, np.where(start == NAT, first, start))
    active = np.clip(-(-(week_ms - since) // WEEK_MS), 1, None)
    active = np.where(weeks > 0, np.minimum(active, weeks), 0)
    # children each item finished between its start in the window and the current week
    since_of = pd.Series(since, index=ri)
    kid_ri = kids["ri"].to_numpy(dtype=np.int64)
    done = kids["done_ms"].to_numpy(dtype=np.int64)
    floor = since_of.reindex(kid_ri).to_numpy(dtype=np.float64)
    hit = (done != NAT) & (done < week_ms) & (done >= floor)
    got = pd.Series(kid_ri[hit]).value_counts()
    mine = got.reindex(ri).fillna(0).to_numpy(dtype=np.float64)
    # per team (and window), not per item: a few dozen sums instead of one per open item
    sums: dict[tuple[str, int], float] = {}
    for t, a in set(zip(teams.tolist(), active.tolist(), strict=True)):
        window = np.asarray(samples.get(t, ()), dtype=np.float64)
        sums[t, a] = window[len(window) - a :].sum() if a else 0.0
    team_done = np.array([sums[key] for key in zip(teams.tolist(), active.tolist(), strict=True)])
    means = {t: np.mean(samples[t]) if len(samples.get(t, ())) else 0.0 for t in set(teams)}
    prior = np.array([means[t] for t in teams.tolist()])
    even = 1.0 / k.reindex(teams).to_numpy(dtype=np.float64)
    denom = team_done + prior
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(denom > 0, (mine + prior * even) / denom, even)
    return pd.Series(np.clip(share, 1e-6, 1.0), index=ri, dtype="float64")


def growth_ratios(items: pd.DataFrame, kids: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per team, each started item's growth: children added after its work started divided by
    its children at that moment (at least one)."""
    start = pd.Series(items["started_ms"].to_numpy(dtype=np.int64), index=items["ri"])
    kid_start = start.reindex(kids["ri"].to_numpy()).to_numpy(dtype=np.float64)
    added = kids["added_ms"].to_numpy(dtype=np.int64)
    ok = np.isfinite(kid_start) & (kid_start != NAT)
    after = added[ok] > kid_start[ok]
    owner = kids["ri"].to_numpy()[ok]
    frame = pd.DataFrame({"ri": owner, "after": after, "before": ~after})
    per_item = frame.groupby("ri")[["after", "before"]].sum()
    ratio = per_item["after"] / (per_item["after"] + per_item["before"]).clip(lower=1)
    team = pd.Series(items["team"].astype(str).to_numpy(), index=items["ri"])
    table = pd.DataFrame({"team": team.reindex(ratio.index).to_numpy(), "ratio": ratio.to_numpy()})
    return {
        str(t): part["ratio"].to_numpy(dtype=np.float64)
        for t, part in table.groupby("team", sort=True)
    }


def _untouched(kids: pd.DataFrame) -> np.ndarray:
    """Each child's last touch: created, added to the item or moved, whichever is latest."""
    return np.maximum.reduce(
        [kids[c].to_numpy(dtype=np.int64) for c in ("created_ms", "added_ms", "moved_ms")]
    )


def _idle(kids: pd.DataFrame) -> np.ndarray:
    """Open children never started."""
    return ~kids["completed"].to_numpy(dtype=bool) & (kids["committed_ms"].to_numpy() == NAT)


def _sibling_moved(kids: pd.DataFrame) -> np.ndarray:
    """Per child: whether a child of the same item moved after it was last touched."""
    moved = kids["moved_ms"].to_numpy(dtype=np.int64)
    newest = pd.Series(moved).groupby(kids["ri"].to_numpy()).transform("max").to_numpy()
    return np.asarray(newest > _untouched(kids))


def stale_children(kids: pd.DataFrame, as_of_ms: int, days: int = STALE_DAYS) -> np.ndarray:
    """Mask of open children never started and untouched for ``days`` while a sibling moved
    since (METRICS §4: listed with the forecast, flagged ``STALE_SCOPE``)."""
    touched = _untouched(kids)
    return _idle(kids) & (touched < as_of_ms - days * DAY_MS) & _sibling_moved(kids)


def never_started(kids: pd.DataFrame, as_of_ms: int, days: int = DORMANT_DAYS) -> float:
    """The share of children created more than ``days`` ago still open and never started: the
    chance a new child is never worked on."""
    old = kids["created_ms"].to_numpy(dtype=np.int64) < as_of_ms - days * DAY_MS
    return float(_idle(kids)[old].mean()) if old.any() else 0.0


def dormant_chance(kids: pd.DataFrame, as_of_ms: int, days: int = DORMANT_DAYS) -> np.ndarray:
    """Per child, the chance nobody ever works on it (0 for started or done children).

    Bayes on its idle age a (days since it was created or added): with pi = the share of
    children older than ``days`` never started and S(a) = the share of started children that
    waited longer than a before starting, ``pi / (pi + (1 - pi) S(a))``: a child idle longer
    than almost every child that did start is almost surely dormant. Only a suspect child can
    be dormant: idle longer than the ``SUSPECT`` quantile of those waits while a sibling moved
    since. The fresh children of a newly planned item, or of one nobody has touched at all, are
    work to do, not a tail nobody will touch.
    """
    created = kids["created_ms"].to_numpy(dtype=np.int64)
    since = np.maximum(created, kids["added_ms"].to_numpy(dtype=np.int64))
    committed = kids["committed_ms"].to_numpy(dtype=np.int64)
    idle = _idle(kids)
    pi = never_started(kids, as_of_ms, days)
    out = np.zeros(len(kids))
    started = committed != NAT
    waits = np.sort((committed[started] - created[started]) / DAY_MS)
    ages = (as_of_ms - since[idle]) / DAY_MS
    if len(waits) == 0:
        out[idle] = pi
        return out
    longer = 1.0 - np.searchsorted(waits, ages, side="right") / len(waits)
    denom = pi + (1.0 - pi) * longer
    chance = np.divide(pi, denom, out=np.ones_like(denom), where=denom > 0)
    # suspect: idle longer than most started children waited, while a sibling moved since
    suspect = (longer <= 1.0 - SUSPECT) & _sibling_moved(kids)[idle]
    out[idle] = np.where(suspect, chance, 0.0)
    return out
