"""The user's steps of the Jira sync issue, through the real `pulse` command and real HTTP."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.connectors.jira_world import jira_world


def pulse(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulse.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=180,
        check=False,
    )


def test_sync_status_and_export(tmp_path: Path) -> None:
    with jira_world("cloud", seed=4, issues=250, projects=2) as world:
        user, token = world.emu.credentials
        config = tmp_path / "pulse.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "pulse.db"}"\n\n[[sources]]\n'
            f'name = "acme"\nkind = "jira"\nurl = "{world.server.url}"\nuser = "{user}"\n'
            f'token = "${{ACME_TOKEN}}"\nprojects = {json.dumps(world.source.projects)}\n',
            encoding="utf-8",
        )
        env = {"ACME_TOKEN": token}
        first = pulse("sync", "--config", str(config), env=env)
        assert first.returncode == 0, first.stderr
        live = len(world.emu.truth.visible_ids)
        assert f"acme: {live} new, 0 updated" in first.stdout
        assert "analysis for today stored" in first.stdout  # so questions answer at once
        again = pulse("sync", "--config", str(config), env=env)
        assert "acme: 0 new, 0 updated, 0 deleted, 0 moved, 0 transitions" in again.stdout
        assert stat.S_IMODE((tmp_path / "pulse.db").stat().st_mode) == 0o600

        document = json.loads(
            pulse("status", "--config", str(config), "--format", "json", env=env).stdout
        )
        status = document["sources"]
        jobs = {job["job"]: job for job in document["schedule"]}
        assert jobs["sync:acme"]["last_status"] == "ok"
        assert jobs["sync:acme"]["next_run"]
        assert [run["status"] for run in document["recent_runs"][:2]] == ["ok", "ok"]
        table = pulse("status", "--config", str(config), env=env).stdout
        assert "Schedule" in table and "Recent runs" in table
        assert status[0]["source"] == "acme"
        assert status[0]["deployment"] == "cloud"
        assert status[0]["items"] == live
        assert status[0]["last_error"] is None
        assert status[0]["fields"]["story_points"]["id"] == "customfield_10016"
        assert status[0]["fields"]["sprint"]["how"] == "discovered"
        assert token not in json.dumps(document) + table

        out = tmp_path / "out" / "items.csv"
        done = pulse(
            "export",
            "items",
            "--config",
            str(config),
            "--format",
            "csv",
            "--out",
            str(out),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        with out.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == live
        assert {"source", "key", "title", "status", "created"} <= set(rows[0])
        transitions = json.loads(
            pulse(
                "export", "transitions", "--config", str(config), "--format", "json", env=env
            ).stdout
        )
        expected = sum(len(i.transitions) for i in world.emu.truth.issues.values())
        assert len(transitions) == expected
        assert not list(out.parent.glob(".items.csv.*")), "no temporary file is left behind"
