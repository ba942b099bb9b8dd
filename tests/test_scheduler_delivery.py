"""Delivery after the weekly report: a copy into a directory, and e-mail to a local SMTP server.

The SMTP server is a small stdlib one started by the test (EHLO, AUTH PLAIN, MAIL, RCPT, DATA),
which keeps every message it accepts and can refuse the first connections to test retries.
"""

from __future__ import annotations

import base64
import email
import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pulse import clock
from pulse.scheduler import Service
from pulse.scheduling.delivery import DeliveryError, copy_into, report_message, send_mail
from pulse.settings import ScheduleSettings, Settings, StoreSettings
from pulse.store import Store, open_store
from tests.test_scheduler import Written, runs


@dataclass
class SmtpSink:
    """Accepted messages, the logins seen, and how many connections to turn away first."""

    refuse_first: int = 0
    password: str | None = None
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    connections: int = 0
    port: int = 0


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        sink = self.server.sink
        sink.connections += 1
        if sink.connections <= sink.refuse_first:
            self.reply("421 sink busy, try again later")
            return
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(line.split()[2]).split(b"\0")
                if password.decode() != sink.password:
                    self.reply("535 authentication failed")
                    continue
                sink.logins.append(user.decode())
                self.reply("235 ok")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data[1:] if data.startswith(b"..") else data)
                sink.messages.append((sender, recipients, email.message_from_bytes(b"".join(body))))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.sink = SmtpSink(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.sink
    server.shutdown()
    server.server_close()


def schedule_for(sink: SmtpSink, **extra: Any) -> ScheduleSettings:
    return ScheduleSettings(
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_security="none",
        smtp_from="pulse@acme.test",
        smtp_to=["leads@acme.test", "cto@acme.test"],
        **extra,
    )


def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "out" / "pulse-weekly-2024-W14.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    return path


def test_copy_is_atomic_and_replaces(tmp_path: Path) -> None:
    path = workbook(tmp_path)
    target = copy_into(path, tmp_path / "share" / "weekly")
    assert target.read_bytes() == path.read_bytes()
    path.write_bytes(b"PK new")
    assert copy_into(path, tmp_path / "share" / "weekly").read_bytes() == b"PK new"
    assert [p.name for p in target.parent.iterdir()] == [path.name]  # no temporary left


def test_copy_into_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DeliveryError, match=r"cannot copy pulse-weekly-2024-W14.xlsx into "):
        copy_into(workbook(tmp_path), blocker / "sub")


def test_report_is_mailed_with_the_workbook_attached(tmp_path: Path, smtp: SmtpSink) -> None:
    smtp.password = "s3cret"
    schedule = schedule_for(smtp, smtp_user="pulse", smtp_password=SecretStr("s3cret"))
    path = workbook(tmp_path)
    send_mail(schedule, report_message(schedule, path, "2024-W14", "Throughput up 10%"))
    (sender, recipients, message) = smtp.messages[0]
    assert smtp.logins == ["pulse"]
    assert sender == "pulse@acme.test"
    assert recipients == ["leads@acme.test", "cto@acme.test"]
    assert message["Subject"] == "Pulse weekly report 2024-W14"
    body, attachment = [part for part in message.walk() if not part.is_multipart()]
    assert "Throughput up 10%" in body.get_payload(decode=True).decode()
    assert attachment.get_filename() == path.name
    assert attachment.get_content_type().endswith("spreadsheetml.sheet")
    assert attachment.get_payload(decode=True) == path.read_bytes()


def test_transient_smtp_failures_are_retried(tmp_path: Path, smtp: SmtpSink) -> None:
    smtp.refuse_first = 2
    schedule = schedule_for(smtp)
    message = report_message(schedule, workbook(tmp_path), "2024-W14", "headline")
    send_mail(schedule, message, attempts=3, backoff=0.05)
    assert smtp.connections == 3 and len(smtp.messages) == 1


