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
from connectors.jira.search import complete_changelogs, search_page


@dataclass
class FetchedPage:
    """A search page whose issues each carry their whole history, oldest first."""

    issues: list[dict[str, Any]]
    histories: list[list[dict[str, Any]]]
    after_id: int | None
    next: int | None
    total: int | None


def fetched_pages(
    site: JiraSite,
    where: str,
    fields: list[str],
    page_size: int,
    stop: threading.Event,
    expand: str | None = "changelog",
    after_id: int | None = None,
) -> Iterator[FetchedPage]:
    """Every keyset page of `where` after issue id `after_id`, in id order, each fetched while
    the previous one is consumed."""

    def fetch(position: int | None) -> FetchedPage:
        if stop.is_set():
            raise SyncInterrupted(f"{site.source.name}: stopped between pages")
        page = search_page(site, where, fields, position, page_size, expand=expand)
        histories = complete_changelogs(site, page.issues) if expand else [[] for _ in page.issues]
        return FetchedPage(page.issues, histories, position, page.next, page.total)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-prefetch") as pool:
        pending: Future[FetchedPage] | None = pool.submit(fetch, after_id)
        while pending is not None:
            page = pending.result()
            pending = pool.submit(fetch, page.next) if page.next is not None else None
            try:
                yield page
            except GeneratorExit:
                if pending is not None:
                    pending.cancel()
                raise
