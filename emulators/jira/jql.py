"""JQL: a lark grammar for what sync clients send, compiled to predicates over the world.

Dates without a zone are read in the searching user's profile time zone at minute precision,
as Jira does: a literal becomes one instant (`updated > "2026-11-20 10:05"` matches 10:05:30),
`yyyy-MM-dd` means midnight, `-15m`/`-2d`/`1w 2d` are relative to the emulator clock, and an
all-digit value is epoch milliseconds. Errors carry Jira's wording and surface as HTTP 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from lark import (
    Lark,
    Token,
    Transformer,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from pulse.emulators.jira import catalog as cat
from pulse.emulators.jira.model import Issue, World
from pulse.emulators.jira.timefmt import DAY, HOUR, MINUTE, local_date, to_ms, zone

GRAMMAR = r"""
start: or_expr? order_by?

?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr          -> neg
         | "!" not_expr           -> neg
         | "(" or_expr ")"
         | clause

clause: field OPERATOR operand     -> cmp
      | field _IN operands         -> in_list
      | field _NOT _IN operands    -> not_in_list
      | field _IS EMPTY_KW         -> is_empty
      | field _IS _NOT EMPTY_KW    -> is_not_empty

field: WORD | STRING | CF
operand: STRING | WORD | func | EMPTY_KW
operands: "(" operand ("," operand)* ")" | func
func: WORD "(" [arg ("," arg)*] ")"
arg: STRING | WORD

order_by: _ORDER _BY sort_key ("," sort_key)*
sort_key: field DIR?

