"""Ageing work in progress by workflow column (ActionableAgile's ageing chart).

An item's age is today − its committed day (METRICS §2). For each column of a workflow, the
percentiles are those of the age at which completed items *left* that column (the day they
entered the next column − their committed day, whole days), over the items done since the
window start: an open item older than its column's p85 has already stayed longer than 85% of
the items that passed that column, before it is late.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import QUANTILES, completed_items

LABELS = [f"p{round(q * 100)}" for q in QUANTILES]
COLUMNS = ["workflow", "column", "position", "items", *LABELS]


def column_exit_ages(cd: ColumnDates, since: Any) -> pd.DataFrame:
    """Per (workflow, work column): how many completed items passed it and p50/p85/p95 of their
    age when they left it. Columns from committed up to the one before done, in order."""
    done = completed_items(cd, since=since)
    done = done[done["committed_day"].notna()]
    if done.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = done.index.to_numpy(dtype=np.int64)
    ent = cd.entries
    ent = ent[ent["row"].isin(rows)]
    day = ent.set_index(["row", "position"])["day"]
    parts = []
    for workflow, part in done.groupby("workflow", sort=True):
        wf = cd.workflows[str(workflow)]
        r = part.index.to_numpy(dtype=np.int64)
        committed = part["committed_day"]
        for p in range(wf.committed_index, wf.done_index):
            left = day.reindex(pd.MultiIndex.from_arrays([r, np.full(len(r), p + 1)]))
            ages = (left.to_numpy() - committed.to_numpy()) / np.timedelta64(1, "D")
            ages = pd.Series(ages, dtype="float64").dropna()
            q = ages.quantile(list(QUANTILES)) if len(ages) else None
            parts.append(
                {
                    "workflow": str(workflow),
                    "column": wf.names[p],
                    "position": p,
                    "items": len(ages),
                    **{
                        lab: (float(q.iloc[i]) if q is not None else np.nan)
                        for i, lab in enumerate(LABELS)
                    },
                }
            )
    return pd.DataFrame(parts, columns=COLUMNS)


def ageing_by_column(cd: ColumnDates, wip: pd.DataFrame, exits: pd.DataFrame) -> pd.DataFrame:
    """Each work item in progress (:func:`wip.ageing_wip`) with its workflow, column position
    and the p50/p85/p95 exit ages of its column; ``over_column_p85`` when its age is above."""
    rows = cd.rows_of(wip)
    out = wip[["source", "item_id", "key", "team", "title", "column", "age_days"]].copy()
    out["workflow"] = cd.items["workflow"].to_numpy(dtype=object)[rows]
    out["position"] = cd.items["position"].to_numpy()[rows].astype("int64")
    limits = exits[["workflow", "position", *LABELS]].rename(
        columns={lab: f"column_{lab}" for lab in LABELS}
    )
    out = out.merge(limits, on=["workflow", "position"], how="left")
    age = out["age_days"].astype("float64").to_numpy()
    p85 = out["column_p85"].astype("float64").to_numpy()
    out["over_column_p85"] = np.where(np.isnan(p85), False, age > p85)
    return out.sort_values(
        ["workflow", "position", "age_days", "key"],
        ascending=[True, True, False, True],
        kind="stable",
    ).reset_index(drop=True)
