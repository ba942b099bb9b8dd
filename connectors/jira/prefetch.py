"""Fetch the next search page (with its complete changelogs) while the current one is stored.

Downloading and writing then overlap instead of alternating, so a sync costs about as long as
the download alone. One page ahead at most: memory stays bounded by two pages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connectors.http_policy import SyncInterrupted
from connectors.jira.client import JiraSite
from connectors.jira.search import complete_changelog, search_page


@dataclass
class FetchedPage:
    """A search page whose issues each carry their whole history, oldest first."""

    issues: list[dict[str, Any]]
    histories: list[list[dict[str, Any]]]
    position: str | int | None
    next: str | int | None
    total: int | None


def fetched_pages(
    site: JiraSite,
    jql: str,
    fields: list[str],
    page_size: int,
    stop: threading.Event,
    expand: str | None = "changelog",
) -> Iterator[FetchedPage]:
    """Every page of a search, in order, each fetched while the previous one is consumed.

    With offset paging (Data Center) a shrinking `total` means issues left the result set
    mid-pass and later ones moved up; the pages are then re-read from far enough back that
    none is skipped.
    """

    def fetch(position: str | int | None) -> FetchedPage:
        if stop.is_set():
            raise SyncInterrupted(f"{site.source.name}: stopped between pages")
        page = search_page(site, jql, fields, position, page_size, expand=expand)
        histories = [complete_changelog(site, issue) if expand else [] for issue in page.issues]
        return FetchedPage(page.issues, histories, position, page.next, page.total)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-prefetch") as pool:
        pending: Future[FetchedPage] | None = pool.submit(fetch, None)
        previous_total: int | None = None
        while pending is not None:
            page = pending.result()
            if (
                previous_total is not None
                and page.total is not None
                and page.total < previous_total
            ):
                back = max(0, int(page.position or 0) - (previous_total - page.total))
                previous_total = page.total
                pending = pool.submit(fetch, back)
                continue
            if page.total is not None:
                previous_total = page.total
            pending = pool.submit(fetch, page.next) if page.next is not None else None
            try:
                yield page
            except GeneratorExit:
                if pending is not None:
                    pending.cancel()
                raise
