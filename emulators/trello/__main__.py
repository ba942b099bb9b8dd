"""Run the Trello emulator standalone: `python -m pulse.emulators.trello --port P --seed N --cards
N`.

Prints one JSON line (`url` is the API root for `/1/...`, plus `key` and `token`), then serves
until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime
from types import FrameType

from pulse import clock

from .config import TrelloSpec
from .emulator import TrelloEmulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pulse.emulators.trello", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cards", type=int, default=400)
    parser.add_argument("--boards", type=int, default=3)
    parser.add_argument(
        "--now", default=None, help="ISO time, with zone (default: the latest 12:00 UTC)"
    )
    parser.add_argument("--no-rate-limits", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build the emulator, print its coordinates as JSON, serve until a stop signal."""
    args = _parse(argv)
    spec = TrelloSpec(
        seed=args.seed,
        cards=args.cards,
        boards=args.boards,
        now=datetime.fromisoformat(args.now) if args.now else clock.last_noon(),
        rate_limits=not args.no_rate_limits,
    )
    emulator = TrelloEmulator(spec)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with emulator.serve(host=args.host, port=args.port) as server:
        line = {
            "url": server.url,
            "api": f"{server.url}/1",
            "key": emulator.key,
            "token": emulator.token,
            "boards": {b.name: b.id for b in emulator.truth.boards.values()},
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
