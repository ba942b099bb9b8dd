"""A past as-of sees the past: later moves neither complete nor start an item early."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd

from pulse.connectors.runner import sync_source
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics.column_dates import column_dates
from pulse.settings import Settings
from pulse.store import open_store
from tests.connectors.jira_world import jira_world


def test_status_at_a_past_as_of_comes_from_history_not_the_current_status(tmp_path: Path) -> None:
    with jira_world("cloud", seed=12, issues=300, projects=2) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(world.source, store).ok
        settings = Settings.model_validate({"sources": [world.source.model_dump()]})
        as_of = pd.Timestamp(world.emu.clock.now() - timedelta(days=45))
        data = load_dataset(store, settings, as_of)
        dates = column_dates(
            data.inputs.items, data.inputs.transitions, data.config.workflows, as_of, "UTC"
        )
        rows = dates.items.set_index("item_id")
        done_statuses = set(data.statuses.loc[data.statuses["category"] == "done", "name"])
        checked = 0
        for issue in world.emu.truth.issues.values():
            if issue.created > as_of.to_pydatetime() or issue.id not in rows.index:
                continue
            before = [t for t in issue.transitions if t.at <= as_of.to_pydatetime()]
            expected = before[-1].to_status if before else issue.initial.get("status", issue.status)
            if before or not issue.transitions:
                assert rows.loc[issue.id, "status_at"] == expected, issue.key
                checked += 1
            if not before:
                continue
            if not any(t.to_status in done_statuses for t in before):
                assert not rows.loc[issue.id, "completed"], (
                    f"{issue.key} counted done before it was"
                )
        assert checked > 50
