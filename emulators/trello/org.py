"""The organisation skeleton: members, boards, lists, labels and custom fields.

Deterministic from the seed. With two or more open boards the first is "Design Roadmap", whose
cards are roadmap items; "Design Delivery" follows, then "Marketing" and further team boards.
Every board has a workflow (to do → doing → review → done) plus a list that gets archived.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from .config import TrelloSpec
from .model import Board, CustomFieldDef, Label, Member, TList, World
from .ops import Ops

DAY_MS = 86_400_000

MEMBER_NAMES = (
    ("Alex Morgan", "alexmorgan"),
    ("Zoë Åberg", "zoeaberg"),
    ("Mateus Araújo", "mateusaraujo"),
    ("Priya Natarajan", "priyanatarajan"),
    ("李雷", "lilei"),
    ("محمد علي", "mohammedali"),
    ("Sam O'Neil", "samoneil"),
    ("Chloé Dubois", "chloedubois"),
    ("Kwame Mensah", "kwamemensah"),
    ("Olga Petrova", "olgapetrova"),
    ("Hiroshi Tanaka", "hiroshitanaka"),
    ("Ana-María López", "anamarialopez"),
)

BOARD_PLAN = (
    ("Design Roadmap", "roadmap"),
    ("Design Delivery", "delivery"),
    ("Marketing", "marketing"),
    ("Platform", "delivery"),
    ("Mobile App", "delivery"),
    ("Growth", "marketing"),
    ("Customer Success", "delivery"),
)

WORKFLOWS = {
    "roadmap": ("Ideas", "Now", "Review", "Shipped", "Parked 2025"),
    "delivery": ("Backlog", "Doing", "Review", "Done", "Sprint 41 (old)"),
    "marketing": ("Ideas", "Doing", "Review", "Shipped 🚀", "Q2 campaigns"),
    "archive": ("To do", "Doing", "Review", "Done", "Old stuff"),
}
ROLES = ("todo", "doing", "review", "done", "parked")

LABELS = (
    ("blocked", "red"),
    ("bug", "red"),
    ("feature", "green"),
    ("tech-debt", "orange"),
    ("customer", "purple"),
    ("🚀 launch", "pink"),
    ("needs design", None),
    ("", "yellow"),
    ("pts:1", "sky"),
    ("pts:2", "sky"),
    ("pts:3", "sky"),
    ("pts:5", "sky"),
    ("pts:8", "sky"),
)
TEAMS = (("Design", "purple"), ("Web", "blue"), ("Growth", "green"), ("Platform", "orange"))


@dataclass
class BoardKit:
    """A board plus handles the history generator needs (workflow lists, labels by name)."""

    board: Board
    workflow: list[TList]
    parked: TList
    labels: dict[str, Label]
    fields: dict[str, CustomFieldDef]
    members: list[str]
    park_ms: int
    card_weight: float = 0.0
    jira_projects: tuple[str, ...] = ()


@dataclass
class Org:
    """The generated organisation skeleton."""

    me: Member
    members: list[Member]
    kits: list[BoardKit] = field(default_factory=list)
    archived: list[BoardKit] = field(default_factory=list)

    def kit(self, role: str) -> BoardKit | None:
        """The first open board kit with a role."""
        return next((kit for kit in self.kits if kit.board.role == role), None)


def _initials(name: str) -> str:
    parts = [part for part in name.replace("-", " ").split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"


def build_members(spec: TrelloSpec, world: World, rng: random.Random, at_ms: int) -> list[Member]:
    """Create `spec.members` members plus the token owner (the first one, 'me')."""
    members = []
    for index in range(max(1, spec.members + 1)):
        if index < len(MEMBER_NAMES):
            full, user = MEMBER_NAMES[index]
        else:
            full, user = f"Member {index}", f"member{index}"
        member = Member(
            id=world.ids.new(at_ms),
            username=user,
            full_name=full,
            initials=_initials(full),
            avatar_hash=hashlib.md5(f"{spec.seed}-{user}".encode()).hexdigest(),
        )
        world.members[member.id] = member
        members.append(member)
    world.me_id = members[0].id
    return members


def build_org(spec: TrelloSpec, world: World, ops: Ops, rng: random.Random) -> Org:
    """Create members and boards (open then archived) with lists, labels and custom fields."""
    now_ms = int(spec.now.timestamp() * 1000)
    start_ms = now_ms - spec.history_days * DAY_MS
    members = build_members(spec, world, rng, start_ms - 60 * DAY_MS)
    world.org_id = world.ids.new(start_ms - 59 * DAY_MS)
    ops.truth.me_id = members[0].id
    org = Org(me=members[0], members=members)

    plan = list(BOARD_PLAN) if spec.boards >= 2 else [BOARD_PLAN[1]]
    while len(plan) < spec.boards:
        plan.append((f"Team Board {len(plan) + 1}", "delivery"))
    plan = plan[: spec.boards]
    for index, (name, role) in enumerate(plan):
        created = start_ms - (30 - index) * DAY_MS
        kit = _build_board(spec, world, ops, rng, org, name, role, created, now_ms)
        org.kits.append(kit)
    for index in range(spec.archived_boards):
        name = "Old Website 2024" if index == 0 else f"Old Website 2024 ({index + 1})"
        created = start_ms - (300 - index) * DAY_MS
        kit = _build_board(spec, world, ops, rng, org, name, "archive", created, created)
        org.archived.append(kit)
    _assign_weights(org)
    return org


def _build_board(
    spec: TrelloSpec,
    world: World,
    ops: Ops,
    rng: random.Random,
    org: Org,
    name: str,
    role: str,
    created: int,
    now_ms: int,
) -> BoardKit:
    creator = org.me.id
    desc = {
        "roadmap": "What we are building this half. Each card's checklist links delivery cards.",
        "delivery": "Day-to-day design delivery. WIP limit 5 in Doing.",
        "marketing": "Campaigns, launches and content.",
    }.get(role, "Archived board, kept for reference.")
    board = ops.create_board(name, role, created, creator, desc)
    for member in org.members:
        if member is org.me or rng.random() < 0.8:
            ops.add_board_member(board, member.id)
    lists = [
        ops.create_list(board, list_name, list_role, created + 60_000 * (i + 1), creator)
        for i, (list_name, list_role) in enumerate(zip(WORKFLOWS[role], ROLES, strict=True))
    ]
    labels = {
        label_name: ops.create_label(board, label_name, color, created + 600_000)
        for label_name, color in LABELS
    }
    fields: dict[str, CustomFieldDef] = {}
    if role != "archive":
        at = created + 700_000
        fields["Points"] = ops.create_custom_field(board, "Points", "number", at)
        fields["Target date"] = ops.create_custom_field(board, "Target date", "date", at)
        fields["Team"] = ops.create_custom_field(board, "Team", "list", at, TEAMS)
        fields["Reviewed"] = ops.create_custom_field(board, "Reviewed", "checkbox", at)
    park_ms = now_ms - rng.randint(30, 60) * DAY_MS
    projects = {
        "roadmap": spec.jira_projects[:1],
        "delivery": spec.jira_projects[:2],
        "marketing": spec.jira_projects[2:3] or spec.jira_projects[:1],
    }.get(role, spec.jira_projects[:1])
    return BoardKit(
        board=board,
        workflow=lists[:4],
        parked=lists[4],
        labels=labels,
        fields=fields,
        members=list(board.member_ids),
        park_ms=park_ms,
        jira_projects=tuple(projects),
    )


def _assign_weights(org: Org) -> None:
    """Share of the cards each open board gets: roadmap ~4%, delivery 60% of the rest."""
    others = [kit for kit in org.kits if kit.board.role != "roadmap"]
    delivery = [kit for kit in others if kit.board.name == "Design Delivery"]
    rest = [kit for kit in others if kit not in delivery]
    roadmap_share = 0.04 if len(org.kits) > 1 else 0.0
    for kit in org.kits:
        if kit.board.role == "roadmap":
            kit.card_weight = roadmap_share
    remaining = 1.0 - roadmap_share
    if delivery and rest:
        delivery[0].card_weight = remaining * 0.6
        for kit in rest:
            kit.card_weight = remaining * 0.4 / len(rest)
    else:
        for kit in others:
            kit.card_weight = remaining / max(1, len(others))
