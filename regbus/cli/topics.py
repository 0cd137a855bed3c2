"""``regbus topics create | ls``."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from streams.admin import ensure_topics
from streams.registry import load_platforms
from streams.settings import Settings
from streams.topics import Catalogue

app = typer.Typer(help="Topics declared in the catalogue.", no_args_is_help=True)
console = Console()


def catalogue(settings: Settings) -> Catalogue:
    platforms = asyncio.run(load_platforms(settings))
    return Catalogue.from_settings(settings).with_platforms(platforms)


@app.command()
def create() -> None:
    """Create every catalogue topic that is missing (safe to re-run)."""
    settings = Settings.from_env()
    created = asyncio.run(ensure_topics(settings.bootstrap, catalogue(settings).specs()))
    console.print(
        f"created {len(created)} topic(s)" + (": " + ", ".join(created) if created else "")
    )


@app.command("ls")
def ls() -> None:
    """Show the catalogue: name, partitions, key, cleanup policy, retention."""
    table = Table("topic", "partitions", "key", "cleanup", "retention.ms")
    for spec in catalogue(Settings.from_env()):
        table.add_row(
            spec.name, str(spec.partitions), spec.key, spec.cleanup_policy, str(spec.retention_ms)
        )
    console.print(table)
