"""Workflow definitions and the status -> column lookup."""

from __future__ import annotations

import pytest

from pulse.reports.metrics.workflow import Column, Workflow, WorkflowMap, as_workflow_map

from .factories import WF


def test_positions_and_special_columns():
    assert WF.committed_index == 2
    assert WF.done_index == 4
    assert WF.position_of("closed") == 4  # case-insensitive, several statuses per column
    assert WF.position_of("Nope") == -1
    assert WF.position_of(None) == -1


def test_committed_after_done_is_refused():
    with pytest.raises(ValueError, match="committed"):
        Workflow([Column("A", ["a"]), Column("B", ["b"])], committed="B", done="A")


def test_status_in_two_columns_is_refused():
    with pytest.raises(ValueError, match="maps to both"):
        Workflow([Column("A", ["x"]), Column("B", ["X"])], committed="A", done="B")


def test_unknown_special_column_is_refused():
    with pytest.raises(ValueError, match="not in the workflow"):
        Workflow([Column("A", ["a"])], committed="Z", done="A")


def test_workflow_map_resolution():
    other = Workflow([Column("Open", ["Open"]), Column("Closed", ["Closed"])], "Open", "Closed")
    wmap = WorkflowMap(defaults={"jira": WF}, projects={("jira", "OPS"): other})
    assert wmap.key_for("jira", "OPS") == "jira:OPS"
    assert wmap.key_for("jira", "WEB") == "jira:*"
    assert wmap.key_for("trello", "b1") is None
    assert as_workflow_map(WF).key_for("trello", "b1") == "*"
    assert set(wmap.by_key()) == {"jira:OPS", "jira:*"}
