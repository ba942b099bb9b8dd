"""`pulse report`: write reports from the store (the Monday workbook)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from pulse.cli.common import EXIT_FAILED, config_option, fail, load, open_configured_store


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--as-of {text!r} is not a date (use YYYY-MM-DD, e.g. 2026-11-16)")


@click.group("report")
def report() -> None:
    """Write reports from the store: the Monday workbook.

    \b
    Examples:
      pulse report weekly
      pulse report weekly --as-of 2026-11-16 --out ~/reports
    """


@report.command("weekly", short_help="Write the Monday workbook (pulse-weekly-YYYY-MM-DD.xlsx).")
@config_option
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    default=None,
    help="Report the week containing this day (YYYY-MM-DD), as the store knew it at the end of "
    "that day. Default: now.",
)
@click.option(
    "--out",
    "out",
    metavar="DIR",
    default=None,
    help="Directory for the workbook. Default: [report] out_dir from the configuration.",
)
def weekly(config: str, as_of: str | None, out: str | None) -> None:
    """Write the Monday workbook: DIR/pulse-weekly-YYYY-MM-DD.xlsx (the Monday of the week).

    The file is written atomically, and this week's roadmap snapshot is stored so that next
    week's workbook shows what changed. Prints one line: the path and the headline.

    \b
    Examples:
      pulse report weekly
      pulse report weekly --out ./reports
      pulse report weekly --as-of 2026-11-16      # rebuild last week's report
    """
    day = _parse_day(as_of)
    settings = load(config)
    store = open_configured_store(settings)
    if store.read_only:
        fail(
            f"the store {store.display_url} is read-only: the weekly report saves this week's "
            "snapshot in it (ask questions with `pulse risk` instead)",
            EXIT_FAILED,
        )
    # The workbook pulls in pandas and openpyxl; only this command needs them.
    from pulse.reports.workbook import ReportError, ReportFailed, write_weekly
    from pulse.safetext import one_line

    try:
        result = write_weekly(settings, store, as_of=day, out_dir=Path(out) if out else None)
    except ReportFailed as exc:
        fail(one_line(exc, 300), EXIT_FAILED)
    except ReportError as exc:
        fail(one_line(exc, 300))
    except OSError as exc:
        fail(f"cannot write the workbook: {exc.strerror or exc}", EXIT_FAILED)
    finally:
        store.dispose()
    click.echo(f"{result.path}: {result.headline}")
