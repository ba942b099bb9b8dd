"""Connectors: pull Jira issues and Trello cards, with their histories, into the store."""
