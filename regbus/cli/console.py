"""``regbus console``: the bureau's web console (read model of the topics, zh-CN first)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from streams.settings import Settings

app = typer.Typer(
    help="The bureau's web console: worklists, alerts, cases, platforms, exports.",
    invoke_without_command=True,
)


def _admin_from_env() -> tuple[str, str] | None:
    value = os.environ.get("REGBUS_CONSOLE_ADMIN", "")
    if ":" not in value:
        return None
    user, password = value.split(":", 1)
    return user, password


@app.callback()
def console(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8080, help="port to listen on"),
    db: Path | None = typer.Option(None, help="read model SQLite file"),
) -> None:
    """Start the console against a running broker and print its address.

    The first admin comes from REGBUS_CONSOLE_ADMIN=user:password when no account exists;
    REGBUS_CONSOLE_SECRET keeps sessions valid across restarts."""
    if ctx.invoked_subcommand is not None:
        return
    from console.server import ConsoleOptions, serve

    options = ConsoleOptions(
        host=host,
        port=port,
        db_path=db,
        admin=_admin_from_env(),
        session_secret=os.environ.get("REGBUS_CONSOLE_SECRET"),
    )
    try:
        asyncio.run(serve(Settings.from_env(), options))
    except KeyboardInterrupt:
        pass


@app.command()
def rebuild(db: Path | None = typer.Option(None, help="read model SQLite file")) -> None:
    """Rebuild the read model from the log (the old file is replaced)."""
    from console.feed import fold_log
    from console.readmodel import SqliteReadModel
    from console.server import default_db
    from streams.topics import Catalogue

    settings = Settings.from_env()
    path = db or default_db(settings)
    fresh = path.with_suffix(".rebuild")
    for p in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        p.unlink(missing_ok=True)
    model = SqliteReadModel(fresh)
    count = asyncio.run(fold_log(settings, Catalogue(settings.topic_prefix), model))
    model.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    fresh.replace(path)
    typer.echo(f"read model rebuilt from the log: {count} events → {path}")


@app.command("add-user")
def add_user(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., help="OFFICE, DEPARTMENT, LEADERSHIP, AUDITOR or ADMIN"),
    office: str | None = typer.Option(None, help="office code (office staff)"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a regulator account (an AccountCreated event with an argon2 hash)."""
    from datetime import UTC, datetime

    from console.auth import account_created
    from console.feed import FactWriter
    from schemas.models import Role
    from streams.topics import Catalogue

    try:
        role_value = Role(role.upper())
    except ValueError:
        raise typer.BadParameter(f"role {role!r}: use {', '.join(r.value for r in Role)}") from None
    if role_value is Role.OFFICE and not office:
        raise typer.BadParameter("office staff need --office")
    settings = Settings.from_env()

    async def go() -> None:
        writer = FactWriter(settings)
        await writer.start()
        try:
            event = account_created(
                username, password, role_value, office, "cli", datetime.now(UTC)
            )
            await writer.write(Catalogue(settings.topic_prefix).accounts, username, event)
        finally:
            await writer.stop()

    asyncio.run(go())
    typer.echo(f"account {username} ({role_value.value}) created")
