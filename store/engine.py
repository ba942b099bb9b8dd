"""Open the store: create it private (0600), tune SQLite for WAL, migrate to the latest schema."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from pulse.store.schema import sources

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(Exception):
    """The store cannot be opened or written; the message names the URL (without password)."""


@dataclass
class Store:
    """A migrated database and the one engine used to reach it."""

    engine: Engine
    url: str
    read_only: bool = False  # a private in-memory copy of a file this process may not write

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction: everything in it commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        database = make_url(self.url).database
        return Path(database) if self.is_sqlite and database else None

    def source_ids(self) -> dict[str, int]:
        """Registered sources by name."""
        with self.engine.connect() as conn:
            return {row.name: row.id for row in conn.execute(select(sources.c.name, sources.c.id))}

    def dispose(self) -> None:
        self.engine.dispose()


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


def make_engine(url: str, create: bool = True) -> Engine:
    """An engine for the URL; SQLite files are created private (unless not ``create``) and run
    in WAL mode. A SQLite file this process may not write is read from a private copy."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreError(
                "the store must be a file (sqlite:///pulse.db), not an in-memory database"
            )
        path = Path(parsed.database)
        if create:
            _create_private_sqlite_file(path)
        elif not path.is_file():
            raise StoreError(f"no store at {path}: run `pulse sync` first")
        elif not _writable(path):
            return _read_only_copy(path)
        engine = create_engine(parsed, pool_size=2, max_overflow=4)
        event.listen(engine, "connect", _sqlite_pragmas if create else _session_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _writable(path: Path) -> bool:
    """Whether SQLite can write this file in WAL mode (the file and, for -wal/-shm, its dir)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _read_only_copy(path: Path) -> Engine:
    """An engine over a private in-memory copy of a SQLite store this process may only read:
    a question still gets its answer (and caches it for this run only); the file is untouched."""
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

    return create_engine("sqlite://", creator=_MemoryCopy(name, keeper))


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


def _is_current(engine: Engine) -> bool:
    """True when the store is already at the head revision (so Alembic need not load)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        stored = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    return stored == _head_revisions()


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    if _is_current(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(url: str, create: bool = True) -> Store:
    """Open the store at a SQLAlchemy URL, migrated. ``create``: create it when it does not
    exist (sync, serve); otherwise a store that does not exist is refused and nothing created."""
    safe = make_url(url).render_as_string(hide_password=True)
    try:
        engine = make_engine(url, create)
        if not create and not _exists(engine):
            engine.dispose()
            raise StoreError(f"no store at {safe}: run `pulse sync` first")
        migrate(engine)
    except DatabaseError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open store {safe}: {reason}") from None
    except OSError as exc:
        raise StoreError(f"cannot open store {safe}: {exc.strerror}") from None
    database = make_url(url).database
    read_only = engine.dialect.name == "sqlite" and not _writable(Path(database or ""))
    return Store(engine=engine, url=url, read_only=read_only)


def _exists(engine: Engine) -> bool:
    """Whether the database holds a Pulse store (an empty file or database does not)."""
    with engine.connect() as conn:
        return inspect(conn).has_table("alembic_version")
