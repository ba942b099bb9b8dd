"""Forecast calibration: share of past p85 (p50) dates met by the actual done date."""

from __future__ import annotations

import math

import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.calibration import forecast_calibration

from .factories import ts
from .test_snapshots import snap


def test_hit_rates_by_hand():
    snaps = F.build_frame(
        F.SNAPSHOT,
        [
            snap("2026-01-05", "R1", p50="2026-01-20", p85="2026-02-01"),  # done 01-25: p85 met
            snap("2026-01-05", "R2", p50="2026-01-25", p85="2026-01-31"),  # done 02-10: missed
            snap("2026-01-05", "R3", p50="2026-02-15", p85="2026-04-01"),  # open: pending
            snap("2026-01-05", "R4", status="done"),  # not a forecast
            snap("2026-01-05", "R5", p50=None, p85=None, p95=None),  # beyond the horizon
            snap("2026-01-05", "R6", remaining=0, p50="2026-01-05", p85="2026-01-05"),  # none left
            snap("2026-01-12", "R2", p50="2026-02-08", p85="2026-02-15"),  # met
            snap("2026-03-09", "R1", p85="2026-03-20"),  # after as_of: ignored
        ],
    )
    outcomes = pd.DataFrame(
        {
            "source": "jira",
            "roadmap_id": ["R1", "R2", "R3"],
            "done_at": pd.to_datetime(
                ["2026-01-25 10:00", "2026-02-10 10:00", "2026-03-05 10:00"], utc=True
            ),
        }
    )
    cal = forecast_calibration(snaps, outcomes, ts("2026-03-01 12:00"), "UTC")
    assert cal.resolved == 3
    assert math.isclose(cal.hit_rate_p85, 2 / 3)
    assert cal.hit_rate_p50 == 0.0  # all four p50 dates missed (R3 open after its p50)
    first = cal.by_snapshot.iloc[0]
    assert (first["met"], first["missed"], first["pending"]) == (1, 1, 1)
    detail = cal.detail.set_index(["snapshot_at", "roadmap_id"])
    assert detail.loc[(ts("2026-01-05"), "R3"), "p85_outcome"] == "pending"
    assert detail.loc[(ts("2026-01-05"), "R1"), "horizon_days"] == 27
