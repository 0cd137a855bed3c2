"""``regbus case show ID``: one case as the worker holds it — state, every SLA clock with its
time left (Beijing time), pauses, violations and the timeline."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import typer

from regbus.cli._api import api_url, get_json
from regbus.cli._output import EXIT_FINDINGS, fail, print_json, shown, table
from regbus.cli._output import console as make_console
from schemas.instants import parse_instant

app = typer.Typer(help="Cases: state, SLA clocks and time left.", no_args_is_help=True)
console = make_console()


def time_left(due: datetime, now: datetime) -> str:
    """``3 d 4 h 10 min`` ahead, or ``overdue 2 h 5 min``."""
    seconds = int((due - now).total_seconds())
    sign, seconds = ("", seconds) if seconds >= 0 else ("overdue ", -seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return sign + " ".join(parts)


@app.command("show")
def show(
    case_id: str = typer.Argument(..., help="the case id"),
    url: str | None = typer.Option(None, help="a worker's HTTP API (default $REGBUS_API_URL)"),
    at: str | None = typer.Option(None, "--at", help="time left as of this instant (default now)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON document"),
) -> None:
    """Show a case: status, policy version, each SLA clock with its due time and time left."""
    now = parse_instant(at) if at else datetime.now(UTC)
    base = api_url(url)
    body = get_json(base, f"/cases/{urllib.parse.quote(case_id, safe='')}")
    if body is None:
        fail(f"no case {case_id!r} is known to the worker at {base}", EXIT_FINDINGS)
    for clock in body.get("clocks", []):
        due = datetime.fromisoformat(clock["due_at"])
        running = clock["status"] == "RUNNING"
        clock["time_left"] = time_left(due, now) if running else None
        clock["time_left_seconds"] = int((due - now).total_seconds()) if running else None
    if as_json:
        print_json({"as_of": now, **body})
        return
    console.print(
        f"[bold]{body['case_id']}[/] {body.get('kind') or '-'} · platform "
        f"{body.get('platform_id') or '-'} · office {body.get('office') or '-'} · status "
        f"{body.get('status') or '-'} · policy {body.get('policy_version') or '-'}"
    )
    rows = [
        (
            c["rule_id"],
            c["status"],
            shown(datetime.fromisoformat(c["started_at"])),
            shown(datetime.fromisoformat(c["due_at"])),
            c["time_left"] or "-",
            f"{c['paused_ms'] / 3_600_000:.1f} h" if c["paused_ms"] else "-",
            "yes" if c.get("provisional") else "",
        )
        for c in body.get("clocks", [])
    ]
    columns = ("rule", "status", "started", "due (Beijing)", "time left", "paused", "provisional")
    console.print(table(columns, rows))
    for v in body.get("violations", []):
        console.print(f"violation {v['code']} at {shown(datetime.fromisoformat(v['at']))}: "
                      f"{v['detail']}")  # fmt: skip
    timeline = body.get("timeline", [])
    if timeline:
        console.print(table(("at", "event", "note"), [(e["at"], e["type"], e.get("note") or "")
                                                       for e in timeline]))  # fmt: skip
