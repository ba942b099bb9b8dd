"""Deterministic organisation generator: projects, teams, boards, sprints, versions, issues.

Every issue's life is planned as raw timed operations (set status, add to sprint, flag, …) and
then replayed in time order, which yields the typed change histories and the current state in
one pass, consistent by construction. Same `OrgSpec` → the same world, byte for byte.
"""

from __future__ import annotations

import bisect
import gc
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pulse import clock
from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira import text
from pulse.emulators.jira.catalog import Flavour
from pulse.emulators.jira.model import (
    Board,
    Change,
    History,
    Issue,
    Link,
    Project,
    Sprint,
    User,
    Version,
    World,
)
from pulse.emulators.jira.plant import plant_risks
from pulse.emulators.jira.timefmt import DAY, HOUR, MINUTE, date_add, local_date, to_ms, zone

PROJECT_KEYS = ("WEB", "MOB", "API", "OPS", "DATA", "PAY", "CORE", "INFRA", "SEC", "DOCS")
PROJECT_NAMES = (
    "Web Platform",
    "Mobile Apps",
    "Public API",
    "Operations",
    "Data Platform",
    "Payments",
    "Core Services",
    "Infrastructure",
    "Security",
    "Documentation",
)
FIRST = (
    "Alice",
    "Bob",
    "Chen",
    "Dana",
    "Élodie",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "José",
    "Kofi",
    "Łukasz",
    "Mia",
    "Ngọc",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Zoë",
)
LAST = (
    "Ng",
    "Smith",
    "Okafor",
    "García",
    "Müller",
    "Tanaka",
    "Kowalski",
    "Haddad",
    "Silva",
    "Novak",
    "Andersen",
    "Dubois",
)
POINTS = (1.0, 2.0, 3.0, 3.0, 5.0, 5.0, 8.0, 13.0, 0.5)
LABELS = ("frontend", "backend", "tech-debt", "customer", "security", "performance", "a11y")
GOALS = (
    "Ship the checkout revamp",
    "Stabilise releases",
    "Reduce p95 latency",
    "",
    "Close the audit findings",
    "Onboarding improvements",
)

SET, ADD, REMOVE, LINK = 0, 1, 2, 3

RISKS = (
    "overdue_epic",
    "forecast_late_epic",
    "stalled_epic",
    "blocked_epic",
    "scope_growth",
    "unestimated",
)


@dataclass(frozen=True)
class OrgSpec:
    """What to generate. Everything is derived deterministically from these values.

    `issues` counts every issue (epics and sub-tasks included). `heavy_issues` is how many issues
    get more than 100 histories (default: max(2, issues // 2500)). `plant` names delivery risks
    to plant on top of the organic data (see RISKS); each planted case is recorded in
    `truth.planted`. `dc_max_results` is the DC search page cap (jira.search.views.default.max).
    """

    seed: int = 1
    projects: int = 4
    issues: int = 800
    now: datetime = field(default_factory=clock.last_noon)
    months: int = 6
    sprint_days: int = 14
    future_sprints: int = 2
    kanban_projects: int = 1
    team_size: int = 6
    user_timezone: str = "America/Los_Angeles"
    server_timezone: str = "Europe/Berlin"
    heavy_issues: int | None = None
    adversarial_titles: bool = True
    dc_max_results: int = 1000
    plant: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.projects < 1 or self.projects > 60:
            raise ValueError("projects must be between 1 and 60")
        if self.issues < 0:
            raise ValueError("issues must be >= 0")
        unknown = set(self.plant) - set(RISKS)
        if unknown:
            raise ValueError(f"unknown risks to plant: {sorted(unknown)}; known: {RISKS}")
        zone(self.user_timezone)


@dataclass
class _Slot:
    """A sprint as the planner sees it: nominal start/completion even for future sprints."""

    sprint: Sprint
    start: int
    complete: int
    closed: bool


@dataclass
class _Plan:
    """One issue being planned: identity, initial values and raw timed operations."""

    type: cat.IssueType
    project: Project
    created: int
    id: int = 0
    key: str = ""
    parent: int | None = None  # final parent id (epic or sub-task parent)
    init: dict[str, Any] = field(default_factory=dict)
    ops: list[tuple[int, int, int, str, int, Any]] = field(default_factory=list)
    summary: str = ""
    heavy: bool = False

    def op(self, at: int, author: int, fld: str, kind: int, value: Any) -> None:
        """Record one raw timed operation on this issue's plan."""
        self.ops.append((at, len(self.ops), author, fld, kind, value))


