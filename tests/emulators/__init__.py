"""Tests of the built-in Jira and Trello emulators."""
