"""The store: private file, WAL, migrations, aware timestamps, idempotent writes."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from pulse.store import Store, StoreError, open_store, schema
from pulse.store.cursors import load_cursor, save_cursor
from pulse.store.items import replace_item_children
from pulse.store.run_owner import current_owner, is_dead
from pulse.store.sources import register_source
from pulse.store.writes import upsert


def item(source_id: int, item_id: str, key: str, title: str = "t") -> dict[str, object]:
    now = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    return {
        "source_id": source_id,
        "item_id": item_id,
        "key": key,
        "title": title,
        "created": now,
        "synced_at": now,
        "is_subtask": False,
        "archived": False,
        "census_misses": 0,
    }


def test_sqlite_store_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "pulse.db"
    store = open_store(f"sqlite:///{path}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        register_source(conn, "acme", "jira", "https://acme.test")
        conn.commit()
        # While a connection is open, the write-ahead log and shared memory exist beside the file.
        for extra in (path.with_name("pulse.db-wal"), path.with_name("pulse.db-shm")):
            assert extra.exists(), extra.name
            assert stat.S_IMODE(os.stat(extra).st_mode) & 0o077 == 0, extra.name


def test_reopening_migrates_nothing_and_keeps_data(store: Store) -> None:
    with store.transaction() as conn:
        register_source(conn, "acme", "jira", "https://acme.test")
    reopened = open_store(store.url)
    assert reopened.source_ids() == {"acme": 1}


def test_in_memory_and_unreachable_stores_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="must be a file"):
        open_store("sqlite://")
    with pytest.raises(
        StoreError, match=r"cannot open store postgresql\+psycopg://127.0.0.1:1/x: "
    ) as refused:
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    assert "secret" not in str(refused.value) and "nobody" not in str(refused.value)


def test_timestamps_round_trip_as_aware_utc(store: Store) -> None:
    berlin = timezone(timedelta(hours=1))
    with store.transaction() as conn:
        sid = register_source(conn, "acme", "jira", "https://acme.test")
        row = item(sid, "1", "WEB-1")
        row["created"] = datetime(2026, 11, 1, 0, 30, tzinfo=berlin)
        upsert(conn, schema.items, [row])
    with store.engine.connect() as conn:
        created = conn.execute(select(schema.items.c.created)).scalar_one()
    assert created == datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    assert created.tzinfo is not None


def test_upsert_and_child_replacement_are_idempotent(store: Store) -> None:
    for _ in range(3):
        with store.transaction() as conn:
            sid = register_source(conn, "acme", "jira", "https://acme.test")
            upsert(conn, schema.items, [item(sid, "1", "WEB-1", "first"), item(sid, "2", "WEB-2")])
            at = datetime(2026, 11, 2, tzinfo=UTC)
            transitions = [
                {
                    "source_id": sid,
                    "item_id": "1",
                    "change_id": "10",
                    "seq": 0,
                    "at": at,
                    "from_status": "To Do",
                    "to_status": "In Progress",
                },
            ]
            replace_item_children(conn, sid, ["1", "2"], {"transitions": transitions})
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.items)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(schema.transitions)).scalar_one() == 1
    with store.transaction() as conn:
        upsert(conn, schema.items, [item(sid, "1", "MOB-7", "moved")])
    with store.engine.connect() as conn:
        assert (
            conn.execute(
                select(schema.items.c.key).where(schema.items.c.item_id == "1")
            ).scalar_one()
            == "MOB-7"
        )


def test_cursor_commits_with_its_rows_or_not_at_all(store: Store) -> None:
    with store.transaction() as conn:
        sid = register_source(conn, "acme", "jira", "https://acme.test")
    with pytest.raises(RuntimeError), store.transaction() as conn:
        upsert(conn, schema.items, [item(sid, "1", "WEB-1")])
        save_cursor(conn, sid, "issues:WEB", {"since": "2026-11-01T00:00:00+00:00"})
        raise RuntimeError("killed mid-page")
    with store.engine.connect() as conn:
        assert load_cursor(conn, sid, "issues:WEB") == {}
        assert conn.execute(select(func.count()).select_from(schema.items)).scalar_one() == 0


def test_a_run_is_dead_only_when_its_process_on_this_host_is_gone() -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    host = socket.gethostname()
    assert is_dead(f"{host}:{exited.pid}")
    assert not is_dead(current_owner())
    assert not is_dead(f"elsewhere.example:{exited.pid}")  # another host: only age tells
    assert not is_dead(None) and not is_dead("garbage")


def test_only_create_makes_a_store(store_url: str) -> None:
    """Commands that read open with create=False: a missing or empty database is refused and
    nothing is created; once a sync created the store, it opens."""
    with pytest.raises(StoreError, match=r"no store at .*run `pulse sync` first"):
        open_store(store_url, create=False)
    path = make_url(store_url).database
    if store_url.startswith("sqlite"):
        assert path is not None and not Path(path).exists()
    open_store(store_url).dispose()
    opened = open_store(store_url, create=False)
    assert not opened.read_only
    opened.dispose()


def test_driver_reads_reuse_a_connection_each_snapshot_starting_fresh(store: Store) -> None:
    """A question's several reads share one driver connection; a snapshot ends with its block
    (the next block sees what was committed since), and a block that failed drops its
    connection."""
    from pulse.store.sql import begin_snapshot, scalar

    with store.reads() as first:
        begin_snapshot(first)
        assert scalar(first, "SELECT COUNT(*) FROM sources") == 0
    with store.transaction() as conn:
        register_source(conn, "acme", "jira", "https://acme.example")
    with store.reads() as again:
        assert again is first
        begin_snapshot(again)  # refused by either driver inside a transaction still open
        assert scalar(again, "SELECT COUNT(*) FROM sources") == 1
    with pytest.raises(ZeroDivisionError), store.reads() as failed:
        assert failed is first
        1 / 0  # noqa: B018
    with store.reads() as fresh:
        assert fresh is not first
