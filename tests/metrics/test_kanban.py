"""Boards without sprints report weekly throughput in items and points."""

from __future__ import annotations

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.flow import estimates_at_as_of
from pulse.reports.metrics.kanban import board_throughput

from .factories import WF, changes, frame, item, items, transitions, ts


def test_only_sprintless_boards_report_items_and_points():
    its = items(
        item("1", "2026-03-01 09:00", "Done", team="ops", estimate=3, project="b1"),
        item("2", "2026-03-01 09:00", "Done", team="ops", project="b1"),
        item("3", "2026-03-01 09:00", "Done", team="web", estimate=5),
        item("E", "2026-03-01 09:00", "Done", team="ops", type="Epic", estimate=13, project="b1"),
        item("R", "2026-03-01 09:00", "Done", team="ops", type="Roadmap", project="road"),
    )
    trs = transitions(
        ("1", "2026-03-03 10:00", "Backlog", "Done"),
        ("2", "2026-03-11 10:00", "Backlog", "Done"),
        ("3", "2026-03-03 10:00", "Backlog", "Done"),
        ("E", "2026-03-03 10:00", "Backlog", "Done"),
        ("R", "2026-03-03 10:00", "Backlog", "Done"),
    )
    cd = column_dates(its, trs, WF, ts("2026-03-12"), "UTC")
    boards = frame(
        F.BOARDS,
        {"source": "trello", "board_id": "b1", "name": "Ops", "type": "trello", "team": "ops"},
        # The team's roadmap board holds roadmap cards only: it has no throughput of its own.
        {"source": "trello", "board_id": "road", "name": "Road", "type": "trello", "team": "ops"},
        {"source": "jira", "board_id": "10", "name": "Web", "type": "scrum", "team": "web"},
    )
    sprints = frame(
        F.SPRINTS,
        {
            "source": "jira",
            "sprint_id": "1",
            "board_id": "10",
            "name": "S1",
            "state": "active",
            "start": "2026-03-02",
            "end": "2026-03-16",
            "complete": None,
        },
    )
    got = board_throughput(cd, boards, sprints, points=estimates_at_as_of(cd, changes()))
    assert set(got["board_id"]) == {"b1"}, "no roadmap board showing its team's throughput"
    assert list(got["items"]) == [1, 1]  # the epic is not counted
    assert list(got["points"]) == [3.0, 0.0]  # unestimated items add no points
    assert list(got["week"].dt.strftime("%m-%d")) == ["03-02", "03-09"]
