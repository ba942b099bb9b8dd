"""Item stories: each item's engine facts as of the as-of, as `pulse show` prints them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.blocked import flag_intervals
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.flow import estimates_at_as_of
from pulse.reports.metrics.item_story import item_stories

from .factories import WF, changes, frame, item, items, transitions, ts

AS_OF = "2026-03-20 12:00"


def stories(chg: pd.DataFrame, item_sprints=None, item_versions=None) -> pd.DataFrame:
    its = items(
        item("1", "2026-03-01 09:00", "Done", parent_key="WEB-9", estimate=5.0),
        item("2", "2026-03-02 09:00", "In Progress"),
        item("3", "2026-03-03 09:00", "Backlog"),
        item("4", "2026-03-03 09:00", "Waiting"),  # a status no column maps
    )
    trs = transitions(
        ("1", "2026-03-04 10:00", "Backlog", "In Progress"),
        ("1", "2026-03-12 10:00", "In Progress", "Done"),
        ("2", "2026-03-10 10:00", "Backlog", "In Progress"),
    )
    cd = column_dates(its, trs, WF, ts(AS_OF), "UTC")
    sprints = frame(
        F.SPRINTS,
        {"source": "jira", "sprint_id": "7", "board_id": "1", "name": "S7", "state": "closed"},
        {"source": "jira", "sprint_id": "8", "board_id": "1", "name": "S8", "state": "active"},
    )
    versions = frame(
        F.VERSIONS,
        {"source": "jira", "version_id": "100", "project": "WEB", "name": "web-1.0"},
    )
    out = item_stories(
        cd,
        chg,
        sprints,
        item_sprints if item_sprints is not None else frame(F.ITEM_SPRINTS),
        item_versions if item_versions is not None else frame(F.ITEM_VERSIONS),
        versions,
        estimates_at_as_of(cd, chg),
        flag_intervals(cd, chg),
    )
    return out.set_index("item_id")


def test_stage_column_dates_cycle_time_and_age():
    got = stories(changes())
    assert list(got["stage"]) == ["done", "in progress", "not started", "unmapped"]
    assert got.loc["1", "committed"] == "2026-03-04" and got.loc["1", "done"] == "2026-03-12"
    assert got.loc["1", "cycle_days"] == 8 and got.loc["1", "age_days"] is None
    assert got.loc["2", "age_days"] == 10 and got.loc["2", "cycle_days"] is None  # 03-10 -> 03-20
    assert got.loc["3", "cycle_days"] is None and got.loc["3", "age_days"] is None
    entered = json.loads(got.loc["1", "entered"])
    assert entered == {  # a skipped column is entered when the next one is (back-filled)
        "Backlog": "2026-03-01",
        "Ready": "2026-03-04",
        "In Progress": "2026-03-04",
        "Review": "2026-03-12",
        "Done": "2026-03-12",
    }
    assert got.loc["1", "column"] == "Done" and got.loc["4", "column"] is None


def test_epic_versions_and_estimate_are_those_at_as_of():
    chg = changes(
        ("1", "2026-03-05 10:00", "estimate", "3", "5"),
        ("1", "2026-03-25 10:00", "estimate", "5", "8"),  # after as-of: not yet
        ("2", "2026-03-06 10:00", "fix_version", None, "100"),
        ("1", "2026-03-30 10:00", "parent", "WEB-8", "WEB-9"),  # after as-of: it was in WEB-8
    )
    versions = frame(F.ITEM_VERSIONS)
    got = stories(chg, item_versions=versions)
    assert got.loc["1", "estimate"] == 5.0
    assert got.loc["1", "epic"] == "WEB-8"
    assert json.loads(got.loc["2", "versions"]) == ["web-1.0"]
    assert got.loc["3", "epic"] is None and got.loc["3", "estimate"] is None


def test_sprints_ever_in_and_flagged_periods():
    chg = changes(
        ("2", "2026-03-05 10:00", "sprint", "", "7"),
        ("2", "2026-03-15 10:00", "sprint", "7", "8"),
        ("2", "2026-03-11 10:00", "flagged", "", "Impediment"),
        ("2", "2026-03-13 10:00", "flagged", "Impediment", ""),
        ("2", "2026-03-18 10:00", "flagged", "", "Impediment"),  # still flagged at as-of
    )
    current = frame(F.ITEM_SPRINTS, {"source": "jira", "item_id": "2", "sprint_id": "8"})
    got = stories(chg, item_sprints=current)
    assert json.loads(got.loc["2", "sprints"]) == [["7", False], ["8", True]]
    periods = json.loads(got.loc["2", "blocked"])
    as_of_ms = int(ts(AS_OF).value // 1_000_000)
    assert periods == [
        [
            int(ts("2026-03-11 10:00").value // 1_000_000),
            int(ts("2026-03-13 10:00").value // 1_000_000),
        ],
        [int(ts("2026-03-18 10:00").value // 1_000_000), as_of_ms],
    ]
    assert json.loads(got.loc["1", "sprints"]) == [] and json.loads(got.loc["1", "blocked"]) == []
    assert np.all(got["team"] == "web")
