"""Reach Trello through py-trello, with Pulse's HTTP policy, a client-side throttle and the
configured URL underneath.

py-trello sends every request to the hard-coded https://api.trello.com, with key and token in
the query string, and has no timeout, retry or rate limiting. It accepts an injected session, so
that session does all three: it rewrites the host to the configured `url` (the emulator, a
proxy), mounts the policy adapter (timeouts, retries, 429 honoured) and a sliding-window
throttle that keeps one token under Trello's 100 requests per 10 s. Errors are turned into one
line naming the source; request URLs, which carry the credentials, are never logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from trello import ResourceUnavailable, TrelloClient, Unauthorized

from pulse.connectors.base import AuthError, SourceError
from pulse.connectors.http_policy import (
    HttpPolicy,
    RequestStats,
    RetryAfterTooLong,
    SlidingWindowThrottle,
    connection_reason,
    policy_session,
)
from pulse.settings import TrelloSource

TRELLO_API = "https://api.trello.com"
_SECRET_PARAM = re.compile(r"\b(key|token)=[^&\s\"']+")


@dataclass(frozen=True)
class RateLimit:
    """The client-side budget per token: `requests` in any `window` seconds.

    90 per 10 s leaves headroom under Trello's documented 100 per 10 s per token; tests shorten
    the window to match an emulator configured with a shorter one.
    """

    requests: int = 90
    window: float = 10.0


class TrelloSession(requests.Session):
    """A requests session that sends py-trello's hard-coded Trello URLs to the configured host."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith(TRELLO_API):
            url = self.base_url + url[len(TRELLO_API) :]
        return super().request(method, url, *args, **kwargs)


@dataclass
class TrelloApi:
    """A py-trello client bound to one source, plus what its traffic cost."""

    client: TrelloClient
    source: TrelloSource
    stats: RequestStats

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a REST path (e.g. "/boards/ID/actions") through py-trello and return its JSON."""
        return self.client.fetch_json(path, query_params=dict(params or {}))


@contextmanager
def prefetching(api: TrelloApi) -> Iterator[Callable[[str, dict[str, Any]], Future[Any]]]:
    """A background fetcher, so that the next page downloads while this one is being stored."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trello-prefetch")
    try:
        yield lambda path, params: pool.submit(api.get, path, params)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


_THROTTLES: dict[tuple[str, str, RateLimit], SlidingWindowThrottle] = {}
_THROTTLES_LOCK = threading.Lock()


def shared_throttle(source: TrelloSource, rate: RateLimit) -> SlidingWindowThrottle:
    """One throttle per host and token for the whole process, so that syncs run back to back
    (or sources sharing a token) together stay under the token's limit."""
    token = hashlib.sha256(source.token.get_secret_value().encode()).hexdigest()
    with _THROTTLES_LOCK:
        return _THROTTLES.setdefault(
            (source.url.rstrip("/"), token, rate), SlidingWindowThrottle(rate.requests, rate.window)
        )


def redact(record: logging.LogRecord) -> bool:
    """A logging filter that blanks key and token query parameters in a library's log line
    (urllib3 logs every request URL at DEBUG, and py-trello puts the credentials there)."""
    if isinstance(record.msg, str):
        record.msg = _SECRET_PARAM.sub(r"\1=REDACTED", record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(
            _SECRET_PARAM.sub(r"\1=REDACTED", arg) if isinstance(arg, str) else arg
            for arg in record.args
        )
    return True


def connect(
    source: TrelloSource, rate: RateLimit, stats: RequestStats, stop: threading.Event
) -> TrelloApi:
    """A client whose every request goes through the policy, the throttle and the URL rewrite."""
    policy = HttpPolicy(
        timeout=source.duration("timeout").total_seconds(),
        max_retry_time=source.duration("max_retry_time").total_seconds(),
        unreachable_after=source.duration("unreachable_after").total_seconds(),
        rate_limit_wait=rate.window,
    )
    pool_log = logging.getLogger("urllib3.connectionpool")
    if redact not in pool_log.filters:
        pool_log.addFilter(redact)
    throttle = shared_throttle(source, rate)
    session = policy_session(policy, stats, throttle, stop, session=TrelloSession(source.url))
    client = TrelloClient(
        api_key=source.key.get_secret_value(),
        api_secret=source.token.get_secret_value(),
        http_service=session,
    )
    return TrelloApi(client=client, source=source, stats=stats)


def http_status(exc: Exception) -> int | None:
    """The HTTP status of a py-trello error, None for anything else."""
    status = getattr(exc, "_status", None)
    return int(status) if isinstance(exc, ResourceUnavailable) and status is not None else None


def describe_error(source: TrelloSource, exc: Exception) -> SourceError:
    """Turn a py-trello or network failure into one line naming the source (never the URL)."""
    status = http_status(exc)
    if isinstance(exc, Unauthorized) or status in (401, 403):
        return AuthError(
            f"{source.name}: Trello refused the credentials (HTTP {status}: {_body(exc)}); "
            "check key and token"
        )
    if status is not None:
        return SourceError(f"{source.name}: Trello answered HTTP {status}: {_body(exc)}")
    if isinstance(exc, RetryAfterTooLong):
        return SourceError(f"{source.name}: {source.url} {exc}; try again later")
    if isinstance(exc, requests.Timeout):
        return SourceError(f"{source.name}: {source.url} did not answer in time (timeout)")
    if isinstance(exc, requests.ConnectionError):
        return SourceError(f"{source.name}: cannot reach {source.url} ({connection_reason(exc)})")
    if isinstance(exc, ValueError):
        return SourceError(f"{source.name}: {source.url} did not answer with JSON; is it Trello?")
    return SourceError(f"{source.name}: {type(exc).__name__}")


def _body(exc: Exception) -> str:
    """The first line of an error body; py-trello appends " at <url>", which is cut off."""
    message = str(getattr(exc, "_msg", "") or "")
    text = message.rsplit(" at http", 1)[0].strip()
    first = text.splitlines()[0] if text else "no details"
    return first[:200]
