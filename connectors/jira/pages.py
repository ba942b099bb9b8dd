"""Store one page of issues in one transaction, together with the cursor that covers it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pulse.connectors.base import SyncCounts
from pulse.connectors.jira.client import JiraSite
from pulse.connectors.jira.fields import FieldMap
from pulse.connectors.jira.normalize import PageRows, normalize_issue
from pulse.connectors.jira.search import complete_changelogs
from pulse.store import Store, schema
from pulse.store.writes import replace_item_children, save_cursor, upsert


@dataclass
class PageWriter:
    """Normalizes pages of issues and writes each atomically with its checkpoint."""

    site: JiraSite
    store: Store
    source_id: int
    fields: FieldMap
    counts: SyncCounts
    now: Callable[[], datetime]
    stop: threading.Event

    def write(
        self,
        issues: list[dict[str, Any]],
        histories: list[list[dict[str, Any]]] | None = None,
        cursor: tuple[str, Mapping[str, Any]] | None = None,
        out_of_scope: frozenset[str] = frozenset(),
    ) -> None:
        """Write the issues with their whole histories (fetched here unless given) and, in the
        same transaction, the stream cursor that says they are stored."""
        page = PageRows()
        synced_at = self.now()
        if histories is None:
            histories = complete_changelogs(self.site, issues)
        for issue, history in zip(issues, histories, strict=True):
            normalize_issue(
                issue, history, page, self.source_id, self.site.source.url, self.fields, synced_at
            )
        with self.store.transaction() as conn:
            known = {
                row.item_id: row
                for row in conn.execute(
                    select(
                        schema.items.c.item_id,
                        schema.items.c.key,
                        schema.items.c.previous_key,
                        schema.items.c.updated,
                        schema.items.c.deleted_at,
                    )
                    .where(schema.items.c.source_id == self.source_id)
                    .where(schema.items.c.item_id.in_(page.item_ids))
                )
            }
            changed: set[str] = set()
            for row in page.items:
                before = known.get(row["item_id"])
                if row["previous_key"] is None and before is not None:
                    row["previous_key"] = before.previous_key
                if before is None:
                    self.counts.new += 1
                elif before.key != row["key"]:
                    self.counts.moved += 1
                    row["previous_key"] = row["previous_key"] or before.key
                elif before.updated != row["updated"] or before.deleted_at is not None:
                    self.counts.updated += 1
                else:
                    continue  # re-read in the overlap window: nothing new
                changed.add(row["item_id"])
                if row["project_key"] in out_of_scope:
                    row["out_of_scope_at"] = synced_at
            upsert(conn, schema.statuses, list(page.statuses.values()))
            upsert(conn, schema.people, list(page.people.values()))
            upsert(conn, schema.items, page.items)
            replace_item_children(conn, self.source_id, page.item_ids, page.children, known=known)
            if cursor is not None:
                save_cursor(conn, self.source_id, cursor[0], cursor[1])
        self.counts.transitions += sum(
            1 for row in page.children.get(schema.transitions, []) if row["item_id"] in changed
        )
        self.counts.pages += 1
