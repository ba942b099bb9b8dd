"""What a roadmap item's forecast starts from: its share of the team, growth and stale children.

All three come from the history replayed to as_of (:class:`roadmap.RoadmapScope`), so a past
Monday's forecast sees only what was known then (METRICS §4).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .timeutil import local_days, week_monday

STALE_DAYS = 60
DORMANT_DAYS = 120


def history_shares(
    roadmap: pd.DataFrame,
    children: pd.DataFrame,
    samples: Mapping[str, np.ndarray],
    today: pd.Timestamp,
    tz: str,
) -> pd.Series:
    """Per open roadmap item (index roadmap_id): the share of its team's throughput it received.

    Over the sample window (the ``len(samples)`` whole weeks before today's week), share =
    ``(done + prior / k) / (team + prior)``: ``done`` = its children finished in the window since
    its work started, ``team`` = the team's completions over those weeks, ``k`` = the team's open
    items with work left and ``prior`` = one average week of the team's throughput (an item with
    no history gets ``1/k``). Clipped to (0, 1].
    """
    current = week_monday(pd.Series([pd.Timestamp(today).normalize()])).iloc[0]
    open_rm = roadmap[roadmap["done_at"].isna() & (roadmap["remaining"] > 0)]
    k = open_rm.groupby("team").size()
    done_day = local_days(children["done_at"], tz)
    started_week = week_monday(local_days(open_rm["started_at"], tz))
    out = {}
    for rec, start in zip(open_rm.itertuples(index=False), started_week, strict=True):
        weekly = np.asarray(samples.get(str(rec.team), np.zeros(0)), dtype=np.float64)
        weeks = len(weekly)
        first = current - pd.Timedelta(weeks=weeks)
        since = max(first, start) if pd.notna(start) else first
        active = max(1, min(weeks, int((current - since).days // 7))) if weeks else 0
        mine = (children["roadmap_id"] == rec.roadmap_id).to_numpy() & (
            (done_day >= since) & (done_day < current)
        ).to_numpy()
        team_done = float(weekly[weeks - active :].sum()) if active else 0.0
        prior = float(weekly.mean()) if weeks else 0.0
        even = 1.0 / int(k.get(rec.team, 1))
        denom = team_done + prior
        share = (float(mine.sum()) + prior * even) / denom if denom > 0 else even
        out[str(rec.roadmap_id)] = float(np.clip(share, 1e-6, 1.0))
    return pd.Series(out, dtype="float64")


def growth_ratios(roadmap: pd.DataFrame, children: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per team, each started roadmap item's growth: children added after its work started
    divided by its children at that moment (at least one)."""
    start = roadmap.set_index("roadmap_id")["started_at"]
    kids = children[["roadmap_id", "added_at"]].copy()
    kids["start"] = kids["roadmap_id"].map(start)
    kids = kids[kids["start"].notna()]
    after = kids["added_at"] > kids["start"]
    counts = kids.assign(after=after, before=~after).groupby("roadmap_id")[["after", "before"]]
    per_item = counts.sum()
    ratio = per_item["after"] / (per_item["after"] + per_item["before"]).clip(lower=1)
    team = roadmap.set_index("roadmap_id")["team"].astype(str)
    frame = pd.DataFrame({"team": team.reindex(ratio.index), "ratio": ratio})
    return {
        str(t): part["ratio"].to_numpy(dtype=np.float64)
        for t, part in frame.groupby("team", sort=True)
    }


def stale_children(children: pd.DataFrame, cd: ColumnDates, days: int = STALE_DAYS) -> pd.DataFrame:
    """Open children never started and untouched for ``days`` while a sibling moved since.

    Untouched = neither created, added to the item nor moved in the last ``days`` days. Result:
    the matching rows of ``children`` (roadmap_id, key, ... plus ``touched_at``).
    """
    items = cd.items
    created = pd.to_datetime(
        items["created"].iloc[children["row"].to_numpy(dtype=np.int64)].to_numpy(), utc=True
    )
    touched = pd.concat(
        [
            pd.Series(created, index=children.index),
            pd.to_datetime(children["added_at"], utc=True),
            pd.to_datetime(children["last_move_at"], utc=True),
        ],
        axis=1,
    ).max(axis=1)
    moved = pd.to_datetime(children["last_move_at"], utc=True)
    newest = moved.groupby(children["roadmap_id"]).transform("max")
    cutoff = cd.as_of - pd.Timedelta(days=days)
    stale = (
        ~children["completed"].to_numpy(dtype=bool)
        & children["committed_at"].isna().to_numpy()
        & (touched < cutoff).to_numpy()
        & (newest > touched).fillna(False).to_numpy(dtype=bool)
    )
    return children[stale].assign(touched_at=touched[stale])


def _created(children: pd.DataFrame, cd: ColumnDates) -> pd.Series:
    """Each child's creation instant (UTC), aligned to ``children``."""
    rows = children["row"].to_numpy(dtype=np.int64)
    values = pd.to_datetime(cd.items["created"].iloc[rows].to_numpy(), utc=True)
    return pd.Series(values, index=children.index)


def never_started(children: pd.DataFrame, cd: ColumnDates, days: int = DORMANT_DAYS) -> float:
    """The share of children created more than ``days`` ago still open and never started: the
    chance a new child is never worked on."""
    created = _created(children, cd)
    idle = ~children["completed"].to_numpy(dtype=bool) & children["committed_at"].isna().to_numpy()
    old = (created < cd.as_of - pd.Timedelta(days=days)).to_numpy()
    return float(idle[old].mean()) if old.any() else 0.0


def dormant_chance(children: pd.DataFrame, cd: ColumnDates, days: int = DORMANT_DAYS) -> pd.Series:
    """Per open, never-started child (index of ``children``): the chance nobody ever works on it.

    Bayes on its idle age a (days since it was created or added): with pi = the share of
    children older than ``days`` never started and S(a) = the share of started children that
    waited longer than a before starting, ``pi / (pi + (1 - pi) S(a))``. A child idle longer
    than almost every child that did start is almost surely dormant.
    """
    created = _created(children, cd)
    since = pd.concat([created, pd.to_datetime(children["added_at"], utc=True)], axis=1).max(axis=1)
    committed = pd.to_datetime(children["committed_at"], utc=True)
    open_idle = ~children["completed"].to_numpy(dtype=bool) & committed.isna().to_numpy()
    pi = never_started(children, cd, days)
    waits = np.sort(((committed - created).dt.total_seconds() / 86_400).dropna().to_numpy())
    idle = ((cd.as_of - since[open_idle]).dt.total_seconds() / 86_400).to_numpy()
    if len(waits) == 0:
        return pd.Series(pi, index=since.index[open_idle], dtype="float64")
    longer = 1.0 - np.searchsorted(waits, idle, side="right") / len(waits)
    denom = pi + (1.0 - pi) * longer
    chance = np.divide(pi, denom, out=np.ones_like(denom), where=denom > 0)
    return pd.Series(chance, index=since.index[open_idle], dtype="float64")
