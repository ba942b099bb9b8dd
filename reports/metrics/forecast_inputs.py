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
    rid = open_rm["roadmap_id"].astype(str).to_numpy()
    teams = open_rm["team"].astype(str).to_numpy()
    k = pd.Series(teams).value_counts()
    weeks = np.array([len(samples.get(t, ())) for t in teams], dtype=np.int64)
    first = current - pd.to_timedelta(weeks * 7, unit="D")
    start = week_monday(local_days(open_rm["started_at"], tz)).to_numpy(dtype="datetime64[ns]")
    since = np.where(np.isnat(start), first, np.maximum(first, start))
    active = np.clip((current - pd.DatetimeIndex(since)).days // 7, 1, None)
    active = np.where(weeks > 0, np.minimum(active, weeks), 0)
    # children each item finished between its start of the window and today's week
    done = pd.DataFrame(
        {
            "roadmap_id": children["roadmap_id"].astype(str),
            "day": local_days(children["done_at"], tz),
        }
    )
    done = done[done["day"].notna() & (done["day"] < current)]
    done = done.merge(pd.DataFrame({"roadmap_id": rid, "since": since}), on="roadmap_id")
    got = done[done["day"] >= done["since"]].groupby("roadmap_id").size()
    mine = pd.Series(rid).map(got).fillna(0).to_numpy(dtype=np.float64)
    team_done = np.array(
        [np.asarray(samples.get(t, ()), dtype=np.float64)[len(samples.get(t, ())) - a :].sum()
         if a else 0.0 for t, a in zip(teams, active, strict=True)]
    )  # fmt: skip
    prior = np.array([np.mean(samples[t]) if len(samples.get(t, ())) else 0.0 for t in teams])
    even = 1.0 / k.reindex(teams).to_numpy(dtype=np.float64)
    denom = team_done + prior
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(denom > 0, (mine + prior * even) / denom, even)
    return pd.Series(np.clip(share, 1e-6, 1.0), index=rid, dtype="float64")


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
