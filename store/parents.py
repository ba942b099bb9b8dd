"""Items' parents where the store derives them (Trello's roadmap roll-up): what the roll-up
reads, and the parents and link targets it corrects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from pulse.store.schema import item_labels, items, links


@dataclass(frozen=True)
class RollUpInputs:
    """A source's items (id, key, title, type, marks, parent), its links of one type, and its
    labels: everything a roll-up decides parents from."""

    items: list[Any]
    links: list[Any]
    labels: list[tuple[str, str]]


def roll_up_inputs(conn: Connection, source_id: int, link_type: str) -> RollUpInputs:
    """Read what the roll-up needs; links (of `link_type`) come in item id order."""
    rows = conn.execute(
        select(
            items.c.item_id,
            items.c.key,
            items.c.title,
            items.c.type,
            items.c.deleted_at,
            items.c.out_of_scope_at,
            items.c.parent_id,
            items.c.parent_key,
        ).where(items.c.source_id == source_id)
    ).all()
    found = conn.execute(
        select(
            links.c.item_id,
            links.c.link_id,
            links.c.direction,
            links.c.other_key,
            links.c.other_item_id,
        )
        .where(links.c.source_id == source_id)
        .where(links.c.link_type == link_type)
        .order_by(links.c.item_id)
    ).all()
    labels = [
        (item_id, label)
        for item_id, label in conn.execute(
            select(item_labels.c.item_id, item_labels.c.label).where(
                item_labels.c.source_id == source_id
            )
        )
    ]
    return RollUpInputs(list(rows), list(found), labels)


def set_parents(conn: Connection, source_id: int, fixes: Sequence[dict[str, Any]]) -> None:
    """Set items' parents: each fix is {"i": item id, "p": parent id, "k": parent key}."""
    if fixes:
        conn.execute(
            update(items)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id == bindparam("i"))
            .values(parent_id=bindparam("p"), parent_key=bindparam("k")),
            fixes,
        )


def set_link_targets(conn: Connection, source_id: int, fixes: Sequence[dict[str, Any]]) -> None:
    """Point links at the items their keys now resolve to: each fix is {"i": item id,
    "l": link id, "d": direction, "o": other item id}."""
    if fixes:
        conn.execute(
            update(links)
            .where(links.c.source_id == source_id)
            .where(links.c.item_id == bindparam("i"))
            .where(links.c.link_id == bindparam("l"))
            .where(links.c.direction == bindparam("d"))
            .values(other_item_id=bindparam("o")),
            fixes,
        )
