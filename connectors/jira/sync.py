"""One sync of one Jira source: structures, then issues stream by stream, then the census.

Each project (and the optional JQL filter) is a stream with its own cursor. A pass reads
`updated >= last pass start − overlap` in keyset pages (`id > last id read`, in id order), so
issues entering or leaving the result during the pass never shift another past us; every page is
stored with its checkpoint in one transaction, so a killed sync resumes after the last id it
stored, and the next window starts at this pass's start (server time), so anything updated
while we read is read again next time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jira import JIRAError
from requests import RequestException
from sqlalchemy import select, update

from pulse import clock
from pulse.connectors.base import NoProgress, Progress, SourceError, SyncCounts
from pulse.connectors.http_policy import HttpPolicy, RequestStats, SyncInterrupted
from pulse.connectors.jira.agile import read_agile
from pulse.connectors.jira.census import CensusScope, listing, run_census
from pulse.connectors.jira.client import JiraSite, connect, describe_error
from pulse.connectors.jira.fields import FieldMap, discover_fields
from pulse.connectors.jira.pages import PageWriter
from pulse.connectors.jira.prefetch import fetched_pages
from pulse.connectors.jira.search import approximate_count, window_where
from pulse.settings import JiraSource
from pulse.store import Store, schema
from pulse.store.writes import delete_missing, load_cursor, save_cursor, update_source, upsert

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
CENSUS_STREAM = "census"


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


@dataclass
class JiraSync:
    """Runs one sync of a Jira source against the store."""

    source: JiraSource
    store: Store
    source_id: int
    progress: Progress
    stop: threading.Event
    counts: SyncCounts
    now: Callable[[], datetime]
    # When the earliest pass whose pages this sync stored began (server time).
    passes_began: datetime | None = None

    def run(self, full: bool) -> None:
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
        projects = schema.projects
        with self.store.engine.connect() as conn:
            was_hidden = {
                str(k)
                for (k,) in conn.execute(
                    select(projects.c.key)
                    .where(projects.c.source_id == self.source_id)
                    .where(projects.c.accessible.is_(False))
                )
            }
        for key in rows.inaccessible:
            if key in self.source.projects and not self._has_items(key):
                raise SourceError(
                    f"{self.source.name}: project {key} not found or not visible to this user "
                    "(config sources.projects)"
                )
        hidden = set(rows.inaccessible)
        with self.store.transaction() as conn:
            upsert(conn, schema.projects, rows.projects)
            if hidden:
                items = schema.items
                conn.execute(
                    update(projects)
                    .where(projects.c.source_id == self.source_id)
                    .where(projects.c.key.in_(sorted(hidden)))
                    .values(accessible=False)
                )
                marked = conn.execute(
                    update(items)
                    .where(items.c.source_id == self.source_id)
                    .where(items.c.project_key.in_(sorted(hidden)))
                    .where(items.c.access_lost_at.is_(None), items.c.deleted_at.is_(None))
                    .values(access_lost_at=self.now())
                )
                self.counts.access_lost += marked.rowcount
            upsert(conn, schema.boards, rows.boards)
            upsert(conn, schema.sprints, rows.sprints)
            upsert(conn, schema.versions, rows.versions)
            board_ids = [row["board_id"] for row in rows.boards]
            delete_missing(
                conn,
                schema.sprints,
                self.source_id,
                "sprint_id",
                [r["sprint_id"] for r in rows.sprints],
                where=schema.sprints.c.board_id.in_(board_ids),
            )
        self.counts.sprints = len(rows.sprints)
        self.counts.boards = len(rows.boards)
        self.counts.versions = len(rows.versions)
        return hidden, was_hidden - hidden

    def _sync_stream(
        self, site: JiraSite, writer: PageWriter, stream: Stream, wanted: list[str], full: bool
    ) -> None:
        with self.store.engine.connect() as conn:
            state = load_cursor(conn, self.source_id, stream.name)
        current = None if full else state.get("pass")
        if current is None or "after_id" not in current:  # none, or written by offset paging
            since = None if full else state.get("since")
            current = {
                "since": since,
                "started": site.server_time.astimezone(UTC).isoformat(),
                "after_id": None,
            }
        overlap = self.source.duration("overlap")
        since_at = _parse(current["since"])
        where = window_where(
            stream.scope,
            site.user_zone,
            updated_since=None if since_at is None else since_at - overlap,
        )
        # The count is for a progress bar only: nobody watching, no query.
        shown = not isinstance(self.progress, NoProgress)
        self.progress.begin(stream.label, approximate_count(site, where) if shown else None)
        began = _parse(current["started"])
        if began is not None and (self.passes_began is None or began < self.passes_began):
            self.passes_began = began
        pages = fetched_pages(
            site, where, wanted, self.source.page_size, self.stop, after_id=current["after_id"]
        )
        for page in pages:
            if page.total is not None and page.after_id is None:
                self.progress.begin(stream.label, page.total)
            current = {**current, "after_id": page.next}
            cursor_state: dict[str, Any] = (
                {"since": current["started"], "pass": None}
                if page.next is None
                else {"since": state.get("since"), "pass": current}
            )
            writer.write(page.issues, page.histories, cursor=(stream.name, cursor_state))
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
        with self.store.engine.connect() as conn:
            state = load_cursor(conn, self.source_id, CENSUS_STREAM)
        last = _parse(state.get("last"))
        due = last is None or server_time - last >= self.source.duration("census_every")
        if not (full or due):
            return
        self.progress.begin("census", None)
        scope = CensusScope(
            scopes=[s.scope for s in streams_for(self.source) if s.label not in hidden],
            projects=frozenset(self.source.projects),
            filtered=self.source.jql is not None,
        )
        # Everything changed since the previous census (or, at the first, since our passes
        # began reading) is compared by `updated`: consecutive censuses leave no gap.
        checked_from = last or self.passes_began or server_time
        changed_since = checked_from - self.source.duration("overlap")
        result = run_census(writer, scope, wanted, listing(writer, scope.scopes, changed_since))
        with self.store.transaction() as conn:
            save_cursor(
                conn,
                self.source_id,
                CENSUS_STREAM,
                {"last": server_time.astimezone(UTC).isoformat()},
            )
        self.counts.census = True
        self.counts.gone += len(result.gone)
        self.counts.access_lost += len(result.access_lost)
        self.progress.end("census")

    def _known_projects(self) -> list[str]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(schema.items.c.project_key)
                .where(schema.items.c.source_id == self.source_id)
                .distinct()
            )
            return sorted(str(r[0]) for r in rows if r[0])

    def _has_items(self, project_key: str) -> bool:
        with self.store.engine.connect() as conn:
            return (
                conn.execute(
                    select(schema.items.c.item_id)
                    .where(schema.items.c.source_id == self.source_id)
                    .where(schema.items.c.project_key == project_key)
                    .limit(1)
                ).first()
                is not None
            )


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def sync_jira(
    source: JiraSource,
    store: Store,
    source_id: int,
    full: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    counts: SyncCounts | None = None,
) -> SyncCounts:
    """Sync one Jira source into the store and return what changed.

    Pass `counts` to keep what was done even when the sync ends in an exception.
    """
    counts = counts if counts is not None else SyncCounts()
    JiraSync(
        source=source,
        store=store,
        source_id=source_id,
        progress=progress or NoProgress(),
        stop=stop or threading.Event(),
        counts=counts,
        now=clock.now,
    ).run(full)
    return counts
