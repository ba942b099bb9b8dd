"""Time helpers: epoch-millisecond arithmetic and Jira's several date-time spellings."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive values are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime of epoch milliseconds."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo."""
    return ZoneInfo(name)


def jira_datetime(ms: int, tz: str) -> str:
    """Jira REST issue timestamp: `2026-11-20T04:00:00.000-0800` in the user's zone."""
    dt = from_ms(ms).astimezone(zone(tz))
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + dt.strftime("%z")


def agile_datetime(ms: int, tz: str | None) -> str:
    """Agile API timestamp: Cloud `...000Z` (tz None) or DC `...000+01:00`."""
    if tz is None:
        return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    dt = from_ms(ms).astimezone(zone(tz))
    return dt.isoformat(timespec="milliseconds")


def local_date(ms: int, tz: str) -> str:
    """The calendar date (yyyy-mm-dd) of an instant in a zone."""
    return from_ms(ms).astimezone(zone(tz)).date().isoformat()


def date_add(day: str, days: int) -> str:
    """Shift a yyyy-mm-dd date by whole days."""
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


class Clock:
    """The emulator's settable "now"; mutations are stamped with it and JQL's now() reads it."""

    def __init__(self, now: datetime) -> None:
        self._ms = to_ms(now)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Current emulated time as an aware UTC datetime."""
        return from_ms(self._ms)

    def now_ms(self) -> int:
        """Current emulated time in epoch milliseconds."""
        return self._ms

    def set(self, now: datetime) -> None:
        """Jump to `now` (may go backwards; callers keep it monotonic if they care)."""
        with self._lock:
            self._ms = to_ms(now)

    def advance(self, delta: timedelta | float = 60.0) -> datetime:
        """Move forward by a timedelta or a number of seconds; returns the new now."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        with self._lock:
            self._ms += int(seconds * 1000)
        return self.now()
