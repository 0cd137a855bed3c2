"""The console's aiohttp application: sessions, CSRF, language, login, and the routes.

The pages themselves are in :mod:`console.views`; this module wires them with the
middlewares every request goes through: the encrypted session cookie, the login check (an
expired or missing session goes to the login page and comes back to the page asked for), the
CSRF token on every POST, the language (``zh-CN`` default, English switch) and the error pages
(a 404 page for an unknown page or case; never a traceback).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from console.auth import Viewer, scope_of, verify
from console.i18n import normalise
from console.pages import PARTS, ConsoleParts, parts_of, render, wants_json
from schemas.models import Role

log = logging.getLogger("regbus.console")

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
PUBLIC = ("/login", "/static/", "/lang", "/health")

__all__ = ["ConsoleParts", "build_app"]


def _csrf_ok(session_token: str, given: str) -> bool:
    return bool(session_token) and hmac.compare_digest(session_token, given)


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if wants_json(request):
            return web.json_response({"error": "not found", "path": request.path}, status=404)
        return render(request, "404.html", {"what": request.path}, status=404)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("console: %s %s failed", request.method, request.path)
        if wants_json(request):
            return web.json_response({"error": "internal error"}, status=500)
        return render(request, "500.html", {}, status=500)


@web.middleware
async def _auth(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    session = await get_session(request)
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    request["csrf"] = token
    if request.method == "POST":
        form = await request.post()
        if not _csrf_ok(token, str(form.get("csrf", ""))):
            raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page.")
    if request.path.startswith(PUBLIC):
        return await handler(request)
    parts = parts_of(request)
    now = time.time()
    user = session.get("user")
    if not user or session.get("expires", 0) < now:
        if wants_json(request):
            return web.json_response({"error": "login required"}, status=401)
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
    account = parts.model.account(user)
    if account is None:
        session.invalidate()
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
    viewer = Viewer(
        account["username"], Role(account["role"]), account["office"], account["display_name"]
    )
    request["viewer"] = viewer
    request["scope"] = scope_of(viewer, parts.model.roster_events(), parts.clock())
    return await handler(request)


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.method == "GET":
        return render(
            request,
            "login.html",
            {"next": _safe_next(request.query.get("next", "/")), "errors": {}},
        )
    parts = parts_of(request)
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    nxt = _safe_next(str(form.get("next", "/")))
    address = request.remote or "-"
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Enter your account name."
    if parts.account_throttle.blocked(username) or parts.address_throttle.blocked(address):
        errors["password"] = "Too many failed logins; try again in a few minutes."
    if not errors:
        account = parts.model.account(username)
        if account is None or not verify(account["password_hash"], password):
            parts.account_throttle.fail(username)
            parts.address_throttle.fail(address)
            errors["password"] = "Account name or password is wrong."
    if errors:
        return render(
            request, "login.html", {"next": nxt, "errors": errors, "username": username}, status=400
        )
    parts.account_throttle.reset(username)
    session = await new_session(request)
    session["user"] = username
    session["expires"] = time.time() + parts.session_seconds
    session["csrf"] = secrets.token_urlsafe(24)
    raise web.HTTPFound(nxt)


async def logout(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPFound("/login")


async def switch_lang(request: web.Request) -> web.StreamResponse:
    lang = normalise(request.query.get("to"))
    response = web.HTTPFound(_safe_next(request.query.get("next", "/")))
    response.set_cookie("lang", lang, max_age=365 * 86400, httponly=True, samesite="Lax")
    raise response


async def health(request: web.Request) -> web.StreamResponse:
    parts = parts_of(request)
    lag = parts.model.lag()
    return web.json_response(
        {
            "feed": "running"
            if parts.feed and parts.feed.error is None
            else (parts.feed.error if parts.feed else "not started"),
            "lag": sum(r["lag"] for r in lag),
            "partitions": lag,
        }
    )


def _session_key(secret: str | None) -> bytes:
    """32 raw bytes (aiohttp-session makes the Fernet key of them); a random key when no
    secret is configured, so sessions then end with the process."""
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    return secrets.token_bytes(32)


def build_app(parts: ConsoleParts, session_secret: str | None = None) -> web.Application:
    from console import views

    app = web.Application(middlewares=[])
    app[PARTS] = parts
    setup_session(
        app,
        EncryptedCookieStorage(
            _session_key(session_secret),
            cookie_name="regbus_console",
            max_age=parts.session_seconds,
            httponly=True,
            samesite="Lax",
        ),
    )
    app.middlewares.append(_errors)
    app.middlewares.append(_auth)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    app.router.add_route("*", "/login", login_page)
    app.router.add_post("/logout", logout)
    app.router.add_get("/lang", switch_lang)
    app.router.add_get("/health", health)
    views.add_routes(app)
    app.router.add_static("/static/", STATIC)
    return app
