"""Work in progress and its age, flagged when older than the team's p85 cycle time."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import completed_items, flow_items
from .roadmap import ROADMAP_TYPES
from .timeutil import whole_days


def wip_items(
    cd: ColumnDates,
    include_subtasks: bool = False,
    exclude_types: Collection[str] = ROADMAP_TYPES,
) -> pd.DataFrame:
    """Work items whose latest column is at or after committed and before done: roadmap items
    (epics, roadmap cards) and archived cards are not work in progress (METRICS §2)."""
    frame = flow_items(cd, include_subtasks, exclude_types)
    pos = frame["position"].to_numpy()
    mask = (pos >= frame["committed_index"].to_numpy()) & (pos < frame["done_index"].to_numpy())
    if "archived" in frame.columns:
        mask &= ~frame["archived"].fillna(False).to_numpy(dtype=bool)
    return frame[mask & (pos >= 0)]


def ageing_wip(
    cd: ColumnDates,
    by: str = "team",
    quantile: float = 0.85,
    since: Any = None,
    include_subtasks: bool = False,
    exclude_types: Collection[str] = ROADMAP_TYPES,
) -> pd.DataFrame:
    """WIP items with age = today - committed day and a flag when age > the group's p85."""
    wip = wip_items(cd, include_subtasks, exclude_types).copy()
    wip["age_days"] = whole_days(pd.Series(cd.today, index=wip.index), wip["committed_day"])
    done = completed_items(cd, since=since)
    done = done[done["cycle_days"].notna()]
    limits = done.groupby(by)["cycle_days"].apply(
        lambda s: float(s.astype("float64").quantile(quantile))
    )
    wip["p85_days"] = wip[by].map(limits).astype("float64")
    age = wip["age_days"].astype("float64").to_numpy()
    limit = wip["p85_days"].to_numpy()
    wip["over_p85"] = np.where(np.isnan(limit), False, age > limit)
    cols = ["source", "item_id", "key", "team", "title", "column", "committed_day"]
    extra = [by] if by not in cols else []
    return wip[[*cols, *extra, "age_days", "p85_days", "over_p85"]].reset_index(drop=True)
