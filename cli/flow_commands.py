"""`pulse export flow`: every item's date in each workflow column, for flow-analytics tools.

The `export` command in ``cli/main.py`` hands the ``flow`` table to :func:`export_flow`; the
work itself is :func:`reports.metrics.flow_export.flow_rows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.common import fail, load, open_configured_store, output_stream
from store.export import write_csv, write_json

if TYPE_CHECKING:
    import pandas as pd

as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Export the flow as known then: YYYY-MM-DD (the end of that day in the report time "
    "zone) or an ISO date-time; default now.",
)


def parse_as_of(text: str | None, tz: str) -> pd.Timestamp | None:
    """--as-of as a UTC instant: None for now, a bare date for the end of that local day, a
    date-time without zone read in the report zone."""
    import pandas as pd

    if text is None:
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        fail(f"--as-of {text!r} is not a date (YYYY-MM-DD) or ISO date-time")
    if stamp.tzinfo is None:
        if stamp == stamp.normalize() and "T" not in text and ":" not in text:
            stamp += pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        stamp = stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC")


def export_flow(config: str, fmt: str, out: str | None, as_of: str | None) -> None:
    """Write the flow export as CSV or JSON to ``out`` (atomically) or stdout."""
    from reports.dataset import load_dataset
    from reports.metrics.flow_export import flow_rows

    settings = load(config)
    store = open_configured_store(settings)
    when = parse_as_of(as_of, settings.report.timezone)
    columns, rows = flow_rows(load_dataset(store, settings, when))
    writer = write_csv if fmt == "csv" else write_json
    with output_stream(out) as stream:
        count = writer(columns, rows, stream)
    if out:
        click.echo(f"wrote {count} flow rows to {out}", err=True)
