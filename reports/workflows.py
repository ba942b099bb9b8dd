"""Workflows from configuration, or by default from what the source says about its statuses.

Jira: status category `new` → Backlog, `indeterminate` → In Progress, `done` → Done (METRICS.md
§1). Trello: lists in board order, the first is the backlog, lists named like done/shipped/
complete are Done, the rest are work. A configured `[sources.workflow]` always wins.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pandas as pd

from pulse.reports.metrics.workflow import Column, Workflow, WorkflowMap
from pulse.settings import JiraSource, Settings, TrelloSource, WorkflowSettings

DONE_LIST = re.compile(r"\b(done|shipped|complete[d]?|released|live|closed)\b", re.IGNORECASE)


def _configured(workflow: WorkflowSettings) -> Workflow:
    names = [c.name for c in workflow.columns]
    committed = workflow.committed or (names[1] if len(names) > 1 else names[0])
    return Workflow(
        columns=[Column(c.name, list(c.statuses)) for c in workflow.columns],
        committed=committed,
        done=workflow.done or names[-1],
    )


def _by_category(statuses: pd.DataFrame) -> Workflow:
    groups: dict[str, list[str]] = defaultdict(list)
    for row in statuses.itertuples():
        groups[str(row.category or "indeterminate")].append(str(row.name))
    return Workflow(
        columns=[
            Column("Backlog", sorted(set(groups["new"]))),
            Column("In Progress", sorted(set(groups["indeterminate"]))),
            Column("Done", sorted(set(groups["done"]))),
        ],
        committed="In Progress",
        done="Done",
    )


def _by_list_order(lists: pd.DataFrame) -> Workflow:
    names = [str(n) for n in lists.sort_values("position")["name"]]
    done = [n for n in names if DONE_LIST.search(n)]
    work = [n for n in names if n not in done]
    backlog, doing = work[:1], work[1:]
    return Workflow(
        columns=[Column("Backlog", backlog), Column("In Progress", doing), Column("Done", done)],
        committed="In Progress",
        done="Done",
    )


def build_workflows(
    settings: Settings, statuses: pd.DataFrame, boards: pd.DataFrame
) -> WorkflowMap:
    """One workflow per Jira source, one per Trello board (lists differ by board).

    `statuses` has columns source, name, category, board_id, position; `boards` has source,
    board_id, name.
    """
    defaults: dict[str, Workflow] = {}
    projects: dict[tuple[str, str], Workflow] = {}
    for source in settings.sources:
        mine = statuses[statuses["source"] == source.name]
        if source.workflow.columns:
            defaults[source.name] = _configured(source.workflow)
        elif isinstance(source, JiraSource):
            defaults[source.name] = _by_category(mine)
        elif isinstance(source, TrelloSource):
            for board in boards[boards["source"] == source.name].itertuples():
                lists = mine[mine["board_id"] == board.board_id]
                if len(lists):
                    projects[(source.name, str(board.name))] = _by_list_order(lists)
    return WorkflowMap(defaults=defaults, projects=projects)
