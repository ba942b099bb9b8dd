"""Roadmap items, their children at as_of, targets and the forecast plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.reports.metrics.roadmap import (
    forecast_plan,
    roadmap_forecasts,
    roadmap_scope,
    target_days,
)

from .factories import ts
from .roadmap_world import world, world_dates


def scope(as_of=None):
    _its, _trs, ch, versions, item_versions, _ = world()
    cd = world_dates() if as_of is None else world_dates(as_of)
    return cd, roadmap_scope(cd, ch, versions, item_versions)


def test_children_follow_the_parent_history_at_as_of():
    _, sc = scope()
    kids = sc.children.groupby("roadmap_id")["item_id"].apply(set).to_dict()
    assert kids["E1"] == {"c1", "c2", "c3"}  # c4 moved out, c5 joins later, s1 is a sub-task
    assert kids["E2"] == {"c4"}
    assert kids["version:V1"] == {"c1", "c2"}


def test_children_before_a_parent_change():
    _, sc = scope(ts("2026-03-04 12:00"))
    kids = sc.children.groupby("roadmap_id")["item_id"].apply(set).to_dict()
    assert kids["E1"] == {"c1", "c2", "c4"}  # c3 not yet added, c4 not yet moved out


def test_scope_counts_targets_and_start():
    _, sc = scope()
    rm = sc.roadmap.set_index("roadmap_id")
    assert rm.loc["E1", "scope"] == 3
    assert rm.loc["E1", "done_children"] == 1
    assert rm.loc["E1", "remaining"] == 2
    assert round(rm.loc["E1", "pct_complete"], 1) == 33.3
    assert rm.loc["E1", "target_day"] == pd.Timestamp("2026-04-30")
    assert pd.isna(rm.loc["E2", "target_day"])
    assert rm.loc["E1", "started_at"] == ts("2026-03-02 10:00")  # c1 reached committed
    assert rm.loc["version:V1", "kind"] == "version"
    assert rm.loc["version:V1", "target_day"] == pd.Timestamp("2026-04-10")
    assert rm.loc["E1", "unestimated_remaining"] == 1  # c3


def test_done_when_the_epic_itself_or_all_children_are_done():
    _, sc = scope()
    rm = sc.roadmap.set_index("roadmap_id")
    assert pd.isna(rm.loc["E1", "done_at"])
    assert pd.isna(rm.loc["E2", "done_at"])


def test_growth_history_counts_children_added_after_the_start():
    _, sc = scope()
    growth = sc.roadmap.set_index("roadmap_id").loc["E1", "growth"]
    # started 03-02 10:00; complete weeks until as_of 03-20 12:00: 2; c3 added 03-05 (week 0)
    np.testing.assert_array_equal(growth, [1.0, 0.0])


def test_date_only_targets_keep_their_calendar_date_in_any_zone():
    values = pd.Series(pd.to_datetime(["2026-04-30 00:00", "2026-04-30 23:30"], utc=True))
    assert list(target_days(values, "America/New_York").dt.strftime("%m-%d")) == ["04-30", "04-30"]
    assert list(target_days(values, "Europe/Berlin").dt.strftime("%m-%d")) == ["04-30", "05-01"]


def test_forecast_plan_orders_by_target_and_flags_started():
    _, sc = scope()
    plan = forecast_plan(sc).set_index("roadmap_id")
    assert bool(plan.loc["E1", "started"])  # own status In Progress and a child committed
    assert not bool(plan.loc["E3", "started"])
    assert plan.loc["E1", "remaining"] == 2
    assert plan.loc["version:V1", "rank"] < plan.loc["E1", "rank"] < plan.loc["E3", "rank"]
    assert plan.loc["E2", "rank"] == plan["rank"].max()  # no target: last


def test_roadmap_forecasts_without_throughput_have_no_dates():
    cd, sc = scope()
    fc = roadmap_forecasts(sc, cd).frame
    assert set(fc["roadmap_id"]) == {"E1", "E2", "E3", "version:V1"}
    # c1 done in the partial week of 03-09? no: the last 12 complete weeks end 03-15 -> 1 item
    assert fc["p85"].notna().all()


def test_versions_without_any_child_yet():
    """Before any item is in a version (an as-of early in the history), versions still make
    roadmap rows, with no creation date yet."""
    _its, _trs, ch, versions, item_versions, _ = world()
    cd = world_dates()
    none = item_versions.iloc[0:0]
    sc = roadmap_scope(cd, ch[ch["field"] != "fix_version"], versions, none)
    rm = sc.roadmap.set_index("roadmap_id")
    assert rm.loc["version:V1", "scope"] == 0
    assert pd.isna(rm.loc["version:V1", "created"])
