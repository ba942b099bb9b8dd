"""Names typed on the command line matched case-insensitively where that is unambiguous:
`pulse show api-134`, `pulse risk --team web`, `pulse forecast release-2026.12`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pulse.store.names import keys_and_versions_named

if TYPE_CHECKING:
    from pulse.reports.queries.catalog import Catalog
    from pulse.settings import Settings
    from pulse.store import Store


def canonical(value: str | None, candidates: Iterable[str]) -> str | None:
    """``value`` as spelled in ``candidates``: itself when present, else the one candidate equal
    to it ignoring case; unchanged when none or several are (the question then says so)."""
    if value is None:
        return None
    known = set(candidates)
    if value in known:
        return value
    folded = {c for c in known if c.casefold() == value.casefold()}
    return folded.pop() if len(folded) == 1 else value


def key_names(store: Store, value: str) -> set[str]:
    """Item keys and version names equal to ``value`` ignoring case."""
    return keys_and_versions_named(store, value)


def canonical_key(store: Store, value: str) -> str:
    """An item key or version name as stored (`api-134` -> `API-134`) when unambiguous."""
    return canonical(value, key_names(store, value)) or value


def catalog(store: Store, settings: Settings) -> Catalog:
    """The stored sources, projects (boards) with their teams, and versions."""
    from pulse.reports.queries.catalog import read_catalog

    with store.reads() as conn:
        return read_catalog(conn, settings)
