"""What a question's filters and keys are checked against: small SQL reads, no pandas.

Sources, projects (with the team that owns each, from the settings), versions, and the item
a key names at as_of. Kept light so a question answered from the stored analysis imports and
reads as little as possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from pulse.settings import Settings
from pulse.store import schema

from .errors import QueryError, unknown

I = schema.items  # noqa: E741
ROADMAP_TYPES: tuple[str, ...] = ("Epic", "Roadmap")  # reports.metrics.roadmap.ROADMAP_TYPES


def team_of(settings: Settings, source: str, project: str) -> str:
    """The team owning a project (Jira) or board (Trello) of a source, as the settings map it."""
    for configured in settings.sources:
        if configured.name == source:
            return configured.team_for(project)
    return project


def alive(as_of: datetime) -> Any:
    """SQL condition: the item existed at as_of (created by then, not gone before)."""
    gone = func.coalesce(I.c.deleted_at, I.c.access_lost_at, I.c.out_of_scope_at)
    return and_(I.c.created <= as_of, or_(gone.is_(None), gone > as_of))


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


def read_catalog(conn: Connection, settings: Settings) -> Catalog:
    """Sources, projects with their teams, and versions, as stored now."""
    src = {
        int(i): str(n) for i, n in conn.execute(select(schema.sources.c.id, schema.sources.c.name))
    }
    rows = conn.execute(select(I.c.source_id, func.coalesce(I.c.project_key, "")).distinct()).all()
    projects = [
        (src[int(s)], str(p), team_of(settings, src[int(s)], str(p)))
        for s, p in rows
        if int(s) in src
    ]
    v = schema.versions
    versions = [
        (src.get(int(s), ""), int(s), str(i), str(p or ""), str(n))
        for s, i, p, n in conn.execute(
            select(v.c.source_id, v.c.version_id, v.c.project_key, v.c.name)
        )
    ]
    return Catalog(src, sorted(set(projects)), versions)


def items_with_key(
    conn: Connection, as_of: datetime, key: str, source_id: int | None = None
) -> list[tuple[int, str, str, str]]:
    """(source id, item id, type, project) of the items alive at as_of with this key."""
    conds = [alive(as_of), I.c.key == key]
    if source_id is not None:
        conds.append(I.c.source_id == source_id)
    rows = conn.execute(
        select(I.c.source_id, I.c.item_id, I.c.type, func.coalesce(I.c.project_key, "")).where(
            *conds
        )
    ).all()
    return [(int(s), str(i), str(t or ""), str(p)) for s, i, t, p in rows]


def source_id_of(conn: Connection, source: str | None) -> int | None:
    """The stored id of a configured source named by --source (None: any source)."""
    if source is None:
        return None
    names = {
        str(n): int(i) for i, n in conn.execute(select(schema.sources.c.id, schema.sources.c.name))
    }
    if source not in names:
        raise unknown("source", source, sorted(names))
    return names[source]


def one_source(conn: Connection, key: str, source_ids: list[int]) -> None:
    """Refuse a key that names items in several sources (two Jira sites may both have WEB-1):
    the QueryError names them and asks for --source."""
    if len(set(source_ids)) < 2:
        return
    names = dict(conn.execute(select(schema.sources.c.id, schema.sources.c.name)).all())
    ask_source(key, [str(names.get(i, i)) for i in sorted(set(source_ids))])


def ask_source(what: str, sources: list[str]) -> None:
    """QueryError when `what` (a key, a project, a version) is in several sources."""
    distinct = list(dict.fromkeys(sources))
    if len(distinct) > 1:
        raise QueryError(f"{what} is in {' and '.join(distinct)}; say which with --source")


__all__ = [
    "ROADMAP_TYPES",
    "Catalog",
    "alive",
    "ask_source",
    "is_roadmap_type",
    "items_with_key",
    "one_source",
    "read_catalog",
    "source_id_of",
    "team_of",
]
