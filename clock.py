"""The one clock Pulse and its tests read: the wall clock, shifted by an environment variable.

Everything that asks "what time is it?" for a date (as-of defaults, run stamps, the emulators'
default worlds) calls :func:`now`. Setting ``PULSE_CLOCK_SHIFT_DAYS`` moves that "now" by whole
days, so the test suite can prove it gives the same verdict on any day (``.ci/run`` runs it a
second time 400 days ahead). Durations (sleeps, timeouts, Retry-After) keep the real clock.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHIFT_ENV = "PULSE_CLOCK_SHIFT_DAYS"


def shift() -> timedelta:
    """How far this process's "now" is moved from the wall clock (zero unless the env says)."""
    raw = os.environ.get(SHIFT_ENV, "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(days=int(raw))
    except ValueError:
        raise ValueError(f"{SHIFT_ENV} must be a whole number of days, not {raw!r}") from None


def now() -> datetime:
    """The current instant as an aware UTC datetime."""
    return datetime.now(UTC) + shift()


def today(tz: str = "UTC") -> date:
    """The current calendar day in the zone `tz`."""
    return now().astimezone(ZoneInfo(tz)).date()


def start_of_day() -> datetime:
    """Midnight UTC of the current day: the emulators' default world ends here, so a world made
    twice in one day is the same world, and the product's "now" is never before it."""
    return now().replace(hour=0, minute=0, second=0, microsecond=0)
