"""Turn Trello card JSON into rows of the normalized store.

A card is an item keyed by its immutable id; its key is the shortLink users see in card URLs.
Its status is the list it sits in; it is archived when closed or when its list is archived.
Points come from a custom field (by name) or from a label pattern such as `pts:(\\d+)`; links
to Jira issues come from attachments whose URL is a Jira browse URL; a roadmap card's check
items that hold card URLs are kept as `roadmap` links for the roll-up (see `roadmap`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pulse.connectors.trello.boards import BoardInfo, FieldDef

Row = dict[str, Any]

CARD_FIELDS = ",".join(
    (
        "name",
        "idList",
        "idBoard",
        "closed",
        "due",
        "dueComplete",
        "start",
        "badges",
        "shortLink",
        "url",
        "labels",
        "idMembers",
        "dateLastActivity",
    )
)
JIRA_LINK = "jira"
ROADMAP_LINK = "roadmap"
CARD_LINK_TYPES = (JIRA_LINK, ROADMAP_LINK)
_JIRA_BROWSE = re.compile(
    r"^https?://[^/?#]+(?:/[^?#]*)?/browse/([A-Z][A-Z0-9_]*-[1-9][0-9]*)/?(?:[?#].*)?$"
)
_CARD_URL = re.compile(r"https?://trello\.com/c/([0-9A-Za-z]{8})\b")


def card_params(checklists: bool) -> dict[str, str]:
    """Query parameters for card listings: every card (archived too) with what we normalize."""
    return {
        "filter": "all",
        "fields": CARD_FIELDS,
        "customFieldItems": "true",
        "attachments": "true",
        "attachment_fields": "name,url",
        "checklists": "all" if checklists else "none",
    }


def id_time(object_id: str) -> datetime:
    """The creation instant a Trello (Mongo) id encodes in its first 8 hex digits."""
    return datetime.fromtimestamp(int(object_id[:8], 16), tz=UTC)


def parse_time(value: Any) -> datetime | None:
    """Trello's "2026-11-20T12:00:00.000Z" as an aware UTC datetime."""
    if not value or not isinstance(value, str):
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def day_of(value: Any) -> date | None:
    """The UTC calendar day of a Trello timestamp (due dates are stored as days)."""
    when = parse_time(value)
    return when.date() if when is not None else None


@dataclass(frozen=True)
class CardRules:
    """How this source reads points, roadmap lists and the blocked label from cards."""

    points_field: str | None = None
    points_pattern: re.Pattern[str] | None = None
    roadmap_lists: frozenset[str] = frozenset()
    blocked_label: str = "Blocked"

    @classmethod
    def from_source(cls, points: str | None, roadmap_lists: list[str], blocked: str) -> CardRules:
        """A points setting containing "(" is a label pattern; otherwise a custom field name."""
        pattern = re.compile(points) if points and "(" in points else None
        return cls(
            points_field=points if points and pattern is None else None,
            points_pattern=pattern,
            roadmap_lists=frozenset(roadmap_lists),
            blocked_label=blocked,
        )

    @property
    def signature(self) -> str:
        """The rules as stable text (part of a board's fingerprint)."""
        pattern = self.points_pattern.pattern if self.points_pattern else None
        return repr((self.points_field, pattern, sorted(self.roadmap_lists)))

    @property
    def points_source(self) -> str | None:
        """Where points come from, as `pulse status` shows it."""
        if self.points_pattern is not None:
            return "label pattern"
        return "custom field" if self.points_field else None

    def is_roadmap(self, board: BoardInfo, list_id: str | None) -> bool:
        """Cards on a roadmap board, or in a roadmap list (by id or name), are roadmap items."""
        if board.roadmap:
            return True
        lst = board.lists.get(list_id or "")
        return bool(self.roadmap_lists) and (
            list_id in self.roadmap_lists or (lst is not None and lst.name in self.roadmap_lists)
        )

    def is_blocked(self, label_name: str | None) -> bool:
        return bool(label_name) and str(label_name).strip().casefold() == (
            self.blocked_label.strip().casefold()
        )

    def estimate(self, card: dict[str, Any], fields: dict[str, FieldDef]) -> float | None:
        """The card's points: the named custom field's value, or the largest matching label."""
        if self.points_pattern is not None:
            values = [
                _number(match.group(1) if match.groups() else match.group(0))
                for label in card.get("labels") or []
                if (match := self.points_pattern.fullmatch(str(label.get("name") or "").strip()))
            ]
            found = [v for v in values if v is not None]
            return max(found) if found else None
        if self.points_field is None:
            return None
        wanted = self.points_field.strip().casefold()
        for entry in card.get("customFieldItems") or []:
            definition = fields.get(str(entry.get("idCustomField")))
            if definition is None or definition.name.strip().casefold() != wanted:
                continue
            if definition.type == "list":
                return _number(definition.options.get(str(entry.get("idValue"))))
            value = entry.get("value") or {}
            return _number(value.get("number", value.get("text")))
        return None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass
