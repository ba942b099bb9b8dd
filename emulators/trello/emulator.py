"""TrelloEmulator: generates the organisation, keeps ground truth, serves the REST API."""

from __future__ import annotations

import gc
import random
import threading
from dataclasses import dataclass, field

from pulse.emulators.http import EmulatorServer, Fault, FaultPlan, RequestLog

from .app import TrelloApp
from .clock import Clock
from .config import TrelloSpec
from .history import HistoryGenerator
from .ids import IdFactory
from .model import World
from .mutations import Mutator
from .ops import Ops
from .org import build_org
from .ratelimit import KEY_EXCEEDED, TOKEN_EXCEEDED, RateLimiter
from .truth import Truth


@dataclass
class TrelloFaultPlan(FaultPlan):
    """A FaultPlan that also counts the 429s it makes the server send."""

    injected_429s: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, path: str) -> Fault | None:
        """Consume the fault for this request, counting it when it answers 429."""
        fault = super().take(path)
        if fault is not None and (
            fault.kind == "rate_limit" or (fault.kind == "server_error" and fault.status == 429)
        ):
            with self._count_lock:
                self.injected_429s += 1
        return fault


class TrelloEmulator:
    """An emulated Trello: deterministic boards and six months of history, served over HTTP.

    `truth` is what the emulator did; `mutate` changes things live (stamped with `clock`);
    `faults`/`requests` are handed to every server started with `serve()`.
    """

    def __init__(self, spec: TrelloSpec | None = None) -> None:
        self.spec = spec or TrelloSpec()
        self.key = self.spec.api_key
        self.tokens = self.spec.api_tokens
        self.token = self.tokens[0]
        self.world = World(ids=IdFactory(self.spec.seed))
        self.truth = Truth()
        self.ops = Ops(self.world, self.truth, self.spec.jira_base_url)
        rng = random.Random(f"org-{self.spec.seed}")
        # Generation allocates hundreds of thousands of acyclic objects: the cyclic GC would
        # rescan them over and over (quadratic time), so it is paused meanwhile.
        gc_enabled = gc.isenabled()
        gc.disable()
        try:
            with self.world.lock:
                self.org = build_org(self.spec, self.world, self.ops, rng)
                HistoryGenerator(self.spec, self.org, self.ops, rng).run()
        finally:
            if gc_enabled:
                gc.enable()
        self.clock = Clock(self.spec.now)
        self.mutate = Mutator(self.world, self.ops, self.clock)
        self.faults = TrelloFaultPlan()
        self.requests = RequestLog()
        self.rate_limiter: RateLimiter | None = None
        if self.spec.rate_limits:
            self.rate_limiter = RateLimiter(
                window_s=self.spec.rate_window_s,
                token_limit=self.spec.token_limit,
                key_limit=self.spec.key_limit,
                kind=self.spec.rate_window,
                lockout_429s=self.spec.key_lockout_429s,
                members_limit=self.spec.members_limit,
                members_window_s=self.spec.members_window_s,
            )
        self.app = TrelloApp(
            self.world,
            self.mutate,
            self.rate_limiter,
            self.faults,
            self.requests,
            self.key,
            self.tokens,
            self.spec.max_limit,
        )

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """A loopback server for this emulator (use it as a context manager)."""
        return EmulatorServer(
            self.app, host=host, port=port, faults=self.faults, requests=self.requests
        )

    @property
    def me_id(self) -> str:
        """The member id of the token owner (`/1/members/me`)."""
        return self.world.me_id

    @property
    def rate_limit_hits(self) -> int:
        """Every 429 this emulator ever sent: its own rate limiting plus injected faults."""
        own = self.rate_limiter.hits if self.rate_limiter is not None else 0
        return own + self.faults.injected_429s

    def board_id(self, name: str) -> str:
        """A board's id by name."""
        return self.truth.board(name).id

    def list_id(self, board: str, name: str) -> str:
        """A list's id by board (name or id) and list name."""
        return self.truth.board(board).list_by_name(name).id

    @staticmethod
    def rate_limit_fault(
        count: int = 1, path: str = "", error: str = TOKEN_EXCEEDED, after: int = 0
    ) -> Fault:
        """A fault that answers exactly like Trello's rate limiter (429, JSON body, no
        Retry-After); inject it with `emu.faults.inject(...)`."""
        if error not in (TOKEN_EXCEEDED, KEY_EXCEEDED):
            raise ValueError(error)
        return Fault(
            kind="rate_limit",
            count=count,
            path=path,
            retry_after=None,
            body={"error": error, "message": "Rate limit exceeded"},
            after=after,
        )
