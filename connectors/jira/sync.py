"""One sync of one Jira source: structures, then issues stream by stream, then the census.

Each project (and the optional JQL filter) is a stream with its own cursor. A pass reads
`updated >= last pass start − overlap` in keyset pages (`id > last id read`, in id order), so
issues entering or leaving the result during the pass never shift another past us; every page is
stored with its checkpoint in one transaction, so a killed sync resumes after the last id it
stored, and the next window starts at this pass's start (server time), so anything updated
while we read is read again next time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jira import JIRAError
from requests import RequestException

from pulse.connectors.base import NoProgress, SourceError, SyncContext
from pulse.connectors.census import CensusCursor
from pulse.connectors.http_policy import HttpPolicy, RequestStats, SyncInterrupted
from pulse.connectors.jira.agile import read_agile
from pulse.connectors.jira.census import CensusScope, listing, run_census
from pulse.connectors.jira.client import JiraSite, connect, describe_error
from pulse.connectors.jira.config import JiraSource
from pulse.connectors.jira.cursor import IssuesCursor, Pass
from pulse.connectors.jira.fields import FieldMap, discover_fields
from pulse.connectors.jira.pages import PageWriter
from pulse.connectors.jira.prefetch import fetched_pages
from pulse.connectors.jira.search import approximate_count, window_where
from pulse.store.cursors import load_cursor
from pulse.store.items import has_project_items, mark_project_items_access_lost, project_keys
from pulse.store.sources import update_source
from pulse.store.structure import (
    hidden_projects,
    hide_projects,
    replace_sprints,
    write_boards,
    write_projects,
    write_versions,
)

BASE_FIELDS = [
    "summary",
    "status",
    "issuetype",
    "project",
    "created",
    "updated",
    "resolutiondate",
    "assignee",
    "reporter",
    "parent",
    "duedate",
    "labels",
    "components",
    "fixVersions",
    "issuelinks",
]


@dataclass(frozen=True)
class Stream:
    """A slice of the source with its own cursor: one project, or the configured JQL."""

    name: str
    scope: str
    label: str


def streams_for(source: JiraSource) -> list[Stream]:
    """Per-project streams (restricted by the JQL filter when both are set), or the JQL alone."""
    extra = f" AND ({source.jql})" if source.jql else ""
    if source.projects:
        return [
            Stream(f"issues:{key}", f'project = "{key}"{extra}', key) for key in source.projects
        ]
    return [Stream("issues:jql", f"({source.jql})", "jql")]


def fetch_fields(fields: FieldMap) -> list[str]:
    """The issue fields a sync asks for: the built-ins plus every discovered custom field."""
    return BASE_FIELDS + sorted({choice.id for choice in fields.choices.values()})


class JiraConnector:
    """The Jira connector: syncs one Jira source (see `JiraSync`)."""

    kind = "jira"

    def sync(self, context: SyncContext[JiraSource]) -> None:
        JiraSync(context).run()


@dataclass
class JiraSync:
    """Runs one sync of a Jira source against the store."""

    context: SyncContext[JiraSource]
    # When the earliest pass whose pages this sync stored began (server time).
    passes_began: datetime | None = None

    def __post_init__(self) -> None:
        context = self.context
        self.source, self.store, self.source_id = context.source, context.store, context.source_id
        self.progress, self.stop, self.counts = context.progress, context.stop, context.counts
        self.now = context.now

    def run(self) -> None:
        full = self.context.full
        stats = RequestStats()
        policy = HttpPolicy(
            timeout=self.source.duration("timeout").total_seconds(),
            max_retry_time=self.source.duration("max_retry_time").total_seconds(),
            unreachable_after=self.source.duration("unreachable_after").total_seconds(),
        )
        try:
            site = connect(self.source, policy, stats, self.stop)
            self._run(site, full)
        except (JIRAError, RequestException, ValueError) as exc:
            raise describe_error(self.source, exc) from None
        finally:
            self.counts.requests = stats.requests
            self.counts.retries = stats.retries

    def _run(self, site: JiraSite, full: bool) -> None:
        fields = discover_fields(site.jira.fields(), self.source.fields)
        # The library translates field names through its own cache; seed it so it asks no more.
        site.jira._fields_cache_value = {c.name: c.id for c in fields.choices.values()} or {"": ""}
        with self.store.transaction() as conn:
            update_source(
                conn,
                self.source_id,
                deployment=site.deployment,
                server_title=site.title,
                user_timezone=site.user_zone.key,
                fields=fields.as_status(),
            )
        hidden, regained = self._sync_agile(site)
        writer = PageWriter(
            site, self.store, self.source_id, fields, self.counts, self.now, self.stop
        )
        wanted = fetch_fields(fields)
        for stream in streams_for(self.source):
            if stream.label in hidden:
                # JQL naming a project we cannot browse is an error; _sync_agile marked its items.
                continue
            # A project visible again is read whole: its unchanged issues are still marked.
            self._sync_stream(site, writer, stream, wanted, full or stream.label in regained)
        self._maybe_census(writer, wanted, full, site.server_time, hidden)

    def _sync_agile(self, site: JiraSite) -> tuple[set[str], set[str]]:
        """Read projects, boards, sprints and versions.

        Returns the projects we cannot see now, and those we can see again after losing sight
        of them. Items of an invisible project are marked access-lost here: Jira answers 404
        alike for a project we may not browse and one that is gone, so "deleted" would be a guess.
        """
        keys = list(self.source.projects) or self._known_projects()
        rows = read_agile(site, self.source_id, keys)
        with self.store.reading() as conn:
            was_hidden = hidden_projects(conn, self.source_id)
        for key in rows.inaccessible:
            if key in self.source.projects and not self._has_items(key):
                raise SourceError(
                    f"{self.source.name}: project {key} not found or not visible to this user "
                    "(config sources.projects)"
                )
        hidden = set(rows.inaccessible)
        with self.store.transaction() as conn:
            write_projects(conn, rows.projects)
            if hidden:
                hide_projects(conn, self.source_id, hidden)
                self.counts.access_lost += mark_project_items_access_lost(
                    conn, self.source_id, hidden, self.now()
                )
            write_boards(conn, rows.boards)
            board_ids = [row["board_id"] for row in rows.boards]
            replace_sprints(conn, self.source_id, rows.sprints, board_ids)
            write_versions(conn, rows.versions)
        self.counts.sprints = len(rows.sprints)
        self.counts.boards = len(rows.boards)
        self.counts.versions = len(rows.versions)
        return hidden, was_hidden - hidden

    def _sync_stream(
        self, site: JiraSite, writer: PageWriter, stream: Stream, wanted: list[str], full: bool
    ) -> None:
        with self.store.reading() as conn:
            stored = IssuesCursor.from_json(load_cursor(conn, self.source_id, stream.name))
        current = None if full else stored.current
        if current is None:
            current = Pass(since=None if full else stored.since, started=site.server_time)
        overlap = self.source.duration("overlap")
        where = window_where(
            stream.scope,
            site.user_zone,
            updated_since=None if current.since is None else current.since - overlap,
        )
        # The count is for a progress bar only: nobody watching, no query.
        shown = not isinstance(self.progress, NoProgress)
        self.progress.begin(stream.label, approximate_count(site, where) if shown else None)
        began = current.started
        if self.passes_began is None or began < self.passes_began:
            self.passes_began = began
        pages = fetched_pages(
            site, where, wanted, self.source.page_size, self.stop, after_id=current.after_id
        )
        for page in pages:
            if page.total is not None and page.after_id is None:
                self.progress.begin(stream.label, page.total)
            current = Pass(current.since, current.started, page.next)
            cursor = (
                IssuesCursor(since=current.started)
                if page.next is None
                else IssuesCursor(since=stored.since, current=current)
            )
            writer.write(page.issues, page.histories, cursor=(stream.name, cursor))
            self.progress.advance(stream.label, len(page.issues))
            if self.stop.is_set():
                raise SyncInterrupted(f"{self.source.name}: stopped after a committed page")
        self.progress.end(stream.label)

    def _maybe_census(
        self,
        writer: PageWriter,
        wanted: list[str],
        full: bool,
        server_time: datetime,
        hidden: set[str],
    ) -> None:
        census = CensusCursor.load(self.store, self.source_id)
        if not (full or census.due(server_time, self.source.duration("census_every"))):
            return
        self.progress.begin("census", None)
        scope = CensusScope(
            scopes=[s.scope for s in streams_for(self.source) if s.label not in hidden],
            projects=frozenset(self.source.projects),
            filtered=self.source.jql is not None,
        )
        # Everything changed since the previous census (or, at the first, since our passes
        # began reading) is compared by `updated`: consecutive censuses leave no gap.
        checked_from = census.last or self.passes_began or server_time
        changed_since = checked_from - self.source.duration("overlap")
        findings = run_census(writer, scope, wanted, listing(writer, scope.scopes, changed_since))
        with self.store.transaction() as conn:
            CensusCursor.save(conn, self.source_id, server_time)
        self.counts.census = True
        findings.count(self.counts)
        self.progress.end("census")

    def _known_projects(self) -> list[str]:
        with self.store.reading() as conn:
            return project_keys(conn, self.source_id)

    def _has_items(self, project_key: str) -> bool:
        with self.store.reading() as conn:
            return has_project_items(conn, self.source_id, project_key)
