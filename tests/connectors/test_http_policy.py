"""The shared HTTP policy, over real loopback HTTP with faults injected below the app."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Request, Response

from connectors.http_policy import (
    HttpPolicy,
    RequestStats,
    SlidingWindowThrottle,
    SyncInterrupted,
    policy_session,
    retry_after_seconds,
)
from emulators.http import EmulatorServer, Fault


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


def test_retry_after_beyond_the_budget_gives_up_at_once(server: EmulatorServer) -> None:
    server.faults.inject(Fault("rate_limit", retry_after=3600))
    session, stats = session_for(FAST)
    assert session.get(f"{server.url}/x").status_code == 429
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
