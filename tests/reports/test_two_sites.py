"""Two Jira sites in one store (a company mid-migration from Data Center to Cloud): both number
sprints and boards from 1, and every figure must still come from the right site."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import update

from connectors.runner import sync_source
from reports.dataset import load_dataset
from reports.metrics.pipeline import compute_all
from reports.workbook import write_weekly
from settings import Settings
from store import open_store, schema
from tests.connectors.jira_world import jira_world
from tests.reports.test_sprints_against_truth import CATEGORIES


def test_two_sites_with_the_same_sprint_ids_each_match_their_truth(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    with (
        jira_world("datacenter", seed=21, issues=500, projects=2) as dc,
        jira_world("cloud", seed=22, issues=500, projects=2) as cloud,
    ):
        worlds = {w.source.name: w for w in (dc, cloud)}
        for world in worlds.values():
            assert sync_source(world.source, store).ok
        shared = set(dc.emu.truth.sprints) & set(cloud.emu.truth.sprints)
        assert shared, "both sites number their sprints from 1"
        settings = Settings.model_validate(
            {
                "store": {"url": f"sqlite:///{tmp_path / 'p.db'}"},
                "sources": [w.source.model_dump() for w in worlds.values()],
                "report": {"timezone": "Europe/Berlin"},
            }
        )
        as_of = pd.Timestamp(max(w.emu.clock.now() for w in worlds.values()))
        dataset = load_dataset(store, settings, as_of)
        report = compute_all(dataset.inputs, dataset.config, dataset.as_of)["sprint_report"]
        for name, world in worlds.items():
            started = {s: t for s, t in world.emu.truth.sprints.items() if t.state != "future"}
            for sprint_id, expected in started.items():
                for category in CATEGORIES:
                    got = report.ids(str(sprint_id), category, source=name)
                    assert got == set(getattr(expected, f"{category}_ids")), (name, sprint_id)
                row = report.row(str(sprint_id), source=name)
                assert row["completed"] == pytest.approx(expected.completed), (name, sprint_id)
        with pytest.raises(KeyError, match="name the source"):
            report.row(str(min(shared)))
        written = write_weekly(settings, store, as_of=as_of.to_pydatetime(), out_dir=tmp_path)
        assert written.path.exists()


def test_a_board_estimating_by_issue_count_reports_velocity_in_issues(tmp_path: Path) -> None:
    """METRICS §3: the board's estimation field decides the statistic, not the data."""
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    with jira_world("cloud", seed=21, issues=500, projects=2) as world:
        assert sync_source(world.source, store).ok
        settings = Settings.model_validate({"sources": [world.source.model_dump()]})
        as_of = pd.Timestamp(world.emu.clock.now())

        def statistics() -> dict[str, str]:
            inputs = load_dataset(store, settings, as_of)
            velocity = compute_all(inputs.inputs, inputs.config, inputs.as_of)["velocity"]
            return dict(zip(velocity["board_id"], velocity["statistic"], strict=True))

        scrum = statistics()
        assert scrum and set(scrum.values()) == {"estimate"}
        counted = sorted(scrum)[0]
        with store.transaction() as conn:  # as the sync stores a board set to "Issue count"
            conn.execute(
                update(schema.boards)
                .where(schema.boards.c.board_id == counted)
                .values(estimation_field="")
            )
        assert statistics() == {**scrum, counted: "count"}
