"""Every Jira emulator response validates against Atlassian's official OpenAPI specs.

Cloud responses are checked against the Cloud platform v3 and Jira Software Cloud specs (v2
responses against the v3 operations: they differ only in rich-text fields, which `IssueBean`
leaves free-form); Data Center responses against the DC 10.3 spec. Where a spec is wrong about
what Jira sends, the test applies one narrow, documented patch (SPEC_PATCHES) — it never skips
validation.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.datastructures import Headers, ImmutableMultiDict

from pulse.emulators.jira import JiraEmulator, OrgSpec

openapi_core = pytest.importorskip("openapi_core")
from openapi_core import Config, OpenAPI  # noqa: E402
from openapi_core.datatypes import RequestParameters  # noqa: E402
from rfc3339_validator import validate_rfc3339  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("PULSE_SPECS_DIR", REPO.parent / "shared" / "reference" / "specs"))
CLOUD_PLATFORM = "jira-cloud-platform-v3.swagger-v3.v3.json"
CLOUD_AGILE = "jira-software-cloud-agile.swagger.v3.json"
DATACENTER = "jira-software-datacenter-10.3.openapi.json"

pytestmark = pytest.mark.skipif(
    not all((SPECS / f).is_file() for f in (CLOUD_PLATFORM, CLOUD_AGILE, DATACENTER)),
    reason=f"Atlassian OpenAPI specs not found in {SPECS} (set PULSE_SPECS_DIR)",
)

# Jira writes timestamps as yyyy-MM-dd'T'HH:mm:ss.SSSZ (offset without a colon); RFC 3339's
# `date-time` rejects that, yet the specs' own examples use it (e.g. the changelog example's
# "created":"1970-01-18T06:27:50.429+0000").
JIRA_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")


def jira_date_time(value: Any) -> bool:
    return not isinstance(value, str) or bool(JIRA_DATETIME.match(value)) or validate_rfc3339(value)


def _nullable_change_items(spec: dict[str, Any], name: str) -> None:
    for prop in ("from", "fromString", "to", "toString"):
        spec["components"]["schemas"][name]["properties"][prop]["nullable"] = True


def _response_schema(spec: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    content = spec["paths"][path][method]["responses"]["200"].setdefault("content", {})
    return content.setdefault("application/json", {})


def _as_array(path: str) -> Callable[[dict[str, Any]], None]:
    def patch(spec: dict[str, Any]) -> None:
        media = _response_schema(spec, path)
        media["schema"] = {"type": "array", "items": media["schema"]}

    return patch


def _as_page(path: str, item: dict[str, Any] | None = None) -> Callable[[dict[str, Any]], None]:
    def patch(spec: dict[str, Any]) -> None:
        media = _response_schema(spec, path)
        items = item if item is not None else media["schema"]
        media["schema"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["maxResults", "startAt", "isLast", "values"],
            "properties": {
                "maxResults": {"type": "integer"},
                "startAt": {"type": "integer"},
                "total": {"type": "integer"},
                "isLast": {"type": "boolean"},
                "values": {"type": "array", "items": items},
            },
        }

    return patch


def _set_schema(path: str, schema: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def patch(spec: dict[str, Any]) -> None:
        _response_schema(spec, path)["schema"] = schema

    return patch


SPRINT_BEAN = {"$ref": "#/components/schemas/SprintBean"}
# The Cloud agile spec gives epics and agile versions only as examples; these schemas admit
# exactly the example's keys (plus the epic `key` that Jira sends and the DC spec declares).
CLOUD_EPIC = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "self", "name", "summary", "color", "done"],
    "properties": {
        "id": {"type": "integer"},
        "key": {"type": "string"},
        "self": {"type": "string"},
        "name": {"type": "string"},
        "summary": {"type": "string"},
        "done": {"type": "boolean"},
        "color": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"key": {"type": "string"}},
        },
    },
}
CLOUD_AGILE_VERSION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "self", "name", "released", "archived"],
    "properties": {
        k: {"type": t}
        for k, t in (
            ("id", "integer"),
            ("self", "string"),
            ("name", "string"),
            ("description", "string"),
            ("projectId", "integer"),
            ("archived", "boolean"),
            ("released", "boolean"),
            ("releaseDate", "string"),
        )
    },
}


def _relax_issue_fields(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["IssueBean"]["properties"]["fields"]["additionalProperties"] = {}


def _version_dates(spec: dict[str, Any]) -> None:
    props = spec["components"]["schemas"]["VersionBean"]["properties"]
    for name in ("releaseDate", "startDate"):
        props[name]["format"] = "date"


# (spec file, reason, patch) — every deviation from the official documents, and why.
SPEC_PATCHES: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    (
        CLOUD_PLATFORM,
        "ChangeDetails from/fromString/to/toString are null when a value is empty; "
        'the spec omits `nullable` although its own changelog example has "from":null',
        lambda s: _nullable_change_items(s, "ChangeDetails"),
    ),
    (
        CLOUD_AGILE,
        "board/{id}/sprint declares no schema: items checked against SprintBean",
        _as_page("/rest/agile/1.0/board/{boardId}/sprint", SPRINT_BEAN),
    ),
    (
        CLOUD_AGILE,
        "sprint/{id} declares no schema: checked against SprintBean",
        _set_schema("/rest/agile/1.0/sprint/{sprintId}", SPRINT_BEAN),
    ),
    (
        CLOUD_AGILE,
        "board/{id}/epic declares no schema: items checked against the example's keys",
        _as_page("/rest/agile/1.0/board/{boardId}/epic", CLOUD_EPIC),
    ),
    (
        CLOUD_AGILE,
        "board/{id}/version declares no schema: items checked against the example's keys",
        _as_page("/rest/agile/1.0/board/{boardId}/version", CLOUD_AGILE_VERSION),
    ),
    (
        DATACENTER,
        "ChangeItemBean from/to strings are null when empty (as in Cloud)",
        lambda s: _nullable_change_items(s, "ChangeItemBean"),
    ),
    (
        DATACENTER,
        "/field returns an array; the spec declares one FieldBean",
        _as_array("/api/2/field"),
    ),
    (
        DATACENTER,
        "/project returns an array; the spec declares one ProjectBean",
        _as_array("/api/2/project"),
    ),
    (
        DATACENTER,
        "/project/{key}/versions returns an array; the spec declares one VersionBean",
        _as_array("/api/2/project/{projectIdOrKey}/versions"),
    ),
    (
        DATACENTER,
        "agile board list is a page; the spec declares one BoardBean",
        _as_page("/agile/1.0/board"),
    ),
    (
        DATACENTER,
        "board/{id}/sprint is a page; the spec declares one SprintBean",
        _as_page("/agile/1.0/board/{boardId}/sprint"),
    ),
    (
        DATACENTER,
        "board/{id}/epic is a page; the spec declares one EpicBean",
        _as_page("/agile/1.0/board/{boardId}/epic"),
    ),
    (
        DATACENTER,
        "board/{id}/version is a page; the spec declares one VersionBean",
        _as_page("/agile/1.0/board/{boardId}/version"),
    ),
    (
        DATACENTER,
        "IssueBean.fields values are strings, numbers, arrays and nulls; the spec "
        "says every value is an object",
        _relax_issue_fields,
    ),
    (
        DATACENTER,
        "VersionBean releaseDate/startDate are yyyy-MM-dd dates, declared date-time",
        _version_dates,
    ),
]


@cache
def validator(name: str) -> Any:
    spec = copy.deepcopy(json.loads((SPECS / name).read_text()))
    for target, _reason, patch in SPEC_PATCHES:
        if target == name:
            patch(spec)
    config = Config(spec_validator_cls=None, extra_format_validators={"date-time": jira_date_time})
    return OpenAPI.from_dict(spec, config=config)


class _Request:
    """Minimal openapi-core request for a path on the spec's own server."""

    def __init__(self, host: str, method: str, path: str) -> None:
        self.host_url = host
        self.path = path
        self.method = method.lower()
        self.full_url_pattern = host + path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict(), path={}
        )
        self.content_type = "application/json"
        self.body = None


