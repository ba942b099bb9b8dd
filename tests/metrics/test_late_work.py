"""The late-work drill-down, cross-tool links and the effort mix on the hand-worked roadmap
(tests/metrics/roadmap_world.py)."""

from __future__ import annotations

import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.blocked import blocked_time
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.cross_links import cross_links
from pulse.reports.metrics.effort import effort_mix
from pulse.reports.metrics.late_work import assignees_at, late_work
from pulse.reports.metrics.roadmap import roadmap_scope

from .factories import WF, changes, frame, item, items, transitions, ts
from .roadmap_world import AS_OF, world


def _snapshot(scope, status: str) -> pd.DataFrame:
    """A snapshot with every epic in ``status`` (the health rules are tested elsewhere)."""
    rm = scope.roadmap
    rows = [
        {
            "snapshot_at": AS_OF,
            "source": r.source,
            "roadmap_id": r.roadmap_id,
            "kind": r.kind,
            "key": r.key,
            "title": r.title,
            "team": r.team,
            "p50": ts("2026-05-01"),
            "p85": ts("2026-05-15"),
            "scope": 0,
            "remaining": 0,
            "status": status,
            "reasons": "",
            "evidence": "",
            "severity": 500 if r.key == "WEB-E1" else 100,
        }
        for r in rm.itertuples()
        if r.kind == "epic"
    ]
    return frame(F.SNAPSHOT, *rows)


def test_drill_down_lists_open_children_with_assignee_blockers_and_since() -> None:
    its, trs, ch, versions, item_versions, links = world()
    ch = pd.concat(
        [ch, changes(("c2", "2026-03-18 10:00", "assignee", "p0", "p1"))], ignore_index=True
    )
    cd = column_dates(its, trs, WF, AS_OF, "UTC")
    scope = roadmap_scope(cd, ch, versions, item_versions)
    assignees = pd.DataFrame({"source": ["jira"], "item_id": ["c2"], "person_id": ["p1"]})
    people = pd.DataFrame({"source": ["jira"], "person_id": ["p1"], "name": ["Ada Lovelace"]})
    names = assignees_at(cd, ch, assignees, people)
    since = pd.DataFrame({"source": ["jira"], "key": ["WEB-E1"], "since": [ts("2026-03-09")]})
    got = late_work(
        _snapshot(scope, "off track"), scope, cd, links, blocked_time(cd, ch), names, since
    )
    e1 = got[got["roadmap_key"] == "WEB-E1"]
    # c1 is done, c4 moved out, c5 joins after as_of, s1 is a sub-task: c2 and c3 remain
    assert list(e1["key"]) == ["WEB-c2", "WEB-c3"]  # the one in progress (older) first
    c2, c3 = e1.iloc[0], e1.iloc[1]
    assert c2["age_days"] == 4 and c2["column"] == "In Progress"
    assert c2["assignee"] == "Ada Lovelace" and pd.isna(c3["assignee"])
    assert c2["blocked_by"] == "WEB-412" and bool(c2["flagged"])
    assert c3["blocked_by"] == "WEB-k9" and pd.isna(c3["age_days"])
    assert (e1["since"] == ts("2026-03-09")).all()
    # before the change the assignee was p0, a person the store has no name for
    earlier = column_dates(its, trs, WF, ts("2026-03-17 12:00"), "UTC")
    assert assignees_at(earlier, ch, assignees, people)[earlier.rows_of(assignees)[0]] == "p0"
    on_track = late_work(
        _snapshot(scope, "on track"), scope, cd, links, blocked_time(cd, ch), names, since
    )
    assert on_track.empty


def test_a_card_linking_an_issue_of_another_source_is_resolved_both_ways() -> None:
    its, trs, ch, versions, item_versions, links = world()
    card = item("card1", "2026-02-01 09:00", "Review", source="trello", key="AbC123")
    its = pd.concat([its, items(card)], ignore_index=True)
    jira_link = frame(
        F.LINKS,
        {
            "source": "trello",
            "item_id": "card1",
            "link_type": "jira",
            "direction": "outward",
            "other_key": "WEB-c2",
        },
    )
    links = pd.concat([links, jira_link], ignore_index=True)
    cd = column_dates(its, trs, WF, AS_OF, "UTC")
    scope = roadmap_scope(cd, ch, versions, item_versions)
    got = cross_links(cd, links, scope, _snapshot(scope, "at risk"))
    assert len(got) == 2  # WEB-412 and WEB-k9 links stay inside Jira
    out = got[got["direction"] == "links to"].iloc[0]
    assert (out["source"], out["key"], out["other_key"]) == ("trello", "AbC123", "WEB-c2")
    assert out["other_stage"] == "in progress" and out["other_status"] == "In Progress"
    assert out["roadmap_key"] == "WEB-E1" and out["roadmap_status"] == "at risk"
    assert out["p85"] == ts("2026-05-15")
    back = got[got["direction"] == "linked from"].iloc[0]
    assert (back["key"], back["other_key"], back["other_source"]) == ("WEB-c2", "AbC123", "trello")


def test_effort_mix_counts_bugs_roadmap_work_and_the_rest() -> None:
    its = items(
        item("E", "2026-03-01 09:00", "In Progress", key="WEB-E", type="Epic"),
        item("a", "2026-03-01 09:00", "Done", parent_key="WEB-E"),
        item("b", "2026-03-01 09:00", "Done", parent_key="WEB-E", type="Bug"),
        item("c", "2026-03-01 09:00", "Done"),
        item("d", "2026-03-01 09:00", "Done"),
    )
    trs = transitions(
        *[(i, "2026-03-03 10:00", "Backlog", "In Progress") for i in "abcd"],
        *[(i, "2026-03-11 10:00", "In Progress", "Done") for i in "abcd"],
    )
    cd = column_dates(its, trs, WF, AS_OF, "UTC")
    scope = roadmap_scope(cd, changes(), frame(F.VERSIONS), frame(F.ITEM_VERSIONS))
    weeks = pd.DatetimeIndex([pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09")])
    got = effort_mix(cd, scope, weeks, exclude_types=("Epic",))
    week = got[got["week"] == pd.Timestamp("2026-03-09")].set_index("kind")
    assert week["items"].to_dict() == {"roadmap work": 1, "bugs": 1, "other": 2}
    assert week["share"].to_dict() == {"roadmap work": 0.25, "bugs": 0.25, "other": 0.5}
    empty = got[got["week"] == pd.Timestamp("2026-03-02")]
    assert (empty["items"] == 0).all() and empty["share"].isna().all()
