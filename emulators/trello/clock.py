"""The emulator's settable clock: mutations are stamped with `pulse.clock.now`."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from .ids import from_ms, to_ms


class Clock:
    """A frozen, settable 'now' for mutation timestamps (tests move it explicitly)."""

    def __init__(self, start: datetime) -> None:
        self._ms = to_ms(start)
        self._lock = threading.Lock()

    @property
    def now(self) -> datetime:
        """The current emulated time (aware UTC)."""
        return from_ms(self._ms)

    @now.setter
    def now(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        with self._lock:
            self._ms = to_ms(when)

    def set(self, when: datetime) -> None:
        """Set the emulated time."""
        self.now = when

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by `delta` (or timedelta(**kwargs)) and return the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._ms += int(step.total_seconds() * 1000)
        return self.now

    def now_ms(self) -> int:
        """The current emulated time in epoch milliseconds."""
        return self._ms
