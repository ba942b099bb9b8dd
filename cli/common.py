"""What every command shares: loading config and store, one-line errors, atomic output files."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, TextIO

import click

from settings import ConfigError, Settings, load_settings
from store import Store, StoreError, open_store

EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    click.echo(f"pulse: error: {message}", err=True)
    sys.exit(code)


def load(config: str) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))


def open_configured_store(settings: Settings) -> Store:
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


config_option = click.option(
    "--config",
    "-c",
    default="pulse.toml",
    envvar="PULSE_CONFIG",
    show_default=True,
    help="Configuration file (or set PULSE_CONFIG).",
)
