"""Workflow stages: ordered columns, the committed and done columns, status -> column lookup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Column:
    """One workflow column and the statuses (Jira) or list names (Trello) that map to it."""

    name: str
    statuses: list[str]


@dataclass(frozen=True)
class Workflow:
    """Ordered columns plus the committed column (cycle time starts) and done column."""

    columns: list[Column]
    committed: str
    done: str

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names in workflow: {names}")
        for special in (self.committed, self.done):
            if special not in names:
                raise ValueError(f"column {special!r} is not in the workflow {names}")
        if names.index(self.committed) > names.index(self.done):
            raise ValueError("the committed column must not come after the done column")
        seen: dict[str, str] = {}
        for col in self.columns:
            for status in col.statuses:
                folded = status.strip().casefold()
                if folded in seen and seen[folded] != col.name:
                    raise ValueError(
                        f"status {status!r} maps to both {seen[folded]!r} and {col.name!r}"
                    )
                seen[folded] = col.name

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    @property
    def committed_index(self) -> int:
        """Position of the committed column."""
        return self.names.index(self.committed)

    @property
    def done_index(self) -> int:
        """Position of the done column."""
        return self.names.index(self.done)

    def status_positions(self) -> dict[str, int]:
        """Case-folded status name -> column position (statuses match case-insensitively)."""
        return {s.strip().casefold(): i for i, col in enumerate(self.columns) for s in col.statuses}

    def position_of(self, status: str | None) -> int:
        """Column position of one status, -1 when it maps to no column."""
        if status is None or (isinstance(status, float) and np.isnan(status)):
            return -1
        return self.status_positions().get(str(status).strip().casefold(), -1)


@dataclass(frozen=True)
class WorkflowMap:
    """Workflows per (source, project) with a per-source default and an optional global fallback."""

    defaults: Mapping[str, Workflow] = field(default_factory=dict)
    projects: Mapping[tuple[str, str], Workflow] = field(default_factory=dict)
    fallback: Workflow | None = None

    def key_for(self, source: str, project: str) -> str | None:
        """Stable name of the workflow an item of (source, project) uses, None when none applies."""
        if (source, project) in self.projects:
            return f"{source}:{project}"
        if source in self.defaults:
            return f"{source}:*"
        if self.fallback is not None:
            return "*"
        return None

    def by_key(self) -> dict[str, Workflow]:
        """Every workflow by its stable name."""
        out: dict[str, Workflow] = {f"{s}:{p}": w for (s, p), w in self.projects.items()}
        out.update({f"{s}:*": w for s, w in self.defaults.items()})
        if self.fallback is not None:
            out["*"] = self.fallback
        return out


WorkflowsLike = Workflow | WorkflowMap


def as_workflow_map(workflows: WorkflowsLike) -> WorkflowMap:
    """Accept one Workflow (applies to everything) or a WorkflowMap."""
    if isinstance(workflows, Workflow):
        return WorkflowMap(fallback=workflows)
    if isinstance(workflows, WorkflowMap):
        return workflows
    raise TypeError(f"expected Workflow or WorkflowMap, got {type(workflows).__name__}")


def assign_workflows(items: pd.DataFrame, workflows: WorkflowsLike) -> pd.Series:
    """Workflow name per item row (NA when no workflow applies to its source/project)."""
    wmap = as_workflow_map(workflows)
    if len(items) == 0:
        return pd.Series([], index=items.index, dtype=object)
    pairs = items[["source", "project"]].astype(object)
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(pairs))
    keys = np.array([wmap.key_for(str(s), str(p)) for s, p in uniques], dtype=object)
    out = keys[codes] if len(codes) else np.empty(0, dtype=object)
    return pd.Series(out, index=items.index, dtype=object)


def position_table(
    workflow_keys: list[str], workflows: Mapping[str, Workflow], statuses: pd.Index
) -> np.ndarray:
    """Matrix [workflow, status] -> column position (-1 = unmapped) for factorised statuses."""
    folded = [str(s).strip().casefold() for s in statuses]
    table = np.full((len(workflow_keys), len(statuses)), -1, dtype=np.int16)
    for w, key in enumerate(workflow_keys):
        lookup = workflows[key].status_positions()
        table[w] = [lookup.get(s, -1) for s in folded]
    return table
