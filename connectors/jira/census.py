"""The id census: the only way to learn about deletions, moves and lost permissions.

Jira cannot list deleted issues, so the census lists every id in scope (ids only, so pages are
large and cheap) and compares with the store; a pass that just read a whole stream serves as the
listing. Ids the store lacks are fetched — this repairs anything a shifting page could have
skipped. Ids the source no longer lists are confirmed one by one with a direct GET: still
readable means moved (possibly out of scope); 404 with the project still visible means deleted;
404 with the project gone from view means we lost permission, which is not a deletion. (Jira
answers 404 alike for a deleted issue and one hidden by issue-level security; only project-level
visibility can be told apart.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jira import JIRAError
from sqlalchemy import select, update

from connectors.jira.agile import read_project
from connectors.jira.client import JiraSite
from connectors.jira.pages import PageWriter
from connectors.jira.prefetch import fetched_pages
from connectors.jira.search import search_page, window_jql
from store import schema

CENSUS_PAGE = 5000  # Jira allows its largest pages when only ids are asked for
REFETCH_BATCH = 50


@dataclass
class CensusResult:
    """What the census found."""

    listed: int = 0
    refetched: int = 0
    deleted: list[str] = field(default_factory=list)
    moved_out: list[str] = field(default_factory=list)
    access_lost: list[str] = field(default_factory=list)


def list_ids(writer: PageWriter, scopes: Iterable[str]) -> set[str]:
    """Every issue id the source shows in these scopes."""
    site = writer.site
    listed: set[str] = set()
    for scope in scopes:
        jql = window_jql(scope, site.user_zone)
        for page in fetched_pages(site, jql, ["id"], CENSUS_PAGE, writer.stop, expand=None):
            listed.update(str(issue["id"]) for issue in page.issues)
    return listed


def run_census(
    writer: PageWriter,
    scopes: Iterable[str],
    in_scope_projects: frozenset[str] | None,
    fetch_fields: list[str],
    listed: set[str] | None = None,
) -> CensusResult:
    """Compare the ids in scope (listed now unless given) with the store; fetch what is
    missing and classify what vanished."""
    site, store, source_id = writer.site, writer.store, writer.source_id
    listed = list_ids(writer, scopes) if listed is None else listed
    result = CensusResult(listed=len(listed))
    items = schema.items
    with store.engine.connect() as conn:
        stored = {
            row.item_id: row
            for row in conn.execute(
                select(
                    items.c.item_id,
                    items.c.project_key,
                    items.c.access_lost_at,
                    items.c.out_of_scope_at,
                )
                .where(items.c.source_id == source_id)
                .where(items.c.deleted_at.is_(None))
            )
        }
    missing = sorted(item_id for item_id in listed if item_id not in stored)
    for start in range(0, len(missing), REFETCH_BATCH):
        batch = missing[start : start + REFETCH_BATCH]
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
    _mark(writer, result, {k for k, visible in project_visible.items() if not visible})
    return result


def _mark(writer: PageWriter, result: CensusResult, hidden_projects: set[str]) -> None:
    """Stamp deleted and access-lost items, and projects no longer visible, in one transaction."""
    items, now = schema.items, writer.now()
    with writer.store.transaction() as conn:
        for ids, column in (
            (result.deleted, items.c.deleted_at),
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
