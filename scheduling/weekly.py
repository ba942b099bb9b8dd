"""When the weekly report runs: its trigger (once a week across daylight-saving changes), and
whether the latest one was missed while the service was down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from pulse.settings import ScheduleSettings, Settings, parse_duration
from pulse.store import Store
from pulse.store.runs import report_handled_since, service_ran_before


class ReportTrigger(CronTrigger):
    """`mon 07:00` in a zone, firing exactly once a week across daylight-saving changes.

    CronTrigger fires twice when the local time repeats (autumn, e.g. `sun 02:30` in Berlin);
    this fires at the first occurrence only. A local time skipped in spring fires once, an hour
    later on the wall clock (02:30 CET read as 03:30 CEST), as CronTrigger does.
    """

    def __init__(self, weekly: str, zone: ZoneInfo) -> None:
        day, clock = weekly.split()
        hour, minute = (int(part) for part in clock.split(":"))
        super().__init__(day_of_week=day, hour=hour, minute=minute, timezone=zone)
        self.zone = zone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if fire is not None and self._repeated(fire):
            fire = super().get_next_fire_time(fire, fire)
        return fire

    def _repeated(self, fire: datetime) -> bool:
        """Whether `fire` is the second occurrence of its wall-clock time (autumn fold)."""
        wall = fire.astimezone(self.zone).replace(tzinfo=None)
        first = wall.replace(tzinfo=self.zone, fold=0)
        return first.astimezone(UTC) < fire.astimezone(UTC)


def report_trigger(schedule: ScheduleSettings) -> ReportTrigger:
    """The weekly report's trigger from `[schedule] weekly_report` and `timezone`."""
    return ReportTrigger(schedule.weekly_report, schedule.zone)


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` at which a weekly trigger fires."""
    fire = trigger.get_next_fire_time(None, now - timedelta(days=8))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire)
    # in UTC: an aware datetime in a repeated local hour never compares equal across zones
    return latest.astimezone(UTC) if latest is not None else None


@dataclass(frozen=True)
class ReportCatchUp:
    """A weekly report the service did not run: run it now (within grace) or record it missed."""

    scheduled: datetime
    run_now: bool
    record: bool  # record a `missed` row: only when the service was running before then


def missed_report(settings: Settings, store: Store, now: datetime) -> ReportCatchUp | None:
    """The latest scheduled report, when no run of it ended; None when it ran (or none is due)."""
    scheduled = previous_fire_time(report_trigger(settings.schedule), now)
    if scheduled is None:
        return None
    grace = parse_duration(settings.schedule.report_grace)
    if report_handled_since(store, scheduled):
        return None
    existed = service_ran_before(store, scheduled)
    return ReportCatchUp(scheduled, run_now=now - scheduled <= grace, record=existed)
