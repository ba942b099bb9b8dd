"""Roadmap health: status rules, every reason code with its evidence, severity, baselines."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.blocked import blocked_time
from pulse.reports.metrics.health import held_open, roadmap_health, status_of
from pulse.reports.metrics.roadmap import roadmap_scope

from .factories import frame, ts
from .roadmap_world import world, world_dates

TODAY = pd.Timestamp("2026-03-20")
D = pd.Timestamp


@pytest.mark.parametrize(
    ("done", "target", "p50", "p85", "expected"),
    [
        (True, "2026-04-30", "2026-05-01", "2026-05-09", "done"),
        (False, None, "2026-04-01", "2026-04-09", "no target"),
        (False, "2026-04-30", "2026-04-20", "2026-04-30", "on track"),  # p85 <= target
        (False, "2026-04-30", "2026-04-30", "2026-05-01", "at risk"),  # p50 <= target < p85
        (False, "2026-04-30", "2026-05-01", "2026-05-09", "off track"),  # target < p50
        (False, "2026-03-19", "2026-03-01", "2026-03-02", "off track"),  # past target
        (False, "2026-04-30", None, None, "off track"),  # no forecast at all
    ],
)
def test_status_rules(done, target, p50, p85, expected):
    def day(x):
        return pd.NaT if x is None else D(x)

    assert status_of(done, day(target), day(p50), day(p85), TODAY) == expected


def forecasts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "jira",
            "roadmap_id": ["E1", "E2", "E3", "version:V1"],
            "p50": pd.to_datetime(["2026-04-20", "2026-04-20", "2026-07-10", "2026-03-30"]),
            "p85": pd.to_datetime(["2026-05-11", "2026-05-11", "2026-07-20", "2026-04-01"]),
            "p95": pd.to_datetime(["2026-05-20", "2026-05-20", "2026-07-30", "2026-04-05"]),
        }
    )


def health(as_of=None, baselines=None):
    _its, _trs, ch, versions, item_versions, links = world()
    cd = world_dates() if as_of is None else world_dates(as_of)
    sc = roadmap_scope(cd, ch, versions, item_versions)
    ageing = pd.DataFrame(
        {
            "source": ["jira"],
            "item_id": ["c2"],
            "age_days": [4],
            "p85_days": [2.0],
            "over_p85": [True],
        }
    )
    base = (
        baselines
        if baselines is not None
        else frame(
            F.BASELINES,
            {
                "source": "jira",
                "roadmap_id": "E1",
                "baseline_at": "2026-03-01 08:00",
                "baseline_scope": 2,
                "baseline_target": "2026-04-30 00:00",
            },
        )
    )
    out = roadmap_health(sc, forecasts(), cd, base, blocked_time(cd, ch), links, ageing)
    F.validate_snapshot(out)
    return out.set_index("roadmap_id")


def test_statuses_and_order():
    h = health()
    assert h.loc["E1", "status"] == "at risk"
    assert h.loc["E2", "status"] == "no target"
    assert h.loc["E3", "status"] == "off track"
    assert h.loc["version:V1", "status"] == "on track"
    assert list(h.index) == ["E3", "E1", "E2", "version:V1"]  # worst first


def test_reasons_and_evidence_for_the_at_risk_epic():
    row = health().loc["E1"]
    assert row["reasons"].split(",") == [
        "FORECAST_LATE",
        "SCOPE_GROWTH",
        "BLOCKED",
        "LATE_DEPENDENCY",
        "AGING_WIP",
        "UNESTIMATED",
    ]
    evidence = row["evidence"].split("\n")
    assert evidence == [
        "p85 2026-05-11 is 11 days after target 2026-04-30",
        "scope +50% since baseline (2 -> 3 items, baseline 2026-03-01)",
        "WEB-c2 blocked 6 days by WEB-412, itself not started; "
        "WEB-c3 blocked by WEB-k9, itself not started",
        "blocked by WEB-k9 (in WEB-E3) forecast p85 2026-07-20, 81 days after target 2026-04-30",
        "WEB-c2 in progress 4 days (team p85 2 days)",
        "1 of 2 open items have no estimate",
    ]
    assert row["severity"] == 300 + 40 + 20 + 25 + 30 + 10 + 5
    assert row["scope"] == 3 and row["remaining"] == 2
    assert row["target"] == ts("2026-04-30 00:00")
    assert row["p85"] == ts("2026-05-11 00:00")


def test_stalled_and_no_target():
    h = health()
    assert h.loc["E2", "reasons"] == "STALLED,NO_TARGET"
    assert h.loc["E2", "evidence"].split("\n") == [
        "no child has moved since it was created 74 days ago",
        "no target: no due date set",
    ]
    assert h.loc["E3", "reasons"] == "FORECAST_LATE,STALLED"


def test_overdue_after_the_target_passed():
    h = health(as_of=ts("2026-05-05 12:00"))
    row = h.loc["E1"]
    assert row["status"] == "off track"
    assert row["reasons"].startswith("OVERDUE,FORECAST_LATE")
    # c5 joined on 03-25: 4 children, 1 done
    assert (
        row["evidence"].split("\n")[0]
        == "target 2026-04-30 passed 5 days ago with 3 of 4 items open"
    )


def test_small_scope_growth_is_not_a_risk():
    base = frame(
        F.BASELINES,
        {
            "source": "jira",
            "roadmap_id": "E1",
            "baseline_at": "2026-03-01 08:00",
            "baseline_scope": 3,
            "baseline_target": "2026-04-30 00:00",
        },
    )
    assert "SCOPE_GROWTH" not in health(baselines=base).loc["E1", "reasons"]


def test_held_open_only_by_untouched_children_is_never_forecast_late():
    """E1's two open children are stale: its own forecast never finishes, but the work that
    moves decides its status (METRICS §5) and it is listed apart, not as late work."""
    _its, _trs, ch, versions, item_versions, links = world()
    cd = world_dates()
    sc = roadmap_scope(cd, ch, versions, item_versions)
    fc = forecasts()
    fc["p50"] = fc["p50"].where(fc["roadmap_id"] != "E1")  # never, with its stale tail
    fc["p85"] = fc["p85"].where(fc["roadmap_id"] != "E1")
    fc["stale"] = (fc["roadmap_id"] == "E1").astype("int64") * 2
    fc["stale_keys"] = [["WEB-c2", "WEB-c3"] if r == "E1" else [] for r in fc["roadmap_id"]]
    fc["p50_if_closed"] = pd.to_datetime(["2026-03-20", None, None, None])
    fc["p85_if_closed"] = pd.to_datetime(["2026-03-20", None, None, None])
    row = roadmap_health(sc, fc, cd, None, blocked_time(cd, ch), links).set_index("roadmap_id")
    e1 = row.loc["E1"]
    assert e1["status"] == "on track"  # target 04-30, nothing left once they are closed
    assert "FORECAST_LATE" not in e1["reasons"].split(",")
    assert "STALE_SCOPE" in e1["reasons"].split(",")
    assert (
        "held open only by 2 untouched children (WEB-c2; WEB-c3); if they were closed: "
        "p85 2026-03-20"
    ) in e1["evidence"]
    assert list(held_open(row.reset_index())["roadmap_id"]) == ["E1"]


def test_an_item_without_children_has_no_scope_and_no_forecast_reason():
    assert status_of(False, D("2026-04-30"), pd.NaT, pd.NaT, TODAY, scope=0) == "no scope"
    assert status_of(False, pd.NaT, pd.NaT, pd.NaT, TODAY, scope=0) == "no scope"
