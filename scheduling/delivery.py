"""After the weekly workbook is written: copy it into a directory, e-mail it through SMTP."""

from __future__ import annotations

import logging
import os
import shutil
import smtplib
import ssl
import tempfile
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from pulse.settings import ScheduleSettings

log = logging.getLogger(__name__)
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class DeliveryError(Exception):
    """Delivery failed; the message is one line naming where to."""


def copy_into(path: Path, directory: str | os.PathLike[str]) -> Path:
    """Copy the workbook into a directory atomically: readers never see half a file."""
    target_dir = Path(directory).expanduser()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=target_dir)
        os.close(fd)
        try:
            shutil.copyfile(path, temp)
            os.chmod(temp, 0o640)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise DeliveryError(f"cannot copy {path.name} into {target_dir}: {exc.strerror}") from None
    return target


def report_message(
    schedule: ScheduleSettings, path: Path, week: str, headline: str
) -> EmailMessage:
    """The e-mail: the headline in the body, the workbook attached."""
    message = EmailMessage()
    message["Subject"] = f"Pulse weekly report {week}".strip()
    message["From"] = schedule.smtp_from or ""
    message["To"] = ", ".join(schedule.smtp_to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=(schedule.smtp_from or "pulse").split("@")[-1])
    message.set_content(f"{headline}\n\nThe workbook is attached: {path.name}\n")
    message.add_attachment(path.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=path.name)
    return message


def send_mail(
    schedule: ScheduleSettings,
    message: EmailMessage,
    attempts: int = 3,
    backoff: float = 10.0,
    stop: threading.Event | None = None,
    timeout: float = 30.0,
) -> None:
    """Send through the configured SMTP server, retrying transient failures a few times."""
    host, port = schedule.smtp_host, schedule.smtp_port_or_default
    if host is None:
        raise DeliveryError("no smtp_host configured")
    stop = stop or threading.Event()
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            _send_once(schedule, host, port, message, timeout)
            return
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP login to {host}:{port} refused ({exc.smtp_code}); check smtp_user "
                "and smtp_password"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise DeliveryError(f"SMTP server {host}:{port} refused recipients {refused}") from None
        except (smtplib.SMTPException, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}".strip()
            log.warning(
                "e-mail attempt %d/%d to %s:%d failed: %s", attempt, attempts, host, port, last
            )
        if attempt < attempts and stop.wait(backoff * attempt):
            break
    raise DeliveryError(f"cannot e-mail the report through {host}:{port}: {last}")


def _send_once(
    schedule: ScheduleSettings, host: str, port: int, message: EmailMessage, timeout: float
) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if schedule.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if schedule.smtp_security == "starttls":
            smtp.starttls(context=context)
        if schedule.smtp_user is not None and schedule.smtp_password is not None:
            smtp.login(schedule.smtp_user, schedule.smtp_password.get_secret_value())
        smtp.send_message(message)
