"""Two Jira sites in one store (a company mid-migration from Data Center to Cloud): both number
sprints and boards from 1, and every figure must still come from the right site."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import update

from pulse.cli.main import cli
from pulse.connectors.runner import sync_source
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics.pipeline import compute_all
from pulse.reports.workbook import write_weekly
from pulse.settings import Settings
from pulse.store import open_store, schema
from tests.connectors.jira_world import JiraWorld, jira_world
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
        report = compute_all(dataset.inputs, dataset.config, dataset.as_of).sprint_report
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
        ask_which_source(tmp_path, worlds, as_of)


NO_TOKEN: dict[str, str | None] = {"PULSE_TEST_TOKEN": None}  # questions need no credentials


def ask_which_source(tmp_path: Path, worlds: dict[str, JiraWorld], as_of: pd.Timestamp) -> None:
    """`show` and `forecast` of a key both sites have name both and take --source."""
    config = tmp_path / "pulse.toml"
    lines = [f'[store]\nurl = "sqlite:///{tmp_path / "p.db"}"']
    for name, world in worlds.items():
        lines.append(
            f'[[sources]]\nname = "{name}"\nkind = "jira"\nurl = "{world.source.url}"\n'
            'auth = "bearer"\ntoken = "${PULSE_TEST_TOKEN}"\n'
            f"projects = {json.dumps(world.source.projects)}"
        )
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dc, cloud = worlds.values()

    def keys(world: JiraWorld, epics: bool) -> set[str]:
        return {i.key for i in world.emu.truth.issues.values() if (i.type == "Epic") == epics}

    day = as_of.strftime("%Y-%m-%d")
    for command, key in (
        ("show", sorted(keys(dc, False) & keys(cloud, False))[0]),
        ("forecast", sorted(keys(dc, True) & keys(cloud, True))[0]),
    ):
        asked = CliRunner().invoke(
            cli, [command, key, "--as-of", day, "--config", str(config)], env=NO_TOKEN
        )
        assert asked.exit_code == 2
        assert asked.stderr == (
            f"pulse: error: {key} is in {dc.source.name} and {cloud.source.name}; "
            "say which with --source\n"
        )
        args = [command, key, "--source", cloud.source.name, "--format", "json"]
        answered = CliRunner().invoke(
            cli, [*args, "--as-of", day, "--config", str(config)], env=NO_TOKEN
        )
        assert answered.exit_code == 0, answered.stderr
        assert json.loads(answered.stdout)["source"] == cloud.source.name
    project = sorted(set(dc.source.projects) & set(cloud.source.projects))[0]
    for args in (["--project", project], ["--epic", sorted(keys(dc, True) & keys(cloud, True))[0]]):
        asked = CliRunner().invoke(
            cli, ["risk", *args, "--as-of", day, "--config", str(config)], env=NO_TOKEN
        )
        assert asked.exit_code == 2
        assert asked.stderr.endswith("; say which with --source\n"), asked.stderr
        assert dc.source.name in asked.stderr and cloud.source.name in asked.stderr
        narrowed = ["risk", *args, "--source", dc.source.name, "--format", "json"]
        answered = CliRunner().invoke(
            cli, [*narrowed, "--as-of", day, "--config", str(config)], env=NO_TOKEN
        )
        assert answered.exit_code == 0, answered.stderr


def test_a_board_estimating_by_issue_count_reports_velocity_in_issues(tmp_path: Path) -> None:
    """METRICS §3: the board's estimation field decides the statistic, not the data."""
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    with jira_world("cloud", seed=21, issues=500, projects=2) as world:
        assert sync_source(world.source, store).ok
        settings = Settings.model_validate({"sources": [world.source.model_dump()]})
        as_of = pd.Timestamp(world.emu.clock.now())

        def statistics() -> dict[str, str]:
            inputs = load_dataset(store, settings, as_of)
            velocity = compute_all(inputs.inputs, inputs.config, inputs.as_of).velocity
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
