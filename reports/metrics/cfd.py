"""Cumulative flow: per day, how many items have reached each column (back-filled dates)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates


def cumulative_flow(
    cd: ColumnDates,
    workflow: str | None = None,
    start: Any = None,
    include_subtasks: bool = False,
) -> pd.DataFrame:
    """Rows = days up to as_of, columns = workflow columns, value = items dated on or before."""
    key, wf = cd.workflow(workflow)
    ent = cd.entries[cd.entries["workflow"] == key]
    if not include_subtasks:
        sub = cd.items["is_subtask"].to_numpy(dtype=bool)
        ent = ent[~sub[ent["row"].to_numpy()]]
    first = pd.Timestamp(start) if start is not None else ent["day"].min()
    if pd.isna(first):
        first = cd.today
    days = pd.date_range(first, cd.today, freq="D")
    out = pd.DataFrame(index=days)
    out.index.name = "day"
    for col in wf.names:
        d = ent.loc[ent["column"] == col, "day"]
        counts = d.value_counts()
        before = int((d < first).sum())
        series = counts.reindex(days, fill_value=0).cumsum() + before
        out[col] = series.to_numpy(dtype=np.int64)
    return out
