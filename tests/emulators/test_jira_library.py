"""The real `jira` client library (pycontribs, 3.10.5) works against both flavours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulse.emulators.jira import JiraEmulator, OrgSpec

jira = pytest.importorskip("jira")


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[JiraEmulator, Any]]:
    emu = JiraEmulator(OrgSpec(seed=66, projects=3, issues=450), "cloud")
    with emu.serve() as server:
        yield emu, jira.JIRA(server.url, basic_auth=emu.credentials, get_server_info=True)


@pytest.fixture(scope="module")
def dc() -> Iterator[tuple[JiraEmulator, Any]]:
    emu = JiraEmulator(OrgSpec(seed=66, projects=3, issues=450), "datacenter")
    with emu.serve() as server:
        yield emu, jira.JIRA(server.url, token_auth=emu.credentials)


def test_cloud_enhanced_search(cloud: tuple[JiraEmulator, Any]) -> None:
    emu, client = cloud
    assert client._is_cloud and client.server_info()["deploymentType"] == "Cloud"
    jql = "project in (WEB, MOB) ORDER BY key"
    emu.requests.reset()
    issues = client.enhanced_search_issues(
        jql, maxResults=False, expand="changelog", fields=["summary", "status", "Sprint"]
    )
    expected = emu.search.evaluate(jql, cloud=True)
    assert [int(i.id) for i in issues] == expected  # paged by nextPageToken, 100 at a time
    assert emu.requests.by_path["/rest/api/2/search/jql"] == -(-len(expected) // 100)
    sample = issues[0]
    truth = emu.truth.issues[sample.id]
    assert sample.fields.status.name == truth.status
    assert sample.changelog.total == truth.history_count
    with pytest.raises(jira.JIRAError):  # the removed endpoint, as the library reports it
        client.search_issues(jql, startAt=10)
    assert client.approximate_issue_count("project = WEB") == len(
        emu.search.evaluate("project = WEB", cloud=True)
    )
    assert client.myself()["timeZone"] == emu.user_timezone


def test_cloud_fields_boards_sprints_and_writes(cloud: tuple[JiraEmulator, Any]) -> None:
    emu, client = cloud
    by_schema = {f.get("schema", {}).get("custom"): f["id"] for f in client.fields()}
    assert by_schema["com.pyxis.greenhopper.jira:jsw-story-points"] == "customfield_10016"
    assert by_schema["com.pyxis.greenhopper.jira:gh-sprint"] == "customfield_10020"
    boards = client.boards(maxResults=0)
    assert len(boards) == len(emu.world.boards)
    scrum = next(b for b in boards if b.type == "scrum")
    sprints = client.sprints(scrum.id, maxResults=0)
    assert [s.id for s in sprints] == sorted(emu.world.boards[scrum.id].sprint_ids)
    assert [s.state for s in sprints][-3:] == ["active", "future", "future"]
    created = client.create_issue(
        project="WEB", summary="From the library", issuetype={"name": "Task"}
    )
    client.transition_issue(created.key, "In Progress")
    created.update(fields={"summary": "Renamed by the library"})
    t = emu.truth.issue(created.key)
    assert t.status == "In Progress" and t.summary == "Renamed by the library"
    assert [x.to_status for x in t.transitions] == ["In Progress"]
    created.delete()
    assert created.id in emu.truth.deleted


def test_dc_search_issues(dc: tuple[JiraEmulator, Any]) -> None:
    emu, client = dc
    assert not client._is_cloud
    assert client.enhanced_search_issues("project = WEB") is None  # @cloud_api on Server
    jql = "project in (WEB, MOB, API) ORDER BY key"
    issues = client.search_issues(jql, maxResults=False, expand="changelog")
    assert [int(i.id) for i in issues] == emu.search.evaluate(jql, cloud=False)
    first = issues[0]
    assert first.fields.summary == emu.truth.issues[first.id].summary
    fields = {f["id"]: f for f in client.fields()}
    assert fields["customfield_10106"]["name"] == "Story Points"
    assert (
        fields["customfield_10101"]["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-epic-link"
    )
    assert client.myself()["name"] == "pm"
    board = next(b for b in client.boards(maxResults=0) if b.type == "scrum")
    assert len(client.sprints(board.id, maxResults=0)) == len(emu.world.boards[board.id].sprint_ids)
    basic = jira.JIRA(client.server_url, basic_auth=emu.basic_auth)
    assert basic.issue("WEB-1").key == "WEB-1"
