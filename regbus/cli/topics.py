"""``regbus topics create | apply | ls``."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from streams.admin import apply_topic_configs, ensure_topics
from streams.registry import load_platforms
from streams.settings import Settings
from streams.topics import DAY_MS, Catalogue

app = typer.Typer(help="Topics declared in the catalogue.", no_args_is_help=True)
console = Console()


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


@app.command()
def apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the differences, change nothing."),
) -> None:
    """Make existing topics' configs (retention above all) match the catalogue's schedule."""
    settings = Settings.from_env()
    specs = catalogue(settings).specs()
    diffs = asyncio.run(apply_topic_configs(settings.bootstrap, specs, dry_run=dry_run))
    table = Table("topic", "config", "was", "now" if not dry_run else "would be")
    for name, key, was, now in diffs:
        table.add_row(name, key, "(unset)" if was is None else was, now)
    if diffs:
        console.print(table)
    verb = "would change" if dry_run else "changed"
    console.print(f"{verb} {len(diffs)} value(s) on {len({d[0] for d in diffs})} topic(s)")


@app.command("ls")
def ls() -> None:
    """Show the catalogue: name, partitions, key, cleanup policy, retention."""
    table = Table("topic", "partitions", "key", "cleanup", "retention.ms", "retention")
    for spec in catalogue(Settings.from_env()):
        days = "forever" if spec.retention_ms < 0 else f"{spec.retention_ms // DAY_MS} d"
        table.add_row(
            spec.name,
            str(spec.partitions),
            spec.key,
            spec.cleanup_policy,
            str(spec.retention_ms),
            days,
        )
    console.print(table)
