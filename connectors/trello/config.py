"""The keys of a Trello source (`kind = "trello"`), contributed to the configuration by the
connector registry."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from pulse.connectors.config import SourceSettings, SourceUrl, StrictModel


class TrelloFields(StrictModel):
    """How Trello cards carry points and blockers: a custom field name or a label pattern."""

    points: str | None = None
    blocked_label: str = "Blocked"

    @field_validator("points")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None and "(" in value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"points pattern does not compile: {exc}") from None
        return value


class TrelloSource(SourceSettings):
    """A set of Trello boards read with one key and token."""

    kind: Literal["trello"]
    key: SecretStr
    token: SecretStr
    boards: list[str] = Field(min_length=1)
    url: SourceUrl = "https://api.trello.com"
    roadmap_boards: list[str] = Field(default_factory=list)
    roadmap_lists: list[str] = Field(default_factory=list)
    fields: TrelloFields = Field(default_factory=TrelloFields)
