"""Sprint report and velocity, checked issue by issue against a hand-worked two-sprint story.

Sprint 1 (board 10): start 2026-03-02 09:00, completed 2026-03-13 17:00.
Sprint 2: start 2026-03-16 09:00, still active at as_of 2026-03-20.

A  est 3, in sprint 1 before start, done 03-05          -> committed 3, completed 3
B  est 5 at start, re-estimated to 8 on 03-04, not done -> committed 5, not completed 8;
   carried over into sprint 2 at completion            -> sprint 2 committed 8
C  est 2, added 03-05, done 03-10                      -> added 2, completed 2
D  est 1, in at start, removed 03-06                   -> committed 1, removed 1
E  est 5, done 02-27 (before the start), still in      -> completed outside (not committed)
F  sub-task in sprint 1                                -> excluded everywhere
G  created 03-09 directly in sprint 1, no estimate     -> added 0, not completed 0
H  est 2, added 03-06 and removed 03-09                -> added 2 and removed 2
"""

from __future__ import annotations

import math

import pytest

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.sprints import sprint_report, velocity

from .factories import WF, changes, frame, item, items, transitions, ts

BOARD = frame(
    F.BOARDS, {"source": "jira", "board_id": "10", "name": "Web", "type": "scrum", "team": "web"}
)


def sprint(sid: str, start: str, end: str, complete: str | None, state: str) -> dict:
    return {
        "source": "jira",
        "sprint_id": sid,
        "board_id": "10",
        "name": f"S{sid}",
        "state": state,
        "start": start,
        "end": end,
        "complete": complete,
    }


def member(*pairs: tuple[str, str]):
    return frame(
        F.ITEM_SPRINTS, *[{"source": "jira", "item_id": i, "sprint_id": s} for i, s in pairs]
    )


def story():
    its = items(
        item("A", "2026-02-20 09:00", "Done", estimate=3),
        item("B", "2026-02-20 09:00", "In Progress", estimate=8),
        item("C", "2026-03-01 09:00", "Done", estimate=2),
        item("D", "2026-02-20 09:00", estimate=1),
        item("E", "2026-02-20 09:00", "Done", estimate=5),
        item("F", "2026-02-20 09:00", estimate=1, is_subtask=True),
        item("G", "2026-03-09 09:00"),
        item("H", "2026-02-20 09:00", estimate=2),
    )
    trs = transitions(
        ("A", "2026-03-03 10:00", "Backlog", "In Progress"),
        ("A", "2026-03-05 10:00", "In Progress", "Done"),
        ("B", "2026-03-03 10:00", "Backlog", "In Progress"),
        ("C", "2026-03-06 10:00", "Backlog", "In Progress"),
        ("C", "2026-03-10 10:00", "In Progress", "Done"),
        ("E", "2026-02-27 10:00", "Backlog", "Done"),
    )
    ch = changes(
        ("A", "2026-02-25 10:00", "sprint", "", "1"),
        ("B", "2026-02-25 10:00", "sprint", "", "1"),
        ("D", "2026-02-25 10:00", "sprint", "", "1"),
        ("E", "2026-02-25 10:00", "sprint", "", "1"),
        ("F", "2026-02-25 10:00", "sprint", "", "1"),
        ("C", "2026-03-05 10:00", "sprint", "", "1"),
        ("D", "2026-03-06 10:00", "sprint", "1", ""),
        ("H", "2026-03-06 10:00", "sprint", "", "1"),
        ("H", "2026-03-09 10:00", "sprint", "1", ""),
        ("B", "2026-03-13 17:00", "sprint", "1", "1,2"),
        ("B", "2026-02-21 10:00", "estimate", "", "5"),
        ("B", "2026-03-04 10:00", "estimate", "5", "8"),
    )
    sps = frame(
        F.SPRINTS,
        sprint("1", "2026-03-02 09:00", "2026-03-13 17:00", "2026-03-13 17:00", "closed"),
        sprint("2", "2026-03-16 09:00", "2026-03-27 17:00", None, "active"),
    )
    isp = member(("A", "1"), ("B", "1"), ("B", "2"), ("C", "1"), ("E", "1"), ("F", "1"), ("G", "1"))
    return its, trs, ch, sps, isp


