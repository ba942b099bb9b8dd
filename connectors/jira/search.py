"""JQL search one keyset page at a time, and complete changelogs when search truncated them.

Every page is a fresh query `… AND id > <last id read> ORDER BY id ASC`, so an issue that leaves
or enters the result while we page can never shift a later one past us (offset paging — DC
`startAt`, and a Cloud `nextPageToken` that encodes an offset — can). Cloud answers on
/search/jql, Data Center on /search; pages are fetched one by one so each can be checkpointed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jira import JIRAError

from pulse.connectors.jira.client import JiraSite

CHANGELOG_PAGE = 100
BULK_CHANGELOG_ISSUES = 1000  # Cloud's changelog/bulkfetch takes up to 1000 issues per request
BULK_CHANGELOG_PAGE = 10000  # ... and returns up to 10000 histories per page


@dataclass
class SearchPage:
    """One page of search results and the id the next page starts after (None: last page)."""

    issues: list[dict[str, Any]]
    next: int | None
    total: int | None


def jql_time(moment: datetime, zone: ZoneInfo) -> str:
    """A JQL date literal for `moment` in the searching user's zone, floored to the minute.

    JQL reads zone-less dates in the user's profile zone and compares to the minute, so
    flooring can only widen a `>=` window, never narrow it.
    """
    return moment.astimezone(zone).strftime('"%Y-%m-%d %H:%M"')


def window_where(scope: str, zone: ZoneInfo, updated_since: datetime | None = None) -> str:
    """The WHERE part of one pass's query: the scope and, for an incremental pass, its window."""
    where = f"({scope})"
    if updated_since is not None:
        where += f" AND updated >= {jql_time(updated_since, zone)}"
    return where


def keyset_jql(where: str, after_id: int | None) -> str:
    """The query for the page after issue id `after_id` (None: the first page), in id order."""
    bound = "" if after_id is None else f" AND id > {after_id}"
    return f"{where}{bound} ORDER BY id ASC"


def search_page(
    site: JiraSite,
    where: str,
    fields: list[str],
    after_id: int | None,
    page_size: int,
    expand: str | None = "changelog",
) -> SearchPage:
    """Fetch the page of `where` that follows issue id `after_id`, on whichever API the site has."""
    jira = site.jira
    jql = keyset_jql(where, after_id)
    if site.cloud:
        raw: dict[str, Any] = jira.enhanced_search_issues(
            jql,
            maxResults=page_size,
            fields=list(fields),
            expand=expand,
            json_result=True,
            use_post=True,
        )
        issues = list(raw.get("issues") or [])
        done = raw.get("isLast", not raw.get("nextPageToken")) or not issues
        return SearchPage(issues, None if done else _last_id(issues), None)
    raw = jira.search_issues(
        jql,
        startAt=0,
        maxResults=page_size,
        fields=list(fields),
        expand=expand,
        json_result=True,
        use_post=True,
    )
    issues = list(raw.get("issues") or [])
    total = int(raw.get("total") or 0)
    more = bool(issues) and len(issues) < total
    return SearchPage(issues, _last_id(issues) if more else None, total)


def _last_id(issues: list[dict[str, Any]]) -> int:
    return max(int(issue["id"]) for issue in issues)


def approximate_count(site: JiraSite, where: str) -> int | None:
    """How many issues a query matches, for progress bars (Cloud only; DC reports `total`)."""
    if not site.cloud:
        return None
    answer = site.post("search/approximate-count", {"jql": where})
    return int(answer.get("count", 0)) if isinstance(answer, dict) else None


def complete_changelogs(site: JiraSite, issues: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each issue's whole history, oldest first, fetching the rest where search truncated it.

    Cloud completes the truncated ones together through changelog/bulkfetch (many issues per
    request); Data Center, which has no changelog resource, re-reads each such issue.
    """
    truncated = [str(issue["id"]) for issue in issues if _truncated(issue)]
    fetched = _bulk_changelogs(site, truncated) if truncated and site.cloud else None
    if fetched is None:
        fetched = {issue_id: list(_fetch_changelog(site, issue_id)) for issue_id in truncated}
    histories = []
    for issue in issues:
        embedded = (issue.get("changelog") or {}).get("histories") or []
        chosen = fetched.get(str(issue["id"]), embedded)
        histories.append(sorted(chosen, key=lambda h: (str(h.get("created")), _int(h.get("id")))))
    return histories


def _truncated(issue: dict[str, Any]) -> bool:
    embedded = issue.get("changelog") or {}
    histories = embedded.get("histories") or []
    return int(embedded.get("total", len(histories)) or 0) > len(histories)


def _bulk_changelogs(
    site: JiraSite, issue_ids: list[str]
) -> dict[str, list[dict[str, Any]]] | None:
    """Whole histories of many issues through POST changelog/bulkfetch; None where unsupported.

    An issue deleted or hidden since the search is left out, and keeps its embedded history
    until the census classifies it.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(issue_ids), BULK_CHANGELOG_ISSUES):
        body: dict[str, Any] = {
            "issueIdsOrKeys": issue_ids[start : start + BULK_CHANGELOG_ISSUES],
            "maxResults": BULK_CHANGELOG_PAGE,
        }
        while True:
            try:
                page = site.post("changelog/bulkfetch", body)
            except JIRAError as exc:
                if exc.status_code in (404, 405):  # an older site without the bulk resource
                    return None
                raise
            for entry in page.get("issueChangeLogs") or []:
                found.setdefault(str(entry.get("issueId")), []).extend(
                    entry.get("changeHistories") or []
                )
            token = page.get("nextPageToken")
            if not token:
                break
            body = {**body, "nextPageToken": token}
    return found


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
