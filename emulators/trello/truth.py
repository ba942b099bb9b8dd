"""Ground truth: what the emulator did, recorded as it did it, for tests and benchmarks to check.

It is written by `ops.Ops` alongside the live state but never read by the HTTP layer, so a
client's view can be compared with it independently. Times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


class ListMove(NamedTuple):
    """One list move of a card (an `updateCard:idList` action)."""

    action_id: str
    at: datetime
    from_list_name: str
    to_list_name: str


class ClosedChange(NamedTuple):
    """One archive (`closed=True`) or unarchive (`closed=False`) of a card."""

    action_id: str
    at: datetime
    closed: bool


class BoardMove(NamedTuple):
    """A card leaving `from_board_id` for `to_board_id` (moveCardFromBoard/moveCardToBoard)."""

    from_action_id: str
    to_action_id: str
    at: datetime
    from_board_id: str
    to_board_id: str
    to_list_name: str


@dataclass
class ListTruth:
    """A list as it is now."""

    id: str
    name: str
    pos: float
    closed: bool


@dataclass
class CardTruth:
    """A card as it is now, with its full list-move history (oldest first).

    `custom_fields` maps field name to value (float for number, datetime for date, option text
    for list). `linked_jira_keys` come from attachments whose URL is `<jira>/browse/KEY-N`;
    `linked_card_ids` from check items holding card URLs (Trello's roadmap convention).
    """

    id: str
    board_id: str
    list_id: str
    list_name: str
    name: str
    created_at: datetime
    created_by: str
    created_action_id: str
    closed: bool = False
    in_archived_list: bool = False
    due: datetime | None = None
    due_complete: bool = False
    labels: tuple[str, ...] = ()
    label_ids: tuple[str, ...] = ()
    custom_fields: dict[str, Any] = field(default_factory=dict)
    checklist_checked: int = 0
    checklist_total: int = 0
    linked_jira_keys: tuple[str, ...] = ()
    linked_card_ids: tuple[str, ...] = ()
    history: list[ListMove] = field(default_factory=list)
    closed_history: list[ClosedChange] = field(default_factory=list)
    board_moves: list[BoardMove] = field(default_factory=list)
    source_card_id: str | None = None

    @property
    def archived(self) -> bool:
        """Trello calls a closed card archived."""
        return self.closed


@dataclass
class DeletedCard:
    """A card deleted from a board."""

    id: str
    at: datetime
    action_id: str
    name: str


@dataclass
class MovedOut:
    """A card that left this board for another one."""

    id: str
    to_board_id: str
    at: datetime
    action_id: str


@dataclass
class BoardTruth:
    """One board: its lists (by position), current cards (archived included), deletions,
    cards moved away, and how many actions its action log holds: in all, per type, and per
    filter name (`updateCard:idList` counts list moves, `updateCard:closed` archives...)."""

    id: str
    name: str
    role: str
    closed: bool = False
    lists: dict[str, ListTruth] = field(default_factory=dict)
    cards: dict[str, CardTruth] = field(default_factory=dict)
    deleted: dict[str, DeletedCard] = field(default_factory=dict)
    moved_out: dict[str, MovedOut] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    custom_fields: dict[str, str] = field(default_factory=dict)
    action_count: int = 0
    action_types: dict[str, int] = field(default_factory=dict)
    action_filters: dict[str, int] = field(default_factory=dict)

    def actions_matching(self, filters: str) -> int:
        """How many of this board's actions a Trello `filter` (comma list) selects."""
        return sum(self.action_filters.get(part, 0) for part in filters.split(",") if part)

    def list_by_name(self, name: str) -> ListTruth:
        """A list of this board by name."""
        for lst in self.lists.values():
            if lst.name == name:
                return lst
        raise KeyError(name)

    def ordered_lists(self) -> list[ListTruth]:
        """Lists in board order (by pos)."""
        return sorted(self.lists.values(), key=lambda lst: lst.pos)

    def open_cards(self) -> list[CardTruth]:
        """Cards that are not archived (they may still sit in an archived list)."""
        return [card for card in self.cards.values() if not card.closed]


@dataclass
class Truth:
    """Ground truth for the whole organisation."""

    me_id: str = ""
    boards: dict[str, BoardTruth] = field(default_factory=dict)
    deleted_card_ids: dict[str, str] = field(default_factory=dict)
    _card_board: dict[str, str] = field(default_factory=dict, repr=False)

    def board(self, ref: str) -> BoardTruth:
        """A board by id or by name."""
        if ref in self.boards:
            return self.boards[ref]
        for board in self.boards.values():
            if board.name == ref:
                return board
        raise KeyError(ref)

    def card(self, card_id: str) -> CardTruth:
        """A live card (on whichever board it is now); KeyError when deleted or unknown."""
        return self.boards[self._card_board[card_id]].cards[card_id]

    def cards(self) -> list[CardTruth]:
        """Every live card on every board."""
        return [card for board in self.boards.values() for card in board.cards.values()]

    @property
    def total_actions(self) -> int:
        """Sum of the boards' action counts."""
        return sum(board.action_count for board in self.boards.values())

    # -- recording, used only by ops.Ops ------------------------------------------------------

    def place(self, card: CardTruth) -> None:
        """Put a card on its board (`card.board_id`)."""
        self.boards[card.board_id].cards[card.id] = card
        self._card_board[card.id] = card.board_id

    def unplace(self, card_id: str) -> CardTruth:
        """Take a card off its board and return it."""
        board_id = self._card_board.pop(card_id)
        return self.boards[board_id].cards.pop(card_id)
