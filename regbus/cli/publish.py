"""``regbus publish --platform P FILE.ndjson``: validate a file of events, then send it.

One event per line, a JSON object naming its type and giving its fields::

    {"type": "ComplaintAcknowledged", "event_id": "acme-ack-0001", "case_id": "c-17",
     "occurred_at": "2025-03-01T08:00:00+08:00", "handler_ref": "agent-7"}

``platform_id`` may be left out (it is the ``--platform``). Every line is checked before
anything is sent: with any bad line nothing is sent and each problem is printed as
``file:line: field: problem`` (exit code 2); with ``--skip-invalid`` the good lines are sent
and the bad ones are copied, unchanged, to the rejects file so they can be fixed and re-fed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from clients.publisher import (
    WHOLE_ITEM,
    PlatformNotRegisteredError,
    PlatformPublisher,
    PublishReport,
    validate_item,
)
from schemas.models import Event
from streams.settings import Settings

console = Console()
err_console = Console(stderr=True)

EXIT_INVALID = 2
EXIT_FAILED = 1


@dataclass
class ParsedFile:
    good: list[tuple[int, Event]] = field(default_factory=list)
    bad: list[tuple[int, str, list[tuple[str, str]]]] = field(default_factory=list)
    """(line number, the line as read, [(field, problem)])."""


def parse_ndjson(lines: Iterable[str], platform_id: str) -> ParsedFile:
    """Every non-blank line validated as an event ``platform_id`` may send."""
    out = ParsedFile()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            out.bad.append((lineno, line, [(WHOLE_ITEM, f"not valid JSON: {exc}")]))
            continue
        if not isinstance(obj, dict):
            out.bad.append((lineno, line, [(WHOLE_ITEM, "a line must be a JSON object")]))
            continue
        event, errors = validate_item(platform_id, lineno, obj)
        if event is None:
            out.bad.append((lineno, line, [(e.field, e.message) for e in errors]))
        else:
            out.good.append((lineno, event))
    return out


async def _send(
    settings: Settings, platform_id: str, events: list[Event], chunk_size: int, show: bool
) -> PublishReport:
    from streams.security import client_kwargs

    total = PublishReport()
    async with PlatformPublisher(
        platform_id, settings.bootstrap, prefix=settings.topic_prefix,
        producer_options=client_kwargs(settings),
    ) as pub:  # fmt: skip
        with Progress(
            TextColumn("publishing"), BarColumn(), MofNCompleteColumn(),
            console=console, disable=not show, transient=True,
        ) as progress:  # fmt: skip
            task = progress.add_task("publish", total=len(events))
            for start in range(0, len(events), chunk_size):
                chunk = events[start : start + chunk_size]
                total.add(await pub.publish_batch(chunk), offset=start)
                progress.advance(task, len(chunk))
    return total


def publish_command(
    file: str = typer.Argument(..., help="NDJSON file of events, or - for stdin"),
    platform: str = typer.Option(..., "--platform", "-p", help="the publishing platform's id"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="send the valid lines; copy the invalid ones to --rejects"
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="where --skip-invalid puts bad lines (default FILE.rejects.ndjson)"
    ),
    chunk_size: int = typer.Option(500, "--chunk-size", min=1, help="events per batch"),
) -> None:
    """Validate every line of FILE, then publish the events as platform P."""
    if file == "-":
        name, parsed = "<stdin>", parse_ndjson(sys.stdin, platform)
        default_rejects = Path("stdin.rejects.ndjson")
    else:
        path = Path(file)
        if not path.is_file():
            err_console.print(f"{file}: no such file")
            raise typer.Exit(EXIT_FAILED)
        with path.open(encoding="utf-8", errors="replace") as fh:
            parsed = parse_ndjson(fh, platform)
        name, default_rejects = file, path.with_name(path.name + ".rejects.ndjson")
        if path.suffix == ".ndjson":
            default_rejects = path.with_suffix(".rejects.ndjson")

    for lineno, _, problems in parsed.bad:
        for fld, problem in problems:
            err_console.print(f"{name}:{lineno}: {fld}: {problem}", markup=False, soft_wrap=True)
    if parsed.bad and not skip_invalid:
        err_console.print(
            f"{len(parsed.bad)} invalid line(s): nothing was sent "
            "(fix them, or use --skip-invalid to send the valid lines)"
        )
        raise typer.Exit(EXIT_INVALID)
    if parsed.bad:
        target = rejects or default_rejects
        target.write_text("".join(line + "\n" for _, line, _ in parsed.bad), encoding="utf-8")
        err_console.print(f"{len(parsed.bad)} invalid line(s) written to {target}")

    settings = Settings.from_env()
    events = [e for _, e in parsed.good]
    try:
        report = asyncio.run(
            _send(settings, platform, events, chunk_size, show=console.is_terminal)
        )
    except PlatformNotRegisteredError as exc:
        err_console.print(str(exc))
        raise typer.Exit(EXIT_FAILED) from None
    console.print(
        f"sent {len(report.sent)}, duplicate {len(report.duplicates)}, "
        f"rejected {len(parsed.bad)}" + (f", failed {len(report.failed)}" if report.failed else "")
    )
    for err in report.failed:
        lineno = parsed.good[err.index][0]
        err_console.print(f"{name}:{lineno}: {err.field}: {err.message}", markup=False)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)
