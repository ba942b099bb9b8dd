"""Forecast calibration: how often past p85 (and p50) dates were met by the actual done date."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frames import validate_snapshot
from .timeutil import as_utc, local_day, local_days


@dataclass(frozen=True)
class Calibration:
    """Per forecast outcome, per snapshot week, and overall hit rates."""

    detail: pd.DataFrame
    by_snapshot: pd.DataFrame
    hit_rate_p85: float
    hit_rate_p50: float
    resolved: int


def forecast_calibration(
    snapshots: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp, tz: str
) -> Calibration:
    """Compare stored p85/p50 dates of open roadmap items with when they were actually done.

    ``outcomes``: source, roadmap_id, done_at (UTC, NaT while open) as known at as_of, e.g.
    ``RoadmapScope.roadmap``. A forecast is a stored row of an open item with work remaining and
    a p85 date (nothing remaining forecasts "today", which says nothing). It is *met* when done
    on or before its date, *missed* when done later or still open after it, *pending* otherwise;
    hit rate = met / (met + missed).
    """
    validate_snapshot(snapshots)
    as_of = as_utc(as_of)
    today = local_day(as_of, tz)
    forecast = (
        (snapshots["snapshot_at"] <= as_of)
        & (snapshots["status"] != "done")
        & (snapshots["remaining"] > 0)
        & snapshots["p85"].notna()
    )
    snaps = snapshots[forecast].copy()
    done = outcomes[["source", "roadmap_id", "done_at"]].copy()
    done["done_at"] = pd.to_datetime(done["done_at"], utc=True)
    done.loc[done["done_at"] > as_of, "done_at"] = pd.NaT
    merged = snaps.merge(done, on=["source", "roadmap_id"], how="left", suffixes=("", "_actual"))
    merged["snapshot_day"] = local_days(merged["snapshot_at"], tz)
    merged["done_day"] = local_days(merged["done_at_actual"], tz)
    for q in ("p85", "p50"):
        day = local_days(merged[q], tz)
        merged[f"{q}_day"] = day
        met = merged["done_day"].notna() & (merged["done_day"] <= day)
        missed = (merged["done_day"].notna() & (merged["done_day"] > day)) | (
            merged["done_day"].isna() & (day < today)
        )
        merged[f"{q}_outcome"] = np.where(met, "met", np.where(missed, "missed", "pending"))
    merged["horizon_days"] = (merged["p85_day"] - merged["snapshot_day"]).dt.days
    detail = merged[
        [
            "snapshot_at",
            "source",
            "roadmap_id",
            "key",
            "team",
            "horizon_days",
            "p50_day",
            "p85_day",
            "done_day",
            "p50_outcome",
            "p85_outcome",
        ]
    ].reset_index(drop=True)

    def rate(frame: pd.DataFrame, q: str) -> float:
        col = frame[f"{q}_outcome"]
        resolved = int((col != "pending").sum())
        return float((col == "met").sum() / resolved) if resolved else float("nan")

    rows = []
    for when, part in detail.groupby("snapshot_at", sort=True):
        out = part["p85_outcome"]
        rows.append(
            {
                "snapshot_at": when,
                "forecasts": len(part),
                "met": int((out == "met").sum()),
                "missed": int((out == "missed").sum()),
                "pending": int((out == "pending").sum()),
                "hit_rate_p85": rate(part, "p85"),
                "hit_rate_p50": rate(part, "p50"),
            }
        )
    cols = ["snapshot_at", "forecasts", "met", "missed", "pending", "hit_rate_p85", "hit_rate_p50"]
    by_snapshot = pd.DataFrame(rows, columns=cols)
    resolved = int((detail["p85_outcome"] != "pending").sum())
    return Calibration(detail, by_snapshot, rate(detail, "p85"), rate(detail, "p50"), resolved)
