"""The census every connector runs: when it is due, and what it found.

Only a census learns of deletions, moves and lost permissions: a connector lists every id in
scope and confirms each stored item the listing no longer shows. Both the schedule (one stored
cursor, `census`, holding when the last one ran) and the way findings are marked and counted
are the same for every source; what differs is how a source is listed and asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pulse.connectors.base import SyncCounts
from pulse.store import Store, Transaction
from pulse.store.cursors import load_cursor, save_cursor
from pulse.store.items import mark_items
from pulse.store.timestamps import from_text, to_text

CENSUS_STREAM = "census"


@dataclass(frozen=True)
class CensusCursor:
    """When the last census ran (None: never)."""

    last: datetime | None = None

    @classmethod
    def load(cls, store: Store, source_id: int) -> CensusCursor:
        with store.reading() as conn:
            return cls(from_text(load_cursor(conn, source_id, CENSUS_STREAM).get("last")))

    def due(self, now: datetime, every: timedelta) -> bool:
        """Whether `every` has passed since the last census (or there was none)."""
        return self.last is None or now - self.last >= every

    @staticmethod
    def save(conn: Transaction, source_id: int, at: datetime) -> None:
        """Record, in the caller's transaction, that a census ran at `at`."""
        save_cursor(conn, source_id, CENSUS_STREAM, {"last": to_text(at)})


@dataclass
class CensusFindings:
    """Stored items a census found no longer listed, by what became of them (item ids)."""

    deleted: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # deleted or hidden: the source cannot tell
    access_lost: list[str] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)  # left the scope, not read again

    def mark(self, conn: Transaction, source_id: int, at: datetime) -> None:
        """Mark the findings in the store (gone items as deleted), in the caller's
        transaction."""
        mark_items(conn, source_id, self.deleted + self.gone, "deleted", at)
        mark_items(conn, source_id, self.out_of_scope, "out_of_scope", at)
        mark_items(conn, source_id, self.access_lost, "access_lost", at)

    def count(self, counts: SyncCounts) -> None:
        """Add the findings to a sync's counts (an item left the scope counts as moved)."""
        counts.deleted += len(self.deleted)
        counts.gone += len(self.gone)
        counts.moved += len(self.out_of_scope)
        counts.access_lost += len(self.access_lost)
