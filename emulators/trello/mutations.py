"""`emu.mutate`: change the emulated Trello from Python, stamped with `emu.clock`.

Each method records the same actions and ground truth as the equivalent REST call (the HTTP
handlers use these methods too). Cards may be given as an id, a short link, or any object with
an `id` attribute (a `CardTruth`, a py-trello `Card`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from .clock import Clock
from .ids import iso_ms, parse_date_ms, to_ms
from .model import Board, Card, TList, World
from .ops import Ops


class HasId(Protocol):
    """Anything with an `id` (CardTruth, py-trello Card, ...)."""

    id: str


CardRef = str | HasId


class NotFound(LookupError):
    """The referenced card, list or board does not exist (or was deleted)."""


class Invalid(ValueError):
    """A mutation Trello would refuse; `param` names the offending parameter."""

    def __init__(self, param: str, message: str | None = None) -> None:
        super().__init__(message or f"invalid value for {param}")
        self.param = param


_UNSET: Any = object()


def _when_ms(value: datetime | str | int | None, param: str) -> int | None:
    """A due/start value (datetime, ISO text, epoch ms or None) as epoch ms."""
    if value is None or value == "" or value == "null":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Invalid(param)
        return to_ms(value)
    if isinstance(value, int):
        return value
    parsed = parse_date_ms(str(value))
    if parsed is None:
        raise Invalid(param)
    return parsed


class Mutator:
    """Live changes to boards and cards (moves, archive, delete, create, board moves...)."""

    def __init__(self, world: World, ops: Ops, clock: Clock) -> None:
        self._world = world
        self._ops = ops
        self._clock = clock

    # -- lookups --------------------------------------------------------------------------

    def card(self, ref: CardRef) -> Card:
        """The live card for a reference; NotFound when deleted or unknown."""
        key = ref if isinstance(ref, str) else ref.id
        card = self._world.card_by_ref(key)
        if card is None:
            raise NotFound(key)
        return card

    def get_list(self, list_id: str) -> TList:
        """A list by id."""
        lst = self._world.lists.get(list_id)
        if lst is None:
            raise NotFound(list_id)
        return lst

    def board(self, board_id: str) -> Board:
        """A board by id, short link or name."""
        board = self._world.board_by_ref(board_id)
        if board is None:
            board = next((b for b in self._world.boards.values() if b.name == board_id), None)
        if board is None:
            raise NotFound(board_id)
        return board

    def _actor(self, by: str | None) -> str:
        return by or self._world.me_id

    # -- card changes ---------------------------------------------------------------------

    def move_card(self, card: CardRef, list_id: str, *, by: str | None = None) -> str:
        """Move a card to another list of its board; returns the updateCard action id."""
        with self._world.lock:
            target = self.card(card)
            lst = self.get_list(list_id)
            if lst.board_id != target.board_id:
                raise Invalid("idList", "list is on another board: use move_to_board")
            if lst.id == target.list_id:
                raise Invalid("idList", "card is already in that list")
            return self._ops.move_card(target, lst, self._clock.now_ms(), self._actor(by))

    def archive(self, card: CardRef, *, by: str | None = None) -> str:
        """Archive a card (closed=true); returns the action id."""
        return self._set_closed(card, True, by)

    def unarchive(self, card: CardRef, *, by: str | None = None) -> str:
        """Send an archived card back to the board (closed=false); returns the action id."""
        return self._set_closed(card, False, by)

    def _set_closed(self, card: CardRef, closed: bool, by: str | None) -> str:
        with self._world.lock:
            target = self.card(card)
            if target.closed == closed:
                raise Invalid("closed", "card already in that state")
            return self._ops.set_closed(target, closed, self._clock.now_ms(), self._actor(by))

    def delete(self, card: CardRef, *, by: str | None = None) -> str:
        """Delete a card; returns the deleteCard action id."""
        with self._world.lock:
            return self._ops.delete_card(self.card(card), self._clock.now_ms(), self._actor(by))

    def move_to_board(
        self, card: CardRef, board_id: str, list_id: str | None = None, *, by: str | None = None
    ) -> tuple[str, str]:
        """Move a card to another board (its first open list unless `list_id` is given);
        returns (moveCardFromBoard id, moveCardToBoard id)."""
        with self._world.lock:
            target = self.card(card)
            board = self.board(board_id)
            if board.id == target.board_id:
                if list_id is None:
                    raise Invalid("idBoard", "card is already on that board")
                return ("", self.move_card(target, list_id, by=by))
            if list_id is None:
                lst = next((lst for lst in board.lists if not lst.closed), None)
                if lst is None:
                    raise Invalid("idList")
            else:
                lst = self.get_list(list_id)
                if lst.board_id != board.id:
                    raise Invalid("idList", "list is not on the target board")
            now = self._clock.now_ms()
            return self._ops.move_to_board(target, board, lst, now, self._actor(by))

    def update(
        self,
        card: CardRef,
        *,
        name: str = _UNSET,
        desc: str = _UNSET,
        due: datetime | str | None = _UNSET,
        dueComplete: bool = _UNSET,
        start: datetime | str | None = _UNSET,
        pos: float = _UNSET,
        by: str | None = None,
    ) -> list[str]:
        """Change card fields (one updateCard action per changed field); returns action ids."""
        with self._world.lock:
            target = self.card(card)
            now = self._clock.now_ms()
            actor = self._actor(by)
            done: list[str] = []
            if name is not _UNSET and name != target.name:
                if not str(name).strip():
                    raise Invalid("name")
                done.append(self._ops.update_field(target, "name", name, now, actor))
            if desc is not _UNSET and desc != target.desc:
                done.append(self._ops.update_field(target, "desc", desc, now, actor))
            if due is not _UNSET:
                due_ms = _when_ms(due, "due")
                if due_ms != target.due_ms:
                    done.append(self._ops.update_field(target, "due", due_ms, now, actor))
            if start is not _UNSET:
                start_ms = _when_ms(start, "start")
                if start_ms != target.start_ms:
                    done.append(self._ops.update_field(target, "start", start_ms, now, actor))
            if dueComplete is not _UNSET and bool(dueComplete) != target.due_complete:
                done.append(
                    self._ops.update_field(target, "dueComplete", bool(dueComplete), now, actor)
                )
            if pos is not _UNSET and float(pos) != target.pos:
                done.append(self._ops.update_field(target, "pos", float(pos), now, actor))
            return done

    def comment(self, card: CardRef, text: str, *, by: str | None = None) -> str:
        """Comment on a card; returns the commentCard action id."""
        with self._world.lock:
            return self._ops.comment(self.card(card), text, self._clock.now_ms(), self._actor(by))

    def attach(
        self, card: CardRef, url: str, name: str | None = None, *, by: str | None = None
    ) -> str:
        """Attach a link (e.g. a Jira issue URL); returns the addAttachmentToCard action id."""
        with self._world.lock:
            target = self.card(card)
            now = self._clock.now_ms()
            return self._ops.add_attachment(target, name or url, url, now, self._actor(by))

    def create_card(
        self,
        list_id: str,
        name: str = "",
        *,
        desc: str = "",
        due: datetime | str | None = None,
        due_complete: bool = False,
        labels: Iterable[str] = (),
        members: Iterable[str] = (),
        custom: Mapping[str, Any] | None = None,
        checklist: Iterable[str] = (),
        attachments: Iterable[str] = (),
        pos: float | None = None,
        source: CardRef | None = None,
        keep_from_source: str = "all",
        by: str | None = None,
    ) -> str:
        """Create a card (copyCard when `source` is given); returns the new card id.

        `labels` are label ids or names of the list's board; `custom` maps custom field names
        to values (number, datetime or ISO text, option text); `checklist` item names make an
        "Acceptance criteria" checklist; `attachments` are link URLs. A copy takes the source's
        name and description unless given, plus what `keep_from_source` names (Trello's
        `attachments, checklists, customFields, due, labels, members`, or `all`).
        """
        with self._world.lock:
            lst = self.get_list(list_id)
            board = self._world.boards[lst.board_id]
            source_card = self.card(source) if source is not None else None
            copied: dict[str, Any] = {}
            if source_card is not None:
                copied = self._copied(source_card, board, keep_from_source)
                name = name or source_card.name
                desc = desc or source_card.desc
            if not str(name).strip():
                raise Invalid("name")
            label_ids = self._label_ids(board, labels) or copied.get("labels", [])
            member_ids = list(members) or copied.get("members", [])
            for member_id in member_ids:
                if member_id not in self._world.members:
                    raise Invalid("idMembers")
            values: dict[str, str] = dict(copied.get("custom", {}))
            for field_name, value in (custom or {}).items():
                if isinstance(value, datetime):
                    values[field_name] = iso_ms(to_ms(value))
                elif isinstance(value, bool):
                    values[field_name] = "true" if value else "false"
                elif isinstance(value, (int, float)):
                    values[field_name] = f"{value:g}"
                else:
                    values[field_name] = str(value)
            items = [(item, "incomplete") for item in checklist]
            checklists = [("Acceptance criteria", items)] if items else copied.get("checklists", [])
            links = [(url, url, False, "", None) for url in attachments]
            due_ms = _when_ms(due, "due")
            if due_ms is None:
                due_ms = copied.get("due")
            card = self._ops.create_card(
                lst,
                name,
                self._clock.now_ms(),
                self._actor(by),
                desc=desc,
                due_ms=due_ms,
                due_complete=due_complete,
                label_ids=label_ids,
                member_ids=member_ids,
                custom=values,
                checklists=checklists,
                attachments=links or copied.get("attachments", []),
                how="copyCard" if source_card is not None else "createCard",
                source=source_card,
                pos=pos,
            )
            return card.id

    def _label_ids(self, board: Board, labels: Iterable[str]) -> list[str]:
        by_name = {label.name: label.id for label in board.labels}
        ids = {label.id for label in board.labels}
        out = []
        for label in labels:
            if label in ids:
                out.append(label)
            elif label in by_name:
                out.append(by_name[label])
            else:
                raise Invalid("idLabels")
        return out

    def _copied(self, source: Card, board: Board, keep: str) -> dict[str, Any]:
        """What a copy takes from its source card, per keepFromSource."""
        wanted = {part.strip() for part in keep.split(",") if part.strip()}
        every = "all" in wanted
        copied: dict[str, Any] = {}
        world = self._world
        if every or "labels" in wanted:
            names = {(lab.name, lab.color): lab.id for lab in board.labels}
            copied["labels"] = [
                names[key]
                for key in ((world.labels[i].name, world.labels[i].color) for i in source.label_ids)
                if key in names
            ]
        if every or "members" in wanted:
            copied["members"] = list(source.member_ids)
        if every or "due" in wanted:
            copied["due"] = source.due_ms
        if every or "checklists" in wanted:
            copied["checklists"] = [
                (cl.name, [(item.name, item.state) for item in cl.items])
                for cl in source.checklists
            ]
        if every or "attachments" in wanted:
            copied["attachments"] = [
                (a.name, a.url, a.is_upload, a.mime_type, a.size) for a in source.attachments
            ]
        if every or "customFields" in wanted:
            copied["custom"] = self._ops.custom_values(source)
        return copied

    # -- lists ----------------------------------------------------------------------------

    def archive_list(self, list_id: str, *, by: str | None = None) -> str:
        """Archive a list; its cards stay `closed: false` but sit in an archived list."""
        return self._list_closed(list_id, True, by)

    def unarchive_list(self, list_id: str, *, by: str | None = None) -> str:
        """Reopen an archived list."""
        return self._list_closed(list_id, False, by)

    def _list_closed(self, list_id: str, closed: bool, by: str | None) -> str:
        with self._world.lock:
            lst = self.get_list(list_id)
            if lst.closed == closed:
                raise Invalid("value", "list already in that state")
            return self._ops.archive_list(lst, self._clock.now_ms(), self._actor(by), closed)
