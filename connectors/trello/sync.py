"""One sync of one Trello source: boards, then cards and history board by board, then the
census and the roadmap roll-up.

Each board has two streams with their own cursors: `cards:<board>` (every card, listed page by
page) and `actions:<board>` (the action log, newest first, from the last pass's newest action
minus the overlap). Every page is stored with its cursor in one transaction, so a sync killed
at any point resumes where it stopped, and a page read twice writes the same rows twice.

Every sync lists every card, so the census (cards no longer listed: deleted, moved, out of
scope) runs every time; `census_every` sets how often the listings compare every card field by
field instead of trusting Trello's activity stamps (see `cards`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from requests import RequestException
from trello import ResourceUnavailable

from pulse import clock
from pulse.connectors.base import NoProgress, Progress, SyncCounts
from pulse.connectors.http_policy import RequestStats
from pulse.connectors.trello.actions import HistoryWriter, sync_actions
from pulse.connectors.trello.boards import BoardInfo, read_board, resolve_boards
from pulse.connectors.trello.cards import CardWriter, sync_cards
from pulse.connectors.trello.census import run_census
from pulse.connectors.trello.client import RateLimit, TrelloApi, connect, describe_error
from pulse.connectors.trello.normalize import CardRules
from pulse.connectors.trello.roadmap import roll_up
from pulse.settings import TrelloSource
from pulse.store import Store, schema
from pulse.store.writes import delete_missing, load_cursor, save_cursor, update_source, upsert

CENSUS_STREAM = "census"


@dataclass
class TrelloSync:
    """Runs one sync of a Trello source against the store."""

    source: TrelloSource
    store: Store
    source_id: int
    progress: Progress
    stop: threading.Event
    counts: SyncCounts
    rate: RateLimit
    now: Callable[[], datetime]
    rules: CardRules = field(init=False)

    def __post_init__(self) -> None:
        self.rules = CardRules.from_source(
            self.source.fields.points, self.source.roadmap_lists, self.source.fields.blocked_label
        )

    def run(self, full: bool) -> None:
        stats = RequestStats()
        try:
            with _sqlite_kept_open(self.store):
                self._run(connect(self.source, self.rate, stats, self.stop), full)
        except (ResourceUnavailable, RequestException) as exc:
            raise describe_error(self.source, exc) from None
        finally:
            self.counts.requests = stats.requests
            self.counts.retries = stats.retries

    def _run(self, api: TrelloApi, full: bool) -> None:
        boards = self._read_boards(api)
        started = self.now()
        thorough = full or self._census_due(started)
        cards = CardWriter(self.store, self.source_id, self.rules, self.counts, self.now)
        listed_since = {
            board.id: sync_cards(api, cards, board, full, thorough, self.stop, self.progress)
            for board in boards
        }
        names = {board.id: board.name for board in boards}
        history = HistoryWriter(
            self.store, self.source_id, self.rules, names, self.counts, self.now
        )
        overlap = self.source.duration("overlap")
        for board in boards:
            sync_actions(api, history, board, full, overlap, self.stop, self.progress)
        self.progress.begin("census", None)
        census = run_census(api, cards, {b.id: b for b in boards}, listed_since)
        self.progress.end("census")
        self.counts.deleted += len(census.deleted)
        self.counts.moved += len(census.out_of_scope)
        self.counts.access_lost += len(census.access_lost)
        with self.store.transaction() as conn:
            self.counts.extra["roadmap_parents_changed"] = roll_up(conn, self.source_id)
            if thorough:
                save_cursor(conn, self.source_id, CENSUS_STREAM, {"last": started.isoformat()})
        self.counts.census = thorough

    def _census_due(self, now: datetime) -> bool:
        """Whether `census_every` has passed since the last thorough sync (or there was none)."""
        with self.store.engine.connect() as conn:
            last = load_cursor(conn, self.source_id, CENSUS_STREAM).get("last")
        every = self.source.duration("census_every")
        return last is None or now - datetime.fromisoformat(last) >= every

    def _read_boards(self, api: TrelloApi) -> list[BoardInfo]:
        """Resolve the configured boards and store their structure (lists, members)."""
        boards = [read_board(board, roadmap) for board, roadmap in resolve_boards(api, self.source)]
        points = self.source.fields.points
        with self.store.transaction() as conn:
            update_source(
                conn,
                self.source_id,
                deployment="trello",
                fields={
                    "points": points,
                    "points_from": self.rules.points_source,
                    "blocked_label": self.source.fields.blocked_label,
                    "roadmap_boards": sorted(b.name for b in boards if b.roadmap),
                    "roadmap_lists": sorted(self.rules.roadmap_lists),
                },
            )
            upsert(conn, schema.boards, [b.board_row(self.source_id, points) for b in boards])
            for board in boards:
                rows = board.status_rows(self.source_id)
                upsert(conn, schema.statuses, rows)
                delete_missing(
                    conn,
                    schema.statuses,
                    self.source_id,
                    "status_id",
                    [r["status_id"] for r in rows],
                    where=schema.statuses.c.board_id == board.id,
                )
                upsert(conn, schema.people, board.people_rows(self.source_id))
        self.counts.boards = len(boards)
        return boards


@contextmanager
def _sqlite_kept_open(store: Store) -> Iterator[None]:
    """Hold one idle connection to a SQLite store for the whole sync.

    The store opens a connection per transaction; when the last one closes, SQLite checkpoints
    its WAL and drops its cache, which doubled the cost of every page. An idle connection holds
    no lock (no transaction is begun until a statement runs)."""
    if not store.is_sqlite:
        yield
        return
    with store.engine.connect():
        yield


def sync_trello(
    source: TrelloSource,
    store: Store,
    source_id: int,
    full: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    counts: SyncCounts | None = None,
    *,
    rate: RateLimit | None = None,
) -> SyncCounts:
    """Sync one Trello source into the store and return what changed.

    Pass `counts` to keep what was done even when the sync ends in an exception; `rate` is the
    client-side request budget per token (default: 90 per 10 s).
    """
    counts = counts if counts is not None else SyncCounts()
    TrelloSync(
        source=source,
        store=store,
        source_id=source_id,
        progress=progress or NoProgress(),
        stop=stop or threading.Event(),
        counts=counts,
        rate=rate or RateLimit(),
        now=clock.now,
    ).run(full)
    return counts
