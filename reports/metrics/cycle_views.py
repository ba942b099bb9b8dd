"""Cycle-time views: each delivered item's cycle time (the scatterplot) and its histogram."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import completed_items

MAX_BINS = 20  # a histogram wider than this groups days into wider bins


def delivered_cycle_times(cd: ColumnDates, since: Any) -> pd.DataFrame:
    """Items done on or after ``since`` with a cycle time, oldest first: what the scatterplot
    plots, one point per item (done day, cycle days) — the items the team percentiles count."""
    done = completed_items(cd, since=since)
    done = done[done["cycle_days"].notna()]
    cols = ["source", "item_id", "key", "team", "type", "done_day", "cycle_days"]
    out = done[cols].copy()
    out["cycle_days"] = out["cycle_days"].astype("int64")
    return out.sort_values(["done_day", "key"], kind="stable").reset_index(drop=True)


def bin_width(longest: int, max_bins: int = MAX_BINS) -> int:
    """Days per bin: 1 while every cycle time fits in ``max_bins`` bins, else the smallest width
    that does."""
    return max(1, -(-(longest + 1) // max_bins))


def cycle_histogram(points: pd.DataFrame, by: str = "team") -> pd.DataFrame:
    """Per group, delivered items per cycle-time bin from 0 days to the longest, empty bins
    included: ``by``, bin_start, bin_end (inclusive days), label, items. The items of a group
    sum to its delivered count."""
    rows: list[dict[str, Any]] = []
    for group, part in points.groupby(by, sort=True):
        days = part["cycle_days"].to_numpy(dtype=np.int64)
        width = bin_width(int(days.max()))
        counts = np.bincount(days // width)
        for i, n in enumerate(counts.tolist()):
            start, end = i * width, i * width + width - 1
            label = str(start) if width == 1 else f"{start}–{end}"
            rows.append(
                {by: group, "bin_start": start, "bin_end": end, "label": label, "items": int(n)}
            )
    return pd.DataFrame(rows, columns=[by, "bin_start", "bin_end", "label", "items"])
