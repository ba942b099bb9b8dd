"""`pulse`: sync Jira and Trello into the store, report on it, and answer delivery questions."""

from __future__ import annotations

import json
import logging
import sys
import time

import click
from rich.console import Console
from rich.table import Table

from cli import demo_commands, flow_commands
from cli.common import EXIT_FAILED, config_option, fail, load, open_configured_store, output_stream
from cli.progress import BarProgress
from cli.query_commands import forecast_command, risk_command, show_command
from cli.report_commands import report
from cli.serve_command import serve
from connectors.runner import sync_source
from settings import ConfigError
from store.export import EXPORTS, export_rows, write_csv, write_json
from store.status import source_status


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much to log on stderr.",
)
def cli(log_level: str) -> None:
    """Pulse tells a product organisation the truth about delivery.

    \b
    Examples:
      pulse sync                      sync every configured source
      pulse status --format json      freshness and counts per source
      pulse export items --format csv --out items.csv
    """
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The jira library logs request headers (credentials) at DEBUG: never let it.
    for noisy in ("jira", "urllib3", "requests_oauthlib", "oauthlib"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger().level))


@cli.command()
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
    settings = load(config)
    if not settings.sources:
        fail(f"{config}: no [[sources]] configured")
    try:
        chosen = [settings.source(n) for n in names] if names else settings.sources
    except ConfigError as exc:
        fail(str(exc))
    store = open_configured_store(settings)
    failed = False
    for source in chosen:
        if no_progress or not sys.stderr.isatty():
            result = sync_source(source, store, full=full)
        else:
            with BarProgress(source.name) as bars:
                result = sync_source(source, store, full=full, progress=bars)
        click.echo(result.line(), err=not result.ok)
        failed |= not result.ok
    if not no_analysis and not failed:
        from reports.queries.analysis import refresh_analysis

        started = time.monotonic()
        if refresh_analysis(store, settings):
            click.echo(f"analysis for today stored in {time.monotonic() - started:.1f}s")
    if failed:
        sys.exit(EXIT_FAILED)


@cli.command()
@config_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def status(config: str, fmt: str) -> None:
    """Per source: last successful sync, item counts, custom fields chosen, last error;
    then the schedule (next runs) and the most recent runs.

    \b
    Examples:
      pulse status
      pulse status --format json | jq '.sources[0].last_success'
      pulse status --format json | jq '.schedule[] | {job, next_run}'
    """
    from scheduler import recent_runs, schedule_preview

    settings = load(config)
    store = open_configured_store(settings)
    rows = source_status(store)
    schedule = schedule_preview(settings, store)
    runs = recent_runs(store, limit=10)
    if fmt == "json":
        document = {"sources": rows, "schedule": schedule, "recent_runs": runs}
        click.echo(json.dumps(document, indent=2, default=str))
        return
    table = Table(title="Pulse sources", title_justify="left")
    for column in (
        "source",
        "kind",
        "last success",
        "items",
        "deleted",
        "transitions",
        "sprints",
        "last error",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["source"],
            f"{row['kind']} ({row['deployment'] or '?'})",
            (row["last_success"] or "never")[:16].replace("T", " "),
            str(row["items"]),
            str(row["deleted"]),
            str(row["transitions"]),
            str(row["sprints"]),
            row["last_error"] or "",
        )
    console = Console()
    console.print(table)
    for row in rows:
        if row["fields"]:
            chosen = ", ".join(
                f"{role}={f['id']} ({f['how']})" for role, f in row["fields"].items()
            )
            console.print(f"[dim]{row['source']} fields:[/dim] {chosen}")
    console.print(_schedule_table(schedule))
    console.print(_runs_table(runs))
    click.echo(f"{len(rows)} sources, {sum(r['items'] for r in rows)} items")


def _when(value: object) -> str:
    return str(value or "")[:16].replace("T", " ")


def _schedule_table(schedule: list[dict[str, object]]) -> Table:
    table = Table(title="Schedule", title_justify="left")
    for column in ("job", "every", "next run", "last run", "last status", "served by"):
        table.add_column(column, overflow="fold")
    for job in schedule:
        table.add_row(
            str(job["job"]),
            str(job.get("every") or ""),
            _when(job.get("next_run")),
            _when(job.get("last_run")),
            str(job.get("last_status") or ""),
            str(job.get("served_by") or "no service running"),
        )
    return table


def _runs_table(runs: list[dict[str, object]]) -> Table:
    table = Table(title="Recent runs", title_justify="left")
    for column in ("job", "trigger", "started", "seconds", "status", "error"):
        table.add_column(column, overflow="fold")
    for run in runs:
        seconds = run.get("seconds")
        table.add_row(
            str(run["job"]),
            str(run.get("trigger") or ""),
            _when(run.get("started")),
            f"{seconds:.1f}" if isinstance(seconds, int | float) else "",
            str(run.get("status") or ""),
            str(run.get("error") or ""),
        )
    return table


@cli.command("export")
@config_option
@click.argument("table", type=click.Choice([*sorted(EXPORTS), "flow"]))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--out", "-o", default=None, help="Write to this file (atomically) instead of stdout."
)
@flow_commands.as_of_option
def export(config: str, table: str, fmt: str, out: str | None, as_of: str | None) -> None:
    """Write a normalized table for ad hoc analysis in any tool.

    `flow` is one row per item with its date in each workflow column, cycle and lead time
    (the format jira-agile-metrics and ActionableAgile read); --as-of applies to it.

    \b
    Examples:
      pulse export items --format csv --out items.csv
      pulse export transitions --format json | jq length
      pulse export flow --as-of 2026-11-16 --out flow.csv
    """
    if table == "flow":
        flow_commands.export_flow(config, fmt, out, as_of)
        return
    if as_of is not None:
        fail("--as-of applies to the flow export only")
    settings = load(config)
    store = open_configured_store(settings)
    columns, rows = export_rows(store, table)
    writer = write_csv if fmt == "csv" else write_json
    with output_stream(out) as stream:
        count = writer(columns, rows, stream)
    if out:
        click.echo(f"wrote {count} {table} rows to {out}", err=True)


@cli.command()
def demo() -> None:
    """Start the built-in emulators, sync them and write the Monday workbook (coming next)."""
    click.echo(
        "pulse demo: not yet — the demo lands with the emulators; run `make test` meanwhile."
    )


# Command groups that live in their own modules register here, one line each.
cli.add_command(risk_command)
cli.add_command(forecast_command)
cli.add_command(show_command)
cli.add_command(serve)
cli.add_command(demo_commands.demo)
cli.add_command(demo_commands.emulate)
cli.add_command(report)


def main() -> None:
    """Console entry point."""
    cli(prog_name="pulse")
