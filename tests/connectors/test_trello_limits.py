"""Trello's limits and a hostile network: a board with more than 5,000 actions and a burst of
100+ census requests never trip the token limit; 429 bursts, 5xx and dropped connections lose
nothing."""

from __future__ import annotations

import time
from pathlib import Path

from pulse.emulators.http import Fault
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.store import open_store
from tests.connectors.test_trello_support import (
    RATE,
    WINDOW,
    assert_matches_truth,
    register,
    run_sync,
    served,
    snapshot,
    source_for,
)


def test_big_board_and_request_bursts_stay_under_the_token_limit(tmp_path: Path) -> None:
    emu = TrelloEmulator(
        TrelloSpec(seed=9, boards=3, cards=1100, rate_window_s=WINDOW, token_limit=100)
    )
    delivery = emu.truth.board("Design Delivery")
    assert delivery.action_count > 5000
    boards = ["Design Roadmap", "Design Delivery"]
    store = open_store(f"sqlite:///{tmp_path / 'big.db'}")
    with served(emu) as url:
        source = source_for(emu, url, boards=boards)
        counts = run_sync(store, source)
        source_id = register(store, source)
        assert counts.extra["actions"] > 3000 and counts.pages > 4
        assert_matches_truth(emu, store, source_id, boards)
        # 150 cards leave for a board outside the source: the census confirms each with a GET,
        # more than a whole window's allowance, so only the throttle keeps us under the limit.
        marketing = emu.truth.board("Marketing").id
        for card_id in sorted(delivery.cards)[:150]:
            emu.clock.advance(seconds=30)
            emu.mutate.move_to_board(card_id, marketing)
        started = time.monotonic()
        counts = run_sync(store, source)
        assert counts.requests > RATE.requests + 50 and counts.moved == 150
        assert time.monotonic() - started >= WINDOW  # it had to wait for the window
        assert_matches_truth(emu, store, source_id, boards)
    assert emu.rate_limit_hits == 0
    store.dispose()


def test_rate_limit_bursts_server_errors_and_drops_lose_nothing(tmp_path: Path) -> None:
    emu = TrelloEmulator(TrelloSpec(seed=4, boards=3, cards=400, rate_window_s=WINDOW))
    delivery = emu.board_id("Design Delivery")
    actions = f"/1/boards/{delivery}/actions"
    faults = [
        Fault(kind="drop", count=2, path=actions),  # the first history request, twice
        emu.rate_limit_fault(count=3, path=actions, after=1),  # then a burst on the next page
        emu.rate_limit_fault(count=1, path="/1/boards", after=5),
        Fault(
            kind="server_error",
            status=500,
            count=2,
            path=f"/1/boards/{delivery}/cards",
            retry_after=None,
        ),
        Fault(
            kind="server_error", status=503, count=1, path="/1/boards", after=9, retry_after=None
        ),
        Fault(kind="drop", count=1, path="/1/members"),
    ]
    store = open_store(f"sqlite:///{tmp_path / 'faulty.db'}")
    with served(emu) as url:
        source = source_for(emu, url)
        for fault in faults:
            emu.faults.inject(fault)
        counts = run_sync(store, source)
        source_id = register(store, source)
        assert (counts.retries, emu.rate_limit_hits) == (10, 4)  # every fault fired, was retried
        assert_matches_truth(emu, store, source_id)
        emu.faults.clear()
        clean = open_store(f"sqlite:///{tmp_path / 'clean.db'}")
        run_sync(clean, source)
        assert snapshot(store, source_id) == snapshot(clean, register(clean, source))
        clean.dispose()
    store.dispose()
