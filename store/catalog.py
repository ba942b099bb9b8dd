"""The names the store knows: its sources, the projects (or boards) its items use, its versions.

Small reads, no pandas: a question checks its filters against them, the loader names frames
with them.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from pulse.store import schema


def source_names(conn: Connection) -> dict[int, str]:
    """Every stored source's name by its id."""
    s = schema.sources
    return {int(i): str(n) for i, n in conn.execute(select(s.c.id, s.c.name))}


def item_projects(conn: Connection) -> list[tuple[int, str]]:
    """Every distinct (source id, project key) the items use; '' for items without one."""
    i = schema.items
    rows = conn.execute(select(i.c.source_id, func.coalesce(i.c.project_key, "")).distinct())
    return [(int(s), str(p)) for s, p in rows]


def version_names(conn: Connection) -> list[tuple[int, str, str, str]]:
    """(source id, version id, project key or '', name) of every stored version."""
    v = schema.versions
    rows = conn.execute(select(v.c.source_id, v.c.version_id, v.c.project_key, v.c.name))
    return [(int(s), str(i), str(p or ""), str(n)) for s, i, p, n in rows]


__all__ = ["item_projects", "source_names", "version_names"]
