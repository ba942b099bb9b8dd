"""Jira Cloud and Data Center connector, built on the `jira` library."""

from pulse.connectors.jira.sync import sync_jira

__all__ = ["sync_jira"]
