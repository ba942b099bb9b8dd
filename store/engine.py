"""Open the store: create it private (0600), tune SQLite for WAL, migrate to the latest schema.

SQLAlchemy is imported only when something needs its engine (a sync, a report, the analysis
being computed): opening an existing store at the latest schema and reading it through
:meth:`Store.reads` (the questions) uses the database driver alone (:mod:`pulse.store.sql`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulse.store.sql import (
    Reader,
    backend,
    first,
    libpq_url,
    public_url,
    rows,
    sqlite_database,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    # What `Store.transaction()` yields: store functions take it, callers only pass it along.
    Transaction = Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def __getattr__(name: str) -> Any:
    """SQLAlchemy's names, imported on first use: ``DatabaseFailure`` (any failure of the
    database or of the store's use of it, for callers that contain one) and ``Transaction``."""
    if name == "DatabaseFailure":
        from sqlalchemy.exc import SQLAlchemyError

        return SQLAlchemyError
    if name == "Transaction":
        from sqlalchemy import Connection

        return Connection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class StoreError(Exception):
    """The store cannot be opened or written; the message names the URL (without password)."""


@dataclass
class Store:
    """A migrated database: its driver's connections for reads, and the one SQLAlchemy engine
    used for everything else, made on first use."""

    url: str
    read_only: bool = False  # a private in-memory copy of a file this process may not write
    copy: _MemoryCopy | None = None  # that copy
    create: bool = False  # the engine creates a SQLite file and sets it to WAL
    _engine: Engine | None = field(default=None, repr=False)
    _idle: list[Reader] = field(default_factory=list, repr=False)  # driver connections to reuse
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (SQLAlchemy is imported here, the first time)."""
        if self._engine is None:
            self._engine = make_engine(self.url, self.create, self.copy)
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One database transaction: everything in it commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A SQLAlchemy connection for reads; nothing it does is committed."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def reads(self) -> Iterator[Reader]:
        """The driver's own connection for the store's plain-SQL reads (:mod:`pulse.store.sql`):
        no SQLAlchemy; nothing it does is committed. Connections are kept for the next reads
        (a question reads in several steps; a PostgreSQL connection costs a round trip or a
        TLS handshake); one that failed is closed instead."""
        with self._lock:
            reader = self._idle.pop() if self._idle else None
        if reader is None:
            reader = _connect(self.url, self.copy)
        try:
            yield reader
        except BaseException:
            reader.close()
            raise
        if reader.reset():
            with self._lock:
                self._idle.append(reader)
        else:
            reader.close()

    @property
    def display_url(self) -> str:
        """The URL without user name or password, for messages."""
        return public_url(self.url)

    @property
    def is_sqlite(self) -> bool:
        return backend(self.url) == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        database = sqlite_database(self.url) if self.is_sqlite else None
        return Path(database) if database else None

    def source_ids(self) -> dict[str, int]:
        """Registered sources by name."""
        with self.reads() as conn:
            return {str(n): int(i) for n, i in rows(conn, "SELECT name, id FROM sources")}

    def dispose(self) -> None:
        """Close every connection this store holds."""
        with self._lock:
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.close()
        if self._engine is not None:
            self._engine.dispose()


def _connect(url: str, copy: _MemoryCopy | None = None) -> Reader:
    """A driver connection to the store: ``sqlite3`` (or the private copy), else ``psycopg``."""
    if copy is not None:
        conn = copy()
        conn.isolation_level = None  # reads: autocommit, a snapshot only where one is begun
        return Reader(conn, "sqlite")
    if backend(url) == "sqlite":
        conn = sqlite3.connect(
            sqlite_database(url) or "", isolation_level=None, check_same_thread=False
        )
        _session_pragmas(conn)
        return Reader(conn, "sqlite")
    import psycopg

    return Reader(psycopg.connect(libpq_url(url)), "postgresql")


def _create_private_sqlite_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does, so it is never world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    _session_pragmas(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # stored in the file: a store keeps it
    cursor.close()


def _session_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """What every connection sets; unlike the journal mode, nothing here writes the file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, create: bool = True, copy: _MemoryCopy | None = None) -> Engine:
    """An engine for the URL; SQLite files are created private (unless not ``create``) and run
    in WAL mode. ``copy``: the private in-memory copy of a file this process may not write."""
    from sqlalchemy import create_engine, event

    if copy is not None:
        return create_engine("sqlite://", creator=copy)
    if backend(url) == "sqlite":
        path = _sqlite_file(url)
        if create:
            _create_private_sqlite_file(path)
        engine = create_engine(url, pool_size=2, max_overflow=4)
        event.listen(engine, "connect", _sqlite_pragmas if create else _session_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_file(url: str) -> Path:
    """The file of a SQLite store URL; an in-memory database is refused."""
    database = sqlite_database(url)
    if database in (None, "", ":memory:"):
        raise StoreError("the store must be a file (sqlite:///pulse.db), not an in-memory database")
    return Path(str(database))


def _writable(path: Path) -> bool:
    """Whether SQLite can write this file in WAL mode (the file and, for -wal/-shm, its dir)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _read_only_copy(path: Path) -> _MemoryCopy:
    """A private in-memory copy of a SQLite store this process may only read: a question still
    gets its answer (and caches it for this run only); the file is untouched."""
    name = f"file:pulse-{uuid.uuid4().hex}?mode=memory&cache=shared"
    keeper = sqlite3.connect(name, uri=True, check_same_thread=False)
    for flags in ("mode=ro", "immutable=1"):  # immutable: a WAL store in a read-only directory
        try:
            source = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True)
            try:
                source.backup(keeper)
            finally:
                source.close()
            break
        except sqlite3.OperationalError as exc:
            failure = exc
    else:
        keeper.close()
        raise StoreError(f"cannot read store {path}: {failure}")
    return _MemoryCopy(name, keeper)


@dataclass
class _MemoryCopy:
    """Connects to a shared in-memory database, which lives as long as ``keeper`` is open."""

    name: str
    keeper: sqlite3.Connection

    def __call__(self) -> sqlite3.Connection:
        return sqlite3.connect(self.name, uri=True, check_same_thread=False)


def _head_revisions() -> set[str]:
    """Revision ids that no other migration revises: the schema's current head(s)."""
    revisions: dict[str, str | None] = {}
    for script in MIGRATIONS.joinpath("versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        down = re.search(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        if revision:
            revisions[revision.group(1)] = down.group(1) if down else None
    return set(revisions) - {d for d in revisions.values() if d}


def _is_current(conn: Reader) -> bool:
    """True when the store is already at the head revision (so Alembic need not load)."""
    if not _exists(conn):
        return False
    stored = {row[0] for row in rows(conn, "SELECT version_num FROM alembic_version")}
    return stored == _head_revisions()


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(url: str, create: bool = True) -> Store:
    """Open the store at a SQLAlchemy URL, migrated. ``create``: create it when it does not
    exist (sync, serve); otherwise a store that does not exist is refused and nothing created.
    A store at the latest schema is opened without SQLAlchemy."""
    safe = public_url(url)
    store = Store(url=url, create=create)
    try:
        if store.is_sqlite:
            path = _sqlite_file(url)
            if create:
                _create_private_sqlite_file(path)
            elif not path.is_file():
                raise StoreError(f"no store at {path}: run `pulse sync` first")
            elif not _writable(path):
                store.copy, store.read_only = _read_only_copy(path), True
        with store.reads() as conn:
            exists = _exists(conn)
            current = exists and _is_current(conn)
        if not create and not exists:
            raise StoreError(f"no store at {safe}: run `pulse sync` first")
        if not current:
            migrate(store.engine)
    except StoreError:
        store.dispose()
        raise
    except OSError as exc:
        raise StoreError(f"cannot open store {safe}: {exc.strerror}") from None
    except Exception as exc:
        reason = _database_reason(exc)
        if reason is None:
            raise
        store.dispose()
        raise StoreError(f"cannot open store {safe}: {reason}") from None
    return store


def _database_reason(exc: Exception) -> str | None:
    """The first line of what the database said, when ``exc`` is the driver's (or
    SQLAlchemy's) database error; None for anything else."""
    orig = driver_error(exc)
    return None if orig is None else failure_reason(orig)


def _exists(conn: Reader) -> bool:
    """Whether the database holds a Pulse store (an empty file or database does not)."""
    if conn.dialect == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    else:
        sql = (
            "SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = 'alembic_version'"
            " AND schemaname = ANY(current_schemas(false))"
        )
    return first(conn, sql) is not None


def failure_reason(exc: BaseException) -> str:
    """The first line of what the database said about a failure (else the failure itself, or
    its kind when it says nothing)."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's error behind `exc` (a damaged file, a lost server), or None when
    `exc` did not come from the driver."""
    if isinstance(exc, sqlite3.DatabaseError):
        return exc
    psycopg = sys.modules.get("psycopg")  # not loaded: no PostgreSQL store was reached
    if psycopg is not None and isinstance(exc, psycopg.Error):
        return exc
    exc_module = sys.modules.get("sqlalchemy.exc")
    if exc_module is not None and isinstance(exc, exc_module.DBAPIError):
        return exc.orig if exc.orig is not None else exc
    return None