_AND.2: /and(?![^\s()"',=!<>~])/i | "&&"
_OR.2: /or(?![^\s()"',=!<>~])/i | "||"
_NOT.2: /not(?![^\s()"',=!<>~])/i
_IN.2: /in(?![^\s()"',=!<>~])/i
_IS.2: /is(?![^\s()"',=!<>~])/i
EMPTY_KW.2: /(empty|null)(?![^\s()"',=!<>~])/i
_ORDER.2: /order(?![^\s()"',=!<>~])/i
_BY.2: /by(?![^\s()"',=!<>~])/i
DIR.2: /(asc|desc)(?![^\s()"',=!<>~])/i
OPERATOR: "!=" | ">=" | "<=" | "=" | ">" | "<" | "!~" | "~"
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
CF.3: /cf\[\d+\]/i
WORD: /[^\s()"',=!<>~\[\]&|]+/

%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)


class JqlError(ValueError):
    """An invalid query; the message is what Jira puts in `errorMessages`."""


# ------------------------------------------------------------------ AST
@dataclass(frozen=True)
class Func:
    """A JQL function call such as openSprints() or startOfDay(-1d)."""

    name: str
    args: tuple[str, ...]


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()
Operand = str | Func | _Empty


@dataclass(frozen=True)
class Clause:
    """One `field operator value(s)` clause."""

    field: str
    op: str  # = != > >= < <= ~ !~ in "not in" "is" "is not"
    values: tuple[Operand, ...]


@dataclass(frozen=True)
class BoolOp:
    """AND / OR / NOT over clauses."""

    op: str  # and | or | not
    children: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query: the WHERE tree (None when unbounded) and ORDER BY keys."""

    where: Any | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def _unquote(tok: Token) -> str:
    s = str(tok)
    if tok.type == "STRING":
        body = s[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    return s


class _Build(Transformer[Token, Any]):
    def start(self, items: list[Any]) -> Query:
        where = None
        order: tuple[tuple[str, bool], ...] = ()
        for item in items:
            if isinstance(item, tuple) and (not item or isinstance(item[0], tuple)):
                order = item
            else:
                where = item
        return Query(where, order)

    def or_expr(self, items: list[Any]) -> BoolOp:
        return BoolOp("or", tuple(items))

    def and_expr(self, items: list[Any]) -> BoolOp:
        return BoolOp("and", tuple(items))

    def neg(self, items: list[Any]) -> BoolOp:
        return BoolOp("not", (items[-1],))

    def field(self, items: list[Token]) -> str:
        return _unquote(items[0])

    def operand(self, items: list[Any]) -> Operand:
        item = items[0]
        if isinstance(item, Func):
            return item
        if isinstance(item, Token) and item.type == "EMPTY_KW":
            return EMPTY
        return _unquote(item)

    def arg(self, items: list[Token]) -> str:
        return _unquote(items[0])

    def func(self, items: list[Any]) -> Func:
        return Func(str(items[0]).lower(), tuple(a for a in items[1:] if a is not None))

    def operands(self, items: list[Any]) -> tuple[Operand, ...]:
        return tuple(items)

    def cmp(self, items: list[Any]) -> Clause:
        return Clause(items[0], str(items[1]), (items[2],))

    def in_list(self, items: list[Any]) -> Clause:
        return Clause(items[0], "in", _as_tuple(items[1]))

    def not_in_list(self, items: list[Any]) -> Clause:
        return Clause(items[0], "not in", _as_tuple(items[1]))

    def is_empty(self, items: list[Any]) -> Clause:
        return Clause(items[0], "is", (EMPTY,))

    def is_not_empty(self, items: list[Any]) -> Clause:
        return Clause(items[0], "is not", (EMPTY,))

    def sort_key(self, items: list[Any]) -> tuple[str, bool]:
        """Sort key for an ORDER BY field; 400 for unknown or unsortable fields."""
        desc = len(items) > 1 and str(items[1]).lower() == "desc"
        return (items[0], desc)

    def order_by(self, items: list[Any]) -> tuple[tuple[str, bool], ...]:
        return tuple(items)


def _as_tuple(value: Any) -> tuple[Operand, ...]:
    return value if isinstance(value, tuple) else (value,)


@lru_cache(maxsize=512)
def parse(jql: str) -> Query:
    """Parse JQL text; raises JqlError with Jira's message shape on syntax errors."""
    try:
        tree = _PARSER.parse(jql)
    except UnexpectedEOF:
        raise JqlError(
            f"Error in the JQL Query: Expecting either a value, list or function "
            f"but got end of query. (line 1, character {len(jql) + 1})"
        ) from None
    except UnexpectedCharacters as e:
        pos = e.pos_in_stream or 0
        raise JqlError(
            f"Error in the JQL Query: The character '{jql[pos]}' is a "
            f"reserved JQL character. You must enclose it in a string or use the "
            f"escape '\\u{ord(jql[pos]):04x}' instead. (line {e.line}, "
            f"character {e.column})"
        ) from None
    except UnexpectedToken as e:
        got = "end of query" if e.token.type == "$END" else f"'{e.token}'"
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got {got}. The valid "
            f"operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', "
            f"'NOT IN', 'IS' and 'IS NOT'. (line {e.line}, character {e.column})"
        ) from None
    except UnexpectedInput as e:  # pragma: no cover - other lark errors
        raise JqlError(f"Error in the JQL Query: {e}") from None
    result: Query = _Build().transform(tree)
    return result


# ------------------------------------------------------------------ evaluation
Pred = Callable[[Issue], bool]

DATE_FIELDS = {
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "resolved": "resolved",
    "resolutiondate": "resolved",
    "statuscategorychangeddate": "statuschanged",
}
REL = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.I)
REL_PART = re.compile(r"(\d+)\s*([wdhm])", re.I)
UNIT = {"w": 7 * DAY, "d": DAY, "h": HOUR, "m": MINUTE}
ABS_FORMATS = (
    ("%Y-%m-%d %H:%M", True),
    ("%Y/%m/%d %H:%M", True),
    ("%Y-%m-%d", False),
    ("%Y/%m/%d", False),
)
DATE_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)


class Compiler:
    """Compiles a parsed query against one world at one instant ("now")."""

    def __init__(self, world: World, now_ms: int, strict: bool = True) -> None:
        self.w = world
        self.now = now_ms
        self.tz = zone(world.user_timezone)
        self.strict = strict
        self.warnings: list[str] = []
        f = world.fields
        self.estimate_names = {
            f.estimate.name.lower(),
            f"cf[{f.estimate.custom_id}]",
            f.estimate.id,
        }
        self.flag_names = {"flagged", f"cf[{f.flagged.custom_id}]", f.flagged.id}
        self.sprint_names = {"sprint", f"cf[{f.sprint.custom_id}]", f.sprint.id}
        self.epic_link_names = {"epic link", "epiclink"}
        if f.epic_link is not None:
            self.epic_link_names |= {f"cf[{f.epic_link.custom_id}]", f.epic_link.id}

    def _missing(self, value: str, fld: str) -> None:
        msg = f"The value '{value}' does not exist for the field '{fld}'."
        if self.strict:
            raise JqlError(msg)
        self.warnings.append(msg)

    # ---- entry points
    def predicate(self, node: Any) -> Pred:
        """Compile a WHERE tree into a predicate over issues."""
        if node is None:
            return lambda issue: True
        if isinstance(node, BoolOp):
            parts = [self.predicate(c) for c in node.children]
            if node.op == "and":
                return lambda i: all(p(i) for p in parts)
            if node.op == "or":
                return lambda i: any(p(i) for p in parts)
            inner = parts[0]
            return lambda i: not inner(i)
        return self.clause(node)

    def clause(self, c: Clause) -> Pred:
        """Compile one clause, dispatching on the field's kind."""
        name = c.field.lower()
        if name in DATE_FIELDS:
            return self._date_clause(c, DATE_FIELDS[name])
        if name in ("due", "duedate"):
            return self._duedate_clause(c)
        if name in ("key", "issuekey", "id", "issue"):
            return self._key_clause(c)
        getter, resolver = self._set_field(name, c.field)
        return self._set_clause(c, getter, resolver)

    # ---- set-valued fields (equality semantics)
    def _set_field(
        self, name: str, original: str
    ) -> tuple[Callable[[Issue], Any], Callable[[Operand], set[Any]]]:
        w = self.w
        if name == "project":
            return (lambda i: (i.project_id,), self._resolve_project)
        if name in ("issuetype", "type"):
            return (lambda i: (i.type_id,), self._resolve_type)
        if name == "status":
            return (lambda i: (i.status,), self._resolve_status)
        if name == "statuscategory":
            return (lambda i: (cat.STATUSES[i.status].category.id,), self._resolve_category)
        if name in self.sprint_names:
            return (lambda i: i.sprints, self._resolve_sprint)
        if name == "parent":
            if w.flavour == "cloud":
                return (
                    lambda i: (i.parent,) if i.parent is not None else (),
                    lambda v: self._resolve_issue(v, "parent"),
                )
            return (
                lambda i: (
                    (i.parent,)
                    if i.parent is not None and cat.ISSUE_TYPES[i.type_id].subtask
                    else ()
                ),
                lambda v: self._resolve_issue(v, "parent"),
            )
        if name in self.epic_link_names:
            return (
                lambda i: (
                    (i.parent,)
                    if i.parent is not None and not cat.ISSUE_TYPES[i.type_id].subtask
                    else ()
                ),
                lambda v: self._resolve_issue(v, "Epic Link"),
            )
        if name in ("labels", "label"):
            return (
                lambda i: i.labels,
                lambda v: {v} if isinstance(v, str) else self._bad_func(v, original),
            )
        if name in ("assignee", "reporter", "creator"):
            attr = "assignee" if name == "assignee" else "reporter"
            return (
                lambda i: (getattr(i, attr),) if getattr(i, attr) is not None else (),
                lambda v: self._resolve_user(v, original),
            )
        if name in ("fixversion", "fixversions"):
            return (lambda i: i.fix_versions, self._resolve_version)
        if name == "resolution":
            return (lambda i: (i.resolution,), self._resolve_resolution)  # None: Unresolved
        if name == "priority":
            return (lambda i: (i.priority,), self._resolve_priority)
        if name in self.flag_names:
            return (
                lambda i: ("impediment",) if i.flagged else (),
                lambda v: {str(v).lower()} if isinstance(v, str) else set(),
            )
        if name in self.estimate_names:
            return (lambda i: (i.estimate,) if i.estimate is not None else (), self._resolve_number)
        if name in ("summary", "text", "description"):
            return (self._text_getter(name), lambda v: {str(v)})
        raise JqlError(
            f"Field '{original}' does not exist or you do not have permission to view it."
        )

    def _text_getter(self, name: str) -> Callable[[Issue], Any]:
        if name == "summary":
            return lambda i: (i.summary,)
        if name == "description":
            return lambda i: tuple(t for t in (self.w.description_of(i),) if t)
        return lambda i: tuple(t for t in (i.summary, self.w.description_of(i)) if t)

    def _set_clause(
        self, c: Clause, getter: Callable[[Issue], Any], resolver: Callable[[Operand], set[Any]]
    ) -> Pred:
        op = c.op
        if op in ("~", "!~"):
            words = [x.lower() for x in re.findall(r"\w+", str(c.values[0]))]

            def contains(i: Issue) -> bool:
                hay = " ".join(str(v) for v in getter(i)).lower()
                return bool(hay) and all(wd in hay for wd in words)

            return contains if op == "~" else (lambda i: bool(getter(i)) and not contains(i))
        if op in ("is", "is not") or (op in ("=", "!=") and c.values[0] is EMPTY):
            empty = op in ("is", "=")
            return lambda i: (not _present(getter(i))) == empty
        if op in (">", ">=", "<", "<="):
            targets = resolver(c.values[0])
            if not targets or not all(isinstance(t, (int, float)) for t in targets):
                raise JqlError(f"The operator '{op}' is not supported by the '{c.field}' field.")
            bound = next(iter(targets))
            cmp = _CMP[op]
            return lambda i: any(v is not None and cmp(v, bound) for v in getter(i))
        wanted: set[Any] = set()
        for v in c.values:
            wanted |= resolver(v)
        if op in ("=", "in"):
            return lambda i: any(v in wanted for v in getter(i))
        if op in ("!=", "not in"):
            return lambda i: bool(_present(getter(i))) and not any(v in wanted for v in getter(i))
        raise JqlError(f"The operator '{op}' is not supported by the '{c.field}' field.")

    # ---- resolvers
    def _bad_func(self, v: Operand, fld: str) -> set[Any]:
        if isinstance(v, Func):
            raise JqlError(f"Unable to find JQL function '{v.name}()'.")
        return set()

    def _resolve_project(self, v: Operand) -> set[Any]:
        if not isinstance(v, str):
            return self._bad_func(v, "project")
        for p in self.w.projects.values():
            if not self.w.project_visible(p.id):
                continue  # Jira answers as if a project you cannot browse did not exist
            if v.upper() == p.key or v == str(p.id) or v.lower() == p.name.lower():
                return {p.id}
        self._missing(v, "project")
        return set()

    def _resolve_type(self, v: Operand) -> set[Any]:
        if isinstance(v, Func):
            if v.name == "standardissuetypes":
                return {t.id for t in cat.ISSUE_TYPES.values() if not t.subtask}
            if v.name == "subtaskissuetypes":
                return {t.id for t in cat.ISSUE_TYPES.values() if t.subtask}
            return self._bad_func(v, "issuetype")
        if isinstance(v, str):
            t = cat.TYPE_BY_NAME.get(v.lower()) or cat.ISSUE_TYPES.get(v)
            if t is not None:
                return {t.id}
            if v.lower() in ("subtask", "sub task"):
                return {cat.SUBTASK.id}
            self._missing(v, "issuetype")
        return set()

    def _resolve_status(self, v: Operand) -> set[Any]:
        if isinstance(v, str):
            s = cat.STATUS_BY_NAME.get(v.lower()) or cat.STATUSES.get(v)
            if s is not None:
                return {s.id}
            self._missing(v, "status")
            return set()
        return self._bad_func(v, "status")

    def _resolve_category(self, v: Operand) -> set[Any]:
        if isinstance(v, str):
            for c in cat.CATEGORIES:
                if v.lower() in (c.key, c.name.lower(), str(c.id)):
                    return {c.id}
            self._missing(v, "statusCategory")
            return set()
        return self._bad_func(v, "statusCategory")

    def _resolve_sprint(self, v: Operand) -> set[Any]:
        sprints = self.w.sprints.values()
        if isinstance(v, Func):
            states = {
                "opensprints": ("active", "future"),
                "closedsprints": ("closed",),
                "futuresprints": ("future",),
            }.get(v.name)
            if states is None:
                return self._bad_func(v, "sprint")
            return {s.id for s in sprints if s.state in states}
        if isinstance(v, str):
            if v.isdigit():
                if int(v) in self.w.sprints:
                    return {int(v)}
                self._missing(v, "sprint")
                return set()
            found = {s.id for s in sprints if s.name.lower() == v.lower()}
            if not found:
                self._missing(v, "sprint")
            return found
        return set()

    def _resolve_issue(self, v: Operand, fld: str) -> set[Any]:
        if isinstance(v, str):
            issue = self.w.lookup(v)
            if issue is not None and self.w.visible(issue):
                return {issue.id}
            self._missing(v, fld)
            return set()
        return self._bad_func(v, fld)

    def _resolve_user(self, v: Operand, fld: str) -> set[Any]:
        if isinstance(v, Func):
            if v.name == "currentuser":
                return {self.w.me}
            return self._bad_func(v, fld)
        if isinstance(v, str):
            for u in self.w.users:
                if (
                    v in (u.account_id, u.name, u.key, u.email)
                    or v.lower() == u.display_name.lower()
                ):
                    return {u.index}
            self._missing(v, fld)
        return set()

    def _resolve_version(self, v: Operand) -> set[Any]:
        versions = self.w.versions.values()
        if isinstance(v, Func):
            if v.name == "releasedversions":
                return {x.id for x in versions if x.released}
            if v.name == "unreleasedversions":
                return {x.id for x in versions if not x.released}
            return self._bad_func(v, "fixVersion")
        if isinstance(v, str):
            found = {x.id for x in versions if v in (x.name, str(x.id))}
            if not found:
                self._missing(v, "fixVersion")
            return found
        return set()

    def _resolve_resolution(self, v: Operand) -> set[Any]:
        if isinstance(v, str):
            if v.lower() == "unresolved":
                return {None}
            for r in cat.RESOLUTIONS.values():
                if v.lower() in (r.name.lower(), r.id):
                    return {r.id}
            self._missing(v, "resolution")
        return set()

    def _resolve_priority(self, v: Operand) -> set[Any]:
        if isinstance(v, str):
            for pid, pname in cat.PRIORITIES.items():
                if v.lower() in (pname.lower(), pid):
                    return {pid}
            self._missing(v, "priority")
        return set()

    def _resolve_number(self, v: Operand) -> set[Any]:
        if isinstance(v, str):
            try:
                return {float(v)}
            except ValueError:
                raise JqlError(f"The value '{v}' is not a valid number.") from None
        return set()

    # ---- keys and ids (ordered)
    def _key_clause(self, c: Clause) -> Pred:
        fld = c.field

        def resolve(v: Operand) -> Issue | None:
            if not isinstance(v, str):
                self._bad_func(v, fld)
                return None
            issue = self.w.lookup(v)
            if issue is None or not self.w.visible(issue):
                if v.isdigit() and c.op in (">", ">=", "<", "<="):
                    return None
                msg = f"An issue with key '{v}' does not exist for field '{fld}'."
                if self.strict:
                    raise JqlError(msg)
                self.warnings.append(msg)
                return None
            return issue

        op = c.op
        if op in ("is", "is not"):
            return lambda i: op == "is not"
        if op in (">", ">=", "<", "<="):
            v = c.values[0]
            cmp = _CMP[op]
            if isinstance(v, str) and v.isdigit():
                n = int(v)
                return lambda i: cmp(i.id, n)
            ref = resolve(v)
            if ref is None:
                return lambda i: False
            pid, num = ref.project_id, _key_number(ref.key)
            return lambda i: i.project_id == pid and cmp(_key_number(i.key), num)
        ids = {r.id for r in (resolve(v) for v in c.values) if r is not None}
        if op in ("=", "in"):
            return lambda i: i.id in ids
        if op in ("!=", "not in"):
            return lambda i: i.id not in ids
        raise JqlError(f"The operator '{op}' is not supported by the '{fld}' field.")

    # ---- dates
    def instant(self, v: Operand, fld: str) -> int:
        """The instant (epoch ms) a date operand denotes, in the user's zone."""
        if isinstance(v, Func):
            return self._date_func(v, fld)
        if not isinstance(v, str):
            raise JqlError(f"Date value 'EMPTY' for field '{fld}' is invalid. {DATE_HELP}")
        s = v.strip()
        if s.isdigit() and len(s) > 8:
            return int(s)
        m = REL.match(s)
        if m:
            sign = -1 if m.group(1) == "-" else 1
            delta = sum(int(n) * UNIT[u.lower()] for n, u in REL_PART.findall(m.group(2)))
            return self.now + sign * delta
        for fmt, _ in ABS_FORMATS:
            try:
                dt = datetime.strptime(s, fmt)
            except ValueError:
                continue
            return to_ms(dt.replace(tzinfo=self.tz))
        raise JqlError(f"Date value '{v}' for field '{fld}' is invalid. {DATE_HELP}")

    def _date_func(self, f: Func, fld: str) -> int:
        now_local = datetime.fromtimestamp(self.now / 1000, self.tz)
        offset = 0
        if f.args:
            m = REL.match(f.args[0].strip())
            if not m:
                raise JqlError(f"Function '{f.name}' has an invalid argument '{f.args[0]}'.")
            sign = -1 if m.group(1) == "-" else 1
            offset = sign * sum(int(n) * UNIT[u.lower()] for n, u in REL_PART.findall(m.group(2)))
        day0 = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
        if f.name == "now":
            return self.now + offset
        if f.name == "startofday":
            return to_ms(day0) + offset
        if f.name == "endofday":
            return to_ms(day0 + timedelta(days=1)) - 1 + offset
        if f.name == "startofweek":
            return to_ms(day0 - timedelta(days=(day0.weekday() + 1) % 7)) + offset
        if f.name == "endofweek":
            return to_ms(day0 + timedelta(days=7 - (day0.weekday() + 1) % 7)) - 1 + offset
        if f.name == "startofmonth":
            return to_ms(day0.replace(day=1)) + offset
        raise JqlError(f"Unable to find JQL function '{f.name}()'.")

    def _date_clause(self, c: Clause, kind: str) -> Pred:
        def get(i: Issue) -> int | None:
            if kind == "created":
                return i.created
            if kind == "updated":
                return i.updated
            if kind == "resolved":
                return i.resolved_at
            return i.status_changed_at

        op = c.op
        if op in ("is", "is not") or (op in ("=", "!=") and c.values[0] is EMPTY):
            empty = op in ("is", "=")
            return lambda i: (get(i) is None) == empty
        if op in ("in", "not in"):
            points = {self.instant(v, c.field) for v in c.values}
            if op == "in":
                return lambda i: get(i) in points
            return lambda i: get(i) is not None and get(i) not in points
        if op not in _CMP:
            raise JqlError(f"The operator '{op}' is not supported by the '{c.field}' field.")
        bound = self.instant(c.values[0], c.field)
        cmp = _CMP[op]

        def pred(i: Issue) -> bool:
            v = get(i)
            return v is not None and cmp(v, bound)

        return pred

    def _duedate_clause(self, c: Clause) -> Pred:
        op = c.op
        if op in ("is", "is not") or (op in ("=", "!=") and c.values[0] is EMPTY):
            empty = op in ("is", "=")
            return lambda i: (i.duedate is None) == empty
        if op in ("in", "not in"):
            days = {local_date(self.instant(v, c.field), self.w.user_timezone) for v in c.values}
            if op == "in":
                return lambda i: i.duedate in days
            return lambda i: i.duedate is not None and i.duedate not in days
        if op not in _CMP:
            raise JqlError(f"The operator '{op}' is not supported by the '{c.field}' field.")
        bound = local_date(self.instant(c.values[0], c.field), self.w.user_timezone)
        cmp = _CMP[op]
        return lambda i: i.duedate is not None and cmp(i.duedate, bound)

    # ---- ordering
    def sort_key(self, name: str) -> Callable[[Issue], Any]:
        """Sort key for an ORDER BY field; 400 for unknown or unsortable fields."""
        n = name.lower()
        w = self.w
        keys: dict[str, Callable[[Issue], Any]] = {
            "created": lambda i: i.created,
            "createddate": lambda i: i.created,
            "updated": lambda i: i.updated,
            "updateddate": lambda i: i.updated,
            "id": lambda i: i.id,
            "key": lambda i: (w.projects[i.project_id].key, _key_number(i.key)),
            "issuekey": lambda i: (w.projects[i.project_id].key, _key_number(i.key)),
            "duedate": lambda i: i.duedate,
            "due": lambda i: i.duedate,
            "resolved": lambda i: i.resolved_at,
            "resolutiondate": lambda i: i.resolved_at,
            "priority": lambda i: i.priority,
            "summary": lambda i: i.summary.lower(),
            "rank": lambda i: i.rank,
            "project": lambda i: w.projects[i.project_id].key,
            "issuetype": lambda i: cat.ISSUE_TYPES[i.type_id].name,
            "type": lambda i: cat.ISSUE_TYPES[i.type_id].name,
            "status": lambda i: cat.STATUSES[i.status].name,
            "assignee": lambda i: (
                w.users[i.assignee].display_name if i.assignee is not None else None
            ),
        }
        if n in keys:
            return keys[n]
        if n in self.estimate_names:
            return lambda i: i.estimate
        if (
            n in ("labels", "sprint", "fixversion", "statuscategory", "parent")
            or n in self.sprint_names
        ):
            raise JqlError(f"Not able to sort using field '{name}'.")
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _present(values: Any) -> list[Any]:
    return [v for v in values if v is not None]


def _key_number(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def evaluate(
    world: World, jql: str, now_ms: int, *, strict: bool = True, max_order_fields: int | None = None
) -> tuple[list[int], list[str]]:
    """Matching visible issue ids in query order, plus warnings (non-strict validation)."""
    query = parse(jql)
    comp = Compiler(world, now_ms, strict)
    pred = comp.predicate(query.where)
    order = query.order or (("created", True),)
    if max_order_fields is not None and len(order) > max_order_fields:
        raise JqlError(f"The ORDER BY clause can contain at most {max_order_fields} fields.")
    sorters = [(comp.sort_key(f), desc) for f, desc in order]
    matched = [i for i in world.issues.values() if world.visible(i) and pred(i)]
    matched.sort(key=lambda i: i.id)
    for getter, desc in reversed(sorters):
        matched.sort(key=_empty_last(getter), reverse=desc)
    return [i.id for i in matched], comp.warnings


def _empty_last(getter: Callable[[Issue], Any]) -> Callable[[Issue], tuple[bool, Any]]:
    """Sort key treating empty values as greater than every value (last asc, first desc)."""

    def key(issue: Issue) -> tuple[bool, Any]:
        v = getter(issue)
        return (v is None, v if v is not None else 0)

    return key


def is_bounded(jql: str) -> bool:
    """Whether the query restricts the result at all (Cloud rejects unbounded searches)."""
    return parse(jql).where is not None
