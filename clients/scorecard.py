"""A platform's own scorecard from the bureau's worker API (``GET /platforms/{id}/scorecard``).

The API authenticates with a bearer token; a platform's token reads only its own platform
(the server enforces it). Standard library only, so the SDK needs nothing more::

    card = await platform_scorecard("https://regbus.example", "acme", token, window="30d")
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["ScorecardError", "fetch_scorecard", "platform_scorecard"]


class ScorecardError(Exception):
    """The API refused or failed: ``status`` (0 when it could not be reached) and its message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status}: {message}" if status else message)


def _query(window: str | None, at: date | None, start: date | None, end: date | None) -> str:
    params: dict[str, str] = {}
    if window is not None:
        params["window"] = window
    if at is not None:
        params["at"] = at.isoformat()
    if start is not None or end is not None:
        if start is None or end is None:
            raise ValueError("start and end go together")
        params["from"], params["to"] = start.isoformat(), end.isoformat()
    return f"?{urlencode(params)}" if params else ""


def fetch_scorecard(
    base_url: str,
    platform_id: str,
    token: str | None,
    *,
    window: str | None = None,
    at: date | None = None,
    start: date | None = None,
    end: date | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """The scorecard JSON (blocking); :class:`ScorecardError` on any refusal."""
    url = (
        f"{base_url.rstrip('/')}/platforms/{quote(platform_id, safe='')}/scorecard"
        f"{_query(window, at, start, end)}"
    )
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            message = json.loads(body).get("error", body)
        except (ValueError, AttributeError):
            message = body
        raise ScorecardError(exc.code, str(message)[:500]) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ScorecardError(0, f"{url}: {exc}") from None


async def platform_scorecard(
    base_url: str, platform_id: str, token: str | None, **kwargs: Any
) -> dict[str, Any]:
    """:func:`fetch_scorecard` without blocking the event loop."""
    return await asyncio.to_thread(fetch_scorecard, base_url, platform_id, token, **kwargs)
