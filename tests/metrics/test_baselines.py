"""Baselines from history: scope and target when work started or the target was last set,
whichever is later (METRICS §5), on the hand-worked roadmap world."""

from __future__ import annotations

import pandas as pd

from reports.metrics.baselines import history_baselines
from reports.metrics.column_dates import column_dates
from reports.metrics.roadmap import roadmap_scope

from .factories import WF, changes, ts
from .roadmap_world import AS_OF, world


def baselines(extra: pd.DataFrame | None = None, due: str | None = None) -> pd.DataFrame:
    its, trs, ch, versions, item_versions, _ = world()
    if extra is not None:
        ch = pd.concat([ch, extra], ignore_index=True)
    if due is not None:
        its.loc[its["item_id"] == "E1", "due"] = pd.Timestamp(due, tz="UTC")
    cd = column_dates(its, trs, WF, AS_OF, "UTC")
    scope = roadmap_scope(cd, ch, versions, item_versions)
    return history_baselines(scope, cd, ch, item_versions).set_index("roadmap_id")


def test_baseline_is_taken_when_work_started_not_when_the_epic_had_one_child() -> None:
    got = baselines()
    # WEB-E1 had its due date from creation (01-05); work started when c1 was committed on
    # 03-02 10:00; its children then: c1, c2 and c4 (c3 joined 03-05, c4 left 03-12)
    assert got.loc["E1", "baseline_at"] == ts("2026-03-02 10:00")
    assert got.loc["E1", "baseline_scope"] == 3
    assert "E3" not in got.index  # never started: no baseline, so no growth to report


def test_a_target_set_again_after_the_start_moves_the_baseline() -> None:
    moved = changes(("E1", "2026-03-06 10:00", "due_date", "2026-04-30", "2026-05-15"))
    got = baselines(moved, due="2026-05-15")
    # re-planned on 03-06: c1, c2, c3 (added 03-05) and c4 (still there) -> 4 children
    assert got.loc["E1", "baseline_at"] == ts("2026-03-06 10:00")
    assert got.loc["E1", "baseline_scope"] == 4
    assert got.loc["E1", "baseline_target"] == pd.Timestamp("2026-05-15", tz="UTC")
