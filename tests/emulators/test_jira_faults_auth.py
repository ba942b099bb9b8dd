"""Authentication per flavour, and network faults injected through `emu.faults`."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pulse.emulators.http import Fault
from pulse.emulators.jira import JiraEmulator, OrgSpec


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[JiraEmulator, str]]:
    emu = JiraEmulator(OrgSpec(seed=55, projects=2, issues=120), "cloud")
    with emu.serve() as server:
        yield emu, server.url


@pytest.fixture(scope="module")
def dc() -> Iterator[tuple[JiraEmulator, str]]:
    emu = JiraEmulator(OrgSpec(seed=55, projects=2, issues=120), "datacenter")
    with emu.serve() as server:
        yield emu, server.url


def test_cloud_auth(cloud: tuple[JiraEmulator, str]) -> None:
    emu, url = cloud
    email, token = emu.credentials  # type: ignore[misc]
    assert email == "pm@acme.test" and token.startswith("token-")
    path = url + "/rest/api/3/myself"
    assert requests.get(path, auth=(email, token)).status_code == 200
    for kwargs in (
        {},
        {"auth": (email, "token-wrong")},
        {"auth": ("x@acme.test", token)},
        {"headers": {"Authorization": f"Bearer {token}"}},
    ):  # no PATs on Cloud
        r = requests.get(path, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 401
        assert r.json()["errorMessages"] == [
            "Client must be authenticated to access this resource."
        ]
    for p in ("/rest/api/2/search/jql?jql=project=WEB", "/rest/agile/1.0/board"):
        assert requests.get(url + p).status_code == 401


def test_dc_auth(dc: tuple[JiraEmulator, str]) -> None:
    emu, url = dc
    pat = emu.credentials
    assert isinstance(pat, str)
    path = url + "/rest/api/2/myself"
    me = requests.get(path, headers={"Authorization": f"Bearer {pat}"})
    assert me.status_code == 200 and me.json()["name"] == "pm"
    assert requests.get(path, auth=emu.basic_auth).status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic !!!"}):
        assert requests.get(path, headers=headers).status_code == 401
    assert requests.get(path, auth=(emu.basic_auth[0], "wrong")).status_code == 401


def test_unknown_paths_are_404(
    cloud: tuple[JiraEmulator, str], dc: tuple[JiraEmulator, str]
) -> None:
    emu, url = cloud
    assert requests.get(url + "/rest/api/3/nothing", auth=emu.basic_auth).status_code == 404
    assert requests.get(url + "/rest/api/1/myself", auth=emu.basic_auth).status_code == 404
    demu, durl = dc
    assert (
        requests.get(durl + "/rest/api/3/myself", auth=demu.basic_auth).status_code == 404
    )  # DC has no v3


def test_rate_limit_with_retry_after_seconds_and_http_date(cloud: tuple[JiraEmulator, str]) -> None:
    emu, url = cloud
    path = "/rest/api/3/search/jql"
    emu.faults.inject(Fault("rate_limit", path=path, retry_after=7))
    emu.faults.inject(Fault("rate_limit", path=path, retry_after=30, http_date=True))
    r1 = requests.get(url + path, params={"jql": "project = WEB"}, auth=emu.basic_auth)
    assert r1.status_code == 429 and r1.headers["Retry-After"] == "7"
    r2 = requests.get(url + path, params={"jql": "project = WEB"}, auth=emu.basic_auth)
    assert r2.status_code == 429
    when = email.utils.parsedate_to_datetime(r2.headers["Retry-After"])
    assert 20 < when.timestamp() - time.time() < 40
    r3 = requests.get(url + path, params={"jql": "project = WEB"}, auth=emu.basic_auth)
    assert r3.status_code == 200


def test_server_error_burst_latency_and_drop(cloud: tuple[JiraEmulator, str]) -> None:
    emu, url = cloud
    path = "/rest/api/3/issue/WEB-1"
    emu.faults.inject(Fault("server_error", path=path, count=3, status=502, retry_after=None))
    codes = [requests.get(url + path, auth=emu.basic_auth).status_code for _ in range(4)]
    assert codes == [502, 502, 502, 200]
    emu.faults.inject(Fault("latency", path=path, seconds=0.3))
    t = time.perf_counter()
    assert requests.get(url + path, auth=emu.basic_auth).status_code == 200
    assert time.perf_counter() - t >= 0.3
    emu.faults.inject(Fault("drop", path=path))
    with pytest.raises(requests.ConnectionError):
        requests.get(url + path, auth=emu.basic_auth)
    assert requests.get(url + path, auth=emu.basic_auth).status_code == 200


def test_faults_are_scoped_and_logged(cloud: tuple[JiraEmulator, str]) -> None:
    emu, url = cloud
    emu.requests.reset()
    emu.faults.inject(Fault("server_error", path="/rest/agile/", status=503, after=1))
    assert requests.get(url + "/rest/agile/1.0/board", auth=emu.basic_auth).status_code == 200
    assert requests.get(url + "/rest/api/3/field", auth=emu.basic_auth).status_code == 200
    assert requests.get(url + "/rest/agile/1.0/board", auth=emu.basic_auth).status_code == 503
    log = requests.get(url + "/_emulator/requests").json()
    assert log["by_path"] == {"/rest/agile/1.0/board": 2, "/rest/api/3/field": 1}
    # the same over HTTP, as a test driving a subprocess emulator would do it
    r = requests.post(url + "/_emulator/faults", json={"kind": "rate_limit", "retry_after": 2})
    assert r.status_code == 204
    assert requests.get(url + "/rest/api/3/field", auth=emu.basic_auth).status_code == 429
    requests.post(url + "/_emulator/faults", json={"kind": "rate_limit"})
    assert requests.delete(url + "/_emulator/faults").status_code == 204
    assert requests.get(url + "/rest/api/3/field", auth=emu.basic_auth).status_code == 200


def test_jira_library_meets_the_faults(cloud: tuple[JiraEmulator, str]) -> None:
    """The library retries a 429 with seconds, but crashes on an HTTP-date Retry-After."""
    jira = pytest.importorskip("jira")
    emu, url = cloud
    client: Any = jira.JIRA(url, basic_auth=emu.basic_auth, max_retries=2)
    emu.faults.inject(Fault("rate_limit", path="/rest/api/2/issue/", retry_after=1))
    t = time.perf_counter()
    assert client.issue("WEB-2").key == "WEB-2"
    assert time.perf_counter() - t >= 0.9  # it waited as told
    emu.faults.inject(Fault("rate_limit", path="/rest/api/2/issue/", retry_after=5, http_date=True))
    with pytest.raises(ValueError):
        client.issue("WEB-2")
    emu.faults.inject(
        Fault("server_error", path="/rest/api/2/issue/", status=503, retry_after=None)
    )
    with pytest.raises(jira.JIRAError) as err:
        client.issue("WEB-2")
    assert err.value.status_code == 503
