"""One service per store: OS file locks beside a SQLite file, advisory locks on PostgreSQL.

A lock has scopes. A whole-store service takes the `store` scope exclusively. A service that owns
only some sources (`pulse serve --source ...`) takes `store` shared plus one exclusive scope per
source, and `report` when it writes the weekly workbook. So two whole-store services exclude each
other, services with disjoint sources run side by side, and a source or the report is never
served twice. Locks die with their holder: a file lock with its process, an advisory lock with
its database session; nothing is left to clean up after a crash.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from pulse import clock
from pulse.store import Store

STORE = "store"
REPORT = "report"
SHARED = "shared by `pulse serve --source` services"  # holder of a store lock held shared


class LockHeld(Exception):
    """Another service holds a scope this one needs; the message is one line for the user."""


@dataclass(frozen=True)
class Scope:
    """One lockable part of a store: the whole store, one source, or the weekly report."""

    name: str
    shared: bool = False

    @classmethod
    def source(cls, name: str) -> Scope:
        return cls(f"source:{name}")

    def describe(self) -> str:
        if self.name == STORE:
            return "this store"
        if self.name == REPORT:
            return "the weekly report"
        return f"source {self.name.removeprefix('source:')!r}"


def service_scopes(sources: Sequence[str] | None, report: bool) -> list[Scope]:
    """The scopes a service needs: the whole store, or its own sources (and maybe the report)."""
    if sources is None:
        return [Scope(STORE)]
    scopes = [Scope(STORE, shared=True), *(Scope.source(n) for n in sorted(set(sources)))]
    return [*scopes, Scope(REPORT)] if report else scopes


def me() -> str:
    """Who holds a lock, as the refusal message names it."""
    since = clock.now().strftime("%Y-%m-%d %H:%M UTC")
    return f"pid {os.getpid()} on {socket.gethostname()}, since {since}"


class ServiceLock(Protocol):
    def alive(self) -> bool:
        """Whether the lock is still held (a PostgreSQL session can be lost)."""
        ...

    def release(self) -> None:
        """Give the lock up; idempotent."""
        ...


def acquire(store: Store, scopes: Sequence[Scope], wait: float = 1.0) -> ServiceLock:
    """Take every scope or none; raise LockHeld naming the holder when one is taken.

    Each scope is retried for up to `wait` seconds, so a `pulse status` probing the lock at the
    same instant never makes a starting service refuse.
    """
    lock: _SqliteLock | _PostgresLock
    lock = _SqliteLock(store) if store.is_sqlite else _PostgresLock(store, f"pulse serve {me()}")
    try:
        for scope in scopes:
            lock.take(scope, wait)
    except BaseException:
        lock.release()
        raise
    return lock


def holders(store: Store, scopes: Iterable[Scope]) -> dict[str, str | None]:
    """Who serves each scope now (a description), or None; takes nothing that lasts."""
    lock: _SqliteLock | _PostgresLock
    lock = _SqliteLock(store) if store.is_sqlite else _PostgresLock(store, "pulse status probe")
    try:
        return {scope.name: lock.holder(scope) for scope in scopes}
    finally:
        lock.release()


def _refusal(scope: Scope, holder: str | None, exclusive_holder: bool) -> LockHeld:
    who = f" ({holder})" if holder else ""
    if scope.name == STORE and scope.shared:
        return LockHeld(
            f"a whole-store `pulse serve`{who} already runs on this store; "
            "stop it before splitting the sources with --source"
        )
    if scope.name == STORE and not exclusive_holder:
        return LockHeld(
            "`pulse serve --source` services run on this store; a whole-store `pulse serve` "
            "cannot run beside them (give it --source for the other sources)"
        )
    if scope.name == STORE:
        return LockHeld(f"another `pulse serve`{who} already runs on this store; stop it first")
    if scope.name == REPORT:
        return LockHeld(
            f"another `pulse serve`{who} already writes the weekly report; "
            "give --report to one service only"
        )
    return LockHeld(f"{scope.describe()} is already served by another `pulse serve`{who}")


class _SqliteLock:
    """flock(2) on files beside the database: `pulse.db.serve.lock` and per-scope siblings."""

    def __init__(self, store: Store) -> None:
        path = store.sqlite_path
        if path is None:
            raise ValueError("a SQLite store without a file cannot be locked")
        self.database = path
        self.held: dict[str, int] = {}

    def path(self, scope: Scope) -> Path:
        suffix = "" if scope.name == STORE else "." + scope.name.replace(":", ".")
        return self.database.with_name(f"{self.database.name}.serve{suffix}.lock")

    def _open(self, scope: Scope) -> int:
        return os.open(self.path(scope), os.O_RDWR | os.O_CREAT, 0o600)

    def take(self, scope: Scope, wait: float) -> None:
        fd = self._open(scope)
        mode = fcntl.LOCK_SH if scope.shared else fcntl.LOCK_EX
        if not _retry(lambda: _try_flock(fd, mode), wait):
            exclusive_holder = not _try_flock(fd, fcntl.LOCK_SH)
            holder = _read_holder(fd) if exclusive_holder else None
            os.close(fd)
            raise _refusal(scope, holder, exclusive_holder)
        if not scope.shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"holder": me()}).encode(), 0)
        self.held[scope.name] = fd

    def holder(self, scope: Scope) -> str | None:
        if not self.path(scope).exists():
            return None
        fd = self._open(scope)
        try:
            if _try_flock(fd, fcntl.LOCK_SH):
                if scope.name == STORE and not _try_flock(fd, fcntl.LOCK_EX):
                    return SHARED
                return None
            return _read_holder(fd) or "another process"
        finally:
            os.close(fd)  # closing drops any lock this probe took

    def alive(self) -> bool:
        return True  # a file lock lives as long as its open file

    def release(self) -> None:
        for fd in self.held.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.held.clear()


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _read_holder(fd: int) -> str | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return None
    holder = data.get("holder") if isinstance(data, dict) else None
    return str(holder) if holder else None


def _retry(attempt: Any, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        if attempt():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def advisory_key(scope_name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a scope of a Pulse store."""
    digest = hashlib.sha256(f"pulse-serve:{scope_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _PostgresLock:
    """Session-level advisory locks on one dedicated connection, held for the service's life."""

    def __init__(self, store: Store, application_name: str) -> None:
        name = application_name[:63]
        self.engine = create_engine(
            store.engine.url,
            poolclass=NullPool,
            connect_args={
                "application_name": name,
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
        self.conn: Connection | None = None
        self.held: list[str] = []

    def _connection(self) -> Connection:
        if self.conn is None:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn

    def take(self, scope: Scope, wait: float) -> None:
        conn = self._connection()
        function = "pg_try_advisory_lock_shared" if scope.shared else "pg_try_advisory_lock"
        key = advisory_key(scope.name)

        def attempt() -> bool:
            return bool(conn.execute(text(f"select {function}(:key)"), {"key": key}).scalar())

        if not _retry(attempt, wait):
            mode, holder = self._holding(scope)
            raise _refusal(scope, holder, mode != "ShareLock")
        self.held.append(scope.name)

    def _holding(self, scope: Scope) -> tuple[str | None, str | None]:
        """The mode and holder (application name and since) of a granted lock on a scope."""
        unsigned = advisory_key(scope.name) & 0xFFFFFFFFFFFFFFFF
        row = (
            self._connection()
            .execute(
                text(
                    "select l.mode, a.application_name, a.backend_start, a.client_addr "
                    "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
                    "where l.locktype = 'advisory' and l.granted and l.objsubid = 1 "
                    "and l.classid = :hi and l.objid = :lo and l.pid <> pg_backend_pid() "
                    "and l.database = (select oid from pg_database "
                    "where datname = current_database()) "
                    "order by l.mode limit 1"
                ),
                {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
            )
            .first()
        )
        if row is None:
            return None, None
        holder = str(row.application_name or "").removeprefix("pulse serve ").strip()
        if not holder:
            holder = f"a session from {row.client_addr or 'local'}"
        return str(row.mode), holder

    def holder(self, scope: Scope) -> str | None:
        mode, holder = self._holding(scope)
        if mode is None:
            return None
        if scope.name == STORE and mode == "ShareLock":
            return SHARED
        return holder

    def alive(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("select 1"))
        except Exception:
            return False
        return True

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()  # ending the session releases its advisory locks
            self.conn = None
        self.held.clear()
        self.engine.dispose()
