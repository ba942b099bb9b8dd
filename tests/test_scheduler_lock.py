"""One service per store, on SQLite (file locks) and PostgreSQL (advisory locks)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from pulse.scheduling.lock import (
    REPORT,
    SHARED,
    STORE,
    LockHeld,
    Scope,
    ServiceLock,
    acquire,
    holders,
    service_scopes,
)
from pulse.store import Store

WHOLE = service_scopes(None, True)


@pytest.fixture
def taken() -> Iterator[list[ServiceLock]]:
    """Locks a test took, released at its end whatever happens."""
    locks: list[ServiceLock] = []
    yield locks
    for lock in locks:
        lock.release()


def take(store: Store, taken: list[ServiceLock], scopes: list[Scope]) -> ServiceLock:
    lock = acquire(store, scopes, wait=0.2)
    taken.append(lock)
    return lock


def test_scopes() -> None:
    assert service_scopes(None, True) == [Scope(STORE)]
    assert service_scopes(["b", "a", "a"], True) == [
        Scope(STORE, shared=True),
        Scope("source:a"),
        Scope("source:b"),
        Scope(REPORT),
    ]
    assert Scope(REPORT) not in service_scopes(["a"], False)


def test_a_second_service_on_the_store_is_refused(store: Store, taken: list[ServiceLock]) -> None:
    take(store, taken, WHOLE)
    with pytest.raises(LockHeld) as refused:
        take(store, taken, WHOLE)
    message = str(refused.value)
    assert message.startswith(f"another `pulse serve` (pid {os.getpid()} on ")
    assert message.endswith("already runs on this store; stop it first")
    assert "\n" not in message
    assert holders(store, [Scope(STORE)])[STORE] is not None


def test_the_lock_is_free_again_after_release(store: Store, taken: list[ServiceLock]) -> None:
    first = take(store, taken, WHOLE)
    first.release()
    assert holders(store, [Scope(STORE)]) == {STORE: None}
    second = take(store, taken, WHOLE)
    assert second.alive()


def test_services_with_disjoint_sources_run_side_by_side(
    store: Store, taken: list[ServiceLock]
) -> None:
    take(store, taken, service_scopes(["jira"], report=True))
    take(store, taken, service_scopes(["trello", "jira-dc"], report=False))
    held = holders(store, [Scope(STORE), Scope.source("jira"), Scope.source("other")])
    assert held[STORE] == SHARED and held["source:other"] is None
    assert (held["source:jira"] or "").startswith(f"pid {os.getpid()} on ")
    with pytest.raises(LockHeld, match=r"source 'jira' is already served by another"):
        take(store, taken, service_scopes(["other", "jira"], report=False))
    with pytest.raises(LockHeld, match=r"already writes the weekly report; give --report to one"):
        take(store, taken, service_scopes(["other"], report=True))
    with pytest.raises(LockHeld, match=r"services run on this store; a whole-store"):
        take(store, taken, WHOLE)
    # The refused attempts took nothing: `other` is still free.
    take(store, taken, service_scopes(["other"], report=False))


def test_a_whole_store_service_excludes_partial_ones(
    store: Store, taken: list[ServiceLock]
) -> None:
    take(store, taken, WHOLE)
    with pytest.raises(LockHeld, match=r"a whole-store `pulse serve` \(pid .*\) already runs"):
        take(store, taken, service_scopes(["jira"], report=False))


def test_sqlite_lock_file_is_beside_the_database_and_private(
    sqlite_url: str, taken: list[ServiceLock]
) -> None:
    from pulse.store import open_store

    store = open_store(sqlite_url)
    take(store, taken, service_scopes(["jira"], report=True))
    database = store.sqlite_path
    assert database is not None
    for name in ("serve", "serve.source.jira", "serve.report"):
        path = database.with_name(f"{database.name}.{name}.lock")
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.dispose()


@pytest.mark.postgres
def test_postgres_lock_dies_with_its_session(postgres_url: str, taken: list[ServiceLock]) -> None:
    from pulse.store import open_store

    store = open_store(postgres_url)
    lock = take(store, taken, WHOLE)
    assert lock.alive()
    holder = holders(store, [Scope(STORE)])[STORE]
    assert holder is not None and holder.startswith(f"pid {os.getpid()} on ")
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and application_name like 'pulse serve%'"
            )
        ).all()
    admin.dispose()
    assert killed, "the lock's session was not found"
    assert not lock.alive()
    take(store, taken, WHOLE)  # free again
    store.dispose()
