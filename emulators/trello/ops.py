"""The operations that change the emulated Trello: one code path for history and live mutations.

Each operation updates the live state (`model.World`), appends the action(s) Trello would
record (with ids allocated at the operation's time, so ids sort by time), bumps
`dateLastActivity`, and records the outcome in the ground truth (`truth.Truth`).
Callers hold `world.lock`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .ids import from_ms, iso_ms, parse_date_ms
from .model import (
    Action,
    Attachment,
    Board,
    Card,
    CheckItem,
    Checklist,
    CustomFieldDef,
    FieldOption,
    Label,
    TList,
    World,
    insert_action,
)
from .truth import (
    BoardMove,
    BoardTruth,
    CardTruth,
    ClosedChange,
    DeletedCard,
    ListMove,
    ListTruth,
    MovedOut,
    Truth,
)

CARD_URL_RE = re.compile(r"https://trello\.com/c/([0-9A-Za-z]{8})")
POS_STEP = 16384.0


def card_ref(card: Card) -> dict[str, Any]:
    """The `data.card` snapshot Trello puts in actions."""
    return {
        "id": card.id,
        "name": card.name,
        "idShort": card.id_short,
        "shortLink": card.short_link,
    }


def board_ref(board: Board) -> dict[str, Any]:
    """The `data.board` snapshot."""
    return {"id": board.id, "name": board.name, "shortLink": board.short_link}


def list_ref(lst: TList) -> dict[str, Any]:
    """The `data.list` snapshot."""
    return {"id": lst.id, "name": lst.name}


class Ops:
    """Applies changes to the world and records actions and ground truth."""

    def __init__(self, world: World, truth: Truth, jira_base_url: str) -> None:
        self.world = world
        self.truth = truth
        base = re.escape(jira_base_url.rstrip("/"))
        self._jira_re = re.compile(rf"^{base}/browse/([A-Z][A-Z0-9_]*-[0-9]+)(?:[/?#].*)?$")

    # -- structure ------------------------------------------------------------------------

    def create_board(
        self, name: str, role: str, at_ms: int, member_id: str, desc: str = ""
    ) -> Board:
        """Create a board (createBoard action)."""
        world = self.world
        board = Board(
            id=world.ids.new(at_ms),
            name=name,
            short_link=world.ids.short_link(),
            desc=desc,
            closed=False,
            role=role,
            created_ms=at_ms,
            last_activity_ms=at_ms,
            creator_id=member_id,
        )
        world.boards[board.id] = board
        world.short_links[board.short_link] = board.id
        self.truth.boards[board.id] = BoardTruth(id=board.id, name=name, role=role)
        self._record(board, "createBoard", at_ms, member_id, {"board": board_ref(board)})
        return board

    def create_list(self, board: Board, name: str, role: str, at_ms: int, member_id: str) -> TList:
        """Add a list at the right end of a board (createList action)."""
        pos = (max((lst.pos for lst in board.lists), default=0.0)) + POS_STEP
        lst = TList(self.world.ids.new(at_ms), board.id, name, pos, False, role)
        board.lists.append(lst)
        self.world.lists[lst.id] = lst
        self.truth.boards[board.id].lists[lst.id] = ListTruth(lst.id, name, pos, False)
        data = {"list": list_ref(lst), "board": board_ref(board)}
        self._record(board, "createList", at_ms, member_id, data)
        return lst

    def create_label(self, board: Board, name: str, color: str | None, at_ms: int) -> Label:
        """Add a label to a board."""
        label = Label(self.world.ids.new(at_ms), board.id, name, color)
        board.labels.append(label)
        self.world.labels[label.id] = label
        self.truth.boards[board.id].labels[label.id] = name
        return label

    def create_custom_field(
        self,
        board: Board,
        name: str,
        type_: str,
        at_ms: int,
        options: Sequence[tuple[str, str]] = (),
    ) -> CustomFieldDef:
        """Add a custom field definition (list fields take (text, color) options)."""
        pos = POS_STEP * (len(board.custom_fields) + 1)
        definition = CustomFieldDef(self.world.ids.new(at_ms), board.id, name, type_, pos)
        for index, (text, color) in enumerate(options):
            option = FieldOption(self.world.ids.new(at_ms), text, color, POS_STEP * (index + 1))
            definition.options.append(option)
        board.custom_fields.append(definition)
        self.truth.boards[board.id].custom_fields[definition.id] = name
        return definition

    def add_board_member(self, board: Board, member_id: str) -> None:
        """Make a member a member of a board."""
        if member_id not in board.member_ids:
            board.member_ids.append(member_id)

    def archive_list(self, lst: TList, at_ms: int, member_id: str, closed: bool = True) -> str:
        """Archive (or reopen) a list (updateList action with old.closed); its cards stay open."""
        board = self.world.boards[lst.board_id]
        old = lst.closed
        lst.closed = closed
        data = {
            "list": {"id": lst.id, "name": lst.name, "closed": closed},
            "old": {"closed": old},
            "board": board_ref(board),
        }
        action = self._record(board, "updateList", at_ms, member_id, data, sub="closed")
        board_truth = self.truth.boards[board.id]
        board_truth.lists[lst.id].closed = closed
        for card_id in board.card_ids:
            if self.world.cards[card_id].list_id == lst.id:
                board_truth.cards[card_id].in_archived_list = closed
        return action.id

    def close_board(self, board: Board, at_ms: int, member_id: str) -> str:
        """Archive a board (updateBoard action with old.closed)."""
        board.closed = True
        data = {
            "board": {**board_ref(board), "closed": True},
            "old": {"closed": False},
        }
        self.truth.boards[board.id].closed = True
        return self._record(board, "updateBoard", at_ms, member_id, data, sub="closed").id

    # -- cards ----------------------------------------------------------------------------

    def create_card(
        self,
        lst: TList,
        name: str,
        at_ms: int,
        member_id: str,
        *,
        desc: str = "",
        due_ms: int | None = None,
        due_complete: bool = False,
        label_ids: Iterable[str] = (),
        member_ids: Iterable[str] = (),
        custom: dict[str, str] | None = None,
        checklists: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
        attachments: Sequence[tuple[str, str, bool, str, int | None]] = (),
        how: str = "createCard",
        source: Card | None = None,
        source_checklist: Checklist | None = None,
        pos: float | None = None,
    ) -> Card:
        """Create a card: createCard, copyCard (from `source`) or convertToCardFromCheckItem.

        `custom` maps custom field name to a raw value (number as text, ISO date, or option
        text); `checklists` are (name, [(item name, state)]); `attachments` are
        (name, url, is_upload, mime type, bytes).
        """
        world = self.world
        board = world.boards[lst.board_id]
        card = Card(
            id=world.ids.new(at_ms),
            board_id=board.id,
            list_id=lst.id,
            id_short=board.next_id_short,
            short_link=world.ids.short_link(),
            name=name,
            desc=desc,
            pos=pos if pos is not None else self._bottom(lst),
            created_ms=at_ms,
            last_activity_ms=at_ms,
            due_ms=due_ms,
            due_complete=due_complete,
            label_ids=list(label_ids),
            member_ids=list(member_ids),
        )
        board.next_id_short += 1
        world.cards[card.id] = card
        world.short_links[card.short_link] = card.id
        world.card_actions[card.id] = []
        world.card_action_ids[card.id] = []
        board.card_ids[card.id] = None
        self._set_custom(card, board, custom or {}, at_ms)
        for index, (cl_name, items) in enumerate(checklists):
            self._add_checklist(card, cl_name, items, at_ms, POS_STEP * (index + 1))
        for att in attachments:
            self._attach(card, at_ms, member_id, *att)
        data: dict[str, Any] = {"card": card_ref(card), "list": list_ref(lst)}
        if how == "copyCard" and source is not None:
            data["cardSource"] = card_ref(source)
        elif how == "convertToCardFromCheckItem" and source is not None:
            data["cardSource"] = card_ref(source)
            checklist = source_checklist or (source.checklists[0] if source.checklists else None)
            if checklist is not None:
                data["checklist"] = {"id": checklist.id, "name": checklist.name}
        data["board"] = board_ref(board)
        action = self._record(board, how, at_ms, member_id, data, card=card)
        truth = CardTruth(
            id=card.id,
            board_id=board.id,
            list_id=lst.id,
            list_name=lst.name,
            name=name,
            created_at=from_ms(at_ms),
            created_by=how,
            created_action_id=action.id,
            in_archived_list=lst.closed,
            due=from_ms(due_ms) if due_ms is not None else None,
            due_complete=due_complete,
            source_card_id=source.id if source is not None else None,
        )
        self.truth.place(truth)
        self._refresh_truth(card, truth)
        return card

    def move_card(self, card: Card, lst: TList, at_ms: int, member_id: str) -> str:
        """Move a card to another list of its board (updateCard:idList with listBefore/After)."""
        if lst.board_id != card.board_id:
            raise ValueError("use move_to_board to move a card to another board")
        world = self.world
        board = world.boards[card.board_id]
        before = world.lists[card.list_id]
        card.list_id = lst.id
        card.pos = self._bottom(lst)
        data = {
            "card": {**card_ref(card), "idList": lst.id},
            "old": {"idList": before.id},
            "listBefore": list_ref(before),
            "listAfter": list_ref(lst),
            "board": board_ref(board),
        }
        action = self._record(board, "updateCard", at_ms, member_id, data, sub="idList", card=card)
        truth = self.truth.card(card.id)
        truth.list_id = lst.id
        truth.list_name = lst.name
        truth.in_archived_list = lst.closed
        truth.history.append(ListMove(action.id, from_ms(at_ms), before.name, lst.name))
        return action.id

    def set_closed(self, card: Card, closed: bool, at_ms: int, member_id: str) -> str:
        """Archive or unarchive a card (updateCard:closed with old.closed)."""
        board = self.world.boards[card.board_id]
        lst = self.world.lists[card.list_id]
        old = card.closed
        card.closed = closed
        data = {
            "card": {**card_ref(card), "closed": closed},
            "old": {"closed": old},
            "list": list_ref(lst),
            "board": board_ref(board),
        }
        action = self._record(board, "updateCard", at_ms, member_id, data, sub="closed", card=card)
        truth = self.truth.card(card.id)
        truth.closed = closed
        truth.closed_history.append(ClosedChange(action.id, from_ms(at_ms), closed))
        return action.id

    def update_field(self, card: Card, field: str, value: Any, at_ms: int, member_id: str) -> str:
        """Change name, desc, due, dueComplete, start or pos (updateCard:<field> with old)."""
        board = self.world.boards[card.board_id]
        lst = self.world.lists[card.list_id]
        truth = self.truth.card(card.id)
        old: Any
        new: Any
        if field == "name":
            old, card.name, new = card.name, str(value), str(value)
            truth.name = card.name
        elif field == "desc":
            old, card.desc, new = card.desc, str(value), str(value)
        elif field == "due":
            old = iso_ms(card.due_ms) if card.due_ms is not None else None
            card.due_ms = value
            new = iso_ms(value) if value is not None else None
            truth.due = from_ms(value) if value is not None else None
        elif field == "start":
            old = iso_ms(card.start_ms) if card.start_ms is not None else None
            card.start_ms = value
            new = iso_ms(value) if value is not None else None
        elif field == "dueComplete":
            old, card.due_complete, new = card.due_complete, bool(value), bool(value)
            truth.due_complete = card.due_complete
        elif field == "pos":
            old, card.pos, new = card.pos, float(value), float(value)
        else:
            raise ValueError(f"unsupported card field {field!r}")
        data = {
            "card": {**card_ref(card), field: new},
            "old": {field: old},
            "list": list_ref(lst),
            "board": board_ref(board),
        }
        return self._record(board, "updateCard", at_ms, member_id, data, sub=field, card=card).id

    def comment(self, card: Card, text: str, at_ms: int, member_id: str) -> str:
        """Comment on a card (commentCard)."""
        board = self.world.boards[card.board_id]
        lst = self.world.lists[card.list_id]
        card.comments += 1
        data = {
            "text": text,
            "textData": {"emoji": {}},
            "card": card_ref(card),
            "list": list_ref(lst),
            "board": board_ref(board),
        }
        return self._record(board, "commentCard", at_ms, member_id, data, card=card).id

    def set_check_item(
        self, card: Card, item: CheckItem, state: str, at_ms: int, member_id: str
    ) -> str:
        """Tick or untick a check item (updateCheckItemStateOnCard)."""
        board = self.world.boards[card.board_id]
        checklist = self.world.checklists[item.checklist_id]
        item.state = state
        data = {
            "card": card_ref(card),
            "checklist": {"id": checklist.id, "name": checklist.name},
            "checkItem": {"id": item.id, "name": item.name, "state": state},
            "board": board_ref(board),
        }
        action = self._record(
            board, "updateCheckItemStateOnCard", at_ms, member_id, data, card=card
        )
        self._refresh_truth(card, self.truth.card(card.id), "c")
        return action.id

    def add_checklist(
        self, card: Card, name: str, items: Sequence[tuple[str, str]], at_ms: int, member_id: str
    ) -> Checklist:
        """Add a checklist with items (addChecklistToCard)."""
        board = self.world.boards[card.board_id]
        checklist = self._add_checklist(
            card, name, items, at_ms, POS_STEP * (len(card.checklists) + 1)
        )
        data = {
            "card": card_ref(card),
            "checklist": {"id": checklist.id, "name": checklist.name},
            "board": board_ref(board),
        }
        self._record(board, "addChecklistToCard", at_ms, member_id, data, card=card)
        self._refresh_truth(card, self.truth.card(card.id), "c")
        return checklist

    def add_check_item(self, card: Card, checklist: Checklist, name: str, at_ms: int) -> CheckItem:
        """Append a check item (no action: Trello lists none for it in nested resources)."""
        item = CheckItem(
            self.world.ids.new(at_ms), checklist.id, name, POS_STEP * (len(checklist.items) + 1)
        )
        checklist.items.append(item)
        truth = self.truth.card(card.id)
        truth.checklist_total += 1
        for short in CARD_URL_RE.findall(name):
            target = self.world.short_links.get(short)
            if target is not None and target not in truth.linked_card_ids:
                truth.linked_card_ids = (*truth.linked_card_ids, target)
        return item

    def add_attachment(
        self,
        card: Card,
        name: str,
        url: str,
        at_ms: int,
        member_id: str,
        is_upload: bool = False,
        mime_type: str = "",
        size: int | None = None,
    ) -> str:
        """Attach a link or file to a card (addAttachmentToCard)."""
        board = self.world.boards[card.board_id]
        lst = self.world.lists[card.list_id]
        att = self._attach(card, at_ms, member_id, name, url, is_upload, mime_type, size)
        data = {
            "card": card_ref(card),
            "attachment": {"id": att.id, "name": att.name, "url": att.url},
            "list": list_ref(lst),
            "board": board_ref(board),
        }
        action = self._record(board, "addAttachmentToCard", at_ms, member_id, data, card=card)
        self._refresh_truth(card, self.truth.card(card.id), "j")
        return action.id

    def add_label(self, card: Card, label: Label, at_ms: int, member_id: str) -> str:
        """Put a label on a card (addLabelToCard)."""
        board = self.world.boards[card.board_id]
        if label.id not in card.label_ids:
            card.label_ids.append(label.id)
        data = {
            "card": card_ref(card),
            "label": {"id": label.id, "name": label.name, "color": label.color},
            "text": label.name,
            "board": board_ref(board),
        }
        action = self._record(board, "addLabelToCard", at_ms, member_id, data, card=card)
        self._refresh_truth(card, self.truth.card(card.id), "l")
        return action.id

    def add_member(self, card: Card, who: str, at_ms: int, member_id: str) -> str:
        """Assign a member to a card (addMemberToCard)."""
        board = self.world.boards[card.board_id]
        lst = self.world.lists[card.list_id]
        if who not in card.member_ids:
            card.member_ids.append(who)
        member = self.world.members[who]
        data = {
            "card": card_ref(card),
            "idMember": who,
            "member": {"id": who, "name": member.full_name},
            "list": list_ref(lst),
            "board": board_ref(board),
        }
        return self._record(board, "addMemberToCard", at_ms, member_id, data, card=card).id

    def delete_card(self, card: Card, at_ms: int, member_id: str) -> str:
        """Delete a card for good (deleteCard); it vanishes from listings and 404s."""
        world = self.world
        board = world.boards[card.board_id]
        lst = world.lists[card.list_id]
        data = {
            "card": {"id": card.id, "idShort": card.id_short, "shortLink": card.short_link},
            "list": list_ref(lst),
            "board": board_ref(board),
        }
        action = self._record(board, "deleteCard", at_ms, member_id, data, card=card)
        del world.cards[card.id]
        del board.card_ids[card.id]
        world.deleted[card.id] = card
        truth = self.truth.unplace(card.id)
        self.truth.boards[board.id].deleted[card.id] = DeletedCard(
            card.id, from_ms(at_ms), action.id, truth.name
        )
        self.truth.deleted_card_ids[card.id] = board.id
        return action.id

    def move_to_board(
        self, card: Card, target: Board, lst: TList, at_ms: int, member_id: str
    ) -> tuple[str, str]:
        """Move a card to another board: moveCardFromBoard on the source board and
        moveCardToBoard on the target. Labels and custom field values follow by name."""
        world = self.world
        source = world.boards[card.board_id]
        old_list = world.lists[card.list_id]
        if lst.board_id != target.id or target.id == source.id:
            raise ValueError("target list must be on another board")
        out_data = {
            "card": card_ref(card),
            "board": board_ref(source),
            "boardTarget": {"id": target.id},
            "list": list_ref(old_list),
        }
        out = self._record(source, "moveCardFromBoard", at_ms, member_id, out_data, card=card)
        del source.card_ids[card.id]
        target.card_ids[card.id] = None
        names = {(lab.name, lab.color): lab.id for lab in target.labels}
        new_labels = []
        for label_id in card.label_ids:
            label = world.labels[label_id]
            if (label.name, label.color) in names:
                new_labels.append(names[(label.name, label.color)])
        card.label_ids = new_labels
        values = self._custom_values(card, source)
        card.custom = {}
        card.board_id = target.id
        card.list_id = lst.id
        card.id_short = target.next_id_short
        target.next_id_short += 1
        card.pos = self._bottom(lst)
        for checklist in card.checklists:
            checklist.board_id = target.id
        self._set_custom(card, target, values, at_ms)
        in_data = {
            "card": card_ref(card),
            "board": board_ref(target),
            "boardSource": {"id": source.id},
            "list": list_ref(lst),
        }
        into = self._record(target, "moveCardToBoard", at_ms, member_id, in_data, card=card)
        truth = self.truth.unplace(card.id)
        self.truth.boards[source.id].moved_out[card.id] = MovedOut(
            card.id, target.id, from_ms(at_ms), out.id
        )
        truth.board_id = target.id
        truth.list_id = lst.id
        truth.list_name = lst.name
        truth.in_archived_list = lst.closed
        truth.board_moves.append(
            BoardMove(out.id, into.id, from_ms(at_ms), source.id, target.id, lst.name)
        )
        self.truth.place(truth)
        self._refresh_truth(card, truth, "lf")
        return out.id, into.id

    # -- helpers --------------------------------------------------------------------------

    def _bottom(self, lst: TList) -> float:
        pos = lst.next_pos
        lst.next_pos += POS_STEP
        return pos

    def _add_checklist(
        self,
        card: Card,
        name: str,
        items: Sequence[tuple[str, str]],
        at_ms: int,
        pos: float,
    ) -> Checklist:
        ids = self.world.ids
        checklist = Checklist(ids.new(at_ms), card.board_id, card.id, name, pos)
        for index, (item_name, state) in enumerate(items):
            checklist.items.append(
                CheckItem(ids.new(at_ms), checklist.id, item_name, POS_STEP * (index + 1), state)
            )
        card.checklists.append(checklist)
        self.world.checklists[checklist.id] = checklist
        return checklist

    def _attach(
        self,
        card: Card,
        at_ms: int,
        member_id: str,
        name: str,
        url: str,
        is_upload: bool,
        mime_type: str,
        size: int | None,
    ) -> Attachment:
        att = Attachment(
            id=self.world.ids.new(at_ms),
            name=name,
            url=url,
            date_ms=at_ms,
            member_id=member_id,
            is_upload=is_upload,
            mime_type=mime_type,
            size=size,
            pos=POS_STEP * (len(card.attachments) + 1),
        )
        card.attachments.append(att)
        return att

    def custom_values(self, card: Card) -> dict[str, str]:
        """A card's custom field values keyed by field name (list options as their text)."""
        return self._custom_values(card, self.world.boards[card.board_id])

    def _custom_values(self, card: Card, board: Board) -> dict[str, str]:
        values: dict[str, str] = {}
        for definition in board.custom_fields:
            if definition.id not in card.custom:
                continue
            _item, _type, raw = card.custom[definition.id]
            if definition.type == "list":
                raw = next((o.text for o in definition.options if o.id == raw), "")
            values[definition.name] = raw
        return values

    def _set_custom(self, card: Card, board: Board, values: dict[str, str], at_ms: int) -> None:
        for definition in board.custom_fields:
            raw = values.get(definition.name)
            if raw is None:
                continue
            if definition.type == "list":
                option = next((o for o in definition.options if o.text == raw), None)
                if option is None:
                    continue
                raw = option.id
            card.custom[definition.id] = (self.world.ids.new(at_ms), definition.type, raw)

    def _refresh_truth(self, card: Card, truth: CardTruth, what: str = "lfcj") -> None:
        """Recompute derived parts of a card's truth: l(abels), f(ields), c(hecklists and
        linked cards), j(ira keys from attachments)."""
        world = self.world
        if "l" in what:
            truth.label_ids = tuple(card.label_ids)
            truth.labels = tuple(world.labels[label_id].name for label_id in card.label_ids)
        if "f" in what:
            truth.custom_fields = self._truth_fields(card)
        if "c" in what:
            self._truth_checklists(card, truth)
        if "j" in what:
            keys: list[str] = []
            for att in card.attachments:
                match = self._jira_re.match(att.url)
                if match and match.group(1) not in keys:
                    keys.append(match.group(1))
            truth.linked_jira_keys = tuple(keys)

    def _truth_fields(self, card: Card) -> dict[str, Any]:
        board = self.world.boards[card.board_id]
        fields: dict[str, Any] = {}
        for definition in board.custom_fields:
            if definition.id not in card.custom:
                continue
            raw = card.custom[definition.id][2]
            if definition.type == "number":
                fields[definition.name] = float(raw)
            elif definition.type == "date":
                fields[definition.name] = from_ms(_parse_iso_ms(raw))
            elif definition.type == "list":
                fields[definition.name] = next(
                    (o.text for o in definition.options if o.id == raw), None
                )
            else:
                fields[definition.name] = raw
        return fields

    def _truth_checklists(self, card: Card, truth: CardTruth) -> None:
        items = [item for cl in card.checklists for item in cl.items]
        truth.checklist_total = len(items)
        truth.checklist_checked = sum(1 for item in items if item.state == "complete")
        linked: list[str] = []
        for item in items:
            if "trello.com/c/" not in item.name:
                continue
            for short in CARD_URL_RE.findall(item.name):
                target = self.world.short_links.get(short)
                if target is not None and target not in linked:
                    linked.append(target)
        truth.linked_card_ids = tuple(linked)

    def refresh_card_truth(self, card: Card) -> None:
        """Public hook for the generator after it links roadmap check items."""
        self._refresh_truth(card, self.truth.card(card.id), "c")

    def _record(
        self,
        board: Board,
        type_: str,
        at_ms: int,
        member_id: str,
        data: dict[str, Any],
        *,
        sub: str | None = None,
        card: Card | None = None,
    ) -> Action:
        """Create an action, log it on the board (and card), bump activity, count it."""
        world = self.world
        keys = _KEYS.get((type_, sub))
        if keys is None:
            keys = frozenset((type_, f"{type_}:{sub}")) if sub else frozenset((type_,))
            _KEYS[(type_, sub)] = keys
        action = Action(
            world.ids.new(at_ms),
            type_,
            at_ms,
            member_id,
            data,
            keys,
            card.id if card is not None else None,
        )
        world.actions[action.id] = action
        ids = board.action_ids
        if not ids or ids[-1] < action.id:  # the usual case, inlined: ids grow with time
            ids.append(action.id)
            board.actions.append(action)
        else:
            insert_action(board.actions, ids, action)
        if at_ms > board.last_activity_ms:
            board.last_activity_ms = at_ms
        if card is not None:
            insert_action(world.card_actions[card.id], world.card_action_ids[card.id], action)
            if at_ms > card.last_activity_ms:
                card.last_activity_ms = at_ms
        board_truth = self.truth.boards[board.id]
        board_truth.action_count += 1
        counts = board_truth.action_types
        counts[type_] = counts.get(type_, 0) + 1
        by_filter = board_truth.action_filters
        for key in keys:
            by_filter[key] = by_filter.get(key, 0) + 1
        return action


_KEYS: dict[tuple[str, str | None], frozenset[str]] = {}


def _parse_iso_ms(text: str) -> int:
    value = parse_date_ms(text)
    return value if value is not None else 0
