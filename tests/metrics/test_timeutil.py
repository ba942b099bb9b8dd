"""Calendar days in the report zone."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.reports.metrics.timeutil import (
    as_utc,
    day_start_utc,
    local_days,
    week_monday,
    whole_days,
)


def test_local_days_cross_midnight_in_berlin_and_across_dst():
    s = pd.Series(pd.to_datetime(["2026-03-05 23:30", "2026-03-29 22:30"], utc=True))
    got = local_days(s, "Europe/Berlin")
    assert list(got.dt.strftime("%Y-%m-%d")) == ["2026-03-06", "2026-03-30"]  # CET, then CEST


def test_whole_days_and_weeks():
    a = pd.Series(pd.to_datetime(["2026-03-08", "2026-03-09"]))
    b = pd.Series(pd.to_datetime(["2026-03-08", "2026-03-02"]))
    assert whole_days(a, b).tolist() == [0, 7]
    assert list(week_monday(a).dt.strftime("%m-%d")) == ["03-02", "03-09"]


def test_day_start_and_as_utc():
    assert day_start_utc("2026-03-06", "Europe/Berlin") == pd.Timestamp(
        "2026-03-05 23:00", tz="UTC"
    )
    with pytest.raises(ValueError):
        as_utc(pd.Timestamp("2026-03-06"))
