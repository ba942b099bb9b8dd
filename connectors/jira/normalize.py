"""Turn Jira issue JSON (with its complete changelog) into rows of the normalized store."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table

from pulse.connectors.jira.client import parse_jira_time
from pulse.connectors.jira.fields import FieldMap
from pulse.store import schema

Row = dict[str, Any]

# Changelog field names (as Jira writes them) → normalized field, for the built-in fields.
_SYSTEM_FIELDS = {
    "fix version": "fix_version",
    "duedate": "due_date",
    "assignee": "assignee",
    "parent": "parent",
    "issueparentassociation": "parent",
    "epic link": "parent",
    "epic child": None,  # recorded on the epic; the child's own "Epic Link" item is what counts
    "key": "key",
    "project": "project",
    "link": "link",
    "resolution": "resolution",
    "labels": "labels",
}
_ROLE_FIELDS = {
    "story_points": "estimate",
    "sprint": "sprint",
    "flagged": "flagged",
    "epic_link": "parent",
    "start_date": "start_date",
    "target_date": "target_date",
}
_SPRINT_ID = re.compile(r"\bid=(\d+)")


@dataclass
class PageRows:
    """All rows one page of issues produces, grouped by table."""

    items: list[Row] = field(default_factory=list)
    children: dict[Table, list[Row]] = field(default_factory=lambda: defaultdict(list))
    people: dict[str, Row] = field(default_factory=dict)
    statuses: dict[str, Row] = field(default_factory=dict)

    @property
    def item_ids(self) -> list[str]:
        return [row["item_id"] for row in self.items]


def _person(raw: dict[str, Any] | None, page: PageRows, source_id: int) -> str | None:
    if not raw:
        return None
    person_id = str(raw.get("accountId") or raw.get("key") or raw.get("name") or "")
    if not person_id:
        return None
    page.people[person_id] = {
        "source_id": source_id,
        "person_id": person_id,
        "display_name": raw.get("displayName"),
    }
    return person_id


def _day(value: Any) -> date | None:
    if not value or not isinstance(value, str):
        return None
    return date.fromisoformat(value[:10])


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def sprint_ids(value: Any) -> list[str]:
    """Sprint ids from the Sprint field: objects (Cloud, modern DC) or legacy strings (old DC)."""
    if not value:
        return []
    out = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict) and entry.get("id") is not None:
            out.append(str(entry["id"]))
        elif isinstance(entry, str):
            match = _SPRINT_ID.search(entry)
            out.append(match.group(1) if match else entry.strip())
        elif isinstance(entry, int):
            out.append(str(entry))
    return out


def _sprint_value(value: str | None) -> str:
    """Changelog sprint values ("12, 13") as a canonical, comma-joined id list."""
    if not value:
        return ""
    return ",".join(part.strip() for part in value.split(",") if part.strip())


def _flag_value(text: str | None) -> str:
    return "Impediment" if text and text.strip() else ""


def earlier_key(histories: list[dict[str, Any]]) -> str | None:
    """The key the issue had before its latest move, from the changelog's `Key` changes (so a
    move made before Pulse first saw the issue is known too); None when it never moved."""
    for history in reversed(histories):  # oldest first
        for change in history.get("items") or []:
            if change.get("fieldId") == "issuekey" or change.get("field") == "Key":
                return str(change.get("fromString") or change.get("from") or "") or None
    return None


def normalize_issue(
    issue: dict[str, Any],
    histories: list[dict[str, Any]],
    page: PageRows,
    source_id: int,
    site_url: str,
    fields_map: FieldMap,
    synced_at: datetime,
) -> None:
    """Add one issue's rows (item, transitions, changes, memberships, links…) to the page."""
    f = issue.get("fields") or {}
    item_id = str(issue["id"])
    key = str(issue["key"])
    status = f.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key")
    if status.get("id"):
        page.statuses[str(status["id"])] = {
            "source_id": source_id,
            "status_id": str(status["id"]),
            "name": status.get("name") or str(status["id"]),
            "category": category,
            "board_id": None,
            "position": None,
            "closed": False,
        }
    issuetype = f.get("issuetype") or {}
    parent = f.get("parent") or {}
    epic_field = fields_map.id("epic_link")
    epic_key = f.get(epic_field) if epic_field else None
    parent_key = parent.get("key") or (epic_key if isinstance(epic_key, str) else None)
    page.items.append(
        {
            "source_id": source_id,
            "item_id": item_id,
            "key": key,
            "project_key": (f.get("project") or {}).get("key") or key.rsplit("-", 1)[0],
            "board_id": None,
            "type": issuetype.get("name"),
            "is_subtask": bool(issuetype.get("subtask")),
            "title": f.get("summary") or "",
            "status": status.get("name"),
            "status_id": str(status["id"]) if status.get("id") else None,
            "status_category": category,
            "created": parse_jira_time(f.get("created")),
            "updated": parse_jira_time(f.get("updated")),
            "resolved": parse_jira_time(f.get("resolutiondate")),
            "assignee_id": _person(f.get("assignee"), page, source_id),
            "reporter_id": _person(f.get("reporter"), page, source_id),
            "estimate": _number(f.get(fields_map.id("story_points") or "")),
            "parent_id": str(parent["id"]) if parent.get("id") else None,
            "parent_key": parent_key,
            "due": _day(f.get("duedate")),
            "start_date": _day(f.get(fields_map.id("start_date") or "")),
            "target_date": _day(f.get(fields_map.id("target_date") or "")),
            "url": f"{site_url.rstrip('/')}/browse/{key}",
            "previous_key": earlier_key(histories),
            "archived": False,
            "deleted_at": None,
            "access_lost_at": None,
            "out_of_scope_at": None,
            "census_misses": 0,
            "synced_at": synced_at,
        }
    )
    children = page.children
    for sprint in sprint_ids(f.get(fields_map.id("sprint") or "")):
        children[schema.item_sprints].append(
            {"source_id": source_id, "item_id": item_id, "sprint_id": sprint}
        )
    for version in f.get("fixVersions") or []:
        children[schema.item_versions].append(
            {"source_id": source_id, "item_id": item_id, "version_id": str(version["id"])}
        )
    for label in dict.fromkeys(f.get("labels") or []):
        children[schema.item_labels].append(
            {"source_id": source_id, "item_id": item_id, "label": str(label)[:255]}
        )
    for component in {str(c.get("name")) for c in f.get("components") or [] if c.get("name")}:
        children[schema.item_components].append(
            {"source_id": source_id, "item_id": item_id, "component": component[:255]}
        )
    for link in f.get("issuelinks") or []:
        other = link.get("outwardIssue") or link.get("inwardIssue") or {}
        children[schema.links].append(
            {
                "source_id": source_id,
                "item_id": item_id,
                "link_id": str(link.get("id")),
                "direction": "outward" if link.get("outwardIssue") else "inward",
                "link_type": (link.get("type") or {}).get("name") or "Relates",
                "other_item_id": str(other["id"]) if other.get("id") else None,
                "other_key": other.get("key"),
                "other_url": None,
            }
        )
    _histories(item_id, histories, page, source_id, fields_map)


