"""A running Jira emulator plus matching Pulse settings, for the sync tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from pulse.emulators.http import EmulatorServer
from pulse.emulators.jira import JiraEmulator, OrgSpec
from pulse.settings import JiraSource

SEARCH_PATHS = ("/rest/api/2/search", "/rest/api/3/search/jql")


@dataclass
class SearchHook:
    """WSGI wrapper over the emulator: after the n-th issue search (with changelogs) is answered
    and before the client can ask for the next page, change the world as a user would.

    The action gets the ids of the page just served, so a test can remove one of them while
    the client is between pages.
    """

    app: Callable[..., Iterable[bytes]]
    actions: dict[int, Callable[[list[str]], None]] = field(default_factory=dict)
    searches: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = b"".join(self.app(environ, start_response))
        if environ.get("PATH_INFO") not in SEARCH_PATHS:
            return [body]
        issues = json.loads(body).get("issues") or []
        if any("changelog" in issue for issue in issues):
            with self._lock:
                self.searches += 1
                action = self.actions.pop(self.searches, None)
            if action is not None:
                action([str(issue["id"]) for issue in issues])
        return [body]


@dataclass
class JiraWorld:
    """An emulator being served, and a source configured to read it."""

    emu: JiraEmulator
    server: EmulatorServer
    source: JiraSource
    hook: SearchHook

    def with_source(self, **changes: Any) -> JiraSource:
        return self.source.model_copy(update=changes)


def source_for(emu: JiraEmulator, url: str, **extra: Any) -> JiraSource:
    """A Jira source that authenticates to the emulator the way a real user would."""
    if emu.flavour == "cloud":
        user, token = emu.credentials
        auth: dict[str, Any] = {"auth": "basic", "user": user, "token": SecretStr(token)}
    else:
        auth = {"auth": "bearer", "token": SecretStr(emu.pat)}
    return JiraSource.model_validate(
        {
            "name": f"jira-{emu.flavour}",
            "kind": "jira",
            "url": url,
            "projects": sorted(p.key for p in emu.world.projects.values()),
            "max_retry_time": "20s",
            "timeout": "10s",
            **auth,
            **extra,
        }
    )


@contextmanager
def jira_world(flavour: str = "cloud", **spec: Any) -> Iterator[JiraWorld]:
    """Serve a small deterministic organisation for one test."""
    emu = JiraEmulator(spec=OrgSpec(**spec), flavour=flavour)
    hook = SearchHook(emu.app)
    with EmulatorServer(hook, faults=emu.faults, requests=emu.requests) as server:
        yield JiraWorld(emu, server, source_for(emu, server.url), hook)


def plain_issues(world: JiraWorld, project: str) -> list[str]:
    """Ids of a project's issues that can be deleted or moved alone (no epics, no subtasks)."""
    emu = world.emu
    return sorted(
        (
            i.id
            for i in emu.truth.issues.values()
            if i.project == project
            and i.type not in ("Epic", "Sub-task")
            and not emu.world.children.get(int(i.id))
        ),
        key=int,
    )
