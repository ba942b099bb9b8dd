"""Trello sync benchmark: a full sync of a large board set against a bare download of the same
pages.

Run with `python -m benchmarks.trello_sync_bench [--cards 20000]`. The emulator runs in its own
process, without rate limits, and the sync runs with its throttle off, so both sides download
as fast as they can. In the same run we measure:

- the full sync, in this process (so `ru_maxrss` is the sync's peak RSS), recording every
  request it sends;
- baseline: a bare `requests` client downloading exactly those requests again (and parsing the
  JSON); from what it receives, the minimum number of pages (1000 cards or actions per page,
  plus each board's structure requests);
- requests the sync made ÷ that minimum;
- an incremental sync after 100 changes made through the REST API.

With `--repeat N` every measurement is taken N times (a fresh store for each full sync, rounds
interleaved so that load from elsewhere hits both sides) and the best is shown. Figures are
printed against the baseline; this is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

import pulse.connectors.trello.client as trello_client
from pulse.connectors.trello import sync_trello
from pulse.connectors.trello.client import RateLimit
from pulse.settings import TrelloSource
from pulse.store import open_store
from pulse.store.writes import register_source

ROOT = Path(__file__).resolve().parents[1]
PAGE = 1000
UNTHROTTLED = RateLimit(requests=10**9, window=10.0)


Sent = list[tuple[str, dict[str, Any]]]


def start_emulator(
    cards: int, boards: int, seed: int
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulse.emulators.trello", "--port", "0", "--seed", str(seed),
         "--cards", str(cards), "--boards", str(boards), "--no-rate-limits"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def record_requests() -> Sent:
    """Make every Trello session log (url, params) of what it sends (credentials dropped)."""
    sent: Sent = []
    original = trello_client.TrelloSession.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        params = dict(kwargs.get("params") or {})
        sent.append((url, {k: v for k, v in params.items() if k not in ("key", "token")}))
        return original(self, method, url, *args, **kwargs)

    trello_client.TrelloSession.request = request  # type: ignore[method-assign,assignment]
    return sent


def bare_download(info: dict[str, Any], sent: Sent) -> tuple[float, int]:
    """GET the same URLs with a plain client; return seconds and the minimum pages needed."""
    session = requests.Session()
    auth = {"key": info["key"], "token": info["token"]}
    base = info["url"].rstrip("/")
    paged: dict[str, int] = {}
    single = 0
    started = time.perf_counter()
    for url, params in sent:
        target = url.replace(trello_client.TRELLO_API, base)
        body = session.get(target, params={**params, **auth}, timeout=120).json()
        path = target.split("?", 1)[0]
        if "limit" in params and path.endswith(("/cards", "/actions")):
            paged[path] = paged.get(path, 0) + len(body)
        else:
            single += 1
    seconds = time.perf_counter() - started
    return seconds, single + sum(max(1, math.ceil(n / PAGE)) for n in paged.values())


def mutate(info: dict[str, Any], count: int) -> None:
    """Make `count` changes through the REST API: moves, archives, renames, deletions, new
    cards and moves between boards."""
    session = requests.Session()
    auth = {"key": info["key"], "token": info["token"]}
    api = info["url"].rstrip("/") + "/1"
    boards = list(info["boards"].values())
    delivery = info["boards"]["Design Delivery"]
    lists = session.get(f"{api}/boards/{delivery}/lists", params=auth, timeout=60).json()
    cards = session.get(
        f"{api}/boards/{delivery}/cards/open", params={**auth, "fields": "idList"}, timeout=120
    ).json()
    for index in range(count):
        card = cards[index]
        kind = index % 10
        if kind < 4:
            open_lists = [lst["id"] for lst in lists if not lst["closed"]]
            change = {"idList": next(i for i in open_lists if i != card["idList"])}
        elif kind < 6:
            change = {"closed": "true"}
        elif kind == 6:
            change = {"name": f"Renamed {index}", "due": "2026-12-24T12:00:00.000Z"}
        elif kind == 7:
            change = {"idBoard": boards[2]}
        elif kind == 8:
            session.delete(f"{api}/cards/{card['id']}", params=auth, timeout=60).raise_for_status()
            continue
        else:
            session.post(f"{api}/cards", params={**auth, "idList": lists[0]["id"],
                                                 "name": f"New card {index}"}, timeout=60,
                         ).raise_for_status()  # fmt: skip
            continue
        answer = session.put(f"{api}/cards/{card['id']}", params={**auth, **change}, timeout=60)
        answer.raise_for_status()


def requests_made(info: dict[str, Any]) -> int:
    return int(requests.get(f"{info['url']}/_emulator/requests", timeout=10).json()["total"])


def reset_requests(info: dict[str, Any]) -> None:
    requests.delete(f"{info['url']}/_emulator/requests", timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--boards", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best one is shown")
    args = parser.parse_args()

    generated = time.perf_counter()
    proc, info = start_emulator(args.cards, args.boards, args.seed)
    generated = time.perf_counter() - generated
    try:
        source = TrelloSource(
            name="bench", kind="trello", key=info["key"], token=info["token"], url=info["url"],
            boards=list(info["boards"].values()), roadmap_boards=["Design Roadmap"],
            fields={"points": "Points"},  # type: ignore[arg-type]
        )  # fmt: skip
        sent = record_requests()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        syncs, downloads, incrementals = [], [], []
        with tempfile.TemporaryDirectory() as folder:
            for round_ in range(args.repeat):  # rounds interleave, so load spikes hit both sides
                store = open_store(f"sqlite:///{Path(folder) / f'pulse{round_}.db'}")
                with store.transaction() as conn:
                    source_id = register_source(conn, source.name, "trello", source.url)
                sent.clear()
                reset_requests(info)
                started = time.perf_counter()
                full = sync_trello(source, store, source_id, rate=UNTHROTTLED)
                syncs.append(time.perf_counter() - started)
                made = requests_made(info)
                if round_ == 0:
                    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                recorded = list(sent)
                base_seconds, min_pages = bare_download(info, recorded)
                downloads.append(base_seconds)
                mutate(info, 100)
                reset_requests(info)
                started = time.perf_counter()
                incr = sync_trello(source, store, source_id, rate=UNTHROTTLED)
                incrementals.append(time.perf_counter() - started)
                incr_made = requests_made(info)
                store.dispose()
        actions = full.extra.get("actions", 0)
        lines = [
            f"cards / boards           {args.cards} / {len(info['boards'])}  "
            f"(emulator built in {generated:.1f} s, in its own process; best of {args.repeat})",
            f"bare download            {min(downloads):7.1f} s  ({len(recorded)} GETs, parsed)",
            f"full sync                {min(syncs):7.1f} s  ({full.summary()}; {actions} actions)",
            f"sync ÷ download          {min(syncs) / min(downloads):7.2f}",
            f"requests ÷ min pages     {made / min_pages:7.3f}  "
            f"({made} requests, {min_pages} pages)",
            f"peak RSS of sync         {peak_mb:7.0f} MB (before the sync: {rss_before:.0f} MB)",
            f"incremental, 100 changes {min(incrementals):7.2f} s  ({incr_made} requests; "
            f"{incr.summary()})",
        ]
        print("\n".join(lines))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
