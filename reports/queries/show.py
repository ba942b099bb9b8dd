"""`pulse show KEY`: one item's story as the store knew it at as_of.

Its status history and the time spent in each workflow column, the sprints it was ever in, its
flagged (blocked) periods, its links and the state of the items at their other end, its epic and
fix versions, and where its cycle time (or, while in progress, its age) stands against its
team's cycle-time percentiles over the throughput window.

Everything the engine derives (stage, column dates, cycle time, epic and versions at as_of,
sprints, flagged periods) is read from the stored analysis (:mod:`pulse.reports.metrics.item_story`,
the pipeline's numbers that `pulse risk` and the workbook show); only the item's raw status
changes are read here, to list them. No pandas: a question starts in a fraction of a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pulse.settings import Settings
from pulse.store import Store
from pulse.store.analysis_reads import Entry, roadmap_risk, stories, team_data
from pulse.store.catalog import source_names
from pulse.store.item_reads import (
    children_of,
    items_named,
    keyed_items,
    links_of,
    sprint_names,
    status_changes,
    stored_item,
)

from .catalog import one_source, source_id_of
from .errors import QueryError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNKNOWN = "unknown to Pulse"


@dataclass
class ItemStory:
    """The JSON-ready answer of `pulse show` (see docs/queries.md)."""

    doc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document of `pulse show --format json`."""
        return self.doc


def _instant(ms: int) -> str:
    """Epoch milliseconds as an ISO 8601 UTC instant."""
    return (EPOCH + timedelta(milliseconds=ms)).isoformat()


def show(
    store: Store, settings: Settings, key: str, as_of: Any = None, source: str | None = None
) -> ItemStory:
    """Answer `pulse show KEY` (of `source`, needed when several have that key) from the store
    as it was known at ``as_of``: the item's raw status changes, and the stored analysis's
    story of it (computed first when none covers this as-of)."""
    from .analysis import instant, reading

    moment = instant(as_of)
    with reading(store, settings, moment) as (conn, entry):
        found = items_named(conn, moment, key, source_id_of(conn, source))
        if not found:
            raise QueryError(f"unknown key {key!r} (not in the store at {moment:%Y-%m-%d})")
        exact = [r for r in found if r[2] == key] or found
        one_source(conn, key, [r[0] for r in exact])
        sid, iid, _ = exact[0]
        item = stored_item(conn, sid, iid)
        src = source_names(conn)[sid]
        mine = _one(stories(conn, entry, src, item_ids=[iid]), iid)
        links = links_of(conn, sid, iid)
        others = keyed_items(conn, moment, sid, [other for _, _, other in links])
        kids = children_of(conn, moment, sid, item.key)
        related = stories(
            conn, entry, src, item_ids=kids, keys=[k for k in others if k != item.key]
        )
        sprints = json.loads(mine["sprints"])
        named = sprint_names(conn, sid, [s for s, _ in sprints])
        changes = status_changes(conn, sid, iid)
        team = team_data(conn, entry, str(mine["team"])) or {}
        late = roadmap_risk(conn, entry, src, item.key)
    story = _story(entry, moment, src, item, mine, changes)
    story["sprints"] = [
        {
            "id": s,
            "name": named.get(s, (s, ""))[0],
            "state": named.get(s, (s, ""))[1],
            "member_at_as_of": bool(now_in),
        }
        for s, now_in in sprints
    ]
    stage_of = {(r["item_id"]): str(r["stage"]) for r in related}
    story["links"] = [
        {
            "type": kind,
            "direction": direction,
            "key": other,
            "title": others[other][1] if other in others else None,
            "status": others[other][2] if other in others else None,
            "stage": _linked_stage(other, others, item, mine, stage_of),
        }
        for kind, direction, other in links
    ]
    story["children"] = [
        {"key": str(r["key"]), "stage": str(r["stage"])} for r in _in(kids, related)
    ]
    story["cycle_time"] = _cycle_time(team, entry, mine)
    story["freshness"] = entry.meta.get("freshness", [])
    _add_analysis(story, entry.meta.get("cross_links", {}), late)
    return ItemStory(_ordered(story))


