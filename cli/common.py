"""What every command shares: loading config and store, one-line errors, atomic output files."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO
from zoneinfo import ZoneInfo

import click

import clock

if TYPE_CHECKING:
    from settings import Settings
    from store import Store

EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    click.echo(f"pulse: error: {message}", err=True)
    sys.exit(code)


def load(config: str, secrets: bool = False) -> Settings:
    """The validated settings from ``config``; a problem is one line and exit 2.

    ``secrets``: the command talks to Jira or Trello, so every secret's environment variable
    must be set; commands that only read the store start without them."""
    from settings import ConfigError, load_settings

    try:
        return load_settings(config, secrets=secrets)
    except ConfigError as exc:
        fail(str(exc))


def open_configured_store(settings: Settings) -> Store:
    """The configured store, migrated; a problem is one line and exit 1."""
    from store import StoreError, open_store

    try:
        return open_store(settings.store.url)
    except StoreError as exc:
        fail(str(exc), EXIT_FAILED)


@contextmanager
def output_stream(out: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically: a temporary file renamed into place on success."""
    if out is None or out == "-":
        yield sys.stdout
        return
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def as_of_instant(value: str | None, tz: str) -> datetime:
    """--as-of: a date means the end of that day in the report zone; a datetime is taken as
    given (naive = report zone); none means now. An aware UTC datetime."""
    if value is None:
        return clock.now()
    zone = ZoneInfo(tz)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            fail(f"--as-of {value!r} is not a date or date-time (use YYYY-MM-DD)")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return end.astimezone(UTC) - timedelta(microseconds=1)


config_option = click.option(
    "--config",
    "-c",
    default="pulse.toml",
    envvar="PULSE_CONFIG",
    show_default=True,
    help="Configuration file (or set PULSE_CONFIG).",
)
