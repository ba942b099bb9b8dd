"""Find the configured boards (by id or exact name) and read what frames their cards: lists
(open and archived), labels, members and custom field definitions, as rows of the store."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from trello import Board, ResourceUnavailable

from pulse.connectors.base import SourceError
from pulse.connectors.trello.client import TrelloApi, http_status
from pulse.settings import TrelloSource

Row = dict[str, Any]
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")


@dataclass(frozen=True)
class ListInfo:
    """A Trello list: the status a card in it has."""

    id: str
    name: str
    closed: bool
    pos: float


@dataclass(frozen=True)
class FieldDef:
    """A custom field definition; list-type fields carry their options (id → text)."""

    id: str
    name: str
    type: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class BoardInfo:
    """One configured board and everything needed to normalize its cards and actions."""

    id: str
    name: str
    closed: bool
    roadmap: bool
    lists: dict[str, ListInfo] = field(default_factory=dict)
    fields: dict[str, FieldDef] = field(default_factory=dict)
    labels: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)

    def fingerprint(self, rules: str) -> str:
        """A digest of everything a card's row depends on besides the card itself (board name,
        lists, custom fields, labels, the source's card rules): while it stays the same, a card
        whose `dateLastActivity` has not moved has not changed."""
        lists = sorted((lst.id, lst.name, lst.closed) for lst in self.lists.values())
        fields = sorted(
            (f.id, f.name, f.type, sorted(f.options.items())) for f in self.fields.values()
        )
        parts = [self.name, self.roadmap, lists, fields, sorted(self.labels.items()), rules]
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()

    def board_row(self, source_id: int, points: str | None) -> Row:
        ordered = sorted(self.lists.values(), key=lambda lst: lst.pos)
        columns = [{"id": lst.id, "name": lst.name, "closed": lst.closed} for lst in ordered]
        return {
            "source_id": source_id,
            "board_id": self.id,
            "name": self.name,
            "type": "trello",
            "project_key": self.name,
            "estimation_field": points,
            "columns": json.dumps(columns, ensure_ascii=False),
            "closed": self.closed,
        }

    def status_rows(self, source_id: int) -> list[Row]:
        return [status_row(source_id, self.id, lst) for lst in self.lists.values()]

    def people_rows(self, source_id: int) -> list[Row]:
        return [
            {"source_id": source_id, "person_id": pid, "display_name": name}
            for pid, name in self.members.items()
        ]


def status_row(source_id: int, board_id: str, lst: ListInfo) -> Row:
    """A list as a row of `statuses` (Trello lists have no status category)."""
    return {
        "source_id": source_id,
        "status_id": lst.id,
        "name": lst.name,
        "category": None,
        "board_id": board_id,
        "position": lst.pos,
        "closed": lst.closed,
    }


def resolve_boards(api: TrelloApi, source: TrelloSource) -> list[tuple[Board, bool]]:
    """The boards to sync (configured boards plus roadmap boards), each with its roadmap flag.

    A 24-hex reference is a board id; anything else is an exact board name among the boards
    the token's member can see (archived ones included). An unknown board is a config error.
    """
    refs = list(dict.fromkeys([*source.boards, *source.roadmap_boards]))
    named: dict[str, list[Board]] | None = None
    found: dict[str, tuple[Board, bool]] = {}
    for ref in refs:
        board: Board | None = None
        if _OBJECT_ID.match(ref):
            board = _board_by_id(api, ref)
        if board is None:
            if named is None:
                named = {}
                for candidate in api.client.list_boards(board_filter="all"):
                    named.setdefault(candidate.name, []).append(candidate)
            matches = named.get(ref, [])
            if len(matches) > 1:
                ids = ", ".join(b.id for b in matches)
                raise SourceError(
                    f"{source.name}: board name {ref!r} matches {len(matches)} boards ({ids}); "
                    "use the board id instead of its name"
                )
            board = matches[0] if matches else None
        if board is None:
            key = "boards" if ref in source.boards else "roadmap_boards"
            raise SourceError(
                f"{source.name}: board {ref!r} not found or not visible with this token "
                f"(config sources.{key})"
            )
        earlier = found.get(board.id)
        found[board.id] = (board, ref in source.roadmap_boards or bool(earlier and earlier[1]))
    return list(found.values())


def _board_by_id(api: TrelloApi, board_id: str) -> Board | None:
    try:
        return api.client.get_board(board_id)
    except ResourceUnavailable as exc:
        if http_status(exc) in (400, 404):
            return None
        raise


def read_board(board: Board, roadmap: bool) -> BoardInfo:
    """Lists (all, archived included), labels, members and custom field definitions, via
    py-trello (labels with limit 1000: its default of 50 truncates)."""
    info = BoardInfo(id=board.id, name=board.name, closed=bool(board.closed), roadmap=roadmap)
    for lst in board.all_lists():
        info.lists[lst.id] = ListInfo(lst.id, lst.name, bool(lst.closed), float(lst.pos or 0))
    for label in board.get_labels(limit=1000):
        info.labels[label.id] = (label.name, label.color)
    for member in board.all_members():
        info.members[member.id] = member.full_name
    for definition in board.get_custom_field_definitions():
        info.fields[definition.id] = FieldDef(
            id=definition.id,
            name=definition.name,
            type=definition.field_type,
            options=dict(definition.list_options or {}),
        )
    return info
