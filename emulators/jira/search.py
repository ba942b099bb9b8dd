"""Search execution: evaluate JQL against the live world, cache by world version, page it.

There is no snapshot: every page re-reads the current world (the cache is invalidated by any
mutation or clock change), and page tokens encode only an offset, so results that move while a
client pages behave as on an offset-based server — the worst case a client must survive.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import re
import threading
from collections import OrderedDict

from pulse.emulators.jira.jql import BoolOp, JqlError, evaluate, parse
from pulse.emulators.jira.model import World
from pulse.emulators.jira.timefmt import Clock

TOKEN_ERROR = "The provided next page token is invalid or expired."
# A keyset page: `<query> AND id > N ORDER BY id ASC`. Jira answers it from its index; here it is
# the (cached) `<query> ORDER BY id ASC` cut after id N, which is the same result, so a client
# paging by id does not make every page re-evaluate the whole world.
KEYSET = re.compile(r"^(?P<base>.+) AND id > (?P<after>\d+) ORDER BY id ASC$", re.IGNORECASE)


class Searcher:
    """Runs JQL for one world; results are cached per (jql, world version, clock)."""

    def __init__(self, world: World, clock: Clock, cache_size: int = 32) -> None:
        self.world = world
        self.clock = clock
        self._cache: OrderedDict[tuple[str, int, int, bool, bool], tuple[list[int], list[str]]] = (
            OrderedDict()
        )
        self._size = cache_size
        self._lock = threading.Lock()

    def evaluate(self, jql: str, *, cloud: bool, strict: bool = True) -> list[int]:
        """Matching visible issue ids in query order."""
        return self.run(jql, cloud=cloud, strict=strict)[0]

    def run(self, jql: str, *, cloud: bool, strict: bool = True) -> tuple[list[int], list[str]]:
        """Ids in query order plus validation warnings."""
        keyset = KEYSET.match(jql.strip())
        if keyset is not None and _and_joinable(keyset["base"]):
            ids, warnings = self._run(f"{keyset['base']} ORDER BY id ASC", cloud, strict)
            return ids[bisect.bisect_right(ids, int(keyset["after"])) :], warnings
        return self._run(jql, cloud, strict)

    def _run(self, jql: str, cloud: bool, strict: bool) -> tuple[list[int], list[str]]:
        key = (jql, self.world.version, self.clock.now_ms(), strict, cloud)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        with self.world.lock:
            result = evaluate(
                self.world,
                jql,
                self.clock.now_ms(),
                strict=strict,
                max_order_fields=7 if cloud else None,
            )
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return result


def _and_joinable(base: str) -> bool:
    """Whether `base AND id > N` means `(base) AND id > N` (no top-level OR binds looser)."""
    try:
        where = parse(base).where
    except JqlError:
        return False
    return not (isinstance(where, BoolOp) and where.op == "or")


def _digest(jql: str) -> str:
    return hashlib.sha1(jql.encode()).hexdigest()[:10]


def make_token(jql: str, offset: int) -> str:
    """Opaque next-page token: the offset into this query's (snapshot-free) result."""
    raw = json.dumps({"q": _digest(jql), "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(jql: str, token: str) -> int:
    """Offset from a token; JqlError when it was not issued for this query."""
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        if data["q"] != _digest(jql) or int(data["o"]) < 0:
            raise ValueError
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise JqlError(TOKEN_ERROR) from None
