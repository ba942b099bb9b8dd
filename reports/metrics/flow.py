"""Flow metrics per item: completed, cycle time, lead time, percentiles (linear interpolation)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .history import FieldHistory, to_float

QUANTILES: tuple[float, ...] = (0.5, 0.85, 0.95)


def flow_items(
    cd: ColumnDates, include_subtasks: bool = False, exclude_types: Collection[str] = ()
) -> pd.DataFrame:
    """The items flow metrics count: sub-tasks and ``exclude_types`` (e.g. epics) left out."""
    frame = cd.items
    mask = np.ones(len(frame), dtype=bool)
    if not include_subtasks:
        mask &= ~frame["is_subtask"].to_numpy(dtype=bool)
    if exclude_types:
        mask &= ~is_type(frame, exclude_types)
    return frame[mask]


def is_type(frame: pd.DataFrame, types: Collection[str]) -> np.ndarray:
    """Mask of the rows whose ``type`` is one of ``types`` (case-insensitive); each distinct
    type is tested once, not each of 100,000 items."""
    folded = {t.casefold() for t in types}
    codes, distinct = pd.factorize(frame["type"].astype(object), use_na_sentinel=False)
    hit = np.array([str(t).casefold() in folded for t in distinct], dtype=bool)
    return hit[codes] if len(hit) else np.zeros(len(frame), dtype=bool)


def completed_items(
    cd: ColumnDates,
    since: Any = None,
    include_subtasks: bool = False,
    exclude_types: Collection[str] = (),
) -> pd.DataFrame:
    """Items whose done column date is set (resolution is not consulted), optionally since a day."""
    frame = flow_items(cd, include_subtasks, exclude_types)
    frame = frame[frame["completed"].to_numpy(dtype=bool)]
    if since is not None:
        frame = frame[frame["done_day"] >= pd.Timestamp(since)]
    return frame


def cycle_data(cd: ColumnDates, include_subtasks: bool = False) -> pd.DataFrame:
    """Per item: key, team, created/committed/done days, cycle and lead time in whole days."""
    cols = [
        "source",
        "item_id",
        "key",
        "team",
        "type",
        "column",
        "created_day",
        "committed_day",
        "done_day",
        "cycle_days",
        "lead_days",
        "completed",
    ]
    return flow_items(cd, include_subtasks)[cols].reset_index(drop=True)


def percentiles(values: Any, quantiles: Sequence[float] = QUANTILES) -> dict[float, float]:
    """Linear-interpolation percentiles (pandas default) of the non-missing values."""
    series = pd.Series(values, dtype="float64").dropna()
    if series.empty:
        return {q: float("nan") for q in quantiles}
    result = series.quantile(list(quantiles), interpolation="linear")
    return {q: float(result.loc[q]) for q in quantiles}


def cycle_time_percentiles(
    cd: ColumnDates,
    by: str | None = None,
    since: Any = None,
    quantiles: Sequence[float] = QUANTILES,
    metric: str = "cycle_days",
) -> pd.DataFrame:
    """p50/p85/p95 of cycle (or lead) time over completed items, overall or per ``by`` group."""
    done = completed_items(cd, since=since)
    done = done[done[metric].notna()]
    labels = [f"p{round(q * 100)}" for q in quantiles]
    groups: list[tuple[Any, pd.DataFrame]]
    groups = [("all", done)] if by is None else list(done.groupby(by, sort=True))
    rows = []
    for name, part in groups:
        ps = percentiles(part[metric].astype("float64"), quantiles)
        row: dict[str, Any] = {by or "scope": name, "count": len(part)}
        row.update({lab: ps[q] for lab, q in zip(labels, quantiles, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows, columns=[by or "scope", "count", *labels])


def estimates_at_as_of(cd: ColumnDates, changes: pd.DataFrame) -> pd.Series:
    """Each item's estimate as it stood at as_of (estimate change history, else current value)."""
    hist = FieldHistory.build(
        cd.items,
        changes,
        "estimate",
        current=cd.items["estimate"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    rows = np.arange(len(cd.items))
    values = hist.value_at(rows, np.full(len(rows), cd.as_of_ms, dtype=np.int64))
    return pd.Series(to_float(values), index=cd.items.index, name="estimate")
