"""The `pulse` command as a user runs it: one-line errors, exit codes, help with examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pulse.cli.main import COMMANDS, cli

PULSE = [sys.executable, "-m", "pulse.cli"]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PULSE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "pulse.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "pulse.db"}"\n\n'
        f'[[sources]]\nname = "acme"\nkind = "jira"\nurl = "{url}"\nuser = "pm@acme.test"\n'
        f'token = "${{PULSE_TEST_TOKEN}}"\nprojects = ["WEB"]\n'
        f'max_retry_time = "1s"\ntimeout = "2s"\n{extra}',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_examples(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    if command != "demo":
        assert "Examples:" in result.output


def test_a_question_does_not_import_the_sync_machinery() -> None:
    """Commands load lazily: `pulse risk` must not pay for requests, jira or APScheduler."""
    probe = (
        "import sys; from cli.main import cli; cli.get_command(None, 'risk'); "
        "import reports.queries.risk; "
        "print(sorted(m for m in ('pulse.connectors.runner', 'requests', 'jira', 'apscheduler', "
        "'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_missing_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("sync", "--config", str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "config file not found" in result.stderr


def test_dead_server_gives_one_line_nonzero_exit_and_no_data(tmp_path: Path) -> None:
    path = config(tmp_path, "http://127.0.0.1:9")
    env = {"PULSE_TEST_TOKEN": "x", "PATH": "/usr/bin:/bin"}
    result = run("sync", "--config", str(path), "--no-progress", env=env)
    assert result.returncode == 1
    *retrying, last = result.stderr.strip().splitlines()
    # Said at once while it retries (with the reason), then given up on in one line.
    assert retrying and "127.0.0.1:9: cannot connect (connection refused); retrying" in retrying[0]
    assert last == "acme: failed: cannot reach http://127.0.0.1:9 (connection refused)"
    status = run("status", "--config", str(path), "--format", "json", env=env)
    assert json.loads(status.stdout)["sources"][0]["items"] == 0
    assert "cannot reach" in status.stdout


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    path = config(tmp_path, "http://127.0.0.1:9")
    result = run("sync", "--config", str(path), "--source", "nope", env={"PULSE_TEST_TOKEN": "x"})
    assert result.returncode == 2
    assert "unknown source 'nope' (known: acme)" in result.stderr
