"""``regbus platform add | ls | revoke | rotate``: the platform registry.

``add`` registers the platform and creates its ingress and inbox topics; on a secured broker
(``REGBUS_SECURITY_PROTOCOL`` SASL_*) it also creates the platform's SCRAM credential and
ACLs and prints where its credentials file is. ``revoke`` marks it revoked (ingress refuses
its records within seconds) and, on a secured broker, deletes its credential and ACLs.
"""

from __future__ import annotations

import asyncio

import typer

from regbus.cli._output import console as make_console
from regbus.cli._output import print_json, table
from streams.registry import (
    add_platform,
    read_registry,
    revoke_platform,
)
from streams.settings import Settings
from streams.topics import RegistryError, validate_platform_id

app = typer.Typer(help="Registered platforms.", no_args_is_help=True)
console = make_console()
err_console = make_console(stderr=True)


def _secure() -> bool:
    from streams.platform_secure import secure_mode

    return secure_mode()


@app.command()
def add(
    platform_id: str = typer.Argument(..., help="2-63 lowercase letters, digits, '-' or '_'"),
    name: str = typer.Option("", "--name", help="display name (default: the id)"),
) -> None:
    """Register a platform and create its topics (safe to re-run)."""
    settings = Settings.from_env()
    try:
        cat = asyncio.run(add_platform(settings, platform_id, name))
    except RegistryError as exc:
        err_console.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        f"registered {platform_id}: writes {cat.ingress(platform_id)}, "
        f"reads {cat.inbox(platform_id)}"
    )
    if _secure():
        from streams.platform_secure import provision_platform

        grant = asyncio.run(provision_platform(settings, platform_id))
        if grant.path is not None:
            console.print(f"credentials written to {grant.path} (mode 0600)")
        console.print(f"{len(grant.acls)} ACL(s) in place for {grant.principal}")


@app.command("ls")
def ls(
    show_all: bool = typer.Option(False, "--all", help="include revoked platforms"),
    as_json: bool = typer.Option(False, "--json", help="one JSON document"),
) -> None:
    """List registered platforms."""
    entries = asyncio.run(read_registry(Settings.from_env()))
    rows = []
    for pid in sorted(entries):
        entry = entries[pid]
        revoked = bool(entry.get("revoked"))
        if revoked and not show_all:
            continue
        rows.append(
            {
                "platform": pid,
                "name": str(entry.get("name", "")),
                "status": "revoked" if revoked else "active",
                "added_at": entry.get("added_at"),
                "revoked_at": entry.get("revoked_at") or None,
            }
        )
    if as_json:
        print_json({"platforms": rows})
        return
    columns = ("platform", "name", "status", "added", "revoked")
    console.print(table(columns, [tuple(r.values()) for r in rows]))


@app.command()
def revoke(platform_id: str = typer.Argument(...)) -> None:
    """Revoke a platform: ingress refuses its records from now on (UNKNOWN_PLATFORM)."""
    settings = Settings.from_env()
    try:
        validate_platform_id(platform_id)
        asyncio.run(revoke_platform(settings, platform_id))
    except RegistryError as exc:
        err_console.print(str(exc))
        raise typer.Exit(1) from None
    console.print(f"revoked {platform_id}")
    if _secure():
        from streams.platform_secure import revoke_platform_access

        deleted, removed = asyncio.run(revoke_platform_access(settings, platform_id))
        console.print(
            f"credential {'deleted' if deleted else 'was already gone'}, {removed} ACL(s) removed"
        )


@app.command()
def rotate(platform_id: str = typer.Argument(...)) -> None:
    """Replace a platform's credential (secured broker only)."""
    if not _secure():
        err_console.print("rotate needs a secured broker (REGBUS_SECURITY_PROTOCOL=SASL_*)")
        raise typer.Exit(1)
    from streams.platform_secure import rotate_platform

    grant = asyncio.run(rotate_platform(Settings.from_env(), platform_id))
    console.print(f"new credentials written to {grant.path} (mode 0600)")
