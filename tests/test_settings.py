"""Configuration: the example file loads, secrets come from the environment, errors point home."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulse.settings import ConfigError, JiraSource, load_settings, parse_duration

ROOT = Path(__file__).resolve().parents[1]
ENV = {"JIRA_TOKEN": "t0ken", "TRELLO_KEY": "k", "TRELLO_TOKEN": "t"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pulse.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_every_documented_key() -> None:
    settings = load_settings(ROOT / "config.example.toml", ENV)
    source = settings.sources[0]
    assert isinstance(source, JiraSource)
    assert source.token.get_secret_value() == "t0ken"
    assert source.projects == ["WEB", "MOB"]
    assert source.workflow.committed == "In Progress"
    assert source.fields.story_points == "customfield_10016"
    assert settings.report.timezone == "Europe/Berlin"
    assert settings.store.url == "sqlite:///pulse.db"
    assert source.team_for("WEB") == "Web"


def test_secret_is_never_shown_in_repr() -> None:
    settings = load_settings(ROOT / "config.example.toml", ENV)
    assert "t0ken" not in repr(settings)


def test_missing_environment_variable_names_key_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nname = "j"\nkind = "jira"\nurl = "https://x.test"\nuser = "u"\n'
        'token = "${NOPE_TOKEN}"\nprojects = ["WEB"]\n',
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert (
        str(err.value) == f"{path}:6: sources[0].token: environment variable NOPE_TOKEN is not set"
    )


def test_reading_the_store_needs_no_secrets_but_other_references_still_must_resolve(
    tmp_path: Path,
) -> None:
    """Questions and reports never call Jira: they load with secrets=False."""
    text = (
        '[store]\nurl = "sqlite:///${PULSE_DIR}/pulse.db"\n'
        '[[sources]]\nname = "j"\nkind = "jira"\nurl = "https://x.test"\nuser = "u"\n'
        'token = "${NOPE_TOKEN}"\nprojects = ["WEB"]\n'
    )
    path = write(tmp_path, text)
    settings = load_settings(path, {"PULSE_DIR": "/srv"}, secrets=False)
    assert settings.store.url == "sqlite:////srv/pulse.db"
    assert settings.sources[0].token.get_secret_value() == ""  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="environment variable PULSE_DIR is not set"):
        load_settings(path, {}, secrets=False)
    with pytest.raises(ConfigError, match="environment variable NOPE_TOKEN is not set"):
        load_settings(path, {"PULSE_DIR": "/srv"})


def test_literal_secret_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nname = "j"\nkind = "jira"\nurl = "https://x.test"\nuser = "u"\n'
        'token = "hunter2"\nprojects = ["WEB"]\n',
    )
    with pytest.raises(
        ConfigError, match=r":6: sources\[0\]\.token: secrets must be an environment"
    ):
        load_settings(path, {})


def test_validation_error_points_at_the_second_source_subtable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nname = "a"\nkind = "jira"\nurl = "https://x.test"\nuser = "u"\n'
        'token = "${T}"\nprojects = ["WEB"]\n\n[[sources]]\nname = "b"\nkind = "jira"\nurl = "https://y.test"\n'
        'user = "u"\ntoken = "${T}"\nprojects = ["MOB"]\n[sources.workflow]\n'
        'columns = [{ name = "A" }]\ncommitted = "Nope"\n',
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path, {"T": "x"})
    message = str(err.value)
    assert message.startswith(f"{path}:16: sources[1].workflow")
    assert "'Nope' is not one of the columns" in message


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[store]\nurl = "mysql://x"\n', "store.url: store url must start with"),
        (
            '[report]\ntimezone = "Mars/Olympus"\n',
            "report.timezone: unknown time zone 'Mars/Olympus'",
        ),
        ('[report]\ncolour = "red"\n', "report.colour: unknown key"),
        (
            '[[sources]]\nname = "x"\nkind = "asana"\n',
            'sources[0].kind: kind must be "jira" or "trello", not "asana"',
        ),
    ],
)
def test_bad_values_give_one_line_naming_the_key(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, snippet), {})
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_project_keys_are_validated_before_reaching_jql(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nname = "j"\nkind = "jira"\nurl = "https://x.test"\nuser = "u"\n'
        'token = "${T}"\nprojects = ["WEB\\" OR project = \\"SECRET"]\n',
    )
    with pytest.raises(ConfigError, match="is not a Jira project key"):
        load_settings(path, {"T": "x"})


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml", {})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[store\n"), {})


def test_durations() -> None:
    assert parse_duration("15m").total_seconds() == 900
    assert parse_duration("1.5h").total_seconds() == 5400
    with pytest.raises(ValueError):
        parse_duration("soon")
