"""JQL search one page at a time, and complete changelogs when search truncated them.

Cloud pages with `nextPageToken` on /search/jql; Data Center pages with `startAt` on /search.
Pages are fetched one by one (never "all at once") so the sync can store and checkpoint each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.jira.client import JiraSite

CHANGELOG_PAGE = 100


@dataclass
class SearchPage:
    """One page of search results and where the next one starts (None: this was the last)."""

    issues: list[dict[str, Any]]
    next: str | int | None
    total: int | None


def jql_time(moment: datetime, zone: ZoneInfo) -> str:
    """A JQL date literal for `moment` in the searching user's zone, floored to the minute.

    JQL reads zone-less dates in the user's profile zone and compares to the minute, so
    flooring can only widen a `>=` window, never narrow it.
    """
    return moment.astimezone(zone).strftime('"%Y-%m-%d %H:%M"')


def window_jql(
    scope: str,
    zone: ZoneInfo,
    updated_since: datetime | None = None,
    created_from: datetime | None = None,
) -> str:
    """The bounded query for one pass: scope, optional window, stable creation order."""
    clauses = [f"({scope})"]
    if updated_since is not None:
        clauses.append(f"updated >= {jql_time(updated_since, zone)}")
    if created_from is not None:
        clauses.append(f"created >= {jql_time(created_from, zone)}")
    return " AND ".join(clauses) + " ORDER BY created ASC, key ASC"


def search_page(
    site: JiraSite,
    jql: str,
    fields: list[str],
    position: str | int | None,
    page_size: int,
    expand: str | None = "changelog",
) -> SearchPage:
    """Fetch one page of a search, on whichever API the site has."""
    jira = site.jira
    if site.cloud:
        raw: dict[str, Any] = jira.enhanced_search_issues(
            jql,
            nextPageToken=position if isinstance(position, str) else None,
            maxResults=page_size,
            fields=list(fields),
            expand=expand,
            json_result=True,
            use_post=True,
        )
        issues = list(raw.get("issues") or [])
        token = raw.get("nextPageToken")
        done = raw.get("isLast", token is None) or not token or not issues
        return SearchPage(issues, None if done else str(token), None)
    start = int(position or 0)
    raw = jira.search_issues(
        jql,
        startAt=start,
        maxResults=page_size,
        fields=list(fields),
        expand=expand,
        json_result=True,
        use_post=True,
    )
    issues = list(raw.get("issues") or [])
    total = int(raw.get("total") or 0)
    following = start + len(issues)
    return SearchPage(issues, following if issues and following < total else None, total)


def approximate_count(site: JiraSite, jql: str) -> int | None:
    """How many issues a query matches, for progress bars (Cloud only; DC reports `total`)."""
    if not site.cloud:
        return None
    bare = jql.split(" ORDER BY ", 1)[0]
    answer = site.post("search/approximate-count", {"jql": bare})
    return int(answer.get("count", 0)) if isinstance(answer, dict) else None


def complete_changelog(site: JiraSite, issue: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's whole history, oldest first, fetching the rest when search truncated it."""
    embedded = issue.get("changelog") or {}
    histories = list(embedded.get("histories") or [])
    total = int(embedded.get("total", len(histories)) or 0)
    if total > len(histories):
        histories = list(_fetch_changelog(site, str(issue["id"])))
    return sorted(histories, key=lambda h: (str(h.get("created")), _int(h.get("id"))))


def _fetch_changelog(site: JiraSite, issue_id: str) -> Iterator[dict[str, Any]]:
    if site.cloud:
        start = 0
        while True:
            page = site.get(
                f"issue/{issue_id}/changelog",
                {"startAt": start, "maxResults": CHANGELOG_PAGE},
            )
            values = list(page.get("values") or [])
            yield from values
            start += len(values)
            if page.get("isLast", True) or not values or start >= int(page.get("total", 0)):
                return
    # Data Center has no changelog resource; the issue itself carries the whole history.
    issue = site.get(f"issue/{issue_id}", {"expand": "changelog", "fields": "status"})
    yield from (issue.get("changelog") or {}).get("histories") or []


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
