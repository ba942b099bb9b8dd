"""The census: the only way to learn about deletions, moves, lost permissions and missed edits.

Jira cannot list deleted issues, so the census lists every id in scope (ids only, so pages are
large and cheap) and compares with the store. It also asks which issues changed (`updated`)
since the previous census began and compares that with what the store holds: ids the store
lacks and rows older than the source are re-fetched, so whatever a pass could have missed heals
at the next census.

Ids the source no longer lists are confirmed one by one with a direct GET: still readable means
moved (out of scope when its project is outside the configured projects, or when the configured
JQL no longer matches it); 404 with the project gone from view means we lost permission; 404
with the project visible means the issue is gone — deleted, or hidden by issue-level security,
which Jira answers alike, so Pulse records it as gone without claiming which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jira import JIRAError

from pulse.connectors.census import CensusFindings
from pulse.connectors.jira.agile import read_project
from pulse.connectors.jira.client import JiraSite, parse_jira_time
from pulse.connectors.jira.pages import PageWriter
from pulse.connectors.jira.prefetch import fetched_pages
from pulse.connectors.jira.search import window_where
from pulse.store.items import live_items
from pulse.store.structure import hide_projects

CENSUS_PAGE = 5000  # Jira allows its largest pages when only ids are asked for
CHANGED_PAGE = 100
REFETCH_BATCH = 50


@dataclass(frozen=True)
class CensusScope:
    """What the census lists, and how it tells an issue that left the scope."""

    scopes: list[str]
    # The configured projects (empty when the JQL alone defines the scope).
    projects: frozenset[str]
    # Whether a configured JQL filters the scope: then an issue the listing no longer shows
    # but we can still read has left it, whatever its project.
    filtered: bool


def listing(
    writer: PageWriter, scopes: Iterable[str], changed_since: datetime
) -> dict[str, datetime | None]:
    """Every issue id the source shows in these scopes, with `updated` for those changed since
    `changed_since`."""
    site = writer.site
    listed: dict[str, datetime | None] = {}
    for scope in scopes:
        where = window_where(scope, site.user_zone)
        for page in fetched_pages(site, where, ["id"], CENSUS_PAGE, writer.stop, expand=None):
            listed.update((str(issue["id"]), None) for issue in page.issues)
        where = window_where(scope, site.user_zone, updated_since=changed_since)
        for page in fetched_pages(site, where, ["updated"], CHANGED_PAGE, writer.stop, expand=None):
            listed.update(
                (str(issue["id"]), parse_jira_time((issue.get("fields") or {}).get("updated")))
                for issue in page.issues
            )
    return listed


def run_census(
    writer: PageWriter,
    scope: CensusScope,
    fetch_fields: list[str],
    listed: dict[str, datetime | None],
) -> CensusFindings:
    """Compare the listing with the store; re-fetch what is missing or stale and classify
    what vanished (an issue re-read out of scope is stored so by the writer, not listed)."""
    site, store, source_id = writer.site, writer.store, writer.source_id
    result = CensusFindings()
    columns = ("item_id", "project_key", "updated", "access_lost_at", "out_of_scope_at")
    with store.reading() as conn:
        stored = {row.item_id: row for row in live_items(conn, source_id, columns)}
    missing = sorted(item_id for item_id in listed if item_id not in stored)
    stale = sorted(
        item_id
        for item_id, updated in listed.items()
        if item_id in stored and _stale(stored[item_id], updated)
    )
    _refetch(writer, missing + stale, fetch_fields)

    vanished = [
        row
        for item_id, row in stored.items()
        if item_id not in listed and row.access_lost_at is None and row.out_of_scope_at is None
    ]
    project_visible: dict[str, bool] = {}
    for row in vanished:
        visible = _get_issue(site, row.item_id, fetch_fields)
        if visible is not None:
            project = str(((visible.get("fields") or {}).get("project") or {}).get("key") or "")
            outside = scope.filtered or project not in scope.projects
            writer.write([visible], out_of_scope=frozenset({project}) if outside else frozenset())
            continue
        key = str(row.project_key or "")
        if key not in project_visible:
            project_visible[key] = read_project(site, source_id, key) is not None
        (result.gone if project_visible[key] else result.access_lost).append(row.item_id)
    _mark(writer, result, {k for k, visible in project_visible.items() if not visible})
    return result


def _stale(row: Any, source_updated: datetime | None) -> bool:
    """The stored row is older than the source says, or marked as outside a scope it is in."""
    if row.access_lost_at is not None or row.out_of_scope_at is not None:
        return True
    return source_updated is not None and (row.updated is None or row.updated < source_updated)


def _refetch(writer: PageWriter, item_ids: list[str], fetch_fields: list[str]) -> None:
    """Read these issues again (whole histories included) and store them."""
    site = writer.site
    for start in range(0, len(item_ids), REFETCH_BATCH):
        batch = item_ids[start : start + REFETCH_BATCH]
        where = window_where(f"id in ({', '.join(batch)})", site.user_zone)
        for page in fetched_pages(site, where, fetch_fields, REFETCH_BATCH, writer.stop):
            writer.write(page.issues, page.histories)


def _mark(writer: PageWriter, result: CensusFindings, hidden_projects: set[str]) -> None:
    """Stamp gone and access-lost items, and projects no longer visible, in one transaction."""
    with writer.store.transaction() as conn:
        result.mark(conn, writer.source_id, writer.now())
        if hidden_projects:
            hide_projects(conn, writer.source_id, hidden_projects)


def _get_issue(site: JiraSite, item_id: str, fetch_fields: list[str]) -> dict[str, Any] | None:
    try:
        issue = site.get(
            f"issue/{item_id}", {"fields": ",".join(fetch_fields), "expand": "changelog"}
        )
    except JIRAError as exc:
        if exc.status_code == 404:
            return None
        raise
    return issue if isinstance(issue, dict) else None
