"""The slice of the store a roadmap question needs, and the engine run over it.

A forecast for one epic depends on its whole team: the team's throughput is shared by every
roadmap item it has in progress (METRICS §4). So a question about some roadmap items loads, for
every team owning one of them, all of that team's open roadmap items and their children (what
makes the team's plan), the team's items that were created or moved in the throughput window
(which holds every item it completed there), and the items blocking any of these. Answers are
therefore the same whichever filter led to them, and the same as the whole-store pipeline's for
the same as_of, except that cycle-time percentiles (ageing WIP) cover the throughput window
rather than all history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func

from reports.dataset import Dataset
from reports.metrics.blocked import blocked_time
from reports.metrics.column_dates import ColumnDates, column_dates
from reports.metrics.flow import estimates_at_as_of
from reports.metrics.roadmap import ROADMAP_TYPES, RoadmapScope, roadmap_forecasts, roadmap_scope
from reports.metrics.timeutil import day_start_utc, week_monday
from reports.metrics.wip import ageing_wip
from store import schema

from .baselines import history_baselines
from .load import (
    Loaded,
    StoreMeta,
    alive,
    children_ids,
    in_projects,
    keys_to_ids,
    of_types,
    roadmap_ids,
    window_ids,
)

I = schema.items  # noqa: E741


def window_start(meta: StoreMeta) -> pd.Timestamp:
    """First local day of the throughput window: the Monday ``weeks`` weeks before this week."""
    from reports.metrics.timeutil import local_day

    today = local_day(meta.as_of, meta.config.tz)
    monday = week_monday(pd.Series([today])).iloc[0]
    weeks = meta.config.forecast.weeks
    days = 7 * weeks if meta.config.forecast.period == "week" else 7 * weeks + 1
    return pd.Timestamp(monday) - pd.Timedelta(days=days)


def _is_roadmap(frame: pd.DataFrame, types: Collection[str] = ROADMAP_TYPES) -> np.ndarray:
    folded = {t.casefold() for t in types}
    return frame["type"].astype(object).map(lambda t: str(t).casefold() in folded).to_numpy(bool)


def open_roadmap(loaded: Loaded, items: pd.DataFrame) -> pd.DataFrame:
    """The roadmap-type rows of ``items`` whose own status is not done at as_of."""
    rm = items[_is_roadmap(items)]
    if not len(rm):
        return rm
    ds = loaded.dataset()
    cd = column_dates(rm, ds.inputs.transitions, ds.config.workflows, ds.as_of, ds.config.tz)
    pos = cd.items["position"].to_numpy()
    done = (pos >= 0) & (pos >= cd.items["done_index"].to_numpy())
    return cd.items[~done][rm.columns]


def open_versions(meta: StoreMeta, versions: pd.DataFrame) -> pd.DataFrame:
    """Versions not released at as_of (released now, with a release date on or before as_of)."""
    release = versions["release_date"]
    released = versions["released"].to_numpy(dtype=bool) & (
        release.notna() & (release <= meta.as_of)
    ).to_numpy(dtype=bool)
    return versions[~released]


@dataclass
class PlanSlice:
    """What was loaded for a set of teams: their open roadmap items and everything around them."""

    loaded: Loaded
    teams: set[str]
    epic_ids: set[tuple[str, str]]  # (source, item_id) of open plan epics / cards
    version_ids: set[tuple[str, str]]  # (source, version_id) of open plan versions


def load_plan(
    conn: Connection,
    loaded: Loaded,
    teams: Iterable[str],
    extra_teams: Iterable[str] = (),
) -> PlanSlice:
    """Load the plans of ``teams`` (plus the teams of epics blocking them), and the window items
    of those teams and of ``extra_teams``."""
    meta = loaded.meta
    plan_teams: set[str] = set()
    pending = set(teams)
    epic_ids: set[tuple[str, str]] = set()
    version_ids: set[tuple[str, str]] = set()
    for _round in range(2):
        pending -= plan_teams
        if not pending:
            break
        plan_teams |= pending
        pairs = meta.project_pairs(pending)
        items = loaded.add(conn, roadmap_ids(conn, meta, in_projects(pairs)))
        everything = loaded.dataset().inputs.items
        mine = everything[
            _is_roadmap(everything) & everything["team"].isin(list(plan_teams)).to_numpy()
        ]
        del items
        rm_open = open_roadmap(loaded, mine)
        epic_ids |= set(zip(rm_open["source"], rm_open["item_id"], strict=True))
        v = meta.versions
        pair_set = set(meta.project_pairs(plan_teams))
        in_team = [
            (int(s), str(p)) in pair_set for s, p in zip(v["source_id"], v["project"], strict=True)
        ]
        vopen = open_versions(meta, v[np.asarray(in_team, dtype=bool)])
        version_ids |= set(zip(vopen["source"], vopen["version_id"].astype(str), strict=True))
        keys: dict[int, set[str]] = {}
        for s, k in zip(rm_open["source"], rm_open["key"], strict=True):
            keys.setdefault(meta.source_ids[str(s)], set()).add(str(k))
        vids: dict[int, set[str]] = {}
        for s, i in version_ids:
            vids.setdefault(meta.source_ids[s], set()).add(i)
        loaded.add(conn, children_ids(conn, meta, keys, vids))
        blockers = load_blockers(conn, loaded)
        # an epic blocked by another team's work needs that team's forecast (LATE_DEPENDENCY)
        parents = blockers["parent_key"].dropna().astype(str)
        if len(parents):
            owner_keys: dict[int, set[str]] = {}
            for s, k in zip(blockers.loc[parents.index, "source"], parents, strict=True):
                owner_keys.setdefault(meta.source_ids[str(s)], set()).add(k)
            owners = loaded.add(conn, keys_to_ids(conn, meta, owner_keys))
            everything = loaded.dataset().inputs.items
            owners = everything[
                everything["key"].isin(list(parents)).to_numpy() & _is_roadmap(everything)
            ]
            pending = set(owners["team"].astype(str)) - plan_teams
        else:
            pending = set()
    window_teams = plan_teams | set(extra_teams)
    load_window(conn, loaded, window_teams)
    return PlanSlice(loaded, plan_teams, epic_ids, version_ids)


def load_blockers(conn: Connection, loaded: Loaded) -> pd.DataFrame:
    """Load the items that block loaded items (inward 'blocks' links); return their rows."""
    meta = loaded.meta
    ds = loaded.dataset()
    links = ds.inputs.links
    sel = links[
        links["link_type"].astype(str).str.casefold().str.contains("block")
        & (links["direction"].astype(str).str.casefold() == "inward")
    ]
    keys: dict[int, set[str]] = {}
    for s, k in zip(sel["source"], sel["other_key"], strict=True):
        keys.setdefault(meta.source_ids[str(s)], set()).add(str(k))
    loaded.add(conn, keys_to_ids(conn, meta, keys))
    items = loaded.dataset().inputs.items
    wanted = set(zip(sel["source"].astype(str), sel["other_key"].astype(str), strict=True))
    mask = [(s, k) in wanted for s, k in zip(items["source"], items["key"], strict=True)]
    return items[np.asarray(mask, dtype=bool)]


def load_window(conn: Connection, loaded: Loaded, teams: Iterable[str]) -> None:
    """Load every item of these teams created or moved since the throughput window began."""
    meta = loaded.meta
    since = window_start(meta)
    lo = day_start_utc(since, meta.config.tz) - pd.Timedelta(days=1)
    loaded.add(conn, window_ids(conn, meta, meta.project_pairs(teams), lo))


@dataclass
class Analysis:
    """The engine's results over a loaded slice."""

    dataset: Dataset
    cd: ColumnDates
    estimates: pd.Series
    plan: RoadmapScope  # open roadmap items of the plan teams and their children
    full_scope: RoadmapScope  # the same with the done ones (and the item asked about)
    forecasts: pd.DataFrame
    blocked: pd.DataFrame
    ageing: pd.DataFrame
    baselines: pd.DataFrame
    since: pd.Timestamp


