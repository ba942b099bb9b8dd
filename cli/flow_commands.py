"""`pulse export flow`: every item's date in each workflow column, for flow-analytics tools.

The `export` command in ``cli/main.py`` hands the ``flow`` table to :func:`export_flow`; the
work itself is :func:`reports.metrics.flow_export.flow_rows`.
"""

from __future__ import annotations

import click

from cli.common import as_of_instant, load, open_configured_store, output_stream
from store.export import write_csv, write_json

as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Export the flow as known then: YYYY-MM-DD (the end of that day in the report time "
    "zone) or an ISO date-time; default now.",
)


def export_flow(config: str, fmt: str, out: str | None, as_of: str | None) -> None:
    """Write the flow export as CSV or JSON to ``out`` (atomically) or stdout."""
    import pandas as pd

    from reports.dataset import load_dataset
    from reports.metrics.flow_export import flow_rows

    settings = load(config)
    store = open_configured_store(settings)
    when = None if as_of is None else pd.Timestamp(as_of_instant(as_of, settings.report.timezone))
    columns, rows = flow_rows(load_dataset(store, settings, when))
    writer = write_csv if fmt == "csv" else write_json
    with output_stream(out) as stream:
        count = writer(columns, rows, stream)
    if out:
        click.echo(f"wrote {count} flow rows to {out}", err=True)
