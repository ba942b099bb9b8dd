"""`pulse`: sync Jira and Trello into the store, report on it, and answer delivery questions.

Each command lives in its own module, imported only when that command runs (or when help
lists them), so `pulse risk` never pays for the sync machinery's imports.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from pulse.cli.common import EXIT_FAILED, describe_failure, fail

# command name -> "module:attribute"; one line per command
COMMANDS = {
    "demo": "pulse.cli.demo_commands:demo",
    "emulate": "pulse.cli.demo_commands:emulate",
    "export": "pulse.cli.export_command:export",
    "forecast": "pulse.cli.query_commands:forecast_command",
    "report": "pulse.cli.report_commands:report",
    "risk": "pulse.cli.query_commands:risk_command",
    "serve": "pulse.cli.serve_command:serve",
    "show": "pulse.cli.query_commands:show_command",
    "status": "pulse.cli.status_command:status",
    "sync": "pulse.cli.sync_command:sync",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented lazy pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much to log on stderr.",
)
@click.option(
    "--config",
    "-c",
    "config",
    default=None,
    metavar="FILE",
    help="Configuration file for the command (like its own --config; or set PULSE_CONFIG).",
)
def cli(log_level: str, config: str | None) -> None:
    """Pulse tells a product organisation the truth about delivery.

    \b
    Examples:
      pulse sync                      sync every configured source
      pulse status --format json      freshness and counts per source
      pulse --config team.toml risk   any command, with another configuration
      pulse risk --min-severity high  what is off track, and why
      pulse export items --format csv --out items.csv
    """
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The jira library logs request headers (credentials) at DEBUG: never let it.
    for noisy in ("jira", "urllib3", "requests_oauthlib", "oauthlib"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger().level))
    if config is not None:
        # every command's --config reads PULSE_CONFIG when not given: the global form feeds it
        os.environ["PULSE_CONFIG"] = config


def main() -> None:
    """Console entry point: an error no command turned into one line becomes one here."""
    try:
        code = cli.main(prog_name="pulse", standalone_mode=False)
    except click.ClickException as exc:  # a usage error: click's message, on one line
        fail(usage_line(exc), exc.exit_code)
    except click.Abort:  # Ctrl-C: as click itself ends
        click.echo("Aborted!", err=True)
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        logging.getLogger("pulse").debug("the command failed", exc_info=True)
        fail(describe_failure(exc), EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: click.ClickException) -> str:
    """click's error as one line, pointing at the command's help."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see `{ctx.command_path} --help`)" if ctx is not None else message
