"""``regbus calendar add YEAR.yaml | ls``: PRC calendar years as data, published as events."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from agents.core.calendar import YearData, parse_year_text
from agents.core.errors import CalendarDataError
from schemas.families import CaseFamily
from schemas.models import CalendarYearPublished
from streams.admin import ensure_topics
from streams.codec import EventCodec
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

app = typer.Typer(help="Calendar years (holidays and make-up working days).", no_args_is_help=True)
console = Console()
SOURCE = "/bureau/calendar"
_NS = uuid.UUID("3c1f7a52-2b7e-5f0e-8a43-9d6c2e1b5a77")


def year_event(data: YearData, published_by: str, at: datetime) -> CalendarYearPublished:
    """The event for a year; its id is the year plus a hash of its days (same file = same id)."""
    holidays = sorted(d.isoformat() for d in data.holidays)
    workdays = sorted(d.isoformat() for d in data.workdays)
    digest = hashlib.sha256(f"{data.year}|{holidays}|{workdays}".encode()).hexdigest()
    return CalendarYearPublished(
        event_id=str(uuid.uuid5(_NS, f"{data.year}/{digest}")),
        case_id=f"calendar:{data.year}",
        platform_id="bureau",
        occurred_at=at.replace(microsecond=at.microsecond // 1000 * 1000),
        year=data.year,
        holidays=holidays,
        workdays=workdays,
        source=data.source or "(source not given)",
        published_by=published_by,
    )


async def publish_year(settings: Settings, event: CalendarYearPublished) -> int:
    """Write the year to the calendar topic, then to every case-topic partition (where the
    case agents apply it in order); returns the number of records written."""
    from aiokafka import AIOKafkaProducer

    catalogue = Catalogue(settings.topic_prefix)
    await ensure_topics(settings.bootstrap, [catalogue.by_name(catalogue.calendar)])
    codec = EventCodec()
    key, value, headers = codec.encode(event, SOURCE)
    key = str(event.year).encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        **client_kwargs(),
    )  # fmt: skip
    await producer.start()
    try:
        await (await producer.send(catalogue.calendar, value, key=key, headers=headers))
        futures = [
            await producer.send(
                catalogue.cases(family), value, key=key, partition=p, headers=headers
            )
            for family in CaseFamily
            for p in range(catalogue.case_partitions)
        ]
        for fut in futures:
            await fut
        return 1 + len(futures)
    finally:
        await producer.stop()


@app.command()
def add(
    path: Path = typer.Argument(..., help="A year file, e.g. 2027.yaml (see 2027.example.yaml)."),
    by: str = typer.Option("", "--by", help="Operator account (default: the login name)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; publish nothing."),
) -> None:
    """Validate a year's holidays and make-up working days and publish them to every worker."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        console.print(f"[red]{path}: cannot read: {exc}[/red]")
        raise typer.Exit(2) from None
    stem = path.name.split(".")[0]
    year = int(stem) if stem.isdigit() and len(stem) == 4 else None
    try:
        data = parse_year_text(text, str(path), year)
    except CalendarDataError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    event = year_event(data, by or getpass.getuser(), datetime.now(UTC))
    summary = (
        f"{data.year}: {len(data.holidays)} holidays, {len(data.workdays)} make-up working days"
        f" ({data.source or 'no source given'})"
    )
    if dry_run:
        console.print(f"valid — {summary}", highlight=False)
        return
    written = asyncio.run(publish_year(Settings.from_env(), event))
    console.print(
        f"published {summary} as {event.event_id} ({written} records); workers restate "
        "provisional deadlines at once",
        highlight=False,
    )
