"""Plain SQL for the store's reads, on either connection: no SQLAlchemy needed to answer a question.

A question answered from the stored analysis reads a few rows; importing SQLAlchemy alone costs
it more than the reads (a quarter of a second). The store's question-path reads are therefore
written once, as SQL text with ``:name`` parameters, and run through :func:`rows` on either

- a :class:`Reader`: the database driver's own connection (stdlib ``sqlite3``, or ``psycopg``
  for PostgreSQL), opened by :meth:`pulse.store.engine.Store.reads` without SQLAlchemy; or
- a SQLAlchemy ``Connection`` (a sync, the analysis being computed), through its driver.

Parameters are bound as the store keeps them: an instant as SQLAlchemy's SQLite text or an
aware UTC datetime; a list or tuple expands to one parameter per element (``IN (:keys)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote, urlsplit, urlunsplit

from pulse.store.timestamps import sqlite_text, to_utc

if TYPE_CHECKING:
    from sqlalchemy import Connection

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


# -- store URLs (SQLAlchemy's form, read without it) --------------------------------------------


def backend(url: str) -> str:
    """The database a SQLAlchemy URL names: ``sqlite`` or ``postgresql`` (without the driver)."""
    return url.split(":", 1)[0].split("+", 1)[0].lower()


def sqlite_database(url: str) -> str | None:
    """The file of a ``sqlite:///relative.db`` or ``sqlite:////abs/path.db`` URL (None: memory)."""
    rest = url.split(":", 1)[1] if ":" in url else ""
    if not rest.startswith("//"):
        return None
    path = rest[2:].split("?", 1)[0]
    path = path[1:] if path.startswith("/") else path  # the host part is empty
    return unquote(path) or None


def public_url(url: str) -> str:
    """The URL without user name or password, for whatever Pulse shows: messages, the workbook.
    Works alike on a store's SQLAlchemy URL and on a source's http(s) URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def libpq_url(url: str) -> str:
    """A ``postgresql+psycopg://…`` URL as the ``postgresql://…`` URI libpq connects to (user,
    password, host, port, database and query parameters such as ``sslmode`` as given)."""
    return "postgresql:" + url.split(":", 1)[1]


# -- running SQL --------------------------------------------------------------------------------


@dataclass
class Reader:
    """A database driver's connection for the store's reads (see :meth:`Store.reads`)."""

    dbapi: Any
    dialect: str  # sqlite | postgresql

    def close(self) -> None:
        """Close the connection (ending its read transaction)."""
        self.dbapi.close()

    def reset(self) -> bool:
        """End the read transaction a snapshot began; False when the connection is no longer
        usable (closed, or broken: a PostgreSQL server gone), so it is not used again."""
        if self.dialect == "sqlite":
            if self.dbapi.in_transaction:
                self.dbapi.execute("ROLLBACK")
            return True
        if self.dbapi.closed or self.dbapi.broken:
            return False
        self.dbapi.rollback()
        return True


Conn: TypeAlias = "Reader | Connection"  # what the store's plain-SQL reads run on


def dialect_of(conn: Any) -> str:
    """``sqlite`` or ``postgresql``, for a :class:`Reader` or a SQLAlchemy connection."""
    return conn.dialect if isinstance(conn, Reader) else str(conn.dialect.name)


def _bound(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime):
        return sqlite_text(value) if dialect == "sqlite" else to_utc(value)
    if isinstance(value, date) and dialect == "sqlite":
        return value.isoformat()
    return value


def driver_sql(sql: str, params: Mapping[str, Any], dialect: str) -> tuple[str, dict[str, Any]]:
    """``sql`` with ``:name`` parameters as the driver takes them, and the bound values."""
    values: dict[str, Any] = {}

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = params[name]
        names = [name]
        if isinstance(value, list | tuple):
            names = [f"{name}_{k}" for k in range(len(value))] or [f"{name}_none"]
            values.update(zip(names, value, strict=False))
            if not value:
                values[names[0]] = None  # IN (NULL): matches nothing
        else:
            values[name] = value
        if dialect == "postgresql":
            return ", ".join(f"%({n})s" for n in names)
        return ", ".join(f":{n}" for n in names)

    if dialect == "postgresql":
        sql = sql.replace("%", "%%")
    text = _PARAM.sub(one, sql)
    return text, {k: _bound(v, dialect) for k, v in values.items()}


def _run(conn: Any, sql: str, params: Mapping[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows ``sql`` returns on ``conn``."""
    text, values = driver_sql(sql, params, dialect_of(conn))
    if not isinstance(conn, Reader):
        result = conn.exec_driver_sql(text, values)
        return list(result.keys()), [tuple(r) for r in result.fetchall()]
    cursor = conn.dbapi.cursor()
    try:
        cursor.execute(text, values)
        names = [d[0] for d in cursor.description or ()]
        return names, [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def rows(conn: Any, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Every row ``sql`` returns on ``conn`` (a :class:`Reader` or a SQLAlchemy connection)."""
    return _run(conn, sql, params)[1]


def records(conn: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Every row ``sql`` returns, as a dict by column name."""
    names, found = _run(conn, sql, params)
    return [dict(zip(names, row, strict=True)) for row in found]


def first(conn: Any, sql: str, **params: Any) -> tuple[Any, ...] | None:
    """The first row ``sql`` returns, None when none."""
    found = rows(conn, sql, **params)
    return found[0] if found else None


def scalar(conn: Any, sql: str, **params: Any) -> Any:
    """The first column of the first row (None when no row)."""
    row = first(conn, sql, **params)
    return None if row is None else row[0]


def day(value: Any) -> date | None:
    """A stored date (SQLite: its text) as a date."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    return date.fromisoformat(str(value)[:10])


def begin_snapshot(conn: Any) -> Any:
    """Make every read on ``conn`` see one consistent state of the store until it closes.

    SQLite (WAL): an explicit read transaction; PostgreSQL: REPEATABLE READ. Call first.
    """
    if isinstance(conn, Reader):
        if conn.dialect == "sqlite":
            conn.dbapi.execute("BEGIN")
        else:
            conn.dbapi.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return conn
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
        return conn
    return conn.execution_options(isolation_level="REPEATABLE READ")
