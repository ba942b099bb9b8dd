"""`pulse status`: per-source freshness and counts, the schedule and the most recent runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from cli.common import config_option, load, open_configured_store

if TYPE_CHECKING:
    from rich.table import Table


@click.command("status")
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
    from rich.console import Console
    from rich.table import Table

    from scheduler import recent_runs, schedule_preview
    from store.status import source_status

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
    from rich.table import Table

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
    from rich.table import Table

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
