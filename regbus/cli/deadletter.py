"""``regbus deadletter ls | show | redrive``: inspect rejected input and send it through again."""

from __future__ import annotations

import asyncio

import orjson
import typer
from rich.table import Table

from regbus.cli._output import console as make_console
from regbus.cli._output import print_json, shown, table
from schemas.models import DeadLetterReason
from streams.codec import DecodeError, EventCodec
from streams.deadletter import get_deadletter, read_deadletters, redrive
from streams.settings import Settings

app = typer.Typer(help="The dead-letter topic: inspect and redrive.", no_args_is_help=True)
console = make_console()
err_console = make_console(stderr=True)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("ls")
def ls(
    reason: DeadLetterReason | None = typer.Option(None, "--reason", help="only this reason"),
    limit: int = typer.Option(50, "--limit", min=1, help="show the latest N"),
    as_json: bool = typer.Option(False, "--json", help="one JSON document"),
) -> None:
    """List dead letters (the latest --limit), oldest first."""
    entries = asyncio.run(read_deadletters(Settings.from_env(), reason=reason))
    latest = entries[-limit:]
    if as_json:
        print_json(
            {
                "showing": len(latest),
                "total": len(entries),
                "dead_letters": [
                    {
                        "offset": e.offset,
                        "event_id": e.record.event_id,
                        "dead_lettered_at": e.record.occurred_at,
                        "reason": e.record.reason.value,
                        "platform": e.record.platform_id,
                        "original": {
                            "topic": e.record.original_topic,
                            "partition": e.record.original_partition,
                            "offset": e.record.original_offset,
                        },
                        "detail": e.record.detail,
                    }
                    for e in latest
                ],
            }
        )
        return
    columns = ("offset", "dead-lettered", "reason", "platform", "original", "detail")
    rows = [
        (
            e.offset,
            shown(e.record.occurred_at),
            e.record.reason.value,
            e.record.platform_id,
            f"{e.record.original_topic}[{e.record.original_partition}]@{e.record.original_offset}",
            _short(e.record.detail) if console.is_terminal else e.record.detail,
        )
        for e in latest
    ]
    console.print(table(columns, rows))
    console.print(f"showing {len(latest)} of {len(entries)} dead letter(s)")


@app.command()
def show(offset: int = typer.Argument(..., help="offset in the dead-letter topic")) -> None:
    """Everything about one dead letter: reason, detail, original headers and value."""
    entry = asyncio.run(get_deadletter(Settings.from_env(), offset))
    if entry is None:
        err_console.print(f"no dead letter at offset {offset}")
        raise typer.Exit(1)
    r = entry.record
    console.print(f"[bold]offset[/] {entry.offset}   [bold]id[/] {r.event_id}")
    console.print(f"[bold]reason[/] {r.reason.value}: {r.detail}", markup=True)
    console.print(
        f"[bold]original[/] {r.original_topic}[{r.original_partition}]@{r.original_offset}"
        f"  key={r.original_key!r}  claimed platform={r.platform_id or '-'}"
    )
    console.print(f"[bold]dead-lettered[/] {r.occurred_at.isoformat()}")
    headers = Table("header", "value")
    for h in r.original_headers:
        headers.add_row(h.key, repr(h.value))
    console.print(headers)
    value = r.original_value
    if value is None:
        console.print("value: (none: a tombstone)")
        return
    console.print(f"value: {len(value)} bytes, first 64: {value[:64].hex(' ')}")
    try:
        event = EventCodec().decode(value)
    except DecodeError as exc:
        console.print(f"value does not decode: {exc}", markup=False)
    else:
        body = orjson.dumps(event.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode()
        console.print(f"decodes as {event.EVENT_NAME}:", markup=False)
        console.print(body, markup=False)


@app.command("redrive")
def redrive_command(
    reason: list[DeadLetterReason] | None = typer.Option(
        None, "--reason", help="only these reasons (repeatable; default: all)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would be redriven"),
) -> None:
    """Re-publish dead letters to their ingress topic, each at most once (see docs)."""
    report = asyncio.run(redrive(Settings.from_env(), reasons=reason or None, dry_run=dry_run))
    verb = "would redrive" if dry_run else "redrove"
    offsets = ", ".join(map(str, report.redriven[:20])) + (
        " …" if len(report.redriven) > 20 else ""
    )
    console.print(f"{verb} {len(report.redriven)} record(s)" + (f": {offsets}" if offsets else ""))
    if report.already:
        console.print(f"skipped {report.already} already redriven")
    if report.not_redrivable:
        console.print(f"left {len(report.not_redrivable)} not from an ingress topic")
    for offset, problem in report.failed:
        err_console.print(f"offset {offset}: {problem}", markup=False)
    if report.failed:
        raise typer.Exit(1)
