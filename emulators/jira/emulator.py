"""JiraEmulator: one generated world served over real HTTP, with its truth, clock and faults."""

from __future__ import annotations

import hashlib

from pulse.emulators.http import EmulatorServer, FaultPlan, RequestLog
from pulse.emulators.jira.app import JiraApp, Limits
from pulse.emulators.jira.catalog import FLAVOURS, Flavour
from pulse.emulators.jira.mutations import Mutator
from pulse.emulators.jira.org import OrgSpec, generate
from pulse.emulators.jira.search import Searcher
from pulse.emulators.jira.timefmt import Clock
from pulse.emulators.jira.truth import Truth


class JiraEmulator:
    """A deterministic Jira Cloud or Data Center site.

    `credentials` is what a client authenticates with: Cloud `(email, api_token)` for Basic
    auth; DC a personal access token (Bearer). `basic_auth` is the Basic pair for either flavour
    (DC: user name and password). `mutate` changes the world as a Jira user would; `clock` is
    the emulated now stamped on those changes; `truth` is what a correct sync must arrive at.
    """

    def __init__(
        self,
        spec: OrgSpec | None = None,
        flavour: Flavour = "cloud",
        *,
        faults: FaultPlan | None = None,
        requests: RequestLog | None = None,
        limits: Limits | None = None,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, not {flavour!r}")
        self.spec = spec if spec is not None else OrgSpec()
        self.flavour: Flavour = flavour
        self.world = generate(self.spec, flavour)
        self.clock = Clock(self.spec.now)
        self.faults = faults if faults is not None else FaultPlan()
        self.requests = requests if requests is not None else RequestLog()
        self.limits = (
            limits if limits is not None else Limits.for_flavour(flavour, self.spec.dc_max_results)
        )
        self.mutate = Mutator(self.world, self.clock)
        self.search = Searcher(self.world, self.clock)
        self.truth = Truth(
            self.world, self.clock, self.limits.search_page, self.limits.search_page_id_only
        )
        secret = hashlib.sha256(f"pulse-jira:{self.spec.seed}:{flavour}".encode()).hexdigest()
        me = self.world.users[self.world.me]
        if flavour == "cloud":
            self.basic_auth: tuple[str, str] = (me.email, f"token-{secret[:24]}")
            self.pat: str | None = None
        else:
            self.basic_auth = (me.name, f"password-{secret[:12]}")
            self.pat = f"pat-{secret[24:56]}"
        self.app = JiraApp(self)

    @property
    def credentials(self) -> tuple[str, str] | str:
        """Cloud: (email, API token) for Basic auth. DC: the personal access token (Bearer)."""
        if self.pat is not None:
            return self.pat
        return self.basic_auth

    @property
    def user_timezone(self) -> str:
        """The searching user's profile zone (what /myself returns and JQL dates use)."""
        return self.world.user_timezone

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """An (unstarted) loopback server for this emulator; use it as a context manager."""
        return EmulatorServer(
            self.app, host=host, port=port, faults=self.faults, requests=self.requests
        )
