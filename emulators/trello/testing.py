"""Helpers for pointing real clients at the emulator.

py-trello hard-codes `https://api.trello.com/1/...`; it accepts any `http_service` with a
`requests`-like `.request()`, so a `requests.Session` subclass that rewrites the host is all a
client needs. The real connector does the same with its own session.
"""

from __future__ import annotations

from typing import Any

import requests

TRELLO_API = "https://api.trello.com"


class HostRedirectSession(requests.Session):
    """A requests.Session that sends `https://api.trello.com/...` to another base URL."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Rewrite Trello's host to the emulator, then send as usual (with a timeout)."""
        target = url.decode() if isinstance(url, bytes) else url
        if target.startswith(TRELLO_API):
            target = self.base_url + target[len(TRELLO_API) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, target, *args, **kwargs)


def pytrello_client(base_url: str, key: str, token: str) -> Any:
    """A py-trello TrelloClient (key/token auth) talking to the emulator at `base_url`."""
    from trello import TrelloClient

    session = HostRedirectSession(base_url)
    return TrelloClient(api_key=key, api_secret=token, http_service=session)
