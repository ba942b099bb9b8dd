"""The in-memory world the emulator serves: typed issues with typed change histories.

Histories hold typed values (status ids, sprint-id tuples, floats), never wire strings; the JSON
shapes are rendered from them, and the ground truth reads them directly. Times are epoch
milliseconds (UTC) to keep 100k+ issues small.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pulse.emulators.jira import text
from pulse.emulators.jira.catalog import FieldSet, Flavour, field_set


class Change(NamedTuple):
    """One changed field inside a history entry.

    `field` is canonical: status, resolution, estimate, sprint, flagged, parent, fix_version,
    duedate, assignee, summary, labels, link, key, project, target_end.
    """

    field: str
    old: Any
    new: Any


class History(NamedTuple):
    """One changelog entry (Jira's `Changelog`): id, epoch-ms time, author index, changes."""

    id: int
    at: int
    author: int
    changes: tuple[Change, ...]


class Link(NamedTuple):
    """One issue link as seen from its owner: `direction` is outward (owner → other) or inward."""

    id: int
    type_id: str
    direction: str
    other: int


@dataclass(slots=True)
class User:
    """A user; Cloud identifies users by account id, DC by name/key."""

    index: int
    account_id: str
    name: str
    key: str
    display_name: str
    email: str
    time_zone: str
    app: bool = False


@dataclass(slots=True)
class Version:
    """A project version (fixVersion)."""

    id: int
    project_id: int
    name: str
    description: str
    released: bool
    archived: bool
    release_date: str | None  # yyyy-mm-dd
    start_date: str | None


@dataclass(slots=True)
class Project:
    """A software project owned by one team."""

    id: int
    key: str
    name: str
    lead: int
    team: list[int]
    board_ids: list[int] = field(default_factory=list)
    version_ids: list[int] = field(default_factory=list)
    next_number: int = 1
    workflow: tuple[str, ...] = ()


@dataclass(slots=True)
class Sprint:
    """A Scrum sprint; dates are epoch ms (None where Jira has none)."""

    id: int
    board_id: int
    name: str
    state: str  # closed | active | future
    start: int | None
    end: int | None
    complete: int | None
    goal: str
    created: int


@dataclass(slots=True)
class Board:
    """An agile board over one project."""

    id: int
    name: str
    type: str  # scrum | kanban
    project_id: int
    filter_id: int
    sprint_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Issue:
    """Current state of one issue plus its full typed history (oldest first)."""

    id: int
    key: str
    project_id: int
    type_id: str
    created: int
    updated: int
    summary: str
    status: str
    resolution: str | None
    resolved_at: int | None
    status_changed_at: int
    estimate: float | None
    sprints: tuple[int, ...]
    flagged: bool
    parent: int | None
    assignee: int | None
    reporter: int
    duedate: str | None
    labels: tuple[str, ...]
    fix_versions: tuple[int, ...]
    target_start: str | None
    target_end: str | None
    priority: str
    rank: int
    histories: list[History]
    links: list[Link] = field(default_factory=list)
    description: str | None = None  # None: derived lazily from the seed
    restricted: bool = False


@dataclass
class World:
    """Everything the emulator knows, with indexes and a lock guarding mutation and reads."""

    flavour: Flavour
    seed: int
    now_ms: int
    user_timezone: str
    users: list[User]
    me: int  # index of the searching user
    automation: int  # index of the automation app user
    projects: dict[int, Project]
    boards: dict[int, Board]
    sprints: dict[int, Sprint]
    versions: dict[int, Version]
    issues: dict[int, Issue]
    next_issue_id: int
    next_history_id: int
    next_link_id: int
    key_index: dict[str, int] = field(default_factory=dict)  # key (incl. old keys) -> issue id
    deleted: dict[int, str] = field(default_factory=dict)  # id -> last key
    moved: dict[str, str] = field(default_factory=dict)  # old key -> new key
    children: dict[int, list[int]] = field(default_factory=dict)  # parent id -> child ids
    version: int = 0  # bumped by every mutation (search caches key on it)
    lock: threading.RLock = field(default_factory=threading.RLock)
    planted: dict[str, list[str]] = field(default_factory=dict)
    hidden_projects: set[int] = field(default_factory=set)  # the user lost Browse on these

    @property
    def fields(self) -> FieldSet:
        """The flavour's custom-field ids and names."""
        return field_set(self.flavour)

    def project_by_key(self, key: str) -> Project | None:
        """Project by key (case-insensitive) or id string."""
        k = key.upper()
        for p in self.projects.values():
            if p.key == k or str(p.id) == key:
                return p
        return None

    def lookup(self, id_or_key: str) -> Issue | None:
        """Live issue by id or key (old keys of moved issues resolve to the issue)."""
        if id_or_key.isdigit():
            return self.issues.get(int(id_or_key))
        issue_id = self.key_index.get(id_or_key.upper())
        return self.issues.get(issue_id) if issue_id is not None else None

    def visible(self, issue: Issue) -> bool:
        """Whether the searching user may see the issue (issue security and project browse)."""
        return not issue.restricted and issue.project_id not in self.hidden_projects

    def project_visible(self, project_id: int) -> bool:
        """Whether the searching user may browse the project."""
        return project_id not in self.hidden_projects

    def description_of(self, issue: Issue) -> str | None:
        """The issue's description text: an edited value, else the seed-derived one."""
        if issue.description is not None:
            return issue.description or None
        return text.description(self.seed, issue.id)

    def touch(self) -> None:
        """Record that the world changed (invalidates search caches)."""
        self.version += 1

    def add_child(self, parent: int, child: int) -> None:
        """Index `child` under `parent` (epic children and sub-tasks)."""
        self.children.setdefault(parent, []).append(child)

    def remove_child(self, parent: int, child: int) -> None:
        """Drop `child` from `parent`'s index."""
        kids = self.children.get(parent)
        if kids and child in kids:
            kids.remove(child)
