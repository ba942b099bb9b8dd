"""The Monday workbook: load the store as of a moment, compute every metric, lay out eight
sheets, write the file atomically, then store this week's roadmap snapshot and baselines.

Flow: ``load_dataset(...)`` → ``pipeline.weekly`` (every metric, and "last week" from the same
engine as of a week earlier) → :func:`build_workbook` → :func:`save_atomically` →
``save_snapshot`` / ``save_baselines``. The stored snapshots and baselines are an audit trail of
what was reported; no report reads them, so a report for a past day is the same whatever ran.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl import Workbook

from pulse import clock
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics.pipeline import weekly
from pulse.settings import Settings
from pulse.store import Store
from pulse.store.snapshots import save_baselines, save_snapshot

from .context import ReportContext
from .definitions import write_definitions
from .facts import moved_items, source_facts
from .figures import Figures
from .flow import write_flow
from .quality import write_quality
from .risks import write_risks
from .roadmap import write_roadmap
from .summary import write_summary
from .timelines import write_timelines
from .velocity import write_velocity

log = logging.getLogger(__name__)

SHEETS: tuple[str, ...] = (
    "Summary",
    "Roadmap",
    "Timelines",
    "Velocity",
    "Flow",
    "Risks",
    "Data quality",
    "Definitions",
)
FILE_PREFIX = "pulse-weekly-"
PRIVATE_FILE = 0o600  # the workbook names every item: readable by its owner only


class ReportError(Exception):
    """The request cannot be served (e.g. --as-of in the future); one line for the user."""


class ReportFailed(ReportError):
    """The report could not be produced from this store; the cause, if any, is chained."""


@dataclass(frozen=True)
class WeeklyReport:
    """A written workbook: where it is, its one-line headline, and the Monday of its week."""

    path: Path
    headline: str
    week: date


def resolve_as_of(
    as_of: date | datetime | None, tz: str, now: pd.Timestamp | None = None
) -> pd.Timestamp:
    """The UTC instant a report describes.

    None → now. A date → the end of that day in the report zone (or now, if that is today); a
    date after today is refused. A naive datetime is read in the report zone.
    """
    current = now if now is not None else pd.Timestamp(clock.now())
    if as_of is None:
        return current
    if isinstance(as_of, datetime):
        stamp = pd.Timestamp(as_of)
        stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp
        return stamp.tz_convert("UTC")
    today = current.tz_convert(tz).date()
    if as_of > today:
        raise ReportError(f"--as-of {as_of.isoformat()} is in the future (today is {today})")
    end = pd.Timestamp(datetime.combine(as_of, time.max)).tz_localize(tz).tz_convert("UTC")
    return min(end, current)


def report_week(as_of: pd.Timestamp, tz: str) -> date:
    """Monday of the week containing ``as_of`` in the report zone."""
    day = as_of.tz_convert(tz).date()
    return day - timedelta(days=day.weekday())


def report_path(out_dir: Path, week: date) -> Path:
    """``out_dir/pulse-weekly-YYYY-MM-DD.xlsx``, checked to stay inside ``out_dir``.

    The name is built from a date only; the file itself is not resolved, so a link planted at
    that name is replaced by the new workbook (``os.replace``), never followed.
    """
    base = out_dir.expanduser().resolve()
    name = f"{FILE_PREFIX}{week.isoformat()}.xlsx"
    target = base / name
    if Path(name).name != name or target.parent != base:
        raise ReportError(f"report path {target} escapes the output directory {base}")
    return target


def build_context(settings: Settings, store: Store, as_of: pd.Timestamp) -> ReportContext:
    """Load, compute (with last week from the same engine): everything the sheets lay out."""
    dataset = load_dataset(store, settings, as_of)
    if len(dataset.inputs.items) == 0:
        raise ReportFailed(
            f"the store holds no items as of {as_of:%Y-%m-%d %H:%M} UTC: run `pulse sync` first"
        )
    inputs = dataset.inputs
    since = dataset.as_of - pd.Timedelta(days=7)
    config = replace(dataset.config, deleted_since=since)
    try:
        results = weekly(inputs, config, dataset.as_of)
    except Exception as exc:  # the engine's own error, kept as the cause for the logs
        raise ReportFailed(f"computing the metrics failed: {type(exc).__name__}: {exc}") from exc
    kinds: dict[str, str] = {s.name: str(s.kind) for s in settings.sources}
    return ReportContext(
        settings=settings,
        results=results,
        inputs=inputs,
        config=config,
        as_of=dataset.as_of,
        week=report_week(dataset.as_of, config.tz),
        generated_at=clock.now().astimezone(ZoneInfo(config.tz)).replace(tzinfo=None),
        sources=source_facts(store, results.freshness, kinds),
        moved=moved_items(store, since, dataset.as_of),
    )


def build_workbook(ctx: ReportContext) -> tuple[Workbook, str]:
    """Lay out the eight sheets in order; returns the workbook and its headline."""
    figs = Figures(ctx)
    wb = Workbook()
    summary = wb.active
    summary.title = SHEETS[0]
    sheets = {name: wb.create_sheet(name) for name in SHEETS[1:]}
    write_summary(summary, ctx, figs)
    write_roadmap(sheets["Roadmap"], ctx, figs)
    write_timelines(sheets["Timelines"], ctx, figs)
    write_velocity(sheets["Velocity"], ctx, figs)
    write_flow(sheets["Flow"], ctx)
    write_risks(sheets["Risks"], ctx, figs)
    write_quality(sheets["Data quality"], ctx)
    write_definitions(sheets["Definitions"], ctx)
    wb.properties.title = f"Pulse weekly report, week of {ctx.week.isoformat()}"
    wb.properties.creator = "Pulse"
    wb.properties.subject = figs.headline
    wb.active = 0
    return wb, figs.headline


@contextmanager
def _temporary(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, removed unless it was renamed into place."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def save_atomically(wb: Workbook, target: Path) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over ``target``.

    The workbook is private (0600), like the store and the exports: it names every item."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(target) as temp:
        wb.save(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp, PRIVATE_FILE)
        os.replace(temp, target)


def write_weekly(
    settings: Settings,
    store: Store,
    as_of: date | None = None,
    out_dir: Path | None = None,
) -> WeeklyReport:
    """Write ``pulse-weekly-YYYY-MM-DD.xlsx`` for the week of ``as_of`` (default: now).

    ``as_of`` may be a date (the end of that day in the report zone, or now if it is today) or
    an aware datetime. ``out_dir`` defaults to ``settings.report.out_dir``. The file is written
    atomically; afterwards this week's roadmap snapshot and baselines are stored so that next
    week's report can show what changed.
    """
    tz = settings.report.timezone
    when = resolve_as_of(as_of, tz)
    directory = Path(out_dir) if out_dir is not None else Path(settings.report.out_dir)
    target = report_path(directory, report_week(when, tz))
    ctx = build_context(settings, store, when)
    wb, headline = build_workbook(ctx)
    save_atomically(wb, target)
    save_snapshot(store, ctx.results.snapshot)
    save_baselines(store, ctx.results.baselines)
    log.info("wrote %s: %s", target, headline)
    return WeeklyReport(path=target, headline=headline, week=ctx.week)
