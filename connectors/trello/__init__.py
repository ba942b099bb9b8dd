"""Trello connector, built on py-trello: boards, cards, their history and roadmap roll-up."""

from __future__ import annotations

from connectors.base import Connector
from connectors.registry import Registration
from connectors.trello.config import TrelloSource


def _load() -> Connector[TrelloSource]:
    from connectors.trello.sync import TrelloConnector  # py-trello loads only to sync

    return TrelloConnector()


REGISTRATION = Registration(kind="trello", settings=TrelloSource, load=_load)
