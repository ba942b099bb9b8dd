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


class TrelloHttp:
    """A tiny raw client for tests: `/1/...` paths, key and token added to every request."""

    def __init__(self, base_url: str, key: str, token: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = {"key": key, "token": token}
        self.timeout = timeout
        self.session = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        auth: bool = True,
    ) -> requests.Response:
        """Send `method /1{path}` with credentials (unless `auth=False`)."""
        query = {**(self.auth if auth else {}), **(params or {})}
        url = f"{self.base_url}/1{path}"
        return self.session.request(method, url, params=query, json=json, timeout=self.timeout)

    def get(self, path: str, **params: Any) -> requests.Response:
        """GET with query parameters."""
        return self.request("GET", path, params)

    def json(self, path: str, **params: Any) -> Any:
        """GET and return the JSON body, failing loudly on any non-200 answer."""
        response = self.get(path, **params)
        if response.status_code != 200:
            raise AssertionError(f"GET {path} -> {response.status_code}: {response.text[:200]}")
        return response.json()

    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()
