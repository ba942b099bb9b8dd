"""TrelloSpec: every knob of the Trello emulator in one frozen dataclass."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pulse import clock


def _derived(seed: int, what: str, length: int) -> str:
    """Deterministic hex credential derived from the seed, so runs are reproducible."""
    digest = hashlib.sha256(f"pulse-trello-{what}-{seed}".encode()).hexdigest()
    return (digest * 2)[:length]


@dataclass(frozen=True)
class TrelloSpec:
    """What the emulated Trello organisation looks like and how the API behaves.

    `cards` is the number of cards generated on the open boards (copies and conversions
    included); `boards` counts open boards: with 2 or more the first is the roadmap board.
    Rate limits follow Trello's documentation: `token_limit` requests per `rate_window_s`
    per token and `key_limit` per key; `rate_window` chooses a sliding log or fixed windows.
    """

    seed: int = 7
    boards: int = 3
    cards: int = 400
    now: datetime = field(default_factory=clock.last_noon)
    history_days: int = 182
    actions_per_card: float = 10.0
    members: int = 8
    archived_boards: int = 1
    adversarial: bool = True
    jira_base_url: str = "https://acme.atlassian.net"
    jira_projects: tuple[str, ...] = ("WEB", "APP", "MKT")
    key: str | None = None
    token: str | None = None
    extra_tokens: int = 0
    rate_limits: bool = True
    rate_window_s: float = 10.0
    token_limit: int = 100
    key_limit: int = 300
    rate_window: Literal["sliding", "fixed"] = "sliding"
    key_lockout_429s: int = 200
    members_limit: int = 100
    members_window_s: float = 900.0
    max_limit: int = 1000

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("TrelloSpec.now must be timezone-aware")
        if self.cards < 0 or self.boards < 1:
            raise ValueError("TrelloSpec needs boards >= 1 and cards >= 0")

    @property
    def api_key(self) -> str:
        """The API key clients must send (32 hex digits like Trello's)."""
        return self.key or _derived(self.seed, "key", 32)

    @property
    def api_tokens(self) -> tuple[str, ...]:
        """All user tokens accepted, the main one first (ATTA + 64 hex like Trello's)."""
        main = self.token or "ATTA" + _derived(self.seed, "token", 64)
        extra = tuple(
            "ATTA" + _derived(self.seed, f"token-{i}", 64) for i in range(1, self.extra_tokens + 1)
        )
        return (main, *extra)
