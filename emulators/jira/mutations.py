"""Changes to the world after generation, as Jira would record them.

Each mutation stamps the emulator clock, appends a history with a new (globally increasing) id,
updates `updated`, and bumps the world version so searches see it at once. The HTTP routes
translate request bodies into these same calls, so Python and HTTP mutations are identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira.model import Change, History, Issue, Link, World
from pulse.emulators.jira.timefmt import Clock


class MutationError(ValueError):
    """A mutation the real Jira would refuse; `field` names the offending field, if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


_UNSET: Any = object()


class Mutator:
    """Applies transitions, edits, creation, deletion, moves and permission changes."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock

    # ------------------------------------------------------------------ helpers
    def _issue(self, key_or_id: str | int) -> Issue:
        issue = self.world.lookup(str(key_or_id))
        if issue is None:
            raise MutationError(
                "Issue does not exist or you do not have permission to see it.", status=404
            )
        return issue

    def _record(
        self, issue: Issue, changes: list[Change], at: int | None = None, author: int | None = None
    ) -> History | None:
        if not changes:
            return None
        w = self.world
        when = self.clock.now_ms() if at is None else at
        hist = History(w.next_history_id, when, w.me if author is None else author, tuple(changes))
        w.next_history_id += 1
        issue.histories.append(hist)
        issue.updated = max(issue.updated, when)
        w.touch()
        return hist

    def _user(self, who: str | int | None) -> int | None:
        if who is None or isinstance(who, int):
            return who
        for u in self.world.users:
            if who in (u.account_id, u.name, u.key, u.email, u.display_name):
                return u.index
        raise MutationError(f"User '{who}' does not exist.", "assignee")

    def _status(self, status: str) -> str:
        s = cat.STATUSES.get(status) or cat.STATUS_BY_NAME.get(status.lower())
        if s is None:
            raise MutationError(f"Status '{status}' does not exist.", "status")
        return s.id

    def _parent_ref(self, parent: str | int | None) -> tuple[int, str] | None:
        if parent is None:
            return None
        p = self.world.lookup(str(parent))
        if p is None:
            raise MutationError(f"Issue '{parent}' does not exist.", "parent")
        return (p.id, p.key)

    # ------------------------------------------------------------------ mutations
    def transition(
        self,
        key_or_id: str | int,
        to_status: str,
        *,
        at: int | None = None,
        author: int | None = None,
    ) -> Issue:
        """Move an issue to `to_status` (name or id); sets/clears the resolution like Jira."""
        with self.world.lock:
            issue = self._issue(key_or_id)
            new = self._status(to_status)
            if new == issue.status:
                return issue
            changes = [Change("status", issue.status, new)]
            res = cat.resolution_for(new)
            when = self.clock.now_ms() if at is None else at
            if res != issue.resolution:
                changes.append(Change("resolution", issue.resolution, res))
                issue.resolution = res
                issue.resolved_at = when if res is not None else None
            if cat.STATUSES[issue.status].category is not cat.STATUSES[new].category:
                issue.status_changed_at = when
            issue.status = new
            self._record(issue, changes, when, author)
            return issue

    def edit(
        self,
        key_or_id: str | int,
        *,
        summary: str = _UNSET,
        story_points: Any = _UNSET,
        sprint_ids: Iterable[int] | None = _UNSET,
        flagged: bool = _UNSET,
        duedate: str | date | None = _UNSET,
        parent: str | int | None = _UNSET,
        assignee: str | int | None = _UNSET,
        labels: Iterable[str] = _UNSET,
        fix_versions: Iterable[int | str] = _UNSET,
        description: str | None = _UNSET,
        target_end: str | date | None = _UNSET,
        at: int | None = None,
        author: int | None = None,
    ) -> Issue:
        """Change fields; each changed field becomes one item of a single new history."""
        with self.world.lock:
            issue = self._issue(key_or_id)
            when = self.clock.now_ms() if at is None else at
            changes: list[Change] = []
            if summary is not _UNSET and summary != issue.summary:
                if not summary:
                    raise MutationError("You must specify a summary of the issue.", "summary")
                changes.append(Change("summary", issue.summary, summary))
                issue.summary = summary
            if story_points is not _UNSET:
                pts = None if story_points is None else float(story_points)
                if pts != issue.estimate:
                    changes.append(Change("estimate", issue.estimate, pts))
                    issue.estimate = pts
            if sprint_ids is not _UNSET:
                self._set_sprints(issue, sprint_ids or (), when, author, changes)
            if flagged is not _UNSET and bool(flagged) != issue.flagged:
                changes.append(Change("flagged", issue.flagged, bool(flagged)))
                issue.flagged = bool(flagged)
            if duedate is not _UNSET:
                day = _day(duedate)
                if day != issue.duedate:
                    changes.append(Change("duedate", issue.duedate, day))
                    issue.duedate = day
            if target_end is not _UNSET:
                day = _day(target_end)
                if day != issue.target_end:
                    changes.append(Change("target_end", issue.target_end, day))
                    issue.target_end = day
            if parent is not _UNSET:
                self._set_parent(issue, self._parent_ref(parent), changes)
            if assignee is not _UNSET:
                who = self._user(assignee)
                if who != issue.assignee:
                    changes.append(Change("assignee", issue.assignee, who))
                    issue.assignee = who
            if labels is not _UNSET:
                new_labels = tuple(sorted(set(labels)))
                if new_labels != issue.labels:
                    changes.append(Change("labels", issue.labels, new_labels))
                    issue.labels = new_labels
            if fix_versions is not _UNSET:
                new_fv = tuple(sorted(self._version_id(issue, v) for v in fix_versions))
                for vid in issue.fix_versions:
                    if vid not in new_fv:
                        changes.append(Change("fix_version", vid, None))
                for vid in new_fv:
                    if vid not in issue.fix_versions:
                        changes.append(Change("fix_version", None, vid))
                issue.fix_versions = new_fv
            if description is not _UNSET:
                old_text = self.world.description_of(issue)
                if description != old_text:
                    changes.append(Change("description", old_text, description))
                    issue.description = description if description is not None else ""
            self._record(issue, changes, when, author)
            return issue

    def _version_id(self, issue: Issue, ref: int | str) -> int:
        for vid in self.world.projects[issue.project_id].version_ids:
            v = self.world.versions[vid]
            if str(ref) in (str(v.id), v.name):
                return vid
        raise MutationError(f"Version '{ref}' is not valid.", "fixVersions")

    def _set_sprints(
        self,
        issue: Issue,
        sprint_ids: Iterable[int],
        when: int,
        author: int | None,
        changes: list[Change],
    ) -> None:
        new = tuple(sorted({int(s) for s in sprint_ids}))
        for sid in new:
            if sid not in self.world.sprints:
                raise MutationError(f"Sprint with id {sid} does not exist.", "sprint")
        if cat.ISSUE_TYPES[issue.type_id].subtask:
            raise MutationError("Sub-tasks take their sprint from their parent.", "sprint")
        if new == issue.sprints:
            return
        changes.append(Change("sprint", issue.sprints, new))
        issue.sprints = new
        # sub-tasks follow their parent's sprint, each with its own history
        for kid_id in self.world.children.get(issue.id, []):
            kid = self.world.issues.get(kid_id)
            if kid is not None and cat.ISSUE_TYPES[kid.type_id].subtask and kid.sprints != new:
                old = kid.sprints
                kid.sprints = new
                self._record(kid, [Change("sprint", old, new)], when, author)

    def _set_parent(self, issue: Issue, ref: tuple[int, str] | None, changes: list[Change]) -> None:
        new_id = ref[0] if ref else None
        if new_id == issue.parent:
            return
        if cat.ISSUE_TYPES[issue.type_id].subtask:
            raise MutationError("The parent of a sub-task cannot be changed here.", "parent")
        if ref is not None:
            target = self.world.issues[ref[0]]
            if target.type_id != cat.EPIC.id:
                raise MutationError("Only an epic can be the parent of a standard issue.", "parent")
        old_ref = None
        if issue.parent is not None:
            old = self.world.issues.get(issue.parent)
            old_key = old.key if old is not None else self.world.deleted.get(issue.parent, "")
            old_ref = (issue.parent, old_key)
            self.world.remove_child(issue.parent, issue.id)
        changes.append(Change("parent", old_ref, ref))
        issue.parent = new_id
        if new_id is not None:
            self.world.add_child(new_id, issue.id)

    def create(
        self,
        project: str,
        *,
        type: str = "Story",
        summary: str | None = None,
        story_points: float | None = None,
        sprint_ids: Iterable[int] = (),
        flagged: bool = False,
        duedate: str | date | None = None,
        parent: str | int | None = None,
        assignee: str | int | None = None,
        labels: Iterable[str] = (),
        fix_versions: Iterable[int | str] = (),
        description: str | None = None,
        status: str | None = None,
        at: int | None = None,
    ) -> Issue:
        """Create an issue; values given at creation produce no changelog, as in Jira."""
        w = self.world
        with w.lock:
            proj = w.project_by_key(project)
            if proj is None:
                raise MutationError(f"Project '{project}' does not exist.", "project")
            itype = cat.TYPE_BY_NAME.get(type.lower()) or cat.ISSUE_TYPES.get(type)
            if itype is None:
                raise MutationError("The issue type selected is invalid.", "issuetype")
            if not summary:
                raise MutationError("You must specify a summary of the issue.", "summary")
            pref = self._parent_ref(parent)
            if itype.subtask and pref is None:
                raise MutationError("Sub-tasks must have a parent.", "parent")
            when = self.clock.now_ms() if at is None else at
            sprints = tuple(sorted(set(sprint_ids)))
            if itype.subtask and pref is not None:
                sprints = w.issues[pref[0]].sprints
            for sid in sprints:
                if sid not in w.sprints:
                    raise MutationError(f"Sprint with id {sid} does not exist.", "sprint")
            issue = Issue(
                id=w.next_issue_id,
                key=f"{proj.key}-{proj.next_number}",
                project_id=proj.id,
                type_id=itype.id,
                created=when,
                updated=when,
                summary=summary,
                status=cat.TODO.id,
                resolution=None,
                resolved_at=None,
                status_changed_at=when,
                estimate=None if story_points is None else float(story_points),
                sprints=sprints,
                flagged=flagged,
                parent=pref[0] if pref else None,
                assignee=self._user(assignee),
                reporter=w.me,
                duedate=_day(duedate),
                labels=tuple(sorted(set(labels))),
                fix_versions=(),
                target_start=None,
                target_end=None,
                priority="3",
                rank=w.next_issue_id,
                histories=[],
                description=description,
            )
            issue.fix_versions = tuple(sorted(self._version_id(issue, v) for v in fix_versions))
            w.next_issue_id += 1
            proj.next_number += 1
            w.issues[issue.id] = issue
            w.key_index[issue.key] = issue.id
            if issue.parent is not None:
                w.add_child(issue.parent, issue.id)
            w.touch()
        if status is not None and self._status(status) != cat.TODO.id:
            self.transition(issue.id, status, at=when)
        return issue

    def delete(self, key_or_id: str | int) -> list[int]:
        """Delete an issue and its sub-tasks; returns the deleted ids."""
        w = self.world
        with w.lock:
            issue = self._issue(key_or_id)
            gone = [issue.id] + [
                k
                for k in w.children.get(issue.id, [])
                if k in w.issues and cat.ISSUE_TYPES[w.issues[k].type_id].subtask
            ]
            for iid in gone:
                victim = w.issues.pop(iid)
                w.deleted[iid] = victim.key
                for k in [k for k, v in w.key_index.items() if v == iid]:
                    del w.key_index[k]
                if victim.parent is not None:
                    w.remove_child(victim.parent, iid)
                for link in victim.links:
                    other = w.issues.get(link.other)
                    if other is not None:
                        other.links = [lk for lk in other.links if lk.other != iid]
            # children that stay (epic children) lose their parent
            for kid_id in w.children.pop(issue.id, []):
                kid = w.issues.get(kid_id)
                if kid is not None:
                    kid.parent = None
            w.touch()
            return gone

    def move(self, key_or_id: str | int, new_project_key: str) -> Issue:
        """Move an issue (and its sub-tasks) to another project: new key, old key still resolves."""
        w = self.world
        with w.lock:
            issue = self._issue(key_or_id)
            proj = w.project_by_key(new_project_key)
            if proj is None:
                raise MutationError(f"Project '{new_project_key}' does not exist.", "project")
            if proj.id == issue.project_id:
                return issue
            if cat.ISSUE_TYPES[issue.type_id].subtask:
                raise MutationError("Move the parent; sub-tasks move with it.", "project")
            moving = [issue] + [
                w.issues[k]
                for k in w.children.get(issue.id, [])
                if k in w.issues and cat.ISSUE_TYPES[w.issues[k].type_id].subtask
            ]
            when = self.clock.now_ms()
            for item in moving:
                old_key, old_project = item.key, item.project_id
                new_key = f"{proj.key}-{proj.next_number}"
                proj.next_number += 1
                # versions belong to the old project: Jira drops them on the way
                dropped = [Change("fix_version", vid, None) for vid in item.fix_versions]
                item.key = new_key
                item.project_id = proj.id
                item.fix_versions = ()
                w.key_index[new_key] = item.id
                for k, v in list(w.moved.items()):
                    if v == old_key:
                        w.moved[k] = new_key
                w.moved[old_key] = new_key
                self._record(
                    item,
                    [
                        Change("key", old_key, new_key),
                        Change("project", old_project, proj.id),
                        *dropped,
                    ],
                    when,
                )
            return issue

    def restrict(self, key_or_id: str | int, restricted: bool = True) -> list[int]:
        """Take the issue (and its sub-tasks, which inherit security) out of the caller's view."""
        w = self.world
        with w.lock:
            issue = w.lookup(str(key_or_id))
            if issue is None:
                raise MutationError("Issue does not exist.", status=404)
            ids = [issue.id] + [
                k
                for k in w.children.get(issue.id, [])
                if k in w.issues and cat.ISSUE_TYPES[w.issues[k].type_id].subtask
            ]
            for iid in ids:
                w.issues[iid].restricted = restricted
            w.touch()
            return ids

    def restrict_project(self, project_key: str, restricted: bool = True) -> list[int]:
        """Take the caller's Browse permission on a whole project away (or give it back)."""
        w = self.world
        with w.lock:
            proj = w.project_by_key(project_key)
            if proj is None:
                raise MutationError(
                    f"No project could be found with key '{project_key}'.", status=404
                )
            if restricted:
                w.hidden_projects.add(proj.id)
            else:
                w.hidden_projects.discard(proj.id)
            w.touch()
            return [i.id for i in w.issues.values() if i.project_id == proj.id]

    def link(
        self,
        from_key: str | int,
        to_key: str | int,
        link_type: str = "Blocks",
        at: int | None = None,
    ) -> None:
        """Link two issues (`from` blocks/relates to `to`); both get a Link history item."""
        w = self.world
        with w.lock:
            a, b = self._issue(from_key), self._issue(to_key)
            ltype = next((t for t in cat.LINK_TYPES.values() if link_type in (t.id, t.name)), None)
            if ltype is None:
                raise MutationError(f"No issue link type named '{link_type}'.", "type")
            when = self.clock.now_ms() if at is None else at
            w.next_link_id += 1
            a.links.append(Link(w.next_link_id, ltype.id, "outward", b.id))
            b.links.append(Link(w.next_link_id, ltype.id, "inward", a.id))
            self._record(a, [Change("link", None, (ltype.id, "outward", b.id, b.key))], when)
            self._record(b, [Change("link", None, (ltype.id, "inward", a.id, a.key))], when)


def _day(value: str | date | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)[:10]).isoformat()