def test_a_wrong_password_fails_at_once_with_one_line(tmp_path: Path, smtp: SmtpSink) -> None:
    smtp.password = "right"
    schedule = schedule_for(smtp, smtp_user="pulse", smtp_password=SecretStr("wrong"))
    message = report_message(schedule, workbook(tmp_path), "2024-W14", "headline")
    with pytest.raises(DeliveryError, match=r"SMTP login to 127.0.0.1:\d+ refused \(535\)"):
        send_mail(schedule, message, attempts=3, backoff=0.05)
    assert smtp.connections == 1


def test_smtp_settings_must_be_complete() -> None:
    with pytest.raises(ValueError, match="smtp_host needs smtp_from and smtp_to"):
        ScheduleSettings(smtp_host="mail.acme.test")
    with pytest.raises(ValueError, match="smtp_user and smtp_password go together"):
        ScheduleSettings(
            smtp_host="mail.acme.test", smtp_from="a@b.c", smtp_to=["d@e.f"], smtp_user="u"
        )
    with pytest.raises(ValueError, match="need smtp_host"):
        ScheduleSettings(smtp_to=["d@e.f"])
    assert ScheduleSettings(smtp_security="ssl").smtp_port_or_default == 465
    assert ScheduleSettings().smtp_port_or_default == 587


def test_the_report_job_copies_and_mails(tmp_path: Path, smtp: SmtpSink) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'pulse.db'}")
    path = workbook(tmp_path)
    settings = Settings(
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'pulse.db'}"),
        schedule=schedule_for(smtp, deliver_to=str(tmp_path / "share")),
    )
    service = Service(
        settings,
        store,
        write_report=lambda s, st, at: Written(path, "Throughput up 10%", "2024-W14"),
    )
    assert service.run_report(clock.now()) == "ok"
    assert (tmp_path / "share" / path.name).exists()
    assert len(smtp.messages) == 1
    (run,) = runs(store, "report")
    assert run.status == "ok"
    store.dispose()


def test_a_failed_delivery_fails_the_run_but_keeps_the_workbook(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    smtp.refuse_first = 10
    store: Store = open_store(f"sqlite:///{tmp_path / 'pulse.db'}")
    path = workbook(tmp_path)
    settings = Settings(
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'pulse.db'}"),
        schedule=schedule_for(smtp, deliver_to=str(tmp_path / "share")),
    )
    service = Service(
        settings,
        store,
        write_report=lambda s, st, at: Written(path, "headline", "2024-W14"),
        mail_backoff=0.01,
    )
    assert service.run_report(clock.now()) == "failed"
    (run,) = runs(store, "report")
    assert run.error.startswith("cannot e-mail the report through 127.0.0.1:")
    assert (tmp_path / "share" / path.name).exists() and path.exists()
    store.dispose()


def test_the_real_weekly_workbook_is_written_copied_and_mailed(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    """The report job with the real `pulse.reports.workbook.write_weekly`, on synced emulator
    data."""
    pytest.importorskip("pulse.reports.workbook")
    from pulse.connectors.runner import sync_source
    from pulse.settings import ReportSettings
    from tests.connectors.jira_world import jira_world

    url = f"sqlite:///{tmp_path / 'pulse.db'}"
    store = open_store(url)
    with jira_world("cloud", seed=5, issues=60, projects=2) as world:
        assert sync_source(world.source, store, trigger="schedule").ok
        settings = Settings(
            store=StoreSettings(url=url),
            report=ReportSettings(out_dir=str(tmp_path / "out")),
            schedule=schedule_for(smtp, deliver_to=str(tmp_path / "share")),
            sources=[world.source],
        )
    scheduled = clock.now()
    assert Service(settings, store).run_report(scheduled) == "ok"
    (run,) = runs(store, "report")
    counts = json.loads(run.counts)
    written = Path(counts["path"])
    assert written.parent == tmp_path / "out" and written.suffix == ".xlsx"
    copied = tmp_path / "share" / written.name
    assert copied.read_bytes() == written.read_bytes()
    (_, _, message) = smtp.messages[0]
    attachment = next(part for part in message.walk() if part.get_filename())
    assert attachment.get_payload(decode=True) == written.read_bytes()
    assert message["Subject"] == f"Pulse weekly report {counts['week']}"
    store.dispose()
