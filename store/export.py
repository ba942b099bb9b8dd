"""The normalized tables as flat rows for `pulse export`, streamed so memory stays flat."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from pulse.safetext import csv_cell, json_text
from pulse.store.engine import Store

if TYPE_CHECKING:
    from sqlalchemy import Select


def _items() -> Select[Any]:
    """Every item, with its source's name (SQLAlchemy loads only when an export runs: `pulse
    --help` lists the tables without it)."""
    from sqlalchemy import select

    from pulse.store.schema import items as i
    from pulse.store.schema import sources as s

    return (
        select(
            s.c.name.label("source"),
            i.c.item_id,
            i.c.key,
            i.c.project_key.label("project"),
            i.c.type,
            i.c.is_subtask,
            i.c.title,
            i.c.status,
            i.c.status_category,
            i.c.created,
            i.c.updated,
            i.c.resolved,
            i.c.estimate,
            i.c.parent_key,
            i.c.due,
            i.c.target_date,
            i.c.url,
            i.c.archived,
            i.c.deleted_at,
            i.c.access_lost_at,
            i.c.out_of_scope_at,
            i.c.previous_key,
        )
        .join(s, s.c.id == i.c.source_id)
        .order_by(s.c.name, i.c.created, i.c.item_id)
    )


def _transitions() -> Select[Any]:
    """Every status change, with its item's key."""
    from sqlalchemy import select

    from pulse.store.schema import items as i
    from pulse.store.schema import sources as s
    from pulse.store.schema import transitions as t

    return (
        select(
            s.c.name.label("source"),
            t.c.item_id,
            i.c.key,
            t.c.change_id,
            t.c.seq,
            t.c.at,
            t.c.from_status,
            t.c.to_status,
            t.c.author_id,
        )
        .join(s, s.c.id == t.c.source_id)
        .join(i, (i.c.source_id == t.c.source_id) & (i.c.item_id == t.c.item_id))
        .order_by(s.c.name, t.c.item_id, t.c.at, t.c.change_id, t.c.seq)
    )


def _sprints() -> Select[Any]:
    """Every sprint."""
    from sqlalchemy import select

    from pulse.store.schema import sources as s
    from pulse.store.schema import sprints as sp

    return (
        select(
            s.c.name.label("source"),
            sp.c.sprint_id,
            sp.c.board_id,
            sp.c.name,
            sp.c.state,
            sp.c.start_at,
            sp.c.end_at,
            sp.c.complete_at,
            sp.c.goal,
        )
        .join(s, s.c.id == sp.c.source_id)
        .order_by(s.c.name, sp.c.start_at, sp.c.sprint_id)
    )


# what `pulse export TABLE` writes, by table name
EXPORTS: dict[str, Callable[[], Select[Any]]] = {
    "items": _items,
    "transitions": _transitions,
    "sprints": _sprints,
}


def export_rows(store: Store, table: str) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """Column names and a lazy iterator over the rows of one export."""
    query = EXPORTS[table]()
    columns = [c.name for c in query.selected_columns]

    def rows() -> Iterator[Sequence[Any]]:
        with store.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
            yield from result

    return columns, rows()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def write_csv(
    columns: list[str], rows: Iterable[Sequence[Any]], out: TextIO, raw: bool = False
) -> int:
    """Write rows as CSV with a header; returns the row count. Text is cleaned and formula-like
    text quoted (:func:`pulse.safetext.csv_cell`) unless ``raw``."""
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else csv_cell(_plain(v), raw) for v in row])
        count += 1
    return count


def write_json(
    columns: list[str], rows: Iterable[Sequence[Any]], out: TextIO, raw: bool = False
) -> int:
    """Write rows as a JSON array of objects, one per line; returns the row count. Values are
    exact; terminal controls JSON may carry raw are escaped (:func:`pulse.safetext.json_text`)."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(
            json_text(
                json.dumps(
                    {c: _plain(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False
                )
            )
        )
        count += 1
    out.write("\n]\n")
    return count