def _histories(
    item_id: str,
    histories: list[dict[str, Any]],
    page: PageRows,
    source_id: int,
    fields_map: FieldMap,
) -> None:
    """Changelog items → transition rows (status) and change rows (every tracked field).

    This loop runs for every history item of every issue, so it builds each row once.
    """
    transitions = page.children[schema.transitions]
    changes = page.children[schema.changes]
    seen: set[tuple[str, int]] = set()
    for history in histories:
        at = parse_jira_time(history.get("created"))
        if at is None:
            continue
        change_id = str(history.get("id"))
        author = _person(history.get("author"), page, source_id)
        for seq, entry in enumerate(history.get("items") or ()):
            if (change_id, seq) in seen:
                continue
            seen.add((change_id, seq))
            name = entry.get("field") or ""
            if name == "status" or name.lower() == "status":
                transitions.append(
                    {
                        "source_id": source_id,
                        "item_id": item_id,
                        "change_id": change_id,
                        "seq": seq,
                        "at": at,
                        "author_id": author,
                        "from_status": entry.get("fromString"),
                        "to_status": entry.get("toString"),
                        "from_status_id": entry.get("from"),
                        "to_status_id": entry.get("to"),
                    }
                )
                continue
            role = fields_map.role_of(entry.get("fieldId"), name)
            normalized = _ROLE_FIELDS.get(role) if role else _SYSTEM_FIELDS.get(name.lower())
            if not normalized:
                continue
            from_string, to_string = entry.get("fromString"), entry.get("toString")
            old, new = _values(
                normalized, entry.get("from"), entry.get("to"), from_string, to_string
            )
            changes.append(
                {
                    "source_id": source_id,
                    "item_id": item_id,
                    "change_id": change_id,
                    "seq": seq,
                    "at": at,
                    "author_id": author,
                    "field": normalized,
                    "source_field": entry.get("fieldId") or name,
                    "from_value": old,
                    "to_value": new,
                    "from_string": from_string,
                    "to_string": to_string,
                }
            )


_STRING_FALLBACK = frozenset({"key", "project", "labels", "due_date", "start_date", "target_date"})


def _values(field: str, old: Any, new: Any, from_string: Any, to_string: Any) -> tuple[Any, Any]:
    """A change's before and after values in the store's canonical form for its field."""
    if field in ("estimate", "parent"):
        # Estimates as written; parents as epic keys, which is how items name their parent.
        return from_string, to_string
    if field == "sprint":
        return _sprint_value(old), _sprint_value(new)
    if field == "flagged":
        return _flag_value(from_string), _flag_value(to_string)
    if field in _STRING_FALLBACK:
        return (old if old is not None else from_string), (new if new is not None else to_string)
    return old, new
