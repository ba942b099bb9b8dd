"""`pulse sync`: pull every configured source into the store, then store today's analysis."""

from __future__ import annotations

import sys
import time

import click

from pulse.cli.common import EXIT_FAILED, config_option, fail, load, open_configured_store
from pulse.safetext import one_line


@click.command("sync")
@config_option
@click.option("--source", "-s", "names", multiple=True, help="Sync only this source (repeatable).")
@click.option("--full", is_flag=True, help="Re-read everything and run the id census now.")
@click.option("--no-progress", is_flag=True, help="Do not draw progress bars.")
@click.option(
    "--no-analysis",
    is_flag=True,
    help="Do not store today's analysis afterwards (risk/forecast then compute it on first use).",
)
def sync(
    config: str, names: tuple[str, ...], full: bool, no_progress: bool, no_analysis: bool
) -> None:
    """Pull every configured source into the store; only changes after the first time.

    Afterwards, when anything new arrived, today's analysis is stored so that `pulse risk`
    and `pulse forecast` answer at once.

    \b
    Examples:
      pulse sync
      pulse sync --source acme-jira --full
      pulse sync --no-analysis        (cron jobs that only sync)
    """
    from pulse.cli.progress import BarProgress
    from pulse.connectors.runner import sync_source
    from pulse.settings import ConfigError

    settings = load(config, secrets=True)
    if not settings.sources:
        fail(f"{config}: no [[sources]] configured")
    try:
        chosen = [settings.source(n) for n in names] if names else settings.sources
    except ConfigError as exc:
        fail(str(exc))
    store = open_configured_store(settings, create=True)
    failed = False
    for source in chosen:
        if no_progress or not sys.stderr.isatty():
            result = sync_source(source, store, full=full)
        else:
            with BarProgress(source.name) as bars:
                result = sync_source(source, store, full=full, progress=bars)
        click.echo(one_line(result.line(), 1000), err=not result.ok)
        failed |= not result.ok
    if not no_analysis and not failed:
        from pulse.reports.queries.analysis import refresh_analysis

        started = time.monotonic()
        if refresh_analysis(store, settings):
            click.echo(f"analysis for today stored in {time.monotonic() - started:.1f}s")
    if failed:
        sys.exit(EXIT_FAILED)
