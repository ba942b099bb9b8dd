"""Cycle time, lead time, completed items and linear-interpolation percentiles."""

from __future__ import annotations

import math

import pandas as pd

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.flow import (
    completed_items,
    cycle_data,
    cycle_time_percentiles,
    estimates_at_as_of,
    percentiles,
)

from .factories import WF, changes, item, items, transitions, ts


def four_items(tz: str = "UTC"):
    """Cycle times 0, 2, 4, 10 days (team web: 0, 2, 4; team app: 10)."""
    its = items(
        item("a", "2026-03-01 09:00", "Done"),
        item("b", "2026-03-01 09:00", "Done"),
        item("c", "2026-03-01 09:00", "Done"),
        item("d", "2026-03-01 09:00", "Done", team="app"),
        item("e", "2026-03-01 09:00", "In Progress"),
        item("s", "2026-03-01 09:00", "Done", is_subtask=True),
    )
    trs = transitions(
        ("a", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("a", "2026-03-02 15:00", "In Progress", "Done"),
        ("b", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("b", "2026-03-04 10:00", "In Progress", "Done"),
        ("c", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("c", "2026-03-06 10:00", "In Progress", "Done"),
        ("d", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("d", "2026-03-12 10:00", "In Progress", "Done"),
        ("e", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("s", "2026-03-02 10:00", "Backlog", "Done"),
    )
    return column_dates(its, trs, WF, ts("2026-03-20"), tz)


def test_percentiles_use_linear_interpolation():
    ps = percentiles([0, 2, 4, 10])
    assert ps[0.5] == 3.0
    assert math.isclose(ps[0.85], 7.3)  # position 2.55: 4 + 0.55 * (10 - 4)
    assert math.isclose(ps[0.95], 9.1)


def test_percentiles_of_nothing_are_nan():
    assert all(math.isnan(v) for v in percentiles([]).values())


def test_cycle_time_percentiles_overall_and_by_team():
    cd = four_items()
    overall = cycle_time_percentiles(cd)
    assert int(overall["count"].iloc[0]) == 4  # the sub-task is excluded
    assert overall["p50"].iloc[0] == 3.0
    by_team = cycle_time_percentiles(cd, by="team").set_index("team")
    assert by_team.loc["web", "p50"] == 2.0
    assert by_team.loc["app", "p85"] == 10.0


def test_completed_items_ignore_resolution_and_can_be_windowed():
    cd = four_items()
    assert set(completed_items(cd)["item_id"]) == {"a", "b", "c", "d"}
    assert set(completed_items(cd, since="2026-03-05")["item_id"]) == {"c", "d"}
    assert set(completed_items(cd, include_subtasks=True)["item_id"]) == {"a", "b", "c", "d", "s"}


def test_cycle_data_lists_every_item_with_lead_time():
    data = cycle_data(four_items()).set_index("item_id")
    assert data.loc["d", "lead_days"] == 11
    assert pd.isna(data.loc["e", "cycle_days"])
    assert not bool(data.loc["e", "completed"])


def test_lead_time_percentiles():
    got = cycle_time_percentiles(four_items(), metric="lead_days")
    assert got["p50"].iloc[0] == 4.0  # lead times 1, 3, 5, 11


def test_estimate_as_of_comes_from_the_change_history():
    its = items(item("a", "2026-03-01 09:00", estimate=8.0), item("b", "2026-03-01 09:00"))
    ch = changes(
        ("a", "2026-03-02 10:00", "estimate", "", "3"),
        ("a", "2026-03-10 10:00", "estimate", "3", "8"),
    )
    cd = column_dates(its, transitions(), WF, ts("2026-03-05"), "UTC")
    est = estimates_at_as_of(cd, ch)
    assert est.iloc[0] == 3.0
    assert math.isnan(est.iloc[1])
    cd_before = column_dates(its, transitions(), WF, ts("2026-03-01 12:00"), "UTC")
    assert math.isnan(estimates_at_as_of(cd_before, ch).iloc[0])  # '' before the first change
