"""Where the effort goes: delivered items per team and week by kind — roadmap work (a child of
an epic, version or roadmap card), bugs, and everything else."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import completed_items
from .roadmap import RoadmapScope
from .timeutil import week_monday

KINDS = ("roadmap work", "bugs", "other")
BUG_TYPES = ("bug", "defect")


def effort_mix(
    cd: ColumnDates,
    scope: RoadmapScope,
    weeks: pd.DatetimeIndex,
    exclude_types: Collection[str] = (),
) -> pd.DataFrame:
    """Per team, week (Monday, every one of ``weeks``) and kind: items completed and their
    share of the team's items that week (NaN in a week with none). A bug is a bug wherever it
    is filed; other items are roadmap work when they belong to a roadmap item at as_of."""
    done = completed_items(cd, since=weeks.min(), exclude_types=exclude_types)
    week = week_monday(done["done_day"])
    keep = week.isin(weeks).to_numpy(dtype=bool)
    done, week = done[keep], week[keep]
    bug = done["type"].astype(str).str.casefold().isin(BUG_TYPES).to_numpy(dtype=bool)
    rows = done.index.to_numpy(dtype=np.int64)
    in_roadmap = np.isin(rows, scope.children["row"].to_numpy(dtype=np.int64))
    kind = np.where(bug, KINDS[1], np.where(in_roadmap, KINDS[0], KINDS[2]))
    frame = pd.DataFrame({"team": done["team"].astype(str).to_numpy(), "week": week, "kind": kind})
    teams = sorted(set(frame["team"]))
    index = pd.MultiIndex.from_product([teams, weeks, KINDS], names=["team", "week", "kind"])
    counts = frame.groupby(["team", "week", "kind"]).size().reindex(index, fill_value=0)
    out = counts.rename("items").reset_index()
    totals = out.groupby(["team", "week"])["items"].transform("sum")
    out["share"] = np.where(totals > 0, out["items"] / totals.where(totals > 0, 1), np.nan)
    out["items"] = out["items"].astype("int64")
    return out
