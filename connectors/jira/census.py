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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jira import JIRAError
from sqlalchemy import select, update

from pulse.connectors.jira.agile import read_project
from pulse.connectors.jira.client import JiraSite, parse_jira_time
from pulse.connectors.jira.pages import PageWriter
from pulse.connectors.jira.prefetch import fetched_pages
from pulse.connectors.jira.search import window_where
from pulse.store import schema

CENSUS_PAGE = 5000  # Jira allows its largest pages when only ids are asked for
CHANGED_PAGE = 100
REFETCH_BATCH = 50


@dataclass
class CensusResult:
    """What the census found."""

    listed: int = 0
    refetched: int = 0
    stale: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    moved_out: list[str] = field(default_factory=list)
    access_lost: list[str] = field(default_factory=list)


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
) -> CensusResult:
    """Compare the listing with the store; re-fetch what is missing or stale and classify
    what vanished."""
    site, store, source_id = writer.site, writer.store, writer.source_id
    result = CensusResult(listed=len(listed))
    items = schema.items
    with store.engine.connect() as conn:
        stored = {
            row.item_id: row
            for row in conn.execute(
                select(
                    items.c.item_id,
                    items.c.project_key,
                    items.c.updated,
                    items.c.access_lost_at,
                    items.c.out_of_scope_at,
                )
                .where(items.c.source_id == source_id)
                .where(items.c.deleted_at.is_(None))
            )
        }
    missing = sorted(item_id for item_id in listed if item_id not in stored)
    result.stale = sorted(
        item_id
        for item_id, updated in listed.items()
        if item_id in stored and _stale(stored[item_id], updated)
    )
    result.refetched = _refetch(writer, missing + result.stale, fetch_fields)

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
            if outside:
                result.moved_out.append(row.item_id)
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


def _refetch(writer: PageWriter, item_ids: list[str], fetch_fields: list[str]) -> int:
    """Read these issues again (whole histories included) and store them; how many came back."""
    site, count = writer.site, 0
    for start in range(0, len(item_ids), REFETCH_BATCH):
        batch = item_ids[start : start + REFETCH_BATCH]
        where = window_where(f"id in ({', '.join(batch)})", site.user_zone)
        for page in fetched_pages(site, where, fetch_fields, REFETCH_BATCH, writer.stop):
            writer.write(page.issues, page.histories)
            count += len(page.issues)
    return count


def _mark(writer: PageWriter, result: CensusResult, hidden_projects: set[str]) -> None:
    """Stamp gone and access-lost items, and projects no longer visible, in one transaction."""
    items, now = schema.items, writer.now()
    with writer.store.transaction() as conn:
        for ids, column in (
            (result.gone, items.c.deleted_at),
            (result.access_lost, items.c.access_lost_at),
        ):
            for start in range(0, len(ids), 500):
                conn.execute(
                    update(items)
                    .where(items.c.source_id == writer.source_id)
                    .where(items.c.item_id.in_(ids[start : start + 500]))
                    .where(column.is_(None))
                    .values({column.name: now})
                )
        if hidden_projects:
            conn.execute(
                update(schema.projects)
                .where(schema.projects.c.source_id == writer.source_id)
                .where(schema.projects.c.key.in_(sorted(hidden_projects)))
                .values(accessible=False)
            )


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
