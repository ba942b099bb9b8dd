"""Jira Cloud / Data Center emulator: deterministic organisation, real HTTP, known truth.

emu = JiraEmulator(spec=OrgSpec(seed=7, issues=600), flavour="cloud")
with emu.serve() as server:
    ...  # server.url is the Jira site root; emu.credentials authenticates
"""

from emulators.jira.app import Limits
from emulators.jira.catalog import Flavour
from emulators.jira.emulator import JiraEmulator
from emulators.jira.mutations import MutationError
from emulators.jira.org import RISKS, OrgSpec
from emulators.jira.timefmt import Clock
from emulators.jira.truth import FieldChange, IssueTruth, SprintTruth, StatusTransition, Truth

__all__ = [
    "RISKS",
    "Clock",
    "FieldChange",
    "Flavour",
    "IssueTruth",
    "JiraEmulator",
    "Limits",
    "MutationError",
    "OrgSpec",
    "SprintTruth",
    "StatusTransition",
    "Truth",
]
