"""Trends, week by week: roadmap items off track, throughput, say/do and scope added over the
last complete weeks (the week in progress is partial and left out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .roadmap import RoadmapScope
from .timeutil import local_days, week_monday

TREND_WEEKS = 12
COLUMNS = ["week", "off_track", "throughput", "say_do", "scope_added"]


def trend_weeks(today: pd.Timestamp, weeks: int = TREND_WEEKS) -> pd.DatetimeIndex:
    """Mondays of the ``weeks`` complete weeks before the week containing ``today``."""
    current = pd.Timestamp(week_monday(pd.Series([today])).iloc[0])
    return pd.date_range(current - pd.Timedelta(weeks=weeks), periods=weeks, freq="7D")


def weekly_trends(
    today: pd.Timestamp,
    tz: str,
    throughput_weekly: pd.DataFrame,
    sprint_rows: pd.DataFrame,
    scope: RoadmapScope,
    off_track: pd.Series,
    weeks: int = TREND_WEEKS,
) -> pd.DataFrame:
    """Per week (Monday): roadmap items off track that Monday (``off_track``: replayed Monday
    instant -> count; blank when not replayed), items completed, the mean say/do of the sprints
    closed that week (blank without one), and children added that week to roadmap items already
    started (growth, not planning; those still in scope at as_of)."""
    mondays = trend_weeks(today, weeks)
    through = throughput_weekly.groupby("week")["items"].sum().reindex(mondays, fill_value=0)
    closed = sprint_rows[sprint_rows["state_at"] == "closed"]
    closed_week = week_monday(local_days(closed["completed_at"], tz))
    say_do = closed["say_do"].groupby(closed_week.to_numpy()).mean().reindex(mondays)
    kids = scope.children
    started = scope.roadmap.set_index(["source", "roadmap_id"])["started_at"]
    keys = pd.MultiIndex.from_arrays([kids["source"], kids["roadmap_id"]])
    start = pd.Series(pd.to_datetime(started.reindex(keys).to_numpy(), utc=True))
    added = pd.to_datetime(kids["added_at"], utc=True).reset_index(drop=True)
    growth = (added.notna() & start.notna() & (added > start)).to_numpy(dtype=bool)
    added_week = week_monday(local_days(added[growth], tz))
    scope_added = added_week.value_counts().reindex(mondays, fill_value=0)
    off = pd.Series(np.nan, index=mondays)
    if len(off_track):
        local = week_monday(local_days(pd.Series(off_track.index), tz))
        counts = pd.Series(off_track.to_numpy(dtype="float64"), index=local.to_numpy())
        off = counts.groupby(level=0).last().reindex(mondays)
    return pd.DataFrame(
        {
            "week": mondays,
            "off_track": off.to_numpy(),
            "throughput": through.to_numpy(dtype="int64"),
            "say_do": say_do.to_numpy(dtype="float64"),
            "scope_added": scope_added.to_numpy(dtype="int64"),
        },
        columns=COLUMNS,
    )
