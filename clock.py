"""The one clock Pulse and its tests read: the wall clock, shifted by an environment variable.

Everything that asks "what time is it?" for a date (as-of defaults, run stamps, the emulators'
default worlds) calls :func:`now`. Setting ``PULSE_CLOCK_SHIFT_DAYS`` moves that "now" by whole
days, so the test suite can prove it gives the same verdict on any day (``.ci/run`` runs it a
second time 400 days ahead). Durations (sleeps, timeouts, Retry-After) keep the real clock.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

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


def last_noon() -> datetime:
    """The latest 12:00 UTC at or before now: where the emulators' default worlds end.

    Mid-day in Los Angeles and Berlin alike (no day boundary near it), never in the future, and
    the same instant for 24 hours, so a world made twice in one run is the same world.
    """
    moment = now()
    noon = moment.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= moment else noon - timedelta(days=1)


def to_wall(instant: datetime) -> datetime:
    """The wall-clock instant of a Pulse instant, for a library on real time (APScheduler)."""
    return instant - shift()


def from_wall(instant: datetime) -> datetime:
    """The Pulse instant of a wall-clock one that such a library reports."""
    return instant + shift()
