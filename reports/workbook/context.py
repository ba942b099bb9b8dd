"""What every sheet lays out: the metrics results for one as_of, plus the report's frame of time.

A :class:`ReportContext` holds the engine's results, its inputs, the report week (a Monday in the
report time zone), the window of weeks shown, source facts (freshness, last run) and links. Sheet
modules read from it and never compute metrics themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

import pandas as pd

from pulse.reports.metrics.pipeline import MetricsConfig, MetricsInputs, Results
from pulse.settings import JiraSource, Settings

from .cells import safe_url


@dataclass(frozen=True)
class ReportContext:
    """One weekly report's inputs, results and time frame."""

    settings: Settings
    results: Results
    inputs: MetricsInputs
    config: MetricsConfig
    as_of: pd.Timestamp  # UTC instant the report describes
    week: date  # Monday of the report week, report time zone
    generated_at: datetime  # local, naive
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)  # see facts.source_facts
    moved: pd.DataFrame = field(default_factory=pd.DataFrame)  # see facts.moved_items

    @property
    def tz(self) -> str:
        return self.config.tz

    @property
    def weeks(self) -> int:
        """How many weeks the report looks back (settings.report.weeks)."""
        return self.settings.report.weeks

    @property
    def monday(self) -> pd.Timestamp:
        """The report week's Monday as a naive day."""
        return pd.Timestamp(self.week)

    @property
    def last_week(self) -> pd.Timestamp:
        """Monday of the last complete week (the week the KPIs describe)."""
        return self.monday - pd.Timedelta(days=7)

    @property
    def week_before(self) -> pd.Timestamp:
        """Monday of the week before that (the comparison)."""
        return self.monday - pd.Timedelta(days=14)

    @property
    def window_start(self) -> pd.Timestamp:
        """First day of the look-back window: ``weeks`` complete weeks before the report week."""
        return self.monday - pd.Timedelta(days=7 * self.weeks)

    @property
    def as_of_local(self) -> datetime:
        return self.as_of.tz_convert(self.tz).tz_localize(None).to_pydatetime()

    def local(self, values: pd.Series) -> pd.Series:
        """UTC instants -> naive local datetimes of the report zone (NaT kept)."""
        stamps = pd.to_datetime(values, utc=True)
        return stamps.dt.tz_convert(self.tz).dt.tz_localize(None)

    def local_days(self, values: pd.Series) -> pd.Series:
        """UTC instants -> naive local calendar days."""
        return self.local(values).dt.normalize()

    @cached_property
    def item_urls(self) -> dict[tuple[str, str], str]:
        """(source, item_id) -> browse URL (checked by :func:`cells.safe_url` when written)."""
        items = self.inputs.items
        return {
            (str(s), str(i)): str(u)
            for s, i, u in zip(items["source"], items["item_id"], items["url"], strict=True)
            if u
        }

    @cached_property
    def key_urls(self) -> dict[tuple[str, str], str]:
        """(source, key) -> browse URL."""
        items = self.inputs.items
        return {
            (str(s), str(k)): str(u)
            for s, k, u in zip(items["source"], items["key"], items["url"], strict=True)
            if u
        }

    def urls_for(self, frame: pd.DataFrame, by: str = "item_id") -> list[str | None]:
        """Browse URL per row of a frame with ``source`` and ``item_id`` (or ``key``)."""
        lookup = self.item_urls if by == "item_id" else self.key_urls
        return [
            lookup.get((str(s), str(k))) for s, k in zip(frame["source"], frame[by], strict=True)
        ]

    def roadmap_urls(self, frame: pd.DataFrame) -> list[str | None]:
        """Browse URL per roadmap row (``source``, ``roadmap_id``; versions link to Jira)."""
        versions = self.inputs.versions
        project_of = {
            (str(s), str(v)): str(p)
            for s, v, p in zip(
                versions["source"], versions["version_id"], versions["project"], strict=True
            )
        }
        sites = {
            s.name: s.url.rstrip("/") for s in self.settings.sources if isinstance(s, JiraSource)
        }
        out: list[str | None] = []
        pairs = zip(frame["source"].astype(str), frame["roadmap_id"].astype(str), strict=True)
        for source, rid in pairs:
            if rid.startswith("version:"):
                vid = rid.removeprefix("version:")
                site = sites.get(source)
                project = project_of.get((source, vid))
                out.append(
                    safe_url(f"{site}/projects/{project}/versions/{vid}")
                    if site and project
                    else None
                )
            else:
                out.append(self.item_urls.get((source, rid)))
        return out

    @cached_property
    def source_kinds(self) -> dict[str, str]:
        """Source name -> 'jira' or 'trello': configured sources, else what the store said."""
        kinds: dict[str, str] = {}
        facts = self.sources
        if len(facts) and "kind" in facts:
            kinds.update(
                {str(s): str(k) for s, k in zip(facts["source"], facts["kind"], strict=True) if k}
            )
        kinds.update({s.name: s.kind for s in self.settings.sources})
        return kinds

    def source_kind(self, source: str) -> str:
        """'jira' or 'trello' for a source name ('' when unknown)."""
        return self.source_kinds.get(source, "")
