"""Six months of realistic card flow, planned per card and replayed in time order.

Planning: every card gets a creation time and a sequence of steps (moves forward and back,
comments, check items, due dates, labels, attachments, renames, archive/unarchive, deletion,
moves between boards, copies, conversions from check items, parking in a list that is later
archived). Replay: all steps of all cards are sorted by time and applied through `ops.Ops`,
so action ids are allocated in time order and sort like Mongo ObjectIds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .config import TrelloSpec
from .ids import iso_ms, to_ms
from .model import Card, CheckItem
from .ops import Ops
from .org import DAY_MS, BoardKit, Org
from .text import TextSource

HOUR_MS = 3_600_000
MIN_MS = 60_000

CHECK_ITEMS = (
    "Write acceptance tests",
    "Update Figma",
    "Copy review",
    "Accessibility check",
    "QA on staging",
    "Release notes",
    "Design sign-off",
    "Analytics events",
)


@dataclass(slots=True)
class PlanCard:
    """A card as planned: its attributes at creation and, once replayed, the real card."""

    kit: BoardKit
    created_ms: int
    how: str = "createCard"
    source: PlanCard | None = None
    name: str = ""
    desc: str = ""
    start_idx: int = 0
    due_ms: int | None = None
    labels: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    checklist: list[str] = field(default_factory=list)
    attachments: list[tuple[str, str, bool, str, int | None]] = field(default_factory=list)
    gone_ms: int | None = None
    card: Card | None = None


Event = tuple[int, int, str, PlanCard, Any]


class HistoryGenerator:
    """Plans and replays the history of every card on the organisation's boards."""

    def __init__(self, spec: TrelloSpec, org: Org, ops: Ops, rng: random.Random) -> None:
        self.spec = spec
        self.org = org
        self.ops = ops
        self.rng = rng
        self.text = TextSource(rng, spec.adversarial)
        self.now_ms = to_ms(spec.now)
        self.start_ms = self.now_ms - spec.history_days * DAY_MS
        self.events: list[Event] = []
        self._seq = 0
        self._by_board: dict[str, list[PlanCard]] = {}
        self._roadmap: list[PlanCard] = []

    # -- planning -------------------------------------------------------------------------

    def run(self) -> None:
        """Plan every card, replay all events in time order, then archive the old boards."""
        self._plan_archived()
        self._plan_open()
        for kit in self.org.kits + self.org.archived:
            if kit.park_ms < self.now_ms:
                self._emit(kit.park_ms, "archive_list", None, kit)
        self.events.sort(key=lambda event: (event[0], event[1]))
        self._replay()

    def _emit(self, at_ms: int, kind: str, card: PlanCard | None, arg: Any = None) -> None:
        self._seq += 1
        self.events.append((at_ms, self._seq, kind, card, arg))  # type: ignore[arg-type]

    def _plan_open(self) -> None:
        rng = self.rng
        kits = [kit for kit in self.org.kits if kit.card_weight > 0]
        if not kits or self.spec.cards == 0:
            return
        weights = [kit.card_weight for kit in kits]
        roadmap = self.org.kit("roadmap")
        plans: list[PlanCard] = []
        roadmap_count = 0
        if roadmap is not None and roadmap in kits:
            roadmap_count = min(120, max(3, round(self.spec.cards * roadmap.card_weight)))
            span = int((self.now_ms - self.start_ms) * 0.7)
            for _ in range(roadmap_count):
                plans.append(PlanCard(roadmap, self.start_ms + rng.randrange(span)))
        others = [kit for kit in kits if kit is not roadmap]
        other_weights = [w for kit, w in zip(kits, weights, strict=True) if kit is not roadmap]
        span = self.now_ms - self.start_ms - 30 * MIN_MS
        for kit in rng.choices(others, other_weights, k=max(0, self.spec.cards - roadmap_count)):
            plans.append(PlanCard(kit, self.start_ms + rng.randrange(span)))
        plans.sort(key=lambda plan: plan.created_ms)
        for plan in plans:
            self._plan_card(plan, self.now_ms - MIN_MS)

    def _plan_archived(self) -> None:
        rng = self.rng
        for kit in self.org.archived:
            count = min(40, max(3, self.spec.cards // 20)) if self.spec.cards else 0
            created = kit.board.created_ms
            close_ms = created + 120 * DAY_MS
            kit.park_ms = created + 90 * DAY_MS
            for _ in range(count):
                plan = PlanCard(kit, created + DAY_MS + rng.randrange(80 * DAY_MS))
                self._plan_card(plan, close_ms - DAY_MS)
            self._emit(close_ms, "close_board", None, kit)

    def _plan_card(self, plan: PlanCard, end_ms: int) -> None:
        """Decide how a card is born, what happens to it, and when."""
        rng = self.rng
        kit = plan.kit
        role = kit.board.role
        peers = self._by_board.setdefault(kit.board.id, [])
        roll = rng.random()
        if roll < 0.04 and peers:
            source = self._pick_source(peers, plan.created_ms, need_checklist=False)
            if source is not None:
                plan.how, plan.source = "copyCard", source
        elif roll < 0.075 and peers:
            source = self._pick_source(peers, plan.created_ms, need_checklist=True)
            if source is not None:
                plan.how, plan.source = "convertToCardFromCheckItem", source
        self._attributes(plan, role)
        peers.append(plan)
        if role == "roadmap":
            self._roadmap.append(plan)
        steps = self._steps(plan, role)
        self._schedule(plan, steps, end_ms)

    def _pick_source(
        self, peers: list[PlanCard], at_ms: int, need_checklist: bool
    ) -> PlanCard | None:
        for _ in range(6):
            cand = self.rng.choice(peers)
            alive = cand.gone_ms is None or cand.gone_ms > at_ms + MIN_MS
            if cand.created_ms < at_ms and alive and (cand.checklist or not need_checklist):
                return cand
        return None

    def _attributes(self, plan: PlanCard, role: str) -> None:
        rng = self.rng
        kit = plan.kit
        source = plan.source
        if plan.how == "copyCard" and source is not None:
            plan.name, plan.desc = source.name, source.desc
            plan.labels = list(source.labels)
            plan.custom = dict(source.custom)
            plan.checklist = list(source.checklist)
            plan.attachments = list(source.attachments)
        else:
            if plan.how == "convertToCardFromCheckItem" and source is not None:
                plan.name = rng.choice(source.checklist)
            else:
                plan.name = self.text.card_name(role)
            plan.desc = self.text.description(plan.name)
            self._labels(plan)
            self._custom(plan)
            if rng.random() < 0.35:
                plan.checklist = rng.sample(CHECK_ITEMS, rng.randint(2, 5))
            if rng.random() < 0.25:
                plan.attachments.append(self._jira_attachment(kit))
            if rng.random() < 0.12:
                plan.attachments.append(self._other_attachment())
        plan.start_idx = 1 if rng.random() < 0.12 else 0
        if rng.random() < 0.7 and kit.members:
            plan.members = rng.sample(kit.members, min(len(kit.members), rng.randint(1, 2)))
        if rng.random() < 0.4:
            plan.due_ms = plan.created_ms + rng.randint(2, 40) * DAY_MS + rng.randrange(DAY_MS)

    def _labels(self, plan: PlanCard) -> None:
        rng = self.rng
        if not plan.kit.labels:
            return
        if rng.random() < 0.08:
            plan.labels.append("blocked")
        if rng.random() < 0.2:
            plan.labels.append(rng.choice(("pts:1", "pts:2", "pts:3", "pts:5", "pts:8")))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            name = rng.choice(
                ("bug", "feature", "tech-debt", "customer", "🚀 launch", "needs design", "")
            )
            if name not in plan.labels:
                plan.labels.append(name)

    def _custom(self, plan: PlanCard) -> None:
        rng = self.rng
        if not plan.kit.fields:
            return
        if rng.random() < 0.6:
            plan.custom["Points"] = rng.choice(("1", "2", "3", "3", "5", "5", "8", "13", "0.5"))
        if rng.random() < 0.25:
            plan.custom["Target date"] = iso_ms(plan.created_ms + rng.randint(7, 90) * DAY_MS)
        if rng.random() < 0.5:
            plan.custom["Team"] = rng.choice(("Design", "Web", "Growth", "Platform"))
        if rng.random() < 0.2:
            plan.custom["Reviewed"] = rng.choice(("true", "false"))

    def _jira_attachment(self, kit: BoardKit) -> tuple[str, str, bool, str, int | None]:
        rng = self.rng
        base = self.spec.jira_base_url.rstrip("/")
        project = rng.choice(kit.jira_projects or ("WEB",))
        key = f"{project}-{rng.randint(1, 900)}"
        shape = rng.random()
        if shape < 0.7:
            url = f"{base}/browse/{key}"
        elif shape < 0.85:
            url = f"{base}/browse/{key}?focusedCommentId={rng.randint(10000, 99999)}"
        elif shape < 0.93:
            url = f"{base}/browse/{key}/"
        else:
            return (
                f"{project} board",
                f"{base}/jira/software/projects/{project}/boards/1",
                False,
                "",
                None,
            )
        return (url, url, False, "", None)

    def _other_attachment(self) -> tuple[str, str, bool, str, int | None]:
        rng = self.rng
        if rng.random() < 0.5:
            url = f"https://www.figma.com/file/{rng.getrandbits(48):012x}/Design?node-id=1-2"
            return ("Figma: screens", url, False, "", None)
        name = rng.choice(("screenshot.png", "brief.pdf", "Résumé final (2).docx"))
        mime = {"png": "image/png", "pdf": "application/pdf"}.get(name[-3:], "application/msword")
        url = (
            f"https://trello-attachments.s3.amazonaws.com/{rng.getrandbits(64):016x}/{quote(name)}"
        )
        return (name, url, True, mime, rng.randint(2_000, 4_000_000))

    def _steps(self, plan: PlanCard, role: str) -> list[tuple[str, Any]]:
        """The ordered steps of one card's life (times are assigned by `_schedule`)."""
        rng = self.rng
        steps: list[tuple[str, Any]] = []
        idx = plan.start_idx
        stall_at = rng.choice((1, 2, 3)) if rng.random() < 0.15 else 3
        while idx < stall_at:
            if idx > 0 and rng.random() < 0.14:
                idx -= 1
            else:
                idx += 1
            steps.append(("move", idx))
        extra_mean = max(0.0, self.spec.actions_per_card - 3.5)
        n_extra = int(rng.expovariate(1 / extra_mean)) if extra_mean > 0 else 0
        for _ in range(min(n_extra, 40)):
            steps.insert(rng.randint(0, len(steps)), self._extra_step(plan))
        if idx == 3:
            if plan.due_ms is not None and rng.random() < 0.7:
                steps.append(("dueComplete", True))
            if rng.random() < 0.45:
                steps.append(("closed", True))
                if rng.random() < 0.12:
                    steps.append(("closed", False))
                    if rng.random() < 0.5:
                        steps.append(("move", 1))
        elif rng.random() < 0.04:
            steps.append(("closed", True))
        if rng.random() < 0.03 and len(steps) > 1:
            steps.insert(rng.randint(1, len(steps)), ("move_board", None))
        if rng.random() < 0.03:
            cut = rng.randint(1, len(steps)) if steps else 0
            steps = [*steps[:cut], ("delete", None)]
        elif rng.random() < 0.03:
            cut = rng.randint(0, min(2, len(steps)))
            steps = [*steps[:cut], ("park", None)]
        return steps

    def _extra_step(self, plan: PlanCard) -> tuple[str, Any]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return ("comment", self.text.comment())
        if roll < 0.45 and plan.checklist:
            return ("check", rng.randrange(len(plan.checklist)))
        if roll < 0.55:
            return ("due", rng.randint(3, 30) * DAY_MS)
        if roll < 0.62:
            return ("name", None)
        if roll < 0.68:
            return ("desc", None)
        if roll < 0.76:
            return ("attach", None)
        if roll < 0.84:
            return ("label", "blocked" if rng.random() < 0.5 else None)
        if roll < 0.92:
            return ("member", None)
        return ("pos", None)

    def _schedule(self, plan: PlanCard, steps: list[tuple[str, Any]], end_ms: int) -> None:
        """Give each step a time after creation, cut at `end_ms`; a card that gets parked does
        all of its steps before its parked list is archived."""
        rng = self.rng
        t = plan.created_ms
        self._emit(t, "create", plan)
        if plan.kit.board.role != "roadmap":
            self._maybe_link(plan)
        limit = end_ms
        mean_gap = rng.uniform(0.3, 3.5) * DAY_MS
        if steps and steps[-1][0] == "park":
            limit = min(end_ms, plan.kit.park_ms - HOUR_MS)
            room = limit - t
            if room < (len(steps) + 1) * HOUR_MS:
                steps = steps[:-1]
                limit = end_ms
            else:
                mean_gap = min(mean_gap, room / (len(steps) + 2))
        for kind, arg in steps:
            t += max(MIN_MS, int(rng.expovariate(1 / mean_gap)))
            if t >= limit:
                break
            self._emit(t, kind, plan, arg)
            if kind in ("delete", "move_board") and plan.gone_ms is None:
                plan.gone_ms = t

    def _maybe_link(self, plan: PlanCard) -> None:
        """Half the delivery cards belong to a roadmap item: schedule the check-item link."""
        rng = self.rng
        if not self._roadmap or plan.kit.board.role != "delivery" or rng.random() < 0.5:
            return
        item = rng.choice(self._roadmap)
        at = max(plan.created_ms, item.created_ms) + rng.randint(1, 72) * HOUR_MS
        if at < self.now_ms - MIN_MS and (item.gone_ms is None or item.gone_ms > at):
            self._emit(at, "link", item, plan)

    # -- replay ---------------------------------------------------------------------------

    def _replay(self) -> None:
        handlers: dict[str, Callable[[int, Any, Any], None]] = {
            "create": self._do_create,
            "move": self._do_move,
            "closed": self._do_closed,
            "dueComplete": self._do_due_complete,
            "due": self._do_due,
            "name": self._do_name,
            "desc": self._do_desc,
            "comment": self._do_comment,
            "check": self._do_check,
            "attach": self._do_attach,
            "label": self._do_label,
            "member": self._do_member,
            "pos": self._do_pos,
            "delete": self._do_delete,
            "move_board": self._do_move_board,
            "park": self._do_park,
            "link": self._do_link,
            "archive_list": self._do_archive_list,
            "close_board": self._do_close_board,
        }
        for at_ms, _seq, kind, plan, arg in self.events:
            if plan is not None and kind != "create":
                card = plan.card
                if card is None or card.id not in self.ops.world.cards:
                    continue
            handlers[kind](at_ms, plan, arg)
        self._finish_roadmap()

    def _actor(self, plan: PlanCard | None) -> str:
        kit = plan.kit if plan is not None else None
        members = kit.members if kit is not None else [self.org.me.id]
        return self.rng.choice(members)

    def _kit_of(self, card: Card) -> BoardKit:
        for kit in self.org.kits + self.org.archived:
            if kit.board.id == card.board_id:
                return kit
        raise KeyError(card.board_id)

    def _do_create(self, at: int, plan: PlanCard, _arg: Any) -> None:
        kit = plan.kit
        lst = kit.workflow[plan.start_idx]
        source = plan.source.card if plan.source is not None else None
        how = plan.how
        if how != "createCard" and (source is None or source.id not in self.ops.world.cards):
            how, source = "createCard", None
        if source is not None and source.board_id != kit.board.id:
            how, source = "createCard", None
        items = [(name, "incomplete") for name in plan.checklist]
        plan.card = self.ops.create_card(
            lst,
            plan.name,
            at,
            self._actor(plan),
            desc=plan.desc,
            due_ms=plan.due_ms,
            label_ids=[kit.labels[name].id for name in plan.labels if name in kit.labels],
            member_ids=plan.members,
            custom=plan.custom,
            checklists=[("Acceptance criteria", items)] if items else (),
            attachments=plan.attachments,
            how=how,
            source=source,
        )

    def _card(self, plan: PlanCard) -> Card:
        assert plan.card is not None
        return plan.card

    def _do_move(self, at: int, plan: PlanCard, idx: int) -> None:
        card = self._card(plan)
        kit = self._kit_of(card)
        target = kit.workflow[idx]
        if target.id != card.list_id:
            self.ops.move_card(card, target, at, self._actor(plan))

    def _do_park(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        kit = self._kit_of(card)
        if not kit.parked.closed and at < kit.park_ms:
            self.ops.move_card(card, kit.parked, at, self._actor(plan))

    def _do_closed(self, at: int, plan: PlanCard, closed: bool) -> None:
        card = self._card(plan)
        if card.closed != closed:
            self.ops.set_closed(card, closed, at, self._actor(plan))

    def _do_due_complete(self, at: int, plan: PlanCard, value: bool) -> None:
        card = self._card(plan)
        if card.due_ms is not None and card.due_complete != value:
            self.ops.update_field(card, "dueComplete", value, at, self._actor(plan))

    def _do_due(self, at: int, plan: PlanCard, offset: int) -> None:
        self.ops.update_field(self._card(plan), "due", at + offset, at, self._actor(plan))

    def _do_name(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        role = self.ops.world.boards[card.board_id].role
        self.ops.update_field(card, "name", self.text.card_name(role), at, self._actor(plan))

    def _do_desc(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        desc = self.text.description(card.name) or "Updated."
        self.ops.update_field(card, "desc", desc, at, self._actor(plan))

    def _do_comment(self, at: int, plan: PlanCard, text: str) -> None:
        self.ops.comment(self._card(plan), text, at, self._actor(plan))

    def _do_check(self, at: int, plan: PlanCard, index: int) -> None:
        card = self._card(plan)
        items: list[CheckItem] = [item for cl in card.checklists for item in cl.items]
        if not items:
            return
        item = items[index % len(items)]
        state = "incomplete" if item.state == "complete" else "complete"
        self.ops.set_check_item(card, item, state, at, self._actor(plan))

    def _do_attach(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        kit = self._kit_of(card)
        if self.rng.random() < 0.6:
            name, url, upload, mime, size = self._jira_attachment(kit)
        else:
            name, url, upload, mime, size = self._other_attachment()
        self.ops.add_attachment(card, name, url, at, self._actor(plan), upload, mime, size)

    def _do_label(self, at: int, plan: PlanCard, name: str | None) -> None:
        card = self._card(plan)
        kit = self._kit_of(card)
        label = kit.labels.get(name or self.rng.choice(("bug", "feature", "customer", "blocked")))
        if label is not None and label.id not in card.label_ids:
            self.ops.add_label(card, label, at, self._actor(plan))

    def _do_member(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        kit = self._kit_of(card)
        who = self.rng.choice(kit.members)
        if who not in card.member_ids:
            self.ops.add_member(card, who, at, self._actor(plan))

    def _do_pos(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        self.ops.update_field(card, "pos", card.pos / 2 + 1, at, self._actor(plan))

    def _do_delete(self, at: int, plan: PlanCard, _arg: Any) -> None:
        self.ops.delete_card(self._card(plan), at, self._actor(plan))

    def _do_move_board(self, at: int, plan: PlanCard, _arg: Any) -> None:
        card = self._card(plan)
        here = self._kit_of(card)
        targets = [
            kit
            for kit in self.org.kits
            if kit is not here and kit.board.role in ("delivery", "marketing")
        ]
        if not targets or here.board.role not in ("delivery", "marketing"):
            return
        kit = self.rng.choice(targets)
        lst = self.ops.world.lists[card.list_id]
        idx = next((i for i, wl in enumerate(here.workflow) if wl.id == lst.id), 0)
        self.ops.move_to_board(card, kit.board, kit.workflow[idx], at, self._actor(plan))

    def _do_link(self, at: int, item: PlanCard, target: PlanCard) -> None:
        """Add a check item holding the delivery card's URL to the roadmap card."""
        card = self._card(item)
        linked = target.card
        if linked is None or linked.id not in self.ops.world.cards:
            return
        url = f"https://trello.com/c/{linked.short_link}"
        if self.rng.random() < 0.3:
            url += f"/{linked.id_short}-{_slug(linked.name)}"
        deliverables = next((cl for cl in card.checklists if cl.name == "Deliverables"), None)
        if deliverables is None:
            self.ops.add_checklist(
                card, "Deliverables", [(url, "incomplete")], at, self._actor(item)
            )
        else:
            self.ops.add_check_item(card, deliverables, url, at)

    def _finish_roadmap(self) -> None:
        """Tick roadmap check items whose linked card reached a done list."""
        world = self.ops.world
        for plan in self._roadmap:
            card = plan.card
            if card is None or card.id not in world.cards:
                continue
            for checklist in card.checklists:
                for item in checklist.items:
                    target = _linked(world.short_links, item.name)
                    linked = world.cards.get(target) if target else None
                    if linked is not None and world.lists[linked.list_id].role == "done":
                        item.state = "complete"
            self.ops.refresh_card_truth(card)

    def _do_archive_list(self, at: int, _plan: None, kit: BoardKit) -> None:
        self.ops.archive_list(kit.parked, at, self.org.me.id)

    def _do_close_board(self, at: int, _plan: None, kit: BoardKit) -> None:
        self.ops.close_board(kit.board, at, self.org.me.id)


def _slug(name: str) -> str:
    out = "".join(ch.lower() if ch.isascii() and ch.isalnum() else "-" for ch in name)
    return "-".join(part for part in out.split("-") if part)[:40] or "card"


def _linked(short_links: dict[str, str], text: str) -> str | None:
    marker = "https://trello.com/c/"
    if marker not in text:
        return None
    short = text.split(marker, 1)[1][:8]
    return short_links.get(short)
