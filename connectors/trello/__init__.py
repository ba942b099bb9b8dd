"""Trello connector, built on py-trello: boards, cards, their history and roadmap roll-up."""

from pulse.connectors.trello.sync import sync_trello

__all__ = ["sync_trello"]
