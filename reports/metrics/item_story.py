"""Each item's story as of the as-of day: the engine's facts `pulse show` prints beside the raw
status history — its stage and column, the days it entered each column, its cycle time or age,
its epic, fix versions and estimate at as-of, the sprints it was ever in and its flagged periods.

Computed for every item in one pass, so the stored analysis answers `pulse show` by reading one
row, the same numbers the workbook and `pulse risk` use.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .history import FieldHistory, current_values, scoped, sprint_membership


def stages(items: pd.DataFrame) -> np.ndarray:
    """Each item's stage from its latest mapped column: unmapped, not started, in progress, done."""
    pos = items["position"].to_numpy(dtype=np.int64)
    done = pos >= items["done_index"].to_numpy(dtype=np.int64)
    started = pos >= items["committed_index"].to_numpy(dtype=np.int64)
    return np.select(
        [pos < 0, done, started], ["unmapped", "done", "in progress"], default="not started"
    ).astype(object)


def _days(values: pd.Series) -> np.ndarray:
    """Report-zone days as 'YYYY-MM-DD' text, None where missing."""
    text = values.dt.strftime("%Y-%m-%d")
    return text.astype(object).where(values.notna(), None).to_numpy()


def _optional(values: pd.Series) -> np.ndarray:
    """Text values with None where missing."""
    return values.astype(object).where(values.notna(), None).to_numpy()


def _whole(days: pd.Series, wanted: np.ndarray) -> list[int | None]:
    """Whole days where ``wanted`` and known, else None."""
    known = days.notna().to_numpy() & wanted
    values = days.fillna(0).to_numpy(dtype=np.float64)
    return [int(v) if k else None for v, k in zip(values, known, strict=True)]


def _per_row(n: int, rows: np.ndarray, parts: list[str], brackets: str = "[]") -> np.ndarray:
    """Per item row, a JSON list (or object) of its ``parts`` (JSON texts grouped by sorted
    ``rows``), empty for none. Built as text: 100,000 json.dumps calls cost seconds."""
    out = np.full(n, brackets, dtype=object)
    if not len(rows):
        return out
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        out[rows[lo]] = brackets[0] + ", ".join(parts[lo:hi]) + brackets[1]
    return out


def _json_day(day: str | None) -> str:
    """A 'YYYY-MM-DD' day (or None) as JSON text."""
    return "null" if day is None else f'"{day}"'


def _entered(cd: ColumnDates) -> np.ndarray:
    """Per item: {column: first day it entered} as JSON text."""
    ent = cd.entries.sort_values(["row", "position"], kind="stable")
    columns = ent["column"].astype(str).to_numpy(dtype=object)
    quoted = {c: json.dumps(c, ensure_ascii=False) for c in set(columns)}  # a few names
    days = _days(ent["day"])
    parts = [f"{quoted[c]}: {_json_day(d)}" for c, d in zip(columns, days, strict=True)]
    return _per_row(len(cd.items), ent["row"].to_numpy(dtype=np.int64), parts, "{}")


def _sprints(
    cd: ColumnDates, changes: pd.DataFrame, sprints: pd.DataFrame, item_sprints: pd.DataFrame
) -> np.ndarray:
    """Per item: the known sprints it was ever in up to as-of, [sprint id, in it at as-of]."""
    items = cd.items
    known = set(scoped(sprints["source"], sprints["sprint_id"]))
    in_any = np.zeros(len(items), dtype=bool)  # only items with a sprint now or in their history
    for frame in (item_sprints, changes[changes["field"].to_numpy() == "sprint"]):
        rows = cd.rows_of(frame)
        in_any[rows[rows >= 0]] = True
    mem = sprint_membership(items, changes, item_sprints, in_any, cd.as_of_ms, known)
    pairs = mem.pairs
    if not len(pairs):
        return np.full(len(items), "[]", dtype=object)
    member = pairs["member"].astype(str).str.split("\x1f", n=1).str[-1].to_numpy()
    now_in = mem.member_at(
        pairs["pair"].to_numpy(dtype=np.int64), np.full(len(pairs), cd.as_of_ms, dtype=np.int64)
    )
    frame = pd.DataFrame({"row": pairs["row"].to_numpy(dtype=np.int64), "id": member})
    frame["in"] = now_in
    frame["len"] = frame["id"].str.len()
    frame = frame.sort_values(["row", "len", "id"], kind="stable")
    ids = frame["id"].to_numpy(dtype=object)
    quoted = {i: json.dumps(i, ensure_ascii=False) for i in set(ids)}
    flags = frame["in"].to_numpy(dtype=bool)
    parts = [f"[{quoted[i]}, {'true' if n else 'false'}]" for i, n in zip(ids, flags, strict=True)]
    return _per_row(len(items), frame["row"].to_numpy(dtype=np.int64), parts)


