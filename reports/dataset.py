"""Load the store into the metrics engine's input frames, in bulk, one query per table.

Frames carry the source *name* in their `source` column (several Jira sites can coexist) and UTC
timestamps. Items created after `as_of` are left out; history after it is kept, because the
calculators reconstruct each item's state at `as_of` by working back from its current state
through the changes made since (they ignore those changes themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, func, select

from reports.metrics.frames import (
    BOARDS,
    CHANGES,
    ITEM_SPRINTS,
    ITEM_VERSIONS,
    ITEMS,
    LINKS,
    SPRINTS,
    SYNC_RUNS,
    TRANSITIONS,
    VERSIONS,
    FrameSpec,
)
from reports.metrics.pipeline import MetricsConfig, MetricsInputs
from reports.workflows import build_workflows
from settings import Settings
from store import Store, schema

S, I = schema.sources, schema.items  # noqa: E741


@dataclass
class Dataset:
    """Everything a report or query needs: the engine's inputs and its configuration."""

    inputs: MetricsInputs
    config: MetricsConfig
    as_of: pd.Timestamp
    statuses: pd.DataFrame


def _frame(store: Store, query: Select[tuple[object, ...]], spec: FrameSpec) -> pd.DataFrame:
    with store.engine.connect() as conn:
        result = conn.execute(query)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for name, kind in spec.kinds.items():
        if kind in ("ts", "ts?"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        elif kind == "bool":
            frame[name] = frame[name].fillna(False).astype(bool)
        elif kind == "float":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind == "str":
            frame[name] = frame[name].fillna("").astype(str)
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame[spec.names]


def _archived(store: Store, items: pd.DataFrame) -> pd.Series:
    """Per item, whether it is archived at the source now (Trello cards): not work in progress."""
    query = (
        select(S.c.name, I.c.item_id).join(S, S.c.id == I.c.source_id).where(I.c.archived.is_(True))
    )
    with store.engine.connect() as conn:
        archived = {(str(s), str(i)) for s, i in conn.execute(query)}
    pairs = zip(items["source"].astype(str), items["item_id"].astype(str), strict=True)
    return pd.Series([p in archived for p in pairs], index=items.index, dtype=bool)


def _as_of(as_of: pd.Timestamp | None) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp.now(tz="UTC")
    return as_of.tz_convert("UTC") if as_of.tzinfo else as_of.tz_localize("UTC")


def load_dataset(store: Store, settings: Settings, as_of: pd.Timestamp | None = None) -> Dataset:
    """Read every frame the metrics need, as the store knew them at `as_of` (default now)."""
    when = _as_of(as_of)
    cutoff = when.to_pydatetime()
    gone = func.coalesce(I.c.deleted_at, I.c.access_lost_at, I.c.out_of_scope_at)
    items = _frame(
        store,
        select(
            S.c.name.label("source"),
            I.c.item_id,
            I.c.key,
            func.coalesce(I.c.project_key, "").label("project"),
            func.coalesce(I.c.project_key, "").label("team"),
            func.coalesce(I.c.type, "").label("type"),
            I.c.is_subtask,
            I.c.title,
            func.coalesce(I.c.status, "").label("status"),
            I.c.created,
            I.c.estimate,
            I.c.parent_key,
            func.coalesce(I.c.target_date, I.c.due).label("due"),
            gone.label("deleted_at"),
            func.coalesce(I.c.url, "").label("url"),
        )
        .join(S, S.c.id == I.c.source_id)
        .where(I.c.created <= cutoff),
        ITEMS,
    )
    items["team"] = [
        _team(settings, source, project)
        for source, project in zip(items["source"], items["project"], strict=True)
    ]
    items.loc[items["deleted_at"] > when, "deleted_at"] = pd.NaT
    items["archived"] = _archived(store, items)

    def history(table: schema.Table, columns: list[object], spec: FrameSpec) -> pd.DataFrame:
        return _frame(
            store,
            select(S.c.name.label("source"), table.c.item_id, table.c.at, *columns)
            .join(S, S.c.id == table.c.source_id)
            .order_by(
                table.c.source_id, table.c.item_id, table.c.at, table.c.change_id, table.c.seq
            ),
            spec,
        )

    st = schema.statuses
    tr = schema.transitions

    def current_name(status_id: Any) -> Any:
        """The status's name today, by its id (statuses and lists can be renamed)."""
        return (
            select(st.c.name)
            .where(and_(st.c.source_id == tr.c.source_id, st.c.status_id == status_id))
            .scalar_subquery()
        )

    current_from = current_name(tr.c.from_status_id)
    current_to = current_name(tr.c.to_status_id)
    # Statuses and lists can be renamed: map each change to the status's current name.
    transitions = history(
        schema.transitions,
        [
            func.coalesce(current_from, schema.transitions.c.from_status).label("from_status"),
            func.coalesce(current_to, schema.transitions.c.to_status, "").label("to_status"),
        ],
        TRANSITIONS,
    )
    changes = history(
        schema.changes,
        [schema.changes.c.field, schema.changes.c.from_value, schema.changes.c.to_value],
        CHANGES,
    )
    sp = schema.sprints
    sprints = _frame(
        store,
        select(
            S.c.name.label("source"),
            sp.c.sprint_id,
            func.coalesce(sp.c.board_id, "").label("board_id"),
            sp.c.name,
            sp.c.state,
            sp.c.start_at.label("start"),
            sp.c.end_at.label("end"),
            sp.c.complete_at.label("complete"),
        ).join(S, S.c.id == sp.c.source_id),
        SPRINTS,
    )
    b = schema.boards
    boards = _frame(
        store,
        select(
            S.c.name.label("source"),
            b.c.board_id,
            b.c.name,
            b.c.type,
            func.coalesce(b.c.project_key, b.c.name).label("team"),
        ).join(S, S.c.id == b.c.source_id),
        BOARDS,
    )
    boards["team"] = [
        _team(settings, s, p) for s, p in zip(boards["source"], boards["team"], strict=True)
    ]
    v = schema.versions
    versions = _frame(
        store,
        select(
            S.c.name.label("source"),
            v.c.version_id,
            func.coalesce(v.c.project_key, "").label("project"),
            v.c.name,
            v.c.released,
            v.c.release_date,
        ).join(S, S.c.id == v.c.source_id),
        VERSIONS,
    )

    def membership(table: schema.Table, column: str, spec: FrameSpec) -> pd.DataFrame:
        return _frame(
            store,
            select(S.c.name.label("source"), table.c.item_id, table.c[column]).join(
                S, S.c.id == table.c.source_id
            ),
            spec,
        )

    lk = schema.links
    links = _frame(
        store,
        select(
            S.c.name.label("source"), lk.c.item_id, lk.c.link_type, lk.c.direction, lk.c.other_key
        )
        .join(S, S.c.id == lk.c.source_id)
        .where(lk.c.other_key.is_not(None)),
        LINKS,
    )
    runs = schema.sync_runs
    sync_runs = _frame(
        store,
        select(
            S.c.name.label("source"),
            runs.c.finished_at,
            (runs.c.status == "ok").label("succeeded"),
        )
        .join(S, S.c.id == runs.c.source_id)
        .where(runs.c.finished_at.is_not(None), runs.c.finished_at <= cutoff, runs.c.job == "sync"),
        SYNC_RUNS,
    )
    with store.engine.connect() as conn:
        result = conn.execute(
            select(
                S.c.name.label("source"), st.c.name, st.c.category, st.c.board_id, st.c.position
            ).join(S, S.c.id == st.c.source_id)
        )
        statuses = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    inputs = MetricsInputs(
        items=items,
        transitions=transitions,
        changes=changes,
        sprints=sprints,
        item_sprints=membership(schema.item_sprints, "sprint_id", ITEM_SPRINTS),
        boards=boards,
        versions=versions,
        item_versions=membership(schema.item_versions, "version_id", ITEM_VERSIONS),
        links=links,
        sync_runs=sync_runs,
    )
    config = MetricsConfig(
        workflows=build_workflows(settings, statuses, boards),
        tz=settings.report.timezone,
        sync_intervals={s.name: settings.sync_interval(s) for s in settings.sources},
        deleted_since=when - pd.Timedelta(timedelta(days=7)),
    )
    return Dataset(inputs=inputs, config=config, as_of=when, statuses=statuses)


def _team(settings: Settings, source: str, group: str) -> str:
    for configured in settings.sources:
        if configured.name == source:
            return configured.team_for(group)
    return group
