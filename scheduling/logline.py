"""The one structured log line each job run ends in: `job=sync:acme status=ok seconds=1.20 ...`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pulse.store.runs import SCHEDULED

_COUNT_KEYS = (
    "new",
    "updated",
    "deleted",
    "gone",
    "moved",
    "access_lost",
    "transitions",
    "sprints",
    "pages",
    "requests",
    "retries",
    "census",
)


def job_line(
    job: str,
    status: str,
    seconds: float | None = None,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
    **extra: Any,
) -> str:
    """`job=sync:acme status=ok seconds=1.20 new=3 ...`: one line, key=value, values quoted."""
    fields: dict[str, Any] = {"job": job, "trigger": SCHEDULED, "status": status}
    if seconds is not None:
        fields["seconds"] = f"{seconds:.2f}"
    for key in _COUNT_KEYS:
        if counts and key in counts:
            fields[key] = counts[key]
    fields.update({k: v for k, v in extra.items() if v is not None})
    if error:
        fields["error"] = error
    return " ".join(f"{key}={_logfmt(value)}" for key, value in fields.items())


def _logfmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    if text and not any(c in text for c in ' "=\n\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


def error_text(exc: BaseException | None) -> str:
    """An exception as a log line's `error` value."""
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"
