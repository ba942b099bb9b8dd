"""Boards (with their configuration), sprints of every state, and project versions.

The agile endpoints cap pages at 50 and signal the end with `isLast`; every list is paged to the
end. These structures are small, so they are re-read in full on every sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jira import JIRAError

from pulse.connectors.jira.client import JiraSite, parse_jira_time

Row = dict[str, Any]
AGILE_PAGE = 50


@dataclass
class AgileRows:
    """Everything the agile pass read, as store rows."""

    boards: list[Row] = field(default_factory=list)
    sprints: list[Row] = field(default_factory=list)
    versions: list[Row] = field(default_factory=list)
    projects: list[Row] = field(default_factory=list)
    inaccessible: list[str] = field(default_factory=list)


def paged(
    site: JiraSite, path: str, params: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every value of an agile list endpoint, page by page until isLast."""
    start = 0
    while True:
        page = site.get(
            path, {**(params or {}), "startAt": start, "maxResults": AGILE_PAGE}, agile=True
        )
        values = list(page.get("values") or [])
        yield from values
        start += len(values)
        if page.get("isLast", True) or not values:
            return


def read_project(site: JiraSite, source_id: int, key: str) -> Row | None:
    """A project's row, or None when it is not visible to us (missing or no permission)."""
    try:
        raw = site.get(f"project/{key}")
    except JIRAError as exc:
        if exc.status_code == 404:
            return None
        raise
    return {
        "source_id": source_id,
        "project_id": str(raw["id"]),
        "key": raw.get("key") or key,
        "name": raw.get("name"),
        "accessible": True,
    }


def read_agile(site: JiraSite, source_id: int, project_keys: Iterable[str]) -> AgileRows:
    """Projects, their boards and sprints, and their versions."""
    rows = AgileRows()
    board_ids: set[str] = set()
    for key in project_keys:
        project = read_project(site, source_id, key)
        if project is None:
            rows.inaccessible.append(key)
            continue
        rows.projects.append(project)
        for version in site.get(f"project/{key}/versions") or []:
            rows.versions.append(_version_row(source_id, key, version))
        for board in paged(site, "board", {"projectKeyOrId": key}):
            board_id = str(board["id"])
            if board_id in board_ids:
                continue
            board_ids.add(board_id)
            rows.boards.append(_board_row(site, source_id, key, board))
            if board.get("type") == "scrum":
                for sprint in paged(site, f"board/{board_id}/sprint"):
                    rows.sprints.append(_sprint_row(source_id, board_id, sprint))
    rows.sprints = list({row["sprint_id"]: row for row in rows.sprints}.values())
    return rows


def _board_row(site: JiraSite, source_id: int, project_key: str, board: dict[str, Any]) -> Row:
    board_id = str(board["id"])
    config = site.get(f"board/{board_id}/configuration", agile=True)
    # The field the board estimates with; "" when it counts issues (no estimation field).
    estimation = ((config.get("estimation") or {}).get("field") or {}).get("fieldId") or ""
    columns = [
        {"name": c.get("name"), "statuses": [str(s.get("id")) for s in c.get("statuses") or []]}
        for c in (config.get("columnConfig") or {}).get("columns") or []
    ]
    location = board.get("location") or {}
    return {
        "source_id": source_id,
        "board_id": board_id,
        "name": board.get("name") or board_id,
        "type": board.get("type") or "simple",
        "project_key": location.get("projectKey") or project_key,
        "estimation_field": estimation,
        "columns": json.dumps(columns),
        "closed": False,
    }


def _sprint_row(source_id: int, board_id: str, sprint: dict[str, Any]) -> Row:
    return {
        "source_id": source_id,
        "sprint_id": str(sprint["id"]),
        "board_id": str(sprint.get("originBoardId") or board_id),
        "name": sprint.get("name") or str(sprint["id"]),
        "state": sprint.get("state") or "future",
        "start_at": parse_jira_time(sprint.get("startDate")),
        "end_at": parse_jira_time(sprint.get("endDate")),
        "complete_at": parse_jira_time(sprint.get("completeDate")),
        "goal": sprint.get("goal"),
    }


def _version_row(source_id: int, project_key: str, version: dict[str, Any]) -> Row:
    def day(value: Any) -> date | None:
        return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None

    return {
        "source_id": source_id,
        "version_id": str(version["id"]),
        "project_key": project_key,
        "name": version.get("name") or str(version["id"]),
        "released": bool(version.get("released")),
        "archived": bool(version.get("archived")),
        "release_date": day(version.get("releaseDate")),
        "start_date": day(version.get("startDate")),
    }
