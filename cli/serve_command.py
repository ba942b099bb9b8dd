"""`pulse serve`: run the service (scheduler.py) in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from pulse.cli.common import EXIT_FAILED, config_option, fail, load, open_configured_store

if TYPE_CHECKING:
    from pulse.scheduler import StopSignals
    from pulse.settings import Settings

EXIT_LOCKED = 3  # another service already serves this store (or these sources)
LEVELS = ["debug", "info", "warning", "error"]


@click.command("serve")
@config_option
@click.option(
    "--source",
    "-s",
    "names",
    multiple=True,
    help="Serve only this source (repeatable): several services, disjoint sources, one store.",
)
@click.option(
    "--report/--no-report",
    default=None,
    help="Write the weekly report here  [default: yes; no with --source].",
)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default=None,
    help="Overrides [schedule] log_level (and pulse --log-level).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    config: str,
    names: tuple[str, ...],
    report: bool | None,
    log_level: str | None,
) -> None:
    """Sync every source at its interval and write the weekly report, until stopped.

    One service per store: a second one on the same store refuses (exit 3). On PostgreSQL,
    several services can share a store when each owns its own sources (--source); give one
    of them --report. SIGTERM or Ctrl-C stops after the page in hand, exit 0.

    \b
    Examples:
      pulse serve
      pulse serve --log-level debug
      pulse serve --source acme-jira --report
    """
    from pulse.settings import ConfigError

    settings = load(config, secrets=True)
    try:
        for name in names:
            settings.source(name)
    except ConfigError as exc:
        fail(str(exc))
    with_report = not names if report is None else report
    if not (names or settings.sources) and not with_report:
        fail(f"{config}: nothing to serve: no [[sources]] and --no-report")
    level = _level(ctx, log_level, settings.schedule.log_level)
    _configure_logging(level)
    from pulse.scheduler import StopSignals  # APScheduler loads only for the service

    with StopSignals() as signals:
        answers = _answer_server(config, level, settings.schedule.answer_server)
        code, clean = _serve(settings, list(names) or None, with_report, signals, answers)
    if not clean:
        # A job ignored the stop (a request or the report still running): leave without it;
        # its open transaction rolls back, so the store keeps whole pages only.
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _serve(
    settings: Settings,
    names: list[str] | None,
    with_report: bool,
    signals: StopSignals,
    answers: AbstractContextManager[None],
) -> tuple[int, bool]:
    from sqlalchemy.exc import SQLAlchemyError

    from pulse.scheduler import Service, run_service
    from pulse.scheduling.lock import LockHeld, acquire, service_scopes

    store = open_configured_store(settings, create=True)
    try:
        lock = acquire(store, service_scopes(names, with_report))
    except LockHeld as exc:
        store.dispose()
        fail(str(exc), EXIT_LOCKED)
    service = Service(settings, store, sources=names, report=with_report)
    try:
        with answers:
            code, clean = run_service(service, lock, signals)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"store error: {reason}", EXIT_FAILED)
    finally:
        lock.release()
    if clean:
        store.dispose()
    return code, clean


def _answer_server(config: str, level: str, enabled: bool) -> AbstractContextManager[None]:
    """The answer server that makes `pulse risk|forecast|show` fast while the service runs."""
    if not enabled or os.name != "posix":
        return nullcontext()
    from pulse.cli.answer_server import running

    return running(config, level)


def _level(ctx: click.Context, option: str | None, configured: str) -> str:
    """--log-level here, else an explicit `pulse --log-level`, else [schedule] log_level."""
    if option:
        return option
    parent = ctx.parent
    if parent is not None and parent.get_parameter_source("log_level") not in (
        None,
        ParameterSource.DEFAULT,
    ):
        return str(parent.params["log_level"])
    return configured


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    debug = level.lower() == "debug"
    # One structured line per job run comes from pulse.service; the runner's own summary
    # and APScheduler's chatter would repeat it.
    logging.getLogger("pulse.connectors.runner").setLevel(
        logging.DEBUG if debug else logging.WARNING
    )
    logging.getLogger("apscheduler").setLevel(logging.INFO if debug else logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.INFO if debug else logging.WARNING)
    logging.getLogger("pulse.reports.workbook").setLevel(
        logging.DEBUG if debug else logging.WARNING
    )
    for noisy in ("jira", "urllib3", "requests_oauthlib", "oauthlib"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
