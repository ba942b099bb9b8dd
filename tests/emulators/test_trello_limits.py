"""Auth, Trello's documented rate limits, and fault injection on the Trello emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from pulse.emulators.http import Fault
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.emulators.trello.ratelimit import KEY_EXCEEDED, TOKEN_EXCEEDED, RateLimiter
from pulse.emulators.trello.testing import TrelloHttp

pytestmark = pytest.mark.xdist_group("trello_limits")


def _emulator(**options: object) -> TrelloEmulator:
    return TrelloEmulator(TrelloSpec(seed=3, cards=60, **options))  # type: ignore[arg-type]


@pytest.fixture
def served() -> Iterator[tuple[TrelloEmulator, str]]:
    emu = _emulator(rate_window_s=1.0, token_limit=5, key_limit=8, extra_tokens=2)
    with emu.serve() as server:
        yield emu, server.url


def _get(url: str, path: str, **params: str) -> requests.Response:
    return requests.get(f"{url}/1{path}", params=params, timeout=10)


# -- auth -----------------------------------------------------------------------------------


def test_key_and_token_are_checked_on_every_request(served: tuple[TrelloEmulator, str]) -> None:
    emu, url = served
    cases = [
        ({}, "invalid key"),
        ({"token": emu.token}, "invalid key"),
        ({"key": "0" * 32, "token": emu.token}, "invalid key"),
        ({"key": emu.key}, "invalid token"),
        ({"key": emu.key, "token": "ATTAnope"}, "invalid token"),
    ]
    for params, text in cases:
        response = _get(url, "/members/me", **params)
        assert (response.status_code, response.text) == (401, text)
    ok = _get(url, "/members/me", key=emu.key, token=emu.tokens[2])
    assert ok.status_code == 200
    assert emu.rate_limit_hits == 0


def test_oauth_header_is_accepted(served: tuple[TrelloEmulator, str]) -> None:
    emu, url = served
    header = f'OAuth oauth_consumer_key="{emu.key}", oauth_token="{emu.token}"'
    ok = requests.get(f"{url}/1/members/me", headers={"Authorization": header}, timeout=10)
    assert ok.status_code == 200 and ok.json()["id"] == emu.me_id
    bad = f'OAuth oauth_consumer_key="{emu.key}", oauth_token="nope"'
    refused = requests.get(f"{url}/1/members/me", headers={"Authorization": bad}, timeout=10)
    assert (refused.status_code, refused.text) == (401, "invalid token")


def test_control_endpoints_need_no_credentials(served: tuple[TrelloEmulator, str]) -> None:
    emu, url = served
    _get(url, "/members/me", key=emu.key, token=emu.token)
    counts = requests.get(f"{url}/_emulator/requests", timeout=10).json()
    assert counts["by_path"]["/1/members/me"] == 1
    assert requests.delete(f"{url}/_emulator/requests", timeout=10).status_code == 204
    assert emu.requests.total == 0


# -- rate limits ----------------------------------------------------------------------------


def test_token_limit_answers_trellos_429(served: tuple[TrelloEmulator, str]) -> None:
    emu, url = served
    statuses = [_get(url, "/members/me/boards", key=emu.key, token=emu.token) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    refused = statuses[-1]
    assert refused.json() == {"error": TOKEN_EXCEEDED, "message": "Rate limit exceeded"}
    assert "Retry-After" not in refused.headers
    assert emu.rate_limit_hits == 1
    time.sleep(1.05)
    assert _get(url, "/members/me/boards", key=emu.key, token=emu.token).status_code == 200
    assert emu.rate_limit_hits == 1


def test_key_limit_spans_tokens(served: tuple[TrelloEmulator, str]) -> None:
    emu, url = served
    first, second, third = emu.tokens
    for _ in range(5):
        assert _get(url, "/members/me/boards", key=emu.key, token=first).status_code == 200
    for _ in range(3):
        assert _get(url, "/members/me/boards", key=emu.key, token=second).status_code == 200
    refused = _get(url, "/members/me/boards", key=emu.key, token=third)
    assert refused.status_code == 429
    assert refused.json()["error"] == KEY_EXCEEDED
    assert emu.rate_limit_hits == 1


def test_a_throttled_client_never_sees_a_429() -> None:
    emu = _emulator(rate_window_s=0.5, token_limit=10, key_limit=30)
    with emu.serve() as server:
        api = TrelloHttp(server.url, emu.key, emu.token)
        sent: list[float] = []
        for _ in range(35):  # 3.5 windows' worth, paced to 9 per window
            while len(sent) >= 9 and time.monotonic() - sent[-9] < 0.5 + 0.02:
                time.sleep(0.01)
            sent.append(time.monotonic())
            assert api.get("/members/me/boards").status_code == 200
        api.close()
    assert emu.rate_limit_hits == 0


def test_members_route_has_its_own_long_window() -> None:
    emu = _emulator(members_limit=2)
    with emu.serve() as server:
        api = TrelloHttp(server.url, emu.key, emu.token)
        assert [api.get("/members/me").status_code for _ in range(3)] == [200, 200, 429]
        assert api.get("/members/me/boards").status_code == 200  # nested: not counted
        api.close()
    assert emu.rate_limit_hits == 1


def test_rate_limits_can_be_switched_off() -> None:
    emu = _emulator(rate_limits=False)
    with emu.serve() as server:
        api = TrelloHttp(server.url, emu.key, emu.token)
        assert all(api.get("/members/me/boards").status_code == 200 for _ in range(120))
        api.close()
    assert emu.rate_limit_hits == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_counts_the_last_window_exactly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(window_s=10, token_limit=3, key_limit=100, clock=clock)
    for step in (0.0, 4.0, 8.0):
        clock.now = 1000 + step
        assert limiter.check("k", "t") is None
    clock.now = 1009.9
    assert limiter.check("k", "t") == TOKEN_EXCEEDED
    clock.now = 1010.0  # the first request has left the window
    assert limiter.check("k", "t") is None
    assert limiter.hits == 1 and limiter.hits_by_error[TOKEN_EXCEEDED] == 1


def test_fixed_window_resets_at_the_boundary() -> None:
    clock = FakeClock()
    limiter = RateLimiter(window_s=10, token_limit=3, key_limit=100, kind="fixed", clock=clock)
    clock.now = 1005.0
    assert [limiter.check("k", "t") for _ in range(4)] == [None, None, None, TOKEN_EXCEEDED]
    clock.now = 1010.0  # a new fixed window
    assert limiter.check("k", "t") is None


def test_too_many_429s_lock_the_key_out_for_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(window_s=10, token_limit=1, key_limit=100, lockout_429s=3, clock=clock)
    assert limiter.check("k", "a") is None
    assert [limiter.check("k", "a") for _ in range(4)] == [TOKEN_EXCEEDED] * 4
    assert limiter.check("k", "fresh-token") == KEY_EXCEEDED
    clock.now += 10.5
    assert limiter.check("k", "fresh-token") is None


# -- faults ---------------------------------------------------------------------------------


def test_injected_faults(served: tuple[TrelloEmulator, str]) -> None:
    emu, url = served
    emu.faults.inject(Fault("server_error", status=503, path="/1/boards", count=1))
    board_id = emu.board_id("Design Delivery")
    failed = _get(url, f"/boards/{board_id}", key=emu.key, token=emu.token)
    assert failed.status_code == 503
    assert _get(url, f"/boards/{board_id}", key=emu.key, token=emu.token).status_code == 200
    emu.faults.inject(Fault("drop", path="/1/members"))
    with pytest.raises(requests.ConnectionError):
        _get(url, "/members/me", key=emu.key, token=emu.token)
    emu.faults.inject(Fault("latency", seconds=0.3, path="/1/members"))
    started = time.monotonic()
    assert _get(url, "/members/me", key=emu.key, token=emu.token).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert emu.rate_limit_hits == 0


def test_injected_rate_limit_looks_like_trellos_and_is_counted(
    served: tuple[TrelloEmulator, str],
) -> None:
    emu, url = served
    emu.faults.inject(emu.rate_limit_fault(count=2, path="/1/boards", error=KEY_EXCEEDED))
    board_id = emu.board_id("Design Delivery")
    for _ in range(2):
        refused = _get(url, f"/boards/{board_id}", key=emu.key, token=emu.token)
        assert refused.status_code == 429 and "Retry-After" not in refused.headers
        assert refused.json() == {"error": KEY_EXCEEDED, "message": "Rate limit exceeded"}
    assert _get(url, f"/boards/{board_id}", key=emu.key, token=emu.token).status_code == 200
    requests.post(
        f"{url}/_emulator/faults", json={"kind": "rate_limit", "path": "/1/members"}, timeout=10
    )
    assert _get(url, "/members/me", key=emu.key, token=emu.token).status_code == 429
    assert emu.rate_limit_hits == 3
