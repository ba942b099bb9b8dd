"""What every connector shares: its errors, its counts, and how it reports progress."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


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
