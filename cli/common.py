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

from pulse import clock
from pulse.safetext import one_line

if TYPE_CHECKING:
    from pulse.settings import Settings
    from pulse.store import Store

EXIT_FAILED = 1
EXIT_USAGE = 2
STALE_AFTER = timedelta(days=1)  # a default (now) answer this long after the last sync says so
opened_store: str | None = None  # the store this command opened, for an error that names it


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit non-zero; the message may quote data (a title, a
    board name), so it is cleaned of control characters first."""
    click.echo(f"pulse: error: {one_line(message, 1000)}", err=True)
    sys.exit(code)


def load(config: str, secrets: bool = False) -> Settings:
    """The validated settings from ``config``; a problem is one line and exit 2.

    ``secrets``: the command talks to Jira or Trello, so every secret's environment variable
    must be set; commands that only read the store start without them."""
    from pulse.settings import ConfigError, load_settings

    try:
        return load_settings(config, secrets=secrets)
    except ConfigError as exc:
        fail(str(exc))


def open_configured_store(settings: Settings, create: bool = False) -> Store:
    """The configured store, migrated; a problem is one line and exit 1.

    Only ``create`` (sync, serve) makes a store that does not exist: every other command refuses
    it and creates nothing, so a typo in [store] url never answers "0 at risk"."""
    from pulse.store import StoreError, open_store

    global opened_store
    try:
        store = open_store(settings.store.url, create=create)
    except StoreError as exc:
        fail(str(exc), EXIT_FAILED)
    opened_store = store.display_url
    return store


def describe_failure(exc: Exception) -> str:
    """One line for an error no command expected: the store, a file, memory, or anything else
    (whose traceback `--log-level debug` shows)."""
    dbapi = sys.modules.get("sqlalchemy.exc")
    if dbapi is not None and isinstance(exc, dbapi.DBAPIError):
        reason = one_line(exc.orig if exc.orig is not None else exc, 200)
        return f"cannot read store {opened_store or '?'}: {reason} (is the file damaged?)"
    if isinstance(exc, MemoryError):
        return "out of memory: narrow the question (filters, fewer trials)"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or one_line(exc)}"
    return (
        f"unexpected {type(exc).__name__}: {one_line(exc, 200)} "
        "(run with --log-level debug to see where)"
    )


@contextmanager
def output_stream(out: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically: a temporary file renamed into place on success.
    A directory that cannot be written is one line and exit 1, with nothing left behind."""
    if out is None or out == "-":
        yield sys.stdout
        return
    target = Path(out)
    if target.is_dir():
        fail(f"--out {out} is a directory: name the file to write", EXIT_FAILED)
    if target.exists() and not target.is_file():  # a device or FIFO would be replaced
        fail(f"--out {out} is not a regular file: name a file, or - for stdout", EXIT_FAILED)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}", EXIT_FAILED)
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


def checked_as_of(store: Store, value: str | None, tz: str) -> datetime:
    """The --as-of instant (:func:`as_of_instant`), refused when the store cannot answer it:
    an empty store, a day before its first item, after its last sync, or in the future. The
    default (now) is answered, with a note on stderr when the last sync is over a day old."""
    from pulse.store.status import data_span

    when = as_of_instant(value, tz)
    first, last = data_span(store)
    if first is None:
        fail(f"the store {store.display_url} holds no items: run `pulse sync` first", EXIT_FAILED)
    zone = ZoneInfo(tz)
    if value is None:
        if last is not None and when - last > STALE_AFTER:
            click.echo(
                f"pulse: note: the store's data ends at the last sync "
                f"({last.astimezone(zone):%Y-%m-%d %H:%M} {tz}, {(when - last).days} days ago); "
                "nothing since then is counted: run `pulse sync` first",
                err=True,
            )
        return when
    day = when.astimezone(zone).date()
    if day > clock.now().astimezone(zone).date():
        fail(f"--as-of {value} is in the future: the store can only answer for the past")
    if when < first:
        first_day = first.astimezone(zone).date()
        fail(f"--as-of {value} is before the store's first item (created {first_day})")
    if last is not None and day > last.astimezone(zone).date():
        fail(
            f"--as-of {value} is after the store's data, which ends at the last sync "
            f"({last.astimezone(zone):%Y-%m-%d %H:%M} {tz}): run `pulse sync` or pick a "
            "date up to then"
        )
    return when


config_option = click.option(
    "--config",
    "-c",
    default="pulse.toml",
    envvar="PULSE_CONFIG",
    show_default=True,
    help="Configuration file (or set PULSE_CONFIG).",
)
