"""Ground truth: what the emulator actually did, read from its typed model, never from its API.

The JSON the API serves is rendered from the same typed histories, so a client that rebuilds
issues, transitions and sprint numbers from the API must arrive exactly here. Sprint numbers
follow docs METRICS.md §3 (see `SprintTruth`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira.jql import evaluate
from pulse.emulators.jira.model import Issue, World
from pulse.emulators.jira.timefmt import Clock, from_ms

TRACKED = (
    "estimate",
    "sprint",
    "flagged",
    "parent",
    "fix_version",
    "duedate",
    "assignee",
    "summary",
    "labels",
    "priority",
    "target_end",
    "link",
    "key",
    "project",
)


@dataclass(frozen=True)
class StatusTransition:
    """One status change: (history id, when, from status name, to status name)."""

    history_id: str
    at: datetime
    from_status: str
    to_status: str


@dataclass(frozen=True)
class FieldChange:
    """One change of a tracked field, with typed values.

    estimate: float|None; sprint: tuple of sprint ids; flagged: bool; parent: issue id str|None;
    fix_version: version id str (added: from None; removed: to None); duedate/target_end:
    date|None; assignee: account id (Cloud) or user name (DC)|None; labels: tuple[str, ...];
    key: issue key; project: project key.
    """

    history_id: str
    at: datetime
    field: str
    from_value: Any
    to_value: Any


@dataclass(frozen=True)
class IssueTruth:
    """The truth about one live issue (restricted issues included, flagged as such)."""

    id: str
    key: str
    project: str
    type: str
    parent_id: str | None
    parent_key: str | None
    status: str
    status_category: str
    created: datetime
    updated: datetime
    resolution_date: datetime | None
    estimate: float | None
    sprint_ids: tuple[int, ...]
    flagged: bool
    fix_versions: tuple[str, ...]
    duedate: date | None
    assignee: str | None
    summary: str
    labels: tuple[str, ...]
    restricted: bool
    history_count: int
    transitions: tuple[StatusTransition, ...]
    changes: tuple[FieldChange, ...]
    initial: dict[str, Any] = field(default_factory=dict)

    def changes_of(self, name: str) -> tuple[FieldChange, ...]:
        """The ordered changes of one tracked field."""
        return tuple(c for c in self.changes if c.field == name)


@dataclass(frozen=True)
class SprintTruth:
    """A sprint and its METRICS.md §3 numbers (story points; sub-tasks excluded).

    Membership, estimates and done-ness are evaluated at instants, counting every change made
    at or before the instant. committed: in the sprint at start and not done then (estimate at
    start). added: not in at start, entered after start and up to completion (estimate when it
    entered). removed: in the sprint at some moment from start on, not in at completion
    (estimate when it left). completed: in at completion and done then, unless its current done
    spell began before the sprint started (estimate at completion). completed_outside: in at
    completion, done, and done since before the start. not_completed: in at completion, not
    done. For the active sprint "completion" is the emulator clock's now (provisional); future
    sprints have no numbers. Only issues the searching user can see count.
    """

    id: int
    board_id: int
    name: str
    state: str
    start: datetime | None
    end: datetime | None
    complete: datetime | None
    committed: float = 0.0
    added: float = 0.0
    removed: float = 0.0
    completed: float = 0.0
    not_completed: float = 0.0
    completed_outside: float = 0.0
    committed_ids: frozenset[str] = frozenset()
    added_ids: frozenset[str] = frozenset()
    removed_ids: frozenset[str] = frozenset()
    completed_ids: frozenset[str] = frozenset()
    not_completed_ids: frozenset[str] = frozenset()
    completed_outside_ids: frozenset[str] = frozenset()


def _initial(issue: Issue, name: str, current: Any) -> Any:
    for h in issue.histories:
        for ch in h.changes:
            if ch.field == name:
                return ch.old
    return current


class _Timeline:
    """Step function of one field over an issue's life, built from its typed histories."""

    __slots__ = ("points",)

    def __init__(self, issue: Issue, name: str, current: Any) -> None:
        pts: list[tuple[int, Any]] = [(issue.created, _initial(issue, name, current))]
        for h in issue.histories:
            for ch in h.changes:
                if ch.field == name:
                    pts.append((h.at, ch.new))
        self.points = pts

    def at(self, t: int) -> Any:
        """The value in force at t (changes at t count); None before creation."""
        value = None
        for at, v in self.points:
            if at > t:
                break
            value = v
        return value

    def entered_after(self, t0: int, t1: int, pred: Any) -> int | None:
        """First time in (t0, t1] the value starts satisfying pred."""
        prev = self.at(t0)
        for at, v in self.points:
            if at <= t0:
                continue
            if at > t1:
                break
            if pred(v) and not pred(prev):
                return at
            prev = v
        return None

    def left_last(self, t0: int, t1: int, pred: Any) -> int | None:
        """Last time in [t0, t1] the value stopped satisfying pred."""
        last = None
        prev = self.at(t0 - 1)
        for at, v in self.points:
            if at < t0:
                prev = v
                continue
            if at > t1:
                break
            if pred(prev) and not pred(v):
                last = at
            prev = v
        return last

    def ever(self, t0: int, t1: int, pred: Any) -> bool:
        """Whether the value satisfied pred at any moment in [t0, t1]."""
        if pred(self.at(t0)):
            return True
        return any(t0 < at <= t1 and pred(v) for at, v in self.points)

    def since(self, t: int, pred: Any) -> int | None:
        """Start of the spell satisfying pred that is running at t."""
        start = None
        for at, v in self.points:
            if at > t:
                break
            if pred(v):
                if start is None:
                    start = at
            else:
                start = None
        return start


