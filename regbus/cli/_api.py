"""Reading a running worker's HTTP API from the CLI: one place for the address, the token and
one-line errors (no traceback) when it cannot be reached."""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import orjson

from regbus.cli._output import EXIT_FINDINGS, fail

DEFAULT_API_URL = "http://127.0.0.1:6066"
API_URL_ENV = "REGBUS_API_URL"
API_TOKEN_ENV = "REGBUS_API_TOKEN"


def api_url(given: str | None = None) -> str:
    """``--url``, else ``REGBUS_API_URL``, else the local worker's default address."""
    return (given or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")


def get_json(
    base: str, path: str, query: dict[str, str] | None = None, token: str | None = None
) -> Any:
    """GET ``base + path`` as JSON, with ``token`` (default ``REGBUS_API_TOKEN``) as a bearer
    token; a 404 returns None, any other failure exits with one line."""
    target = base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
    request = urllib.request.Request(target, headers={"Accept": "application/json"})
    token = token or os.environ.get(API_TOKEN_ENV)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return orjson.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        detail = exc.read().decode(errors="replace")[:300]
        fail(f"{target}: HTTP {exc.code}: {detail}", EXIT_FINDINGS)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        fail(
            f"cannot reach the worker's API at {base} ({reason}); is `regbus worker` running? "
            f"(set {API_URL_ENV} or --url for another address)",
            EXIT_FINDINGS,
        )
