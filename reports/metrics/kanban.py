"""Weekly throughput in items and points for boards without sprints (Kanban, Trello)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .column_dates import ColumnDates
from .frames import validate_boards, validate_sprints
from .history import scoped
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
    with_sprints = set(scoped(sprints["source"], sprints["board_id"]))
    sprintless = [key not in with_sprints for key in scoped(boards["source"], boards["board_id"])]
    sel = boards[sprintless]
    columns = ["source", "board_id", "board", "team", "week", "items", "points"]
    if sel.empty:
        return pd.DataFrame(columns=columns)
    common = {"period": "week", "start": start, "points": points, "exclude_types": ROADMAP_TYPES}
    by_team = throughput(cd, by="team", **common)
    # A Trello board holds its own cards (their project is the board): count those, so a
    # roadmap board (only roadmap cards) is left out instead of showing its team's throughput.
    by_board = throughput(cd, by="project", **common)
    items = cd.items
    delivery = set(items.loc[~items["type"].isin(ROADMAP_TYPES), "project"].astype(str))
    parts = []
    for rec in _records(sel):
        if str(rec.type).casefold() == "trello":
            if rec.board_id not in delivery:
                continue
            part = by_board[by_board["project"] == rec.board_id].drop(columns="project")
            part.insert(0, "team", rec.team)
        else:
            part = by_team[by_team["team"] == rec.team].copy()
        part.insert(0, "board", rec.name)
        part.insert(0, "board_id", rec.board_id)
        part.insert(0, "source", rec.source)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out[columns]
