"""A skeleton connector: the smallest whole connector, shown verbatim in docs/connectors.md.

A real connector is a package `connectors/<kind>/` split the same way: `config.py` (the settings
model), `sync.py` (the connector), `__init__.py` (the registration); `fetch` is its API client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pulse.connectors.base import Connector, SourceError, SyncContext
from pulse.connectors.config import SourceSettings
from pulse.connectors.http_policy import SyncInterrupted
from pulse.connectors.registry import Registration
from pulse.store.cursors import load_cursor, save_cursor
from pulse.store.items import stored_items, write_items


class ExampleSource(SourceSettings):
    """The keys of an example source, beside those every source has (name, url, durations)."""

    kind: Literal["example"]
    project: str


Record = dict[str, Any]  # one item as the source's API returns it
# The API client: (source, position to read after) -> (one page of records, next position).
Fetch = Callable[[ExampleSource, str | None], tuple[list[Record], str | None]]


@dataclass(frozen=True)
class ExampleCursor:
    """Where the listing stopped: the position after the last stored page."""

    after: str | None = None

    @classmethod
    def from_json(cls, state: Mapping[str, Any]) -> ExampleCursor:
        return cls(after=state.get("after"))

    def to_json(self) -> dict[str, Any]:
        return {"after": self.after}


@dataclass
class ExampleConnector:
    """Lists every item of the configured project, page by page, each page stored with its
    cursor in one transaction."""

    fetch: Fetch
    kind = "example"

    def sync(self, context: SyncContext[ExampleSource]) -> None:
        source, source_id = context.source, context.source_id
        stream = f"items:{source.project}"
        with context.store.reading() as conn:
            saved = ExampleCursor.from_json(load_cursor(conn, source_id, stream))
        cursor = ExampleCursor() if context.full else saved
        context.progress.begin(stream, None)
        while True:
            records, after = self.fetch(source, cursor.after)
            rows = [_item_row(record, source, source_id, context.now()) for record in records]
            cursor = ExampleCursor(after)
            with context.store.transaction() as conn:  # the page and its cursor, or neither
                ids = [row["item_id"] for row in rows]
                known = stored_items(conn, source_id, ids, ("item_id", "updated"))
                write_items(conn, rows)
                save_cursor(conn, source_id, stream, cursor.to_json())
            for row in rows:
                before = known.get(row["item_id"])
                if before is None:
                    context.counts.new += 1
                elif before.updated != row["updated"]:
                    context.counts.updated += 1
            context.counts.pages += 1
            context.progress.advance(stream, len(rows))
            if after is None:
                break
            if context.stop.is_set():
                raise SyncInterrupted(f"{source.name}: stopped after a committed page")
        context.progress.end(stream)


def _item_row(record: Record, source: ExampleSource, source_id: int, now: datetime) -> Record:
    """One record as a row of the store's `items` (ids are the source's, never its keys)."""
    return {
        "source_id": source_id,
        "item_id": str(record["id"]),
        "key": str(record["key"]),
        "project_key": source.project,
        "title": str(record["title"]),
        "created": datetime.fromisoformat(record["created"]),
        "updated": datetime.fromisoformat(record["updated"]),
        "url": f"{source.url.rstrip('/')}/items/{record['key']}",
        "synced_at": now,
    }


def _no_client(source: ExampleSource, after: str | None) -> tuple[list[Record], str | None]:
    raise SourceError(f"{source.name}: the example connector has no API client")


def _load() -> Connector[ExampleSource]:
    return ExampleConnector(fetch=_no_client)


REGISTRATION = Registration(kind="example", settings=ExampleSource, load=_load)