class Truth:
    """Ground truth over the live world; always current (mutations show up immediately)."""

    def __init__(
        self, world: World, clock: Clock, page_cap: int, id_only_page_cap: int | None = None
    ) -> None:
        self._world = world
        self._clock = clock
        self._page_cap = page_cap
        self._id_only_cap = id_only_page_cap or page_cap
        self._sprint_cache: tuple[int, int, dict[int, SprintTruth]] | None = None

    # ---------------------------------------------------------------- issues
    @property
    def issues(self) -> Mapping[str, IssueTruth]:
        """Every live issue (not deleted) by id string; restricted ones included."""
        return _IssueMap(self)

    def issue(self, id_or_key: str) -> IssueTruth:
        """One live issue by id or key (old keys of moved issues resolve)."""
        issue = self._world.lookup(str(id_or_key))
        if issue is None:
            raise KeyError(id_or_key)
        return self._issue_truth(issue)

    @property
    def deleted(self) -> frozenset[str]:
        """Ids of deleted issues."""
        return frozenset(str(i) for i in self._world.deleted)

    @property
    def deleted_keys(self) -> dict[str, str]:
        """Deleted issue id -> its last key."""
        return {str(i): k for i, k in self._world.deleted.items()}

    @property
    def moved(self) -> dict[str, str]:
        """Old key -> current key, for every key an issue has left behind."""
        return dict(self._world.moved)

    @property
    def moved_ids(self) -> frozenset[str]:
        """Ids of live issues that changed project at least once."""
        w = self._world
        return frozenset(str(w.key_index[k]) for k in w.moved.values() if k in w.key_index)

    @property
    def restricted(self) -> frozenset[str]:
        """Ids of live issues the searching user can no longer see (issue or project level)."""
        w = self._world
        return frozenset(str(i.id) for i in w.issues.values() if not w.visible(i))

    @property
    def hidden_projects(self) -> frozenset[str]:
        """Keys of projects the searching user lost Browse permission on."""
        w = self._world
        return frozenset(w.projects[p].key for p in w.hidden_projects)

    @property
    def visible_ids(self) -> frozenset[str]:
        """Ids a complete sync should hold: live and visible."""
        w = self._world
        return frozenset(str(i.id) for i in w.issues.values() if w.visible(i))

    @property
    def planted(self) -> dict[str, list[str]]:
        """Planted delivery risks: risk name -> keys involved (epic first)."""
        return {k: list(v) for k, v in self._world.planted.items()}

    def _issue_truth(self, issue: Issue) -> IssueTruth:
        w = self._world
        transitions = []
        changes = []
        for h in issue.histories:
            at = from_ms(h.at)
            for ch in h.changes:
                if ch.field == "status":
                    transitions.append(
                        StatusTransition(
                            str(h.id), at, cat.STATUSES[ch.old].name, cat.STATUSES[ch.new].name
                        )
                    )
                elif ch.field in TRACKED:
                    changes.append(
                        FieldChange(
                            str(h.id),
                            at,
                            ch.field,
                            self._typed(ch.field, ch.old),
                            self._typed(ch.field, ch.new),
                        )
                    )
        parent = w.issues.get(issue.parent) if issue.parent is not None else None
        initial = {
            "status": cat.STATUSES[_initial(issue, "status", issue.status)].name,
            "estimate": _initial(issue, "estimate", issue.estimate),
            "sprint": _initial(issue, "sprint", issue.sprints),
            "flagged": _initial(issue, "flagged", issue.flagged),
            "assignee": self._typed("assignee", _initial(issue, "assignee", issue.assignee)),
            "duedate": self._typed("duedate", _initial(issue, "duedate", issue.duedate)),
        }
        return IssueTruth(
            id=str(issue.id),
            key=issue.key,
            project=w.projects[issue.project_id].key,
            type=cat.ISSUE_TYPES[issue.type_id].name,
            parent_id=str(issue.parent) if issue.parent is not None else None,
            parent_key=parent.key if parent is not None else None,
            status=cat.STATUSES[issue.status].name,
            status_category=cat.STATUSES[issue.status].category.key,
            created=from_ms(issue.created),
            updated=from_ms(issue.updated),
            resolution_date=from_ms(issue.resolved_at) if issue.resolved_at else None,
            estimate=issue.estimate,
            sprint_ids=issue.sprints,
            flagged=issue.flagged,
            fix_versions=tuple(str(v) for v in issue.fix_versions),
            duedate=date.fromisoformat(issue.duedate) if issue.duedate else None,
            assignee=self._typed("assignee", issue.assignee),
            summary=issue.summary,
            labels=issue.labels,
            restricted=issue.restricted,
            history_count=len(issue.histories),
            transitions=tuple(transitions),
            changes=tuple(changes),
            initial=initial,
        )

    def _typed(self, name: str, value: Any) -> Any:
        w = self._world
        if value is None:
            return None
        if name == "assignee":
            user = w.users[value]
            return user.account_id if w.flavour == "cloud" else user.name
        if name in ("duedate", "target_end"):
            return date.fromisoformat(value)
        if name == "parent":
            return str(value[0])
        if name == "fix_version":
            return str(value)
        if name == "project":
            return w.projects[value].key
        if name == "link":
            return (cat.LINK_TYPES[value[0]].name, value[1], str(value[2]))
        return value

    # ---------------------------------------------------------------- sprints
    @property
    def sprints(self) -> dict[int, SprintTruth]:
        """Every sprint with its METRICS.md §3 numbers, by sprint id."""
        w = self._world
        key = (w.version, self._clock.now_ms())
        if self._sprint_cache is None or self._sprint_cache[:2] != key:
            with w.lock:
                self._sprint_cache = (*key, self._compute_sprints())
        return self._sprint_cache[2]

    def _compute_sprints(self) -> dict[int, SprintTruth]:
        w = self._world
        members: dict[int, list[Issue]] = {}
        for issue in w.issues.values():
            if not w.visible(issue) or cat.ISSUE_TYPES[issue.type_id].subtask:
                continue
            seen = set(issue.sprints)
            for h in issue.histories:
                for ch in h.changes:
                    if ch.field == "sprint":
                        seen.update(ch.old)
                        seen.update(ch.new)
            for sid in seen:
                members.setdefault(sid, []).append(issue)
        out = {}
        now = self._clock.now_ms()
        for sprint in w.sprints.values():
            out[sprint.id] = self._sprint(sprint.id, members.get(sprint.id, []), now)
        return out

    def _sprint(self, sid: int, issues: list[Issue], now: int) -> SprintTruth:
        sp = self._world.sprints[sid]
        base: dict[str, Any] = dict(
            id=sp.id,
            board_id=sp.board_id,
            name=sp.name,
            state=sp.state,
            start=from_ms(sp.start) if sp.start is not None else None,
            end=from_ms(sp.end) if sp.end is not None else None,
            complete=from_ms(sp.complete) if sp.complete is not None else None,
        )
        if sp.start is None or sp.state == "future":
            return SprintTruth(**base)
        start = sp.start
        finish = sp.complete if sp.complete is not None else now
        cats: dict[str, dict[str, float]] = {
            k: {}
            for k in (
                "committed",
                "added",
                "removed",
                "completed",
                "not_completed",
                "completed_outside",
            )
        }

        def member(v: Any) -> bool:
            return v is not None and sid in v

        def done(v: Any) -> bool:
            return v is not None and cat.is_done(v)

        for issue in issues:
            iid = str(issue.id)
            sprints = _Timeline(issue, "sprint", issue.sprints)
            est = _Timeline(issue, "estimate", issue.estimate)
            status = _Timeline(issue, "status", issue.status)

            def pts(t: int, est: _Timeline = est) -> float:
                v = est.at(t)
                return float(v) if v is not None else 0.0

            in_at_start = issue.created <= start and member(sprints.at(start))
            if in_at_start and not done(status.at(start)):
                cats["committed"][iid] = pts(start)
            if not in_at_start:
                entered = sprints.entered_after(start, finish, member)
                if (
                    entered is None
                    and issue.created > start
                    and issue.created <= finish
                    and member(sprints.points[0][1])
                ):
                    entered = issue.created
                if entered is not None:
                    cats["added"][iid] = pts(entered)
            in_at_finish = issue.created <= finish and member(sprints.at(finish))
            if not in_at_finish and sprints.ever(start, finish, member):
                left = sprints.left_last(start, finish, member)
                if left is not None:
                    cats["removed"][iid] = pts(left)
            if in_at_finish:
                if done(status.at(finish)):
                    since = status.since(finish, done)
                    if since is not None and since < start:
                        cats["completed_outside"][iid] = pts(finish)
                    else:
                        cats["completed"][iid] = pts(finish)
                else:
                    cats["not_completed"][iid] = pts(finish)
        for name, values in cats.items():
            base[name] = sum(values.values())
            base[name + "_ids"] = frozenset(values)
        return SprintTruth(**base)

    # ---------------------------------------------------------------- paging
    def min_search_pages(
        self, jql: str | None = None, *, id_only: bool = False, page_size: int | None = None
    ) -> int:
        """Fewest search pages a full sync of `jql` (default: everything visible) needs.

        Uses the server's page cap (Cloud 100, or 5000 when only id/key are requested; DC the
        configured cap), or `page_size` if smaller.
        """
        w = self._world
        if jql is None:
            count = sum(1 for i in w.issues.values() if w.visible(i))
        else:
            with w.lock:
                count = len(evaluate(w, jql, self._clock.now_ms())[0])
        cap = self._id_only_cap if id_only else self._page_cap
        if page_size is not None:
            cap = min(cap, page_size)
        return max(1, math.ceil(count / cap))


class _IssueMap(Mapping[str, IssueTruth]):
    """Lazy id -> IssueTruth view, so 100k issues cost nothing until read."""

    def __init__(self, truth: Truth) -> None:
        self._truth = truth
        self._world = truth._world

    def __getitem__(self, key: str) -> IssueTruth:
        if not str(key).isdigit():
            raise KeyError(key)
        issue = self._world.issues.get(int(key))
        if issue is None:
            raise KeyError(key)
        return self._truth._issue_truth(issue)

    def __iter__(self) -> Iterator[str]:
        return iter([str(i) for i in self._world.issues])

    def __len__(self) -> int:
        return len(self._world.issues)
