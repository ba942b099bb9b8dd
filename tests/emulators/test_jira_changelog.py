"""Changelogs: truncation where Jira truncates, full paging where Jira pages, and item shapes.

The reference client at the bottom rebuilds every issue's history from the API alone and must
arrive at the emulator's ground truth — which proves the wire shapes and the truth agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
import requests

from pulse.emulators.jira import JiraEmulator, Limits, OrgSpec


class Client:
    """Just enough of a sync client to read Jira back."""

    def __init__(self, emu: JiraEmulator, url: str, api: str) -> None:
        self.emu = emu
        self.url = url
        self.rest = f"{url}/rest/api/{api}"
        self.s = requests.Session()
        if emu.flavour == "cloud":
            self.s.auth = emu.basic_auth
        else:
            self.s.headers["Authorization"] = f"Bearer {emu.credentials}"

    def get(self, path: str, **params: Any) -> Any:
        r = self.s.get(self.rest + path, params=params)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        return r.json()

    def search_all(self, jql: str, fields: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.emu.flavour == "cloud":
            token = None
            while True:
                params: dict[str, Any] = {
                    "fields": fields,
                    "expand": "changelog",
                    "maxResults": 100,
                }
                if token:
                    params["nextPageToken"] = token
                body = self.get("/search/jql", jql=jql, **params)
                out += body["issues"]
                token = body.get("nextPageToken")
                if not token:
                    return out
        start = 0
        while True:
            body = self.get(
                "/search", jql=jql, fields=fields, expand="changelog", startAt=start, maxResults=100
            )
            out += body["issues"]
            start += len(body["issues"])
            if start >= body["total"]:
                return out

    def full_changelog(self, issue_id: str) -> list[dict[str, Any]]:
        if self.emu.flavour != "cloud":  # DC: the issue itself carries the whole history
            return self.get(f"/issue/{issue_id}", expand="changelog", fields="status")["changelog"][
                "histories"
            ]
        values: list[dict[str, Any]] = []
        start = 0
        while True:
            page = self.get(f"/issue/{issue_id}/changelog", startAt=start, maxResults=100)
            values += page["values"]
            start += len(page["values"])
            if page["isLast"]:
                return values


@pytest.fixture(scope="module")
def cloud() -> Iterator[Client]:
    emu = JiraEmulator(OrgSpec(seed=33, projects=3, issues=500, heavy_issues=3), "cloud")
    with emu.serve() as server:
        yield Client(emu, server.url, "3")


@pytest.fixture(scope="module")
def dc() -> Iterator[Client]:
    emu = JiraEmulator(OrgSpec(seed=33, projects=3, issues=500, heavy_issues=3), "datacenter")
    with emu.serve() as server:
        yield Client(emu, server.url, "2")


def heavy(client: Client) -> Any:
    return max(client.emu.world.issues.values(), key=lambda i: len(i.histories))


def test_search_embeds_only_the_40_most_recent_histories_on_cloud(cloud: Client) -> None:
    issue = heavy(cloud)
    total = len(issue.histories)
    assert total > 100
    body = cloud.get("/search/jql", jql=f"key = {issue.key}", expand="changelog")
    log = body["issues"][0]["changelog"]
    assert log["total"] == total
    assert len(log["histories"]) == 40 and log["maxResults"] == 40
    assert log["startAt"] == total - 40
    assert [h["id"] for h in log["histories"]] == [str(h.id) for h in issue.histories[-40:]]


def test_get_issue_embeds_the_100_most_recent_on_cloud_and_all_on_dc(
    cloud: Client, dc: Client
) -> None:
    issue = heavy(cloud)
    log = cloud.get(f"/issue/{issue.key}", expand="changelog")["changelog"]
    assert log["total"] == len(issue.histories) and log["startAt"] == len(issue.histories) - 100
    assert [h["id"] for h in log["histories"]] == [str(h.id) for h in issue.histories[-100:]]
    issue = heavy(dc)  # DC has no changelog resource: the issue carries the whole history
    log = dc.get(f"/issue/{issue.key}", expand="changelog")["changelog"]
    assert log["startAt"] == 0 and log["total"] == len(issue.histories) > 100
    assert [h["id"] for h in log["histories"]] == [str(h.id) for h in issue.histories]


def test_dc_issue_cap_is_configurable() -> None:
    emu = JiraEmulator(
        OrgSpec(seed=33, projects=1, issues=60, heavy_issues=1),
        "datacenter",
        limits=replace(Limits.for_flavour("datacenter"), issue_changelog=100),
    )
    issue = heavy(Client(emu, "", "2"))
    with emu.serve() as server:
        client = Client(emu, server.url, "2")
        log = client.get(f"/issue/{issue.key}", expand="changelog")["changelog"]
    assert len(log["histories"]) == 100 < log["total"]


def test_dc_search_embeds_100(dc: Client) -> None:
    issue = heavy(dc)
    body = dc.get("/search", jql=f"key = {issue.key}", expand="changelog")
    log = body["issues"][0]["changelog"]
    assert len(log["histories"]) == 100 and log["total"] == len(issue.histories)


def test_cloud_changelog_endpoint_pages_oldest_first(cloud: Client) -> None:
    issue = heavy(cloud)
    page = cloud.get(f"/issue/{issue.id}/changelog", startAt=0, maxResults=1000)
    assert page["maxResults"] == 100 and len(page["values"]) == 100
    assert page["isLast"] is False and "startAt=100" in page["nextPage"]
    assert page["total"] == len(issue.histories)
    values = cloud.full_changelog(str(issue.id))
    assert [v["id"] for v in values] == [str(h.id) for h in issue.histories]
    created = [v["created"] for v in values]
    assert created == sorted(created, key=lambda c: datetime.strptime(c, "%Y-%m-%dT%H:%M:%S.%f%z"))
    by_key = cloud.get(f"/issue/{issue.key}/changelog", startAt=len(values) - 2)
    assert by_key["isLast"] is True and len(by_key["values"]) == 2 and "nextPage" not in by_key


def test_cloud_bulk_changelog_fetch(cloud: Client) -> None:
    emu = cloud.emu
    issues = [heavy(cloud), *list(emu.world.issues.values())[:30]]
    refs = [i.key for i in issues]
    expected = sorted(
        (h.at, i.id, str(h.id)) for i in {x.id: x for x in issues}.values() for h in i.histories
    )
    got: list[tuple[str, str]] = []
    token = None
    pages = 0
    while True:
        body: dict[str, Any] = {"issueIdsOrKeys": refs, "maxResults": 70}
        if token:
            body["nextPageToken"] = token
        r = cloud.s.post(f"{cloud.rest}/changelog/bulkfetch", json=body)
        page = r.json()
        pages += 1
        got += [(log["issueId"], h["id"]) for log in page["issueChangeLogs"]
                for h in log["changeHistories"]]  # fmt: skip
        token = page.get("nextPageToken")
        if not token:
            break
    assert sorted(got, key=lambda x: int(x[1])) == sorted(
        ((str(i), h) for _, i, h in expected), key=lambda x: int(x[1])
    )
    assert pages == -(-len(expected) // 70)
    only = cloud.s.post(
        f"{cloud.rest}/changelog/bulkfetch",
        json={"issueIdsOrKeys": refs, "fieldIds": ["status"], "maxResults": 10000},
    ).json()
    items = [i for log in only["issueChangeLogs"] for h in log["changeHistories"]
             for i in h["items"]]  # fmt: skip
    assert items and {i["fieldId"] for i in items} == {"status"}


def test_cloud_bulk_issue_fetch_leaves_out_missing_issues(cloud: Client) -> None:
    emu = cloud.emu
    a, b = list(emu.world.issues.values())[:2]
    r = cloud.s.post(
        f"{cloud.rest}/issue/bulkfetch",
        json={"issueIdsOrKeys": [a.key, str(b.id), "NOPE-9", "999999"], "fields": ["summary"]},
    )
    body = r.json()
    assert [i["key"] for i in body["issues"]] == [a.key, b.key]
    assert body["issueErrors"] == []
    too_many = {"issueIdsOrKeys": [str(n) for n in range(101)]}
    assert cloud.s.post(f"{cloud.rest}/issue/bulkfetch", json=too_many).status_code == 400


def test_dc_has_no_changelog_endpoint(dc: Client) -> None:
    issue = heavy(dc)
    r = dc.s.get(f"{dc.rest}/issue/{issue.key}/changelog")
    assert r.status_code == 404


def test_item_shapes_cloud(cloud: Client) -> None:
    emu = cloud.emu
    f = emu.world.fields
    items = [
        item
        for issue in cloud.search_all("project in (WEB, MOB, API)", "id")
        for h in issue["changelog"]["histories"]
        for item in h["items"]
    ]
    by_field: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_field.setdefault(item["field"], []).append(item)
    status = by_field["status"][0]
    assert set(status) == {"field", "fieldtype", "fieldId", "from", "fromString", "to", "toString"}
    assert status["from"].isdigit() and status["fromString"] in (
        "To Do",
        "In Progress",
        "In Review",
        "Done",
        "Ready for QA",
        "Won't Do",
    )
    sprint = next(i for i in by_field["Sprint"] if i["from"] and "," in i["to"])
    assert sprint["fieldId"] == f.sprint.id and sprint["fieldtype"] == "custom"
    assert all(x.strip().isdigit() for x in sprint["to"].split(","))
    assert "Sprint" in sprint["toString"]
    points = by_field["Story point estimate"][0]
    assert points["fieldId"] == "customfield_10016" and points["from"] is None
    assert points["toString"] is None or points["toString"].replace(".", "").isdigit()
    flag = next(i for i in by_field["Flagged"] if i["toString"])
    assert flag["toString"] == "Impediment" and flag["to"] == "[10019]"
    parent = by_field["IssueParentAssociation"][0]
    assert parent["to"].isdigit() and "-" in parent["toString"]
    link = by_field["Link"][0]
    assert link["toString"].startswith("This issue ")
    fix = by_field["Fix Version"][0]
    assert fix["fieldId"] == "fixVersions" and (fix["to"] or fix["from"]).isdigit()
    assert by_field["resolution"][0]["fieldId"] == "resolution"
    assert {"Rank", "assignee", "duedate"} <= set(by_field)


def test_item_shapes_dc(dc: Client) -> None:
    issues = dc.search_all("project in (WEB, MOB, API)", "*navigable")
    items = [
        item for issue in issues for h in issue["changelog"]["histories"] for item in h["items"]
    ]
    assert all("fieldId" not in item for item in items)  # Server never sends fieldId
    fields = {item["field"] for item in items}
    assert {"status", "Sprint", "Story Points", "Flagged", "Epic Link"} <= fields
    sprinted = next(i for i in issues if i["fields"].get("customfield_10104"))
    value = sprinted["fields"]["customfield_10104"][0]
    assert value.startswith("com.atlassian.greenhopper.service.sprint.Sprint@")
    assert "state=" in value and "name=" in value
    child = next(i for i in issues if i["fields"].get("customfield_10101"))
    assert "-" in child["fields"]["customfield_10101"]  # Epic Link holds the epic's key


def test_v2_is_wiki_and_v3_is_adf(cloud: Client) -> None:
    issue = next(i for i in cloud.emu.world.issues.values() if cloud.emu.world.description_of(i))
    v3 = cloud.get(f"/issue/{issue.key}", fields="description")["fields"]["description"]
    v2 = cloud.s.get(
        f"{cloud.url}/rest/api/2/issue/{issue.key}", params={"fields": "description"}
    ).json()["fields"]["description"]
    assert v3["type"] == "doc" and v3["version"] == 1
    assert isinstance(v2, str) and v2 == cloud.emu.world.description_of(issue)


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _rebuild(client: Client, issues: list[dict[str, Any]], full: bool) -> dict[str, Any]:
    """From API JSON only: status transitions and sprint/estimate/flag changes per issue id."""
    f = client.emu.world.fields
    out = {}
    for issue in issues:
        log = issue["changelog"]
        histories = log["histories"]
        if len(histories) < log["total"]:
            if not full:
                continue
            histories = client.full_changelog(issue["id"])
        rec: dict[str, list[Any]] = {"status": [], "sprint": [], "estimate": [], "flagged": []}
        for h in histories:
            at = _parse_time(h["created"])
            for item in h["items"]:
                name = item["field"]
                if name == "status":
                    rec["status"].append((h["id"], at, item["fromString"], item["toString"]))
                elif name == "Sprint":

                    def ids(v: str | None) -> tuple[int, ...]:
                        return tuple(int(x) for x in (v or "").split(",") if x.strip())

                    rec["sprint"].append((h["id"], at, ids(item["from"]), ids(item["to"])))
                elif name == f.estimate.name:

                    def pts(v: str | None) -> float | None:
                        return None if v in (None, "") else float(v)  # type: ignore[arg-type]

                    rec["estimate"].append(
                        (h["id"], at, pts(item["fromString"]), pts(item["toString"]))
                    )
                elif name == "Flagged":
                    rec["flagged"].append(
                        (h["id"], at, bool(item["fromString"]), bool(item["toString"]))
                    )
        out[issue["id"]] = rec
    return out


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_reference_client_arrives_at_the_truth(flavour: str, cloud: Client, dc: Client) -> None:
    client = cloud if flavour == "cloud" else dc
    truth = client.emu.truth
    issues = client.search_all("project in (WEB, MOB, API) ORDER BY id", "summary")
    assert {i["id"] for i in issues} == truth.visible_ids
    rebuilt = _rebuild(client, issues, full=True)
    assert set(rebuilt) == truth.visible_ids
    for issue_id, rec in rebuilt.items():
        t = truth.issues[issue_id]
        assert rec["status"] == [
            (x.history_id, x.at, x.from_status, x.to_status) for x in t.transitions
        ], t.key
        for name in ("sprint", "estimate", "flagged"):
            assert rec[name] == [
                (c.history_id, c.at, c.from_value, c.to_value) for c in t.changes_of(name)
            ], (t.key, name)
