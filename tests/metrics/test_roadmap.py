"""Roadmap items, their children at as_of, targets and the forecast plan."""

from __future__ import annotations

import pandas as pd

from pulse.reports.metrics.forecast import ForecastConfig
from pulse.reports.metrics.item_state import Replay
from pulse.reports.metrics.roadmap import roadmap_scope, target_days
from pulse.reports.metrics.track_record import forecast_and_record

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


def test_the_bulk_replay_at_an_earlier_instant_agrees_with_a_full_replay_then():
    _its, _trs, ch, _versions, _item_versions, _ = world()
    cd, sc = scope()
    then = ts("2026-03-04 12:00")
    state = Replay.build(sc, cd, ch, [int(then.value // 1_000_000)]).state(0)
    ids = sc.roadmap["roadmap_id"].to_numpy()
    items = cd.items["item_id"].to_numpy()
    kids = state.kids.assign(rid=ids[state.kids["ri"]], item=items[state.kids["row"]])
    assert set(kids[kids["rid"] == "E1"]["item"]) == {"c1", "c2", "c4"}
    _, full = scope(then)
    got = state.items.assign(rid=ids[state.items["ri"]]).set_index("rid")
    want = full.roadmap.set_index("roadmap_id")
    for rid in ("E1", "E2", "version:V1"):
        assert got.loc[rid, "remaining"] == want.loc[rid, "remaining"], rid
        assert got.loc[rid, "scope"] == want.loc[rid, "scope"], rid


def test_date_only_targets_keep_their_calendar_date_in_any_zone():
    values = pd.Series(pd.to_datetime(["2026-04-30 00:00", "2026-04-30 23:30"], utc=True))
    assert list(target_days(values, "America/New_York").dt.strftime("%m-%d")) == ["04-30", "04-30"]
    assert list(target_days(values, "Europe/Berlin").dt.strftime("%m-%d")) == ["04-30", "05-01"]


def test_every_open_item_with_work_left_is_forecast_and_nothing_else():
    _its, _trs, ch, _versions, _item_versions, _ = world()
    cd, sc = scope()
    config = ForecastConfig(trials=200, track_weeks=2)
    run = forecast_and_record(sc, cd, ch, config, ("Epic", "Roadmap"))
    live, record = run.live, run.record
    rm = sc.roadmap
    open_with_work = rm[rm["done_at"].isna() & (rm["remaining"] > 0)]["roadmap_id"]
    assert set(live.frame["roadmap_id"]) == set(open_with_work)
    assert record.mondays == 2
    assert (live.frame["share"] > 0).all() and (live.frame["share"] <= 1).all()


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
