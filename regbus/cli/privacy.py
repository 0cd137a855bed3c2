"""``regbus privacy erase CONSUMER_REF``: crypto-shred a data subject (PIPL erasure)."""

from __future__ import annotations

import asyncio
import getpass

import orjson
import typer

from audit.privacy import erase_subject
from streams.settings import Settings

app = typer.Typer(help="Personal data: erase a data subject.", no_args_is_help=True)


@app.command("erase")
def erase(
    consumer_ref: str = typer.Argument(..., help="the data subject's pseudonym"),
    by: str = typer.Option(None, "--by", help="who orders the erasure (default: your login)"),
    reason: str = typer.Option(None, "--reason", help="e.g. the request's reference"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Destroy the subject's key (their sealed data becomes unreadable everywhere in the log)
    and record a SubjectErased on the privacy topic; the hash chain is untouched."""
    event, had = asyncio.run(
        erase_subject(Settings.from_env(), consumer_ref, by or getpass.getuser(), reason)
    )
    if as_json:
        body = {"consumer_ref": consumer_ref, "key_existed": had, "event_id": event.event_id,
                "erased_at": event.occurred_at.isoformat()}  # fmt: skip
        typer.echo(orjson.dumps(body).decode())
        return
    if had:
        typer.echo(f"已删除 {consumer_ref} 的密钥 / erased the key of {consumer_ref}")
    else:
        typer.echo(
            f"{consumer_ref} 没有密钥;已记录删除 / no key for {consumer_ref}; erasure recorded"
        )
