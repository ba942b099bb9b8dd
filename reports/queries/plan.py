"""The throughput window, a team's window items, and restricting a roadmap scope.

A team's throughput and cycle-time percentiles are taken over the throughput window: the last
``weeks`` complete weeks before as_of's week (METRICS §4). Every item a team completed there was
created or moved in the window, so loading those items (:func:`load_window`) is enough to
compute them for one team (what `pulse show` does when no stored analysis covers its as-of).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pandas as pd
from sqlalchemy import Connection

from reports.metrics.roadmap import RoadmapScope
from reports.metrics.timeutil import day_start_utc, local_day, week_monday

from .load import Loaded, StoreMeta, window_ids


def window_start(meta: StoreMeta) -> pd.Timestamp:
    """First local day of the throughput window: the Monday ``weeks`` weeks before this week."""
    today = local_day(meta.as_of, meta.config.tz)
    monday = week_monday(pd.Series([today])).iloc[0]
    weeks = meta.config.forecast.weeks
    days = 7 * weeks if meta.config.forecast.period == "week" else 7 * weeks + 1
    return pd.Timestamp(monday) - pd.Timedelta(days=days)


def load_window(conn: Connection, loaded: Loaded, teams: Iterable[str]) -> None:
    """Load every item of these teams created or moved since the throughput window began."""
    meta = loaded.meta
    since = window_start(meta)
    lo = day_start_utc(since, meta.config.tz) - pd.Timedelta(days=1)
    loaded.add(conn, window_ids(conn, meta, meta.project_pairs(teams), lo))


def restrict(scope: RoadmapScope, ids: Collection[str]) -> RoadmapScope:
    """The roadmap items with these roadmap_ids, and their children."""
    wanted = list(ids)
    rm = scope.roadmap[scope.roadmap["roadmap_id"].isin(wanted).to_numpy()]
    kids = scope.children[scope.children["roadmap_id"].isin(wanted).to_numpy()]
    return RoadmapScope(rm.reset_index(drop=True), kids.reset_index(drop=True))


__all__ = ["load_window", "restrict", "window_start"]
