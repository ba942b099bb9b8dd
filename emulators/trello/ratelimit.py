"""Trello's documented rate limits: per token and per API key, over a (configurable) window.

Defaults are Trello's: 100 requests / 10 s per token, 300 / 10 s per key, and 100 / 900 s for
the top-level `/1/members/<id>` route (nested routes such as `/1/members/me/boards` are not
counted there). A 429 carries `{"error": "API_TOKEN_LIMIT_EXCEEDED" | "API_KEY_LIMIT_EXCEEDED",
"message": "Rate limit exceeded"}` and no Retry-After. When a key collects more than 200 429s
within a window, every request with that key is refused until they age out, as documented.
Rejected requests do not use up the allowance.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

TOKEN_EXCEEDED = "API_TOKEN_LIMIT_EXCEEDED"
KEY_EXCEEDED = "API_KEY_LIMIT_EXCEEDED"


@dataclass
class _Window:
    """Request times in the sliding window, or the current fixed window (index, count)."""

    times: deque[float] = field(default_factory=deque)
    fixed_index: int = -1
    fixed_count: int = 0


class RateLimiter:
    """Decides whether a request may go through; counts every refusal in `hits`."""

    def __init__(
        self,
        window_s: float = 10.0,
        token_limit: int = 100,
        key_limit: int = 300,
        kind: Literal["sliding", "fixed"] = "sliding",
        lockout_429s: int = 200,
        members_limit: int = 100,
        members_window_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.token_limit = token_limit
        self.key_limit = key_limit
        self.kind = kind
        self.lockout_429s = lockout_429s
        self.members_limit = members_limit
        self.members_window_s = members_window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._rejections: dict[str, deque[float]] = {}
        self.hits = 0
        self.hits_by_error: dict[str, int] = {TOKEN_EXCEEDED: 0, KEY_EXCEEDED: 0}

    def reset(self) -> None:
        """Forget all request history (counters of past 429s are kept)."""
        with self._lock:
            self._windows.clear()
            self._rejections.clear()

    def check(self, key: str, token: str, members_route: bool = False) -> str | None:
        """Admit a request (returning None) or return the 429 error code to send."""
        now = self._clock()
        with self._lock:
            error = self._decide(key, token, members_route, now)
            if error is None:
                self._add(("token", token), now, self.window_s)
                self._add(("key", key), now, self.window_s)
                if members_route:
                    self._add(("members", token), now, self.members_window_s)
                return None
            self.hits += 1
            self.hits_by_error[error] = self.hits_by_error.get(error, 0) + 1
            rejections = self._rejections.setdefault(key, deque())
            rejections.append(now)
            return error

    def _decide(self, key: str, token: str, members_route: bool, now: float) -> str | None:
        rejections = self._rejections.get(key)
        if rejections is not None:
            while rejections and rejections[0] <= now - self.window_s:
                rejections.popleft()
            if len(rejections) > self.lockout_429s:
                return KEY_EXCEEDED
        if self._count(("token", token), now, self.window_s) >= self.token_limit:
            return TOKEN_EXCEEDED
        if self._count(("key", key), now, self.window_s) >= self.key_limit:
            return KEY_EXCEEDED
        if members_route and (
            self._count(("members", token), now, self.members_window_s) >= self.members_limit
        ):
            return TOKEN_EXCEEDED
        return None

    def _count(self, who: tuple[str, str], now: float, window: float) -> int:
        state = self._windows.get(who)
        if state is None:
            return 0
        if self.kind == "fixed":
            return state.fixed_count if state.fixed_index == int(now // window) else 0
        times = state.times
        while times and times[0] <= now - window:
            times.popleft()
        return len(times)

    def _add(self, who: tuple[str, str], now: float, window: float) -> None:
        state = self._windows.setdefault(who, _Window())
        if self.kind == "fixed":
            index = int(now // window)
            if state.fixed_index != index:
                state.fixed_index, state.fixed_count = index, 0
            state.fixed_count += 1
        else:
            state.times.append(now)
