"""Custom-field discovery: find story points, sprint, epic link, flagged and date fields.

Ids differ per site, so fields are recognised by their `schema.custom` type (and, for generic
types such as a float or a date picker, by their well-known names). A config override wins over
discovery; what was chosen, and how, is recorded for `pulse status`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulse.settings import JiraFields

# role → (schema.custom types that identify it outright, names that identify a generic type)
_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "story_points": (
        ("com.pyxis.greenhopper.jira:jsw-story-points",),
        ("story points", "story point estimate"),
    ),
    "sprint": (("com.pyxis.greenhopper.jira:gh-sprint",), ("sprint",)),
    "epic_link": (("com.pyxis.greenhopper.jira:gh-epic-link",), ("epic link",)),
    "flagged": ((), ("flagged",)),
    "start_date": ((), ("start date",)),
    "target_date": ((), ("target end", "target date", "target end date")),
}
ROLES = tuple(_RULES)


@dataclass(frozen=True)
class FieldChoice:
    """The field picked for a role, its display name, and whether config or discovery chose it."""

    id: str
    name: str
    how: str  # "configured" | "discovered"


@dataclass(frozen=True)
class FieldMap:
    """The site's fields for every role Pulse tracks (a role may be missing)."""

    choices: dict[str, FieldChoice]
    _roles: dict[tuple[str | None, str | None], str | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def id(self, role: str) -> str | None:
        choice = self.choices.get(role)
        return choice.id if choice else None

    def role_of(self, field_id: str | None, field_name: str | None) -> str | None:
        """Which role a changelog item belongs to, by field id, else by display name.

        Data Center changelogs often carry only the field's name, not its id.
        """
        key = (field_id, field_name)
        if key not in self._roles:
            self._roles[key] = self._find_role(field_id, field_name)
        return self._roles[key]

    def _find_role(self, field_id: str | None, field_name: str | None) -> str | None:
        for role, choice in self.choices.items():
            if field_id and field_id == choice.id:
                return role
        if field_name:
            lowered = field_name.lower()
            for role, choice in self.choices.items():
                if lowered == choice.name.lower():
                    return role
        return None

    def as_status(self) -> dict[str, dict[str, str]]:
        return {
            role: {"id": c.id, "name": c.name, "how": c.how} for role, c in self.choices.items()
        }


def discover_fields(fields: list[dict[str, Any]], overrides: JiraFields) -> FieldMap:
    """Choose a field for each role from GET /field, honouring config overrides."""
    by_id = {str(f.get("id")): f for f in fields}
    choices: dict[str, FieldChoice] = {}
    for role, (types, names) in _RULES.items():
        configured = getattr(overrides, role)
        if configured:
            name = str(by_id.get(configured, {}).get("name") or configured)
            choices[role] = FieldChoice(configured, name, "configured")
            continue
        found = _by_type(fields, types) or _by_name(fields, names)
        if found is not None:
            choices[role] = FieldChoice(
                str(found["id"]), str(found.get("name") or found["id"]), "discovered"
            )
    return FieldMap(choices)


def _by_type(fields: list[dict[str, Any]], types: tuple[str, ...]) -> dict[str, Any] | None:
    for wanted in types:
        for candidate in fields:
            if (candidate.get("schema") or {}).get("custom") == wanted:
                return candidate
    return None


def _by_name(fields: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, Any] | None:
    for wanted in names:
        for candidate in fields:
            if candidate.get("custom") and str(candidate.get("name", "")).lower() == wanted:
                return candidate
    return None
