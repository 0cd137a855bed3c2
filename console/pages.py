"""What every console page shares: the console's typed parts, the user's language, the JSON
twin switch, and rendering a template with the catalogue and Beijing-time helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from console.auth import Throttle
from console.feed import FactWriter, Feed
from console.i18n import normalise, translator
from console.readmodel import ReadModel
from console.timefmt import beijing, duration
from streams.topics import Catalogue

SESSION_SECONDS = 8 * 3600

__all__ = [
    "PARTS",
    "SESSION_SECONDS",
    "ConsoleParts",
    "lang_of",
    "parts_of",
    "render",
    "wants_json",
]


@dataclass
class ConsoleParts:
    """What the console runs on (one typed object, not attributes stuck on the app)."""

    model: ReadModel
    catalogue: Catalogue
    feed: Feed | None = None
    writer: FactWriter | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    session_seconds: int = SESSION_SECONDS
    account_throttle: Throttle = field(default_factory=lambda: Throttle(5, 300))
    address_throttle: Throttle = field(default_factory=lambda: Throttle(30, 300))


PARTS: web.AppKey[ConsoleParts] = web.AppKey("console_parts", ConsoleParts)


def parts_of(request: web.Request) -> ConsoleParts:
    return request.app[PARTS]


def lang_of(request: web.Request) -> str:
    return normalise(request.cookies.get("lang") or "zh-CN")


def wants_json(request: web.Request) -> bool:
    return request.path.endswith(".json") or request.query.get("format") == "json"


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    lang = lang_of(request)
    tr = translator(lang)
    ctx = {
        "_": tr.gettext,
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh-CN" else "en",
        "bj": beijing,
        "dur": lambda ms: duration(int(ms), lang),
        "viewer": request.get("viewer"),
        "csrf": request.get("csrf", ""),
        "path_qs": request.path_qs,
        "quote": quote,
        "lag": parts_of(request).model.lag(),
        "feed_error": _feed_error(parts_of(request)),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, ctx, status=status)
    response.headers["Content-Language"] = ctx["html_lang"]
    return response


def _feed_error(parts: ConsoleParts) -> str | None:
    return None if parts.feed is None else parts.feed.error