def _one(rows: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
    """The stored story of the item asked about."""
    for row in rows:
        if row["item_id"] == item_id:
            return row
    raise QueryError(f"item {item_id} has no stored story; run `pulse sync` again")


def _in(item_ids: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stories of ``item_ids``, in that order."""
    by_id = {r["item_id"]: r for r in rows}
    return [by_id[i] for i in sorted(item_ids) if i in by_id]


def _linked_stage(
    other: str,
    others: dict[str, tuple[str, str, str]],
    item: Any,
    mine: dict[str, Any],
    stage_of: dict[str, str],
) -> str:
    """The stage of the item at a link's other end, or that Pulse does not know it."""
    if other == item.key:
        return str(mine["stage"])
    if other not in others:
        return UNKNOWN
    return stage_of.get(others[other][0], UNKNOWN)


def _add_analysis(
    story: dict[str, Any], cross: dict[str, list[dict[str, Any]]], late: dict[str, Any] | None
) -> None:
    """What the stored analysis knows beyond the item's own history: its links to and from the
    other tool resolved (state and forecast), and, for a late roadmap item, its drill-down."""
    links = cross.get(f"{story['source']}:{story['key']}", [])
    story["cross_links"] = links
    resolved = {c["key"]: c for c in links if c["direction"] == "links to"}
    for link in story["links"]:
        other = resolved.get(link["key"])
        if other is not None and link["stage"] == "unknown to Pulse":
            link.update(title=other["title"], status=other["status"], stage=other["stage"])
    story["late_work"] = (
        None
        if late is None or late.get("status") not in ("off track", "at risk")
        else {"status": late["status"], "since": late.get("since"), "children": late["late_work"]}
    )


def _story(
    entry: Entry,
    moment: datetime,
    source: str,
    item: Any,
    mine: dict[str, Any],
    changes: list[tuple[datetime, str | None, str]],
) -> dict[str, Any]:
    """The item's own fields, status history and time per workflow column."""
    workflow = entry.meta.get("workflows", {}).get(mine["workflow"] or "", {})
    positions: dict[str, int] = workflow.get("statuses", {})
    names: list[str] = workflow.get("columns", [])
    before = [c for c in changes if c[0] <= moment]
    head = before or changes
    first_status = head[0][1] if head and head[0][1] is not None else item.status
    steps = [(item.created, first_status)] + [(max(at, item.created), to) for at, _, to in before]
    history = []
    spent: dict[str, float] = {}
    for k, (at, status) in enumerate(steps):
        end = steps[k + 1][0] if k + 1 < len(steps) else moment
        days = max(0.0, (end - at).total_seconds() / 86400)
        pos = positions.get(status.strip().casefold(), -1)
        column = names[pos] if pos >= 0 else None
        history.append(
            {
                "at": at.isoformat(),
                "status": status,
                "column": column,
                "days": round(days, 1),
                "current": k + 1 == len(steps),
            }
        )
        if column is not None:
            spent[column] = spent.get(column, 0.0) + days
    entered = json.loads(mine["entered"])
    estimate = mine["estimate"]
    return {
        "command": "show",
        "as_of": moment.astimezone(UTC).isoformat(),
        "timezone": entry.meta.get("timezone", "UTC"),
        "source": source,
        "key": item.key,
        "item_id": item.item_id,
        "title": item.title,
        "type": item.type,
        "team": str(mine["team"]),
        "project": item.project,
        "status": steps[-1][1],
        "column": mine["column"],
        "stage": str(mine["stage"]),
        "created": item.created.isoformat(),
        "committed": mine["committed"],
        "done": mine["done"],
        "estimate": None if estimate is None else float(estimate),
        "due": item.due.isoformat() if item.due is not None else None,
        "epic": mine["epic"],
        "versions": json.loads(mine["versions"]),
        "url": item.url,
        "history": history,
        "columns": [
            {"column": name, "entered": entered.get(name), "days": round(spent.get(name, 0.0), 1)}
            for name in names
        ],
        "blocked": [
            {
                "from": _instant(start),
                "to": None if end >= _ms(moment) else _instant(end),
                "days": round((end - start) / 86_400_000, 1),
                "ongoing": end >= _ms(moment),
            }
            for start, end in json.loads(mine["blocked"])
        ],
    }


def _ms(moment: datetime) -> int:
    """An instant in epoch milliseconds."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def _cycle_time(team: dict[str, Any], entry: Entry, mine: dict[str, Any]) -> dict[str, Any]:
    """The team's cycle-time percentiles, the item's cycle time (or age), and where it stands."""
    pct = dict(team.get("cycle") or {"count": 0, "p50": None, "p85": None, "p95": None})
    pct["since"] = entry.meta.get("since")
    done = [float(x) for x in team.get("cycle_days", [])]
    measure: dict[str, Any]
    if mine["stage"] == "done" and mine["cycle_days"] is not None:
        measure = {"what": "cycle time", "days": int(mine["cycle_days"])}
    elif mine["stage"] == "in progress" and mine["age_days"] is not None:
        measure = {"what": "age", "days": int(mine["age_days"])}
    else:
        measure = {"what": "not started", "days": None}
    standing = None
    if measure["days"] is not None and done:
        share = float(sum(1 for d in done if d < measure["days"]) / len(done) * 100)
        band = "within p50"
        if pct["p95"] is not None and measure["days"] > pct["p95"]:
            band = "above p95"
        elif pct["p85"] is not None and measure["days"] > pct["p85"]:
            band = "above p85"
        elif pct["p50"] is not None and measure["days"] > pct["p50"]:
            band = "above p50"
        standing = {"band": band, "longer_than_pct": round(share, 1)}
    return {"team": pct, "item": measure, "standing": standing}


ORDER = (
    "command",
    "as_of",
    "timezone",
    "source",
    "key",
    "item_id",
    "title",
    "type",
    "team",
    "project",
    "status",
    "column",
    "stage",
    "created",
    "committed",
    "done",
    "estimate",
    "due",
    "epic",
    "versions",
    "url",
    "history",
    "columns",
    "sprints",
    "blocked",
    "links",
    "children",
    "cycle_time",
    "freshness",
    "cross_links",
    "late_work",
)


def _ordered(story: dict[str, Any]) -> dict[str, Any]:
    """The documented key order."""
    return {k: story[k] for k in ORDER}


__all__ = ["ItemStory", "show"]
