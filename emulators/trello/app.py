"""The Trello REST API as a Werkzeug WSGI app: routing, auth, rate limits, params, errors.

Everything lives under `/1/`. Errors are plain text as Trello sends them (`invalid key`,
`invalid token`, `invalid id`, `invalid value for <param>`, `The requested resource was not
found.`); 429s carry Trello's JSON body. The shared control endpoints under `/_emulator/` are
answered first and need no credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pulse.emulators.http import FaultPlan, RequestLog, control_response

from . import shapes
from .auth import credentials
from .ids import ID_RE, SHORTLINK_RE
from .model import Board, Card, TList, World
from .mutations import Invalid, Mutator
from .mutations import NotFound as MutationNotFound
from .queries import (
    CARD_FILTERS,
    BadParam,
    Bound,
    board_cards,
    page_cards,
    parse_filter,
    parse_limit,
    select_actions,
)
from .ratelimit import RateLimiter

NOT_FOUND_TEXT = "The requested resource was not found."
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
DEFAULT_CARD_ACTIONS = "commentCard,updateCard:idList"


class TrelloError(Exception):
    """An error response with Trello's plain-text body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _rules() -> Map:
    get, put, post, delete = ["GET"], ["PUT"], ["POST"], ["DELETE"]
    specs: list[tuple[str, str, list[str]]] = [
        ("/1/members/<ref>", "member", get),
        ("/1/members/<ref>/boards", "member_boards", get),
        ("/1/members/<ref>/boards/<sub>", "member_boards", get),
        ("/1/boards/<ref>", "board", get),
        ("/1/boards/<ref>/lists", "board_lists", get),
        ("/1/boards/<ref>/lists/<sub>", "board_lists", get),
        ("/1/boards/<ref>/cards", "board_cards", get),
        ("/1/boards/<ref>/cards/<sub>", "board_cards", get),
        ("/1/boards/<ref>/actions", "board_actions", get),
        ("/1/boards/<ref>/labels", "board_labels", get),
        ("/1/boards/<ref>/members", "board_members", get),
        ("/1/boards/<ref>/customFields", "board_custom_fields", get),
        ("/1/boards/<ref>/checklists", "board_checklists", get),
        ("/1/boards/<ref>/<field>", "board_field", get),
        ("/1/cards", "card_create", post),
        ("/1/cards/<ref>", "card", get),
        ("/1/cards/<ref>", "card_update", put),
        ("/1/cards/<ref>", "card_delete", delete),
        ("/1/cards/<ref>/actions", "card_actions", get),
        ("/1/cards/<ref>/actions/comments", "card_comment", post),
        ("/1/cards/<ref>/checklists", "card_checklists", get),
        ("/1/cards/<ref>/attachments", "card_attachments", get),
        ("/1/cards/<ref>/customFieldItems", "card_custom_items", get),
        ("/1/cards/<ref>/pluginData", "card_plugin_data", get),
        ("/1/cards/<ref>/board", "card_board", get),
        ("/1/cards/<ref>/list", "card_list", get),
        ("/1/cards/<ref>/members", "card_members", get),
        ("/1/cards/<ref>/<field>", "card_field", get),
        ("/1/cards/<ref>/<field>", "card_field_update", put),
        ("/1/lists/<ref>", "list", get),
        ("/1/lists/<ref>/cards", "list_cards", get),
        ("/1/lists/<ref>/closed", "list_closed", put),
        ("/1/lists/<ref>/board", "list_board", get),
        ("/1/actions/<ref>", "action", get),
    ]
    return Map(
        [
            Rule(path, endpoint=name, methods=methods, strict_slashes=False)
            for path, name, methods in specs
        ]
    )


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise BadParam(name)


def _fields(value: str | None) -> list[str] | None:
    if value is None or value == "" or value == "all":
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _json(value: Any, status: int = 200) -> Response:
    return Response(shapes.dumps(value), status=status, content_type=JSON_TYPE)


def _raw_json(text: str) -> Response:
    return Response(text, status=200, content_type=JSON_TYPE)


