"""JSON shapes of Trello objects, as the REST API returns them (and py-trello parses them).

Field names and value types follow Trello's responses; where Atlassian's OpenAPI spec is
wrong about a field (see `conformance.SPEC_EXCEPTIONS`) the real shape wins.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .ids import iso_ms
from .model import (
    Action,
    Attachment,
    Board,
    Card,
    Checklist,
    CustomFieldDef,
    Label,
    Member,
    TList,
    World,
)

COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black")


def dumps(value: Any) -> str:
    """Compact JSON with unicode kept as is (Trello does the same)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def slug(name: str) -> str:
    """Trello-style URL slug of a name."""
    out = "".join(ch.lower() if ch.isascii() and ch.isalnum() else "-" for ch in name)
    return "-".join(part for part in out.split("-") if part)[:60] or "card"


def select(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Keep `id` plus the requested fields (None means all)."""
    if fields is None:
        return obj
    return {key: value for key, value in obj.items() if key == "id" or key in fields}


def member_json(member: Member, full: bool = True, world: World | None = None) -> dict[str, Any]:
    """A member; `full=False` gives the default nested shape (id, fullName, username)."""
    if not full:
        return {"id": member.id, "fullName": member.full_name, "username": member.username}
    avatar = f"https://trello-members.s3.amazonaws.com/{member.id}/{member.avatar_hash}"
    obj: dict[str, Any] = {
        "id": member.id,
        "activityBlocked": False,
        "avatarHash": member.avatar_hash,
        "avatarUrl": avatar,
        "bio": "",
        "bioData": {"emoji": {}},
        "confirmed": True,
        "fullName": member.full_name,
        "idMemberReferrer": None,
        "idPremOrgsAdmin": [],
        "initials": member.initials,
        "memberType": "normal",
        "nonPublic": {},
        "nonPublicAvailable": True,
        "products": [],
        "url": f"https://trello.com/{member.username}",
        "username": member.username,
        "avatarSource": "upload",
        "idEnterprisesDeactivated": [],
        "loginTypes": ["password"],
        "oneTimeMessagesDismissed": [],
        "trophies": [],
        "premiumFeatures": [],
        "isAaMastered": False,
    }
    if world is not None:
        obj["idBoards"] = [b.id for b in world.boards.values() if member.id in b.member_ids]
        obj["idOrganizations"] = [world.org_id]
    return obj


def creator_json(member: Member) -> dict[str, Any]:
    """The `memberCreator` object embedded in actions."""
    return {
        "id": member.id,
        "activityBlocked": False,
        "avatarHash": member.avatar_hash,
        "avatarUrl": f"https://trello-members.s3.amazonaws.com/{member.id}/{member.avatar_hash}",
        "fullName": member.full_name,
        "idMemberReferrer": None,
        "initials": member.initials,
        "nonPublic": {},
        "nonPublicAvailable": True,
        "username": member.username,
    }


def label_json(label: Label, uses: int | None = None) -> dict[str, Any]:
    """A label; `uses` is how many cards carry it."""
    obj: dict[str, Any] = {
        "id": label.id,
        "idBoard": label.board_id,
        "name": label.name,
        "color": label.color,
    }
    if uses is not None:
        obj["uses"] = uses
    return obj


def board_json(board: Board, world: World) -> dict[str, Any]:
    """A board with its prefs and label names."""
    label_names = dict.fromkeys(COLORS, "")
    for label in board.labels:
        if label.color and not label_names[label.color]:
            label_names[label.color] = label.name
    return {
        "id": board.id,
        "name": board.name,
        "desc": board.desc,
        "closed": board.closed,
        "idOrganization": world.org_id,
        "idEnterprise": None,
        "idMemberCreator": board.creator_id,
        "pinned": False,
        "url": f"https://trello.com/b/{board.short_link}/{slug(board.name)}",
        "shortUrl": f"https://trello.com/b/{board.short_link}",
        "shortLink": board.short_link,
        "prefs": {
            "permissionLevel": "org",
            "hideVotes": False,
            "voting": "disabled",
            "comments": "members",
            "invitations": "members",
            "selfJoin": True,
            "cardCovers": True,
            "isTemplate": False,
            "cardAging": "regular",
            "calendarFeedEnabled": False,
            "backgroundTile": False,
            "backgroundBrightness": "dark",
            "backgroundTopColor": "#0079BF",
            "backgroundBottomColor": "#0079BF",
            "canBePublic": True,
            "canBeEnterprise": True,
            "canBeOrg": True,
            "canBePrivate": True,
            "canInvite": True,
        },
        "labelNames": label_names,
        "limits": {},
        "starred": False,
        "subscribed": False,
        "dateLastActivity": iso_ms(board.last_activity_ms),
        "creationMethod": None,
        "ixUpdate": len(board.actions),
        "templateGallery": None,
        "enterpriseOwned": False,
    }


def list_json(lst: TList) -> dict[str, Any]:
    """A list (column)."""
    return {
        "id": lst.id,
        "name": lst.name,
        "closed": lst.closed,
        "color": None,
        "idBoard": lst.board_id,
        "pos": lst.pos,
        "subscribed": False,
        "limits": {},
    }


def custom_field_json(definition: CustomFieldDef) -> dict[str, Any]:
    """A custom field definition; list options are at top level, as Trello returns them."""
    obj: dict[str, Any] = {
        "id": definition.id,
        "idModel": definition.board_id,
        "modelType": "board",
        "fieldGroup": hashlib.sha256(definition.id.encode()).hexdigest(),
        "display": {"cardFront": True},
        "name": definition.name,
        "pos": definition.pos,
        "type": definition.type,
        "isSuggestedField": False,
    }
    if definition.type == "list":
        obj["options"] = [
            {
                "id": option.id,
                "idCustomField": definition.id,
                "value": {"text": option.text},
                "color": option.color,
                "pos": option.pos,
            }
            for option in definition.options
        ]
    return obj


def custom_items_json(card: Card) -> list[dict[str, Any]]:
    """A card's custom field items (`customFieldItems`)."""
    items = []
    for field_id, (item_id, type_, raw) in card.custom.items():
        item: dict[str, Any] = {"id": item_id}
        if type_ == "list":
            item["idValue"] = raw
        elif type_ == "checkbox":
            item["value"] = {"checked": raw}
        else:
            item["value"] = {type_: raw}
        item.update({"idCustomField": field_id, "idModel": card.id, "modelType": "card"})
        items.append(item)
    return items


def checklist_json(checklist: Checklist) -> dict[str, Any]:
    """A checklist with its check items."""
    return {
        "id": checklist.id,
        "name": checklist.name,
        "idBoard": checklist.board_id,
        "idCard": checklist.card_id,
        "pos": checklist.pos,
        "checkItems": [
            {
                "id": item.id,
                "name": item.name,
                "nameData": None,
                "pos": item.pos,
                "state": item.state,
                "due": None,
                "dueReminder": None,
                "idMember": None,
                "idChecklist": item.checklist_id,
            }
            for item in checklist.items
        ],
    }


def attachment_json(att: Attachment) -> dict[str, Any]:
    """An attachment (link or upload)."""
    obj: dict[str, Any] = {
        "id": att.id,
        "bytes": att.size,
        "date": iso_ms(att.date_ms),
        "edgeColor": None,
        "idMember": att.member_id,
        "isUpload": att.is_upload,
        "mimeType": att.mime_type,
        "name": att.name,
        "previews": [],
        "url": att.url,
        "pos": att.pos,
    }
    if att.is_upload:
        obj["fileName"] = att.name
    return obj


def card_json(
    card: Card,
    world: World,
    fields: list[str] | None = None,
    custom_items: bool = False,
    attachments: bool = False,
    checklists: bool = False,
    members: bool = False,
) -> dict[str, Any]:
    """A card with badges and labels (py-trello's Card.from_json needs all default fields)."""
    items = [item for checklist in card.checklists for item in checklist.items]
    checked = sum(1 for item in items if item.state == "complete")
    due = iso_ms(card.due_ms) if card.due_ms is not None else None
    start = iso_ms(card.start_ms) if card.start_ms is not None else None
    url = f"https://trello.com/c/{card.short_link}/{card.id_short}-{slug(card.name)}"
    obj: dict[str, Any] = {
        "id": card.id,
        "badges": {
            "attachmentsByType": {"trello": {"board": 0, "card": 0}},
            "location": False,
            "votes": 0,
            "viewingMemberVoted": False,
            "subscribed": False,
            "fogbugz": "",
            "checkItems": len(items),
            "checkItemsChecked": checked,
            "checkItemsEarliestDue": None,
            "comments": card.comments,
            "attachments": len(card.attachments),
            "description": bool(card.desc),
            "due": due,
            "dueComplete": card.due_complete,
            "start": start,
        },
        "checkItemStates": [],
        "closed": card.closed,
        "dueComplete": card.due_complete,
        "dateLastActivity": iso_ms(card.last_activity_ms),
        "desc": card.desc,
        "descData": {"emoji": {}},
        "due": due,
        "dueReminder": None,
        "email": None,
        "idBoard": card.board_id,
        "idChecklists": [checklist.id for checklist in card.checklists],
        "idList": card.list_id,
        "idMembers": list(card.member_ids),
        "idMembersVoted": [],
        "idShort": card.id_short,
        "idAttachmentCover": None,
        "labels": [label_json(world.labels[label_id]) for label_id in card.label_ids],
        "idLabels": list(card.label_ids),
        "manualCoverAttachment": False,
        "name": card.name,
        "pos": card.pos,
        "shortLink": card.short_link,
        "shortUrl": f"https://trello.com/c/{card.short_link}",
        "start": start,
        "subscribed": False,
        "url": url,
        "cover": {
            "idAttachment": None,
            "color": None,
            "idUploadedBackground": None,
            "size": "normal",
            "brightness": "dark",
            "isTemplate": False,
        },
        "isTemplate": False,
        "cardRole": None,
        "mirrorSourceId": None,
    }
    obj = select(obj, fields)
    if custom_items:
        obj["customFieldItems"] = custom_items_json(card)
    if attachments:
        obj["attachments"] = [attachment_json(att) for att in card.attachments]
    if checklists:
        obj["checklists"] = [checklist_json(cl) for cl in card.checklists]
    if members:
        obj["members"] = [member_json(world.members[m], full=False) for m in card.member_ids]
    return obj


def action_json(action: Action, world: World, creator: bool = True) -> dict[str, Any]:
    """An action with its `data` snapshot and (by default) the `memberCreator` object."""
    obj: dict[str, Any] = {
        "id": action.id,
        "idMemberCreator": action.member_id,
        "data": action.data,
        "appCreator": None,
        "type": action.type,
        "date": iso_ms(action.date_ms),
        "limits": {},
    }
    if creator:
        obj["memberCreator"] = creator_json(world.members[action.member_id])
    return obj


def action_text(action: Action, world: World) -> str:
    """The default JSON of an action, cached (actions never change once recorded)."""
    text = action.json
    if text is None:
        text = dumps(action_json(action, world))
        action.json = text
    return text
