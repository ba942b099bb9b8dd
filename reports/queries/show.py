"""`pulse show KEY`: one item's story as the store knew it at as_of.

Its status history and the time spent in each workflow column, the sprints it was ever in, its
flagged (blocked) periods, its links and the state of the items at their other end, its epic and
fix versions, and where its cycle time (or, while in progress, its age) stands against its
team's cycle-time percentiles over the throughput window: those of the stored analysis, the
pipeline's numbers that `pulse risk` and the workbook show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import or_, select, true

from pulse.reports.dataset import Loaded, alive, keys_to_ids, read_meta
from pulse.reports.metrics.blocked import flag_intervals
from pulse.reports.metrics.history import FieldHistory, Membership, current_values
from pulse.reports.metrics.pipeline import column_dates_at
from pulse.reports.metrics.timeutil import local_day
from pulse.settings import Settings
from pulse.store import Store, schema

from .catalog import one_source, source_id_of
from .errors import QueryError

I = schema.items  # noqa: E741


@dataclass
class ItemStory:
    """The JSON-ready answer of `pulse show` (see docs/queries.md)."""

    doc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse show --format json`."""
        return self.doc


def _day(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _instant(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def show(
    store: Store, settings: Settings, key: str, as_of: Any = None, source: str | None = None
) -> ItemStory:
    """Answer `pulse show KEY` (of `source`, needed when several have that key) from the store
    as it was known at ``as_of``.

    The item's own history is read directly; its team's cycle times over the throughput window
    come from the stored analysis (computed first when none covers this as-of).
    """
    from .analysis import instant, reading, team_data

    moment = instant(as_of)
    when = pd.Timestamp(moment)
    with reading(store, settings, moment) as (conn, entry):
        meta = read_meta(conn, settings, when)
        wanted = source_id_of(conn, source)
        rows = conn.execute(
            select(I.c.source_id, I.c.item_id, I.c.key).where(
                alive(when),
                or_(I.c.key == key, I.c.previous_key == key),
                I.c.source_id == wanted if wanted is not None else true(),
            )
        ).all()
        if not rows:
            raise QueryError(f"unknown key {key!r} (not in the store at {_day(when)})")
        exact = [r for r in rows if r[2] == key] or rows
        one_source(conn, key, [int(r[0]) for r in exact])
        sid, iid = int(exact[0][0]), str(exact[0][1])
        loaded = Loaded(meta, settings)
        items = loaded.add(conn, {(sid, iid)})
        me = items.iloc[0]
        team, real_key = str(me["team"]), str(me["key"])
        # the items at the other end of its links, and its children
        others = set(loaded.dataset().inputs.links["other_key"].astype(str))
        kids = conn.execute(
            select(I.c.item_id).where(alive(when), I.c.source_id == sid, I.c.parent_key == real_key)
        ).all()
        loaded.add(conn, keys_to_ids(conn, meta, {sid: others}) | {(sid, str(k[0])) for k in kids})
        cached = team_data(conn, entry, team) or {}
    ds = loaded.dataset()
    inputs = ds.inputs
    cd = column_dates_at(inputs, ds.config, ds.as_of)
    row = int(cd.rows_of(pd.DataFrame({"source": [me["source"]], "item_id": [iid]}))[0])
    team_pct = dict(cached.get("cycle") or {"count": 0, "p50": None, "p85": None, "p95": None})
    team_pct["since"] = entry.meta.get("since")
    done = [float(x) for x in cached.get("cycle_days", [])]
    story = _story(cd, inputs, meta, row, real_key, team, team_pct, done)
    story["freshness"] = entry.meta.get("freshness", [])
    return ItemStory(story)


def _story(
    cd: Any,
    inputs: Any,
    meta: Any,
    row: int,
    key: str,
    team: str,
    team_pct: dict[str, Any],
    done: list[float],
) -> dict[str, Any]:
    items = cd.items
    rec = items.iloc[row]
    tz = cd.tz
    today = cd.today
    source = str(rec["source"])
    iid = str(rec["item_id"])
    # status history and time per column
    tr = inputs.transitions
    mine = tr[(tr["source"] == source) & (tr["item_id"] == iid)]
    later = mine[mine["at"] > cd.as_of]
    mine = mine[mine["at"] <= cd.as_of]
    wf_key = rec["workflow"]
    wf = cd.workflows.get(wf_key) if wf_key is not None else None
    positions = wf.status_positions() if wf is not None else {}
    names = wf.names if wf is not None else []
    head = mine if len(mine) else later
    first_status = (
        str(head["from_status"].iloc[0])
        if len(head) and head["from_status"].iloc[0] is not None
        else str(rec["status"])
    )
    steps = [(rec["created"], first_status)] + [
        (max(at, rec["created"]), str(to))
        for at, to in zip(mine["at"], mine["to_status"], strict=True)
    ]
    history = []
    spent: dict[str, float] = {}
    for k, (at, status) in enumerate(steps):
        end = steps[k + 1][0] if k + 1 < len(steps) else cd.as_of
        days = max(0.0, (end - at).total_seconds() / 86400)
        pos = positions.get(status.strip().casefold(), -1)
        column = names[pos] if pos >= 0 else None
        history.append(
            {
                "at": _instant(at),
                "status": status,
                "column": column,
                "days": round(days, 1),
                "current": k + 1 == len(steps),
            }
        )
        if column is not None:
            spent[column] = spent.get(column, 0.0) + days
    ent = cd.entries[cd.entries["row"] == row]
    entered = dict(zip(ent["column"], ent["day"], strict=True))
    columns = [
        {
            "column": name,
            "entered": _day(entered.get(name)),
            "days": round(spent.get(name, 0.0), 1),
        }
        for name in names
    ]
    # sprints ever in
    sp = inputs.sprints
    sp_names = dict(zip(sp["sprint_id"].astype(str), sp["name"].astype(str), strict=True))
    sp_state = dict(zip(sp["sprint_id"].astype(str), sp["state"].astype(str), strict=True))
    eligible = np.zeros(len(items), dtype=bool)
    eligible[row] = True
    mem = Membership.build(
        items,
        inputs.changes,
        "sprint",
        current_values(items, inputs.item_sprints, "sprint_id"),
        eligible,
        cd.as_of_ms,
        universe=set(sp_names),
    )
    ever = mem.pairs[mem.pairs["row"] == row]["member"].astype(str)
    now_in = mem.member_at(
        mem.pairs[mem.pairs["row"] == row]["pair"].to_numpy(dtype=np.int64),
        np.full(len(ever), cd.as_of_ms, dtype=np.int64),
    )
    sprints = [
        {
            "id": s,
            "name": sp_names.get(s, s),
            "state": sp_state.get(s, ""),
            "member_at_as_of": bool(n),
        }
        for s, n in sorted(zip(ever, now_in, strict=True), key=lambda x: (len(x[0]), x[0]))
    ]
    # blocked periods
    iv = flag_intervals(cd, inputs.changes)
    iv = iv[iv["row"] == row]
    blocked = [
        {
            "from": _instant(pd.Timestamp(int(s), unit="ms", tz="UTC")),
            "to": None if e >= cd.as_of_ms else _instant(pd.Timestamp(int(e), unit="ms", tz="UTC")),
            "days": round((int(e) - int(s)) / 86_400_000, 1),
            "ongoing": bool(e >= cd.as_of_ms),
        }
        for s, e in zip(iv["start_ms"], iv["end_ms"], strict=True)
    ]
    # links
    lk = inputs.links
    lk = lk[(lk["source"] == source) & (lk["item_id"] == iid)]
    by_key = {str(k): i for i, k in enumerate(items["key"]) if items["source"].iloc[i] == source}
    links = []
    for lt, direction, other in zip(lk["link_type"], lk["direction"], lk["other_key"], strict=True):
        o = by_key.get(str(other))
        links.append(
            {
                "type": str(lt),
                "direction": str(direction),
                "key": str(other),
                "title": str(items["title"].iloc[o]) if o is not None else None,
                "status": str(items["status"].iloc[o]) if o is not None else None,
                "stage": _stage(items, o) if o is not None else "unknown to Pulse",
            }
        )
    # epic and versions at as_of, estimate, due
    now = np.array([cd.as_of_ms], dtype=np.int64)
    rows_ = np.array([row], dtype=np.int64)
    parent = FieldHistory.build(
        items,
        inputs.changes,
        "parent",
        current=items["parent_key"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    ).value_at(rows_, now)[0]
    fixv = FieldHistory.build(
        items,
        inputs.changes,
        "fix_version",
        current=current_values(items, inputs.item_versions, "version_id"),
        as_of_ms=cd.as_of_ms,
    ).value_at(rows_, now)[0]
    vnames = dict(zip(meta.versions["version_id"].astype(str), meta.versions["name"], strict=True))
    versions = [vnames.get(v.strip(), v.strip()) for v in str(fixv or "").split(",") if v.strip()]
    estimate = FieldHistory.build(
        items,
        inputs.changes,
        "estimate",
        current=items["estimate"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    ).value_at(rows_, now)[0]
    est = pd.to_numeric(pd.Series([estimate]), errors="coerce").iloc[0]
    children = items[items["parent_key"].astype(object) == key]
    stage = _stage(items, row)
    cycle = rec["cycle_days"]
    measure: dict[str, Any]
    if stage == "done" and pd.notna(cycle):
        measure = {"what": "cycle time", "days": int(cycle)}
    elif stage == "in progress" and pd.notna(rec["committed_day"]):
        measure = {"what": "age", "days": int((today - rec["committed_day"]).days)}
    else:
        measure = {"what": "not started", "days": None}
    standing = None
    if measure["days"] is not None and len(done):
        share = float(sum(1 for d in done if d < measure["days"]) / len(done) * 100)
        band = "within p50"
        if team_pct["p95"] is not None and measure["days"] > team_pct["p95"]:
            band = "above p95"
        elif team_pct["p85"] is not None and measure["days"] > team_pct["p85"]:
            band = "above p85"
        elif team_pct["p50"] is not None and measure["days"] > team_pct["p50"]:
            band = "above p50"
        standing = {"band": band, "longer_than_pct": round(share, 1)}
    return {
        "command": "show",
        "as_of": cd.as_of.isoformat(),
        "timezone": tz,
        "source": source,
        "key": key,
        "item_id": iid,
        "title": str(rec["title"]),
        "type": str(rec["type"]),
        "team": team,
        "project": str(rec["project"]),
        "status": steps[-1][1],
        "column": None if pd.isna(rec["column"]) else str(rec["column"]),
        "stage": stage,
        "created": _instant(rec["created"]),
        "committed": _day(rec["committed_day"]),
        "done": _day(rec["done_day"]),
        "estimate": None if pd.isna(est) else float(est),
        "due": _day(rec["due"]) if pd.notna(rec["due"]) else None,
        "epic": str(parent) if parent not in (None, "") else None,
        "versions": versions,
        "url": str(rec["url"]),
        "history": history,
        "columns": columns,
        "sprints": sprints,
        "blocked": blocked,
        "links": links,
        "children": [
            {"key": str(k), "stage": _stage(items, int(i))}
            for i, k in zip(children.index, children["key"], strict=True)
        ],
        "cycle_time": {
            "team": team_pct,
            "item": measure,
            "standing": standing,
        },
    }


def _stage(items: pd.DataFrame, row: int) -> str:
    pos = int(items["position"].iloc[row])
    if pos < 0:
        return "unmapped"
    if pos >= int(items["done_index"].iloc[row]):
        return "done"
    if pos >= int(items["committed_index"].iloc[row]):
        return "in progress"
    return "not started"


__all__ = ["ItemStory", "local_day", "show"]
