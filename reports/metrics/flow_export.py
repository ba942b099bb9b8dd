"""The flow export: one row per item with the date it reached every workflow column.

The layout flow-analytics tools import (jira-agile-metrics' cycle data, ActionableAgile): fixed
columns ``source, key, title, type, status, created``, then one column per workflow column in
workflow order holding the (back-filled) day the item reached it as ``YYYY-MM-DD`` (empty when
not reached), then ``cycle_time_days``, ``lead_time_days`` and ``completed``. Days are calendar
days in the report zone; sub-tasks are left out, as in every flow metric.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from pulse.reports.dataset import Dataset

from .column_dates import ColumnDates
from .flow import flow_items
from .pipeline import column_dates_at
from .workflow import Workflow

LEADING = ["source", "key", "title", "type", "status", "created"]
TRAILING = ["cycle_time_days", "lead_time_days", "completed"]


def stage_columns(workflows: Iterable[Workflow]) -> list[str]:
    """Column names of every workflow, merged in workflow order, each name once.

    A name new to the list goes right after its predecessor in its own workflow, so
    Backlog, Ready, Done and Backlog, Review, Done give Backlog, Ready, Review, Done.
    """
    merged: list[str] = []
    for workflow in workflows:
        after = -1
        for name in workflow.names:
            if name in merged:
                after = merged.index(name)
            else:
                after += 1
                merged.insert(after, name)
    clash = sorted(set(merged) & {*LEADING, *TRAILING})
    if clash:
        raise ValueError(f"workflow columns {clash} clash with the export's own columns")
    return merged


def flow_table(cd: ColumnDates) -> pd.DataFrame:
    """The flow export of the items known at ``cd.as_of``, ordered by source, created, key."""
    stages = stage_columns(cd.workflows.values())
    items = flow_items(cd)
    days = cd.entries[cd.entries["row"].isin(items.index)]
    wide = days.pivot(index="row", columns="column", values="day").reindex(
        index=items.index, columns=stages
    )
    out = pd.DataFrame(
        {
            "source": items["source"].astype(object),
            "key": items["key"].astype(object),
            "title": items["title"].astype(object),
            "type": items["type"].astype(object),
            "status": items["status_at"].astype(object),
            "created": _iso(items["created_day"]),
        }
    )
    for stage in stages:
        out[stage] = _iso(wide[stage])
    out["cycle_time_days"] = _whole(items["cycle_days"])
    out["lead_time_days"] = _whole(items["lead_days"])
    out["completed"] = items["completed"].astype(bool)
    order = pd.DataFrame({"s": out["source"], "c": items["created"], "k": out["key"]})
    return out.loc[order.sort_values(["s", "c", "k"], kind="stable").index].reset_index(drop=True)


def _iso(days: pd.Series) -> pd.Series:
    """Local days as 'YYYY-MM-DD', None when missing."""
    text = pd.to_datetime(days).dt.strftime("%Y-%m-%d")
    return text.astype(object).where(text.notna(), None)


def _whole(values: pd.Series) -> pd.Series:
    """Whole days as Python ints, None when missing."""
    return pd.Series(
        [None if pd.isna(v) else int(v) for v in values], index=values.index, dtype=object
    )


def flow_rows(dataset: Dataset) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of the flow export for a dataset, as known at its as_of: the
    pipeline's column dates, the same the workbook's flow metrics use."""
    table = flow_table(column_dates_at(dataset.inputs, dataset.config, dataset.as_of))
    return list(table.columns), list(table.itertuples(index=False, name=None))
