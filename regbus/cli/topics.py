"""``regbus topics create | ls``."""

from __future__ import annotations

import asyncio

import typer

from regbus.cli._output import console as make_console
from regbus.cli._output import print_json, table
from streams.admin import ensure_topics
from streams.registry import load_platforms
from streams.settings import Settings
from streams.topics import Catalogue

app = typer.Typer(help="Topics declared in the catalogue.", no_args_is_help=True)
console = make_console()


def catalogue(settings: Settings) -> Catalogue:
    platforms = asyncio.run(load_platforms(settings))
    return Catalogue(settings.topic_prefix).with_platforms(platforms)


@app.command()
def create() -> None:
    """Create every catalogue topic that is missing (safe to re-run)."""
    settings = Settings.from_env()
    created = asyncio.run(ensure_topics(settings.bootstrap, catalogue(settings).specs()))
    console.print(
        f"created {len(created)} topic(s)" + (": " + ", ".join(created) if created else "")
    )


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help="one JSON document")) -> None:
    """Show the catalogue: name, partitions, key, cleanup policy, retention."""
    specs = list(catalogue(Settings.from_env()))
    if as_json:
        print_json(
            {
                "topics": [
                    {
                        "name": s.name,
                        "family": s.family.value,
                        "partitions": s.partitions,
                        "key": s.key,
                        "value_schemas": list(s.value_schemas),
                        "cleanup_policy": s.cleanup_policy,
                        "retention_ms": s.retention_ms,
                        "config": s.config(),
                    }
                    for s in specs
                ]
            }
        )
        return
    columns = ("topic", "partitions", "key", "cleanup", "retention.ms")
    rows = [(s.name, s.partitions, s.key, s.cleanup_policy, s.retention_ms) for s in specs]
    console.print(table(columns, rows))
