"""Credentials as Trello accepts them: `key`/`token` query parameters or an OAuth header."""

from __future__ import annotations

import re
from urllib.parse import unquote

from werkzeug.wrappers import Request

_OAUTH_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


def credentials(request: Request) -> tuple[str | None, str | None]:
    """(key, token) from the query string, else from `Authorization: OAuth oauth_consumer_key=
    "…", oauth_token="…"` (signed OAuth 1.0 headers are accepted without checking signatures)."""
    key = request.args.get("key")
    token = request.args.get("token")
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "oauth " and (key is None or token is None):
        params = {name: unquote(value) for name, value in _OAUTH_PARAM.findall(header)}
        key = key if key is not None else params.get("oauth_consumer_key")
        token = token if token is not None else params.get("oauth_token")
    return key, token
