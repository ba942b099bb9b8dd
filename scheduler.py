"""Pulse's service, `pulse serve`: sync every source at its interval, write the Monday
workbook, deliver it. This is the entry point: it runs the service until a signal.

The service itself lives in `scheduling/`, one module per job: `service` (the scheduler and its
jobs), `weekly` (when the report runs, and catch-up), `delivery` (copy and e-mail), `lock`
(one service per store or source), `logline` (the log line each run ends in), `status` (what
`pulse status` shows). The run history is kept by the store (`store/runs.py`).

Stopping (SIGTERM, SIGINT) sets the event every running sync checks between pages: the page in
hand is committed, the run is recorded as interrupted, and the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from types import FrameType
from typing import Any

from pulse.scheduling.service import LOCK_CHECK_EVERY, SHUTDOWN_TIMEOUT, Service
from pulse.store.lock import ServiceLock

log = logging.getLogger("pulse.service")


class StopSignals:
    """SIGTERM and SIGINT ask the service to stop; a second one means: stop now.

    Installed as early as possible (`with StopSignals() as signals:`), so a stop requested
    while the service is still starting is honoured too.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signum
        self.count += 1
        if self.count > 1:  # impatient: leave now; a page in flight rolls back
            os.write(2, b"pulse serve: second signal; exiting now\n")
            os._exit(1)


def run_service(
    service: Service,
    lock: ServiceLock,
    signals: StopSignals,
    *,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    lock_check_every: float = LOCK_CHECK_EVERY,
) -> tuple[int, bool]:
    """Run until a signal or `service.stop`; return (exit code, whether every job ended)."""
    code = 0
    if signals.received is None:
        service.start()
        log.info("pulse serve: running; SIGTERM or Ctrl-C stops")
    next_check = time.monotonic() + lock_check_every
    while not service.stop.is_set() and signals.received is None:
        time.sleep(0.2)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + lock_check_every
            if not lock.alive():
                log.error("lost the store lock (database connection gone); stopping")
                code = 1
                break
    if signals.received is not None:
        log.info("stopping on %s", signal.Signals(signals.received).name)
    clean = service.shutdown(shutdown_timeout)
    log.info("pulse serve: stopped%s", "" if clean else " (some runs did not finish)")
    return code, clean
