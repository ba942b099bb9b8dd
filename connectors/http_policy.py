"""The HTTP policy every connector shares, as a requests adapter.

A timeout on every request; 429 and 503 wait for Retry-After (seconds or an HTTP date); 5xx and
connection errors back off with jitter; the total time spent retrying is capped; an optional
sliding-window throttle keeps a client under a documented rate limit. Waiting is said at once
(a warning naming the host and the reason), a host that has never answered is given up on
after `unreachable_after` (a refused connection or unknown name rarely heals by waiting), and
a Retry-After longer than the cap fails at once, saying so. Because it sits in the
adapter, it applies to whatever a client library sends (the `jira` library, py-trello) without
patching them. URLs are never logged with their query string, which may carry credentials.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SyncInterrupted(Exception):
    """The sync was asked to stop (signal or shutdown) while waiting to retry."""


class RetryAfterTooLong(requests.RequestException):
    """The server asked us to wait (429/503 Retry-After) longer than the retry cap allows."""


def connection_reason(exc: Exception) -> str:
    """A short reason for a failed connection (the library's text is a long nested repr)."""
    text = str(exc)
    for phrase, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("No address associated", "unknown host"),
        ("Network is unreachable", "network unreachable"),
        ("No route to host", "no route to host"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "connection closed by the server"),
        ("Connection aborted", "connection closed by the server"),
    ):
        if phrase in text:
            return reason
    return "timed out" if isinstance(exc, requests.Timeout) else "connection failed"


def network_failure(name: str, url: str, exc: Exception) -> str | None:
    """One line for a failure of the network or of the server's patience (naming the source
    and its URL), or None when `exc` is something else."""
    if isinstance(exc, RetryAfterTooLong):
        return f"{name}: {url} {exc}; try again later"
    if isinstance(exc, requests.Timeout):
        return f"{name}: {url} did not answer in time (timeout)"
    if isinstance(exc, requests.ConnectionError):
        return f"{name}: cannot reach {url} ({connection_reason(exc)})"
    return None


@dataclass
class RequestStats:
    """What a connector's traffic cost: attempts made, retries, seconds spent waiting."""

    requests: int = 0
    retries: int = 0
    waited: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def wait(self, seconds: float) -> None:
        with self._lock:
            self.retries += 1
            self.waited += seconds


class SlidingWindowThrottle:
    """Allows at most `limit` requests in any `window` seconds (e.g. Trello's 100 per 10 s)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, sleep: Callable[[float], Any]) -> None:
        """Block until one more request fits in the window, then record it."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                delay = self.window - (now - self._sent[0]) + 0.01
            sleep(delay)


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retry limits; defaults suit a sync that may run unattended for hours."""

    timeout: float = 30.0
    max_retry_time: float = 300.0
    unreachable_after: float = 30.0  # give up on a host that has not answered once by then
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    rate_limit_wait: float = 10.0  # 429 without Retry-After (Trello sends none)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class PolicyAdapter(HTTPAdapter):
    """A requests adapter that applies an HttpPolicy to every request it sends."""

    def __init__(
        self,
        policy: HttpPolicy,
        stats: RequestStats,
        throttle: SlidingWindowThrottle | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(pool_connections=4, pool_maxsize=4, max_retries=0)
        self.policy = policy
        self.stats = stats
        self.throttle = throttle
        self.stop = stop or threading.Event()
        self.answered = False  # whether the host has answered anything yet

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise SyncInterrupted("stopped while waiting to retry")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        path = (request.path_url or "").split("?", 1)[0]
        host = urlsplit(request.url or "").netloc
        started = time.monotonic()
        attempt = 0
        while True:
            if self.stop.is_set():
                raise SyncInterrupted("stopped before sending a request")
            if self.throttle is not None:
                self.throttle.acquire(self._sleep)
            self.stats.count()
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                wait = self._backoff(attempt)
                limit = self.policy.max_retry_time
                if not self.answered:
                    limit = min(limit, self.policy.unreachable_after)
                if time.monotonic() + wait > started + limit:
                    raise
                # The first failure of a request is a warning the user sees at once.
                log.log(
                    logging.WARNING if attempt == 0 else logging.INFO,
                    "%s: cannot connect (%s); retrying for up to %.0fs",
                    host,
                    connection_reason(exc),
                    limit,
                )
            else:
                self.answered = True
                if response.status_code not in RETRY_STATUSES:
                    return response
                wait = self._wait_for(response, attempt)
                if time.monotonic() + wait > started + self.policy.max_retry_time:
                    told = retry_after_seconds(response.headers.get("Retry-After"))
                    if told is not None and told > self.policy.max_retry_time:
                        response.close()
                        raise RetryAfterTooLong(
                            f"asked to wait {told:.0f}s (HTTP {response.status_code} "
                            f"Retry-After), longer than max_retry_time "
                            f"({self.policy.max_retry_time:.0f}s)"
                        )
                    return response
                log.info(
                    "%s: %s %s answered %s; retrying in %.1fs",
                    host,
                    request.method,
                    path,
                    response.status_code,
                    wait,
                )
                response.close()
            self.stats.wait(wait)
            self._sleep(wait)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, never below half the base delay."""
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * (2**attempt))
        return max(self.policy.backoff_base / 2, random.uniform(0, ceiling))

    def _wait_for(self, response: requests.Response, attempt: int) -> float:
        told = retry_after_seconds(response.headers.get("Retry-After"))
        if told is not None:
            return told + random.uniform(0, 0.25)
        if response.status_code == 429:
            return self.policy.rate_limit_wait + random.uniform(0, 1.0)
        return self._backoff(attempt)


def policy_session(
    policy: HttpPolicy,
    stats: RequestStats,
    throttle: SlidingWindowThrottle | None = None,
    stop: threading.Event | None = None,
    session: requests.Session | None = None,
) -> requests.Session:
    """Mount the policy adapter on a session (a new one, or a library's own)."""
    session = session if session is not None else requests.Session()
    adapter = PolicyAdapter(policy, stats, throttle, stop)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
