"""Jira Cloud and Data Center connector, built on the `jira` library."""

from __future__ import annotations

from connectors.base import Connector
from connectors.jira.config import JiraSource
from connectors.registry import Registration


def _load() -> Connector[JiraSource]:
    from connectors.jira.sync import JiraConnector  # the jira library loads only to sync

    return JiraConnector()


REGISTRATION = Registration(kind="jira", settings=JiraSource, load=_load)
