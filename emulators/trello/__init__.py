"""Trello emulator: deterministic boards with six months of history, ground truth, and the
Trello REST API (as py-trello uses it) served over loopback HTTP."""

from .config import TrelloSpec
from .emulator import TrelloEmulator, TrelloFaultPlan
from .truth import (
    BoardMove,
    BoardTruth,
    CardTruth,
    ClosedChange,
    DeletedCard,
    ListMove,
    ListTruth,
    MovedOut,
    Truth,
)

__all__ = [
    "BoardMove",
    "BoardTruth",
    "CardTruth",
    "ClosedChange",
    "DeletedCard",
    "ListMove",
    "ListTruth",
    "MovedOut",
    "TrelloEmulator",
    "TrelloFaultPlan",
    "TrelloSpec",
    "Truth",
]
