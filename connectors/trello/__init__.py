"""Trello connector, built on py-trello: boards, cards, their history and roadmap roll-up."""

from __future__ import annotations

from pulse.connectors.base import Connector
from pulse.connectors.registry import Registration
from pulse.connectors.trello.config import TrelloSource


def _load() -> Connector[TrelloSource]:
    from pulse.connectors.trello.sync import TrelloConnector  # py-trello loads only to sync

    return TrelloConnector()


REGISTRATION = Registration(kind="trello", settings=TrelloSource, load=_load)
