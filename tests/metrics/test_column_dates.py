"""Column dates follow jira-agile-metrics: first entry, backwards moves wipe, back-fill."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.workflow import Column, Workflow, WorkflowMap

from .factories import WF, item, items, transitions, ts

AS_OF = ts("2026-03-31 12:00")


def dates(cd, item_id: str) -> dict[str, str]:
    """Column -> local day (YYYY-MM-DD) for one item."""
    row = int(cd.items.index[cd.items["item_id"] == item_id][0])
    ent = cd.entries[cd.entries["row"] == row]
    return {c: d.strftime("%Y-%m-%d") for c, d in zip(ent["column"], ent["day"], strict=True)}


def one(cd, item_id: str) -> pd.Series:
    return cd.items[cd.items["item_id"] == item_id].iloc[0]


def test_straight_through_flow_gives_cycle_and_lead_time():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(
            ("1", "2026-03-03 10:00", "Backlog", "Ready"),
            ("1", "2026-03-04 10:00", "Ready", "In Progress"),
            ("1", "2026-03-06 10:00", "In Progress", "Review"),
            ("1", "2026-03-09 10:00", "Review", "Done"),
        ),
        WF,
        AS_OF,
        "UTC",
    )
    assert dates(cd, "1") == {
        "Backlog": "2026-03-02",
        "Ready": "2026-03-03",
        "In Progress": "2026-03-04",
        "Review": "2026-03-06",
        "Done": "2026-03-09",
    }
    row = one(cd, "1")
    assert row["cycle_days"] == 5  # 04 -> 09
    assert row["lead_days"] == 7  # 02 -> 09
    assert bool(row["completed"])


def test_review_bounce_keeps_first_entry_and_wipes_review():
    # In Progress 03-04, Review 03-05, back to In Progress 03-06 (wipes Review), Review 03-08
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(
            ("1", "2026-03-04 10:00", "Backlog", "In Progress"),
            ("1", "2026-03-05 10:00", "In Progress", "Review"),
            ("1", "2026-03-06 10:00", "Review", "In Progress"),
            ("1", "2026-03-08 10:00", "In Progress", "Review"),
            ("1", "2026-03-10 10:00", "Review", "Done"),
        ),
        WF,
        AS_OF,
        "UTC",
    )
    d = dates(cd, "1")
    assert d["In Progress"] == "2026-03-04"  # first entry is kept
    assert d["Review"] == "2026-03-08"  # set again after the wipe
    assert d["Ready"] == "2026-03-04"  # skipped: back-filled from In Progress
    assert one(cd, "1")["cycle_days"] == 6


def test_reopen_after_done_wipes_done_until_done_again():
    trs = [
        ("1", "2026-03-03 10:00", "Backlog", "In Progress"),
        ("1", "2026-03-05 10:00", "In Progress", "Done"),
        ("1", "2026-03-12 10:00", "Done", "In Progress"),
    ]
    reopened = column_dates(
        items(item("1", "2026-03-02 09:00", "In Progress")), transitions(*trs), WF, AS_OF, "UTC"
    )
    row = one(reopened, "1")
    assert not bool(row["completed"])
    assert pd.isna(row["done_at"])
    assert row["column"] == "In Progress"
    assert dates(reopened, "1")["In Progress"] == "2026-03-03"

    trs.append(("1", "2026-03-20 10:00", "In Progress", "Done"))
    redone = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")), transitions(*trs), WF, AS_OF, "UTC"
    )
    row = one(redone, "1")
    assert row["done_day"] == pd.Timestamp("2026-03-20")
    assert row["cycle_days"] == 17  # 03 -> 20: committed date is never wiped by Done


def test_skipped_columns_are_back_filled_from_the_next_later_date():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(("1", "2026-03-05 10:00", "Backlog", "Done")),
        WF,
        AS_OF,
        "UTC",
    )
    d = dates(cd, "1")
    assert d == {
        "Backlog": "2026-03-02",
        "Ready": "2026-03-05",
        "In Progress": "2026-03-05",
        "Review": "2026-03-05",
        "Done": "2026-03-05",
    }
    assert one(cd, "1")["cycle_days"] == 0


def test_same_day_moves_give_zero_cycle_time():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(
            ("1", "2026-03-04 09:00", "Backlog", "In Progress"),
            ("1", "2026-03-04 11:00", "In Progress", "Review"),
            ("1", "2026-03-04 17:00", "Review", "Done"),
        ),
        WF,
        AS_OF,
        "UTC",
    )
    assert one(cd, "1")["cycle_days"] == 0
    assert one(cd, "1")["lead_days"] == 2


def test_unmapped_status_is_reported_and_otherwise_ignored():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(
            ("1", "2026-03-03 10:00", "Backlog", "In Progress"),
            ("1", "2026-03-04 10:00", "In Progress", "Waiting for QA"),
            ("1", "2026-03-05 10:00", "Waiting for QA", "Done"),
        ),
        WF,
        AS_OF,
        "UTC",
    )
    assert one(cd, "1")["cycle_days"] == 2  # the unmapped move neither wipes nor sets a date
    um = cd.unmapped
    assert list(um["status"]) == ["Waiting for QA"]
    assert int(um["items"].iloc[0]) == 1
    assert int(um["events"].iloc[0]) == 1


def test_item_in_unmapped_status_keeps_its_last_mapped_column():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "On Hold")),
        transitions(
            ("1", "2026-03-03 10:00", "Backlog", "In Progress"),
            ("1", "2026-03-04 10:00", "In Progress", "On Hold"),
        ),
        WF,
        AS_OF,
        "UTC",
    )
    assert one(cd, "1")["column"] == "In Progress"


def test_day_boundaries_use_the_report_zone():
    # 23:30 UTC on 03-05 is 00:30 on 03-06 in Berlin (CET, UTC+1)
    its = items(item("1", "2026-03-02 09:00", "Done"))
    trs = transitions(
        ("1", "2026-03-05 23:30", "Backlog", "In Progress"),
        ("1", "2026-03-06 10:00", "In Progress", "Done"),
    )
    utc = column_dates(its, trs, WF, AS_OF, "UTC")
    berlin = column_dates(its, trs, WF, AS_OF, "Europe/Berlin")
    assert one(utc, "1")["committed_day"] == pd.Timestamp("2026-03-05")
    assert one(utc, "1")["cycle_days"] == 1
    assert one(berlin, "1")["committed_day"] == pd.Timestamp("2026-03-06")
    assert one(berlin, "1")["cycle_days"] == 0
    assert one(berlin, "1")["committed_at"] == ts("2026-03-05 23:30")  # full instant kept


def test_as_of_ignores_later_transitions_and_later_items():
    its = items(
        item("1", "2026-03-02 09:00", "Done"),
        item("2", "2026-03-20 09:00", "Backlog"),  # created after as_of
    )
    trs = transitions(
        ("1", "2026-03-03 10:00", "Backlog", "In Progress"),
        ("1", "2026-03-18 10:00", "In Progress", "Done"),
    )
    cd = column_dates(its, trs, WF, ts("2026-03-10 00:00"), "UTC")
    assert list(cd.items["item_id"]) == ["1"]
    row = one(cd, "1")
    assert row["column"] == "In Progress"
    assert not bool(row["completed"])


def test_initial_status_is_the_from_status_of_the_first_transition():
    # current status Done, but created in Ready: the first transition says so
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(("1", "2026-03-09 10:00", "Ready", "Done")),
        WF,
        ts("2026-03-05"),
        "UTC",
    )
    row = one(cd, "1")
    assert row["column"] == "Ready"  # at as_of the item was still in its initial status
    assert dates(cd, "1") == {"Backlog": "2026-03-02", "Ready": "2026-03-02"}


def test_item_without_transitions_sits_in_its_current_status():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "In Progress")), transitions(), WF, AS_OF, "UTC"
    )
    row = one(cd, "1")
    assert row["column"] == "In Progress"
    assert row["committed_day"] == pd.Timestamp("2026-03-02")


def test_deleted_items_disappear_after_their_deletion_only():
    its = items(item("1", "2026-03-02 09:00", deleted_at="2026-03-15 00:00"))
    assert len(column_dates(its, transitions(), WF, ts("2026-03-10"), "UTC").items) == 1
    assert len(column_dates(its, transitions(), WF, ts("2026-03-20"), "UTC").items) == 0


def test_per_project_workflows():
    ops = Workflow(
        columns=[
            Column("Open", ["Open"]),
            Column("Doing", ["Doing"]),
            Column("Closed", ["Closed"]),
        ],
        committed="Doing",
        done="Closed",
    )
    wmap = WorkflowMap(defaults={"jira": WF}, projects={("jira", "OPS"): ops})
    its = items(
        item("1", "2026-03-02 09:00", "Done"),
        item("2", "2026-03-02 09:00", "Closed", project="OPS"),
    )
    trs = transitions(
        ("1", "2026-03-03 10:00", "Backlog", "In Progress"),
        ("1", "2026-03-05 10:00", "In Progress", "Done"),
        ("2", "2026-03-03 10:00", "Open", "Doing"),
        ("2", "2026-03-04 10:00", "Doing", "Closed"),
    )
    cd = column_dates(its, trs, wmap, AS_OF, "UTC")
    assert one(cd, "1")["workflow"] == "jira:*"
    assert one(cd, "2")["workflow"] == "jira:OPS"
    assert one(cd, "1")["cycle_days"] == 2
    assert one(cd, "2")["cycle_days"] == 1


def test_status_matching_is_case_insensitive():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "done")),
        transitions(("1", "2026-03-03 10:00", "backlog", "IN PROGRESS")),
        WF,
        AS_OF,
        "UTC",
    )
    assert one(cd, "1")["column"] == "In Progress"


def test_naive_as_of_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        column_dates(items(), transitions(), WF, pd.Timestamp("2026-03-01"), "UTC")


def test_positions_and_done_at_instants():
    cd = column_dates(
        items(item("1", "2026-03-02 09:00", "Done")),
        transitions(
            ("1", "2026-03-03 10:00", "Backlog", "Done"),
            ("1", "2026-03-04 10:00", "Done", "In Progress"),
            ("1", "2026-03-06 10:00", "In Progress", "Done"),
        ),
        WF,
        AS_OF,
        "UTC",
    )
    import numpy as np

    from pulse.reports.metrics.timeutil import to_ms

    times = to_ms(
        pd.Series(
            pd.to_datetime(
                ["2026-03-01 00:00", "2026-03-03 12:00", "2026-03-05 00:00", "2026-03-07 00:00"],
                utc=True,
            )
        )
    )
    rows = np.zeros(4, dtype=np.int64)
    assert list(cd.positions_at(rows, times)) == [-1, 4, 2, 4]
    assert list(cd.done_at_times(rows, times)) == [False, True, False, True]
    last = cd.last_done_entry(rows, times)
    assert last[3] == to_ms(pd.Series([ts("2026-03-06 10:00")]))[0]
