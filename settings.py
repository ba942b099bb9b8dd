"""Pulse configuration: a TOML file validated into typed settings.

Secrets are `${ENV_VAR}` references resolved from the environment at load time; a literal secret
is refused. Every error names the key, the file and the line, so a user can fix it in one go.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from pulse.connectors.config import Duration, SourceSettings, parse_duration
from pulse.connectors.config import StrictModel as _Model
from pulse.connectors.config import WorkflowSettings as WorkflowSettings  # re-exported, like below
from pulse.connectors.jira.config import JiraFields as JiraFields  # for the report code and tests
from pulse.connectors.jira.config import JiraSource as JiraSource
from pulse.connectors.registry import Registration, registrations
from pulse.connectors.trello.config import TrelloFields as TrelloFields
from pulse.connectors.trello.config import TrelloSource as TrelloSource

DEFAULT_CONFIG = "pulse.toml"
SECRET_KEYS = frozenset({"token", "key", "password", "smtp_password"})
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})  # a relay on this machine: no wire


class ConfigError(Exception):
    """A configuration problem, worded as one line that names the key, file and line."""


class StoreSettings(_Model):
    """Where the normalized store lives: a SQLAlchemy URL (SQLite file or PostgreSQL)."""

    url: str = "sqlite:///pulse.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("store url must start with sqlite:/// or postgresql+psycopg://")
        return url


class ReportSettings(_Model):
    """Report defaults: the time zone that sets day boundaries, and where workbooks go."""

    timezone: str = "UTC"
    out_dir: str = "reports"
    weeks: int = Field(default=12, ge=1, le=104)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _check_zone(name)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def source_model(kinds: Sequence[Registration]) -> Any:
    """A `[[sources]]` entry: the settings model of its kind (its `kind` key tells which)."""
    return Annotated[Union[tuple(k.settings for k in kinds)], Field(discriminator="kind")]  # noqa: UP007


if TYPE_CHECKING:
    Source = SourceSettings
else:
    Source = source_model(registrations())


class ScheduleSettings(_Model):
    """When the service syncs and writes the Monday workbook."""

    timezone: str = "UTC"
    sync_every: Duration = "15m"
    weekly_report: str = Field(
        default="mon 07:00", pattern=r"^(mon|tue|wed|thu|fri|sat|sun) \d\d:\d\d$"
    )
    report_grace: Duration = "6h"
    deliver_to: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_to: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _check_zone(name)

    @field_validator("weekly_report")
    @classmethod
    def _real_time(cls, value: str) -> str:
        hour, minute = (int(part) for part in value.split()[1].split(":"))
        if hour > 23 or minute > 59:
            raise ValueError(f"{value!r} is not a time of day (00:00 to 23:59)")
        return value

    @model_validator(mode="after")
    def _complete_smtp(self) -> ScheduleSettings:
        if self.smtp_host is None:
            if self.smtp_to or self.smtp_from or self.smtp_user:
                raise ValueError("smtp_to, smtp_from and smtp_user need smtp_host")
            return self
        if not self.smtp_from or not self.smtp_to:
            raise ValueError("smtp_host needs smtp_from and smtp_to (the report's e-mail)")
        if (self.smtp_user is None) != (self.smtp_password is None):
            raise ValueError("smtp_user and smtp_password go together")
        cleartext = self.smtp_security == "none" and self.smtp_host not in LOOPBACK
        if cleartext and self.smtp_password is not None:
            raise ValueError(
                f'smtp_security = "none" would send smtp_password to {self.smtp_host} in clear '
                'text: use "starttls" or "ssl"'
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def smtp_port_or_default(self) -> int:
        """The configured SMTP port, else 465 for ssl, 587 for starttls, 25 for none."""
        if self.smtp_port is not None:
            return self.smtp_port
        return {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_security]


class Settings(_Model):
    """The whole configuration file."""

    store: StoreSettings = Field(default_factory=StoreSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_source_names(self) -> Settings:
        names = [s.name for s in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return self

    def source(self, name: str) -> SourceSettings:
        """Find a configured source by name."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"unknown source {name!r} (known: {known})")

    def sync_interval(self, source: SourceSettings) -> timedelta:
        """How often a source is synced: its own sync_every, else the schedule's."""
        return parse_duration(source.sync_every or self.schedule.sync_every)


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from None
    return name