class _Generator:
    """Builds a World from an OrgSpec; one instance per generation."""

    def __init__(self, spec: OrgSpec, flavour: Flavour) -> None:
        self.spec = spec
        self.flavour = flavour
        self.rng = random.Random(spec.seed)
        self.now = to_ms(spec.now)
        self.span_start = self.now - spec.months * 30 * DAY
        self.tz = zone(spec.user_timezone)
        self.sprint_len = spec.sprint_days * DAY
        self.users: list[User] = []
        self.projects: dict[int, Project] = {}
        self.boards: dict[int, Board] = {}
        self.sprints: dict[int, Sprint] = {}
        self.versions: dict[int, Version] = {}
        self.slots: dict[int, list[_Slot]] = {}  # project id -> sprint slots of its scrum board
        self.slot_starts: dict[int, list[int]] = {}
        self.plans: list[_Plan] = []

    # ---------------------------------------------------------------- people and structure
    def _user(self, display: str, login: str, app: bool = False) -> int:
        idx = len(self.users)
        account = f"{self.rng.getrandbits(96):024x}"
        if app:
            account = "557058:" + f"{self.rng.getrandbits(128):032x}"
        email = f"{login}@acme.test" if not app else ""
        self.users.append(
            User(
                idx,
                account,
                login,
                f"JIRAUSER{10000 + idx}",
                display,
                email,
                self.spec.user_timezone,
                app,
            )
        )
        return idx

    def build_people(self) -> None:
        """The searching user (pm) and the automation app user."""
        self._user("Pat Manager", "pm")
        self._user("Automation for Jira", "automation", app=True)

    def build_projects(self) -> None:
        """Projects with teams, boards, sprints and versions."""
        spec, rng = self.spec, self.rng
        n_kanban = min(spec.kanban_projects, max(0, spec.projects - 1))
        board_id, filter_id, sprint_id, version_id = 1, 10000, 1, 10100
        for i in range(spec.projects):
            key = PROJECT_KEYS[i] if i < len(PROJECT_KEYS) else f"P{i:02d}X"
            name = PROJECT_NAMES[i] if i < len(PROJECT_NAMES) else f"Project {i}"
            team = []
            for _ in range(spec.team_size):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                login = f"{first.lower()}.{last.lower()}{len(self.users)}"
                team.append(self._user(f"{first} {last}", login))
            workflow: tuple[str, ...] = (cat.IN_PROGRESS.id, cat.IN_REVIEW.id, cat.DONE.id)
            if i == 1:
                workflow = (cat.IN_PROGRESS.id, cat.IN_REVIEW.id, cat.READY_FOR_QA.id, cat.DONE.id)
            proj = Project(10000 + i, key, name, team[0], team, workflow=workflow)
            self.projects[proj.id] = proj
            kanban = i >= spec.projects - n_kanban
            boards = [
                ("kanban" if kanban else "scrum", f"{key} {'Kanban' if kanban else 'Scrum'} board")
            ]
            if spec.projects == 1 or (n_kanban == 0 and i == 0):
                boards.append(("kanban", f"{key} Support Kanban"))
            for btype, bname in boards:
                board = Board(board_id, bname, btype, proj.id, filter_id)
                self.boards[board.id] = board
                proj.board_ids.append(board.id)
                board_id += 1
                filter_id += 1
                if btype == "scrum":
                    sprint_id = self._sprints(proj, board, sprint_id)
            version_id = self._versions(proj, version_id)

    def _sprints(self, proj: Project, board: Board, next_id: int) -> int:
        rng = self.rng
        # anchor: the first Monday 10:00 (user zone) after the span start, staggered per board
        d = datetime.fromtimestamp(self.span_start / 1000, self.tz).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        d += timedelta(days=(7 - d.weekday()) % 7 + (board.id % 3) * 2)
        planned = to_ms(d)
        slots: list[_Slot] = []
        prev_complete: int | None = None
        future_left = self.spec.future_sprints
        n = 1
        while True:
            start = planned + rng.randrange(0, 2 * HOUR)
            if prev_complete is not None:
                start = max(start, prev_complete + 10 * MINUTE + rng.randrange(0, HOUR))
            end = start + self.sprint_len
            name = f"{proj.key} Sprint {n}"
            goal = rng.choice(GOALS)
            if start > self.now:
                if future_left <= 0:
                    break
                future_left -= 1
                sp = Sprint(
                    next_id, board.id, name, "future", None, None, None, goal, start - 10 * DAY
                )
                slots.append(_Slot(sp, start, end, False))
            elif end < self.now - 12 * HOUR:
                complete = end + rng.randrange(-3 * HOUR, 10 * HOUR)
                sp = Sprint(
                    next_id, board.id, name, "closed", start, end, complete, goal, start - 10 * DAY
                )
                slots.append(_Slot(sp, start, complete, True))
                prev_complete = complete
            else:
                sp = Sprint(
                    next_id, board.id, name, "active", start, end, None, goal, start - 10 * DAY
                )
                slots.append(_Slot(sp, start, max(end, self.now + DAY), False))
                prev_complete = max(end, self.now + DAY)
            self.sprints[sp.id] = sp
            board.sprint_ids.append(sp.id)
            next_id += 1
            n += 1
            planned += self.sprint_len
        self.slots[proj.id] = slots
        self.slot_starts[proj.id] = [s.start for s in slots]
        return next_id

    def _versions(self, proj: Project, next_id: int) -> int:
        count = max(3, self.spec.months * 30 // 35 + 2)
        for j in range(count):
            release = self.span_start + (j + 1) * 35 * DAY
            rdate = local_date(release, self.spec.user_timezone)
            released = release < self.now - DAY and j != count - 3
            v = Version(
                next_id,
                proj.id,
                f"{proj.key.lower()}-{1 + j // 4}.{j % 4}",
                f"Release train {j + 1} for {proj.name}",
                released,
                j == 0,
                rdate,
                local_date(release - 35 * DAY, self.spec.user_timezone),
            )
            self.versions[v.id] = v
            proj.version_ids.append(v.id)
            next_id += 1
        return next_id

    # ---------------------------------------------------------------- issue skeletons
    def build_skeletons(self) -> None:
        """Issue types and creation times; then ids and keys in creation order."""
        spec, rng = self.spec, self.rng
        weights = [1.0 + 0.5 * (i == 0) + rng.random() * 0.5 for i in range(spec.projects)]
        total_w = sum(weights)
        counts = [int(spec.issues * w / total_w) for w in weights]
        counts[0] += spec.issues - sum(counts)
        for proj, n in zip(self.projects.values(), counts, strict=True):
            self._project_skeletons(proj, n)
        # ids follow creation time globally; keys follow creation time per project
        self.plans.sort(key=lambda p: (p.created, p.project.id))
        for i, plan in enumerate(self.plans):
            plan.id = 10000 + i
            proj = plan.project
            plan.key = f"{proj.key}-{proj.next_number}"
            proj.next_number += 1

    def _project_skeletons(self, proj: Project, n: int) -> None:
        rng = self.rng
        if n <= 0:
            return
        n_epic = max(1, round(n * 0.05)) if n >= 4 else 0
        n_sub = round(n * 0.10)
        rest = n - n_epic - n_sub
        epics: list[_Plan] = []
        lo, hi = self.span_start - 20 * DAY, self.now - 14 * DAY
        for _ in range(n_epic):
            p = _Plan(cat.EPIC, proj, lo + rng.randrange(max(1, hi - lo)))
            epics.append(p)
        epics.sort(key=lambda p: p.created)
        lo, hi = self.span_start - 10 * DAY, self.now - HOUR
        standard: list[_Plan] = []
        for _ in range(rest):
            r = rng.random()
            itype = cat.STORY if r < 0.6 else cat.BUG if r < 0.82 else cat.TASK
            # skew creation towards recent weeks a little
            frac = rng.random() ** 0.85
            standard.append(_Plan(itype, proj, lo + int((hi - lo) * frac)))
        standard.sort(key=lambda p: p.created)
        subs: list[_Plan] = []
        if standard:
            for _ in range(n_sub):
                parent = standard[rng.randrange(len(standard))]
                created = parent.created + rng.randrange(HOUR, 5 * DAY)
                if created >= self.now - 10 * MINUTE:
                    created = parent.created + (self.now - parent.created) // 2
                sp = _Plan(cat.SUBTASK, proj, created)
                sp.init["_parent_plan"] = parent
                subs.append(sp)
        self.plans.extend(epics)
        self.plans.extend(standard)
        self.plans.extend(subs)

    # ---------------------------------------------------------------- helpers
    def _dur(
        self, median_h: float, sigma: float = 0.9, lo: int = 5 * MINUTE, hi: int = 12 * DAY
    ) -> int:
        """A log-normal duration in ms; 10% of steps are same-day quick moves."""
        if self.rng.random() < 0.10:
            return self.rng.randrange(2 * MINUTE, 40 * MINUTE)
        v = int(self.rng.lognormvariate(math.log(median_h * HOUR), sigma))
        return max(lo, min(hi, v))

    def _slot_at(self, proj: Project, t: int) -> int | None:
        """Index of the sprint slot running at time t (start <= t < complete)."""
        starts = self.slot_starts.get(proj.id)
        if not starts:
            return None
        i = bisect.bisect_right(starts, t) - 1
        if i >= 0 and t < self.slots[proj.id][i].complete:
            return i
        return None

    def _slot_after(self, proj: Project, t: int) -> int | None:
        """Index of the first sprint slot starting after t."""
        starts = self.slot_starts.get(proj.id)
        if not starts:
            return None
        i = bisect.bisect_right(starts, t)
        return i if i < len(starts) else None

    def _work(
        self, plan: _Plan, t: int, author: int, allow_bounce: bool = True, pace: float = 1.0
    ) -> int | None:
        """Move an issue through its workflow from time t; returns when it was last done.

        `pace` stretches the working steps (slow work is what carries over across sprints).
        """
        rng = self.rng
        wf = plan.project.workflow
        roll = rng.random()
        done_at: int | None = None
        if roll < 0.04:  # abandoned
            target = cat.WONT_DO.id
            t += self._dur(30)
            plan.op(t, author, "status", SET, target)
            return t
        if roll < 0.09:  # skipped every column
            t += self._dur(20)
            plan.op(t, author, "status", SET, cat.DONE.id)
            return t
        steps = list(wf)
        if roll < 0.17:  # skip In Progress
            steps = steps[1:]
        i = 0
        bounces = 0
        while i < len(steps):
            status = steps[i]
            plan.op(t, author, "status", SET, status)
            if status == cat.IN_PROGRESS.id and rng.random() < 0.15:
                on = t + self._dur(10)
                plan.op(on, author, "flagged", SET, True)
                plan.op(on + self._dur(30), author, "flagged", SET, False)
            if status == cat.DONE.id:
                done_at = t
                break
            t += int(self._dur(26 if status == cat.IN_PROGRESS.id else 14) * pace)
            if status == cat.IN_REVIEW.id and allow_bounce and bounces < 3 and rng.random() < 0.3:
                bounces += 1
                i = steps.index(cat.IN_PROGRESS.id) if cat.IN_PROGRESS.id in steps else i
                continue
            i += 1
        if done_at is not None and allow_bounce and rng.random() < 0.05:  # reopened after Done
            t = done_at + self._dur(40)
            plan.op(t, author, "status", SET, rng.choice((cat.TODO.id, cat.IN_PROGRESS.id)))
            t += self._dur(30)
            plan.op(t, author, "status", SET, cat.IN_REVIEW.id)
            t += self._dur(8)
            plan.op(t, author, "status", SET, cat.DONE.id)
            done_at = t
        return done_at

    # ---------------------------------------------------------------- planning issues
    def plan_all_standard(self) -> None:
        """Plan stories, tasks, bugs, then sub-tasks (which mirror their parents' sprints)."""
        rng = self.rng
        spec = self.spec
        epics_by_project: dict[int, list[_Plan]] = {}
        for plan in self.plans:
            if plan.type is cat.EPIC:
                epics_by_project.setdefault(plan.project.id, []).append(plan)
        created_by_project: dict[int, list[int]] = {}
        candidates = [p for p in self.plans if p.type in (cat.STORY, cat.TASK, cat.BUG)]
        n_heavy = (
            spec.heavy_issues if spec.heavy_issues is not None else max(2, spec.issues // 2500)
        )
        for p in rng.sample(candidates, min(n_heavy, len(candidates))):
            p.heavy = True
        adversarial = list(text.ADVERSARIAL) if spec.adversarial_titles else []
        adv_every = max(1, len(self.plans) // (len(adversarial) + 1)) if adversarial else 0
        adv_i = 0
        for n, plan in enumerate(self.plans):
            if plan.type is cat.EPIC:
                plan.summary = text.epic_summary(rng, n)
                continue
            if (
                adversarial
                and plan.type is not cat.SUBTASK
                and n % adv_every == 0
                and adv_i < len(adversarial)
            ):
                plan.summary = adversarial[adv_i]
                adv_i += 1
            else:
                plan.summary = text.summary(rng)
            if plan.type is cat.SUBTASK:
                continue
            epics = epics_by_project.get(plan.project.id, [])
            if plan.project.id not in created_by_project:
                created_by_project[plan.project.id] = [e.created for e in epics]
            self._plan_standard(plan, epics, created_by_project[plan.project.id])
        for plan in self.plans:
            if plan.type is cat.SUBTASK:
                self._plan_subtask(plan)

    def plan_all_epics(self) -> None:
        """Plan epics last: their status follows their children."""
        for plan in self.plans:
            if plan.type is cat.EPIC:
                self._plan_epic(plan)

    def _init_common(self, plan: _Plan, estimate_p: float) -> int:
        rng = self.rng
        team = plan.project.team
        author = rng.choice(team)
        plan.init.update(
            status=cat.TODO.id,
            resolution=None,
            estimate=None,
            sprint=(),
            flagged=False,
            parent=None,
            assignee=None,
            duedate=None,
            labels=(),
            fix_version=(),
            summary=plan.summary,
            target_end=None,
            reporter=author,
            rank=None,
            priority=("2", "3", "3", "4")[rng.randrange(4)],
        )
        if rng.random() < estimate_p:
            plan.init["estimate"] = rng.choice(POINTS)
        if rng.random() < 0.5:
            plan.init["assignee"] = rng.choice(team)
        if rng.random() < 0.3:
            plan.init["labels"] = tuple(sorted(rng.sample(LABELS, 1 + rng.randrange(2))))
        if rng.random() < 0.1:
            plan.init["duedate"] = local_date(
                plan.created + rng.randrange(5, 60) * DAY, self.spec.user_timezone
            )
        return author

    def _plan_standard(self, plan: _Plan, epics: list[_Plan], epic_created: list[int]) -> None:
        rng = self.rng
        proj = plan.project
        team = proj.team
        t0 = plan.created
        scrum = bool(self.slots.get(proj.id))
        author = self._init_common(plan, 0.6 if scrum else 0.3)
        # epic relation: at creation, later, or changed
        n_older = bisect.bisect_left(epic_created, t0)
        if n_older and rng.random() < 0.8:
            pick = epics[rng.randrange(max(0, n_older - 4), n_older)]
            if rng.random() < 0.88:
                plan.init["parent"] = (pick.id, pick.key)
                if rng.random() < 0.04 and n_older > 1:
                    other = epics[rng.randrange(n_older)]
                    if other is not pick:
                        plan.op(t0 + self._dur(72), author, "parent", SET, (other.id, other.key))
            else:
                plan.op(t0 + self._dur(48), author, "parent", SET, (pick.id, pick.key))
        if rng.random() < 0.05:
            d0 = plan.init["duedate"] or local_date(t0 + 20 * DAY, self.spec.user_timezone)
            plan.op(t0 + self._dur(100), author, "duedate", SET, date_add(d0, rng.randrange(3, 20)))
        assignee = plan.init["assignee"] if plan.init["assignee"] is not None else rng.choice(team)
        done_at: int | None
        if not scrum:
            start = t0 + int(rng.expovariate(1 / (5 * DAY)))
            if plan.init["assignee"] is None:
                plan.op(start - MINUTE, author, "assignee", SET, assignee)
            done_at = self._work(plan, start, assignee) if rng.random() < 0.9 else None
        else:
            done_at = self._plan_scrum(plan, author, assignee)
        if rng.random() < 0.25:
            plan.op(t0 + self._dur(90, hi=40 * DAY), author, "assignee", SET, rng.choice(team))
        self._groom(plan, author)
        if done_at is not None and rng.random() < 0.6:
            vid = self._version_for(proj, done_at)
            if vid is not None:
                plan.op(done_at + self._dur(4), author, "fix_version", ADD, vid)
        elif done_at is None and rng.random() < 0.2:
            unreleased = [v for v in proj.version_ids if not self.versions[v].released]
            if unreleased:
                plan.init["fix_version"] = (unreleased[0],)
        if plan.heavy:
            self._plan_heavy(plan, team)

    def _groom(self, plan: _Plan, author: int) -> None:
        """Backlog grooming noise: rank moves, re-estimates, retitles, priority changes."""
        rng = self.rng
        t0 = plan.created
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4, 5, 6))):
            plan.op(
                t0 + self._dur(60, hi=30 * DAY),
                author,
                "rank",
                SET,
                rng.choice(("higher", "lower")),
            )
        if rng.random() < 0.25:
            plan.op(t0 + self._dur(30, hi=20 * DAY), author, "estimate", SET, rng.choice(POINTS))
        if rng.random() < 0.08:
            plan.op(t0 + self._dur(12), author, "summary", SET, plan.summary + " (revised)")
        if rng.random() < 0.12:
            plan.op(t0 + self._dur(48), author, "priority", SET, rng.choice(("2", "3", "4")))

    def _version_for(self, proj: Project, done_at: int) -> int | None:
        day = local_date(done_at, self.spec.user_timezone)
        for vid in proj.version_ids:
            v = self.versions[vid]
            if v.release_date is not None and v.release_date >= day:
                return vid
        return None

    def _plan_scrum(self, plan: _Plan, author: int, assignee: int) -> int | None:
        rng = self.rng
        proj = plan.project
        slots = self.slots[proj.id]
        t0 = plan.created
        r = rng.random()
        if r < 0.10:  # backlog: never planned; sometimes worked without a sprint
            if rng.random() < 0.4:
                return self._work(plan, t0 + self._dur(120, hi=30 * DAY), assignee)
            return None
        if r < 0.19:  # created straight into the running sprint (added, no changelog item)
            cur = self._slot_at(proj, t0)
            if cur is not None and slots[cur].complete - t0 > DAY:
                plan.init["sprint"] = (slots[cur].sprint.id,)
                start = t0 + self._dur(20)
                self._assign_at(plan, start, author, assignee)
                return self._carry(plan, cur, self._work(plan, start, assignee), author)
        elif r < 0.27:  # added mid-sprint
            at = t0 + rng.randrange(0, 20 * DAY)
            cur = self._slot_at(proj, at)
            if cur is not None and slots[cur].start < at < self.now:
                self._estimate_before(plan, at, author)
                plan.op(at, author, "sprint", ADD, slots[cur].sprint.id)
                start = at + self._dur(12)
                self._assign_at(plan, start, author, assignee)
                return self._carry(plan, cur, self._work(plan, start, assignee), author)
        elif r < 0.30:  # done in the backlog, then planned into a sprint (completed outside)
            done = self._work(plan, t0 + self._dur(24), assignee, allow_bounce=False)
            if done is None:
                return None
            nxt = self._slot_after(proj, done)
            if nxt is not None:
                at = rng.randrange(
                    done + MINUTE, max(done + 2 * MINUTE, slots[nxt].start - 10 * MINUTE)
                )
                plan.op(at, author, "sprint", ADD, slots[nxt].sprint.id)
            return done
        # planned into an upcoming sprint before it starts
        delay = int(rng.expovariate(1 / (6 * DAY)))
        nxt = self._slot_after(proj, t0 + delay)
        if nxt is None:
            return None
        return self._plan_into(plan, nxt, author, assignee)

    def _plan_into(self, plan: _Plan, cur: int, author: int, assignee: int) -> int | None:
        rng = self.rng
        slots = self.slots[plan.project.id]
        slot = slots[cur]
        t0 = plan.created
        lo = max(t0 + MINUTE, slot.start - 6 * DAY)
        hi = max(lo + MINUTE, slot.start - 20 * MINUTE)
        add_at = rng.randrange(lo, hi)
        self._estimate_before(plan, add_at, author)
        if cur + 1 < len(slots) and rng.random() < 0.1 and add_at - DAY > t0:
            # first pencilled into the following sprint, then pulled forward
            plan.op(add_at - DAY, author, "sprint", ADD, slots[cur + 1].sprint.id)
            plan.op(add_at, author, "sprint", REMOVE, slots[cur + 1].sprint.id)
        plan.op(add_at, author, "sprint", ADD, slot.sprint.id)
        if rng.random() < 0.06 and slot.start + DAY < min(slot.complete, self.now):
            # planned, never started, removed mid-sprint; maybe re-planned two sprints later
            rm = rng.randrange(slot.start + HOUR, min(slot.complete, self.now) - HOUR)
            plan.op(rm, author, "sprint", REMOVE, slot.sprint.id)
            if cur + 2 < len(slots) and rng.random() < 0.5 and slots[cur + 2].start > rm:
                return self._plan_into(plan, cur + 2, author, assignee)
            return None
        start = slot.start + int((slot.complete - slot.start) * rng.random() * 0.6)
        self._assign_at(plan, start, author, assignee)
        if rng.random() < 0.08:  # mid-sprint re-estimate
            plan.op(start + self._dur(20), author, "estimate", SET, rng.choice(POINTS))
        pace = rng.uniform(4.0, 9.0) if rng.random() < 0.12 else 1.0
        done = self._work(plan, start, assignee, pace=pace)
        return self._carry(plan, cur, done, author)

    def _estimate_before(self, plan: _Plan, at: int, author: int) -> None:
        if plan.init["estimate"] is None and self.rng.random() < 0.75:
            t = plan.created + int((at - plan.created) * self.rng.random())
            plan.op(t, author, "estimate", SET, self.rng.choice(POINTS))

    def _assign_at(self, plan: _Plan, at: int, author: int, assignee: int) -> None:
        if plan.init["assignee"] is None:
            plan.op(at - MINUTE, author, "assignee", SET, assignee)

    def _carry(self, plan: _Plan, cur: int, done: int | None, author: int) -> int | None:
        """Carry unfinished work over to the next sprint(s) at each closed sprint's completion."""
        slots = self.slots[plan.project.id]
        while (
            cur + 1 < len(slots)
            and slots[cur].closed
            and (done is None or done > slots[cur].complete)
        ):
            plan.op(slots[cur].complete, author, "sprint", ADD, slots[cur + 1].sprint.id)
            cur += 1
        return done

    def _plan_heavy(self, plan: _Plan, team: list[int]) -> None:
        """Give an issue 110–180 histories (flag toggles, reassignments, label churn)."""
        rng = self.rng
        t0 = plan.created
        span = max(self.now - t0 - HOUR, HOUR)
        count = 110 + rng.randrange(70)
        times = sorted(t0 + 1 + rng.randrange(span) for _ in range(count))
        flag = False
        for i, at in enumerate(times):
            kind = i % 3
            if kind == 0:
                flag = not flag
                plan.op(at, team[i % len(team)], "flagged", SET, flag)
            elif kind == 1:
                plan.op(at, team[i % len(team)], "assignee", SET, team[(i // 3) % len(team)])
            else:
                plan.op(
                    at,
                    team[i % len(team)],
                    "labels",
                    SET,
                    tuple(sorted({LABELS[i % len(LABELS)], LABELS[(i // 2) % len(LABELS)]})),
                )

    def _plan_subtask(self, plan: _Plan) -> None:
        rng = self.rng
        parent: _Plan = plan.init.pop("_parent_plan")
        author = self._init_common(plan, 0.3)
        plan.init["parent"] = (parent.id, parent.key)
        plan.parent = parent.id
        # inherit the parent's sprint membership at creation, then mirror its sprint changes
        sprints: set[int] = set(parent.init["sprint"])
        for at, _, who, fld, kind, value in sorted(parent.ops):
            if fld != "sprint":
                continue
            if at <= plan.created:
                if kind == ADD:
                    sprints.add(value)
                else:
                    sprints.discard(value)
            else:
                plan.op(at, who, "sprint", kind, value)
        plan.init["sprint"] = tuple(sorted(sprints))
        if rng.random() < 0.85:
            start = plan.created + self._dur(30)
            self._work(plan, start, plan.init["assignee"] or author, allow_bounce=False)
        self._groom(plan, author)

    def _plan_epic(self, plan: _Plan) -> None:
        rng = self.rng
        auto = 1  # the automation user
        author = self._init_common(plan, 0.0)
        plan.init["labels"] = ()
        plan.init["assignee"] = plan.project.lead
        if rng.random() < 0.85:
            due = plan.created + rng.randrange(30, 120) * DAY
            plan.init["duedate"] = local_date(due, self.spec.user_timezone)
            plan.init["target_end"] = plan.init["duedate"]
            plan.init["target_start"] = local_date(plan.created + 3 * DAY, self.spec.user_timezone)
            if rng.random() < 0.3:  # the date slips, once or twice
                t = plan.created + (due - plan.created) // 2
                for _ in range(1 + rng.randrange(2)):
                    due += rng.randrange(7, 30) * DAY
                    day = local_date(due, self.spec.user_timezone)
                    plan.op(t, author, "duedate", SET, day)
                    plan.op(t, author, "target_end", SET, day)
                    t += self._dur(200, hi=20 * DAY)
        kids = self.epic_children.get(plan.id, [])
        first_start: int | None = None
        last_done = 0
        all_done = bool(kids)
        for kid in kids:
            status_ops = sorted((at, v) for at, _, _, f, _, v in kid.ops if f == "status")
            status_ops = [(at, v) for at, v in status_ops if at < self.now]
            moved = [at for at, v in status_ops if v != cat.TODO.id]
            if moved:
                first_start = moved[0] if first_start is None else min(first_start, moved[0])
            final = status_ops[-1][1] if status_ops else cat.TODO.id
            if cat.is_done(final):
                last_done = max(last_done, status_ops[-1][0])
            else:
                all_done = False
        if first_start is not None:
            plan.op(first_start + self._dur(3), auto, "status", SET, cat.IN_PROGRESS.id)
            if all_done and rng.random() < 0.85:
                plan.op(
                    max(last_done, first_start) + self._dur(30, hi=4 * DAY),
                    author,
                    "status",
                    SET,
                    cat.DONE.id,
                )
        if rng.random() < 0.1:
            on = plan.created + self._dur(400, hi=60 * DAY)
            plan.op(on, author, "flagged", SET, True)
            if rng.random() < 0.6:
                plan.op(on + self._dur(100), author, "flagged", SET, False)

    epic_children: dict[int, list[_Plan]]

    def index_epic_children(self) -> None:
        """Map each epic id to the plans whose final parent it is (before epics are planned)."""
        self.epic_children = {}
        epic_ids = {p.id for p in self.plans if p.type is cat.EPIC}
        for plan in self.plans:
            if plan.type is cat.EPIC or plan.type is cat.SUBTASK:
                continue
            parent = plan.init.get("parent")
            for at, _, _, fld, _, value in plan.ops:
                if fld == "parent" and at < self.now:
                    parent = value
            if parent is not None and parent[0] in epic_ids:
                plan.parent = parent[0]
                self.epic_children.setdefault(parent[0], []).append(plan)

    def plan_links(self) -> None:
        """Blocks/relates links between issues, recorded on both ends."""
        rng = self.rng
        pool = [p for p in self.plans if p.type is not cat.SUBTASK]
        if len(pool) < 2:
            return
        for plan in pool:
            r = rng.random()
            if r > 0.11:
                continue
            other = pool[rng.randrange(len(pool))]
            if other is plan:
                continue
            ltype = cat.BLOCKS.id if r < 0.07 else cat.RELATES.id
            at = max(plan.created, other.created) + self._dur(60, hi=10 * DAY)
            if at >= self.now:
                continue
            plan.op(
                at, plan.init["reporter"], "link", LINK, (ltype, "outward", other.id, other.key)
            )
            other.op(at, plan.init["reporter"], "link", LINK, (ltype, "inward", plan.id, plan.key))

    # ---------------------------------------------------------------- replay
    def replay(self) -> tuple[dict[int, Issue], list[tuple[int, int, int]]]:
        """Turn every plan into an Issue with histories (ids assigned later, globally)."""
        issues: dict[int, Issue] = {}
        order: list[tuple[int, int, int]] = []
        now = self.now
        link_id = 10000
        for rank, plan in enumerate(self.plans):
            st = dict(plan.init)
            ops = sorted(o for o in plan.ops if o[0] < now)
            raw: list[tuple[int, int, tuple[Change, ...]]] = []
            links: list[Link] = []
            status_changed = plan.created
            resolved_at: int | None = None
            g_at, g_author = -1, -1
            changes: list[Change] = []
            for at, _, author, fld, kind, value in ops:
                if at <= plan.created:
                    at = plan.created + 1
                if (at != g_at or author != g_author) and changes:
                    raw.append((g_at, g_author, tuple(changes)))
                    changes = []
                g_at, g_author = at, author
                if kind == LINK:
                    link_id += 1
                    links.append(Link(link_id, value[0], value[1], value[2]))
                    changes.append(Change("link", None, value))
                    continue
                old = st[fld]
                if fld == "fix_version":
                    if kind == ADD and value not in old:
                        st[fld] = tuple(sorted((*old, value)))
                        changes.append(Change("fix_version", None, value))
                    elif kind == REMOVE and value in old:
                        st[fld] = tuple(v for v in old if v != value)
                        changes.append(Change("fix_version", value, None))
                    continue
                if kind == ADD:
                    new = old if value in old else tuple(sorted((*old, value)))
                elif kind == REMOVE:
                    new = tuple(v for v in old if v != value)
                else:
                    new = value
                if new == old and fld != "rank":
                    continue
                st[fld] = new
                for ci, prev in enumerate(changes):
                    if prev.field == fld and fld not in ("rank", "status"):
                        changes[ci] = Change(fld, prev.old, new)
                        break
                else:
                    changes.append(Change(fld, old, new))
                if fld == "status":
                    res_old, res_new = st["resolution"], cat.resolution_for(str(new))
                    if res_new != res_old:
                        st["resolution"] = res_new
                        changes.append(Change("resolution", res_old, res_new))
                        resolved_at = at if res_new is not None else None
                    if cat.STATUSES[str(old)].category is not cat.STATUSES[str(new)].category:
                        status_changed = at
            if changes:
                raw.append((g_at, g_author, tuple(changes)))
            parent = st["parent"]
            issue = Issue(
                id=plan.id,
                key=plan.key,
                project_id=plan.project.id,
                type_id=plan.type.id,
                created=plan.created,
                updated=raw[-1][0] if raw else plan.created,
                summary=st["summary"],
                status=st["status"],
                resolution=st["resolution"],
                resolved_at=resolved_at,
                status_changed_at=status_changed,
                estimate=st["estimate"],
                sprints=st["sprint"],
                flagged=st["flagged"],
                parent=parent[0] if parent is not None else None,
                assignee=st["assignee"],
                reporter=st["reporter"],
                duedate=st["duedate"],
                labels=st["labels"],
                fix_versions=st["fix_version"],
                target_start=st.get("target_start"),
                target_end=st["target_end"],
                priority=st["priority"],
                rank=rank,
                histories=raw,  # type: ignore[arg-type]  # replaced below
                links=links,
            )
            issues[issue.id] = issue
            for idx, (at, _, _) in enumerate(raw):
                order.append((at, issue.id, idx))
        return issues, order


def _assign_history_ids(
    issues: dict[int, Issue], order: list[tuple[int, int, int]], first: int
) -> int:
    """Give histories globally increasing ids in time order, as Jira's sequence does."""
    order.sort()
    staged: dict[int, list[Any]] = {i: list(issue.histories) for i, issue in issues.items()}
    hid = first
    for _, issue_id, idx in order:
        at, author, changes = staged[issue_id][idx]
        staged[issue_id][idx] = History(hid, at, author, changes)
        hid += 1
    for issue_id, hist in staged.items():
        issues[issue_id].histories = hist
    return hid


def generate(spec: OrgSpec, flavour: Flavour) -> World:
    """Build the whole world for `spec` in the given flavour (deterministic).

    The cyclic garbage collector is paused while building: the model is acyclic, and letting
    it rescan millions of fresh objects makes generation superlinear.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(spec, flavour)
    finally:
        if was_enabled:
            gc.enable()


def _generate(spec: OrgSpec, flavour: Flavour) -> World:
    g = _Generator(spec, flavour)
    g.build_people()
    g.build_projects()
    g.build_skeletons()
    g.plan_all_standard()
    g.index_epic_children()
    g.plan_all_epics()
    g.plan_links()
    issues, order = g.replay()
    next_hid = _assign_history_ids(issues, order, 100000)
    world = World(
        flavour=flavour,
        seed=spec.seed,
        now_ms=g.now,
        user_timezone=spec.user_timezone,
        users=g.users,
        me=0,
        automation=1,
        projects=g.projects,
        boards=g.boards,
        sprints=g.sprints,
        versions=g.versions,
        issues=issues,
        next_issue_id=10000 + len(issues),
        next_history_id=next_hid,
        next_link_id=10_000_000,
    )
    for issue in issues.values():
        world.key_index[issue.key] = issue.id
        if issue.parent is not None:
            world.add_child(issue.parent, issue.id)
    plant_risks(world, spec.plant)
    return world
