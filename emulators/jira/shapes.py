"""JSON rendering in the shapes of Atlassian's specs, per flavour and REST version.

Cloud v3 renders rich text as ADF, v2 (and DC) as wiki strings. Changelog items are rendered
from typed changes the way each flavour writes them (Cloud adds `fieldId`; DC does not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira import text
from pulse.emulators.jira.model import Change, History, Issue, Sprint, User, Version, World
from pulse.emulators.jira.timefmt import agile_datetime, jira_datetime, local_date, to_ms, zone

CLOUD_VERSION = ("1001.0.0-SNAPSHOT", [1001, 0, 0], 100290)
DC_VERSION = ("10.3.4", [10, 3, 4], 10030004)
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def number(value: float | None) -> str | None:
    """Story points as Jira prints them in changelogs: `5`, `0.5`."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class FieldSelection:
    """Which fields to render, from Jira's `fields` parameter (`*all`, `*navigable`, `-x`)."""

    all: bool
    include: frozenset[str]
    exclude: frozenset[str]

    @classmethod
    def parse(cls, values: Iterable[str] | None, default: str) -> FieldSelection:
        """Parse Jira's `fields` values; `default` applies when none are given."""
        tokens = [t.strip() for v in (values or []) for t in str(v).split(",") if t.strip()]
        if not tokens:
            tokens = [default]
        everything = False
        include: set[str] = set()
        exclude: set[str] = set()
        for t in tokens:
            if t in ("*all", "*navigable"):
                everything = True
                if t == "*navigable":
                    exclude.add("comment")
            elif t.startswith("-"):
                exclude.add(t[1:])
            else:
                include.add(t)
        if exclude and not include and not everything:
            everything = default in ("*all", "*navigable")
        return cls(everything, frozenset(include - {"id", "key"}), frozenset(exclude))

    def wants(self, field_id: str) -> bool:
        """Whether a field id is to be rendered."""
        if field_id in self.exclude:
            return False
        return self.all or field_id in self.include

    @property
    def id_only(self) -> bool:
        """True when nothing but id/key was asked for (Cloud's 5000 cap applies)."""
        return not self.all and not self.include


