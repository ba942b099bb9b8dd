"""A Trello sync killed at any point resumes without loss or duplicates: crashes injected at
random requests and inside random page transactions, and a real SIGKILL of a sync running in
another process, each followed by a re-run that must equal an uninterrupted sync."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import pulse.connectors.trello.actions as actions_module
import pulse.connectors.trello.cards as cards_module
from pulse.connectors.trello.client import TrelloApi
from pulse.emulators.http import Fault
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.store import open_store, schema
from tests.connectors.test_trello_support import (
    WINDOW,
    assert_matches_truth,
    register,
    run_sync,
    served,
    snapshot,
    source_for,
)

ROOT = Path(__file__).resolve().parents[2]


class Crash(BaseException):
    """Stands for the process dying: nothing in the connector may catch it."""


def _emulator() -> TrelloEmulator:
    return TrelloEmulator(TrelloSpec(seed=3, boards=3, cards=600, rate_window_s=WINDOW))


def test_crashes_at_random_points_resume_to_the_uninterrupted_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261120)
    emu = _emulator()
    store = open_store(f"sqlite:///{tmp_path / 'crashy.db'}")
    calls = {"get": 0, "save": 0}
    crash_at: dict[str, int | None] = {"get": None, "save": None}
    real_get, real_save = TrelloApi.get, cards_module.save_cursor

    def get(self: TrelloApi, path: str, params: dict[str, Any] | None = None) -> Any:
        calls["get"] += 1
        if calls["get"] == crash_at["get"]:
            raise Crash(f"killed before GET {path}")
        return real_get(self, path, params)

    def save(*args: Any) -> None:
        calls["save"] += 1
        if calls["save"] == crash_at["save"]:
            raise Crash("killed inside a page transaction")  # the page's rows roll back
        real_save(*args)

    monkeypatch.setattr(TrelloApi, "get", get)
    monkeypatch.setattr(cards_module, "save_cursor", save)
    monkeypatch.setattr(actions_module, "save_cursor", save)
    crashes = 0
    with served(emu) as url:
        source = source_for(emu, url)
        for attempt in range(7):
            calls.update(get=0, save=0)
            where = rng.choice(["get", "save"])
            crash_at.update(get=None, save=None)
            crash_at[where] = rng.randint(1, 14 if where == "get" else 8)
            try:
                run_sync(store, source)
            except Crash:
                crashes += 1
            if attempt == 2:  # the boards keep changing between a crash and its resume
                card = sorted(emu.truth.board("Design Delivery").cards)[7]
                emu.clock.advance(minutes=2)
                if emu.truth.card(card).closed:
                    emu.mutate.unarchive(card)
                else:
                    emu.mutate.archive(card)
                emu.mutate.delete(sorted(emu.truth.board("Marketing").cards)[3])
        crash_at.update(get=None, save=None)
        run_sync(store, source)
        source_id = register(store, source)
        assert_matches_truth(emu, store, source_id)
        clean = open_store(f"sqlite:///{tmp_path / 'clean.db'}")
        run_sync(clean, source)
        assert snapshot(store, source_id) == snapshot(clean, register(clean, source))
        clean.dispose()
    assert crashes >= 4
    store.dispose()


_CHILD = """
import json, sys
from pulse.connectors.trello import sync_trello
from pulse.connectors.trello.client import RateLimit
from pulse.settings import TrelloSource
from pulse.store import open_store
from pulse.store.writes import register_source
args = json.loads(sys.argv[1])
source = TrelloSource.model_validate(args["source"])
store = open_store(args["store"])
with store.transaction() as conn:
    source_id = register_source(conn, source.name, "trello", source.url)
print("started", flush=True)
sync_trello(source, store, source_id, rate=RateLimit(requests=90, window=0.5))
print("finished", flush=True)
"""


def test_sigkill_mid_sync_then_resume_equals_an_uninterrupted_sync(tmp_path: Path) -> None:
    emu = _emulator()
    killed_db = tmp_path / "killed.db"
    # The big board's history pages are slow, so the kill lands while the child reads them.
    slow = f"/1/boards/{emu.board_id('Design Delivery')}/actions"
    emu.faults.inject(Fault(kind="latency", seconds=0.4, count=1000, path=slow))
    with served(emu) as url:
        source = source_for(emu, url)
        settings = json.loads(source.model_dump_json())
        settings.update(key=emu.key, token=emu.token)
        payload = json.dumps({"source": settings, "store": f"sqlite:///{killed_db}"})
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, payload],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            store = _wait_for_pages(child, killed_db, pages=5)
            time.sleep(random.uniform(0.0, 0.3))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
        emu.faults.clear()
        assert child.returncode == -signal.SIGKILL
        assert "finished" not in (child.stdout.read() if child.stdout else "")
        source_id = register(store, source)
        with store.engine.connect() as conn:
            cursors = conn.execute(
                select(schema.sync_cursors.c.stream, schema.sync_cursors.c.value)
            )
            finished = [s for s, v in cursors if s.startswith("actions:") and '"pass": null' in v]
        assert len(finished) < 4  # the kill came mid-way: some board's history was unfinished

        run_sync(store, source)
        assert_matches_truth(emu, store, source_id)
        clean = open_store(f"sqlite:///{tmp_path / 'clean.db'}")
        run_sync(clean, source)
        assert snapshot(store, source_id) == snapshot(clean, register(clean, source))
        clean.dispose()
        store.dispose()


def _wait_for_pages(child: subprocess.Popen[str], path: Path, pages: int) -> Any:
    """Open the child's store once it has committed `pages` cursors (it syncs slowly)."""
    assert child.stdout is not None and child.stdout.readline().strip() == "started"
    store = open_store(f"sqlite:///{path}")  # the child has created and migrated it
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            err = child.stderr.read() if child.stderr else ""
            raise AssertionError(f"the sync ended before it could be killed: {err[-2000:]}")
        with store.engine.connect() as conn:
            done = conn.execute(select(func.count()).select_from(schema.sync_cursors)).scalar()
        if done and done >= pages:
            return store
        time.sleep(0.05)
    raise AssertionError("the child never committed a page")
