"""A small hand-worked roadmap shared by the roadmap, health and timeline tests.

as_of 2026-03-20 12:00 UTC.
WEB-E1 (epic, web, due 2026-04-30): children c1 (done 03-10), c2 (in progress since 03-16,
est 3, flagged since 03-14, blocked by WEB-412 which is not started), c3 (backlog, added 03-05,
no estimate, blocked by WEB-k9 whose epic WEB-E3 is forecast late). c4 moved out to WEB-E2 on
03-12; c5 joins only after as_of; sub-task s1 never counts.
WEB-E2 (epic, no due date): child c4.
WEB-E3 (epic, due 2026-06-30): child k9 (backlog).
Version V1 (release 2026-04-10, unreleased): c1, c2.
"""

from __future__ import annotations

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.column_dates import column_dates

from .factories import WF, changes, frame, item, items, transitions, ts

AS_OF = ts("2026-03-20 12:00")


def world():
    its = items(
        item(
            "E1",
            "2026-01-05 09:00",
            "In Progress",
            key="WEB-E1",
            type="Epic",
            due="2026-04-30 00:00",
        ),
        item("E2", "2026-01-05 09:00", "Backlog", key="WEB-E2", type="Epic"),
        item(
            "E3", "2026-01-05 09:00", "Backlog", key="WEB-E3", type="Epic", due="2026-06-30 00:00"
        ),
        item("c1", "2026-02-01 09:00", "Done", parent_key="WEB-E1", estimate=2),
        item("c2", "2026-02-01 09:00", "In Progress", parent_key="WEB-E1", estimate=3),
        item("c3", "2026-02-01 09:00", "Backlog", parent_key="WEB-E1"),
        item("c4", "2026-02-01 09:00", "Backlog", parent_key="WEB-E2"),
        item("c5", "2026-02-01 09:00", "Backlog", parent_key="WEB-E1"),
        item("s1", "2026-02-01 09:00", "Backlog", parent_key="WEB-E1", is_subtask=True),
        item("k9", "2026-02-01 09:00", "Backlog", parent_key="WEB-E3"),
        item("412", "2026-02-01 09:00", "Backlog", key="WEB-412"),
    )
    trs = transitions(
        ("c1", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("c1", "2026-03-10 10:00", "In Progress", "Done"),
        ("c2", "2026-03-16 10:00", "Backlog", "In Progress"),
    )
    ch = changes(
        ("c3", "2026-03-05 10:00", "parent", "", "WEB-E1"),
        ("c4", "2026-03-12 10:00", "parent", "WEB-E1", "WEB-E2"),
        ("c5", "2026-03-25 10:00", "parent", "", "WEB-E1"),
        ("c2", "2026-03-14 10:00", "flagged", "", "Impediment"),
    )
    versions = frame(
        F.VERSIONS,
        {
            "source": "jira",
            "version_id": "V1",
            "project": "WEB",
            "name": "1.0",
            "released": False,
            "release_date": "2026-04-10 00:00",
        },
    )
    item_versions = frame(
        F.ITEM_VERSIONS,
        {"source": "jira", "item_id": "c1", "version_id": "V1"},
        {"source": "jira", "item_id": "c2", "version_id": "V1"},
    )
    links = frame(
        F.LINKS,
        {
            "source": "jira",
            "item_id": "c2",
            "link_type": "Blocks",
            "direction": "inward",
            "other_key": "WEB-412",
        },
        {
            "source": "jira",
            "item_id": "c3",
            "link_type": "Blocks",
            "direction": "inward",
            "other_key": "WEB-k9",
        },
        {
            "source": "jira",
            "item_id": "c1",
            "link_type": "Blocks",
            "direction": "outward",
            "other_key": "WEB-c4",
        },
    )
    return its, trs, ch, versions, item_versions, links


def world_dates(as_of=AS_OF, tz="UTC"):
    its, trs, *_ = world()
    return column_dates(its, trs, WF, as_of, tz)
