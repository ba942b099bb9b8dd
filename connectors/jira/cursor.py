"""Where a Jira stream stopped: the start of its last complete pass, and the pass under way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pulse.store.timestamps import from_text, to_text


@dataclass(frozen=True)
class Pass:
    """A pass under way: its window start, when it began (server time), the last id stored."""

    since: datetime | None
    started: datetime
    after_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        since = None if self.since is None else to_text(self.since)
        return {"since": since, "started": to_text(self.started), "after_id": self.after_id}


@dataclass(frozen=True)
class IssuesCursor:
    """A stream's cursor: `since` starts the next window; `current` resumes a killed pass."""

    since: datetime | None = None
    current: Pass | None = None

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> IssuesCursor:
        """Read a stored cursor; a pass stored by offset paging (no `after_id`) is dropped."""
        current = state.get("pass")
        resumable = isinstance(current, dict) and "after_id" in current
        return cls(
            since=from_text(state.get("since")),
            current=Pass(
                since=from_text(current["since"]),
                started=datetime.fromisoformat(current["started"]),
                after_id=current["after_id"],
            )
            if resumable and current is not None
            else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else to_text(self.since),
            "pass": None if self.current is None else self.current.to_json(),
        }
