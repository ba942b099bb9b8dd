"""Delivery timelines per roadmap item and per delivered item; time to market."""

from __future__ import annotations

import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.roadmap import roadmap_scope
from pulse.reports.metrics.timelines import delivered_items, roadmap_timeline

from .factories import changes, frame
from .roadmap_world import world, world_dates
from .test_health import forecasts


def test_roadmap_timeline_slip_is_p85_minus_target():
    _its, _trs, ch, versions, item_versions, _ = world()
    cd = world_dates()
    tl = roadmap_timeline(roadmap_scope(cd, ch, versions, item_versions), forecasts(), cd)
    row = tl.set_index("roadmap_id").loc["E1"]
    assert row["created_day"] == pd.Timestamp("2026-01-05")
    assert row["started_day"] == pd.Timestamp("2026-03-02")
    assert pd.isna(row["done_day"])
    assert row["slip_days"] == 11
    assert row["slip_basis"] == "p85"
    assert pd.isna(tl.set_index("roadmap_id").loc["E2", "slip_days"])


def test_delivered_items_and_time_to_market():
    _its, _trs, ch, versions, item_versions, _ = world()
    versions["released"] = True
    versions["release_date"] = pd.to_datetime(["2026-03-15 00:00"], utc=True)
    sprints = frame(
        F.SPRINTS,
        {
            "source": "jira",
            "sprint_id": "7",
            "board_id": "10",
            "name": "Sprint 7",
            "state": "closed",
            "start": "2026-03-02 09:00",
            "end": "2026-03-13 09:00",
            "complete": "2026-03-13 09:00",
        },
    )
    ch = pd.concat([ch, changes(("c1", "2026-03-01 10:00", "sprint", "", "7"))])
    isp = frame(F.ITEM_SPRINTS, {"source": "jira", "item_id": "c1", "sprint_id": "7"})
    out = delivered_items(world_dates(), ch, sprints, isp, versions, item_versions)
    assert list(out["item_id"]) == ["c1"]
    row = out.iloc[0]
    assert row["cycle_days"] == 8  # 03-02 -> 03-10
    assert row["lead_days"] == 37  # 02-01 -> 03-10
    assert row["sprints"] == "Sprint 7"
    assert row["epic"] == "WEB-E1"
    assert row["versions"] == "1.0"
    assert row["release_day"] == pd.Timestamp("2026-03-15")
    assert row["time_to_market_days"] == 42  # 02-01 -> 03-15


def test_unreleased_version_has_no_time_to_market():
    _its, _trs, ch, versions, item_versions, _ = world()
    out = delivered_items(
        world_dates(), ch, frame(F.SPRINTS), frame(F.ITEM_SPRINTS), versions, item_versions
    )
    assert pd.isna(out.iloc[0]["time_to_market_days"])
