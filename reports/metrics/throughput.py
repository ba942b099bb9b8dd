"""Throughput: completed items (and points) per ISO week or per day, empty periods = 0."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import completed_items
from .timeutil import week_monday

Period = Literal["week", "day"]


def _period_label(days: pd.Series, period: Period) -> pd.Series:
    return week_monday(days) if period == "week" else pd.to_datetime(days)


def throughput(
    cd: ColumnDates,
    period: Period = "week",
    by: str | None = None,
    start: Any = None,
    points: pd.Series | None = None,
    include_subtasks: bool = False,
    exclude_types: Collection[str] = (),
) -> pd.DataFrame:
    """Items (and points) completed per week (labelled by Monday) or day, through as_of's period.

    ``points`` is an estimate per item row (e.g. :func:`flow.estimates_at_as_of`); unestimated
    items add 0 points. Periods without completions appear with 0. ``start`` (a day) defaults to
    the first completion.
    """
    done = completed_items(cd, include_subtasks=include_subtasks, exclude_types=exclude_types)
    step = pd.Timedelta(days=7 if period == "week" else 1)
    today = cd.today
    end = week_monday(pd.Series([today])).iloc[0] if period == "week" else today
    label = _period_label(done["done_day"], period)
    first = _period_label(pd.Series([pd.Timestamp(start)]), period).iloc[0] if start else None
    if first is None:
        first = label.min() if len(label) else end
    periods = pd.date_range(first, end, freq=step)
    frame = pd.DataFrame({"period": label.to_numpy()})
    if by is not None:
        frame[by] = done[by].astype(object).to_numpy()
    frame["items"] = 1
    frame["points"] = (
        points.reindex(done.index).fillna(0.0).to_numpy() if points is not None else 0.0
    )
    frame = frame[frame["period"] >= first]
    keys = ["period"] if by is None else [by, "period"]
    grouped = frame.groupby(keys, sort=True)[["items", "points"]].sum()
    if by is None:
        full = grouped.reindex(periods, fill_value=0)
        full.index.name = "period"
    else:
        groups = sorted(set(cd.items[by].astype(object)))
        index = pd.MultiIndex.from_product([groups, periods], names=[by, "period"])
        full = grouped.reindex(index, fill_value=0)
    out = full.reset_index()
    out["items"] = out["items"].astype("int64")
    out["points"] = out["points"].astype("float64")
    return out.rename(columns={"period": period})


def window_start(today: pd.Timestamp, weeks: int = 12, period: Period = "week") -> pd.Timestamp:
    """First local day of the throughput window: ``weeks`` complete weeks (or 7 x ``weeks``
    complete days) before the period containing ``today``. Forecast samples, team cycle-time
    percentiles and ageing WIP all look at this window."""
    if period == "week":
        return pd.Timestamp(week_monday(pd.Series([today])).iloc[0]) - pd.Timedelta(weeks=weeks)
    return pd.Timestamp(today) - pd.Timedelta(days=7 * weeks)


def throughput_samples(
    cd: ColumnDates,
    weeks: int = 12,
    period: Period = "week",
    by: str = "team",
    points: pd.Series | None = None,
    exclude_types: Collection[str] = ("Epic",),
) -> dict[str, np.ndarray]:
    """Per group, the last ``weeks`` complete weeks (or 7 x weeks complete days) of throughput.

    The period containing as_of is partial and left out, so samples are whole weeks (days).
    Values are item counts, or points when ``points`` is given.
    """
    today = cd.today
    current = week_monday(pd.Series([today])).iloc[0] if period == "week" else today
    first = window_start(today, weeks, period)
    table = throughput(
        cd, period=period, by=by, start=first, points=points, exclude_types=exclude_types
    )
    col = "points" if points is not None else "items"
    table = table[(table[period] >= first) & (table[period] < current)]
    out: dict[str, np.ndarray] = {}
    for name, part in table.groupby(by, sort=True):
        out[str(name)] = part.sort_values(period)[col].to_numpy(dtype=np.float64)
    return out
