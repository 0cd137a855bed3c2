"""Start the console: the read model, its feed, the fact writer and the web application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from console.auth import account_created
from console.feed import FactWriter, Feed
from console.readmodel import SqliteReadModel
from console.web import ConsoleParts, build_app
from schemas.models import Role
from streams.admin import ensure_topics
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["ConsoleOptions", "bootstrap_admin", "running_console", "serve"]


@dataclass(frozen=True)
class ConsoleOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    db_path: Path | None = None
    """The SQLite file; default ``<state_dir>/console/readmodel.sqlite``."""
    session_secret: str | None = None
    admin: tuple[str, str] | None = None
    """(user, password) of a first admin, created when no account exists yet."""


def default_db(settings: Settings) -> Path:
    return settings.state_dir / "console" / "readmodel.sqlite"


async def bootstrap_admin(parts: ConsoleParts, user: str, password: str) -> bool:
    """Create the bootstrap admin account unless it exists (its event id is derived from the
    name, so a second console start re-sends the same fact, never a second account)."""
    if parts.model.account(user) is not None or parts.writer is None:
        return False
    event = account_created(user, password, Role.ADMIN, None, "bootstrap", datetime.now(UTC))
    await parts.writer.write(parts.catalogue.accounts, user, event)
    return True


@contextlib.asynccontextmanager
async def running_console(
    settings: Settings, options: ConsoleOptions
) -> AsyncIterator[tuple[ConsoleParts, str]]:
    """The console serving on ``options.host:port``; yields its parts and address."""
    catalogue = Catalogue(settings.topic_prefix)
    await ensure_topics(settings.bootstrap, catalogue.specs())
    model = SqliteReadModel(options.db_path or default_db(settings))
    feed = Feed(settings, catalogue, model)
    writer = FactWriter(settings, feed)
    parts = ConsoleParts(model=model, catalogue=catalogue, feed=feed, writer=writer)
    runner = web.AppRunner(build_app(parts, options.session_secret), access_log=None)
    await feed.start()
    await writer.start()
    try:
        await feed.poll_once(timeout_ms=200)
        if options.admin is not None:
            await bootstrap_admin(parts, *options.admin)
        await runner.setup()
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        yield parts, f"http://{options.host}:{options.port}/"
    finally:
        await runner.cleanup()
        await writer.stop()
        await feed.stop()
        model.close()


async def serve(settings: Settings, options: ConsoleOptions, announce: bool = True) -> None:
    async with running_console(settings, options) as (_parts, address):
        if announce:
            print(f"regbus console: {address}", flush=True)
        await asyncio.Event().wait()