class CardRows:
    """The rows one card produces: its item, its label names and its own links."""

    item: Row
    labels: list[str] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)


def normalize_card(
    card: dict[str, Any], board: BoardInfo, rules: CardRules, source_id: int, synced_at: datetime
) -> CardRows:
    """One card as an item row plus its labels and links (Jira, and roadmap check items)."""
    card_id = str(card["id"])
    list_id = str(card.get("idList") or "") or None
    lst = board.lists.get(list_id or "")
    roadmap = rules.is_roadmap(board, list_id)
    due = day_of(card.get("due"))
    members = card.get("idMembers") or []
    badges = card.get("badges") or {}
    item = {
        "source_id": source_id,
        "item_id": card_id,
        "key": str(card.get("shortLink") or card_id),
        "project_key": board.name,
        "board_id": board.id,
        "type": "Roadmap" if roadmap else "Card",
        "is_subtask": False,
        "title": str(card.get("name") or ""),
        "status": lst.name if lst is not None else None,
        "status_id": list_id,
        "status_category": None,
        "created": id_time(card_id),
        "updated": parse_time(card.get("dateLastActivity")),
        "resolved": None,
        "assignee_id": str(members[0]) if members else None,
        "estimate": rules.estimate(card, board.fields),
        "due": due,
        "start_date": day_of(card.get("start")),
        "target_date": due if roadmap else None,
        "due_complete": bool(card.get("dueComplete")),
        "checklist_done": int(badges.get("checkItemsChecked") or 0),
        "checklist_total": int(badges.get("checkItems") or 0),
        "url": card.get("url") or card.get("shortUrl"),
        "archived": bool(card.get("closed")) or bool(lst is not None and lst.closed),
        "deleted_at": None,
        "access_lost_at": None,
        "out_of_scope_at": None,
        "census_misses": 0,
        "synced_at": synced_at,
    }
    rows = CardRows(item=item)
    names = (str(label.get("name") or "").strip() for label in card.get("labels") or [])
    rows.labels = sorted({name[:255] for name in names if name})
    base = {
        "source_id": source_id,
        "item_id": card_id,
        "direction": "outward",
        "other_item_id": None,
    }
    for attachment in card.get("attachments") or []:
        url = str(attachment.get("url") or "")
        match = _JIRA_BROWSE.match(url)
        if match and not any(link["other_key"] == match.group(1) for link in rows.links):
            rows.links.append(
                {
                    **base,
                    "link_id": f"jira:{match.group(1)}",
                    "link_type": JIRA_LINK,
                    "other_key": match.group(1),
                    "other_url": url,
                }
            )
    if roadmap:
        for checklist in card.get("checklists") or []:
            for check_item in checklist.get("checkItems") or []:
                for short in dict.fromkeys(_CARD_URL.findall(str(check_item.get("name") or ""))):
                    rows.links.append(
                        {
                            **base,
                            "link_id": f"checkitem:{check_item.get('id')}:{short}",
                            "link_type": ROADMAP_LINK,
                            "other_key": short,
                            "other_url": f"https://trello.com/c/{short}",
                        }
                    )
    return rows
