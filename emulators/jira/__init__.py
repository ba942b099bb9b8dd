"""Jira Cloud / Data Center emulator: deterministic organisation, real HTTP, known truth.

emu = JiraEmulator(spec=OrgSpec(seed=7, issues=600), flavour="cloud")
with emu.serve() as server:
    ...  # server.url is the Jira site root; emu.credentials authenticates
"""

from pulse.emulators.jira.app import Limits
from pulse.emulators.jira.catalog import Flavour
from pulse.emulators.jira.emulator import JiraEmulator
from pulse.emulators.jira.mutations import MutationError
from pulse.emulators.jira.org import RISKS, OrgSpec
from pulse.emulators.jira.timefmt import Clock
from pulse.emulators.jira.truth import FieldChange, IssueTruth, SprintTruth, StatusTransition, Truth

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
