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

from pulse.connectors.trello.normalize import ROADMAP_LINK
from pulse.store import Transaction
from pulse.store.parents import roll_up_inputs, set_link_targets, set_parents


def roll_up(conn: Transaction, source_id: int) -> int:
    """Set every card's roadmap parent from check-item links and labels; return rows changed."""
    inputs = roll_up_inputs(conn, source_id, ROADMAP_LINK)
    rows = inputs.items
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
    for link in inputs.links:
        resolved = id_by_key.get(link.other_key)
        if resolved != link.other_item_id:
            link_fixes.append(
                {"i": link.item_id, "l": link.link_id, "d": link.direction, "o": resolved}
            )
        if link.item_id in keys and resolved is not None:
            by_link.setdefault(resolved, link.item_id)
    labelled: defaultdict[str, list[str]] = defaultdict(list)
    for item_id, label in inputs.labels:
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
    set_parents(conn, source_id, fixes)
    set_link_targets(conn, source_id, link_fixes)
    return len(fixes)
