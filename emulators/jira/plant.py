"""Plant known delivery risks on top of a generated world, and record them for the truth.

Each planter builds a small, hand-shaped case through the Mutator with back-dated times (so the
histories look organic) in the first Scrum project, and records the keys involved in
`world.planted[risk]`.
"""

from __future__ import annotations

from collections.abc import Callable

from pulse.emulators.jira.model import Project, World
from pulse.emulators.jira.mutations import Mutator
from pulse.emulators.jira.timefmt import DAY, HOUR, Clock, from_ms, local_date


class _Planter:
    """Shared context for the planters: the world, a mutator and the reference time."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.now = world.now_ms
        self.mut = Mutator(world, Clock(from_ms(world.now_ms)))
        scrum = [
            p
            for p in world.projects.values()
            if any(world.boards[b].type == "scrum" for b in p.board_ids)
        ]
        self.project: Project = scrum[0] if scrum else next(iter(world.projects.values()))
        others = [p for p in world.projects.values() if p.id != self.project.id]
        self.other: Project = others[0] if others else self.project

    def day(self, offset_days: float) -> str:
        """The user-zone date `offset_days` from the reference time."""
        return local_date(self.now + int(offset_days * DAY), self.world.user_timezone)

    def at(self, offset_days: float) -> int:
        """Epoch ms `offset_days` from the reference time."""
        return self.now + int(offset_days * DAY)

    def epic(self, name: str, created: float, due: float | None, started: float | None) -> str:
        """Create an epic with a due/target date, optionally started."""
        e = self.mut.create(
            self.project.key,
            type="Epic",
            summary=name,
            at=self.at(created),
            duedate=self.day(due) if due is not None else None,
        )
        if due is not None:
            self.mut.edit(
                e.id, target_end=self.day(due), at=self.at(created) + HOUR, author=self.project.lead
            )
        if started is not None:
            self.mut.transition(
                e.id, "In Progress", at=self.at(started), author=self.world.automation
            )
        return e.key

    def child(
        self,
        epic: str | None,
        created: float,
        path: list[tuple[str, float]],
        points: float | None = 3.0,
        project: Project | None = None,
    ) -> str:
        """Create a story (optionally under an epic) and walk it through `path`."""
        proj = project or self.project
        c = self.mut.create(
            proj.key,
            type="Story",
            summary=f"Planted work for {epic or 'dep'}",
            parent=epic,
            story_points=points,
            at=self.at(created),
        )
        for status, when in path:
            self.mut.transition(
                c.id, status, at=self.at(when), author=proj.team[1 % len(proj.team)]
            )
        return c.key


def _overdue(p: _Planter) -> list[str]:
    epic = p.epic("Planted: overdue epic", -90, -10, -60)
    kids = [p.child(epic, -80, [("In Progress", -50), ("Done", -40)]) for _ in range(3)]
    kids += [p.child(epic, -80, [("In Progress", -5)]) for _ in range(3)]
    return [epic, *kids]


def _forecast_late(p: _Planter) -> list[str]:
    epic = p.epic("Planted: forecast-late epic", -40, 5, -30)
    kids = [p.child(epic, -35, []) for _ in range(25)]
    kids.append(p.child(epic, -35, [("In Progress", -20), ("Done", -15)]))
    return [epic, *kids]


def _stalled(p: _Planter) -> list[str]:
    epic = p.epic("Planted: stalled epic", -100, 40, -70)
    kids = [p.child(epic, -90, [("In Progress", -60), ("Done", -40)]) for _ in range(2)]
    kids += [p.child(epic, -90, [("In Progress", -30)]) for _ in range(3)]
    return [epic, *kids]


def _blocked(p: _Planter) -> list[str]:
    epic = p.epic("Planted: epic blocked by a dependency", -50, 30, -40)
    kids = [p.child(epic, -45, [("In Progress", -30)]) for _ in range(3)]
    blocker = p.child(None, -45, [], project=p.other)
    p.mut.link(blocker, kids[0], "Blocks", at=p.at(-20))
    p.mut.edit(kids[0], flagged=True, at=p.at(-19))
    return [epic, *kids, blocker]


def _scope_growth(p: _Planter) -> list[str]:
    epic = p.epic("Planted: scope growth", -60, 45, -50)
    base = [p.child(epic, -58, [("In Progress", -45)]) for _ in range(5)]
    late = [p.child(None, -30, []) for _ in range(4)]
    for i, key in enumerate(late):
        p.mut.edit(key, parent=epic, at=p.at(-20 + i))
    return [epic, *base, *late]


def _unestimated(p: _Planter) -> list[str]:
    active = [
        s
        for s in p.world.sprints.values()
        if s.state == "active" and p.world.boards[s.board_id].project_id == p.project.id
    ]
    if not active:
        return []
    sprint = active[0].id
    keys = []
    for _ in range(4):
        c = p.mut.create(
            p.project.key,
            type="Story",
            summary="Planted: unestimated in sprint",
            sprint_ids=[sprint],
            at=p.at(-2),
        )
        keys.append(c.key)
    return keys


PLANTERS: dict[str, Callable[[_Planter], list[str]]] = {
    "overdue_epic": _overdue,
    "forecast_late_epic": _forecast_late,
    "stalled_epic": _stalled,
    "blocked_epic": _blocked,
    "scope_growth": _scope_growth,
    "unestimated": _unestimated,
}


def plant_risks(world: World, risks: tuple[str, ...]) -> None:
    """Plant each named risk and record the keys involved in `world.planted`."""
    if not risks:
        return
    planter = _Planter(world)
    for risk in risks:
        world.planted[risk] = PLANTERS[risk](planter)
    world.version = 0
