"""The connector registry: every kind of source Pulse can sync, with its settings model.

A connector package defines one `Registration`; listing it in `registrations()` is the only
edit a new connector makes outside its own package. The configuration (`settings.py`) takes
each kind's settings model from here, and the runner its connector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulse.connectors.base import Connector
from pulse.connectors.config import SourceSettings


@dataclass(frozen=True)
class Registration:
    """One kind of source: its `kind` key, its settings model, and how to load its connector
    (imported only when a sync runs, so reading the configuration stays light)."""

    kind: str
    settings: type[SourceSettings]
    load: Callable[[], Connector[Any]]


def registrations() -> tuple[Registration, ...]:
    """Every registered kind of source, in the order the documentation lists them."""
    from pulse.connectors import jira, trello

    return (jira.REGISTRATION, trello.REGISTRATION)


def connector_for(kind: str) -> Connector[Any]:
    """The connector that syncs sources of this kind."""
    for registration in registrations():
        if registration.kind == kind:
            return registration.load()
    raise KeyError(f"no connector registered for kind {kind!r}")
