"""Blocked time: flagged calendar days while between committed and done."""

from __future__ import annotations

import pandas as pd

from pulse.reports.metrics.blocked import blocked_time
from pulse.reports.metrics.column_dates import column_dates

from .factories import WF, changes, item, items, transitions, ts


def setup(flags, as_of="2026-03-20 12:00", tz="UTC"):
    its = items(item("1", "2026-03-01 09:00", "Done"), item("2", "2026-03-01 09:00", "Backlog"))
    trs = transitions(
        ("1", "2026-03-04 10:00", "Backlog", "In Progress"),
        ("1", "2026-03-12 10:00", "In Progress", "Done"),
    )
    cd = column_dates(its, trs, WF, ts(as_of), tz)
    return blocked_time(cd, changes(*flags)).set_index("item_id")


def test_flag_period_inside_the_cycle_counts_calendar_days():
    got = setup(
        [
            ("1", "2026-03-05 10:00", "flagged", "", "Impediment"),
            ("1", "2026-03-08 09:00", "flagged", "Impediment", ""),
        ]
    )
    assert got.loc["1", "blocked_days"] == 3  # 05 -> 08
    assert not bool(got.loc["1", "flagged_now"])


def test_flag_is_clipped_to_committed_and_done():
    got = setup(
        [
            ("1", "2026-03-02 10:00", "flagged", "", "Impediment"),  # before committed (03-04)
            ("1", "2026-03-06 10:00", "flagged", "Impediment", ""),
            ("1", "2026-03-10 10:00", "flagged", "", "Impediment"),  # never cleared: ends at done
        ]
    )
    assert got.loc["1", "blocked_days"] == 2 + 2  # 04->06 and 10->12
    assert bool(got.loc["1", "flagged_now"])


def test_items_never_committed_have_no_blocked_time_but_can_be_flagged_now():
    got = setup([("2", "2026-03-05 10:00", "flagged", "", "Impediment")])
    assert got.loc["2", "blocked_days"] == 0
    assert bool(got.loc["2", "flagged_now"])
    assert got.loc["2", "flagged_since"] == ts("2026-03-05 10:00")


def test_flags_after_as_of_are_ignored():
    got = setup([("1", "2026-03-05 10:00", "flagged", "", "Impediment")], as_of="2026-03-04 12:00")
    assert got.loc["1", "blocked_days"] == 0
    assert not bool(got.loc["1", "flagged_now"])


def test_flag_set_at_creation_comes_from_the_first_from_value():
    got = setup([("1", "2026-03-07 10:00", "flagged", "Impediment", "")])
    assert got.loc["1", "blocked_days"] == 3  # committed 03-04 -> cleared 03-07
    assert pd.isna(got.loc["1", "flagged_since"])


def test_a_flag_cleared_exactly_at_as_of_is_not_flagged_now():
    got = setup(
        [
            ("2", "2026-03-05 10:00", "flagged", "", "Impediment"),
            ("2", "2026-03-20 12:00", "flagged", "Impediment", ""),
        ]
    )
    assert not bool(got.loc["2", "flagged_now"])
