"""Static Jira vocabulary: statuses, issue types, link types and the per-flavour custom fields.

Cloud and Data Center give the same concepts different custom-field ids and names on purpose, so
a client that hard-codes ids instead of discovering them from `/field` fails against one flavour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Flavour = Literal["cloud", "datacenter"]
FLAVOURS: tuple[Flavour, ...] = ("cloud", "datacenter")


@dataclass(frozen=True)
class StatusCategory:
    """A Jira status category (`new`, `indeterminate`, `done`)."""

    id: int
    key: str
    name: str
    color: str


CAT_NEW = StatusCategory(2, "new", "To Do", "blue-gray")
CAT_INDETERMINATE = StatusCategory(4, "indeterminate", "In Progress", "yellow")
CAT_DONE = StatusCategory(3, "done", "Done", "green")
CATEGORIES = (CAT_NEW, CAT_INDETERMINATE, CAT_DONE)


@dataclass(frozen=True)
class Status:
    """A workflow status with its category."""

    id: str
    name: str
    category: StatusCategory


TODO = Status("10000", "To Do", CAT_NEW)
IN_PROGRESS = Status("3", "In Progress", CAT_INDETERMINATE)
IN_REVIEW = Status("10001", "In Review", CAT_INDETERMINATE)
DONE = Status("10002", "Done", CAT_DONE)
READY_FOR_QA = Status("10003", "Ready for QA", CAT_INDETERMINATE)
WONT_DO = Status("10004", "Won't Do", CAT_DONE)
STATUSES: dict[str, Status] = {
    s.id: s for s in (TODO, IN_PROGRESS, IN_REVIEW, DONE, READY_FOR_QA, WONT_DO)
}
STATUS_BY_NAME: dict[str, Status] = {s.name.lower(): s for s in STATUSES.values()}

# Transitions are global ("any status to any status"); the id names the target status.
TRANSITION_IDS: dict[str, str] = {
    "11": TODO.id,
    "21": IN_PROGRESS.id,
    "31": IN_REVIEW.id,
    "41": DONE.id,
    "51": READY_FOR_QA.id,
    "61": WONT_DO.id,
}


def is_done(status_id: str) -> bool:
    """True when the status belongs to the `done` category."""
    return STATUSES[status_id].category is CAT_DONE


@dataclass(frozen=True)
class IssueType:
    """An issue type (hierarchy level 1 = epic, 0 = standard, -1 = sub-task)."""

    id: str
    name: str
    subtask: bool
    level: int
    avatar: int


EPIC = IssueType("10000", "Epic", False, 1, 10307)
STORY = IssueType("10001", "Story", False, 0, 10315)
TASK = IssueType("10002", "Task", False, 0, 10318)
SUBTASK = IssueType("10003", "Sub-task", True, -1, 10316)
BUG = IssueType("10004", "Bug", False, 0, 10303)
ISSUE_TYPES: dict[str, IssueType] = {t.id: t for t in (EPIC, STORY, TASK, SUBTASK, BUG)}
TYPE_BY_NAME: dict[str, IssueType] = {t.name.lower(): t for t in ISSUE_TYPES.values()}


@dataclass(frozen=True)
class Resolution:
    """A resolution, set by the workflow when an issue enters a done status."""

    id: str
    name: str
    description: str


RES_DONE = Resolution("10000", "Done", "Work has been completed on this issue.")
RES_WONT = Resolution("10001", "Won't Do", "This issue won't be actioned.")
RESOLUTIONS = {r.id: r for r in (RES_DONE, RES_WONT)}


def resolution_for(status_id: str) -> str | None:
    """The resolution id the workflow sets on entering `status_id` (None outside done)."""
    if status_id == WONT_DO.id:
        return RES_WONT.id
    return RES_DONE.id if is_done(status_id) else None


@dataclass(frozen=True)
class LinkType:
    """An issue link type with its inward/outward phrases."""

    id: str
    name: str
    inward: str
    outward: str


BLOCKS = LinkType("10000", "Blocks", "is blocked by", "blocks")
RELATES = LinkType("10003", "Relates", "relates to", "relates to")
LINK_TYPES = {t.id: t for t in (BLOCKS, RELATES)}

PRIORITIES = {"2": "High", "3": "Medium", "4": "Low"}


@dataclass(frozen=True)
class CustomField:
    """One custom field definition as `/field` lists it."""

    id: str
    name: str
    custom: str  # schema.custom (the field type key)
    type: str  # schema.type
    items: str | None = None
    searchable: bool = True
    orderable: bool = True

    @property
    def custom_id(self) -> int:
        """The numeric id JQL uses in cf[NNNNN]."""
        return int(self.id.rsplit("_", 1)[1])


@dataclass(frozen=True)
class FieldSet:
    """The custom fields one flavour uses for the concepts the emulator models."""

    estimate: CustomField
    sprint: CustomField
    flagged: CustomField
    rank: CustomField
    target_start: CustomField
    target_end: CustomField
    start_date: CustomField | None
    epic_link: CustomField | None  # DC only: Cloud relates epics through `parent`
    epic_name: CustomField | None
    decoys: tuple[CustomField, ...]  # listed in /field but never populated
    flag_option_id: str

    def all(self) -> list[CustomField]:
        """Every custom field of the flavour, in id order."""
        fields = [
            self.estimate,
            self.sprint,
            self.flagged,
            self.rank,
            self.target_start,
            self.target_end,
            *(f for f in (self.start_date, self.epic_link, self.epic_name) if f is not None),
            *self.decoys,
        ]
        return sorted(fields, key=lambda f: f.custom_id)


GH = "com.pyxis.greenhopper.jira:"
SYS = "com.atlassian.jira.plugin.system.customfieldtypes:"
JPO = "com.atlassian.jpo:"

CLOUD_FIELDS = FieldSet(
    estimate=CustomField(
        "customfield_10016", "Story point estimate", GH + "jsw-story-points", "number"
    ),
    sprint=CustomField("customfield_10020", "Sprint", GH + "gh-sprint", "array", "json"),
    flagged=CustomField("customfield_10021", "Flagged", SYS + "multicheckboxes", "array", "option"),
    rank=CustomField("customfield_10019", "Rank", GH + "gh-lexo-rank", "any"),
    target_start=CustomField(
        "customfield_10022", "Target start", JPO + "jpo-custom-field-baseline-start", "date"
    ),
    target_end=CustomField(
        "customfield_10023", "Target end", JPO + "jpo-custom-field-baseline-end", "date"
    ),
    start_date=CustomField("customfield_10015", "Start date", SYS + "datepicker", "date"),
    epic_link=None,
    epic_name=None,
    decoys=(CustomField("customfield_10028", "Story Points", SYS + "float", "number"),),
    flag_option_id="10019",
)

DC_FIELDS = FieldSet(
    estimate=CustomField("customfield_10106", "Story Points", SYS + "float", "number"),
    sprint=CustomField("customfield_10104", "Sprint", GH + "gh-sprint", "array", "string"),
    flagged=CustomField("customfield_10100", "Flagged", SYS + "multicheckboxes", "array", "option"),
    rank=CustomField("customfield_10105", "Rank", GH + "gh-lexo-rank", "any"),
    target_start=CustomField(
        "customfield_10107", "Target start", JPO + "jpo-custom-field-baseline-start", "date"
    ),
    target_end=CustomField(
        "customfield_10108", "Target end", JPO + "jpo-custom-field-baseline-end", "date"
    ),
    start_date=None,
    epic_link=CustomField("customfield_10101", "Epic Link", GH + "gh-epic-link", "any"),
    epic_name=CustomField("customfield_10102", "Epic Name", GH + "gh-epic-label", "string"),
    decoys=(),
    flag_option_id="10000",
)


def field_set(flavour: Flavour) -> FieldSet:
    """The custom-field ids and names used by `flavour`."""
    return CLOUD_FIELDS if flavour == "cloud" else DC_FIELDS


# System fields as `/field` lists them: id, name, schema type, items, system name, orderable.
SYSTEM_FIELDS: tuple[tuple[str, str, str, str | None, bool], ...] = (
    ("summary", "Summary", "string", None, True),
    ("description", "Description", "string", None, True),
    ("issuetype", "Issue Type", "issuetype", None, True),
    ("project", "Project", "project", None, False),
    ("status", "Status", "status", None, False),
    ("resolution", "Resolution", "resolution", None, True),
    ("resolutiondate", "Resolved", "datetime", None, False),
    ("created", "Created", "datetime", None, False),
    ("updated", "Updated", "datetime", None, False),
    ("statuscategorychangedate", "Status Category Changed", "datetime", None, False),
    ("assignee", "Assignee", "user", None, True),
    ("reporter", "Reporter", "user", None, True),
    ("creator", "Creator", "user", None, False),
    ("priority", "Priority", "priority", None, True),
    ("labels", "Labels", "array", "string", True),
    ("duedate", "Due date", "date", None, True),
    ("fixVersions", "Fix versions", "array", "version", True),
    ("parent", "Parent", "issuelink", None, True),
    ("subtasks", "Sub-tasks", "array", "issuelinks", False),
    ("issuelinks", "Linked Issues", "array", "issuelinks", True),
    ("comment", "Comment", "comments-page", None, True),
)
CLAUSE_NAMES = {
    "issuetype": ["issuetype", "type"],
    "resolutiondate": ["resolutiondate", "resolved"],
    "created": ["created", "createdDate"],
    "updated": ["updated", "updatedDate"],
    "fixVersions": ["fixVersion"],
    "duedate": ["due", "duedate"],
    "issuelinks": ["issueLink"],
    "statuscategorychangedate": ["statusCategoryChangedDate"],
}