class Renderer:
    """Renders world objects for one request: base URL, REST version and flavour fixed."""

    def __init__(self, world: World, base: str, api: str = "2", now_ms: int | None = None) -> None:
        self.w = world
        self.now_ms = world.now_ms if now_ms is None else now_ms
        self.base = base.rstrip("/")
        self.api = api
        self.cloud = world.flavour == "cloud"
        self.tz = world.user_timezone
        self.f = world.fields
        self.rest = f"{self.base}/rest/api/{api}"
        # sub-objects repeat across a page (authors, statuses, types): build each once
        self._memo: dict[tuple[str, Any], Any] = {}

    # ------------------------------------------------------------------ small objects
    def avatars(self, kind: str, ident: Any) -> dict[str, str]:
        """The four avatar URLs Jira gives users and projects."""
        return {
            f"{s}x{s}": f"{self.base}/secure/{kind}avatar?size={s}&ownerId={ident}"
            for s in (48, 24, 16, 32)
        }

    def user(self, idx: int | None, full: bool = False) -> dict[str, Any] | None:
        """A user as Jira embeds it (Cloud accountId; DC name/key); None stays None."""
        if idx is None:
            return None
        if not full:
            return self._cached("user", idx, lambda: self.user_json(idx, False))
        return self.user_json(idx, True)

    def _cached(self, kind: str, key: Any, build: Any) -> Any:
        hit = self._memo.get((kind, key))
        if hit is None:
            hit = self._memo[(kind, key)] = build()
        return hit

    def user_json(self, idx: int, full: bool) -> dict[str, Any]:
        """A user object; `full` adds what /myself returns."""
        u: User = self.w.users[idx]
        if self.cloud:
            out: dict[str, Any] = {
                "self": f"{self.rest}/user?accountId={u.account_id}",
                "accountId": u.account_id,
                "avatarUrls": self.avatars("user", u.account_id),
                "displayName": u.display_name,
                "active": True,
                "timeZone": u.time_zone,
                "accountType": "app" if u.app else "atlassian",
            }
            if u.email:
                out["emailAddress"] = u.email
        else:
            out = {
                "self": f"{self.rest}/user?username={u.name}",
                "name": u.name,
                "key": u.key,
                "emailAddress": u.email,
                "avatarUrls": self.avatars("user", u.key),
                "displayName": u.display_name,
                "active": True,
                "timeZone": u.time_zone,
            }
        if full:
            out["locale"] = "en_US"
            out["groups"] = {"size": 1, "items": []}
            out["applicationRoles"] = {"size": 1, "items": []}
            out["expand"] = "groups,applicationRoles"
            if not self.cloud:
                out["deleted"] = False
        return out

    def status(self, status_id: str) -> dict[str, Any]:
        """A status with its category."""
        return self._cached("status", status_id, lambda: self._status(status_id))

    def _status(self, status_id: str) -> dict[str, Any]:
        s = cat.STATUSES[status_id]
        c = s.category
        return {
            "self": f"{self.rest}/status/{s.id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": s.name,
            "id": s.id,
            "statusCategory": {
                "self": f"{self.rest}/statuscategory/{c.id}",
                "id": c.id,
                "key": c.key,
                "colorName": c.color,
                "name": c.name,
            },
        }

    def issuetype(self, type_id: str) -> dict[str, Any]:
        """An issue type (Cloud adds hierarchyLevel)."""
        return self._cached("type", type_id, lambda: self._issuetype(type_id))

    def _issuetype(self, type_id: str) -> dict[str, Any]:
        t = cat.ISSUE_TYPES[type_id]
        out: dict[str, Any] = {
            "self": f"{self.rest}/issuetype/{t.id}",
            "id": t.id,
            "description": f"{t.name} issue type",
            "iconUrl": f"{self.base}/secure/viewavatar?size=medium&avatarId={t.avatar}"
            "&avatarType=issuetype",
            "name": t.name,
            "subtask": t.subtask,
            "avatarId": t.avatar,
        }
        if self.cloud:
            out["hierarchyLevel"] = t.level
        return out

    def project_ref(self, project_id: int) -> dict[str, Any]:
        """A project as embedded in issue fields."""
        return self._cached("project", project_id, lambda: self._project_ref(project_id))

    def _project_ref(self, project_id: int) -> dict[str, Any]:
        p = self.w.projects[project_id]
        return {
            "self": f"{self.rest}/project/{p.id}",
            "id": str(p.id),
            "key": p.key,
            "name": p.name,
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": self.avatars("project", p.id),
        }

    def priority(self, pid: str) -> dict[str, Any]:
        """A priority object."""
        return self._cached("priority", pid, lambda: self._priority(pid))

    def _priority(self, pid: str) -> dict[str, Any]:
        return {
            "self": f"{self.rest}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{cat.PRIORITIES[pid].lower()}.svg",
            "name": cat.PRIORITIES[pid],
            "id": pid,
        }

    def resolution(self, rid: str | None) -> dict[str, Any] | None:
        """A resolution object, or None when unresolved."""
        if rid is None:
            return None
        r = cat.RESOLUTIONS[rid]
        return {
            "self": f"{self.rest}/resolution/{r.id}",
            "id": r.id,
            "description": r.description,
            "name": r.name,
        }

    def version(self, v: Version, full: bool = False) -> dict[str, Any]:
        """A platform Version; `full` adds projectId, dates, overdue."""
        out: dict[str, Any] = {
            "self": f"{self.rest}/version/{v.id}",
            "id": str(v.id),
            "description": v.description,
            "name": v.name,
            "archived": v.archived,
            "released": v.released,
        }
        if v.release_date:
            out["releaseDate"] = v.release_date
        if full:
            if v.start_date:
                out["startDate"] = v.start_date
            out["projectId"] = v.project_id
            out["overdue"] = bool(
                not v.released
                and v.release_date
                and v.release_date < local_date(self.now_ms, self.tz)
            )
            if v.release_date:
                y, m, d = v.release_date.split("-")
                out["userReleaseDate"] = f"{int(d)}/{_MONTHS[int(m) - 1]}/{y[2:]}"
        return out

    def issue_ref(self, issue: Issue) -> dict[str, Any]:
        """An issue as embedded in parent/subtasks/links."""
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.rest}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self.status(issue.status),
                "priority": self.priority(issue.priority),
                "issuetype": self.issuetype(issue.type_id),
            },
        }

    def sprint_value(self, sprint_ids: tuple[int, ...]) -> list[Any] | None:
        """The Sprint field: Cloud JSON objects, DC the legacy toString() strings."""
        if not sprint_ids:
            return None
        out: list[Any] = []
        for sid in sprint_ids:
            s = self.w.sprints[sid]
            if self.cloud:
                item: dict[str, Any] = {
                    "id": s.id,
                    "name": s.name,
                    "state": s.state,
                    "boardId": s.board_id,
                    "goal": s.goal,
                }
                for k, v in (
                    ("startDate", s.start),
                    ("endDate", s.end),
                    ("completeDate", s.complete),
                ):
                    if v is not None:
                        item[k] = agile_datetime(v, None)
                out.append(item)
            else:  # DC still renders the Sprint object's toString()

                def d(v: int | None) -> str:
                    return agile_datetime(v, self.tz) if v is not None else "<null>"

                out.append(
                    f"com.atlassian.greenhopper.service.sprint.Sprint@{s.id * 7919:x}[id={s.id},"
                    f"rapidViewId={s.board_id},state={s.state.upper()},name={s.name},"
                    f"startDate={d(s.start)},endDate={d(s.end)},completeDate={d(s.complete)},"
                    f"activatedDate={d(s.start)},sequence={s.id},goal={s.goal},"
                    f"autoStartStop=false,synced=false]"
                )
        return out

    def flag_value(self, flagged: bool) -> list[dict[str, str]] | None:
        """The Flagged field: [Impediment] or None."""
        if not flagged:
            return None
        opt = self.f.flag_option_id
        return [{"self": f"{self.rest}/customFieldOption/{opt}", "value": "Impediment", "id": opt}]

    def rich(self, value: str | None) -> Any:
        """Rich text: ADF on v3, wiki string on v2/DC."""
        if value is None:
            return None
        return text.adf(value) if self.api == "3" else value

    # ------------------------------------------------------------------ issues
    def issue(
        self,
        issue: Issue,
        sel: FieldSelection,
        *,
        expand: frozenset[str] = frozenset(),
        changelog_cap: int | None = None,
    ) -> dict[str, Any]:
        """An IssueBean with the selected fields and expansions."""
        out: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": str(issue.id),
            "self": f"{self.rest}/issue/{issue.id}",
            "key": issue.key,
        }
        fields = self.fields(issue, sel)
        if fields or not sel.id_only:
            out["fields"] = fields
        if "changelog" in expand:
            out["changelog"] = self.embedded_changelog(issue, changelog_cap)
        if "names" in expand:
            names = self.field_names()
            out["names"] = {k: names.get(k, k) for k in fields}
        if "schema" in expand:
            schemas = self.field_schemas()
            out["schema"] = {k: schemas[k] for k in fields if k in schemas}
        return out

    def fields(self, issue: Issue, sel: FieldSelection) -> dict[str, Any]:
        """The selected `fields` object of an issue."""
        w, f = self.w, self.f
        out: dict[str, Any] = {}
        want = sel.wants
        itype = cat.ISSUE_TYPES[issue.type_id]
        parent = w.issues.get(issue.parent) if issue.parent is not None else None
        if parent is not None and not w.visible(parent):
            parent = None
        simple: list[tuple[str, Any]] = [
            ("summary", lambda: issue.summary),
            ("status", lambda: self.status(issue.status)),
            ("issuetype", lambda: self.issuetype(issue.type_id)),
            ("project", lambda: self.project_ref(issue.project_id)),
            ("created", lambda: jira_datetime(issue.created, self.tz)),
            ("updated", lambda: jira_datetime(issue.updated, self.tz)),
            ("statuscategorychangedate", lambda: jira_datetime(issue.status_changed_at, self.tz)),
            (
                "resolutiondate",
                lambda: (
                    jira_datetime(issue.resolved_at, self.tz)
                    if issue.resolved_at is not None
                    else None
                ),
            ),
            ("resolution", lambda: self.resolution(issue.resolution)),
            ("assignee", lambda: self.user(issue.assignee)),
            ("reporter", lambda: self.user(issue.reporter)),
            ("creator", lambda: self.user(issue.reporter)),
            ("priority", lambda: self.priority(issue.priority)),
            ("labels", lambda: list(issue.labels)),
            ("duedate", lambda: issue.duedate),
            ("fixVersions", lambda: [self.version(w.versions[v]) for v in issue.fix_versions]),
            ("versions", lambda: []),
            ("components", lambda: []),
            ("description", lambda: self.rich(w.description_of(issue))),
            (
                "subtasks",
                lambda: [
                    self.issue_ref(w.issues[k])
                    for k in w.children.get(issue.id, [])
                    if k in w.issues
                    and w.visible(w.issues[k])
                    and cat.ISSUE_TYPES[w.issues[k].type_id].subtask
                ],
            ),
            ("issuelinks", lambda: self.links(issue)),
            ("comment", lambda: self.comments(issue)),
            (f.estimate.id, lambda: issue.estimate),
            (f.sprint.id, lambda: self.sprint_value(issue.sprints)),
            (f.flagged.id, lambda: self.flag_value(issue.flagged)),
            (f.rank.id, lambda: f"0|i{issue.rank:05x}:"),
            (f.target_start.id, lambda: issue.target_start),
            (f.target_end.id, lambda: issue.target_end),
        ]
        if f.start_date is not None:
            simple.append((f.start_date.id, lambda: issue.target_start))
        for decoy in f.decoys:
            simple.append((decoy.id, lambda: None))
        for fid, fn in simple:
            if want(fid):
                out[fid] = fn()
        if self.cloud:
            if parent is not None and want("parent"):
                out["parent"] = self.issue_ref(parent)
        else:
            if parent is not None and itype.subtask and want("parent"):
                out["parent"] = self.issue_ref(parent)
            if f.epic_link is not None and want(f.epic_link.id):
                out[f.epic_link.id] = (
                    parent.key if parent is not None and not itype.subtask else None
                )
            if f.epic_name is not None and want(f.epic_name.id):
                out[f.epic_name.id] = issue.summary if itype is cat.EPIC else None
        return out

    def links(self, issue: Issue) -> list[dict[str, Any]]:
        """issuelinks to visible issues, inward or outward."""
        out = []
        for link in issue.links:
            other = self.w.issues.get(link.other)
            if other is None or not self.w.visible(other):
                continue
            lt = cat.LINK_TYPES[link.type_id]
            key = "outwardIssue" if link.direction == "outward" else "inwardIssue"
            out.append(
                {
                    "id": str(link.id),
                    "self": f"{self.rest}/issueLink/{link.id}",
                    "type": {
                        "id": lt.id,
                        "name": lt.name,
                        "inward": lt.inward,
                        "outward": lt.outward,
                        "self": f"{self.rest}/issueLinkType/{lt.id}",
                    },
                    key: self.issue_ref(other),
                }
            )
        return out

    def comments(self, issue: Issue) -> dict[str, Any]:
        """The comment field (bodies ADF on v3)."""
        proj = self.w.projects[issue.project_id]
        items = []
        for n, (at, author, body) in enumerate(
            text.comments(self.w.seed, issue.id, issue.created, issue.updated, proj.team)
        ):
            cid = issue.id * 10 + n
            items.append(
                {
                    "self": f"{self.rest}/issue/{issue.id}/comment/{cid}",
                    "id": str(cid),
                    "author": self.user(author),
                    "body": self.rich(body),
                    "updateAuthor": self.user(author),
                    "created": jira_datetime(at, self.tz),
                    "updated": jira_datetime(at, self.tz),
                }
            )
        return {
            "comments": items,
            "self": f"{self.rest}/issue/{issue.id}/comment",
            "maxResults": len(items),
            "total": len(items),
            "startAt": 0,
        }

    # ------------------------------------------------------------------ changelog
    def embedded_changelog(self, issue: Issue, cap: int | None) -> dict[str, Any]:
        """PageOfChangelogs with the `cap` most recent histories (None: all)."""
        hist = issue.histories
        total = len(hist)
        shown = hist if cap is None or total <= cap else hist[total - cap :]
        return {
            "startAt": total - len(shown),
            "maxResults": len(shown),
            "total": total,
            "histories": [self.history(h) for h in shown],
        }

    def history(self, h: History) -> dict[str, Any]:
        """One Changelog entry."""
        return {
            "id": str(h.id),
            "author": self.user(h.author),
            "created": jira_datetime(h.at, self.tz),
            "items": [self.item(c) for c in h.changes],
        }

    def item(self, c: Change) -> dict[str, Any]:
        """One change item as this flavour writes it (DC omits fieldId)."""
        w, f = self.w, self.f
        name, fieldtype, field_id = c.field, "jira", c.field
        frm: Any = None
        frm_s: Any = None
        to: Any = None
        to_s: Any = None
        if name == "status":
            frm, frm_s = c.old, cat.STATUSES[c.old].name
            to, to_s = c.new, cat.STATUSES[c.new].name
        elif name == "resolution":
            if c.old is not None:
                frm, frm_s = c.old, cat.RESOLUTIONS[c.old].name
            if c.new is not None:
                to, to_s = c.new, cat.RESOLUTIONS[c.new].name
        elif name == "estimate":
            name, fieldtype, field_id = f.estimate.name, "custom", f.estimate.id
            frm_s, to_s = number(c.old), number(c.new)
        elif name == "sprint":
            name, fieldtype, field_id = "Sprint", "custom", f.sprint.id
            frm = ", ".join(str(s) for s in c.old)
            to = ", ".join(str(s) for s in c.new)
            frm_s = ", ".join(w.sprints[s].name for s in c.old)
            to_s = ", ".join(w.sprints[s].name for s in c.new)
        elif name == "flagged":
            name, fieldtype, field_id = "Flagged", "custom", f.flagged.id
            opt = f"[{f.flag_option_id}]"
            if c.old:
                frm, frm_s = opt, "Impediment"
            if c.new:
                to, to_s = opt, "Impediment"
        elif name == "parent":
            if c.old is not None:
                frm, frm_s = str(c.old[0]), c.old[1]
            if c.new is not None:
                to, to_s = str(c.new[0]), c.new[1]
            if self.cloud:
                name, field_id = "IssueParentAssociation", ""
            else:
                name, fieldtype = "Epic Link", "custom"
                field_id = f.epic_link.id if f.epic_link is not None else ""
        elif name == "fix_version":
            name, field_id = "Fix Version", "fixVersions"
            if c.old is not None:
                frm, frm_s = str(c.old), w.versions[c.old].name
            if c.new is not None:
                to, to_s = str(c.new), w.versions[c.new].name
        elif name == "duedate":
            if c.old is not None:
                frm, frm_s = c.old, f"{c.old} 00:00:00.0"
            if c.new is not None:
                to, to_s = c.new, f"{c.new} 00:00:00.0"
        elif name == "target_end":
            name, fieldtype, field_id = f.target_end.name, "custom", f.target_end.id
            frm_s, to_s = c.old, c.new
        elif name == "assignee":
            if c.old is not None:
                u = w.users[c.old]
                frm, frm_s = (u.account_id if self.cloud else u.name), u.display_name
            if c.new is not None:
                u = w.users[c.new]
                to, to_s = (u.account_id if self.cloud else u.name), u.display_name
        elif name in ("summary", "description"):
            frm_s, to_s = c.old, c.new
        elif name == "labels":
            frm_s, to_s = " ".join(c.old), " ".join(c.new)
        elif name == "priority":
            frm, frm_s = c.old, cat.PRIORITIES[c.old]
            to, to_s = c.new, cat.PRIORITIES[c.new]
        elif name == "rank":
            name, fieldtype, field_id = "Rank", "custom", f.rank.id
            frm, frm_s, to, to_s = "", "", "", f"Ranked {c.new}"
        elif name == "link":
            type_id, direction, _, other_key = c.new
            lt = cat.LINK_TYPES[type_id]
            phrase = lt.outward if direction == "outward" else lt.inward
            name, field_id = "Link", ""
            to, to_s = other_key, f"This issue {phrase} {other_key}"
        elif name == "key":
            name, field_id = "Key", "issuekey"
            frm_s, to_s = c.old, c.new
        elif name == "project":
            frm, frm_s = str(c.old), w.projects[c.old].name
            to, to_s = str(c.new), w.projects[c.new].name
        out: dict[str, Any] = {"field": name, "fieldtype": fieldtype}
        if self.cloud and field_id:
            out["fieldId"] = field_id
        out.update({"from": frm, "fromString": frm_s, "to": to, "toString": to_s})
        return out

    # ------------------------------------------------------------------ metadata
    def field_list(self) -> list[dict[str, Any]]:
        """GET /field: system fields, then custom fields with clause names."""
        out: list[dict[str, Any]] = []
        for fid, name, ftype, items, orderable in cat.SYSTEM_FIELDS:
            schema: dict[str, Any] = {"type": ftype, "system": fid}
            if items:
                schema["items"] = items
            entry = {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": orderable,
                "navigable": fid != "comment",
                "searchable": True,
                "clauseNames": cat.CLAUSE_NAMES.get(fid, [fid]),
                "schema": schema,
            }
            if fid == "parent" and not self.cloud:
                entry["name"] = "Parent"
            out.append(entry)
        for cf in self.f.all():
            schema = {"type": cf.type, "custom": cf.custom, "customId": cf.custom_id}
            if cf.items:
                schema["items"] = cf.items
            out.append(
                {
                    "id": cf.id,
                    "key": cf.id,
                    "name": cf.name,
                    "custom": True,
                    "orderable": cf.orderable,
                    "navigable": True,
                    "searchable": cf.searchable,
                    "clauseNames": [f"cf[{cf.custom_id}]", cf.name],
                    "schema": schema,
                }
            )
        if not self.cloud:
            for entry in out:
                entry.pop("key", None)
        return out

    def field_names(self) -> dict[str, str]:
        """Field id -> display name (for expand=names)."""
        return {e["id"]: e["name"] for e in self.field_list()}

    def field_schemas(self) -> dict[str, dict[str, Any]]:
        """Field id -> JsonTypeBean (for expand=schema)."""
        return {e["id"]: e["schema"] for e in self.field_list()}

    def project(self, project_id: int, full: bool = False) -> dict[str, Any]:
        """A Project; `full` adds lead, issue types, versions."""
        p = self.w.projects[project_id]
        out: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.rest}/project/{p.id}",
            "id": str(p.id),
            "key": p.key,
            "name": p.name,
            "avatarUrls": self.avatars("project", p.id),
            "projectTypeKey": "software",
        }
        if self.cloud:
            out.update(
                {"simplified": False, "style": "classic", "isPrivate": False, "properties": {}}
            )
        else:
            out["archived"] = False
        if full:
            out.update(
                {
                    "description": f"{p.name} (owned by team {p.key})",
                    "lead": self.user(p.lead),
                    "components": [],
                    "issueTypes": [self.issuetype(t) for t in cat.ISSUE_TYPES],
                    "assigneeType": "UNASSIGNED",
                    "versions": [
                        self.version(self.w.versions[v], full=True) for v in p.version_ids
                    ],
                    "roles": {},
                }
            )
        return out

    def server_info(self, now_ms: int, server_tz: str) -> dict[str, Any]:
        """ServerInformation for the flavour."""
        version, numbers, build = CLOUD_VERSION if self.cloud else DC_VERSION
        return {
            "baseUrl": self.base,
            "displayUrl": self.base,
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": "Cloud" if self.cloud else "Server",
            "buildNumber": build,
            "buildDate": jira_datetime(1_760_000_000_000, server_tz),
            "serverTime": jira_datetime(now_ms, server_tz),
            "scmInfo": "7d7d7800f348983667",
            "serverTitle": "Acme Jira (emulated)",
            "serverTimeZone": server_tz,
        }

    # ------------------------------------------------------------------ agile
    def agile_date(self, ms: int) -> str:
        """Agile timestamps: Cloud UTC `Z`, DC offset with a colon."""
        return agile_datetime(ms, None if self.cloud else self.tz)

    def board(self, board_id: int) -> dict[str, Any]:
        """An agile board with its project location."""
        b = self.w.boards[board_id]
        p = self.w.projects[b.project_id]
        return {
            "id": b.id,
            "self": f"{self.base}/rest/agile/1.0/board/{b.id}",
            "name": b.name,
            "type": b.type,
            "location": {
                "projectId": p.id,
                "displayName": f"{p.name} ({p.key})",
                "projectName": p.name,
                "projectKey": p.key,
                "projectTypeKey": "software",
                "avatarURI": f"{self.base}/secure/projectavatar?size=small&pid={p.id}",
                "name": f"{p.name} ({p.key})",
            },
        }

    def board_config(self, board_id: int) -> dict[str, Any]:
        """Board configuration: columns mapped to statuses, estimation field."""
        b = self.w.boards[board_id]
        p = self.w.projects[b.project_id]

        def col(name: str, ids: list[str]) -> dict[str, Any]:
            return {
                "name": name,
                "statuses": [{"id": i, "self": f"{self.rest}/status/{i}"} for i in ids],
            }

        columns = [
            col("To Do", [cat.TODO.id]),
            col("In Progress", [cat.IN_PROGRESS.id]),
            col("In Review", [cat.IN_REVIEW.id, cat.READY_FOR_QA.id]),
            col("Done", [cat.DONE.id, cat.WONT_DO.id]),
        ]
        out: dict[str, Any] = {
            "id": b.id,
            "name": b.name,
            "type": b.type,
            "self": f"{self.base}/rest/agile/1.0/board/{b.id}/configuration",
            "location": {"type": "project", "projectKeyOrId": p.key}
            if self.cloud
            else {"type": "project", "key": p.key, "id": p.id},
            "filter": {"id": str(b.filter_id), "self": f"{self.rest}/filter/{b.filter_id}"},
            "columnConfig": {"columns": columns, "constraintType": "none"},
            "estimation": {
                "type": "field",
                "field": {"fieldId": self.f.estimate.id, "displayName": self.f.estimate.name},
            },
            "ranking": {"rankCustomFieldId": self.f.rank.custom_id},
        }
        if b.type == "kanban":
            out["subQuery"] = {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"}
        return out

    def sprint(self, s: Sprint) -> dict[str, Any]:
        """An agile sprint (DC adds activatedDate/synced)."""
        out: dict[str, Any] = {
            "id": s.id,
            "self": f"{self.base}/rest/agile/1.0/sprint/{s.id}",
            "state": s.state,
            "name": s.name,
        }
        if s.start is not None:
            out["startDate"] = self.agile_date(s.start)
        if s.end is not None:
            out["endDate"] = self.agile_date(s.end)
        if s.complete is not None:
            out["completeDate"] = self.agile_date(s.complete)
        if self.cloud:
            out["createdDate"] = self.agile_date(s.created)
        elif s.start is not None:
            out["activatedDate"] = self.agile_date(s.start)
        out["originBoardId"] = s.board_id
        out["goal"] = s.goal
        if not self.cloud:
            out["synced"] = False
            out["autoStartStop"] = False
        return out

    def epic(self, issue: Issue) -> dict[str, Any]:
        """An agile epic summary."""
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.base}/rest/agile/1.0/epic/{issue.id}",
            "name": issue.summary,
            "summary": issue.summary,
            "color": {"key": f"color_{issue.id % 14 + 1}"},
            "done": cat.is_done(issue.status),
        }

    def agile_version(self, v: Version) -> dict[str, Any]:
        """A version as the agile API lists it (DC: its platform VersionBean)."""
        if not self.cloud:  # DC answers with its platform VersionBean
            return self.version(v, full=True)
        out: dict[str, Any] = {
            "self": f"{self.rest}/version/{v.id}",
            "id": v.id,
            "projectId": v.project_id,
            "name": v.name,
            "description": v.description,
            "archived": v.archived,
            "released": v.released,
        }
        if v.release_date:
            out["releaseDate"] = agile_datetime(_local_midnight(v.release_date, self.tz), None)
        return out


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local_midnight(day: str, tz: str) -> int:
    return to_ms(datetime.fromisoformat(day).replace(tzinfo=zone(tz)))
