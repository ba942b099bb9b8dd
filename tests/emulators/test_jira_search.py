"""Search over real HTTP: JQL semantics (user time zone, minute precision), paging and caps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from pulse.emulators.jira import JiraEmulator, OrgSpec
from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira.timefmt import to_ms

PINNED = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a pinned world: the tests below name its dates


class Site:
    """A served emulator with an authenticated session and search helpers."""

    def __init__(self, emu: JiraEmulator, url: str) -> None:
        self.emu = emu
        self.url = url
        self.s = requests.Session()
        if emu.flavour == "cloud":
            self.s.auth = emu.basic_auth
        else:
            self.s.headers["Authorization"] = f"Bearer {emu.credentials}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.s.get(self.url + path, params=params)

    def jql(self, jql: str, **params: Any) -> requests.Response:
        if self.emu.flavour == "cloud":
            return self.get("/rest/api/3/search/jql", jql=jql, **params)
        return self.get("/rest/api/2/search", jql=jql, **params)

    def keys(self, jql: str) -> list[str]:
        """Every matching key, paging to the end."""
        out: list[str] = []
        if self.emu.flavour == "cloud":
            token = None
            while True:
                params: dict[str, Any] = {"fields": "key", "maxResults": 5000}
                if token:
                    params["nextPageToken"] = token
                r = self.jql(jql, **params)
                assert r.status_code == 200, r.text
                body = r.json()
                out += [i["key"] for i in body["issues"]]
                token = body.get("nextPageToken")
                if not token:
                    return out
        start = 0
        while True:
            r = self.jql(jql, fields="key", maxResults=1000, startAt=start)
            assert r.status_code == 200, r.text
            body = r.json()
            out += [i["key"] for i in body["issues"]]
            start += len(body["issues"])
            if start >= body["total"] or not body["issues"]:
                return out


@pytest.fixture(scope="module")
def cloud() -> Iterator[Site]:
    emu = JiraEmulator(OrgSpec(seed=21, projects=3, issues=700, now=PINNED), "cloud")
    with emu.serve() as server:
        yield Site(emu, server.url)


@pytest.fixture(scope="module")
def dc() -> Iterator[Site]:
    emu = JiraEmulator(
        OrgSpec(seed=21, projects=3, issues=700, dc_max_results=250, now=PINNED), "datacenter"
    )
    with emu.serve() as server:
        yield Site(emu, server.url)


@pytest.fixture(params=["cloud", "dc"])
def site(request: pytest.FixtureRequest, cloud: Site, dc: Site) -> Site:
    return cloud if request.param == "cloud" else dc


def visible(site: Site) -> list[Any]:
    return [i for i in site.emu.world.issues.values() if not i.restricted]


# ------------------------------------------------------------------ JQL semantics
def test_field_clauses_match_the_model(site: Site) -> None:
    w = site.emu.world
    epic = next(i for i in visible(site) if i.type_id == cat.EPIC.id and w.children.get(i.id))
    sprint = next(s for s in w.sprints.values() if s.state == "closed")
    label = next(lb for i in visible(site) for lb in i.labels)
    epic_clause = (
        f"parent = {epic.key}" if site.emu.flavour == "cloud" else f'"Epic Link" = {epic.key}'
    )
    cases: dict[str, Any] = {
        "project = MOB": lambda i: i.project_id == 10001,
        "project in (WEB, API)": lambda i: i.project_id in (10000, 10002),
        "project = WEB AND status = Done": lambda i: (
            i.project_id == 10000 and i.status == cat.DONE.id
        ),
        'project = WEB AND status != "In Progress"': lambda i: (
            i.project_id == 10000 and i.status != cat.IN_PROGRESS.id
        ),
        "statusCategory = Done": lambda i: cat.is_done(i.status),
        'statusCategory in ("To Do", indeterminate)': lambda i: not cat.is_done(i.status),
        "issuetype in (Bug, Epic)": lambda i: i.type_id in (cat.BUG.id, cat.EPIC.id),
        "issuetype = Sub-task": lambda i: i.type_id == cat.SUBTASK.id,
        f"sprint = {sprint.id}": lambda i: sprint.id in i.sprints,
        f'sprint = "{sprint.name}"': lambda i: sprint.id in i.sprints,
        "sprint in openSprints()": lambda i: any(w.sprints[s].state != "closed" for s in i.sprints),
        "sprint is EMPTY AND project = WEB": lambda i: not i.sprints and i.project_id == 10000,
        epic_clause: lambda i: i.parent == epic.id and i.type_id != cat.SUBTASK.id,
        f"labels = {label}": lambda i: label in i.labels,
        "labels is not EMPTY": lambda i: bool(i.labels),
        f"project = WEB AND NOT labels = {label}": lambda i: (
            i.project_id == 10000 and label not in i.labels
        ),
        f"project = WEB AND labels != {label}": lambda i: (
            i.project_id == 10000 and bool(i.labels) and label not in i.labels
        ),
        "(project = WEB OR project = MOB) AND issuetype = Epic": lambda i: (
            i.project_id in (10000, 10001) and i.type_id == cat.EPIC.id
        ),
        "Flagged is not EMPTY": lambda i: i.flagged,
        "resolution = Unresolved AND project = API": lambda i: (
            i.resolution is None and i.project_id == 10002
        ),
    }
    for jql, pred in cases.items():
        expected = {i.key for i in visible(site) if pred(i)}
        got = site.keys(jql)
        assert len(got) == len(set(got)), jql
        assert set(got) == expected, jql


def test_key_and_id_clauses(site: Site) -> None:
    assert site.keys("key = WEB-3") == ["WEB-3"]
    assert site.keys("issuekey in (WEB-3, MOB-2) ORDER BY key") == ["MOB-2", "WEB-3"]
    web3 = site.emu.world.lookup("WEB-3")
    assert web3 is not None
    assert site.keys(f"id = {web3.id}") == ["WEB-3"]
    r = site.jql("key = WEB-99999")
    assert r.status_code == 400
    assert (
        "An issue with key 'WEB-99999' does not exist for field 'key'." in r.json()["errorMessages"]
    )


def test_keyset_pages_by_id_as_jira_does(site: Site) -> None:
    """`… AND id > N ORDER BY id` pages: the same issues as filtering the whole result."""
    issues = sorted(visible(site), key=lambda i: i.id)
    web = [i for i in issues if site.emu.world.projects[i.project_id].key == "WEB"]
    middle = web[len(web) // 2].id
    expected = [i.key for i in web if i.id > middle]
    assert site.keys(f"project = WEB AND id > {middle} ORDER BY id ASC") == expected
    assert site.keys(f"(project = WEB) AND id > {middle} ORDER BY id ASC") == expected
    # OR binds looser than AND: only the MOB clause is cut after the id.
    either = site.keys(f"project = WEB OR project = MOB AND id > {middle} ORDER BY id ASC")
    mob = [i for i in issues if site.emu.world.projects[i.project_id].key == "MOB"]
    assert sorted(either) == sorted([i.key for i in web] + [i.key for i in mob if i.id > middle])


def test_ordering(site: Site) -> None:
    issues = [i for i in visible(site) if i.project_id == 10000]
    by_updated = [i.key for i in sorted(issues, key=lambda i: (-i.updated, i.id))]
    assert site.keys("project = WEB ORDER BY updated DESC") == by_updated
    by_key = [i.key for i in sorted(issues, key=lambda i: int(i.key.split("-")[1]))]
    assert site.keys("project = WEB ORDER BY key ASC") == by_key
    by_created = [i.key for i in sorted(issues, key=lambda i: (i.created, i.id))]
    assert site.keys("project = WEB ORDER BY created") == by_created
    assert site.keys("project = WEB ORDER BY id DESC") == [
        i.key for i in sorted(issues, key=lambda i: -i.id)
    ]
    due = site.keys("project = WEB ORDER BY duedate ASC, key DESC")
    nones = [k for k in due if site.emu.world.lookup(k).duedate is None]  # type: ignore
    assert due[-len(nones) :] == nones  # empty values sort last ascending


def test_dates_are_read_in_the_users_zone_at_minute_precision(cloud: Site) -> None:
    emu = cloud.emu
    assert emu.user_timezone == "America/Los_Angeles"
    me = cloud.get("/rest/api/3/myself").json()
    assert me["timeZone"] == "America/Los_Angeles"
    issue = emu.world.lookup("API-5")
    assert issue is not None
    when = datetime(2026, 11, 20, 18, 30, 45, tzinfo=UTC)  # 10:30:45 in Los Angeles
    emu.clock.set(when)
    emu.mutate.edit("API-5", summary="Touched at 10:30:45 local")
    emu.clock.set(when + timedelta(minutes=10))
    local = {
        'updated >= "2026-11-20 10:30"': True,  # same minute as the update: included
        'updated > "2026-11-20 10:30"': True,  # the literal is the instant 10:30:00.000
        'updated >= "2026/11/20 10:30"': True,
        'updated >= "2026-11-20 10:31"': False,
        'updated <= "2026-11-20 10:30"': False,
        'updated >= "2026-11-20"': True,  # midnight, local
        'updated >= "2026-11-21"': False,
        "updated >= -15m": True,  # relative to the emulator clock
        "updated >= -5m": False,
        f"updated >= {to_ms(when)}": True,  # epoch milliseconds
        f"updated > {to_ms(when)}": False,
        # the classic bug: a cursor rendered in UTC reads as 18:30 *Los Angeles* time
        'updated >= "2026-11-20 18:30"': False,
        "updated >= startOfDay()": True,
    }
    for clause, included in local.items():
        got = cloud.keys(f"key = API-5 AND {clause}")
        assert (got == ["API-5"]) is included, clause


def test_date_errors(cloud: Site) -> None:
    for value in ('"2026-11-20T10:30"', '"2026-11-20 10:30:15"', '"20/11/2026"'):
        r = cloud.jql(f"updated >= {value}")
        assert r.status_code == 400
        msg = r.json()["errorMessages"][0]
        assert "for field 'updated' is invalid" in msg and "yyyy-MM-dd HH:mm" in msg


def test_jql_errors(site: Site) -> None:
    for jql, fragment in [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist"),
        ("project = ", "Error in the JQL Query"),
        ("project = WEB AND (status = Done", "Error in the JQL Query"),
        ("status = Bogus", "The value 'Bogus' does not exist for the field 'status'."),
        ("sprint in mySprints()", "Unable to find JQL function 'mysprints()'"),
        ("project = WEB ORDER BY labels", "Not able to sort using field 'labels'."),
    ]:
        r = site.jql(jql)
        assert r.status_code == 400, jql
        body = r.json()
        assert set(body) == {"errorMessages", "errors"}
        assert any(fragment in m for m in body["errorMessages"]), (jql, body)


def test_cloud_rejects_unbounded_queries_and_removed_endpoint(cloud: Site) -> None:
    for jql in ("", "ORDER BY key"):
        r = cloud.jql(jql)
        assert r.status_code == 400
        assert "Unbounded JQL" in r.json()["errorMessages"][0]
    for v in ("2", "3"):
        r = cloud.get(f"/rest/api/{v}/search", jql="project = WEB")
        assert r.status_code == 410
        assert "/rest/api/3/search/jql" in r.json()["errorMessages"][0]
        assert cloud.s.post(cloud.url + f"/rest/api/{v}/search", json={}).status_code == 410


def test_dc_has_no_enhanced_search(dc: Site) -> None:
    assert dc.get("/rest/api/2/search/jql", jql="project = WEB").status_code == 404
    assert dc.get("/rest/api/3/search", jql="project = WEB").status_code == 404
    assert dc.jql("ORDER BY key").status_code == 200  # DC allows unbounded searches


def test_approximate_count(cloud: Site) -> None:
    r = cloud.s.post(
        cloud.url + "/rest/api/3/search/approximate-count", json={"jql": "project = WEB"}
    )
    assert r.json() == {"count": len(cloud.keys("project = WEB"))}


# ------------------------------------------------------------------ paging
def test_cloud_token_paging(cloud: Site) -> None:
    jql = "project in (WEB, MOB) ORDER BY key"
    expected = cloud.keys(jql)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"maxResults": 37, "fields": "summary"}
        if token:
            params["nextPageToken"] = token
        body = cloud.jql(jql, **params).json()
        pages += 1
        seen += [i["key"] for i in body["issues"]]
        token = body.get("nextPageToken")
        assert body["isLast"] is (token is None)
        if token is None:
            break
        assert len(body["issues"]) == 37
    assert seen == expected
    assert pages == -(-len(expected) // 37)


def test_cloud_caps_and_default_fields(cloud: Site) -> None:
    jql = "project in (WEB, MOB, API)"
    body = cloud.jql(jql).json()
    assert len(body["issues"]) == 50  # default maxResults
    assert set(body["issues"][0]) == {"expand", "id", "self", "key"}  # fields default: id
    assert len(cloud.jql(jql, maxResults=1000, fields="summary").json()["issues"]) == 100
    assert len(cloud.jql(jql, maxResults=5000, fields="id").json()["issues"]) == 700
    assert (
        len(cloud.jql(jql, maxResults=5000, fields="id", expand="changelog").json()["issues"])
        == 100
    )
    post = cloud.s.post(
        cloud.url + "/rest/api/2/search/jql",
        json={"jql": jql, "fields": ["summary", "status"], "maxResults": 100},
    ).json()
    assert len(post["issues"]) == 100 and post["nextPageToken"]
    assert set(post["issues"][0]["fields"]) == {"summary", "status"}


def test_cloud_tokens_are_bound_to_the_query(cloud: Site) -> None:
    token = cloud.jql("project = WEB", maxResults=10).json()["nextPageToken"]
    for jql, tok in (("project = MOB", token), ("project = WEB", "garbage!")):
        r = cloud.jql(jql, nextPageToken=tok)
        assert r.status_code == 400
        assert "next page token" in r.json()["errorMessages"][0]


def test_pages_shift_like_an_offset_server(cloud: Site) -> None:
    """No snapshot: an issue updated between pages jumps to the front, repeating one key."""
    emu = cloud.emu
    jql = "project = API ORDER BY updated DESC"
    first = cloud.jql(jql, maxResults=10, fields="key").json()
    page1 = [i["key"] for i in first["issues"]]
    before = cloud.keys(jql)
    emu.clock.advance(3600)
    emu.mutate.edit(before[25], summary="bumped while a client pages")
    second = cloud.jql(
        jql, maxResults=10, fields="key", nextPageToken=first["nextPageToken"]
    ).json()
    page2 = [i["key"] for i in second["issues"]]
    assert page2[0] == page1[-1]  # seen twice
    assert before[25] not in page1 + page2  # … and the bumped issue is missed on this pass


def test_dc_start_at_paging_and_cap(dc: Site) -> None:
    jql = "project in (WEB, MOB) ORDER BY key"
    body = dc.jql(jql, maxResults=1000).json()
    assert body["maxResults"] == 250  # the configured cap answers in maxResults
    assert body["startAt"] == 0 and len(body["issues"]) == 250
    total = body["total"]
    keys: list[str] = []
    start = 0
    while start < total:
        page = dc.jql(jql, startAt=start, maxResults=100).json()
        keys += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
    assert keys == dc.keys(jql) and len(keys) == total
    assert dc.jql(jql, startAt=total + 10).json()["issues"] == []
    default = dc.jql("project = WEB").json()
    assert default["maxResults"] == 50
    assert "summary" in default["issues"][0]["fields"]  # DC default: navigable fields


def test_dc_validate_query_warn(dc: Site) -> None:
    r = dc.jql("key in (WEB-1, WEB-99999)", validateQuery="warn")
    assert r.status_code == 200
    body = r.json()
    assert [i["key"] for i in body["issues"]] == ["WEB-1"]
    assert body["warningMessages"]


def test_min_search_pages_matches_a_real_full_sync(cloud: Site, dc: Site) -> None:
    for site, cap in ((cloud, 100), (dc, 250)):
        jql = "project in (WEB, MOB, API) ORDER BY key"
        pages = 0
        if site is cloud:
            token = None
            while True:
                params: dict[str, Any] = {"maxResults": 1000, "fields": "summary"}
                if token:
                    params["nextPageToken"] = token
                body = site.jql(jql, **params).json()
                pages += 1
                token = body.get("nextPageToken")
                if not token:
                    break
        else:
            start, total = 0, 1
            while start < total:
                body = site.jql(jql, startAt=start, maxResults=1000).json()
                pages += 1
                start += len(body["issues"])
                total = body["total"]
        assert pages == site.emu.truth.min_search_pages(jql), cap
    assert cloud.emu.truth.min_search_pages(id_only=True) == 1
