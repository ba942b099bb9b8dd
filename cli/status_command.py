"""`pulse status`: per-source freshness and counts, the schedule and the most recent runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import click

from pulse.cli.common import config_option, load, open_configured_store
from pulse.safetext import inert_tree, json_text

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

    from pulse.scheduler import recent_runs, schedule_preview
    from pulse.store.status import source_status

    settings = load(config)
    store = open_configured_store(settings)
    rows = source_status(store)
    schedule = schedule_preview(settings, store)
    runs = recent_runs(store, limit=10)
    for row in rows:
        row["url"] = _without_userinfo(row["url"])
    if fmt == "json":
        document = {"sources": rows, "schedule": schedule, "recent_runs": runs}
        click.echo(json_text(json.dumps(document, indent=2, default=str)))
        return
    rows, schedule, runs = inert_tree(rows), inert_tree(schedule), inert_tree(runs)
    table = _table("Pulse sources")
    for column in ("source", "kind", "last success", "items", "deleted", "trans.", "sprints"):
        table.add_column(column, overflow="fold", no_wrap=column in ("source", "last success"))
    for row in rows:
        table.add_row(
            row["source"],
            f"{row['kind']} {row['deployment'] or '?'}" if row["kind"] == "jira" else row["kind"],
            (row["last_success"] or "never")[:16].replace("T", " "),
            str(row["items"]),
            str(row["deleted"]),
            str(row["transitions"]),
            str(row["sprints"]),
        )
    console = Console(markup=False, emoji=False, highlight=False)
    console.print(table)
    for row in rows:
        if row["last_error"]:
            console.print(f"{row['source']} last error: {row['last_error']}", style="red")
        if row["fields"]:
            console.print(f"{row['source']} fields: {_fields(row['fields'])}", style="dim")
    console.print(_schedule_table(schedule))
    console.print(_runs_table(runs))
    click.echo(f"{len(rows)} sources, {sum(r['items'] for r in rows)} items")


def _without_userinfo(url: str) -> str:
    """A URL as stored by an older Pulse, without the user or password it may hold."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _fields(fields: dict[str, Any]) -> str:
    """The custom fields a source chose: Jira's {role: {id, how}}, Trello's plain settings."""
    parts = []
    for role, chosen in fields.items():
        if isinstance(chosen, dict):
            parts.append(f"{role}={chosen.get('id')} ({chosen.get('how')})")
        elif chosen not in (None, "", []):
            shown = ", ".join(map(str, chosen)) if isinstance(chosen, list) else chosen
            parts.append(f"{role}={shown}")
    return "; ".join(parts)


def _table(title: str) -> Table:
    """A table in the narrow style that keeps `pulse status` within 80 columns."""
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _when(value: object) -> str:
    return str(value or "")[:16].replace("T", " ")


def _schedule_table(schedule: list[dict[str, object]]) -> Table:

    table = _table("Schedule")
    for column in ("job", "every", "next run", "last run", "last status", "served by"):
        table.add_column(column, overflow="fold", no_wrap=column in ("job", "next run", "last run"))
    for job in schedule:
        table.add_row(
            str(job["job"]),
            str(job.get("every") or ""),
            _when(job.get("next_run")),
            _when(job.get("last_run")),
            str(job.get("last_status") or ""),
            str(job.get("served_by") or "none"),
        )
    return table


def _runs_table(runs: list[dict[str, object]]) -> Table:

    table = _table("Recent runs")
    for column in ("job", "trigger", "started", "seconds", "status", "error"):
        table.add_column(column, overflow="fold", no_wrap=column == "started")
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
