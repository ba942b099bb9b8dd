"""The Werkzeug WSGI app: Jira's REST routes for one flavour, plus the emulator control routes.

Cloud serves /rest/api/{2,3} (search only via /search/jql; /search answers 410) and agile 1.0;
Data Center serves /rest/api/2 (search via /search with startAt) and agile 1.0. Every /rest
request is authenticated. Handlers run under the world lock so mutations never tear a page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pulse.emulators.http import control_response
from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira import text
from pulse.emulators.jira.jql import JqlError, is_bounded
from pulse.emulators.jira.model import Issue
from pulse.emulators.jira.mutations import MutationError
from pulse.emulators.jira.search import make_token, read_token
from pulse.emulators.jira.shapes import FieldSelection, Renderer

if TYPE_CHECKING:
    from pulse.emulators.jira.emulator import JiraEmulator

GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
NO_ISSUE = "Issue does not exist or you do not have permission to see it."


@dataclass(frozen=True)
class Limits:
    """Server-side caps. Defaults follow what Jira is documented/reported to do per flavour.

    Cloud embeds at most 40 histories per issue in search and 100 in GET issue (the rest via
    GET issue/{id}/changelog). Data Center embeds 100 in search and, having no changelog
    resource, the whole history in GET issue (Server loads it all: JRASERVER-60107); pass
    `issue_changelog=100` to model a DC site that truncates there too (then histories beyond
    100 cannot be read at all).
    """

    search_page: int = 100  # Cloud /search/jql cap; DC uses OrgSpec.dc_max_results
    search_page_id_only: int = 5000  # Cloud, when only id/key are requested
    search_changelog: int = 40  # histories embedded per issue in search results
    issue_changelog: int | None = 100  # histories in GET issue?expand=changelog (None: all)
    changelog_page: int = 100  # Cloud GET issue/{id}/changelog page cap
    agile_page: int = 50

    @classmethod
    def for_flavour(cls, flavour: str, dc_max_results: int = 1000) -> Limits:
        """The default caps for a flavour (DC's search page cap is configurable)."""
        if flavour == "cloud":
            return cls()
        return cls(
            search_page=dc_max_results,
            search_page_id_only=dc_max_results,
            search_changelog=100,
            issue_changelog=None,
        )


def jira_error(
    status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None
) -> Response:
    """A Jira `ErrorCollection` response."""
    return json_response({"errorMessages": list(messages), "errors": errors or {}}, status)


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response with Jira's content type."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(data, status=status, content_type="application/json;charset=UTF-8")


class BadRequest(Exception):
    """Raised by handlers to answer 400 (or another status) in Jira's error shape."""

    def __init__(self, message: str, status: int = 400, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.errors = errors


def _url_map(cloud: bool) -> Map:
    api = '<any("2","3"):api>' if cloud else '<any("2"):api>'
    r = f"/rest/api/{api}"
    ag = "/rest/agile/1.0"
    rules = [
        Rule(f"{r}/serverInfo", endpoint="server_info", methods=["GET"]),
        Rule(f"{r}/myself", endpoint="myself", methods=["GET"]),
        Rule(f"{r}/field", endpoint="fields", methods=["GET"]),
        Rule(f"{r}/project", endpoint="projects", methods=["GET"]),
        Rule(f"{r}/project/<key>", endpoint="project", methods=["GET"]),
        Rule(f"{r}/project/<key>/versions", endpoint="versions", methods=["GET"]),
        Rule(f"{r}/issue", endpoint="create_issue", methods=["POST"]),
        Rule(f"{r}/issue/<ref>", endpoint="issue", methods=["GET", "PUT", "DELETE"]),
        Rule(f"{r}/issue/<ref>/transitions", endpoint="transitions", methods=["GET", "POST"]),
        Rule(f"{r}/search", endpoint="search", methods=["GET", "POST"]),
        Rule(f"{ag}/board", endpoint="boards", methods=["GET"]),
        Rule(f"{ag}/board/<int:board_id>", endpoint="board", methods=["GET"]),
        Rule(f"{ag}/board/<int:board_id>/configuration", endpoint="board_config", methods=["GET"]),
        Rule(f"{ag}/board/<int:board_id>/sprint", endpoint="board_sprints", methods=["GET"]),
        Rule(f"{ag}/board/<int:board_id>/epic", endpoint="board_epics", methods=["GET"]),
        Rule(f"{ag}/board/<int:board_id>/version", endpoint="board_versions", methods=["GET"]),
        Rule(f"{ag}/sprint/<int:sprint_id>", endpoint="sprint", methods=["GET"]),
        Rule("/_emulator/move", endpoint="ctl_move", methods=["POST"]),
        Rule("/_emulator/restrict", endpoint="ctl_restrict", methods=["POST"]),
        Rule("/_emulator/restrict-project", endpoint="ctl_restrict_project", methods=["POST"]),
        Rule("/_emulator/clock", endpoint="ctl_clock", methods=["GET", "POST"]),
        Rule("/_emulator/truth", endpoint="ctl_truth", methods=["GET"]),
        Rule("/_emulator/truth/issue/<ref>", endpoint="ctl_truth_issue", methods=["GET"]),
    ]
    if cloud:
        rules += [
            Rule(f"{r}/search/jql", endpoint="search_jql", methods=["GET", "POST"]),
            Rule(f"{r}/search/approximate-count", endpoint="approximate_count", methods=["POST"]),
            Rule(f"{r}/issue/<ref>/changelog", endpoint="changelog", methods=["GET"]),
            Rule(f"{r}/issue/bulkfetch", endpoint="bulk_issues", methods=["POST"]),
            Rule(f"{r}/changelog/bulkfetch", endpoint="bulk_changelogs", methods=["POST"]),
        ]
    return Map(rules, strict_slashes=False)


class JiraApp:
    """WSGI callable serving one JiraEmulator."""

    def __init__(self, emu: JiraEmulator) -> None:
        self.emu = emu
        self.world = emu.world
        self.cloud = emu.flavour == "cloud"
        self.url_map = _url_map(self.cloud)
        self.limits = emu.limits

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.wsgi(Request(environ))(environ, start_response)

    # ------------------------------------------------------------------ dispatch
    def wsgi(self, request: Request) -> Response:
        """Route one request: control endpoints, 404/405, authentication, then the handler."""
        ctl = control_response(request, self.emu.faults, self.emu.requests)
        if ctl is not None:
            return ctl
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except MethodNotAllowed:
            return Response(status=405)
        except NotFound:
            return jira_error(404, ["null for uri: " + request.url])
        except HTTPException as e:  # pragma: no cover - defensive
            return Response(status=e.code or 500)
        if not str(endpoint).startswith("ctl_") and not self.authenticated(request):
            resp = jira_error(401, [NOT_AUTHENTICATED])
            resp.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            return resp
        handler = getattr(self, "on_" + str(endpoint))
        try:
            with self.world.lock:
                return handler(request, **values)
        except BadRequest as e:
            return jira_error(e.status, [str(e)] if str(e) else [], e.errors)
        except JqlError as e:
            return jira_error(400, [str(e)])
        except MutationError as e:
            errors = {e.field: str(e)} if e.field and e.status == 400 else None
            return jira_error(e.status, [] if errors else [str(e)], errors)

    def authenticated(self, request: Request) -> bool:
        """Cloud: Basic email + API token; DC: Bearer PAT or Basic user + password."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return not self.cloud and value.strip() == self.emu.pat
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return (user, secret) == self.emu.basic_auth
        return False

    # ------------------------------------------------------------------ helpers
    def renderer(self, request: Request, api: str = "2") -> Renderer:
        """A renderer bound to this request's base URL, REST version and the clock."""
        return Renderer(self.world, request.host_url, api, self.emu.clock.now_ms())

    @staticmethod
    def int_param(request: Request, name: str, default: int) -> int:
        """An integer query parameter; a non-number is Jira's 400."""
        raw = request.args.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise BadRequest(f"The '{name}' parameter must be a number, got '{raw}'.") from None

    @staticmethod
    def body(request: Request) -> dict[str, Any]:
        """The JSON object body; malformed JSON is a 400 like Jira's."""
        try:
            data = json.loads(request.get_data(as_text=True) or "{}")
        except json.JSONDecodeError as e:
            raise BadRequest(f"Unexpected character in the request body: {e.msg}") from None
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.")
        return data

    @staticmethod
    def list_param(request: Request, name: str) -> list[str]:
        """A repeated and/or comma-separated query parameter as a flat list."""
        return [
            part.strip()
            for raw in request.args.getlist(name)
            for part in raw.split(",")
            if part.strip()
        ]

    def visible_issue(self, ref: str) -> Issue:
        """The issue by id or key, or Jira's 404 when deleted or not visible."""
        issue = self.world.lookup(ref)
        if issue is None or not self.world.visible(issue):
            raise BadRequest(NO_ISSUE, status=404)
        return issue

    @staticmethod
    def page(items: list[Any], start: int, size: int, total: bool = False) -> dict[str, Any]:
        """An agile page: {maxResults, startAt, isLast[, total], values}."""
        chunk = items[start : start + size]
        out: dict[str, Any] = {
            "maxResults": size,
            "startAt": start,
            "isLast": start + len(chunk) >= len(items),
        }
        if total:
            out["total"] = len(items)
        out["values"] = chunk
        return out

    # ------------------------------------------------------------------ platform
    def on_server_info(self, request: Request, api: str) -> Response:
        """GET serverInfo: deploymentType Cloud or Server."""
        return json_response(
            self.renderer(request, api).server_info(
                self.emu.clock.now_ms(), self.emu.spec.server_timezone
            )
        )

    def on_myself(self, request: Request, api: str) -> Response:
        """GET myself: the searching user, with the profile time zone JQL uses."""
        return json_response(self.renderer(request, api).user(self.world.me, full=True))

    def on_fields(self, request: Request, api: str) -> Response:
        """GET field: system and flavour-specific custom fields with schema.custom."""
        return json_response(self.renderer(request, api).field_list())

    def on_projects(self, request: Request, api: str) -> Response:
        """GET project: every project the caller may browse (not paginated)."""
        r = self.renderer(request, api)
        return json_response(
            [r.project(p) for p in self.world.projects if self.world.project_visible(p)]
        )

    def on_project(self, request: Request, api: str, key: str) -> Response:
        """GET project/{key}: one project with lead, issue types and versions."""
        proj = self.world.project_by_key(key)
        if proj is None or not self.world.project_visible(proj.id):
            raise BadRequest(f"No project could be found with key '{key}'.", status=404)
        return json_response(self.renderer(request, api).project(proj.id, full=True))

    def on_versions(self, request: Request, api: str, key: str) -> Response:
        """GET project/{key}/versions: all versions, not paginated."""
        proj = self.world.project_by_key(key)
        if proj is None or not self.world.project_visible(proj.id):
            raise BadRequest(f"No project could be found with key '{key}'.", status=404)
        r = self.renderer(request, api)
        return json_response(
            [r.version(self.world.versions[v], full=True) for v in proj.version_ids]
        )

    # ------------------------------------------------------------------ issues
    def on_issue(self, request: Request, api: str, ref: str) -> Response:
        """GET/PUT/DELETE issue/{idOrKey}; moved issues resolve by old key or id."""
        if request.method == "PUT":
            issue = self.visible_issue(ref)
            self.apply_fields(issue, self.body(request), api)
            return Response(status=204)
        if request.method == "DELETE":
            issue = self.visible_issue(ref)
            kids = [
                k
                for k in self.world.children.get(issue.id, [])
                if k in self.world.issues and cat.ISSUE_TYPES[self.world.issues[k].type_id].subtask
            ]
            if kids and request.args.get("deleteSubtasks", "false").lower() != "true":
                raise BadRequest(
                    "The issue has subtasks. Pass deleteSubtasks=true to delete them with it."
                )
            self.emu.mutate.delete(issue.id)
            return Response(status=204)
        issue = self.visible_issue(ref)
        sel = FieldSelection.parse(self.list_param(request, "fields"), "*all")
        expand = frozenset(self.list_param(request, "expand"))
        r = self.renderer(request, api)
        return json_response(
            r.issue(issue, sel, expand=expand, changelog_cap=self.limits.issue_changelog)
        )

    def on_changelog(self, request: Request, api: str, ref: str) -> Response:
        """GET issue/{idOrKey}/changelog (Cloud only): the full changelog, oldest first."""
        issue = self.visible_issue(ref)
        start = max(0, self.int_param(request, "startAt", 0))
        cap = self.limits.changelog_page
        size = min(cap, max(1, self.int_param(request, "maxResults", cap)))
        r = self.renderer(request, api)
        hist = issue.histories
        chunk = hist[start : start + size]
        base = f"{r.rest}/issue/{ref}/changelog"
        out: dict[str, Any] = {
            "self": f"{base}?startAt={start}&maxResults={size}",
            "maxResults": size,
            "startAt": start,
            "total": len(hist),
            "isLast": start + len(chunk) >= len(hist),
        }
        if not out["isLast"]:
            out["nextPage"] = f"{base}?startAt={start + len(chunk)}&maxResults={size}"
        out["values"] = [r.history(h) for h in chunk]
        return json_response(out)

    def on_bulk_issues(self, request: Request, api: str) -> Response:
        """POST issue/bulkfetch (Cloud): up to 100 issues; missing or hidden ones are left out."""
        data = self.body(request)
        refs = [str(x) for x in data.get("issueIdsOrKeys") or []]
        if not refs or len(refs) > 100:
            raise BadRequest("issueIdsOrKeys must hold between 1 and 100 issue ids or keys.")
        fields = data.get("fields")
        sel = FieldSelection.parse(fields if isinstance(fields, list) else None, "*navigable")
        expand = frozenset(data.get("expand") or [])
        r = self.renderer(request, api)
        seen: set[int] = set()
        issues = []
        for ref in refs:
            issue = self.world.lookup(ref)
            if issue is None or not self.world.visible(issue) or issue.id in seen:
                continue
            seen.add(issue.id)
            issues.append(
                r.issue(issue, sel, expand=expand, changelog_cap=self.limits.search_changelog)
            )
        return json_response({"issues": issues, "issueErrors": []})

    def on_bulk_changelogs(self, request: Request, api: str) -> Response:
        """POST changelog/bulkfetch (Cloud): histories of many issues, oldest first, paged."""
        data = self.body(request)
        refs = [str(x) for x in data.get("issueIdsOrKeys") or []]
        field_ids = [str(x) for x in data.get("fieldIds") or []]
        if not refs or len(refs) > 1000 or len(field_ids) > 10:
            raise BadRequest("issueIdsOrKeys must hold 1 to 1000 entries and fieldIds at most 10.")
        size = min(10000, max(1, int(data.get("maxResults") or 1000)))
        query = "changelog:" + ",".join(refs) + "|" + ",".join(field_ids)
        offset = read_token(query, str(data["nextPageToken"])) if data.get("nextPageToken") else 0
        r = self.renderer(request, api)
        entries: list[tuple[int, int, dict[str, Any]]] = []
        for issue_id in dict.fromkeys(
            i.id for i in (self.world.lookup(ref) for ref in refs) if i and self.world.visible(i)
        ):
            for h in self.world.issues[issue_id].histories:
                doc = r.history(h)
                if field_ids:
                    doc["items"] = [i for i in doc["items"] if i.get("fieldId") in field_ids]
                    if not doc["items"]:
                        continue
                entries.append((h.at, issue_id, doc))
        entries.sort(key=lambda e: (e[0], e[1]))
        chunk = entries[offset : offset + size]
        grouped: dict[int, list[dict[str, Any]]] = {}
        for _, issue_id, doc in chunk:
            grouped.setdefault(issue_id, []).append(doc)
        out: dict[str, Any] = {
            "issueChangeLogs": [
                {"issueId": str(k), "changeHistories": v} for k, v in grouped.items()
            ]
        }
        if offset + len(chunk) < len(entries):
            out["nextPageToken"] = make_token(query, offset + len(chunk))
        return json_response(out)

    def on_transitions(self, request: Request, api: str, ref: str) -> Response:
        """GET lists the (global) transitions; POST performs one by id."""
        issue = self.visible_issue(ref)
        if request.method == "POST":
            data = self.body(request)
            tr = data.get("transition") or {}
            tid = str(tr.get("id", "")) if isinstance(tr, dict) else ""
            if tid not in cat.TRANSITION_IDS:
                raise BadRequest(f"Transition id '{tid}' is not valid for this issue.")
            self.emu.mutate.transition(issue.id, cat.TRANSITION_IDS[tid])
            if isinstance(data.get("fields"), dict):
                fields = {k: v for k, v in data["fields"].items() if k != "resolution"}
                if fields:
                    self.apply_fields(issue, {"fields": fields}, api)
            return Response(status=204)
        r = self.renderer(request, api)
        out = []
        for tid, sid in cat.TRANSITION_IDS.items():
            out.append(
                {
                    "id": tid,
                    "name": cat.STATUSES[sid].name,
                    "to": r.status(sid),
                    "hasScreen": False,
                    "isGlobal": True,
                    "isInitial": False,
                    "isAvailable": True,
                    "isConditional": False,
                    "isLooped": False,
                }
            )
        return json_response({"expand": "transitions", "transitions": out})

    def on_create_issue(self, request: Request, api: str) -> Response:
        """POST issue: create from a Jira `fields` object; 201 {id, key, self}."""
        data = self.body(request)
        fields = data.get("fields")
        if not isinstance(fields, dict):
            raise BadRequest("", errors={"fields": "The fields object is required."})
        proj = fields.get("project") or {}
        pref = str(proj.get("key") or proj.get("id") or "") if isinstance(proj, dict) else ""
        itype = fields.get("issuetype") or {}
        tname = str(itype.get("name") or itype.get("id") or "") if isinstance(itype, dict) else ""
        if not pref:
            raise BadRequest("", errors={"project": "Specify a valid project ID or key"})
        if not tname:
            raise BadRequest("", errors={"issuetype": "Specify an issue type"})
        kwargs = self.translate_fields(fields, api, creating=True)
        issue = self.emu.mutate.create(pref, type=tname, **kwargs)
        r = self.renderer(request, api)
        return json_response(
            {"id": str(issue.id), "key": issue.key, "self": f"{r.rest}/issue/{issue.id}"}, 201
        )

    def apply_fields(self, issue: Issue, data: dict[str, Any], api: str) -> None:
        """Apply a PUT body's `fields` (and `update.labels`) as one edit."""
        fields = data.get("fields") or {}
        if not isinstance(fields, dict):
            raise BadRequest("The fields object must be a JSON object.")
        kwargs = self.translate_fields(fields, api, creating=False, issue=issue)
        update = data.get("update") or {}
        if isinstance(update, dict) and "labels" in update:
            labels = set(kwargs.get("labels", issue.labels))
            for op in update["labels"]:
                for verb, value in op.items():
                    if verb == "add":
                        labels.add(value)
                    elif verb == "remove":
                        labels.discard(value)
                    elif verb == "set":
                        labels = set(value)
            kwargs["labels"] = labels
        if kwargs:
            self.emu.mutate.edit(issue.id, **kwargs)

    def translate_fields(
        self, fields: dict[str, Any], api: str, creating: bool, issue: Issue | None = None
    ) -> dict[str, Any]:
        """Map a Jira `fields` object onto Mutator keyword arguments."""
        f = self.world.fields
        out: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for key, value in fields.items():
            if key in ("project", "issuetype") and creating:
                continue
            if key == "summary":
                out["summary"] = value
            elif key == "description":
                out["description"] = text.adf_to_text(value)
            elif key == "duedate":
                out["duedate"] = value
            elif key == "labels":
                out["labels"] = list(value or [])
            elif key == "assignee":
                out["assignee"] = (
                    None
                    if value is None
                    else (value.get("accountId") or value.get("name") or value.get("id"))
                )
            elif key == "parent":
                out["parent"] = None if value is None else (value.get("key") or value.get("id"))
            elif f.epic_link is not None and key == f.epic_link.id:
                out["parent"] = value
            elif key == f.estimate.id:
                out["story_points"] = value
            elif key == f.flagged.id:
                out["flagged"] = bool(value)
            elif key == f.target_end.id:
                out["target_end"] = value
            elif key == f.sprint.id:
                out["sprint_ids"] = self.sprint_value(value, issue)
            elif key == "fixVersions":
                out["fix_versions"] = [v.get("id") or v.get("name") for v in value or []]
            else:
                errors[key] = (
                    f"Field '{key}' cannot be set. It is not on the appropriate screen, or unknown."
                )
        if errors:
            raise BadRequest("", errors=errors)
        if creating and "sprint_ids" in out and out["sprint_ids"] is None:
            out["sprint_ids"] = ()
        return out

    def sprint_value(self, value: Any, issue: Issue | None) -> list[int]:
        """Jira semantics: a sprint id moves the issue, keeping closed sprints; null clears."""
        if isinstance(value, list):
            return [int(v["id"]) if isinstance(v, dict) else int(v) for v in value]
        closed = [
            s for s in (issue.sprints if issue else ()) if self.world.sprints[s].state == "closed"
        ]
        if value is None:
            return closed
        sid = int(value["id"]) if isinstance(value, dict) else int(value)
        return sorted({*closed, sid})

    # ------------------------------------------------------------------ search
    def search_request(self, request: Request) -> dict[str, Any]:
        """Search parameters from a GET query or a POST body, normalised."""
        if request.method == "POST":
            data = self.body(request)
            expand = data.get("expand") or []
            if isinstance(expand, str):
                expand = [e.strip() for e in expand.split(",")]
            fields = data.get("fields")
            return {
                "jql": data.get("jql") or "",
                "token": data.get("nextPageToken"),
                "max": data.get("maxResults"),
                "start": data.get("startAt", 0),
                "fields": fields
                if isinstance(fields, list)
                else ([fields] if isinstance(fields, str) else None),
                "expand": frozenset(e for e in expand if e),
                "validate": data.get("validateQuery", True),
            }
        max_raw = request.args.get("maxResults")
        return {
            "jql": request.args.get("jql", ""),
            "token": request.args.get("nextPageToken"),
            "max": None if max_raw in (None, "") else self.int_param(request, "maxResults", 50),
            "start": self.int_param(request, "startAt", 0),
            "fields": self.list_param(request, "fields") or None,
            "expand": frozenset(self.list_param(request, "expand")),
            "validate": request.args.get("validateQuery", "true"),
        }

    def on_search(self, request: Request, api: str) -> Response:
        """GET|POST search: DC startAt paging; Cloud answers 410 (removed)."""
        if self.cloud:
            return jira_error(410, [GONE])
        q = self.search_request(request)
        strict = str(q["validate"]).lower() not in ("false", "warn", "none")
        ids, warnings = self.emu.search.run(q["jql"], cloud=False, strict=strict)
        cap = self.limits.search_page
        size = min(cap, max(0, int(q["max"] if q["max"] is not None else 50)))
        start = max(0, int(q["start"] or 0))
        sel = FieldSelection.parse(q["fields"], "*navigable")
        r = self.renderer(request, api)
        issues = self.page_of_issues(r, ids[start : start + size], sel, q["expand"])
        out: dict[str, Any] = {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(ids),
            "issues": issues,
        }
        if warnings:
            out["warningMessages"] = warnings
        self.top_level_expand(out, r, q["expand"], issues)
        return json_response(out)

    def on_search_jql(self, request: Request, api: str) -> Response:
        """GET|POST search/jql (Cloud): nextPageToken paging over a live result."""
        q = self.search_request(request)
        jql = q["jql"]
        if not is_bounded(jql):
            raise BadRequest(UNBOUNDED)
        offset = read_token(jql, q["token"]) if q["token"] else 0
        sel = FieldSelection.parse(q["fields"], "id")
        lim = self.limits
        cap = lim.search_page_id_only if sel.id_only and not q["expand"] else lim.search_page
        size = min(cap, max(1, int(q["max"] if q["max"] is not None else 50)))
        ids = self.emu.search.evaluate(jql, cloud=True)
        chunk = ids[offset : offset + size]
        r = self.renderer(request, api)
        issues = self.page_of_issues(r, chunk, sel, q["expand"])
        out: dict[str, Any] = {"issues": issues}
        if offset + len(chunk) < len(ids):
            out["nextPageToken"] = make_token(jql, offset + len(chunk))
            out["isLast"] = False
        else:
            out["isLast"] = True
        self.top_level_expand(out, r, q["expand"], issues)
        return json_response(out)

    def page_of_issues(
        self, r: Renderer, ids: list[int], sel: FieldSelection, expand: frozenset[str]
    ) -> list[dict[str, Any]]:
        """A search page's issues, rendered with the search's changelog cap."""
        cap = self.limits.search_changelog
        return [r.issue(self.world.issues[i], sel, expand=expand, changelog_cap=cap) for i in ids]

    @staticmethod
    def top_level_expand(
        out: dict[str, Any], r: Renderer, expand: frozenset[str], issues: list[dict[str, Any]]
    ) -> None:
        """Add page-level `names`/`schema` for the fields actually returned."""
        used = {k for i in issues for k in i.get("fields", {})}
        if "names" in expand:
            names = r.field_names()
            out["names"] = {k: names.get(k, k) for k in sorted(used)}
        if "schema" in expand:
            schemas = r.field_schemas()
            out["schema"] = {k: schemas[k] for k in sorted(used) if k in schemas}
        for issue in issues:
            issue.pop("names", None)
            issue.pop("schema", None)

    def on_approximate_count(self, request: Request, api: str) -> Response:
        """POST search/approximate-count (Cloud): {count}."""
        jql = str(self.body(request).get("jql") or "")
        if not is_bounded(jql):
            raise BadRequest(UNBOUNDED)
        return json_response({"count": len(self.emu.search.evaluate(jql, cloud=True))})

    # ------------------------------------------------------------------ agile
    def board_or_404(self, board_id: int) -> Any:
        """The board, or the agile API's 404."""
        board = self.world.boards.get(board_id)
        if board is None or not self.world.project_visible(board.project_id):
            raise BadRequest(
                "Board does not exist or you do not have permission to see it.", status=404
            )
        return board

    def agile_paging(self, request: Request) -> tuple[int, int]:
        """startAt and maxResults for agile lists (capped at 50)."""
        start = max(0, self.int_param(request, "startAt", 0))
        cap = self.limits.agile_page
        size = min(cap, max(1, self.int_param(request, "maxResults", cap)))
        return start, size

    def on_boards(self, request: Request) -> Response:
        """GET board: boards filtered by type/name/project, paged with total."""
        start, size = self.agile_paging(request)
        r = self.renderer(request)
        btype = request.args.get("type")
        name = request.args.get("name", "").lower()
        proj = request.args.get("projectKeyOrId")
        boards = []
        for b in self.world.boards.values():
            p = self.world.projects[b.project_id]
            if not self.world.project_visible(p.id):
                continue
            if btype and b.type not in btype.split(","):
                continue
            if name and name not in b.name.lower():
                continue
            if proj and proj.upper() not in (p.key, str(p.id)):
                continue
            boards.append(r.board(b.id))
        return json_response(self.page(boards, start, size, total=True))

    def on_board(self, request: Request, board_id: int) -> Response:
        """GET board/{id}."""
        self.board_or_404(board_id)
        return json_response(self.renderer(request).board(board_id))

    def on_board_config(self, request: Request, board_id: int) -> Response:
        """GET board/{id}/configuration: columns and the estimation field."""
        self.board_or_404(board_id)
        return json_response(self.renderer(request).board_config(board_id))

    def on_board_sprints(self, request: Request, board_id: int) -> Response:
        """GET board/{id}/sprint: closed, active, future; paged without total."""
        board = self.board_or_404(board_id)
        if board.type != "scrum":
            raise BadRequest("The board does not support sprints")
        start, size = self.agile_paging(request)
        states = {s.strip().lower() for s in request.args.get("state", "").split(",") if s.strip()}
        order = {"closed": 0, "active": 1, "future": 2}
        sprints = sorted(
            (self.world.sprints[s] for s in board.sprint_ids), key=lambda s: (order[s.state], s.id)
        )
        r = self.renderer(request)
        values = [r.sprint(s) for s in sprints if not states or s.state in states]
        return json_response(self.page(values, start, size))

    def on_sprint(self, request: Request, sprint_id: int) -> Response:
        """GET sprint/{id}."""
        sprint = self.world.sprints.get(sprint_id)
        if sprint is None:
            raise BadRequest(
                f"Sprint with id {sprint_id} does not exist or you do not have "
                f"permission to see it.",
                status=404,
            )
        return json_response(self.renderer(request).sprint(sprint))

    def on_board_epics(self, request: Request, board_id: int) -> Response:
        """GET board/{id}/epic: the board project's visible epics."""
        board = self.board_or_404(board_id)
        start, size = self.agile_paging(request)
        done = request.args.get("done")
        r = self.renderer(request)
        epics = [
            i
            for i in self.world.issues.values()
            if i.project_id == board.project_id
            and i.type_id == cat.EPIC.id
            and self.world.visible(i)
        ]
        epics.sort(key=lambda i: i.rank)
        if done is not None:
            want = done.lower() == "true"
            epics = [e for e in epics if cat.is_done(e.status) == want]
        return json_response(self.page([r.epic(e) for e in epics], start, size))

    def on_board_versions(self, request: Request, board_id: int) -> Response:
        """GET board/{id}/version: the board project's versions."""
        board = self.board_or_404(board_id)
        start, size = self.agile_paging(request)
        released = request.args.get("released")
        r = self.renderer(request)
        versions = [
            self.world.versions[v] for v in self.world.projects[board.project_id].version_ids
        ]
        if released is not None:
            versions = [v for v in versions if v.released == (released.lower() == "true")]
        return json_response(self.page([r.agile_version(v) for v in versions], start, size))

    # ------------------------------------------------------------------ emulator control
    def on_ctl_move(self, request: Request) -> Response:
        """POST /_emulator/move {issue, project}: move an issue to another project."""
        data = self.body(request)
        issue = self.emu.mutate.move(str(data.get("issue", "")), str(data.get("project", "")))
        return json_response({"id": str(issue.id), "key": issue.key})

    def on_ctl_restrict(self, request: Request) -> Response:
        """POST /_emulator/restrict {issue[, restricted]}: hide or show an issue."""
        data = self.body(request)
        ids = self.emu.mutate.restrict(
            str(data.get("issue", "")), bool(data.get("restricted", True))
        )
        return json_response({"ids": [str(i) for i in ids]})

    def on_ctl_restrict_project(self, request: Request) -> Response:
        """POST /_emulator/restrict-project {project[, restricted]}: lose or regain Browse."""
        data = self.body(request)
        ids = self.emu.mutate.restrict_project(
            str(data.get("project", "")), bool(data.get("restricted", True))
        )
        return json_response({"ids": [str(i) for i in ids]})

    def on_ctl_clock(self, request: Request) -> Response:
        """GET or POST /_emulator/clock {now | advance}: read or set the emulated now."""
        if request.method == "POST":
            data = self.body(request)
            if "now" in data:
                self.emu.clock.set(datetime.fromisoformat(str(data["now"])))
            if "advance" in data:
                self.emu.clock.advance(float(data["advance"]))
        return json_response({"now": self.emu.clock.now().isoformat()})

    def on_ctl_truth(self, request: Request) -> Response:
        """GET /_emulator/truth: deletions, moves, restrictions, sprint numbers."""
        truth = self.emu.truth
        sprints = {}
        for sid, s in truth.sprints.items():
            sprints[str(sid)] = {
                k: (
                    sorted(v)
                    if isinstance(v, frozenset)
                    else v.isoformat()
                    if isinstance(v, datetime)
                    else v
                )
                for k, v in s.__dict__.items()
            }
        return json_response(
            {
                "issues": len(self.world.issues),
                "visible": len(truth.visible_ids),
                "deleted": sorted(truth.deleted),
                "moved": truth.moved,
                "restricted": sorted(truth.restricted),
                "planted": truth.planted,
                "sprints": sprints,
                "min_search_pages": truth.min_search_pages(),
            }
        )

    def on_ctl_truth_issue(self, request: Request, ref: str) -> Response:
        """GET /_emulator/truth/issue/{ref}: one issue's truth as JSON."""
        try:
            t = self.emu.truth.issue(ref)
        except KeyError:
            raise BadRequest(NO_ISSUE, status=404) from None

        def plain(v: Any) -> Any:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            if hasattr(v, "__dataclass_fields__"):
                return {k: plain(x) for k, x in v.__dict__.items()}
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if hasattr(v, "isoformat"):
                return v.isoformat()
            return v

        return json_response(plain(t))
