"""The names the store knows: its sources, the projects (or boards) its items use, its versions.

Small reads, no pandas: a question checks its filters against them, the loader names frames
with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulse.store.sql import rows

if TYPE_CHECKING:
    from pulse.store.sql import Conn


def source_names(conn: Conn) -> dict[int, str]:
    """Every stored source's name by its id."""
    return {int(i): str(n) for i, n in rows(conn, "SELECT id, name FROM sources")}


def item_projects(conn: Conn) -> list[tuple[int, str]]:
    """Every distinct (source id, project key) the items use; '' for items without one."""
    found = rows(conn, "SELECT DISTINCT source_id, COALESCE(project_key, '') FROM items")
    return [(int(s), str(p)) for s, p in found]


def version_names(conn: Conn) -> list[tuple[int, str, str, str]]:
    """(source id, version id, project key or '', name) of every stored version."""
    found = rows(conn, "SELECT source_id, version_id, project_key, name FROM versions")
    return [(int(s), str(i), str(p or ""), str(n)) for s, i, p, n in found]


__all__ = ["item_projects", "source_names", "version_names"]
