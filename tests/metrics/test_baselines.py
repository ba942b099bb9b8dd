"""Baselines from history (METRICS §5): scope and target when work started or when the target
was last set, whichever is later — hand-worked on the shared roadmap world."""

from __future__ import annotations

import pandas as pd

from pulse.reports.metrics.baselines import history_baselines
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.roadmap import roadmap_scope

from .factories import WF, changes, ts
from .roadmap_world import AS_OF, world


def baseline(
    *due_changes: tuple[str, str, str | None, str | None], epic_status: str = "Backlog"
) -> pd.Series:
    """WEB-E1's baseline row, with E1's due date changed as given (at, field, from, to) and E1
    itself in ``epic_status`` since its creation."""
    its, trs, ch, versions, item_versions, _ = world()
    its.loc[its["item_id"] == "E1", "status"] = epic_status
    extra = changes(*((("E1", at, field, old, new)) for at, field, old, new in due_changes))
    ch = pd.concat([ch, extra], ignore_index=True)
    cd = column_dates(its, trs, WF, AS_OF, "UTC")
    frame = history_baselines(roadmap_scope(cd, ch, versions, item_versions), cd, ch, item_versions)
    return frame.set_index("roadmap_id").loc["E1"]


def test_work_started_after_the_target_was_set():
    # E1 had its due date from creation; work started when c1 went In Progress (03-02 10:00).
    # Children then: c1, c2 and c4 (c3 joined 03-05, c4 left 03-12) -> 3.
    row = baseline()
    assert row["baseline_at"] == ts("2026-03-02 10:00")
    assert row["baseline_scope"] == 3
    assert row["baseline_target"] == ts("2026-04-30 00:00")


def test_an_epic_marked_in_progress_before_it_had_children_starts_with_its_first_child():
    # E1 was In Progress from its creation on 01-05, when it had no children: work still starts
    # on 03-02 with c1, so the baseline is 3 children, not an empty scope
    row = baseline(epic_status="In Progress")
    assert row["baseline_at"] == ts("2026-03-02 10:00")
    assert row["baseline_scope"] == 3


def test_a_target_reset_after_work_started_moves_the_baseline():
    # Re-planned on 03-06 (due 04-15 -> 04-30): c3 had joined by then -> 4 children, and the
    # growth before the re-plan is not growth against the new plan.
    row = baseline(("2026-03-06 09:00", "due_date", "2026-04-15", "2026-04-30"))
    assert row["baseline_at"] == ts("2026-03-06 09:00")
    assert row["baseline_scope"] == 4


def test_the_last_setting_counts_not_the_first():
    # Set on 03-03 (none -> 04-15), then moved on 03-13 (04-15 -> 04-30): the baseline is the
    # later setting; c4 had left by then -> c1, c2, c3.
    row = baseline(
        ("2026-03-03 09:00", "due_date", None, "2026-04-15"),
        ("2026-03-13 09:00", "due_date", "2026-04-15", "2026-04-30"),
    )
    assert row["baseline_at"] == ts("2026-03-13 09:00")
    assert row["baseline_scope"] == 3


def test_a_target_set_after_as_of_is_not_known_yet():
    row = baseline(("2026-03-25 09:00", "due_date", "2026-04-15", "2026-04-30"))
    assert row["baseline_at"] == ts("2026-03-02 10:00")
    assert row["baseline_scope"] == 3
