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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import typer
from aiokafka.errors import KafkaConnectionError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from clients.publisher import (
    WHOLE_ITEM,
    PlatformNotRegisteredError,
    PlatformPublisher,
    PublishReport,
    validate_item,
)
from regbus.cli._output import console as make_console
from regbus.cli._output import fail, print_json
from schemas.instants import beijing_iso
from schemas.models import Event
from schemas.send_rules import FUTURE_TOLERANCE
from streams.settings import Settings

console = make_console()
err_console = make_console(stderr=True)

EXIT_INVALID = 2
EXIT_FAILED = 1


@dataclass
class ParsedFile:
    good: list[tuple[int, Event]] = field(default_factory=list)
    bad: list[tuple[int, str, list[tuple[str, str]]]] = field(default_factory=list)
    """(line number, the line as read, [(field, problem)])."""


def parse_ndjson(lines: Iterable[str], platform_id: str, now: datetime | None = None) -> ParsedFile:
    """Every non-blank line validated as an event ``platform_id`` may send; an ``occurred_at``
    beyond what ingress accepts (:data:`schemas.send_rules.FUTURE_TOLERANCE` ahead of ``now``)
    is refused here rather than dead-lettered after it was sent."""
    out = ParsedFile()
    horizon = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
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
        elif event.occurred_at > horizon:
            ahead = event.occurred_at - (horizon - FUTURE_TOLERANCE)
            hint = (
                " (a Z typed for +08:00?)"
                if abs(ahead - timedelta(hours=8)) < timedelta(hours=1)
                else ""
            )
            problem = (
                f"{beijing_iso(event.occurred_at)} is {_hours(ahead)} ahead of now; ingress "
                f"refuses events more than {FUTURE_TOLERANCE} ahead{hint}"
            )
            out.bad.append((lineno, line, [("occurred_at", problem)]))
        else:
            out.good.append((lineno, event))
    return out


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"


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
    check: bool = typer.Option(False, "--check", help="validate only; send nothing"),
    as_json: bool = typer.Option(False, "--json", help="print the outcome as one JSON document"),
) -> None:
    """Validate every line of FILE, then publish the events as platform P.

    Exit 0: everything valid was sent (or checked); 1: a send failed or nothing could be sent;
    2: invalid lines and nothing sent (or with --skip-invalid: no valid line at all)."""
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

    problems_json = [
        {"file": name, "line": lineno, "field": fld, "problem": problem}
        for lineno, _, problems in parsed.bad
        for fld, problem in problems
    ]
    for p in problems_json:
        err_console.print(
            f"{p['file']}:{p['line']}: {p['field']}: {p['problem']}", markup=False, soft_wrap=True
        )

    def finish(code: int, report: PublishReport | None = None, note: str = "") -> None:
        if as_json:
            print_json(
                {
                    "file": name,
                    "platform": platform,
                    "checked": len(parsed.good) + len(parsed.bad),
                    "valid": len(parsed.good),
                    "invalid": len(parsed.bad),
                    "sent": len(report.sent) if report else 0,
                    "duplicates_in_file": len(report.duplicates) if report else 0,
                    "failed": []
                    if report is None
                    else [
                        {"line": parsed.good[e.index][0], "field": e.field, "problem": e.message}
                        for e in report.failed
                    ],
                    "problems": problems_json,
                    "check_only": check,
                    "note": note,
                    "exit_code": code,
                }
            )
        if code:
            raise typer.Exit(code)

    if parsed.bad and not skip_invalid:
        err_console.print(
            f"{len(parsed.bad)} invalid line(s): nothing was sent "
            "(fix them, or use --skip-invalid to send the valid lines)"
        )
        finish(EXIT_INVALID)
    if check:
        if not as_json:
            total = len(parsed.good) + len(parsed.bad)
            console.print(
                f"checked {total}: {len(parsed.good)} valid, {len(parsed.bad)} invalid; "
                "nothing sent (--check)"
            )
        finish(EXIT_INVALID if parsed.bad else 0)
        return
    if not parsed.good:
        err_console.print(f"{name}: no valid event to send: nothing was sent")
        finish(EXIT_INVALID)
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
        fail(str(exc))
    except KafkaConnectionError:
        fail(f"cannot reach the broker at {settings.bootstrap} (is it up? `regbus broker status`)")
    note = (
        "duplicates_in_file counts repeated event ids within this file; events the bureau "
        "already had are dropped by ingress's dedup and cannot be counted here"
    )
    if not as_json:
        console.print(
            f"sent {len(report.sent)}, duplicate in this file {len(report.duplicates)}, "
            f"rejected {len(parsed.bad)}"
            + (f", failed {len(report.failed)}" if report.failed else "")
            + " (ids the bureau already had are dropped by ingress, not counted here)"
        )
    for err in report.failed:
        lineno = parsed.good[err.index][0]
        err_console.print(f"{name}:{lineno}: {err.field}: {err.message}", markup=False)
    finish(
        EXIT_FAILED if report.failed or (not report.sent and not report.duplicates) else 0,
        report,
        note,
    )
