"""Cumulative flow: per day, items whose back-filled column date is on or before the day."""

from __future__ import annotations

from pulse.reports.metrics.cfd import cumulative_flow
from pulse.reports.metrics.column_dates import column_dates

from .factories import WF, item, items, transitions, ts


def test_cfd_counts_back_filled_dates():
    its = items(item("1", "2026-03-01 09:00", "Done"), item("2", "2026-03-02 09:00", "Review"))
    trs = transitions(
        ("1", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("1", "2026-03-03 10:00", "In Progress", "Done"),
        ("2", "2026-03-03 10:00", "Backlog", "Review"),  # skips Ready and In Progress
    )
    cd = column_dates(its, trs, WF, ts("2026-03-04 12:00"), "UTC")
    cfd = cumulative_flow(cd)
    assert list(cfd.index.strftime("%d")) == ["01", "02", "03", "04"]
    assert list(cfd["Backlog"]) == [1, 2, 2, 2]
    assert list(cfd["In Progress"]) == [0, 1, 2, 2]  # item 2 back-filled on 03-03
    assert list(cfd["Review"]) == [0, 0, 2, 2]
    assert list(cfd["Done"]) == [0, 0, 1, 1]


def test_cfd_drops_a_date_wiped_by_a_backwards_move():
    its = items(item("1", "2026-03-01 09:00", "In Progress"))
    trs = transitions(
        ("1", "2026-03-02 10:00", "Backlog", "Done"),
        ("1", "2026-03-03 10:00", "Done", "In Progress"),
    )
    cfd = cumulative_flow(column_dates(its, trs, WF, ts("2026-03-04"), "UTC"))
    assert int(cfd["Done"].iloc[-1]) == 0
    assert int(cfd["In Progress"].iloc[-1]) == 1