def _blocked(cd: ColumnDates, intervals: pd.DataFrame) -> np.ndarray:
    """Per item: its flagged periods up to as-of, [start ms, end ms (as-of when still open)]."""
    iv = intervals.sort_values(["row", "start_ms"], kind="stable")
    starts = iv["start_ms"].to_numpy(dtype=np.int64)
    ends = iv["end_ms"].to_numpy(dtype=np.int64)
    parts = [f"[{s}, {e}]" for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return _per_row(len(cd.items), iv["row"].to_numpy(dtype=np.int64), parts)


def _at_as_of(
    cd: ColumnDates, changes: pd.DataFrame, field: str, current: np.ndarray
) -> np.ndarray:
    """Each item's value of ``field`` at as-of (its change history, else its current value)."""
    hist = FieldHistory.build(cd.items, changes, field, current=current, as_of_ms=cd.as_of_ms)
    rows = np.arange(len(cd.items))
    return hist.value_at(rows, np.full(len(rows), cd.as_of_ms, dtype=np.int64))


def _version_names(
    cd: ColumnDates, changes: pd.DataFrame, item_versions: pd.DataFrame, versions: pd.DataFrame
) -> np.ndarray:
    """Per item: the names of its fix versions at as-of, as a JSON list."""
    ids = _at_as_of(
        cd, changes, "fix_version", current_values(cd.items, item_versions, "version_id")
    )
    names: dict[tuple[str, str], str] = {
        (str(s), str(v)): str(n)
        for s, v, n in zip(
            versions["source"], versions["version_id"], versions["name"], strict=True
        )
    }
    sources = cd.items["source"].astype(str).to_numpy()
    out = np.full(len(ids), "[]", dtype=object)
    for row in np.flatnonzero(
        pd.Series(ids, dtype=object).fillna("").astype(str).str.strip() != ""
    ):
        parts = [v.strip() for v in str(ids[row]).split(",") if v.strip()]
        out[row] = json.dumps([names.get((sources[row], v), v) for v in parts], ensure_ascii=False)
    return out


def item_stories(
    cd: ColumnDates,
    changes: pd.DataFrame,
    sprints: pd.DataFrame,
    item_sprints: pd.DataFrame,
    item_versions: pd.DataFrame,
    versions: pd.DataFrame,
    estimates: pd.Series,
    intervals: pd.DataFrame,
) -> pd.DataFrame:
    """One row per item known at as-of: source, item_id, key, team, workflow, stage, column,
    committed, done, cycle_days, age_days, estimate, epic, versions, entered, sprints, blocked
    (the last four JSON text; see docs/queries.md, `pulse show`)."""
    items = cd.items
    stage = stages(items)
    committed = items["committed_day"]
    age = (cd.today - committed).dt.days
    cycle = items["cycle_days"]
    epic = _at_as_of(cd, changes, "parent", items["parent_key"].astype(object).to_numpy())
    estimate = estimates.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "source": items["source"].astype(str).to_numpy(),
            "item_id": items["item_id"].astype(str).to_numpy(),
            "key": items["key"].astype(str).to_numpy(),
            "team": items["team"].astype(str).to_numpy(),
            "workflow": _optional(items["workflow"]),
            "stage": stage,
            "column": _optional(items["column"]),
            "committed": _days(committed),
            "done": _days(items["done_day"]),
            "cycle_days": _whole(cycle, stage == "done"),
            "age_days": _whole(age, stage == "in progress"),
            "estimate": [None if np.isnan(e) else float(e) for e in estimate],
            "epic": [None if e in (None, "") or pd.isna(e) else str(e) for e in epic],
            "versions": _version_names(cd, changes, item_versions, versions),
            "entered": _entered(cd),
            "sprints": _sprints(cd, changes, sprints, item_sprints),
            "blocked": _blocked(cd, intervals),
        },
        dtype=object,  # text and whole days with None where missing, as stored
    )


__all__ = ["item_stories", "stages"]
