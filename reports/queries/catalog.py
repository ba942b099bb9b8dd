"""What a question's filters and keys are checked against: small store reads, no pandas.

Sources, projects (with the team that owns each, from the settings), versions
(:mod:`pulse.store.catalog`), and the item a key names at as_of (:mod:`pulse.store.item_reads`).
Kept light
so a question answered from the stored analysis imports and reads as little as possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulse.settings import Settings
from pulse.store.catalog import item_projects, source_names, version_names

from .errors import QueryError, unknown

if TYPE_CHECKING:
    from pulse.store.sql import Conn

ROADMAP_TYPES: tuple[str, ...] = ("Epic", "Roadmap")  # reports.metrics.roadmap.ROADMAP_TYPES


def team_of(settings: Settings, source: str, project: str) -> str:
    """The team owning a project (Jira) or board (Trello) of a source, as the settings map it."""
    for configured in settings.sources:
        if configured.name == source:
            return configured.team_for(project)
    return project


def is_roadmap_type(value: Any) -> bool:
    """An epic or a Trello roadmap card (case-insensitive)."""
    return str(value or "").casefold() in {t.casefold() for t in ROADMAP_TYPES}


@dataclass(frozen=True)
class Catalog:
    """Sources by id, every (source, project, team) the items use, and every version."""

    sources: dict[int, str]
    projects: list[tuple[str, str, str]]  # source, project, team
    versions: list[tuple[str, int, str, str, str]]  # source, source id, version id, project, name

    @property
    def source_ids(self) -> dict[str, int]:
        return {n: i for i, n in self.sources.items()}


def read_catalog(conn: Conn, settings: Settings) -> Catalog:
    """Sources, projects with their teams, and versions, as stored now."""
    src = source_names(conn)
    projects = [
        (src[s], p, team_of(settings, src[s], p)) for s, p in item_projects(conn) if s in src
    ]
    versions = [(src.get(s, ""), s, i, p, n) for s, i, p, n in version_names(conn)]
    return Catalog(src, sorted(set(projects)), versions)


def source_id_of(conn: Conn, source: str | None) -> int | None:
    """The stored id of a configured source named by --source (None: any source)."""
    if source is None:
        return None
    names = {n: i for i, n in source_names(conn).items()}
    if source not in names:
        raise unknown("source", source, sorted(names))
    return names[source]


def one_source(conn: Conn, key: str, source_ids: list[int]) -> None:
    """Refuse a key that names items in several sources (two Jira sites may both have WEB-1):
    the QueryError names them and asks for --source."""
    if len(set(source_ids)) < 2:
        return
    names = source_names(conn)
    ask_source(key, [str(names.get(i, i)) for i in sorted(set(source_ids))])


def ask_source(what: str, sources: list[str]) -> None:
    """QueryError when `what` (a key, a project, a version) is in several sources."""
    distinct = list(dict.fromkeys(sources))
    if len(distinct) > 1:
        raise QueryError(f"{what} is in {' and '.join(distinct)}; say which with --source")


__all__ = [
    "ROADMAP_TYPES",
    "Catalog",
    "ask_source",
    "is_roadmap_type",
    "one_source",
    "read_catalog",
    "source_id_of",
    "team_of",
]
