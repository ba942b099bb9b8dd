"""Sprint report and velocity as Jira's velocity chart and sprint report define them.

Membership over time comes from the ``sprint`` field history (plus current ``item_sprints``),
estimates over time from the ``estimate`` history; "done" at an instant means the item's status
then maps to the done column or a later one. Sub-tasks are excluded. Per sprint the report gives
committed / added / removed / completed / not completed / completed outside, both as values and as
the item ids behind each category, so every number can be traced back to issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .frames import validate_boards, validate_changes, validate_item_sprints, validate_sprints
from .history import FieldHistory, scoped, sprint_membership, to_float
from .timeutil import to_ms

Statistic = Literal["estimate", "count"]
CATEGORIES = ("committed", "added", "removed", "completed", "not_completed", "completed_outside")
_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class SprintReport:
    """Per-sprint rows plus the items behind every category (for tracing and tests)."""

    rows: pd.DataFrame
    items: pd.DataFrame

    def ids(self, sprint_id: str, category: str, source: str | None = None) -> set[str]:
        """Item ids in one category of one sprint (of `source`, needed when several have it)."""
        sel = self.items[
            (self.items["sprint_id"] == sprint_id)
            & (self.items["category"] == category)
            & ((self.items["source"] == source) if source is not None else True)
        ]
        return set(sel["item_id"].astype(str))

    def row(self, sprint_id: str, source: str | None = None) -> pd.Series:
        """The report row of one sprint (of `source`, needed when several have that id)."""
        rows = self.rows[self.rows["sprint_id"] == sprint_id]
        if source is not None:
            rows = rows[rows["source"] == source]
        if len(rows) != 1:
            raise KeyError(f"sprint {sprint_id}: {len(rows)} sprints match; name the source")
        return rows.iloc[0]


def sprints_at(sprints: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Sprints started by as_of, with ``state_at`` (closed/active) and ``until`` (report end)."""
    started = sprints[sprints["start"].notna() & (sprints["start"] <= as_of)].copy()
    closed_now = started["state"].astype(object).eq("closed").to_numpy(dtype=bool)
    finish = started["complete"].copy()
    fallback = closed_now & finish.isna().to_numpy() & started["end"].notna().to_numpy()
    finish[fallback] = started["end"][fallback]
    closed = (finish.notna() & (finish <= as_of)).to_numpy(dtype=bool)
    started["state_at"] = np.where(closed, "closed", "active")
    started["until"] = finish.where(closed, as_of)
    return started.reset_index(drop=True)


