"""Trello "epics": how cards roll up into roadmap items.

Trello has no epics, so Pulse reads a convention many teams already follow:

1. A **roadmap item** is a card on a board listed in `roadmap_boards`, or a card in a list named
   (or with an id) in `roadmap_lists` on any synced board. It is stored with type "Roadmap";
   its due date is its target (`items.due` and `items.target_date`).
2. A card **belongs** to a roadmap item when
   a. one of the roadmap card's check items holds the card's URL (`https://trello.com/c/<shortLink>…`,
      which is what Trello's "attach card" and pasted card links produce), or
   b. the card carries a label whose name is the roadmap card's name (compared trimmed and
      case-insensitively).
   A check-item link wins over a label. When several roadmap items claim a card, the oldest
   roadmap card (smallest id) wins, so the result never depends on read order.
3. The child gets `parent_id` / `parent_key` = the roadmap card's id / shortLink. Roadmap items
   themselves have no parent; deleted roadmap cards, and those no longer on a synced board,
   adopt nothing.

The roll-up runs at the end of every sync, over the whole store of the source, in one
transaction; it only writes rows whose parent changed.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, bindparam, select, update

from pulse.connectors.trello.normalize import ROADMAP_LINK
from pulse.store import schema


def roll_up(conn: Connection, source_id: int) -> int:
    """Set every card's roadmap parent from check-item links and labels; return rows changed."""
    items, labels, links = schema.items, schema.item_labels, schema.links
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
    roadmap = sorted(
        (
            r
            for r in rows
            if r.type == "Roadmap" and r.deleted_at is None and r.out_of_scope_at is None
        ),
        key=lambda r: r.item_id,
    )
    keys = {r.item_id: r.key for r in roadmap}
    id_by_key = {r.key: r.item_id for r in rows}
    by_name: dict[str, str] = {}
    for r in roadmap:
        by_name.setdefault(r.title.strip().casefold(), r.item_id)
    by_link: dict[str, str] = {}
    link_fixes = []
    for link in conn.execute(
        select(
            links.c.item_id,
            links.c.link_id,
            links.c.direction,
            links.c.other_key,
            links.c.other_item_id,
        )
        .where(links.c.source_id == source_id)
        .where(links.c.link_type == ROADMAP_LINK)
        .order_by(links.c.item_id)
    ):
        resolved = id_by_key.get(link.other_key)
        if resolved != link.other_item_id:
            link_fixes.append(
                {"i": link.item_id, "l": link.link_id, "d": link.direction, "o": resolved}
            )
        if link.item_id in keys and resolved is not None:
            by_link.setdefault(resolved, link.item_id)
    labelled: defaultdict[str, list[str]] = defaultdict(list)
    for item_id, label in conn.execute(
        select(labels.c.item_id, labels.c.label).where(labels.c.source_id == source_id)
    ):
        parent = by_name.get(label.strip().casefold())
        if parent is not None:
            labelled[item_id].append(parent)
    fixes = []
    for r in rows:
        parent = None
        if r.type != "Roadmap":
            parent = by_link.get(r.item_id) or min(labelled.get(r.item_id, []), default=None)
        parent_key = keys.get(parent) if parent is not None else None
        if (r.parent_id, r.parent_key) != (parent, parent_key):
            fixes.append({"i": r.item_id, "p": parent, "k": parent_key})
    if fixes:
        conn.execute(
            update(items)
            .where(items.c.source_id == source_id)
            .where(items.c.item_id == bindparam("i"))
            .values(parent_id=bindparam("p"), parent_key=bindparam("k")),
            fixes,
        )
    if link_fixes:
        conn.execute(
            update(links)
            .where(links.c.source_id == source_id)
            .where(links.c.item_id == bindparam("i"))
            .where(links.c.link_id == bindparam("l"))
            .where(links.c.direction == bindparam("d"))
            .values(other_item_id=bindparam("o")),
            link_fixes,
        )
    return len(fixes)
