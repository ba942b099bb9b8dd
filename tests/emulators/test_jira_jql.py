"""JQL grammar and evaluator, without HTTP: syntax, Boolean algebra, dates and errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulse.emulators.jira import JiraEmulator, OrgSpec
from pulse.emulators.jira.jql import (
    EMPTY,
    BoolOp,
    Clause,
    Func,
    JqlError,
    evaluate,
    is_bounded,
    parse,
)
from pulse.emulators.jira.timefmt import to_ms

EMU = JiraEmulator(  # pinned: the tests below name its dates
    OrgSpec(seed=77, projects=3, issues=400, now=datetime(2026, 11, 20, 12, tzinfo=UTC)), "cloud"
)
NOW = EMU.clock.now_ms()


def run(jql: str) -> list[int]:
    return evaluate(EMU.world, jql, NOW)[0]


def test_parse_shapes() -> None:
    q = parse(
        'Project IN (web, "MOB") and NOT (status = Done Or labels is empty) '
        "order by Updated desc, key"
    )
    assert q.order == (("Updated", True), ("key", False))
    assert isinstance(q.where, BoolOp) and q.where.op == "and"
    first, second = q.where.children
    assert first == Clause("Project", "in", ("web", "MOB"))
    assert isinstance(second, BoolOp) and second.op == "not"
    assert parse("sprint in openSprints()").where == Clause(
        "sprint", "in", (Func("opensprints", ()),)
    )
    assert parse('summary ~ "say \\"hi\\""').where == Clause("summary", "~", ('say "hi"',))
    assert parse("cf[10016] is not EMPTY").where == Clause("cf[10016]", "is not", (EMPTY,))
    assert parse("assignee = currentUser()").where == Clause(
        "assignee", "=", (Func("currentuser", ()),)
    )
    assert parse("labels not in (a, b)").where == Clause("labels", "not in", ("a", "b"))
    assert parse("created >= -2d").where == Clause("created", ">=", ("-2d",))


def test_keywords_need_word_boundaries() -> None:
    assert parse("android = 1").where == Clause("android", "=", ("1",))
    assert parse("status = ordered").where == Clause("status", "=", ("ordered",))


@pytest.mark.parametrize(
    "jql",
    [
        "project = ",
        "project = (WEB",
        "= WEB",
        "project WEB",
        'summary ~ "unterminated',
        "project in WEB, MOB)",
        "project = WEB AND",
    ],
)
def test_syntax_errors_name_the_position(jql: str) -> None:
    with pytest.raises(JqlError) as err:
        parse(jql)
    assert str(err.value).startswith("Error in the JQL Query:")
    assert "(line 1, character" in str(err.value)


def test_bounded() -> None:
    assert not is_bounded("")
    assert not is_bounded("order by created DESC")
    assert is_bounded("project = WEB order by created")


def test_equality_and_empty_semantics() -> None:
    w = EMU.world
    labelled = {i.id for i in w.issues.values() if i.labels}
    assert set(run("labels is not EMPTY")) == labelled
    assert set(run("labels = EMPTY")) == set(w.issues) - labelled
    # `!=` never matches an empty value; NOT does
    assert set(run("labels != frontend")) == {
        i.id for i in w.issues.values() if i.labels and "frontend" not in i.labels
    }
    assert set(run("NOT labels = frontend")) == {
        i.id for i in w.issues.values() if "frontend" not in i.labels
    }


def test_dates_use_the_user_zone() -> None:
    issue = next(iter(EMU.world.issues.values()))
    created = datetime.fromtimestamp(issue.created / 1000, UTC)
    local = created.astimezone(ZoneInfo("America/Los_Angeles"))
    minute = local.strftime("%Y-%m-%d %H:%M")
    assert issue.id in run(f'id = {issue.id} AND created >= "{minute}"')
    assert issue.id not in run(f'created < "{minute}"')
    utc_minute = created.strftime("%Y-%m-%d %H:%M")  # the classic bug: 8 hours off
    assert (issue.id in run(f'created >= "{utc_minute}"')) is False


def test_functions_and_numbers() -> None:
    w = EMU.world
    start_of_day = to_ms(datetime(2026, 11, 20, 8, tzinfo=UTC))  # midnight in Los Angeles
    assert set(run("updated >= startOfDay()")) == {
        i.id for i in w.issues.values() if i.updated >= start_of_day
    }
    assert set(run('"Story point estimate" > 5')) == {
        i.id for i in w.issues.values() if i.estimate is not None and i.estimate > 5
    }
    assert set(run("cf[10016] is EMPTY")) == {i.id for i in w.issues.values() if i.estimate is None}
    assert run("issuetype in subTaskIssueTypes()") == run("issuetype = Sub-task")
    with pytest.raises(JqlError, match="Unable to find JQL function"):
        run("updated > yesterday()")


CLAUSES = st.sampled_from(
    [
        "project = WEB",
        "project = MOB",
        "status = Done",
        'status = "To Do"',
        "statusCategory = indeterminate",
        "issuetype = Bug",
        "issuetype = Story",
        "labels = backend",
        "labels is EMPTY",
        "sprint in openSprints()",
        "sprint is EMPTY",
        "updated >= -30d",
        'created < "2026-09-01"',
        "Flagged is not EMPTY",
        '"Story point estimate" >= 3',
        "resolution = Unresolved",
    ]
)


@st.composite
def queries(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(CLAUSES)
    op = draw(st.sampled_from(["AND", "OR", "NOT"]))
    if op == "NOT":
        return f"NOT ({draw(queries(depth + 1))})"
    return f"({draw(queries(depth + 1))}) {op} ({draw(queries(depth + 1))})"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=queries(), b=queries())
def test_boolean_algebra(a: str, b: str) -> None:
    everything = set(EMU.world.issues)
    sa, sb = set(run(a)), set(run(b))
    assert set(run(f"({a}) AND ({b})")) == sa & sb
    assert set(run(f"({a}) OR ({b})")) == sa | sb
    assert set(run(f"NOT ({a})")) == everything - sa
    assert set(run(f"NOT (({a}) OR ({b}))")) == set(run(f"NOT ({a}) AND NOT ({b})"))


@settings(max_examples=25, deadline=None)
@given(q=queries(), field=st.sampled_from(["created", "updated", "key", "id"]), desc=st.booleans())
def test_order_by_only_reorders(q: str, field: str, desc: bool) -> None:
    plain = run(q)
    ordered = run(f"{q} ORDER BY {field} {'DESC' if desc else 'ASC'}")
    assert sorted(plain) == sorted(ordered)
    w = EMU.world

    def key(i: int) -> tuple[object, ...]:
        issue = w.issues[i]
        value: object = {
            "created": issue.created,
            "updated": issue.updated,
            "id": issue.id,
            "key": (issue.key.split("-")[0], int(issue.key.split("-")[1])),
        }[field]
        return (value,)

    for x, y in itertools.pairwise(ordered):
        assert (key(x) >= key(y)) if desc else (key(x) <= key(y))
