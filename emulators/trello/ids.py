"""Mongo-ObjectId-style ids, short links and Trello's date formats.

Trello ids are Mongo ObjectIds: the first 8 hex digits are the Unix time of creation, so ids
sort by time. Clients page with them (`before=<oldest id>`), so the emulator must keep that
property exactly: ids are allocated with a strictly increasing counter after the timestamp.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

ID_RE = re.compile(r"^[0-9a-f]{24}$")
SHORTLINK_RE = re.compile(r"^[0-9A-Za-z]{8}$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class IdFactory:
    """Allocates ids that sort by (second, allocation order) and unique 8-char short links."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids-{seed}")
        self._machine = f"{self._rng.getrandbits(40):010x}"
        self._counter = self._rng.getrandbits(20)
        self._short: set[str] = set()

    def new(self, at_ms: int) -> str:
        """A fresh id whose time part is `at_ms` (milliseconds since the epoch)."""
        self._counter += 1
        return f"{at_ms // 1000:08x}{self._machine}{self._counter & 0xFFFFFF:06x}"

    def short_link(self) -> str:
        """A fresh unique short link such as `H0TZyzbK`."""
        while True:
            link = "".join(self._rng.choice(_ALPHABET) for _ in range(8))
            if link not in self._short:
                self._short.add(link)
                return link


def id_seconds(object_id: str) -> int:
    """Creation time (Unix seconds) encoded in an ObjectId."""
    return int(object_id[:8], 16)


def id_floor(at_ms: int) -> str:
    """Smallest possible id created at or after `at_ms`'s second (for date-to-id bounds)."""
    return f"{at_ms // 1000:08x}" + "0" * 16


def to_ms(when: datetime) -> int:
    """Aware datetime to epoch milliseconds."""
    return int(when.timestamp() * 1000)


def from_ms(at_ms: int) -> datetime:
    """Epoch milliseconds to an aware UTC datetime."""
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC)


def iso_ms(at_ms: int) -> str:
    """Trello's date format: `2026-11-20T12:00:00.000Z`."""
    sec, ms = divmod(at_ms, 1000)
    return datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def parse_date_ms(text: str) -> int | None:
    """Parse a date or date-time as Trello accepts them (`YYYY-MM-DD[Thh:mm[:ss[.mmm]]][Z]`)."""
    value = text.strip()
    if not value:
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return to_ms(when)
