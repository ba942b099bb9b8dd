"""Pulse's service: sync every source at its interval, write the Monday workbook, deliver it.

APScheduler 3 runs the jobs from an in-memory job store that is built from the configuration at
every start and never shared: the run history in the store (`sync_runs`) is what survives a
restart. From it the service knows when each source last synced (the next sync is due one
interval later, or now), and whether the latest weekly report was missed while the service was
down (it then runs at start-up if still within `report_grace`, else is recorded as missed).

Every job has an explicit id (`sync:<source>`, `report`), coalesces missed runs into one, never
runs twice at once, and has a misfire grace: one interval for a sync, `report_grace` (hours) for
the report, so a busy or suspended process does not silently drop the Monday report. Each run
ends in exactly one structured log line (`job=... status=... seconds=... new=...`).

Stopping (SIGTERM, SIGINT) sets the event every running sync checks between pages: the page in
hand is committed, the run is recorded as interrupted, and the process exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pulse import clock as pulse_clock
from pulse.connectors.runner import sync_source
from pulse.scheduling import history
from pulse.scheduling.delivery import DeliveryError, copy_into, report_message, send_mail
from pulse.scheduling.lock import REPORT, SHARED, STORE, Scope, ServiceLock, holders
from pulse.settings import JiraSource, ScheduleSettings, Settings, TrelloSource, parse_duration
from pulse.store import Store
from pulse.store.writes import finish_run, register_source, start_run

log = logging.getLogger("pulse.service")

REPORT_JOB = "report"
SHUTDOWN_TIMEOUT = 8.0  # seconds a stop waits for running jobs; the process exits within 10 s
LOCK_CHECK_EVERY = 30.0  # seconds between checks that the store lock is still held
SYNC_WAIT_BEFORE_REPORT = 900.0  # a report waits this long at most for running syncs


class WeeklyReport(Protocol):
    """What `pulse.reports.workbook.write_weekly` returns: the workbook's path, headline and
    week."""

    @property
    def path(self) -> Path: ...

    @property
    def headline(self) -> str: ...

    @property
    def week(self) -> Any: ...


# settings, store, as_of (the scheduled time: a late or caught-up run reports the same week)
ReportWriter = Callable[[Settings, Store, datetime], WeeklyReport]


def write_weekly_report(settings: Settings, store: Store, as_of: datetime) -> WeeklyReport:
    """The production report writer: the weekly workbook into `[report] out_dir`."""
    # Imported when first needed: the workbook pulls in pandas and openpyxl.
    from pulse.reports.workbook import write_weekly

    return write_weekly(settings, store, as_of=as_of)


# --- the weekly trigger ---------------------------------------------------------------------


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
    with store.engine.connect() as conn:
        if history.report_handled_since(conn, scheduled):
            return None
        existed = history.service_ran_before(conn, scheduled)
    return ReportCatchUp(scheduled, run_now=now - scheduled <= grace, record=existed)


# --- the structured log line ----------------------------------------------------------------

_COUNT_KEYS = (
    "new",
    "updated",
    "deleted",
    "gone",
    "moved",
    "access_lost",
    "transitions",
    "sprints",
    "pages",
    "requests",
    "retries",
    "census",
)


def job_line(
    job: str,
    status: str,
    seconds: float | None = None,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
    **extra: Any,
) -> str:
    """`job=sync:acme status=ok seconds=1.20 new=3 ...`: one line, key=value, values quoted."""
    fields: dict[str, Any] = {"job": job, "trigger": history.TRIGGER, "status": status}
    if seconds is not None:
        fields["seconds"] = f"{seconds:.2f}"
    for key in _COUNT_KEYS:
        if counts and key in counts:
            fields[key] = counts[key]
    fields.update({k: v for k, v in extra.items() if v is not None})
    if error:
        fields["error"] = error
    return " ".join(f"{key}={_logfmt(value)}" for key, value in fields.items())


def _logfmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    if text and not any(c in text for c in ' "=\n\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


# --- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedJob:
    """One job the service runs: its id, what it does, how often, and when next."""

    id: str
    kind: str  # sync | report
    source: str | None
    every: str
    next_run: datetime


class Service:
    """The scheduler with Pulse's jobs; `start()` returns, `shutdown()` stops and waits."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        sources: Sequence[str] | None = None,
        report: bool = True,
        write_report: ReportWriter | None = None,
        clock: Callable[[], datetime] | None = None,
        mail_backoff: float = 10.0,
    ) -> None:
        self.settings = settings
        self.store = store
        chosen = settings.sources if sources is None else [settings.source(n) for n in sources]
        self.sources: list[JiraSource | TrelloSource] = list(chosen)
        self.report = report
        self.write_report = write_report or write_weekly_report
        self.clock = clock or pulse_clock.now
        self.mail_backoff = mail_backoff
        self.stop = threading.Event()
        self.trigger = report_trigger(settings.schedule)
        self.source_ids: dict[str, int] = {}
        self.scheduler: BackgroundScheduler | None = None
        self._running: dict[str, int] = {}
        self._idle = threading.Condition()

    # plan -------------------------------------------------------------------------------

    def plan(self, now: datetime) -> list[PlannedJob]:
        """The jobs and their first run: overdue syncs and a missed report within grace now."""
        latest, _ = history.last_runs(self.store)
        ids = self.store.source_ids()
        jobs = []
        for source in self.sources:
            interval = self.settings.sync_interval(source)
            last = latest.get(ids.get(source.name, -1))
            first = now if last is None else max(now, last.started_at + interval)
            every = source.sync_every or self.settings.schedule.sync_every
            jobs.append(PlannedJob(f"sync:{source.name}", "sync", source.name, every, first))
        if self.report:
            catch_up = missed_report(self.settings, self.store, now)
            nxt = self.trigger.get_next_fire_time(None, now)
            first = now if catch_up is not None and catch_up.run_now else nxt
            every = f"{self.settings.schedule.weekly_report} {self.settings.schedule.timezone}"
            if first is not None:
                jobs.append(PlannedJob(REPORT_JOB, "report", None, every, first))
        return jobs

    # start and stop ---------------------------------------------------------------------

    def start(self) -> list[PlannedJob]:
        """Register the sources, build the jobs from config, and start the scheduler."""
        with self.store.transaction() as conn:
            for source in self.sources:
                self.source_ids[source.name] = register_source(
                    conn, source.name, source.kind, source.url
                )
        stale = history.close_stale_runs(self.store, self.source_ids.values(), self.report)
        if stale:
            log.warning("marked %d runs left running by a previous service as interrupted", stale)
        now = self.clock()
        if self.report:
            self._record_missed_report(now)
        zone = self.settings.schedule.zone
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max(2, len(self.sources) + 1))},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=zone,
        )
        scheduler.add_listener(
            self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES
        )
        planned = self.plan(now)
        for job in planned:
            if job.kind == "sync":
                source = self.settings.source(job.source or "")
                seconds = self.settings.sync_interval(source).total_seconds()
                scheduler.add_job(
                    self._sync_job,
                    IntervalTrigger(
                        seconds=seconds, start_date=pulse_clock.to_wall(job.next_run), timezone=zone
                    ),
                    args=[source.name],
                    id=job.id,
                    name=job.id,
                    next_run_time=pulse_clock.to_wall(job.next_run),
                    misfire_grace_time=max(1, int(seconds)),
                    coalesce=True,
                    max_instances=1,
                )
            else:
                grace = parse_duration(self.settings.schedule.report_grace).total_seconds()
                scheduler.add_job(
                    self._report_job,
                    self.trigger,
                    id=job.id,
                    name=job.id,
                    next_run_time=pulse_clock.to_wall(job.next_run),
                    misfire_grace_time=int(grace),
                    coalesce=True,
                    max_instances=1,
                )
            log.info("scheduled %s every %s; next run %s", job.id, job.every, _local(job, zone))
        self.scheduler = scheduler
        scheduler.start()
        return planned

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT) -> bool:
        """Stop scheduling, ask running syncs to stop after their page; True when all ended."""
        self.stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning("still running after %.0fs: %s", timeout, ", ".join(self._running))
                    return False
                self._idle.wait(left)
        return True

    def running(self) -> list[str]:
        """Ids of the jobs running now."""
        with self._idle:
            return list(self._running)

    @contextmanager
    def _track(self, job: str) -> Iterator[None]:
        with self._idle:
            self._running[job] = self._running.get(job, 0) + 1
        try:
            yield
        finally:
            with self._idle:
                self._running[job] -= 1
                if not self._running[job]:
                    del self._running[job]
                self._idle.notify_all()

    # jobs -------------------------------------------------------------------------------

    def _sync_job(self, name: str) -> None:
        job = f"sync:{name}"
        if self.stop.is_set():
            return
        with self._track(job):
            source = self.settings.source(name)
            started = time.monotonic()
            try:
                result = sync_source(source, self.store, stop=self.stop, trigger=history.TRIGGER)
            except Exception as exc:  # recorded by sync_source; the service carries on
                log.error(
                    job_line(job, "failed", time.monotonic() - started, error=_error(exc)),
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                return
            level = logging.INFO if result.ok else logging.WARNING
            if result.status == "failed":
                level = logging.ERROR
            error = (result.error or "").removeprefix(f"{name}: ") or None
            log.log(
                level, job_line(job, result.status, result.seconds, result.counts.as_dict(), error)
            )
            if result.ok and not self.stop.is_set():
                self._refresh_analysis(job)

    def _refresh_analysis(self, job: str) -> None:
        """Store today's analysis after new data, so questions between Mondays answer at once."""
        from pulse.reports.queries.analysis import refresh_analysis

        started = time.monotonic()
        try:
            computed = refresh_analysis(self.store, self.settings)
        except Exception as exc:  # questions still work, only slower; say so and carry on
            log.warning(
                job_line(f"{job}:analysis", "failed", time.monotonic() - started, error=_error(exc))
            )
            return
        if computed:
            log.info(job_line(f"{job}:analysis", "ok", time.monotonic() - started))

    def _report_job(self) -> None:
        if self.stop.is_set():
            return
        with self._track(REPORT_JOB):
            now = self.clock()
            scheduled = previous_fire_time(self.trigger, now) or now
            with self.store.engine.connect() as conn:
                if history.report_handled_since(conn, scheduled):
                    log.info("report of %s already ran; skipped", scheduled.isoformat())
                    return
            self._wait_for_syncs(SYNC_WAIT_BEFORE_REPORT)
            if self.stop.is_set():
                return
            self.run_report(scheduled)

    def _wait_for_syncs(self, timeout: float) -> None:
        """Let syncs that are running finish first, so the workbook has the latest data."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while any(j.startswith("sync:") for j in self._running) and not self.stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._idle.wait(min(left, 1.0))

    def run_report(self, scheduled: datetime) -> str:
        """Write the workbook, deliver it, record the run and log its line; return the status."""
        with self.store.transaction() as conn:
            run_id = start_run(conn, None, "report", history.TRIGGER, False)
        started = time.monotonic()
        late = max(0.0, (self.clock() - scheduled).total_seconds())
        counts: dict[str, Any] = {"scheduled": scheduled.isoformat(), "late_seconds": round(late)}
        status, error = "ok", None
        try:
            report = self.write_report(self.settings, self.store, scheduled)
            counts.update(path=str(report.path), week=str(report.week))
            delivered, problems = self._deliver(report)
            counts["delivered"] = delivered
            if problems:
                status, error = "failed", "; ".join(problems)
        except Exception as exc:
            status, error = "failed", _error(exc)
            log.debug("report failed", exc_info=True)
        seconds = time.monotonic() - started
        with self.store.transaction() as conn:
            finish_run(conn, run_id, status, counts, 0, error)
        line = job_line(
            REPORT_JOB,
            status,
            seconds,
            error=error,
            scheduled=scheduled,
            week=counts.get("week"),
            path=counts.get("path"),
            delivered=",".join(counts.get("delivered", [])) or None,
        )
        log.log(logging.INFO if status == "ok" else logging.ERROR, line)
        return status

    def _deliver(self, report: WeeklyReport) -> tuple[list[str], list[str]]:
        """Copy into `deliver_to` and e-mail when configured; what went where, what failed."""
        schedule = self.settings.schedule
        path = Path(report.path)
        delivered: list[str] = []
        problems: list[str] = []
        if schedule.deliver_to:
            try:
                delivered.append(f"copy:{copy_into(path, schedule.deliver_to)}")
            except DeliveryError as exc:
                problems.append(str(exc))
        if schedule.smtp_host:
            try:
                message = report_message(schedule, path, str(report.week), report.headline)
                send_mail(schedule, message, backoff=self.mail_backoff, stop=self.stop)
                delivered.append("mail:" + ",".join(schedule.smtp_to))
            except DeliveryError as exc:
                problems.append(str(exc))
            except OSError as exc:
                problems.append(f"cannot attach {path}: {exc.strerror}")
        return delivered, problems

    # missed and failed runs ---------------------------------------------------------------

    def _record_missed_report(self, now: datetime) -> None:
        catch_up = missed_report(self.settings, self.store, now)
        if catch_up is None:
            return
        grace = self.settings.schedule.report_grace
        if catch_up.run_now:
            log.warning(
                "the report of %s was missed while the service was down; running it now "
                "(within report_grace %s)",
                catch_up.scheduled.isoformat(),
                grace,
            )
            return
        if not catch_up.record:
            return
        reason = f"the service was down at the scheduled time and past report_grace {grace}"
        history.record_missed(self.store, "report", None, catch_up.scheduled, reason)
        log.warning(job_line(REPORT_JOB, "missed", scheduled=catch_up.scheduled, error=reason))

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning(job_line(event.job_id, "skipped", error="the previous run is still going"))
            return
        assert isinstance(event, JobExecutionEvent)
        if event.code == EVENT_JOB_ERROR:  # the job wrappers catch everything; a last resort
            log.error(job_line(event.job_id, "failed", error=_error(event.exception)))
            return
        kind, _, name = event.job_id.partition(":")
        schedule = self.settings.schedule
        grace = (
            schedule.report_grace
            if kind == "report"
            else self.settings.source(name).sync_every or schedule.sync_every
        )
        reason = f"the service could not start it within its misfire grace ({grace})"
        scheduled = pulse_clock.from_wall(event.scheduled_run_time)
        log.warning(job_line(event.job_id, "missed", scheduled=scheduled, error=reason))
        try:
            history.record_missed(self.store, kind, self.source_ids.get(name), scheduled, reason)
        except Exception as exc:
            log.error("cannot record the missed run of %s: %s", event.job_id, _error(exc))


def _error(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


def _local(job: PlannedJob, zone: ZoneInfo) -> str:
    return job.next_run.astimezone(zone).isoformat(timespec="seconds")


# --- running it -----------------------------------------------------------------------------


class StopSignals:
    """SIGTERM and SIGINT ask the service to stop; a second one means: stop now.

    Installed as early as possible (`with StopSignals() as signals:`), so a stop requested
    while the service is still starting is honoured too.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signum
        self.count += 1
        if self.count > 1:  # impatient: leave now; a page in flight rolls back
            os.write(2, b"pulse serve: second signal; exiting now\n")
            os._exit(1)


def run_service(
    service: Service,
    lock: ServiceLock,
    signals: StopSignals,
    *,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    lock_check_every: float = LOCK_CHECK_EVERY,
) -> tuple[int, bool]:
    """Run until a signal or `service.stop`; return (exit code, whether every job ended)."""
    code = 0
    if signals.received is None:
        service.start()
        log.info("pulse serve: running; SIGTERM or Ctrl-C stops")
    next_check = time.monotonic() + lock_check_every
    while not service.stop.is_set() and signals.received is None:
        time.sleep(0.2)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + lock_check_every
            if not lock.alive():
                log.error("lost the store lock (database connection gone); stopping")
                code = 1
                break
    if signals.received is not None:
        log.info("stopping on %s", signal.Signals(signals.received).name)
    clean = service.shutdown(shutdown_timeout)
    log.info("pulse serve: stopped%s", "" if clean else " (some runs did not finish)")
    return code, clean


# --- what `pulse status` shows ----------------------------------------------------------------


def schedule_preview(
    settings: Settings, store: Store, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per job: its id, interval, next run, last run and status, and which service runs it.

    `next_run` is when the job runs next if a service is (or were) running: a sync one interval
    after its last start (now when overdue), the report at its next weekly time (now when a
    missed report is still within grace). `served_by` names the `pulse serve` holding the job's
    lock, or is None when no service runs it.
    """
    now = now or pulse_clock.now()
    latest, last_report = history.last_runs(store)
    ids = store.source_ids()
    scopes = [Scope(STORE), *(Scope.source(s.name) for s in settings.sources), Scope(REPORT)]
    held = holders(store, scopes)
    whole = held[STORE] if held[STORE] != SHARED else None
    rows = []
    for source in settings.sources:
        interval = settings.sync_interval(source)
        last = latest.get(ids.get(source.name, -1))
        nxt = now if last is None else max(now, last.started_at + interval)
        rows.append(
            _preview_row(
                f"sync:{source.name}",
                "sync",
                source.name,
                source.sync_every or settings.schedule.sync_every,
                nxt,
                last,
                whole or held[f"source:{source.name}"],
            )
        )
    catch_up = missed_report(settings, store, now)
    nxt_report = report_trigger(settings.schedule).get_next_fire_time(None, now)
    if catch_up is not None and catch_up.run_now:
        nxt_report = now
    rows.append(
        _preview_row(
            REPORT_JOB,
            "report",
            None,
            f"{settings.schedule.weekly_report} {settings.schedule.timezone}",
            nxt_report,
            last_report,
            whole or held[REPORT],
        )
    )
    return rows


def _preview_row(
    job: str,
    kind: str,
    source: str | None,
    every: str,
    nxt: datetime | None,
    last: Any,
    served_by: str | None,
) -> dict[str, Any]:
    return {
        "job": job,
        "kind": kind,
        "source": source,
        "every": every,
        "next_run": nxt.astimezone(UTC).isoformat() if nxt else None,
        "last_run": last.started_at.isoformat() if last is not None else None,
        "last_status": last.status if last is not None else None,
        "last_error": last.error if last is not None and last.status != "ok" else None,
        "served_by": served_by,
    }


recent_runs = history.recent_runs
