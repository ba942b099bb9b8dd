"""Ageing WIP: committed but not done, age in days, flagged above the team's p85."""

from __future__ import annotations

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.wip import ageing_wip, wip_items

from .factories import WF, item, items, transitions, ts


def test_ageing_wip_flags_items_older_than_p85():
    its = items(
        item("d1", "2026-03-01 09:00", "Done"),
        item("d2", "2026-03-01 09:00", "Done"),
        item("old", "2026-03-01 09:00", "Review"),
        item("new", "2026-03-01 09:00", "In Progress"),
        item("todo", "2026-03-01 09:00", "Ready"),
    )
    trs = transitions(
        ("d1", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("d1", "2026-03-04 10:00", "In Progress", "Done"),  # 2 days
        ("d2", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("d2", "2026-03-06 10:00", "In Progress", "Done"),  # 4 days -> p85 = 3.7
        ("old", "2026-03-10 10:00", "Backlog", "Review"),  # age 10 on 03-20
        ("new", "2026-03-18 10:00", "Backlog", "In Progress"),  # age 2
        ("todo", "2026-03-18 10:00", "Backlog", "Ready"),  # not committed
    )
    cd = column_dates(its, trs, WF, ts("2026-03-20 12:00"), "UTC")
    assert set(wip_items(cd)["item_id"]) == {"old", "new"}
    got = ageing_wip(cd).set_index("item_id")
    assert got.loc["old", "age_days"] == 10
    assert got.loc["new", "age_days"] == 2
    assert round(float(got.loc["old", "p85_days"]), 2) == 3.7
    assert bool(got.loc["old", "over_p85"])
    assert not bool(got.loc["new", "over_p85"])


def test_no_completed_items_means_no_flag():
    its = items(item("x", "2026-03-01 09:00", "In Progress"))
    cd = column_dates(its, transitions(), WF, ts("2026-03-20"), "UTC")
    assert not bool(ageing_wip(cd)["over_p85"].iloc[0])


def test_epics_roadmap_cards_and_archived_cards_are_not_work_in_progress():
    its = items(
        item("s", "2026-03-01 09:00", "In Progress"),
        item("e", "2026-03-01 09:00", "In Progress", type="Epic"),
        item("r", "2026-03-01 09:00", "In Progress", type="Roadmap"),
        item("a", "2026-03-01 09:00", "In Progress"),
    )
    its["archived"] = [False, False, False, True]
    trs = transitions(*[(i, "2026-03-02 10:00", "Backlog", "In Progress") for i in "sera"])
    cd = column_dates(its, trs, WF, ts("2026-03-20 12:00"), "UTC")
    assert set(wip_items(cd)["item_id"]) == {"s"}
    assert set(ageing_wip(cd)["item_id"]) == {"s"}
