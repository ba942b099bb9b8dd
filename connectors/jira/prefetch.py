"""Fetch the next search pages (with their complete changelogs) while earlier ones are stored.

A producer thread reads pages one after another (each keyset page needs the previous page's
last id) into a small queue, so downloading never waits for the writer unless it is a full
queue ahead; memory stays bounded by a few pages. A sync then costs about as long as the
download alone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulse.connectors.http_policy import SyncInterrupted
from pulse.connectors.jira.client import JiraSite
from pulse.connectors.jira.search import complete_changelogs, search_page

AHEAD = 2  # pages fetched and waiting for the writer, at most


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
    earlier ones are consumed."""
    ready: queue.Queue[FetchedPage | BaseException | None] = queue.Queue(maxsize=AHEAD)
    done = threading.Event()  # the consumer has gone: the producer stops

    def hand_over(item: FetchedPage | BaseException | None) -> bool:
        while not done.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        position = after_id
        try:
            while True:
                if stop.is_set():
                    raise SyncInterrupted(f"{site.source.name}: stopped between pages")
                page = search_page(site, where, fields, position, page_size, expand=expand)
                histories = (
                    complete_changelogs(site, page.issues) if expand else [[] for _ in page.issues]
                )
                fetched = FetchedPage(page.issues, histories, position, page.next, page.total)
                if not hand_over(fetched) or page.next is None:
                    break
                position = page.next
            hand_over(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            hand_over(exc)

    producer = threading.Thread(target=produce, name="jira-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item = ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()
        producer.join()
