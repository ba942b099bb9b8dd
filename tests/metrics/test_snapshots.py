"""Week-over-week diff of roadmap snapshots."""

from __future__ import annotations

import math

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.snapshots import diff_snapshots


def snap(at: str, rid: str, **kw) -> dict:
    row = {
        "snapshot_at": at,
        "source": "jira",
        "roadmap_id": rid,
        "kind": "epic",
        "key": f"WEB-{rid}",
        "title": rid,
        "team": "web",
        "target": "2026-04-30",
        "p50": "2026-04-20",
        "p85": "2026-04-28",
        "p95": "2026-05-05",
        "done_at": None,
        "scope": 20,
        "remaining": 10,
        "pct_complete": 50.0,
        "status": "on track",
        "reasons": "",
        "evidence": "",
        "severity": 100,
    }
    row.update(kw)
    return row


def test_diff_reports_slips_scope_status_and_risks():
    before = F.build_frame(
        F.SNAPSHOT,
        [snap("2026-03-09", "E1", reasons="STALLED"), snap("2026-03-09", "E2")],
    )
    after = F.build_frame(
        F.SNAPSHOT,
        [
            snap(
                "2026-03-16",
                "E1",
                p50="2026-04-25",
                p85="2026-05-09",
                scope=23,
                status="at risk",
                reasons="FORECAST_LATE,BLOCKED",
            ),
            snap("2026-03-16", "E4", status="no target", target=None),
        ],
    )
    diff = diff_snapshots(before, after, "UTC").set_index("roadmap_id")
    e1 = diff.loc["E1"]
    assert e1["change"] == "changed"
    assert e1["p85_slip_days"] == 11
    assert e1["p50_slip_days"] == 5
    assert e1["target_shift_days"] == 0
    assert e1["scope_delta"] == 3
    assert bool(e1["status_changed"])
    assert e1["new_risks"] == "BLOCKED,FORECAST_LATE"
    assert e1["cleared_risks"] == "STALLED"
    assert e1["summary"] == (
        "p85 slipped 11 days (2026-04-28 -> 2026-05-09); scope +3 items (20 -> 23); "
        "status on track -> at risk; new risks: BLOCKED,FORECAST_LATE; cleared: STALLED"
    )
    assert diff.loc["E2", "change"] == "dropped"
    assert diff.loc["E4", "change"] == "new"
    assert math.isnan(diff.loc["E4", "p85_slip_days"])
    assert list(diff.index) == ["E1", "E4", "E2"]


def test_identical_snapshots_are_unchanged():
    a = F.build_frame(F.SNAPSHOT, [snap("2026-03-09", "E1")])
    b = F.build_frame(F.SNAPSHOT, [snap("2026-03-16", "E1")])
    row = diff_snapshots(a, b, "UTC").iloc[0]
    assert row["change"] == "unchanged"
    assert row["summary"] == "no change"


def test_target_moves_and_pull_ins_are_described():
    a = F.build_frame(F.SNAPSHOT, [snap("2026-03-09", "E1")])
    b = F.build_frame(F.SNAPSHOT, [snap("2026-03-16", "E1", target="2026-05-07", p85="2026-04-21")])
    row = diff_snapshots(a, b, "UTC").iloc[0]
    assert row["summary"] == (
        "p85 pulled in 7 days (2026-04-28 -> 2026-04-21); "
        "target moved +7 days (2026-04-30 -> 2026-05-07)"
    )


def test_a_week_without_progress_is_one_stalled_line_not_a_slip():
    before = F.build_frame(F.SNAPSHOT, [snap("2026-03-09", "E1"), snap("2026-03-09", "E2")])
    after = F.build_frame(
        F.SNAPSHOT,
        [
            # nothing finished or added: p85 one week later is the calendar
            snap("2026-03-16", "E1", p50="2026-04-27", p85="2026-05-05"),
            # two finished, and p85 still later: that is news
            snap("2026-03-16", "E2", remaining=8, p85="2026-05-05"),
        ],
    )
    diff = diff_snapshots(before, after, "UTC").set_index("roadmap_id")
    assert diff.loc["E1", "change"] == "stalled"
    assert diff.loc["E1", "summary"] == (
        "STALLED: no item finished or added since last week (p85 2026-04-28 -> 2026-05-05)"
    )
    assert diff.loc["E2", "change"] == "changed"
    assert diff.loc["E2", "summary"].startswith("p85 slipped 7 days")


def test_a_p50_move_alone_is_not_news():
    before = F.build_frame(F.SNAPSHOT, [snap("2026-03-09", "E1")])
    after = F.build_frame(F.SNAPSHOT, [snap("2026-03-16", "E1", p50="2026-04-22")])
    assert diff_snapshots(before, after, "UTC").iloc[0]["change"] == "unchanged"
