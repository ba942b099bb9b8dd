"""The HTTP policy every connector shares, as a requests adapter.

A timeout on every request; 429 and 503 wait for Retry-After (seconds or an HTTP date); 5xx and
connection errors back off with jitter; the total time spent retrying is capped; an optional
sliding-window throttle keeps a client under a documented rate limit. Because it sits in the
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

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SyncInterrupted(Exception):
    """The sync was asked to stop (signal or shutdown) while waiting to retry."""


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

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise SyncInterrupted("stopped while waiting to retry")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        path = (request.path_url or "").split("?", 1)[0]
        deadline = time.monotonic() + self.policy.max_retry_time
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
                if time.monotonic() + wait > deadline:
                    raise
                log.info(
                    "%s %s failed (%s); retrying in %.1fs",
                    request.method,
                    path,
                    type(exc).__name__,
                    wait,
                )
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                wait = self._wait_for(response, attempt)
                if time.monotonic() + wait > deadline:
                    return response
                log.info(
                    "%s %s answered %s; retrying in %.1fs",
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
