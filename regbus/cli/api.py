"""``regbus api token create | list | revoke``: bearer tokens for the worker's HTTP API."""

from __future__ import annotations

import orjson
import typer

from agents.api_auth import Role, TokenStore
from streams.settings import Settings

app = typer.Typer(help="The worker's HTTP API: access tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _store() -> TokenStore:
    return TokenStore(Settings.from_env().state_dir)


@token_app.command("create")
def create(
    role: Role = typer.Option(..., "--role", help="regulator, auditor or platform"),
    platform: str = typer.Option(None, "--platform", help="the platform id (role platform)"),
    name: str = typer.Option(None, "--name", help="a name for the token (default: role:platform)"),
) -> None:
    """Issue a token and print it once (only its SHA-256 is kept, in the state dir)."""
    label = name or (f"{role.value}:{platform}" if platform else role.value)
    try:
        token = _store().create(label, role, platform)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


@token_app.command("list")
def list_tokens(as_json: bool = typer.Option(False, "--json")) -> None:
    """The tokens issued (names, roles, platforms; never the tokens)."""
    entries = _store().list()
    if as_json:
        typer.echo(orjson.dumps(entries).decode())
        return
    for e in entries:
        typer.echo(f"{e['name']}\t{e['role']}\t{e.get('platform') or '-'}\t{e['created_at']}")


@token_app.command("revoke")
def revoke(name: str = typer.Argument(...)) -> None:
    """Revoke a token by name (the worker refuses it at its next request)."""
    if not _store().revoke(name):
        typer.echo(f"error: no token named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")
