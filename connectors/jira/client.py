"""Connect to a Jira site through the `jira` library, with Pulse's HTTP policy underneath.

The library's own retries are switched off (they ignore HTTP-date Retry-After and have no total
cap); our policy adapter does the retrying. Cloud and Data Center are told apart by serverInfo,
and the searching user's time zone comes from /myself, because JQL dates are read in that zone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError

from pulse import clock
from pulse.connectors.base import AuthError, SourceError
from pulse.connectors.http_policy import (
    HttpPolicy,
    RequestStats,
    RetryAfterTooLong,
    connection_reason,
    policy_session,
)
from pulse.safetext import one_line
from pulse.settings import JiraSource


@dataclass
class JiraSite:
    """A connected site: the library client plus what we learnt about the server."""

    jira: JIRA
    source: JiraSource
    cloud: bool
    api_version: str
    user_zone: ZoneInfo
    server_time: datetime
    title: str
    stats: RequestStats

    @property
    def deployment(self) -> str:
        return "cloud" if self.cloud else "datacenter"

    def get(self, path: str, params: dict[str, Any] | None = None, agile: bool = False) -> Any:
        """GET a REST path (platform or agile) and return its JSON."""
        base = self.jira.AGILE_BASE_URL if agile else self.jira.JIRA_BASE_URL
        return self.jira._get_json(path, params=params, base=base)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON to a platform REST path and return its JSON."""
        return self.jira._get_json(path, params=body, use_post=True)


def describe_error(source: JiraSource, exc: Exception) -> SourceError:
    """Turn a library or network failure into one line naming the source."""
    if isinstance(exc, JIRAError):
        status = exc.status_code
        if status in (401, 403):
            return AuthError(
                f"{source.name}: authentication failed at {source.url} (HTTP {status}); "
                "check user and token"
            )
        text = one_line(str(exc.text or "").strip().split("\n", 1)[0]) or "no details"
        return SourceError(f"{source.name}: Jira answered HTTP {status}: {text}")
    if isinstance(exc, RetryAfterTooLong):
        return SourceError(f"{source.name}: {source.url} {exc}; try again later")
    if isinstance(exc, requests.Timeout):
        return SourceError(f"{source.name}: {source.url} did not answer in time (timeout)")
    if isinstance(exc, requests.ConnectionError):
        return SourceError(f"{source.name}: cannot reach {source.url} ({connection_reason(exc)})")
    if isinstance(exc, ValueError):
        return SourceError(
            f"{source.name}: {source.url} did not answer with JSON; is it a Jira site?"
        )
    return SourceError(f"{source.name}: {type(exc).__name__}: {one_line(exc)}")


def connect(
    source: JiraSource, policy: HttpPolicy, stats: RequestStats, stop: threading.Event
) -> JiraSite:
    """Open the site, detect Cloud or Data Center, and read the user's time zone."""
    secret = source.token.get_secret_value()
    auth: dict[str, Any] = (
        {"basic_auth": (source.user, secret)} if source.auth == "basic" else {"token_auth": secret}
    )
    version = "2" if source.api_version == "auto" else source.api_version
    try:
        jira = JIRA(
            server=source.url.rstrip("/"),
            options={"rest_api_version": version, "check_update": False},
            get_server_info=False,
            max_retries=0,
            timeout=policy.timeout,
            **auth,
        )
        policy_session(policy, stats, stop=stop, session=jira._session)
        info = jira.server_info()
        jira.deploymentType = info.get("deploymentType")
        jira._version = tuple(info.get("versionNumbers") or (0, 0, 0))
        cloud = jira.deploymentType == "Cloud"
        if not cloud and version == "3":
            raise SourceError(
                f'{source.name}: api_version = "3" needs Jira Cloud; this site is Data Center'
            )
        if cloud and source.api_version == "auto":
            version = "3"
            jira._options["rest_api_version"] = version
        me = jira.myself()
    except SourceError:
        raise
    except (JIRAError, requests.RequestException, ValueError) as exc:
        raise describe_error(source, exc) from None
    return JiraSite(
        jira=jira,
        source=source,
        cloud=cloud,
        api_version=version,
        user_zone=_zone(me.get("timeZone")),
        server_time=parse_jira_time(info.get("serverTime")) or clock.now(),
        title=str(info.get("serverTitle") or ""),
        stats=stats,
    )


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_jira_time(value: str | None) -> datetime | None:
    """Parse Jira's timestamps ("2026-11-20T10:15:30.123+0000") into aware datetimes."""
    if not value:
        return None
    return datetime.fromisoformat(value)
