"""Changing the world — from Python and over HTTP — shows up in search, changelogs and truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from pulse.emulators.jira import JiraEmulator, MutationError, OrgSpec
from pulse.emulators.jira import catalog as cat

PINNED = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a pinned world: the tests below name its dates

T1 = datetime(2026, 11, 21, 9, 15, 30, tzinfo=UTC)


class Site:
    def __init__(self, emu: JiraEmulator, url: str) -> None:
        self.emu = emu
        self.url = url
        self.v = "3" if emu.flavour == "cloud" else "2"
        self.s = requests.Session()
        if emu.flavour == "cloud":
            self.s.auth = emu.basic_auth
        else:
            self.s.headers["Authorization"] = f"Bearer {emu.credentials}"

    def rest(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.s.request(method, f"{self.url}/rest/api/{self.v}{path}", **kw)

    def issue(self, ref: str, **params: Any) -> requests.Response:
        return self.rest("GET", f"/issue/{ref}", params=params)

    def search_keys(self, jql: str) -> list[str]:
        if self.emu.flavour == "cloud":
            r = self.rest(
                "GET", "/search/jql", params={"jql": jql, "fields": "key", "maxResults": 5000}
            )
        else:
            r = self.rest(
                "GET", "/search", params={"jql": jql, "fields": "key", "maxResults": 1000}
            )
        assert r.status_code == 200, r.text
        return [i["key"] for i in r.json()["issues"]]

    def ctl(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{self.url}/_emulator/{path}", json=body)


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def served(request: pytest.FixtureRequest) -> Iterator[Site]:
    emu = JiraEmulator(OrgSpec(seed=44, projects=3, issues=400, now=PINNED), request.param)
    emu.clock.set(T1)
    with emu.serve() as server:
        yield Site(emu, server.url)


@pytest.fixture
def site(served: Site) -> Site:
    """The shared site, its clock moved on an hour so each test starts at a fresh instant."""
    served.emu.clock.advance(3600)
    return served


def local_cursor(emu: JiraEmulator, when: datetime) -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(emu.user_timezone)).strftime("%Y-%m-%d %H:%M")


def open_story(emu: JiraEmulator, project: str = "WEB") -> Any:
    return next(
        i
        for i in emu.world.issues.values()
        if i.type_id == cat.STORY.id
        and i.status == cat.TODO.id
        and emu.world.projects[i.project_id].key == project
        and not emu.world.children.get(i.id)
    )


def test_python_transition_is_a_new_history_visible_everywhere(site: Site) -> None:
    emu = site.emu
    start = emu.clock.now()
    issue = open_story(emu)
    max_hid = max(h.id for i in emu.world.issues.values() for h in i.histories)
    emu.mutate.transition(issue.key, "In Progress")
    emu.clock.advance(90)
    emu.mutate.transition(issue.key, "Done")
    body = site.issue(issue.key, expand="changelog").json()
    assert body["fields"]["status"]["name"] == "Done"
    assert body["fields"]["resolution"]["name"] == "Done"
    hist = body["changelog"]["histories"][-2:]
    assert int(hist[0]["id"]) > max_hid and int(hist[1]["id"]) > int(hist[0]["id"])
    assert [(i["field"], i["toString"]) for i in hist[1]["items"]] == [
        ("status", "Done"),
        ("resolution", "Done"),
    ]
    assert site.search_keys(f'updated >= "{local_cursor(emu, start)}" AND key = {issue.key}') == [
        issue.key
    ]
    later = start + timedelta(minutes=3)  # past the minute of the last update
    assert site.search_keys(f'updated >= "{local_cursor(emu, later)}" AND key = {issue.key}') == []
    t = emu.truth.issue(issue.key)
    assert [(x.from_status, x.to_status) for x in t.transitions[-2:]] == [
        ("To Do", "In Progress"),
        ("In Progress", "Done"),
    ]
    assert t.transitions[-1].at == start + timedelta(seconds=90)
    assert t.updated == start + timedelta(seconds=90)
    assert t.status == "Done" and t.status_category == "done"


def test_python_edit_records_each_field(site: Site) -> None:
    emu = site.emu
    issue = open_story(emu)
    sprint = next(
        s
        for s in emu.world.sprints.values()
        if s.state == "active" and emu.world.boards[s.board_id].project_id == issue.project_id
    )
    epic = next(
        i
        for i in emu.world.issues.values()
        if i.type_id == cat.EPIC.id and i.project_id == issue.project_id and i.id != issue.parent
    )
    emu.mutate.edit(
        issue.key,
        summary="Renamed",
        story_points=8,
        sprint_ids=[sprint.id],
        flagged=True,
        duedate="2026-12-24",
        parent=epic.key,
    )
    t = emu.truth.issue(issue.key)
    last = t.changes[-5:]
    assert {c.field for c in last} == {"estimate", "sprint", "flagged", "duedate", "parent"}
    assert len({c.history_id for c in last}) == 1  # one edit, one history
    assert t.estimate == 8 and t.sprint_ids == (sprint.id,) and t.flagged
    assert t.parent_key == epic.key and str(t.duedate) == "2026-12-24"
    assert t.summary == "Renamed"
    assert issue.key in site.search_keys(f"sprint = {sprint.id}")
    assert site.emu.truth.sprints[sprint.id].added_ids >= {t.id}
    emu.mutate.edit(issue.key, flagged=False, story_points=None)
    t = emu.truth.issue(issue.key)
    assert [(c.field, c.from_value, c.to_value) for c in t.changes[-2:]] == [
        ("estimate", 8.0, None),
        ("flagged", True, False),
    ]


def test_python_create_delete_move_restrict(site: Site) -> None:
    emu = site.emu
    start = emu.clock.now()
    created = emu.mutate.create("MOB", summary="Brand new", story_points=2, labels=["x"])
    assert site.issue(created.key).status_code == 200
    assert created.key in site.search_keys("project = MOB AND labels = x")
    assert (
        emu.truth.issue(created.key).created == start
        and not emu.truth.issue(created.key).transitions
    )

    victim = open_story(emu, "API")
    emu.mutate.delete(victim.key)
    assert site.issue(victim.key).status_code == 404
    assert site.issue(str(victim.id)).status_code == 404
    assert victim.key not in site.search_keys("project = API")
    assert str(victim.id) in emu.truth.deleted and str(victim.id) not in emu.truth.issues

    mover = open_story(emu, "WEB")
    old_key = mover.key
    emu.mutate.move(old_key, "MOB")
    new_key = emu.truth.moved[old_key]
    assert new_key.startswith("MOB-")
    by_old = site.issue(old_key, expand="changelog").json()
    assert by_old["key"] == new_key and by_old["id"] == str(mover.id)
    assert site.issue(str(mover.id)).json()["key"] == new_key
    items = by_old["changelog"]["histories"][-1]["items"]
    assert [i["field"] for i in items][:2] == ["Key", "project"]
    assert {i["field"] for i in items[2:]} <= {"Fix Version"}  # versions stay behind
    assert items[0]["fromString"] == old_key and items[0]["toString"] == new_key
    assert new_key in site.search_keys("project = MOB")
    assert site.search_keys(f"key = {old_key}") == [new_key]  # old keys still resolve
    assert str(mover.id) in emu.truth.moved_ids

    hidden = open_story(emu, "WEB")
    emu.mutate.restrict(hidden.key)
    assert site.issue(hidden.key).status_code == 404
    assert hidden.key not in site.search_keys("project = WEB")
    assert str(hidden.id) in emu.truth.restricted
    assert str(hidden.id) not in emu.truth.deleted and str(hidden.id) in emu.truth.issues
    assert str(hidden.id) not in emu.truth.visible_ids


def test_deleting_a_parent_takes_its_subtasks(site: Site) -> None:
    emu = site.emu
    parent = next(
        i
        for i in emu.world.issues.values()
        if any(
            emu.world.issues[k].type_id == cat.SUBTASK.id
            for k in emu.world.children.get(i.id, [])
            if k in emu.world.issues
        )
    )
    kids = [k for k in emu.world.children[parent.id] if k in emu.world.issues]
    r = site.rest("DELETE", f"/issue/{parent.key}")
    assert r.status_code == 400  # Jira refuses without deleteSubtasks=true
    r = site.rest("DELETE", f"/issue/{parent.key}", params={"deleteSubtasks": "true"})
    assert r.status_code == 204
    assert {str(parent.id), *(str(k) for k in kids)} <= emu.truth.deleted


def test_http_mutations(site: Site) -> None:
    emu = site.emu
    f = emu.world.fields
    sprint = next(
        s
        for s in emu.world.sprints.values()
        if s.state == "active" and emu.world.boards[s.board_id].project_id == 10000
    )
    epic = next(
        i for i in emu.world.issues.values() if i.type_id == cat.EPIC.id and i.project_id == 10000
    )
    description: Any = (
        "Plain *wiki*"
        if site.v == "2"
        else {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "ADF body"}]}],
        }
    )
    fields: dict[str, Any] = {
        "project": {"key": "WEB"},
        "issuetype": {"name": "Story"},
        "summary": "Over HTTP",
        "description": description,
        f.estimate.id: 5,
        f.sprint.id: sprint.id,
        "labels": ["http"],
    }
    if f.epic_link is not None:
        fields[f.epic_link.id] = epic.key
    else:
        fields["parent"] = {"key": epic.key}
    r = site.rest("POST", "/issue", json={"fields": fields})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    t = emu.truth.issue(key)
    assert t.estimate == 5 and t.sprint_ids == (sprint.id,) and t.parent_key == epic.key
    assert not t.changes  # values given at creation make no changelog

    emu.clock.advance(60)
    r = site.rest(
        "PUT",
        f"/issue/{key}",
        json={
            "fields": {
                "summary": "Over HTTP, renamed",
                f.estimate.id: 3,
                f.flagged.id: [{"value": "Impediment"}],
                "duedate": "2026-12-31",
            },
            "update": {"labels": [{"add": "edited"}]},
        },
    )
    assert r.status_code == 204, r.text
    t = emu.truth.issue(key)
    assert t.estimate == 3 and t.flagged and set(t.labels) == {"http", "edited"}

    transitions = site.rest("GET", f"/issue/{key}/transitions").json()["transitions"]
    done = next(tr["id"] for tr in transitions if tr["to"]["name"] == "Done")
    r = site.rest("POST", f"/issue/{key}/transitions", json={"transition": {"id": done}})
    assert r.status_code == 204
    assert emu.truth.issue(key).status == "Done"
    assert (
        site.rest(
            "POST", f"/issue/{key}/transitions", json={"transition": {"id": "999"}}
        ).status_code
        == 400
    )

    bad = site.rest("PUT", f"/issue/{key}", json={"fields": {"colour": "red"}})
    assert bad.status_code == 400 and "colour" in bad.json()["errors"]

    jump = emu.clock.now().replace(microsecond=0) + timedelta(days=1)
    r = site.ctl("clock", {"now": jump.isoformat()})
    assert datetime.fromisoformat(r.json()["now"]) == jump
    r = site.ctl("move", {"issue": key, "project": "API"})
    new_key = r.json()["key"]
    assert new_key.startswith("API-") and emu.truth.moved[key] == new_key
    assert emu.truth.issue(new_key).updated == jump
    assert site.ctl("restrict", {"issue": new_key}).status_code == 200
    assert site.issue(new_key).status_code == 404

    other = open_story(emu, "MOB")
    assert site.rest("DELETE", f"/issue/{other.key}").status_code == 204
    assert str(other.id) in emu.truth.deleted
    truth = requests.get(f"{site.url}/_emulator/truth").json()
    assert str(other.id) in truth["deleted"] and key in truth["moved"]


def test_sprint_field_put_keeps_closed_sprints(site: Site) -> None:
    emu = site.emu
    f = emu.world.fields
    issue = next(
        i
        for i in emu.world.issues.values()
        if i.type_id != cat.SUBTASK.id
        and len(i.sprints) >= 2
        and any(emu.world.sprints[s].state == "closed" for s in i.sprints)
    )
    future = next(
        s
        for s in emu.world.sprints.values()
        if s.state == "future" and emu.world.boards[s.board_id].project_id == issue.project_id
    )
    closed = tuple(s for s in issue.sprints if emu.world.sprints[s].state == "closed")
    r = site.rest("PUT", f"/issue/{issue.key}", json={"fields": {f.sprint.id: future.id}})
    assert r.status_code == 204
    assert emu.truth.issue(issue.key).sprint_ids == tuple(sorted((*closed, future.id)))
    r = site.rest("PUT", f"/issue/{issue.key}", json={"fields": {f.sprint.id: None}})
    assert emu.truth.issue(issue.key).sprint_ids == closed


def test_subtasks_follow_their_parents_sprint(site: Site) -> None:
    emu = site.emu
    scrum = {b.project_id for b in emu.world.boards.values() if b.type == "scrum"}
    parent = next(
        i
        for i in emu.world.issues.values()
        if i.type_id != cat.SUBTASK.id
        and i.project_id in scrum
        and any(
            emu.world.issues[k].type_id == cat.SUBTASK.id
            for k in emu.world.children.get(i.id, [])
            if k in emu.world.issues
        )
    )
    sprint = next(
        s
        for s in emu.world.sprints.values()
        if s.state == "future" and emu.world.boards[s.board_id].project_id == parent.project_id
    )
    emu.mutate.edit(parent.key, sprint_ids=[sprint.id])
    for kid in emu.world.children[parent.id]:
        if kid in emu.world.issues and emu.world.issues[kid].type_id == cat.SUBTASK.id:
            t = emu.truth.issues[str(kid)]
            assert t.sprint_ids == (sprint.id,)
            assert t.changes_of("sprint")[-1].to_value == (sprint.id,)


def test_mutation_errors(site: Site) -> None:
    emu = site.emu
    with pytest.raises(MutationError):
        emu.mutate.transition("WEB-1", "Teleported")
    with pytest.raises(MutationError):
        emu.mutate.create("NOPE", summary="x")
    with pytest.raises(MutationError):
        emu.mutate.edit("WEB-99999", summary="x")
    with pytest.raises(MutationError):
        emu.mutate.edit("WEB-2", sprint_ids=[987654])
    r = site.rest(
        "POST",
        "/issue",
        json={"fields": {"project": {"key": "WEB"}, "issuetype": {"name": "Story"}}},
    )
    assert r.status_code == 400 and "summary" in r.json()["errors"]