def sprint_report(
    cd: ColumnDates,
    changes: pd.DataFrame,
    sprints: pd.DataFrame,
    item_sprints: pd.DataFrame,
    boards: pd.DataFrame,
    statistic: Mapping[tuple[str, str], Statistic] | None = None,
) -> SprintReport:
    """Committed/added/removed/completed/not completed/outside per sprint started by cd.as_of.

    ``statistic`` maps (source, board_id) -> 'estimate' | 'count' and overrides the board's
    estimation field (``boards.estimation``).
    """
    validate_changes(changes)
    validate_sprints(sprints)
    validate_item_sprints(item_sprints)
    validate_boards(boards)
    items = cd.items
    sp = sprints_at(sprints, cd.as_of)
    sp["sprint_id"] = sp["sprint_id"].astype(str)
    sp_key = scoped(sp["source"], sp["sprint_id"])
    eligible = ~items["is_subtask"].to_numpy(dtype=bool)

    mem = sprint_membership(items, changes, item_sprints, eligible, cd.as_of_ms, set(sp_key))
    pairs = mem.pairs

    pi = pd.Index(sp_key).get_indexer(pd.Index(pairs["member"]))
    start_ms = to_ms(sp["start"])[pi]
    end_ms = to_ms(sp["until"])[pi]
    pair_ids = pairs["pair"].to_numpy(dtype=np.int64)
    rows = pairs["row"].to_numpy(dtype=np.int64)

    in_start = mem.member_at(pair_ids, start_ms)
    in_end = mem.member_at(pair_ids, end_ms)
    added_ms = mem.first_enter(start_ms, end_ms)
    added = added_ms != _NAT
    removed_ms = mem.last_leave(start_ms, end_ms)
    removed = (in_start | added) & ~in_end & (removed_ms != _NAT)

    done_start = cd.done_at_times(rows, start_ms)
    done_end = cd.done_at_times(rows, end_ms)
    last_entry = cd.last_done_entry(rows, end_ms)
    outside = in_end & done_end & (last_entry != _NAT) & (last_entry <= start_ms)
    completed = in_end & done_end & ~outside
    not_completed = in_end & ~done_end
    committed = in_start & ~done_start

    est_hist = FieldHistory.build(
        items,
        changes,
        "estimate",
        current=items["estimate"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    est_start = to_float(est_hist.value_at(rows, start_ms))
    est_end = to_float(est_hist.value_at(rows, end_ms))
    est_added = to_float(est_hist.value_at(rows, np.where(added, added_ms, start_ms)))
    est_removed = to_float(est_hist.value_at(rows, np.where(removed, removed_ms, end_ms)))

    board_of = sp["board_id"].astype(str).to_numpy()[pi]
    stat = _statistics(sp, boards, pi, est_start, est_end, est_hist, rows, statistic)
    use_count = stat[pi] == "count"

    def val(x: np.ndarray) -> np.ndarray:
        return np.where(use_count, 1.0, np.nan_to_num(x, nan=0.0))

    cats = {
        "committed": (committed, val(est_start), est_start),
        "added": (added, val(est_added), est_added),
        "removed": (removed, val(est_removed), est_removed),
        "completed": (completed, val(est_end), est_end),
        "not_completed": (not_completed, val(est_end), est_end),
        "completed_outside": (outside, val(est_end), est_end),
    }
    keys = items["key"].astype(object).to_numpy()
    ids = items["item_id"].astype(object).to_numpy()
    parts = []
    for name, (mask, value, raw) in cats.items():
        parts.append(
            pd.DataFrame(
                {
                    "source": items["source"].astype(object).to_numpy()[rows[mask]],
                    "board_id": board_of[mask],
                    "sprint_id": sp["sprint_id"].to_numpy()[pi][mask],
                    "item_id": ids[rows[mask]],
                    "key": keys[rows[mask]],
                    "category": name,
                    "value": value[mask],
                    "unestimated": np.isnan(raw[mask]),
                }
            )
        )
    cat_items = pd.concat(parts, ignore_index=True)

    n = len(sp)
    out = sp[["source", "board_id", "sprint_id", "name", "state_at", "start", "end", "until"]]
    out = out.rename(columns={"until": "completed_at"}).copy()
    out["statistic"] = stat
    for name, (mask, value, _raw) in cats.items():
        out[name] = np.bincount(pi[mask], weights=value[mask], minlength=n)
        out[f"{name}_count"] = np.bincount(pi[mask], minlength=n).astype(np.int64)
    cc = committed & completed
    out["completed_committed"] = np.bincount(pi[cc], weights=val(est_start)[cc], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        committed_v = out["committed"].to_numpy(dtype=np.float64)
        out["say_do"] = np.where(committed_v > 0, out["completed_committed"] / committed_v, np.nan)
        out["capacity_accuracy"] = np.where(committed_v > 0, out["completed"] / committed_v, np.nan)
    team_of = dict(
        zip(
            scoped(boards["source"], boards["board_id"]),
            boards["team"].astype(object),
            strict=True,
        )
    )
    out["team"] = [team_of.get(k) for k in scoped(out["source"], out["board_id"])]
    out = out.sort_values(["source", "board_id", "start", "sprint_id"], kind="stable")
    return SprintReport(out.reset_index(drop=True), cat_items)


def _statistics(
    sp: pd.DataFrame,
    boards: pd.DataFrame,
    pi: np.ndarray,
    est_start: np.ndarray,
    est_end: np.ndarray,
    est_hist: FieldHistory,
    rows: np.ndarray,
    statistic: Mapping[tuple[str, str], Statistic] | None,
) -> np.ndarray:
    """Estimation statistic per sprint: as configured, else its board's estimation field
    (none: issue count), else estimates when any issue in the board's sprints had one."""
    board_keys = np.array(scoped(sp["source"], sp["board_id"]), dtype=object)
    fields = dict(
        zip(scoped(boards["source"], boards["board_id"]), boards["estimation"], strict=True)
    )
    ever = ~np.isnan(est_start) | ~np.isnan(est_end)
    changed = np.isin(rows, est_hist.row[~pd.isna(to_float(est_hist.to_value))])
    cur = ~pd.isna(to_float(est_hist.current[rows]))
    has_est = pd.Series(ever | changed | cur).groupby(board_keys[pi]).any()
    chosen = {f"{src}\x1f{board}": stat for (src, board), stat in (statistic or {}).items()}
    out = []
    for key in board_keys:
        field = fields.get(key)
        if key in chosen:
            out.append(chosen[key])
        elif isinstance(field, str):
            out.append("estimate" if field else "count")
        else:
            out.append("estimate" if bool(has_est.get(key, False)) else "count")
    return np.array(out, dtype=object)


def velocity(rows: pd.DataFrame, forecast_with: int = 3, show: int = 7) -> pd.DataFrame:
    """Per board: mean completed over the last ``forecast_with`` closed sprints (the forecast).

    Also lists the last ``show`` closed sprints' committed/completed as the velocity chart does.
    """
    closed = rows[rows["state_at"] == "closed"].sort_values(["source", "board_id", "completed_at"])
    out = []
    for (source, board), part in closed.groupby(["source", "board_id"], sort=True):
        recent = part.tail(forecast_with)
        shown = part.tail(show)
        out.append(
            {
                "source": source,
                "board_id": board,
                "team": part["team"].iloc[-1],
                "statistic": part["statistic"].iloc[-1],
                "velocity": float(recent["completed"].mean()),
                "sprints_used": list(recent["sprint_id"]),
                "chart_sprints": list(shown["sprint_id"]),
                "chart_committed": [float(v) for v in shown["committed"]],
                "chart_completed": [float(v) for v in shown["completed"]],
            }
        )
    cols = [
        "source",
        "board_id",
        "team",
        "statistic",
        "velocity",
        "sprints_used",
        "chart_sprints",
        "chart_committed",
        "chart_completed",
    ]
    return pd.DataFrame(out, columns=cols)
