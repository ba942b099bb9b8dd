"""Jira Cloud and Data Center connector, built on the `jira` library."""

from __future__ import annotations

from pulse.connectors.base import Connector
from pulse.connectors.jira.config import JiraSource
from pulse.connectors.registry import Registration


def _load() -> Connector[JiraSource]:
    from pulse.connectors.jira.sync import JiraConnector  # the jira library loads only to sync

    return JiraConnector()


REGISTRATION = Registration(kind="jira", settings=JiraSource, load=_load)
