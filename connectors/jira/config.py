"""The keys of a Jira source (`kind = "jira"`), contributed to the configuration by the
connector registry."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from pulse.connectors.config import SourceSettings, SourceUrl, StrictModel

_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")


class JiraFields(StrictModel):
    """Overrides for custom-field discovery; each value is a field id like customfield_10016."""

    story_points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None
    flagged: str | None = None
    start_date: str | None = None
    target_date: str | None = None


class JiraSource(SourceSettings):
    """A Jira Cloud or Data Center site."""

    kind: Literal["jira"]
    url: SourceUrl
    auth: Literal["basic", "bearer"] = "basic"
    user: str | None = None
    token: SecretStr
    projects: list[str] = Field(default_factory=list)
    jql: str | None = None
    api_version: Literal["auto", "2", "3"] = "auto"
    page_size: int = Field(default=100, ge=1, le=1000)
    fields: JiraFields = Field(default_factory=JiraFields)

    @field_validator("projects")
    @classmethod
    def _valid_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not _PROJECT_KEY.match(key):
                raise ValueError(f"{key!r} is not a Jira project key (A-Z, 0-9, _)")
        return keys

    @model_validator(mode="after")
    def _scope_and_auth(self) -> JiraSource:
        if not self.projects and not self.jql:
            raise ValueError('a jira source needs projects = [...] and/or jql = "..."')
        if self.auth == "basic" and not self.user:
            raise ValueError('auth = "basic" needs user (the account e-mail or username)')
        return self
