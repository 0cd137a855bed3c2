"""``regbus schemas``: the contract's maintenance commands.

regbus schemas lock [--update]     schema ids pinned in schemas/schema-ids.lock.json
regbus schemas check               BACKWARD_TRANSITIVE compatibility of every history
regbus schemas asyncapi [--out P]  the AsyncAPI 3.0.0 document from the topic catalogue
regbus schemas scaffold NAME       the .avsc a model implies (start of a new version)
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="The event contract: Avro schemas, ids, compatibility, AsyncAPI.")


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"✗ {line}", err=True)
    raise typer.Exit(1)


@app.command()
def lock(
    update: bool = typer.Option(False, help="Pin ids for new schema versions and write the file."),
) -> None:
    """Check that every .avsc has a pinned id and no pinned schema changed."""
    from schemas.lock import LOCK_PATH, LockError, problems, read_lock, updated, write_lock
    from schemas.repository import load_histories

    hist = load_histories()
    current = read_lock()
    if update:
        try:
            new = updated(hist, current)
        except LockError as exc:
            _fail(str(exc).split("; "))
        added = sorted(set(new) - set(current))
        write_lock(new)
        for subject, version in added:
            typer.echo(f"pinned {subject} v{version} -> id {new[(subject, version)].id}")
        typer.echo(f"{LOCK_PATH.name}: {len(new)} schema ids")
        return
    found = problems(hist, current)
    if found:
        _fail(found)
    typer.echo(f"{LOCK_PATH.name}: all {len(current)} schema ids in sync")


@app.command()
def check() -> None:
    """BACKWARD_TRANSITIVE: each version reads data written by every older version."""
    from schemas.compat import backward_transitive_problems
    from schemas.repository import load_histories

    hist = load_histories()
    found = backward_transitive_problems(hist)
    if found:
        _fail(found)
    versions = sum(len(v) for v in hist.values())
    typer.echo(f"{len(hist)} events, {versions} schema versions: BACKWARD_TRANSITIVE holds")


@app.command()
def asyncapi(
    out: Path | None = typer.Option(None, help="Write here (.yaml/.yml → YAML, else JSON)."),
    prefix: str | None = typer.Option(None, help="Topic prefix (default REGBUS_TOPIC_PREFIX)."),
    platform: list[str] = typer.Option([], help="Also list this platform's topics (repeat)."),
    replicas: int = typer.Option(1, min=1, help="Replication factor of the topics."),
) -> None:
    """Write the AsyncAPI 3.0.0 document of every topic and message."""
    from streams.asyncapi import asyncapi_document
    from streams.settings import Settings
    from streams.topics import Catalogue

    settings = Settings.from_env()
    catalogue = Catalogue(prefix or settings.topic_prefix, tuple(platform))
    doc = asyncapi_document(catalogue, replicas=replicas, bootstrap=settings.bootstrap)
    if out is not None and out.suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({len(doc['channels'])} channels)")


@app.command()
def scaffold(event: str = typer.Argument(..., help="Event name, e.g. ComplaintFiled.")) -> None:
    """Print the Avro schema the pydantic model implies (review it, then save as vN.avsc)."""
    from schemas.derive import avro_schema_for
    from schemas.models import EVENT_TYPES

    if event not in EVENT_TYPES:
        _fail([f"unknown event {event!r}"])
    typer.echo(json.dumps(avro_schema_for(EVENT_TYPES[event]), indent=2, ensure_ascii=False))
