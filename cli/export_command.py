"""`pulse export`: a normalized table, or the per-item flow, as CSV or JSON for any tool."""

from __future__ import annotations

from typing import Any

import click

from pulse.cli.common import (
    checked_as_of,
    config_option,
    fail,
    load,
    open_configured_store,
    output_stream,
)
from pulse.cli.query_commands import raw_option
from pulse.store.export import EXPORTS, export_rows, write_csv, write_json


@click.command("export")
@config_option
@click.argument("table", type=click.Choice([*sorted(EXPORTS), "flow"]))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--out", "-o", default=None, help="Write to this file (atomically) instead of stdout."
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Export the flow as known then: YYYY-MM-DD (the end of that day in the report time "
    "zone) or an ISO date-time; default now.",
)
@raw_option
def export(
    config: str, table: str, fmt: str, out: str | None, as_of: str | None, raw: bool
) -> None:
    """Write a normalized table for ad hoc analysis in any tool.

    `flow` is one row per item with its date in each workflow column, cycle and lead time
    (the format jira-agile-metrics and ActionableAgile read); --as-of applies to it.

    \b
    Examples:
      pulse export items --format csv --out items.csv
      pulse export transitions --format json | jq length
      pulse export flow --as-of 2026-11-16 --out flow.csv
      pulse export items --raw --out exact.csv   (text exactly as stored)
    """
    if table == "flow":
        export_flow(config, fmt, out, as_of, raw)
        return
    if as_of is not None:
        fail("--as-of applies to the flow export only")
    settings = load(config)
    store = open_configured_store(settings)
    columns, rows = export_rows(store, table)
    count = _write(columns, rows, fmt, out, raw)
    if out:
        click.echo(f"wrote {count} {table} rows to {out}", err=True)


def _write(columns: list[str], rows: Any, fmt: str, out: str | None, raw: bool) -> int:
    """Write the rows as CSV (cleaned unless ``raw``) or JSON to ``out`` or stdout."""
    with output_stream(out) as stream:
        if fmt == "csv":
            return write_csv(columns, rows, stream, raw)
        return write_json(columns, rows, stream)


def export_flow(
    config: str, fmt: str, out: str | None, as_of: str | None, raw: bool = False
) -> None:
    """Write the flow export (:func:`pulse.reports.metrics.flow_export.flow_rows`) as CSV or JSON to
    ``out`` (atomically) or stdout."""
    import pandas as pd

    from pulse.reports.dataset import load_dataset
    from pulse.reports.metrics.flow_export import flow_rows

    settings = load(config)
    store = open_configured_store(settings)
    instant = checked_as_of(store, as_of, settings.report.timezone)
    when = None if as_of is None else pd.Timestamp(instant)
    columns, rows = flow_rows(load_dataset(store, settings, when))
    count = _write(columns, rows, fmt, out, raw)
    if out:
        click.echo(f"wrote {count} flow rows to {out}", err=True)