def load_settings(
    path: str | os.PathLike[str], environ: dict[str, str] | None = None, secrets: bool = True
) -> Settings:
    """Read, interpolate and validate a config file; raise ConfigError with key, file and line.

    ``secrets=False`` is for commands that only read the store (questions, reports, exports):
    a secret whose environment variable is unset is then left empty instead of refused, so a
    director's machine needs no Jira or Trello credentials to ask.
    """
    path = Path(path)
    env = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (copy config.example.toml to {DEFAULT_CONFIG})"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    locate = _KeyLocator(text)
    resolved = _interpolate(raw, (), env, path, locate, secrets)
    try:
        return Settings.model_validate(resolved)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p in ("jira", "trello")))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        if error["type"] == "union_tag_invalid":
            message = 'kind must be "jira" or "trello"'
            loc = (*loc, "kind")
        raise ConfigError(
            _where(path, loc, locate) + f": {message}{_not_value(error, loc, message)}"
        ) from None


def _not_value(error: Any, loc: tuple[str | int, ...], message: str) -> str:
    """', not "VALUE"' for an error about a plain value; never for a secret or a URL (which can
    hold a password), nor when the message already quotes it."""
    value = (error.get("ctx") or {}).get("tag") if error["type"] == "union_tag_invalid" else None
    if value is None:
        value = error.get("input")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    if not loc or loc[-1] in SECRET_KEYS or "url" in str(loc[-1]):
        return ""
    if repr(value) in message or error["type"] == "missing":
        return ""
    shown = str(value) if len(str(value)) <= 60 else str(value)[:59] + "…"
    return f", not {json.dumps(shown, ensure_ascii=False)}"


def _interpolate(
    value: Any,
    loc: tuple[str | int, ...],
    env: dict[str, str],
    path: Path,
    locate: _KeyLocator,
    secrets: bool,
) -> Any:
    """Replace ${VAR} references by the environment's values; secrets must be references
    (resolved only when ``secrets``; else an unset one is left empty)."""
    if isinstance(value, dict):
        return {k: _interpolate(v, (*loc, k), env, path, locate, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*loc, i), env, path, locate, secrets) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    if loc and loc[-1] in SECRET_KEYS and not _ENV_REF.fullmatch(value.strip()):
        raise ConfigError(
            _where(path, loc, locate)
            + ': secrets must be an environment reference like "${JIRA_TOKEN}", not a literal'
        )

    secret = bool(loc) and loc[-1] in SECRET_KEYS

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env and secret and not secrets:
            return ""
        if name not in env:
            raise ConfigError(
                _where(path, loc, locate) + f": environment variable {name} is not set"
            )
        return env[name]

    return _ENV_REF.sub(substitute, value)


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _where(path: Path, loc: Sequence[str | int], locate: _KeyLocator) -> str:
    line = locate.line_of(tuple(loc))
    at = f"{path}:{line}" if line else str(path)
    return f"{at}: {_dotted(loc)}" if loc else at


class _KeyLocator:
    """Finds the line that defines a key path, e.g. ("sources", 1, "token"), in TOML text.

    tomllib keeps no positions, so this scans headers and `key =` lines; it is only used to
    point error messages at the right line, never to read values.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self._entries: list[tuple[tuple[str | int, ...], int]] = []
        table: tuple[str | int, ...] = ()
        counts: dict[tuple[str | int, ...], int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                parts = tuple(p.strip().strip('"') for p in header.group(2).split("."))
                table = self._resolve(parts, counts, table, array=header.group(1) == "[[")
                self._entries.append((table, number))
                continue
            key = self._KEY.match(line)
            if key:
                self._entries.append(((*table, key.group(1)), number))

    @staticmethod
    def _resolve(
        parts: tuple[str, ...],
        counts: dict[tuple[str | int, ...], int],
        current: tuple[str | int, ...],
        array: bool,
    ) -> tuple[str | int, ...]:
        # A sub-table of an array of tables ([sources.workflow]) belongs to its latest element.
        resolved: tuple[str | int, ...] = ()
        for i, part in enumerate(parts):
            resolved = (*resolved, part)
            last = i == len(parts) - 1
            if last and array:
                counts[resolved] = counts.get(resolved, -1) + 1
                resolved = (*resolved, counts[resolved])
            elif not last and resolved in counts:
                resolved = (*resolved, counts[resolved])
        return resolved

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """The line of the longest defined prefix of `loc`, or None when nothing matches."""
        for length in range(len(loc), 0, -1):
            prefix = loc[:length]
            for entry, number in self._entries:
                if entry == prefix:
                    return number
        return None
