"""The id census: the only way to learn about deletions, moves and lost permissions.

Jira cannot list deleted issues, so the census lists every id (and `updated`) in scope and
compares with the store. Ids the store lacks, or holds an older version of, are re-fetched —
this also repairs anything a shifting page could have skipped. Ids the source no longer lists
are confirmed one by one with a direct GET: still readable means moved (possibly out of scope);
404 with the project still visible means deleted; 404 with the project gone from view means we
lost permission, which is not a deletion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jira import JIRAError
from sqlalchemy import select, update

from connectors.jira.agile import read_project
from connectors.jira.client import JiraSite, parse_jira_time
from connectors.jira.pages import PageWriter
from connectors.jira.search import search_page, window_jql
from store import schema

CENSUS_PAGE = 1000
REFETCH_BATCH = 50


@dataclass
class CensusResult:
    """What the census found."""

    listed: int = 0
    refetched: int = 0
    deleted: list[str] = field(default_factory=list)
    moved_out: list[str] = field(default_factory=list)
    access_lost: list[str] = field(default_factory=list)


def run_census(
    writer: PageWriter,
    scopes: Iterable[str],
    in_scope_projects: frozenset[str] | None,
    fetch_fields: list[str],
) -> CensusResult:
    """List every id in scope, repair stale or missing rows, and classify the vanished."""
    site, store, source_id = writer.site, writer.store, writer.source_id
    result = CensusResult()
    listed: dict[str, datetime | None] = {}
    for scope in scopes:
        jql = window_jql(scope, site.user_zone)
        position: str | int | None = None
        while True:
            page = search_page(site, jql, ["updated"], position, CENSUS_PAGE, expand=None)
            for issue in page.issues:
                listed[str(issue["id"])] = parse_jira_time(
                    (issue.get("fields") or {}).get("updated")
                )
            position = page.next
            if position is None:
                break
    result.listed = len(listed)

    items = schema.items
    with store.engine.connect() as conn:
        stored = {
            row.item_id: row
            for row in conn.execute(
                select(
                    items.c.item_id,
                    items.c.key,
                    items.c.project_key,
                    items.c.updated,
                    items.c.access_lost_at,
                    items.c.out_of_scope_at,
                )
                .where(items.c.source_id == source_id)
                .where(items.c.deleted_at.is_(None))
            )
        }
    stale = [
        item_id
        for item_id, updated in listed.items()
        if item_id not in stored
        or (
            updated is not None
            and (stored[item_id].updated is None or stored[item_id].updated < updated)
        )
    ]
    for start in range(0, len(stale), REFETCH_BATCH):
        batch = stale[start : start + REFETCH_BATCH]
        jql = window_jql(f"id in ({', '.join(batch)})", site.user_zone)
        found = search_page(site, jql, fetch_fields, None, REFETCH_BATCH).issues
        writer.write(found)
        result.refetched += len(found)

    vanished = [
        row
        for item_id, row in stored.items()
        if item_id not in listed and row.access_lost_at is None and row.out_of_scope_at is None
    ]
    project_visible: dict[str, bool] = {}
    now = writer.now()
    for row in vanished:
        visible = _get_issue(site, row.item_id, fetch_fields)
        if visible is not None:
            project = str(((visible.get("fields") or {}).get("project") or {}).get("key") or "")
            outside = in_scope_projects is not None and project not in in_scope_projects
            writer.write([visible], out_of_scope=frozenset({project}) if outside else frozenset())
            if outside:
                result.moved_out.append(row.item_id)
            continue
        key = str(row.project_key or "")
        if key not in project_visible:
            project_visible[key] = read_project(site, source_id, key) is not None
        (result.deleted if project_visible[key] else result.access_lost).append(row.item_id)

    with store.transaction() as conn:
        for ids, column in (
            (result.deleted, items.c.deleted_at),
            (result.access_lost, items.c.access_lost_at),
        ):
            for start in range(0, len(ids), 500):
                conn.execute(
                    update(items)
                    .where(items.c.source_id == source_id)
                    .where(items.c.item_id.in_(ids[start : start + 500]))
                    .where(column.is_(None))
                    .values({column.name: now})
                )
        inaccessible = {k for k, visible in project_visible.items() if not visible}
        if inaccessible:
            conn.execute(
                update(schema.projects)
                .where(schema.projects.c.source_id == source_id)
                .where(schema.projects.c.key.in_(sorted(inaccessible)))
                .values(accessible=False)
            )
    return result


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
