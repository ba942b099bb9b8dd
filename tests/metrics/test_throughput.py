"""Throughput per ISO week (Monday label, empty weeks 0) and per day; forecast samples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.throughput import throughput, throughput_samples

from .factories import WF, item, items, transitions, ts


def done_on(*days: str, tz: str = "UTC", as_of: str = "2026-03-27 12:00"):
    its = items(
        *[item(str(i), "2026-03-01 09:00", "Done", estimate=float(i + 1)) for i in range(len(days))]
    )
    trs = transitions(*[(str(i), d, "Backlog", "Done") for i, d in enumerate(days)])
    return column_dates(its, trs, WF, ts(as_of), tz)


def test_weekly_throughput_is_labelled_by_monday_with_empty_weeks():
    cd = done_on("2026-03-04 10:00", "2026-03-08 10:00", "2026-03-09 10:00", "2026-03-25 10:00")
    got = throughput(cd)
    assert list(got["week"].dt.strftime("%Y-%m-%d")) == [
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
    ]
    assert list(got["items"]) == [2, 1, 0, 1]  # Sunday 03-08 still belongs to week 03-02


def test_week_boundary_in_the_report_zone():
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: the item moves to the next week
    cd = done_on("2026-03-04 10:00", "2026-03-08 23:30", tz="Europe/Berlin")
    assert list(throughput(cd)["items"])[:2] == [1, 1]


def test_points_sum_estimates():
    cd = done_on("2026-03-04 10:00", "2026-03-05 10:00")
    pts = pd.Series(cd.items["estimate"].to_numpy(), index=cd.items.index)
    got = throughput(cd, points=pts)
    assert got["points"].iloc[0] == 3.0  # 1 + 2


def test_daily_throughput_fills_empty_days():
    cd = done_on("2026-03-24 10:00", "2026-03-26 10:00", "2026-03-26 11:00")
    got = throughput(cd, period="day")
    assert list(got["items"]) == [1, 0, 2, 0]  # 24, 25, 26, 27 (as_of day)


def test_throughput_by_team_has_every_team_and_week():
    its = items(
        item("1", "2026-03-01 09:00", "Done"),
        item("2", "2026-03-01 09:00", "Done", team="app"),
    )
    trs = transitions(
        ("1", "2026-03-03 10:00", "Backlog", "Done"),
        ("2", "2026-03-10 10:00", "Backlog", "Done"),
    )
    cd = column_dates(its, trs, WF, ts("2026-03-12"), "UTC")
    got = throughput(cd, by="team").set_index(["team", "week"])["items"]
    assert got[("app", pd.Timestamp("2026-03-02"))] == 0
    assert got[("web", pd.Timestamp("2026-03-09"))] == 0
    assert got[("app", pd.Timestamp("2026-03-09"))] == 1


def test_samples_are_the_last_complete_weeks_only():
    cd = done_on("2026-03-04 10:00", "2026-03-08 10:00", "2026-03-09 10:00", "2026-03-25 10:00")
    samples = throughput_samples(cd, weeks=3)
    np.testing.assert_array_equal(samples["web"], [2, 1, 0])  # week of 03-23 is partial


def test_daily_samples_end_yesterday():
    cd = done_on("2026-03-26 10:00", "2026-03-27 10:00")
    samples = throughput_samples(cd, weeks=1, period="day")
    assert len(samples["web"]) == 7
    assert samples["web"][-1] == 1  # 03-26; as_of day 03-27 is partial and left out
