"""What every source's settings share: the base model a connector's settings extend, and the
types its keys use (durations, source URLs, workflow columns).

`settings.py` builds the configuration from these and from the models the connector registry
contributes; a connector's own keys live beside it (`connectors/<kind>/config.py`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Read a duration such as "15m", "2h", "1d" or "30s"."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 2h, 1d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


Duration = Annotated[str, Field(pattern=_DURATION.pattern)]


class StrictModel(BaseModel):
    """A configuration section: unknown keys are errors, values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(StrictModel):
    """One workflow column and the statuses (Jira) or lists (Trello) that map onto it."""

    name: str = Field(min_length=1)
    statuses: list[str] = Field(default_factory=list)


class WorkflowSettings(StrictModel):
    """Ordered columns plus the committed (cycle time starts) and done columns."""

    columns: list[Column] = Field(default_factory=list)
    committed: str | None = None
    done: str | None = None

    @model_validator(mode="after")
    def _special_columns_exist(self) -> WorkflowSettings:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("workflow column names must be unique")
        for role in ("committed", "done"):
            value = getattr(self, role)
            if value is not None and self.columns and value not in names:
                raise ValueError(f"{role} = {value!r} is not one of the columns {names}")
        return self


def _no_userinfo(url: str) -> str:
    """Refuse a user or password inside a source URL: it would be stored and shown."""
    if "@" in urlsplit(url).netloc:
        raise ValueError(
            "a source url must not hold a user or password (user@ or user:password@); "
            'set user = "..." and the secret as an environment reference like "${JIRA_TOKEN}"'
        )
    return url


SourceUrl = Annotated[str, Field(pattern=r"^https?://"), AfterValidator(_no_userinfo)]


class SourceSettings(StrictModel):
    """The keys every source has; a connector's model adds `kind` (a literal) and its own."""

    kind: str
    url: SourceUrl
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    team: str | None = None
    teams: dict[str, str] = Field(default_factory=dict)
    sync_every: Duration | None = None
    census_every: Duration = "24h"
    overlap: Duration = "10m"
    timeout: Duration = "30s"
    max_retry_time: Duration = "5m"
    unreachable_after: Duration = "30s"
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)

    def duration(self, attribute: str) -> timedelta:
        """Return a duration-valued attribute as a timedelta."""
        return parse_duration(getattr(self, attribute))

    def team_for(self, group: str) -> str:
        """The team owning a project (Jira) or board (Trello): mapping, then default, then name."""
        return self.teams.get(group) or self.team or group
