"""The generated Jira organisation: deterministic, realistic in the ways syncs break, and fast."""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.emulators.jira import JiraEmulator, OrgSpec
from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira.org import generate
from pulse.emulators.jira.shapes import FieldSelection, Renderer
from pulse.emulators.jira.timefmt import DAY, HOUR

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def world_digest(world: Any) -> str:
    """Hash of every issue rendered with its full changelog, as the API would serve it."""
    r = Renderer(world, "http://jira.test", "3")
    sel = FieldSelection.parse(["*all"], "*all")
    h = hashlib.sha256()
    for issue in sorted(world.issues.values(), key=lambda i: i.id):
        doc = r.issue(issue, sel, expand=frozenset({"changelog"}), changelog_cap=None)
        h.update(json.dumps(doc, sort_keys=True).encode())
    for sprint in world.sprints.values():
        h.update(json.dumps(r.sprint(sprint), sort_keys=True).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def big() -> JiraEmulator:
    return JiraEmulator(OrgSpec(seed=5, projects=4, issues=3000), "cloud")


def test_same_seed_same_world() -> None:
    spec = OrgSpec(seed=42, projects=3, issues=500)
    assert world_digest(generate(spec, "cloud")) == world_digest(generate(spec, "cloud"))
    assert world_digest(generate(spec, "cloud")) != world_digest(
        generate(OrgSpec(seed=43, projects=3, issues=500), "cloud")
    )


def test_flavours_share_the_story_but_not_the_field_ids() -> None:
    spec = OrgSpec(seed=9, projects=2, issues=300)
    cloud, dc = generate(spec, "cloud"), generate(spec, "datacenter")
    assert [(i.key, i.status, len(i.histories)) for i in cloud.issues.values()] == [
        (i.key, i.status, len(i.histories)) for i in dc.issues.values()
    ]
    assert cloud.fields.estimate.id == "customfield_10016"
    assert cloud.fields.estimate.custom == "com.pyxis.greenhopper.jira:jsw-story-points"
    assert cloud.fields.sprint.id == "customfield_10020"
    assert cloud.fields.flagged.id == "customfield_10021"
    assert dc.fields.estimate.id == "customfield_10106"
    assert dc.fields.estimate.name == "Story Points"
    assert dc.fields.sprint.id == "customfield_10104"
    assert dc.fields.epic_link is not None and dc.fields.epic_link.id == "customfield_10101"
    assert dc.fields.flagged.id == "customfield_10100"


def test_structure(big: JiraEmulator) -> None:
    w = big.world
    assert len(w.issues) == 3000
    types = {b.type for b in w.boards.values()}
    assert types == {"scrum", "kanban"}
    states = [s.state for s in w.sprints.values()]
    assert states.count("active") == sum(1 for b in w.boards.values() if b.type == "scrum")
    assert "closed" in states and "future" in states
    for board in w.boards.values():  # 2-week sprints spanning ~6 months before now
        sprints = [w.sprints[s] for s in board.sprint_ids]
        closed = [s for s in sprints if s.state == "closed"]
        assert all(s.end - s.start == 14 * DAY for s in closed if s.start and s.end)
        assert not board.sprint_ids or len(closed) >= 10
    versions = list(w.versions.values())
    assert any(v.released for v in versions) and any(not v.released for v in versions)
    assert any(v.archived for v in versions)
    epics = [i for i in w.issues.values() if i.type_id == cat.EPIC.id]
    assert epics and sum(1 for e in epics if e.duedate) > len(epics) / 2
    assert any(i.fix_versions for i in w.issues.values())
    subtasks = [i for i in w.issues.values() if i.type_id == cat.SUBTASK.id]
    assert subtasks and all(i.parent in w.issues for i in subtasks)
    assert any(i.sprints for i in subtasks)  # sub-tasks carry their parent's sprint
    ids = [i.id for i in sorted(w.issues.values(), key=lambda i: i.created)]
    assert ids == sorted(ids)  # ids follow creation order


def _transitions(issue: Any) -> list[tuple[int, str, str]]:
    return [
        (h.at, cat.STATUSES[c.old].name, cat.STATUSES[c.new].name)
        for h in issue.histories
        for c in h.changes
        if c.field == "status"
    ]


def test_histories_are_realistic(big: JiraEmulator) -> None:
    w = big.world
    issues = list(w.issues.values())
    moves = [t for i in issues for t in itertools.pairwise(_transitions(i))]
    pairs = {(a[1], a[2]) for i in issues for a in _transitions(i)}
    assert ("In Review", "In Progress") in pairs  # review bounce
    assert ("Done", "To Do") in pairs or ("Done", "In Progress") in pairs  # reopened
    assert ("To Do", "Done") in pairs or ("To Do", "In Review") in pairs  # skipped columns
    assert any(b[0] - a[0] < HOUR for a, b in moves)  # same-day quick moves
    assert max(len(i.histories) for i in issues) > 100  # changelog truncation matters
    fields = {c.field for i in issues for h in i.histories for c in h.changes}
    assert {
        "flagged",
        "assignee",
        "duedate",
        "estimate",
        "sprint",
        "parent",
        "link",
        "fix_version",
        "resolution",
        "labels",
    } <= fields
    for issue in issues:  # ordered, increasing ids, within the issue's life and before now
        ats = [h.at for h in issue.histories]
        assert ats == sorted(ats)
        hids = [h.id for h in issue.histories]
        assert hids == sorted(hids) and len(set(hids)) == len(hids)
        assert all(issue.created <= a < w.now_ms for a in ats)
    link_types = {lk.type_id for i in issues for lk in i.links}
    assert link_types == {cat.BLOCKS.id, cat.RELATES.id}


def test_sprint_journeys(big: JiraEmulator) -> None:
    w = big.world
    issues = [i for i in w.issues.values() if i.type_id != cat.SUBTASK.id]
    assert any(len(i.sprints) >= 3 for i in issues)  # carried over across two sprints
    truth = big.truth.sprints
    closed = [t for t in truth.values() if t.state == "closed"]
    assert any(t.added_ids for t in closed)  # mid-sprint additions
    assert any(t.removed_ids for t in closed)  # mid-sprint removals
    assert any(t.completed_outside_ids for t in closed)  # done before the sprint started
    assert any(t.not_completed_ids for t in closed)
    mid_sprint_estimates = 0
    for issue in issues:
        for h in issue.histories:
            for c in h.changes:
                if c.field != "estimate":
                    continue
                for sid in issue.sprints:
                    s = w.sprints[sid]
                    if s.start and s.complete and s.start < h.at < s.complete:
                        mid_sprint_estimates += 1
    assert mid_sprint_estimates > 0
    # created straight into a sprint: the sprint is set but no changelog item says so
    assert any(
        i.sprints and not any(c.field == "sprint" for h in i.histories for c in h.changes)
        for i in issues
    )


def test_adversarial_and_unicode_text(big: JiraEmulator) -> None:
    summaries = [i.summary for i in big.world.issues.values()]
    assert any(s.startswith("=") for s in summaries)
    assert any(s.startswith(("+", "-", "@")) for s in summaries)
    assert any(any(ord(ch) < 32 and ch not in "\t" for ch in s) for s in summaries)
    assert any("🚀" in s for s in summaries)
    assert any("\u0645" in s for s in summaries)  # Arabic (RTL)
    assert any("修" in s for s in summaries)
    assert any('"' in s and "(" in s for s in summaries)  # JQL-special characters
    long = [big.world.description_of(i) or "" for i in big.world.issues.values()]
    assert max(len(d) for d in long) > 32767


def test_truth_sprint_categories_are_consistent(big: JiraEmulator) -> None:
    w = big.world
    for t in big.truth.sprints.values():
        if t.state == "future":
            assert t.committed == 0 and not t.committed_ids
            continue
        at_end = t.completed_ids | t.not_completed_ids | t.completed_outside_ids
        assert not (t.completed_ids & t.not_completed_ids)
        assert not (t.completed_ids & t.completed_outside_ids)
        assert not (at_end & t.removed_ids)
        assert not (t.committed_ids & t.added_ids)
        for iid in at_end | t.committed_ids | t.added_ids | t.removed_ids:
            assert w.issues[int(iid)].type_id != cat.SUBTASK.id
        if t.state == "closed":
            for iid in at_end:
                assert t.id in w.issues[int(iid)].sprints


def test_hand_worked_sprint_report() -> None:
    """One closed sprint built event by event; numbers worked out by hand from METRICS.md §3."""
    emu = JiraEmulator(OrgSpec(seed=1, projects=1, issues=0), "cloud")
    board = next(b for b in emu.world.boards.values() if b.type == "scrum")
    sprint = next(
        emu.world.sprints[s] for s in board.sprint_ids if emu.world.sprints[s].state == "closed"
    )
    assert sprint.start is not None and sprint.complete is not None
    t0, sid, m = sprint.start, sprint.id, emu.mutate

    def at(days: float) -> int:
        return t0 + int(days * DAY)

    def story(name: str, created: float, points: float | None, **kw: Any) -> str:
        return m.create("WEB", summary=name, story_points=points, at=at(created), **kw).key

    a = story("A committed, re-estimated, done", -3, 3)
    m.edit(a, sprint_ids=[sid], at=at(-1))
    m.transition(a, "In Progress", at=at(1))
    m.edit(a, story_points=5, at=at(2))
    m.transition(a, "Done", at=at(5))
    b = story("B committed then removed", -3, 2)
    m.edit(b, sprint_ids=[sid], at=at(-1))
    m.edit(b, sprint_ids=[], at=at(3))
    c = story("C created into the sprint, unfinished", 2, 8, sprint_ids=[sid])
    m.transition(c, "In Progress", at=at(3))
    d = story("D done in the backlog, then added", -10, 1)
    m.transition(d, "Done", at=at(-5))
    m.edit(d, sprint_ids=[sid], at=at(-1))
    e = story("E in the sprint, done before it started", -3, 5)
    m.edit(e, sprint_ids=[sid], at=at(-1))
    m.transition(e, "Done", at=at(-0.1))
    m.create("WEB", type="Sub-task", summary="F sub-task", parent=a, story_points=3, at=at(-0.5))
    h = story("H unestimated, done", -3, None)
    m.edit(h, sprint_ids=[sid], at=at(-1))
    m.transition(h, "Done", at=at(4))
    i = story("I done, then reopened", -3, 1)
    m.edit(i, sprint_ids=[sid], at=at(-1))
    m.transition(i, "Done", at=at(1))
    m.transition(i, "In Progress", at=at(2))
    j = story("J added mid-sprint, re-estimated, done", 1, 2)
    m.edit(j, sprint_ids=[sid], at=at(4))
    m.edit(j, story_points=3, at=at(5))
    m.transition(j, "Done", at=at(6))
    k = story("K done before start, reopened, done again", -5, 2)
    m.edit(k, sprint_ids=[sid], at=at(-1))
    m.transition(k, "Done", at=at(-2))
    m.transition(k, "To Do", at=at(1))
    m.transition(k, "Done", at=at(3))
    m.transition(story("W won't do, counts as done", -3, 4, sprint_ids=[sid]), "Won't Do", at=at(2))

    t = emu.truth.sprints[sid]
    ids = {emu.world.lookup(key).id: key for key in (a, b, c, d, e, h, i, j, k)}  # type: ignore

    def keys(values: frozenset[str]) -> set[str]:
        return {ids.get(int(v), "W") for v in values}

    assert keys(t.committed_ids) == {a, b, h, i, "W"} and t.committed == 3 + 2 + 0 + 1 + 4
    assert keys(t.added_ids) == {c, j} and t.added == 8 + 2
    assert keys(t.removed_ids) == {b} and t.removed == 2
    assert keys(t.completed_ids) == {a, h, j, k, "W"} and t.completed == 5 + 0 + 3 + 2 + 4
    assert keys(t.completed_outside_ids) == {d, e} and t.completed_outside == 1 + 5
    assert keys(t.not_completed_ids) == {c, i} and t.not_completed == 8 + 1


def test_planted_risks_are_recorded() -> None:
    emu = JiraEmulator(
        OrgSpec(
            seed=3,
            projects=3,
            issues=300,
            now=NOW,
            plant=(
                "overdue_epic",
                "forecast_late_epic",
                "stalled_epic",
                "blocked_epic",
                "scope_growth",
                "unestimated",
            ),
        ),
        "cloud",
    )
    planted = emu.truth.planted
    assert set(planted) == {
        "overdue_epic",
        "forecast_late_epic",
        "stalled_epic",
        "blocked_epic",
        "scope_growth",
        "unestimated",
    }
    overdue = emu.truth.issue(planted["overdue_epic"][0])
    assert overdue.type == "Epic" and overdue.duedate is not None
    assert overdue.duedate < NOW.date() and overdue.status_category != "done"
    growth = emu.truth.issue(planted["scope_growth"][1])
    assert growth.parent_key == planted["scope_growth"][0]
    late = [emu.truth.issue(k) for k in planted["scope_growth"][-4:]]
    assert all(x.changes_of("parent") for x in late)  # joined the epic after it started
    for key in planted["unestimated"]:
        issue = emu.truth.issue(key)
        assert issue.estimate is None and issue.sprint_ids


def test_rejects_bad_specs() -> None:
    with pytest.raises(ValueError):
        OrgSpec(plant=("nonsense",))
    with pytest.raises(ValueError):
        OrgSpec(projects=0)
    with pytest.raises(ValueError):
        JiraEmulator(OrgSpec(issues=10), "server")  # type: ignore[arg-type]


@pytest.mark.slow
def test_fifty_thousand_issues_generate_fast() -> None:
    gc.collect()
    t = time.perf_counter()
    world = generate(OrgSpec(seed=2, projects=8, issues=50_000), "cloud")
    elapsed = time.perf_counter() - t
    histories = sum(len(i.histories) for i in world.issues.values())
    assert len(world.issues) == 50_000
    assert histories > 350_000
    assert elapsed < 30, f"50k issues took {elapsed:.1f}s"


@pytest.mark.slow
def test_hundred_thousand_issues_work() -> None:
    world = generate(
        OrgSpec(seed=4, projects=12, issues=100_000, now=NOW + timedelta(days=3)), "datacenter"
    )
    assert len(world.issues) == 100_000
    assert max(i.id for i in world.issues.values()) == 10000 + 100_000 - 1
