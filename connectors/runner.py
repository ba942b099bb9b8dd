"""Run syncs: register each source, record the run in the history, and contain failures.

One source failing (bad credentials, dead server) never stops the others, and never leaves a
half-written page: every page is its own transaction, so the store holds exactly what was
committed before the failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pulse.connectors.base import NoProgress, Progress, SourceError, SyncCounts
from pulse.connectors.http_policy import SyncInterrupted
from pulse.settings import JiraSource, TrelloSource
from pulse.store import Store
from pulse.store.writes import finish_run, register_source, start_run

log = logging.getLogger(__name__)


@dataclass
class SourceResult:
    """The outcome of syncing one source."""

    source: str
    status: str  # ok | failed | interrupted
    counts: SyncCounts
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        """The summary line a user reads at the end of `pulse sync`."""
        if self.status == "ok":
            return f"{self.source}: {self.counts.summary()} in {self.seconds:.1f}s"
        reason = (self.error or "").removeprefix(f"{self.source}: ")
        return f"{self.source}: {self.status}: {reason}"


def sync_source(
    source: JiraSource | TrelloSource,
    store: Store,
    full: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    trigger: str = "cli",
) -> SourceResult:
    """Sync one source and record the run; failures are returned, not raised."""
    progress = progress or NoProgress()
    stop = stop or threading.Event()
    with store.transaction() as conn:
        url = source.url
        source_id = register_source(conn, source.name, source.kind, url)
        run_id = start_run(conn, source_id, "sync", trigger, full)
    started = time.monotonic()
    counts = SyncCounts()
    status, error = "ok", None
    try:
        _connector(source)(source, store, source_id, full, progress, stop, counts)
    except SyncInterrupted as exc:
        status, error = "interrupted", str(exc)
    except SourceError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # unexpected: record it, then let the caller see the traceback
        with store.transaction() as conn:
            finish_run(
                conn,
                run_id,
                "failed",
                counts.as_dict(),
                counts.requests,
                f"{type(exc).__name__}: {exc}",
            )
        raise
    seconds = time.monotonic() - started
    with store.transaction() as conn:
        finish_run(conn, run_id, status, counts.as_dict(), counts.requests, error)
    result = SourceResult(source.name, status, counts, seconds, error)
    log.info("sync %s", result.line())
    return result


def _connector(source: JiraSource | TrelloSource) -> Callable[..., SyncCounts]:
    if isinstance(source, JiraSource):
        from pulse.connectors.jira import sync_jira

        return sync_jira
    from pulse.connectors.trello import sync_trello

    return sync_trello