class TrelloApp:
    """WSGI app serving the emulated Trello REST API from a `World`."""

    def __init__(
        self,
        world: World,
        mutate: Mutator,
        limiter: RateLimiter | None,
        faults: FaultPlan,
        requests: RequestLog,
        key: str,
        tokens: Iterable[str],
        max_limit: int = 1000,
    ) -> None:
        self.world = world
        self.mutate = mutate
        self.limiter = limiter
        self.faults = faults
        self.requests = requests
        self.key = key
        self.tokens = frozenset(tokens)
        self.max_limit = max_limit
        self.url_map = _rules()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    # -- request pipeline -----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Control endpoints, then auth, rate limit, routing and the handler."""
        control = control_response(request, self.faults, self.requests)
        if control is not None:
            return control
        key, token = credentials(request)
        if key != self.key:
            return Response("invalid key", status=401, content_type=TEXT_TYPE)
        if token is None or token not in self.tokens:
            return Response("invalid token", status=401, content_type=TEXT_TYPE)
        if self.limiter is not None:
            members_route = request.path.rstrip("/").count("/") == 3 and request.path.startswith(
                "/1/members/"
            )
            error = self.limiter.check(key, token, members_route)
            if error is not None:
                body = {"error": error, "message": "Rate limit exceeded"}
                return _json(body, status=429)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            return self._cannot(request)
        except NotFound:
            return self._cannot(request)
        except HTTPException as exc:  # pragma: no cover - e.g. redirects we never configure
            return Response(str(exc), status=exc.code or 500, content_type=TEXT_TYPE)
        handler = getattr(self, f"on_{endpoint}")
        try:
            with self.world.lock:
                return handler(request, **args)
        except TrelloError as exc:
            return Response(exc.text, status=exc.status, content_type=TEXT_TYPE)
        except BadParam as exc:
            return Response(str(exc), status=400, content_type=TEXT_TYPE)
        except Invalid as exc:
            return Response(f"invalid value for {exc.param}", status=400, content_type=TEXT_TYPE)
        except MutationNotFound:
            return Response(NOT_FOUND_TEXT, status=404, content_type=TEXT_TYPE)

    @staticmethod
    def _cannot(request: Request) -> Response:
        return Response(f"Cannot {request.method} {request.path}", 404, content_type=TEXT_TYPE)

    # -- lookups --------------------------------------------------------------------------

    @staticmethod
    def _check_ref(ref: str) -> None:
        if not (ID_RE.match(ref) or SHORTLINK_RE.match(ref)):
            raise TrelloError(400, "invalid id")

    def _board(self, ref: str) -> Board:
        self._check_ref(ref)
        board = self.world.board_by_ref(ref)
        if board is None:
            raise TrelloError(404, NOT_FOUND_TEXT)
        return board

    def _card(self, ref: str) -> Card:
        self._check_ref(ref)
        card = self.world.card_by_ref(ref)
        if card is None:
            raise TrelloError(404, NOT_FOUND_TEXT)
        return card

    def _list(self, ref: str) -> TList:
        if not ID_RE.match(ref):
            raise TrelloError(400, "invalid id")
        lst = self.world.lists.get(ref)
        if lst is None:
            raise TrelloError(404, NOT_FOUND_TEXT)
        return lst

    def _member_id(self, ref: str) -> str:
        if ref == "me":
            return self.world.me_id
        if ref in self.world.members:
            return ref
        for member in self.world.members.values():
            if member.username == ref:
                return member.id
        raise TrelloError(404, "model not found")

    # -- rendering helpers ----------------------------------------------------------------

    def _card_opts(self, request: Request) -> dict[str, Any]:
        args = request.args
        attachments = args.get("attachments", "false")
        return {
            "fields": _fields(args.get("fields")),
            "custom_items": _bool(args.get("customFieldItems", "false"), "customFieldItems"),
            "attachments": attachments not in ("false", "cover", ""),
            "checklists": args.get("checklists", "none") not in ("none", ""),
            "members": _bool(args.get("members", "false"), "members"),
        }

    def _cards_response(self, request: Request, cards: list[Card]) -> Response:
        args = request.args
        limit_text = args.get("limit")
        before = Bound.parse("before", args.get("before"))
        since = Bound.parse("since", args.get("since"))
        if limit_text is not None or before is not None or since is not None:
            limit = parse_limit(limit_text, self.max_limit, self.max_limit)
            cards = page_cards(cards, before, since, limit)
        opts = self._card_opts(request)
        return _json([shapes.card_json(card, self.world, **opts) for card in cards])

    def _actions_response(
        self, request: Request, actions: list[Any], ids: list[str], default_filter: str
    ) -> Response:
        args = request.args
        wanted = parse_filter(args.get("filter"), default_filter)
        limit = parse_limit(args.get("limit"), 50, self.max_limit)
        page = parse_limit(args.get("page"), 0, 10**6, "page")
        before = Bound.parse("before", args.get("before"))
        since = Bound.parse("since", args.get("since"))
        models = args.get("idModels")
        id_models = frozenset(m for m in models.split(",") if m) if models else None
        chosen = select_actions(actions, ids, wanted, before, since, limit, page, id_models)
        if args.get("format") == "count":
            return _json({"_value": len(chosen)})
        fields = _fields(args.get("fields"))
        creator = _bool(args.get("memberCreator", "true"), "memberCreator")
        if fields is None and creator:
            body = "[" + ",".join(shapes.action_text(a, self.world) for a in chosen) + "]"
            return _raw_json(body)
        out: list[dict[str, Any]] = []
        for action in chosen:
            full = shapes.action_json(action, self.world, creator)
            obj = shapes.select(full, fields)
            if creator:
                obj["memberCreator"] = full["memberCreator"]
            out.append(obj)
        return _json(out)

    # -- members --------------------------------------------------------------------------

    def on_member(self, request: Request, ref: str) -> Response:
        """GET /1/members/{id|me|username}: the member."""
        member = self.world.members[self._member_id(ref)]
        obj = shapes.member_json(member, full=True, world=self.world)
        return _json(shapes.select(obj, _fields(request.args.get("fields"))))

    def on_member_boards(self, request: Request, ref: str, sub: str | None = None) -> Response:
        """GET /1/members/{id}/boards[/{filter}]: boards (all, open, closed...), lists optional."""
        member_id = self._member_id(ref)
        board_filter = sub or request.args.get("filter", "all")
        boards = [b for b in self.world.boards.values() if member_id in b.member_ids]
        if board_filter in ("open", "members", "organization"):
            boards = [b for b in boards if not b.closed]
        elif board_filter == "closed":
            boards = [b for b in boards if b.closed]
        elif board_filter in ("public", "starred"):
            boards = []
        elif board_filter != "all":
            raise BadParam("filter")
        fields = _fields(request.args.get("fields"))
        lists = request.args.get("lists", "none")
        out = []
        for board in boards:
            obj = shapes.select(shapes.board_json(board, self.world), fields)
            if lists != "none":
                obj["lists"] = [shapes.list_json(lst) for lst in self._lists(board, lists)]
            out.append(obj)
        return _json(out)

    # -- boards ---------------------------------------------------------------------------

    def _lists(self, board: Board, list_filter: str) -> list[TList]:
        lists = sorted(board.lists, key=lambda lst: lst.pos)
        if list_filter == "all":
            return lists
        if list_filter == "open":
            return [lst for lst in lists if not lst.closed]
        if list_filter == "closed":
            return [lst for lst in lists if lst.closed]
        if list_filter == "none":
            return []
        raise BadParam("filter")

    def on_board(self, request: Request, ref: str) -> Response:
        """GET /1/boards/{id or shortLink}: the board, with nested lists/cards/labels if asked."""
        board = self._board(ref)
        args = request.args
        obj = shapes.select(shapes.board_json(board, self.world), _fields(args.get("fields")))
        if args.get("lists", "none") != "none":
            obj["lists"] = [shapes.list_json(lst) for lst in self._lists(board, args["lists"])]
        if args.get("cards", "none") != "none":
            cards = board_cards(self.world, board, args["cards"])
            obj["cards"] = [shapes.card_json(card, self.world) for card in cards]
        if args.get("labels", "none") != "none":
            obj["labels"] = [shapes.label_json(label) for label in board.labels]
        if _bool(args.get("customFields", "false"), "customFields"):
            obj["customFields"] = [shapes.custom_field_json(d) for d in board.custom_fields]
        if args.get("members", "none") != "none":
            obj["members"] = [
                shapes.member_json(self.world.members[m], full=False) for m in board.member_ids
            ]
        return _json(obj)

    def on_board_lists(self, request: Request, ref: str, sub: str | None = None) -> Response:
        """GET /1/boards/{id}/lists[/{filter}]: lists by position (default open), cards if asked."""
        board = self._board(ref)
        args = request.args
        lists = self._lists(board, sub or args.get("filter", "open"))
        card_filter = args.get("cards", "none")
        fields = _fields(args.get("fields"))
        out = []
        cards: list[Card] = []
        if card_filter != "none":
            cards = board_cards(self.world, board, card_filter)
        card_fields = _fields(args.get("card_fields"))
        for lst in lists:
            obj = shapes.select(shapes.list_json(lst), fields)
            if card_filter != "none":
                obj["cards"] = [
                    shapes.card_json(card, self.world, fields=card_fields)
                    for card in cards
                    if card.list_id == lst.id
                ]
            out.append(obj)
        return _json(out)

    def on_board_cards(self, request: Request, ref: str, sub: str | None = None) -> Response:
        """GET /1/boards/{id}/cards[/{filter or card id}]: cards (never deleted ones), pageable."""
        board = self._board(ref)
        if sub is not None and sub not in CARD_FILTERS:
            card = self._card(sub)
            if card.board_id != board.id:
                raise TrelloError(404, NOT_FOUND_TEXT)
            return _json(shapes.card_json(card, self.world, **self._card_opts(request)))
        card_filter = sub or request.args.get("filter", "visible")  # open cards on open lists
        return self._cards_response(request, board_cards(self.world, board, card_filter))

    def on_board_actions(self, request: Request, ref: str) -> Response:
        """GET /1/boards/{id}/actions: the board's actions, newest first, filtered and paged."""
        board = self._board(ref)
        return self._actions_response(request, board.actions, board.action_ids, "all")

    def on_board_labels(self, request: Request, ref: str) -> Response:
        """GET /1/boards/{id}/labels: labels with their use counts (default limit 50)."""
        board = self._board(ref)
        limit = parse_limit(request.args.get("limit"), 50, self.max_limit)
        uses: dict[str, int] = {}
        for card_id in board.card_ids:
            for label_id in self.world.cards[card_id].label_ids:
                uses[label_id] = uses.get(label_id, 0) + 1
        fields = _fields(request.args.get("fields"))
        labels = board.labels[:limit]
        return _json(
            [shapes.select(shapes.label_json(lab, uses.get(lab.id, 0)), fields) for lab in labels]
        )

    def on_board_members(self, request: Request, ref: str) -> Response:
        """GET /1/boards/{id}/members: members (default fields id, fullName, username)."""
        board = self._board(ref)
        member_filter = request.args.get("filter", "all")
        ids = list(board.member_ids)
        if member_filter in ("admins", "owners"):
            ids = [m for m in ids if m == board.creator_id]
        elif member_filter == "normal":
            ids = [m for m in ids if m != board.creator_id]
        elif member_filter not in ("all", "none"):
            raise BadParam("filter")
        elif member_filter == "none":
            ids = []
        fields = _fields(request.args.get("fields", "id,fullName,username"))
        out = [shapes.select(shapes.member_json(self.world.members[m]), fields) for m in ids]
        return _json(out)

    def on_board_custom_fields(self, request: Request, ref: str) -> Response:
        """GET /1/boards/{id}/customFields: custom field definitions."""
        board = self._board(ref)
        return _json([shapes.custom_field_json(d) for d in board.custom_fields])

    def on_board_checklists(self, request: Request, ref: str) -> Response:
        """GET /1/boards/{id}/checklists: checklists of the board's cards."""
        board = self._board(ref)
        out: list[dict[str, Any]] = []
        for card_id in board.card_ids:
            out.extend(shapes.checklist_json(cl) for cl in self.world.cards[card_id].checklists)
        return _json(out)

    def on_board_field(self, request: Request, ref: str, field: str) -> Response:
        """GET /1/boards/{id}/{field}: one board field as {"_value": ...}."""
        board = self._board(ref)
        obj = shapes.board_json(board, self.world)
        if field not in obj:
            raise TrelloError(404, NOT_FOUND_TEXT)
        return _json({"_value": obj[field]})

    # -- cards ----------------------------------------------------------------------------

    def on_card(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}: the card (404 once deleted; a moved card shows its new board)."""
        card = self._card(ref)
        return _json(shapes.card_json(card, self.world, **self._card_opts(request)))

    def on_card_actions(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/actions: the card's actions (default commentCard, list moves)."""
        card = self._card(ref)
        actions = self.world.card_actions.get(card.id, [])
        ids = self.world.card_action_ids.get(card.id, [])
        return self._actions_response(request, actions, ids, DEFAULT_CARD_ACTIONS)

    def on_card_checklists(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/checklists: the card's checklists."""
        card = self._card(ref)
        return _json([shapes.checklist_json(cl) for cl in card.checklists])

    def on_card_attachments(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/attachments: the card's attachments."""
        card = self._card(ref)
        fields = _fields(request.args.get("fields"))
        return _json([shapes.select(shapes.attachment_json(a), fields) for a in card.attachments])

    def on_card_custom_items(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/customFieldItems: the card's custom field values."""
        return _json(shapes.custom_items_json(self._card(ref)))

    def on_card_plugin_data(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/pluginData: always empty (no Power-Ups emulated)."""
        self._card(ref)
        return _json([])

    def on_card_board(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/board: the card's board."""
        card = self._card(ref)
        return _json(shapes.board_json(self.world.boards[card.board_id], self.world))

    def on_card_list(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/list: the card's list."""
        card = self._card(ref)
        return _json(shapes.list_json(self.world.lists[card.list_id]))

    def on_card_members(self, request: Request, ref: str) -> Response:
        """GET /1/cards/{id}/members: members assigned to the card."""
        card = self._card(ref)
        return _json([shapes.member_json(self.world.members[m], False) for m in card.member_ids])

    def on_card_field(self, request: Request, ref: str, field: str) -> Response:
        """GET /1/cards/{id}/{field}: one card field as {"_value": ...}."""
        card = self._card(ref)
        obj = shapes.card_json(card, self.world)
        if field not in obj:
            raise TrelloError(404, NOT_FOUND_TEXT)
        return _json({"_value": obj[field]})

    # -- card mutations -------------------------------------------------------------------

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        """Query args, then form fields, then a JSON body (py-trello sends JSON)."""
        params: dict[str, Any] = dict(request.args.items())
        params.update(request.form.items())
        if request.data:
            try:
                body = json.loads(request.data)
            except ValueError as exc:
                raise TrelloError(400, "invalid JSON") from exc
            if isinstance(body, dict):
                params.update({k: v for k, v in body.items() if v is not None or k == "due"})
        params.pop("key", None)
        params.pop("token", None)
        return params

    def on_card_create(self, request: Request) -> Response:
        """POST /1/cards: create a card (a copy with idCardSource)."""
        params = self._params(request)
        list_id = params.get("idList")
        if not list_id or not ID_RE.match(str(list_id)) or list_id not in self.world.lists:
            raise BadParam("idList")
        labels = [x for x in str(params.get("idLabels") or "").split(",") if x]
        members = [x for x in str(params.get("idMembers") or "").split(",") if x]
        pos = params.get("pos")
        pos_value = None
        if pos not in (None, "", "bottom"):
            try:
                pos_value = 1.0 if pos == "top" else float(pos)
            except (TypeError, ValueError) as exc:
                raise BadParam("pos") from exc
        card_id = self.mutate.create_card(
            list_id,
            str(params.get("name") or ""),
            desc=str(params.get("desc") or ""),
            due=params.get("due"),
            due_complete=_bool(params.get("dueComplete", False), "dueComplete"),
            labels=labels,
            members=members,
            pos=pos_value,
            source=params.get("idCardSource") or None,
            keep_from_source=str(params.get("keepFromSource") or "all"),
        )
        return _json(shapes.card_json(self.world.cards[card_id], self.world))

    def _apply(self, card: Card, params: dict[str, Any]) -> None:
        """Apply PUT fields in a fixed order: board, list, closed, then the rest."""
        mutate = self.mutate
        if params.get("idBoard") and params["idBoard"] != card.board_id:
            board = self._board(str(params["idBoard"]))
            mutate.move_to_board(card, board.id, params.get("idList") or None)
        elif params.get("idList") and params["idList"] != card.list_id:
            lst = self._list(str(params["idList"]))
            if lst.board_id != card.board_id:
                raise BadParam("idList")
            mutate.move_card(card, lst.id)
        if "closed" in params:
            closed = _bool(params["closed"], "closed")
            if closed != card.closed:
                mutate.archive(card) if closed else mutate.unarchive(card)
        changes: dict[str, Any] = {}
        for name in ("name", "desc", "due", "start"):
            if name in params:
                changes[name] = params[name]
        if "dueComplete" in params:
            changes["dueComplete"] = _bool(params["dueComplete"], "dueComplete")
        if "pos" in params and params["pos"] not in ("top", "bottom"):
            try:
                changes["pos"] = float(params["pos"])
            except (TypeError, ValueError) as exc:
                raise BadParam("pos") from exc
        if changes:
            mutate.update(card, **changes)

    def on_card_update(self, request: Request, ref: str) -> Response:
        """PUT /1/cards/{id}: move, archive, rename, re-date or move to another board."""
        card = self._card(ref)
        self._apply(card, self._params(request))
        return _json(shapes.card_json(card, self.world))

    def on_card_field_update(self, request: Request, ref: str, field: str) -> Response:
        """PUT /1/cards/{id}/{field} with value=...: py-trello's setters."""
        card = self._card(ref)
        params = self._params(request)
        if field not in (
            "idList",
            "closed",
            "name",
            "desc",
            "due",
            "dueComplete",
            "pos",
            "idBoard",
            "start",
        ):
            raise TrelloError(404, f"Cannot PUT {request.path}")
        if "value" not in params:
            raise BadParam("value")
        update = {field: params["value"]}
        if field == "idBoard" and params.get("idList"):
            update["idList"] = params["idList"]
        self._apply(card, update)
        return _json(shapes.card_json(card, self.world))

    def on_card_delete(self, request: Request, ref: str) -> Response:
        """DELETE /1/cards/{id}: delete the card."""
        card = self._card(ref)
        self.mutate.delete(card)
        return _json({"limits": {}})

    def on_card_comment(self, request: Request, ref: str) -> Response:
        """POST /1/cards/{id}/actions/comments: comment on the card."""
        card = self._card(ref)
        text = str(self._params(request).get("text") or "")
        if not text:
            raise BadParam("text")
        action_id = self.mutate.comment(card, text)
        return _json(shapes.action_json(self.world.actions[action_id], self.world))

    # -- lists and actions ----------------------------------------------------------------

    def on_list(self, request: Request, ref: str) -> Response:
        """GET /1/lists/{id}: the list."""
        lst = self._list(ref)
        return _json(shapes.select(shapes.list_json(lst), _fields(request.args.get("fields"))))

    def on_list_board(self, request: Request, ref: str) -> Response:
        """GET /1/lists/{id}/board: the list's board."""
        lst = self._list(ref)
        return _json(shapes.board_json(self.world.boards[lst.board_id], self.world))

    def on_list_cards(self, request: Request, ref: str) -> Response:
        """GET /1/lists/{id}/cards: the list's cards (default open), pageable."""
        lst = self._list(ref)
        board = self.world.boards[lst.board_id]
        card_filter = request.args.get("filter", "open")
        cards = [c for c in board_cards(self.world, board, card_filter) if c.list_id == lst.id]
        return self._cards_response(request, cards)

    def on_list_closed(self, request: Request, ref: str) -> Response:
        """PUT /1/lists/{id}/closed with value=true|false: archive or reopen the list."""
        lst = self._list(ref)
        params = self._params(request)
        if "value" not in params:
            raise BadParam("value")
        closed = _bool(params["value"], "value")
        if closed != lst.closed:
            if closed:
                self.mutate.archive_list(lst.id)
            else:
                self.mutate.unarchive_list(lst.id)
        return _json(shapes.list_json(lst))

    def on_action(self, request: Request, ref: str) -> Response:
        """GET /1/actions/{id}: one action."""
        if not ID_RE.match(ref):
            raise TrelloError(400, "invalid id")
        action = self.world.actions.get(ref)
        if action is None:
            raise TrelloError(404, NOT_FOUND_TEXT)
        return _raw_json(shapes.action_text(action, self.world))
