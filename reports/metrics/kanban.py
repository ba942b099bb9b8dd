"""Weekly throughput in items and points for boards without sprints (Kanban, Trello)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .column_dates import ColumnDates
from .frames import validate_boards, validate_sprints
from .roadmap import ROADMAP_TYPES
from .throughput import throughput


def _records(frame: pd.DataFrame) -> list[Any]:
    """Rows as named tuples (typed loosely for mypy)."""
    return list(frame.itertuples(index=False))


def board_throughput(
    cd: ColumnDates,
    boards: pd.DataFrame,
    sprints: pd.DataFrame,
    points: pd.Series | None = None,
    start: Any = None,
) -> pd.DataFrame:
    """Per sprint-less board (its team's items): items and points completed per ISO week."""
    validate_boards(boards)
    validate_sprints(sprints)
    with_sprints = set(sprints["board_id"].astype(str))
    sel = boards[
        ~boards["board_id"].astype(str).isin(with_sprints)
        | boards["type"].astype(str).str.casefold().isin(["kanban", "trello"])
    ]
    sel = sel[~sel["board_id"].astype(str).isin(with_sprints)]
    if sel.empty:
        return pd.DataFrame(columns=["board_id", "board", "team", "week", "items", "points"])
    weekly = throughput(
        cd, period="week", by="team", start=start, points=points, exclude_types=ROADMAP_TYPES
    )
    parts = []
    for rec in _records(sel):
        part = weekly[weekly["team"] == rec.team].copy()
        part.insert(0, "board", rec.name)
        part.insert(0, "board_id", rec.board_id)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out[["board_id", "board", "team", "week", "items", "points"]]
