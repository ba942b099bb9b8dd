"""Data freshness and data-quality findings."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.quality import data_quality, freshness, quality_summary
from pulse.reports.metrics.roadmap import roadmap_scope

from .factories import changes, frame, item, items, ts
from .roadmap_world import AS_OF, world, world_dates


def test_freshness_flags_sources_older_than_twice_the_interval():
    runs = frame(
        F.SYNC_RUNS,
        {"source": "jira", "finished_at": "2026-03-20 11:00", "succeeded": True},
        {"source": "trello", "finished_at": "2026-03-20 09:00", "succeeded": True},
        {"source": "trello", "finished_at": "2026-03-20 11:50", "succeeded": False},
        {"source": "jira", "finished_at": "2026-03-20 13:00", "succeeded": True},  # after as_of
    )
    hour = timedelta(hours=1)
    got = freshness(runs, {"jira": hour, "trello": hour, "gitlab": hour}, AS_OF)
    got = got.set_index("source")
    assert not bool(got.loc["jira", "stale"])
    assert got.loc["jira", "age_hours"] == 1.0
    assert bool(got.loc["trello", "stale"])  # 3 h > 2 x 1 h; the failed run does not count
    assert bool(got.loc["gitlab", "stale"])  # never synced
    assert list(got["state"]) == ["never synced", "fresh", "last sync failed"]


def test_a_later_sync_covers_a_past_day():
    """METRICS §7: for a past as-of, a sync completed after it means the history covers it; a
    past report never calls a source that has synced stale, failed or never synced."""
    runs = frame(
        F.SYNC_RUNS,
        {"source": "jira", "finished_at": "2026-03-25 10:00", "succeeded": True},  # first sync
        {"source": "trello", "finished_at": "2026-03-01 10:00", "succeeded": True},
        {"source": "trello", "finished_at": "2026-03-20 11:00", "succeeded": False},
        {"source": "trello", "finished_at": "2026-03-26 10:00", "succeeded": True},
        {"source": "gitlab", "finished_at": "2026-03-01 10:00", "succeeded": True},
    )
    hour = timedelta(hours=1)
    got = freshness(runs, {"jira": hour, "trello": hour, "gitlab": hour}, AS_OF)
    got = got.set_index("source")
    assert list(got["state"]) == ["stale", "fresh", "fresh"]  # gitlab, jira, trello
    assert list(got["covered"]) == [False, True, True]
    assert pd.isna(got.loc["jira", "last_success"])  # nothing by as_of, yet fresh
    assert not got.loc["trello", "last_run_failed"]


def test_quality_findings():
    its, _trs, ch, versions, item_versions, _ = world()
    cd = world_dates()
    sc = roadmap_scope(cd, ch, versions, item_versions)
    sprints = frame(
        F.SPRINTS,
        {
            "source": "jira",
            "sprint_id": "8",
            "board_id": "10",
            "name": "Sprint 8",
            "state": "active",
            "start": "2026-03-16 09:00",
            "end": "2026-03-27 09:00",
            "complete": None,
        },
    )
    ch = pd.concat(
        [
            ch,
            changes(
                ("c3", "2026-03-16 08:00", "sprint", "", "8"),
                ("c2", "2026-03-16 08:00", "sprint", "", "8"),
            ),
        ]
    )
    isp = frame(F.ITEM_SPRINTS, {"source": "jira", "item_id": "c3", "sprint_id": "8"})
    all_items = pd.concat(
        [
            its,
            items(
                item("gone", "2026-01-01 09:00", deleted_at="2026-03-18 10:00"),
                item("old", "2026-01-01 09:00", deleted_at="2026-03-01 10:00"),
            ),
        ],
        ignore_index=True,
    )
    found = data_quality(cd, ch, sprints, isp, sc, all_items, ts("2026-03-13 12:00"))
    by = found.groupby("check")["key"].apply(set).to_dict()
    assert by["unestimated_in_sprint"] == {"WEB-c3"}  # c2 has an estimate
    # open items without a parent at as_of: WEB-412, and c5 (it joins WEB-E1 only on 03-25)
    assert by["no_epic"] == {"WEB-412", "WEB-c5"}
    assert by["roadmap_no_target"] == {"WEB-E2"}
    assert by["deleted_at_source"] == {"WEB-gone"}
    summary = quality_summary(found).set_index("check")["count"]
    assert summary["unmapped_status"] == 0
    assert summary["no_epic"] == 2


def test_unmapped_statuses_are_findings():
    from pulse.reports.metrics.column_dates import column_dates

    from .factories import WF, transitions

    cd = column_dates(
        items(item("1", "2026-03-01 09:00", "Parked")), transitions(), WF, AS_OF, "UTC"
    )
    found = data_quality(cd, changes(), frame(F.SPRINTS), frame(F.ITEM_SPRINTS))
    row = found[found["check"] == "unmapped_status"].iloc[0]
    assert "'Parked'" in row["detail"]