def report(as_of="2026-03-20 12:00", statistic=None):
    its, trs, ch, sps, isp = story()
    cd = column_dates(its, trs, WF, ts(as_of), "UTC")
    return sprint_report(cd, ch, sps, isp, BOARD, statistic)


def test_categories_match_the_hand_worked_sprint():
    r = report()
    assert r.ids("1", "committed") == {"A", "B", "D"}
    assert r.ids("1", "added") == {"C", "G", "H"}
    assert r.ids("1", "removed") == {"D", "H"}
    assert r.ids("1", "completed") == {"A", "C"}
    assert r.ids("1", "not_completed") == {"B", "G"}
    assert r.ids("1", "completed_outside") == {"E"}


def test_values_use_estimates_as_they_stood():
    row = report().row("1")
    assert row["statistic"] == "estimate"
    assert row["committed"] == 9.0  # A 3 + B 5 (at start) + D 1
    assert row["added"] == 4.0  # C 2 + G 0 + H 2 (estimates when added)
    assert row["removed"] == 3.0  # D 1 + H 2
    assert row["completed"] == 5.0  # A 3 + C 2
    assert row["not_completed"] == 8.0  # B re-estimated to 8
    assert row["completed_outside"] == 5.0
    assert math.isclose(row["say_do"], 3 / 9)  # only A was committed and completed
    assert math.isclose(row["capacity_accuracy"], 5 / 9)
    assert row["state_at"] == "closed"


def test_carry_over_is_committed_in_the_next_sprint():
    r = report()
    assert r.ids("2", "committed") == {"B"}
    assert r.row("2")["committed"] == 8.0
    assert r.row("2")["state_at"] == "active"
    assert r.ids("2", "not_completed") == {"B"}


def test_sub_tasks_are_excluded():
    r = report()
    assert "F" not in set(r.items["item_id"])


def test_count_fallback_counts_issues():
    row = report(statistic={("jira", "10"): "count"}).row("1")
    assert row["statistic"] == "count"
    assert row["committed"] == 3.0
    assert row["completed"] == 2.0
    assert row["added"] == 3.0


def test_board_without_any_estimate_falls_back_to_count():
    its, trs, ch, sps, isp = story()
    its["estimate"] = float("nan")
    ch = ch[ch["field"] != "estimate"]
    cd = column_dates(its, trs, WF, ts("2026-03-20 12:00"), "UTC")
    row = sprint_report(cd, ch, sps, isp, BOARD).row("1")
    assert row["statistic"] == "count"
    assert row["committed"] == 3.0


def test_as_of_during_sprint_one_reports_it_as_active_so_far():
    r = report(as_of="2026-03-07 12:00")
    assert r.row("1")["state_at"] == "active"
    assert r.ids("1", "completed") == {"A"}
    assert r.ids("1", "added") == {"C", "H"}  # G does not exist yet
    assert r.ids("1", "removed") == {"D"}
    assert "2" not in set(r.rows["sprint_id"])  # not started at as_of


def test_velocity_is_the_mean_of_the_last_three_closed_sprints():
    import pandas as pd

    rows = pd.DataFrame(
        {
            "source": "jira",
            "board_id": "10",
            "team": "web",
            "statistic": "estimate",
            "sprint_id": ["1", "2", "3", "4", "5"],
            "state_at": ["closed"] * 4 + ["active"],
            "completed_at": pd.to_datetime(
                ["2026-01-01", "2026-01-15", "2026-01-29", "2026-02-12", "2026-02-20"], utc=True
            ),
            "committed": [10.0, 10.0, 10.0, 10.0, 10.0],
            "completed": [4.0, 8.0, 10.0, 12.0, 99.0],
        }
    )
    got = velocity(rows).iloc[0]
    assert got["velocity"] == pytest.approx(10.0)  # (8 + 10 + 12) / 3; active sprint ignored
    assert got["sprints_used"] == ["2", "3", "4"]
    assert got["chart_sprints"] == ["1", "2", "3", "4"]