class _Response:
    def __init__(self, r: requests.Response) -> None:
        self.status_code = r.status_code
        self.data = r.content
        self.content_type = "application/json"
        self.headers = Headers(dict(r.headers))


def check(flavour: str, method: str, path: str, response: requests.Response) -> None:
    """Validate one 2xx response against the right official operation."""
    assert response.status_code < 300, (path, response.status_code, response.text[:300])
    if flavour == "cloud":
        if path.startswith("/rest/agile/"):
            api, host, spec_path = validator(CLOUD_AGILE), "https://your-domain.atlassian.net", path
        else:
            api, host = validator(CLOUD_PLATFORM), "https://your-domain.atlassian.net"
            spec_path = path.replace("/rest/api/2/", "/rest/api/3/")
    else:
        api, host, spec_path = validator(DATACENTER), "http://localhost:8090", path
    api.validate_response(_Request(host, method, spec_path), _Response(response))


def test_patches_are_justified_by_the_specs_themselves() -> None:
    cloud = json.loads((SPECS / CLOUD_PLATFORM).read_text())
    example = cloud["paths"]["/rest/api/3/issue/{issueIdOrKey}/changelog"]["get"]["responses"][
        "200"
    ]["content"]["application/json"]["example"]
    assert '"from":null' in example
    assert re.search(r'"created":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000"', example)
    dc = json.loads((SPECS / DATACENTER).read_text())
    field_schema = dc["paths"]["/api/2/field"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert field_schema == {"$ref": "#/components/schemas/FieldBean"}  # not an array: a defect


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Any:
    emu = JiraEmulator(OrgSpec(seed=11, projects=3, issues=400), request.param)
    with emu.serve() as server:
        session = requests.Session()
        if emu.flavour == "cloud":
            session.auth = emu.basic_auth
        else:
            session.headers["Authorization"] = f"Bearer {emu.credentials}"
        yield emu, server.url, session


def _heavy_key(emu: JiraEmulator) -> str:
    return max(emu.world.issues.values(), key=lambda i: len(i.histories)).key


def test_platform_endpoints_validate(site: Any) -> None:
    emu, url, s = site
    versions = ["2", "3"] if emu.flavour == "cloud" else ["2"]
    heavy = _heavy_key(emu)
    epic = next(i.key for i in emu.world.issues.values() if i.type_id == "10000")
    for v in versions:
        base = f"/rest/api/{v}"
        for path, params in [
            (f"{base}/serverInfo", {}),
            (f"{base}/myself", {}),
            (f"{base}/field", {}),
            (f"{base}/project", {}),
            (f"{base}/project/WEB", {}),
            (f"{base}/project/WEB/versions", {}),
            (f"{base}/issue/{heavy}", {"expand": "changelog,names,schema"}),
            (f"{base}/issue/{epic}", {"fields": "summary,status,duedate"}),
            (f"{base}/issue/WEB-1/transitions", {}),
        ]:
            r = s.get(url + path, params=params)
            check(emu.flavour, "GET", path, r)


def test_search_endpoints_validate(site: Any) -> None:
    emu, url, s = site
    full = {
        "jql": "project in (WEB, MOB) ORDER BY key",
        "fields": "*all",
        "expand": "changelog,names,schema",
        "maxResults": 50,
    }
    if emu.flavour == "cloud":
        for v in ("2", "3"):
            path = f"/rest/api/{v}/search/jql"
            r = s.get(url + path, params=full)
            check("cloud", "GET", path, r)
            r = s.post(url + path, json={"jql": full["jql"], "fields": ["id"], "maxResults": 100})
            check("cloud", "POST", path, r)
            token = r.json()["nextPageToken"]
            r = s.get(url + path, params={"jql": full["jql"], "nextPageToken": token})
            check("cloud", "GET", path, r)
            path = f"/rest/api/{v}/issue/{_heavy_key(emu)}/changelog"
            check("cloud", "GET", path, s.get(url + path, params={"startAt": 50}))
        path = "/rest/api/3/search/approximate-count"
        check("cloud", "POST", path, s.post(url + path, json={"jql": "project = WEB"}))
        path = "/rest/api/3/issue/bulkfetch"
        body = {"issueIdsOrKeys": ["WEB-1", "WEB-2", "NOPE-1"], "expand": ["changelog", "names"]}
        check("cloud", "POST", path, s.post(url + path, json=body))
        path = "/rest/api/3/changelog/bulkfetch"
        body = {"issueIdsOrKeys": ["WEB-1", _heavy_key(emu)], "maxResults": 50}
        check("cloud", "POST", path, s.post(url + path, json=body))
    else:
        path = "/rest/api/2/search"
        check("datacenter", "GET", path, s.get(url + path, params=full))
        check(
            "datacenter",
            "POST",
            path,
            s.post(
                url + path,
                json={
                    "jql": "sprint in openSprints()",
                    "startAt": 5,
                    "maxResults": 20,
                    "fields": ["summary", "customfield_10104"],
                    "expand": ["changelog"],
                },
            ),
        )


def test_agile_endpoints_validate(site: Any) -> None:
    emu, url, s = site
    ag = "/rest/agile/1.0"
    check(emu.flavour, "GET", f"{ag}/board", s.get(url + f"{ag}/board"))
    for board in emu.world.boards.values():
        for sub in ("", "/configuration", "/epic", "/version"):
            path = f"{ag}/board/{board.id}{sub}"
            check(emu.flavour, "GET", path, s.get(url + path))
        if board.type == "scrum":
            path = f"{ag}/board/{board.id}/sprint"
            check(emu.flavour, "GET", path, s.get(url + path, params={"maxResults": 5}))
            check(
                emu.flavour,
                "GET",
                f"{ag}/sprint/{board.sprint_ids[0]}",
                s.get(url + f"{ag}/sprint/{board.sprint_ids[0]}"),
            )


def test_mutation_responses_validate(site: Any) -> None:
    emu, url, s = site
    v = "3" if emu.flavour == "cloud" else "2"
    f = emu.world.fields
    path = f"/rest/api/{v}/issue"
    created = s.post(
        url + path,
        json={
            "fields": {
                "project": {"key": "WEB"},
                "issuetype": {"name": "Story"},
                "summary": "Contract",
                f.estimate.id: 3,
            }
        },
    )
    assert created.status_code == 201
    key = created.json()["key"]
    edited = s.put(url + f"{path}/{key}", json={"fields": {"summary": "Contract 2"}})
    assert edited.status_code == 204
    moved = s.post(url + f"{path}/{key}/transitions", json={"transition": {"id": "21"}})
    assert moved.status_code == 204
    issue_path = f"/rest/api/{v}/issue/{key}"
    check(emu.flavour, "GET", issue_path, s.get(url + issue_path, params={"expand": "changelog"}))


def test_error_bodies_have_jira_shape(site: Any) -> None:
    _emu, url, s = site
    errors = validator(CLOUD_PLATFORM).spec / "components" / "schemas" / "ErrorCollection"
    props = set(errors["properties"].keys())
    for r in (
        s.get(url + "/rest/api/2/issue/NOPE-1"),
        s.get(url + "/rest/api/2/issue/WEB-1", auth=("x", "y"), headers={"Authorization": ""}),
        s.get(url + "/rest/agile/1.0/board/999"),
    ):
        body = r.json()
        assert r.status_code in (401, 404)
        assert set(body) <= props and isinstance(body["errorMessages"], list)
