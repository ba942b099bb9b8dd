"""The shared HTTP policy, over real loopback HTTP with faults injected below the app."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Request, Response

from pulse.connectors.http_policy import (
    HttpPolicy,
    RequestStats,
    RetryAfterTooLong,
    SlidingWindowThrottle,
    SyncInterrupted,
    policy_session,
    retry_after_seconds,
)
from pulse.emulators.http import EmulatorServer, Fault


@Request.application
def hello(request: Request) -> Response:
    if request.path == "/slow":
        time.sleep(0.5)
    return Response('{"ok": true}', mimetype="application/json")


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(hello) as running:
        yield running


def session_for(policy: HttpPolicy, **kwargs: object) -> tuple[requests.Session, RequestStats]:
    stats = RequestStats()
    return policy_session(policy, stats, **kwargs), stats  # type: ignore[arg-type]


FAST = HttpPolicy(
    timeout=2.0, max_retry_time=10.0, backoff_base=0.05, backoff_cap=0.2, rate_limit_wait=0.2
)


def test_retry_after_seconds_is_honoured(server: EmulatorServer) -> None:
    server.faults.inject(Fault("rate_limit", retry_after=1))
    session, stats = session_for(FAST)
    started = time.monotonic()
    assert session.get(f"{server.url}/x").json() == {"ok": True}
    assert time.monotonic() - started >= 1.0
    assert (stats.requests, stats.retries) == (2, 1)


def test_retry_after_as_http_date_is_honoured(server: EmulatorServer) -> None:
    server.faults.inject(Fault("rate_limit", retry_after=2, http_date=True))
    session, stats = session_for(FAST)
    started = time.monotonic()
    assert session.get(f"{server.url}/x").status_code == 200
    assert time.monotonic() - started >= 0.9  # HTTP dates have one-second resolution
    assert stats.retries == 1


def test_5xx_burst_and_dropped_connections_are_retried(server: EmulatorServer) -> None:
    server.faults.inject(Fault("server_error", status=502, count=3, retry_after=None))
    server.faults.inject(Fault("drop", count=2))
    session, stats = session_for(FAST)
    assert session.get(f"{server.url}/x").status_code == 200
    assert stats.retries == 5


def test_total_retry_time_is_capped(server: EmulatorServer) -> None:
    server.faults.inject(Fault("server_error", status=503, count=1000, retry_after=None))
    policy = HttpPolicy(timeout=2.0, max_retry_time=1.0, backoff_base=0.1, backoff_cap=0.3)
    session, _ = session_for(policy)
    started = time.monotonic()
    assert session.get(f"{server.url}/x").status_code == 503
    assert time.monotonic() - started < 1.5


def test_retry_after_beyond_the_budget_gives_up_at_once_and_says_so(
    server: EmulatorServer,
) -> None:
    server.faults.inject(Fault("rate_limit", retry_after=3600))
    session, stats = session_for(FAST)
    started = time.monotonic()
    with pytest.raises(RetryAfterTooLong) as raised:
        session.get(f"{server.url}/x")
    assert time.monotonic() - started < 1
    assert str(raised.value) == (
        "asked to wait 3600s (HTTP 429 Retry-After), longer than max_retry_time (10s)"
    )
    assert stats.retries == 0


def test_every_request_has_a_timeout(server: EmulatorServer) -> None:
    policy = HttpPolicy(timeout=0.2, max_retry_time=0.5, backoff_base=0.05, backoff_cap=0.1)
    session, stats = session_for(policy)
    with pytest.raises(requests.Timeout):
        session.get(f"{server.url}/slow")
    assert stats.requests >= 2


def test_stop_interrupts_a_retry_wait(server: EmulatorServer) -> None:
    server.faults.inject(Fault("rate_limit", retry_after=30))
    stop = threading.Event()
    session, _ = session_for(HttpPolicy(max_retry_time=60), stop=stop)
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(SyncInterrupted):
        session.get(f"{server.url}/x")
    assert time.monotonic() - started < 2


def test_throttle_keeps_under_the_window_limit() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    throttle = SlidingWindowThrottle(limit=3, window=10.0, clock=lambda: clock[0])
    for _ in range(7):
        throttle.acquire(sleep)
    # 7 requests at 3 per 10 s need two full waits.
    assert len(slept) == 2
    assert clock[0] >= 20.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("garbage", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_host_that_never_answered_is_given_up_on_after_unreachable_after() -> None:
    import logging

    heard: list[tuple[float, logging.LogRecord]] = []

    class Ear(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            heard.append((time.monotonic(), record))

    policy = HttpPolicy(max_retry_time=300, unreachable_after=1.5, backoff_base=0.1)
    session, stats = session_for(policy)
    ear, logger = Ear(level=logging.WARNING), logging.getLogger("pulse.connectors.http_policy")
    logger.addHandler(ear)
    started = time.monotonic()
    try:
        with pytest.raises(requests.ConnectionError):
            session.get(f"http://127.0.0.1:{closed_port()}/x")
    finally:
        logger.removeHandler(ear)
    assert time.monotonic() - started < 3
    assert stats.retries >= 1
    at, warning = heard[0]
    assert warning.levelname == "WARNING"
    assert warning.getMessage().endswith(
        "cannot connect (connection refused); retrying for up to 2s"
    )
    assert at - started < 1, "the user hears about it within seconds"


def test_the_default_gives_up_on_an_unreachable_source_within_30_seconds() -> None:
    from pulse.settings import JiraSource

    source = JiraSource.model_validate(
        {
            "name": "j",
            "kind": "jira",
            "url": "http://x",
            "token": "t",
            "auth": "bearer",
            "projects": ["A"],
        }
    )
    assert 0 < source.duration("unreachable_after").total_seconds() <= 30
    assert source.duration("max_retry_time").total_seconds() > 30  # answered hosts: patient


def test_a_refused_source_fails_fast_with_one_line_naming_the_reason(tmp_path: object) -> None:
    from pydantic import SecretStr

    from pulse.connectors.runner import sync_source
    from pulse.settings import JiraSource
    from pulse.store import open_store

    url = f"http://127.0.0.1:{closed_port()}"
    source = JiraSource(
        name="gone",
        kind="jira",
        url=url,
        token=SecretStr("t"),
        auth="bearer",
        projects=["A"],
        unreachable_after="1s",
    )
    store = open_store(f"sqlite:///{tmp_path}/p.db")
    started = time.monotonic()
    result = sync_source(source, store)
    assert time.monotonic() - started < 3
    assert result.line() == f"gone: failed: cannot reach {url} (connection refused)"
