"""The connector contract: what the runner gives a connector (a `SyncContext`), what a
connector is (a `Connector`), and what every connector shares: its errors, its counts, and how
it reports progress. `docs/connectors.md` is the recipe built on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from pulse import clock
from pulse.connectors.config import SourceSettings

if TYPE_CHECKING:
    from pulse.store import Store

S = TypeVar("S", bound=SourceSettings)


class SourceError(Exception):
    """A source cannot be synced; the message is one line that names the source."""


class AuthError(SourceError):
    """The source refused our credentials: stop that source at once."""


@dataclass
class SyncCounts:
    """What one sync of one source did, for the summary line and the run history."""

    new: int = 0
    updated: int = 0
    deleted: int = 0
    gone: int = 0  # vanished where the source cannot tell deleted from hidden (Jira)
    moved: int = 0
    access_lost: int = 0
    transitions: int = 0
    sprints: int = 0
    boards: int = 0
    versions: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    census: bool = False
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One readable line: what changed and what it cost."""
        parts = [
            f"{self.new} new",
            f"{self.updated} updated",
            f"{self.deleted} deleted",
            f"{self.moved} moved",
        ]
        if self.gone:
            parts.append(f"{self.gone} gone (deleted or hidden)")
        if self.access_lost:
            parts.append(f"{self.access_lost} access lost")
        parts += [f"{self.transitions} transitions", f"{self.sprints} sprints"]
        parts.append(
            f"{self.requests} requests" + (f" ({self.retries} retried)" if self.retries else "")
        )
        if self.census:
            parts.append("census run")
        return ", ".join(parts)


class Progress(Protocol):
    """Where a connector reports progress; the CLI draws bars, tests and the service log."""

    def begin(self, task: str, total: int | None) -> None: ...

    def advance(self, task: str, amount: int) -> None: ...

    def end(self, task: str) -> None: ...


class NoProgress:
    """Progress that goes nowhere (the scheduler and the library API)."""

    def begin(self, task: str, total: int | None) -> None:
        return

    def advance(self, task: str, amount: int) -> None:
        return

    def end(self, task: str) -> None:
        return


@dataclass
class SyncContext(Generic[S]):
    """One sync of one source: everything a connector needs, and where it reports."""

    source: S
    store: Store
    source_id: int
    full: bool = False  # re-read everything and run the census now
    progress: Progress = field(default_factory=NoProgress)
    stop: threading.Event = field(default_factory=threading.Event)  # checked between pages
    counts: SyncCounts = field(default_factory=SyncCounts)  # kept even when the sync fails
    now: Callable[[], datetime] = clock.now


class Cursor(Protocol):
    """A stream's typed position, stored with the page it covers; only the store sees its
    JSON form."""

    def to_json(self) -> dict[str, Any]: ...


@runtime_checkable
class Connector(Protocol[S]):
    """A kind of source: syncs one configured source of its kind into the store.

    `sync` writes every page with its cursor in one transaction, checks `context.stop` between
    pages (raising `SyncInterrupted`), counts into `context.counts`, and raises `SourceError`
    with one line naming the source when it cannot go on.
    """

    kind: str

    def sync(self, context: SyncContext[S]) -> None: ...
