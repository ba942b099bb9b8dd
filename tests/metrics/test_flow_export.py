"""The flow export's rows, worked by hand: one date per workflow column, as flow tools read them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.flow_export import LEADING, TRAILING, flow_table, stage_columns
from pulse.reports.metrics.workflow import Column, Workflow
from pulse.store.export import write_csv

from .factories import WF, item, items, transitions, ts

STAGES = ["Backlog", "Ready", "In Progress", "Review", "Done"]


def export(as_of: str = "2026-03-12 12:00", tz: str = "Europe/Berlin") -> dict[str, dict]:
    cd = column_dates(
        items(
            item("1", "2026-03-02 10:00", "Done"),
            item("2", "2026-03-03 10:00", "In Progress"),
            item("3", "2026-03-03 10:00", "Done", type="Sub-task", is_subtask=True),
            item("4", "2026-03-09 23:30", "Done"),
            item("5", "2026-03-01 10:00", "In Progress"),
            item("6", "2026-03-20 10:00", "Backlog"),
        ),
        transitions(
            # review bounce: Review is wiped on 03-06 and set again on 03-08
            ("1", "2026-03-04 10:00", "Backlog", "In Progress"),
            ("1", "2026-03-05 10:00", "In Progress", "Review"),
            ("1", "2026-03-06 10:00", "Review", "In Progress"),
            ("1", "2026-03-08 10:00", "In Progress", "Review"),
            ("1", "2026-03-10 10:00", "Review", "Done"),
            ("2", "2026-03-05 10:00", "Backlog", "In Progress"),
            ("3", "2026-03-04 10:00", "Backlog", "Done"),
            ("4", "2026-03-11 08:00", "Backlog", "Done"),
            ("5", "2026-03-15 10:00", "Backlog", "In Progress"),  # after as_of
        ),
        WF,
        ts(as_of),
        tz,
    )
    table = flow_table(cd)
    assert list(table.columns) == [*LEADING, *STAGES, *TRAILING]
    return {row["key"]: row for row in table.to_dict("records")}


def test_rows_carry_every_column_date_and_the_flow_times():
    rows = export()
    assert rows["WEB-1"] == {
        "source": "jira",
        "key": "WEB-1",
        "title": "item 1",
        "type": "Story",
        "status": "Done",
        "created": "2026-03-02",
        "Backlog": "2026-03-02",
        "Ready": "2026-03-04",  # skipped: back-filled from In Progress
        "In Progress": "2026-03-04",
        "Review": "2026-03-08",  # wiped by the bounce, set again
        "Done": "2026-03-10",
        "cycle_time_days": 6,
        "lead_time_days": 8,
        "completed": True,
    }


def test_columns_not_reached_are_empty():
    row = export()["WEB-2"]
    assert (row["In Progress"], row["Review"], row["Done"]) == ("2026-03-05", None, None)
    assert (row["cycle_time_days"], row["lead_time_days"], row["completed"]) == (None, None, False)


def test_days_are_report_zone_days():
    row = export()["WEB-4"]  # created 23:30 UTC on 03-09: 03-10 in Berlin
    assert (row["created"], row["Done"], row["lead_time_days"]) == ("2026-03-10", "2026-03-11", 1)
    assert export(tz="UTC")["WEB-4"]["created"] == "2026-03-09"


def test_status_and_items_are_as_known_at_as_of():
    rows = export()
    assert rows["WEB-5"]["status"] == "Backlog"  # moves to In Progress only on 03-15
    assert rows["WEB-5"]["In Progress"] is None
    assert "WEB-6" not in rows  # created after as_of
    assert "WEB-3" not in rows  # sub-task


def test_rows_are_ordered_by_source_and_creation():
    assert list(export()) == ["WEB-5", "WEB-1", "WEB-2", "WEB-4"]


def test_workflows_with_different_columns_are_merged_in_order():
    a = Workflow([Column(n, [n]) for n in ("Backlog", "Ready", "Doing", "Done")], "Doing", "Done")
    b = Workflow([Column(n, [n]) for n in ("Backlog", "Doing", "QA", "Done")], "Doing", "Done")
    assert stage_columns([a, b]) == ["Backlog", "Ready", "Doing", "QA", "Done"]
    assert stage_columns([b, a]) == ["Backlog", "Ready", "Doing", "QA", "Done"]


def test_a_column_named_like_an_export_column_is_refused():
    clash = Workflow([Column("status", ["Open"]), Column("Done", ["Done"])], "status", "Done")
    with pytest.raises(ValueError, match="status"):
        stage_columns([clash])


def test_the_documented_example_is_what_the_export_writes():
    docs = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    text = docs.read_text(encoding="utf-8").split("## Flow export", 1)[1]
    documented = text.split("```\n", 2)[1]
    rows = export()
    out = io.StringIO()
    write_csv(list(next(iter(rows.values()))), [tuple(r.values()) for r in rows.values()], out)
    assert out.getvalue().replace("\r\n", "\n") == documented