def restrict(scope: RoadmapScope, ids: Collection[str]) -> RoadmapScope:
    """The roadmap items with these roadmap_ids, and their children."""
    wanted = list(ids)
    rm = scope.roadmap[scope.roadmap["roadmap_id"].isin(wanted).to_numpy()]
    kids = scope.children[scope.children["roadmap_id"].isin(wanted).to_numpy()]
    return RoadmapScope(rm.reset_index(drop=True), kids.reset_index(drop=True))


def analyse(
    plan: PlanSlice,
    baselines: pd.DataFrame | None = None,
    forecast: bool = True,
    include: Collection[str] = (),
) -> Analysis:
    """Column dates, roadmap scope of the plan, forecasts, flags, ageing and baselines.

    ``include``: roadmap ids kept in ``full_scope`` even when done (the item asked about).
    """
    ds = plan.loaded.dataset()
    meta = plan.loaded.meta
    inputs, config = ds.inputs, ds.config
    cd = column_dates(inputs.items, inputs.transitions, config.workflows, ds.as_of, config.tz)
    est = estimates_at_as_of(cd, inputs.changes)
    versions = inputs.versions
    wanted_versions = {i for _, i in plan.version_ids}
    wanted_versions |= {r[len("version:") :] for r in include if r.startswith("version:")}
    versions = versions[versions["version_id"].astype(str).isin(list(wanted_versions)).to_numpy()]
    scope = roadmap_scope(
        cd,
        inputs.changes,
        versions.reset_index(drop=True),
        inputs.item_versions,
        config.roadmap_types,
        period=config.forecast.period,
        estimates=est,
    )
    rm = scope.roadmap
    epic_ids = {i for _, i in plan.epic_ids} | set(include)
    keep = [
        (rid in epic_ids) if not str(rid).startswith("version:") else True
        for rid in rm["roadmap_id"]
    ]
    full = restrict(scope, set(rm["roadmap_id"][np.asarray(keep, dtype=bool)].astype(str)))
    open_rm = full.roadmap[full.roadmap["done_at"].isna().to_numpy()]
    scope = restrict(full, set(open_rm["roadmap_id"].astype(str)))
    forecasts = (
        roadmap_forecasts(scope, cd, config.forecast, roadmap_types=config.roadmap_types)
        if forecast
        else pd.DataFrame()
    )
    since = window_start(meta)
    base = baselines
    if base is None:
        base = history_baselines(scope, cd, inputs.changes, inputs.item_versions)
    return Analysis(
        dataset=ds,
        cd=cd,
        estimates=est,
        plan=scope,
        full_scope=full,
        forecasts=forecasts,
        blocked=blocked_time(cd, inputs.changes),
        ageing=ageing_wip(cd, since=since),
        baselines=base,
        since=since,
    )


def scope_condition(
    meta: StoreMeta,
    source: str | None = None,
    projects: Collection[str] | None = None,
    teams: Collection[str] | None = None,
) -> Any:
    """SQL condition on items for the source / project / team filters."""
    conds = [alive(meta.as_of)]
    if source is not None:
        conds.append(I.c.source_id == meta.source_ids[source])
    if projects is not None:
        conds.append(func.coalesce(I.c.project_key, "").in_(list(projects)))
    if teams is not None:
        conds.append(in_projects(meta.project_pairs(teams)))
    return and_(*conds)


__all__ = [
    "Analysis",
    "PlanSlice",
    "analyse",
    "load_plan",
    "of_types",
    "restrict",
    "scope_condition",
    "window_start",
]
