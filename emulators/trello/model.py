"""The emulator's live state: boards, lists, cards, actions and their indices.

Plain slotted dataclasses, mutated only by `ops.Ops` under `World.lock`; the HTTP layer renders
them through `shapes`. Times are epoch milliseconds.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Any

from .ids import IdFactory


@dataclass(slots=True)
class Member:
    """A Trello member (user)."""

    id: str
    username: str
    full_name: str
    initials: str
    avatar_hash: str


@dataclass(slots=True)
class Label:
    """A board label; `name` may be empty, `color` None (a label not shown on card fronts)."""

    id: str
    board_id: str
    name: str
    color: str | None


@dataclass(slots=True)
class FieldOption:
    """One option of a list-type custom field."""

    id: str
    text: str
    color: str
    pos: float


@dataclass(slots=True)
class CustomFieldDef:
    """A custom field definition on a board (`number`, `date`, `list`, `text`, `checkbox`)."""

    id: str
    board_id: str
    name: str
    type: str
    pos: float
    options: list[FieldOption] = field(default_factory=list)


@dataclass(slots=True)
class TList:
    """A list (column). `role` is the workflow step: todo, doing, review, done or parked."""

    id: str
    board_id: str
    name: str
    pos: float
    closed: bool
    role: str
    next_pos: float = 16384.0


@dataclass(slots=True)
class CheckItem:
    """A check item; `name` holds a card URL when the item links a card."""

    id: str
    checklist_id: str
    name: str
    pos: float
    state: str = "incomplete"


@dataclass(slots=True)
class Checklist:
    """A checklist on a card."""

    id: str
    board_id: str
    card_id: str
    name: str
    pos: float
    items: list[CheckItem] = field(default_factory=list)


@dataclass(slots=True)
class Attachment:
    """A card attachment: a link (possibly to a Jira issue) or an uploaded file."""

    id: str
    name: str
    url: str
    date_ms: int
    member_id: str
    is_upload: bool
    mime_type: str
    size: int | None
    pos: float


@dataclass(slots=True)
class Card:
    """A card. `custom` maps custom field id to (item id, type, raw value or option id)."""

    id: str
    board_id: str
    list_id: str
    id_short: int
    short_link: str
    name: str
    desc: str
    pos: float
    created_ms: int
    last_activity_ms: int
    closed: bool = False
    due_ms: int | None = None
    due_complete: bool = False
    start_ms: int | None = None
    label_ids: list[str] = field(default_factory=list)
    member_ids: list[str] = field(default_factory=list)
    checklists: list[Checklist] = field(default_factory=list)
    custom: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    comments: int = 0


@dataclass(slots=True)
class Action:
    """An action (history record). `keys` are the filter names it matches."""

    id: str
    type: str
    date_ms: int
    member_id: str
    data: dict[str, Any]
    keys: frozenset[str]
    card_id: str | None
    json: str | None = None


@dataclass(slots=True)
class Board:
    """A board with its lists, labels, custom fields and its ordered action log."""

    id: str
    name: str
    short_link: str
    desc: str
    closed: bool
    role: str
    created_ms: int
    last_activity_ms: int
    creator_id: str
    lists: list[TList] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    custom_fields: list[CustomFieldDef] = field(default_factory=list)
    member_ids: list[str] = field(default_factory=list)
    card_ids: dict[str, None] = field(default_factory=dict)
    next_id_short: int = 1
    actions: list[Action] = field(default_factory=list)
    action_ids: list[str] = field(default_factory=list)


def insert_action(actions: list[Action], ids: list[str], action: Action) -> None:
    """Keep an action log sorted by id (append in the usual case, insort if the clock went back)."""
    if not ids or ids[-1] < action.id:
        ids.append(action.id)
        actions.append(action)
        return
    index = bisect.bisect_left(ids, action.id)
    ids.insert(index, action.id)
    actions.insert(index, action)


@dataclass
class World:
    """Everything the emulator holds, with lookup indices and the one lock guarding it."""

    ids: IdFactory
    me_id: str = ""
    org_id: str = ""
    members: dict[str, Member] = field(default_factory=dict)
    boards: dict[str, Board] = field(default_factory=dict)
    lists: dict[str, TList] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    deleted: dict[str, Card] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    card_actions: dict[str, list[Action]] = field(default_factory=dict)
    card_action_ids: dict[str, list[str]] = field(default_factory=dict)
    short_links: dict[str, str] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def board_by_ref(self, ref: str) -> Board | None:
        """A board by id or short link."""
        board = self.boards.get(ref)
        if board is None and ref in self.short_links:
            board = self.boards.get(self.short_links[ref])
        return board

    def card_by_ref(self, ref: str) -> Card | None:
        """A live (not deleted) card by id or short link."""
        card = self.cards.get(ref)
        if card is None and ref in self.short_links:
            card = self.cards.get(self.short_links[ref])
        return card
