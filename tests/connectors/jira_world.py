"""A running Jira emulator plus matching Pulse settings, for the sync tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from emulators.http import EmulatorServer
from emulators.jira import JiraEmulator, OrgSpec
from settings import JiraSource


@dataclass
class JiraWorld:
    """An emulator being served, and a source configured to read it."""

    emu: JiraEmulator
    server: EmulatorServer
    source: JiraSource

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
    with emu.serve() as server:
        yield JiraWorld(emu, server, source_for(emu, server.url))
