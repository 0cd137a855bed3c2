"""``regbus roster load | set | ls``: the 包片 roster (which office, department and leader
cover each platform, from which day), kept as events on the roster topic.

``load FILE.csv|FILE.yaml`` checks every row before publishing anything (an error names
file:line:field) and publishes only the assignments not on the topic yet, so a re-load is a
no-op. ``set`` publishes one assignment. ``ls`` shows who covers each platform now (or
``--at DAY``); ``--json`` prints the same rows as JSON.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="The 包片 roster: platform → office, department, leader.",
                  no_args_is_help=True)  # fmt: skip
console = Console()
err_console = Console(stderr=True)


def _settings() -> Any:
    from streams.settings import Settings

    return Settings.from_env()


def _publish_new(events: list[Any]) -> tuple[int, int]:
    from streams.roster_log import publish_roster, read_roster

    settings = _settings()
    have = {e.event_id for e in asyncio.run(read_roster(settings))}
    new = [e for e in events if e.event_id not in have]
    asyncio.run(publish_roster(settings, new))
    return len(new), len(events) - len(new)


@app.command()
def load(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Check every row of a CSV/YAML roster, then publish the new assignments."""
    from agents.roster_file import RosterFileError, read_roster_file

    try:
        events = read_roster_file(path)
    except RosterFileError as exc:
        for error in exc.errors:
            err_console.print(f"✗ {error}", markup=False, highlight=False)
        err_console.print(f"{len(exc.errors)} error(s); nothing was published")
        raise typer.Exit(1) from None
    new, known = _publish_new(events)
    console.print(f"{path}: {len(events)} rows, {new} published, {known} already on the roster")


@app.command("set")
def set_(
    platform_id: str = typer.Argument(..., help="platform id, or 'bureau' for bureau-wide"),
    office: str = typer.Option(..., "--office", help="市场监管所 code, e.g. HD-ZGC"),
    department: str = typer.Option(..., "--department", help="业务科室 code"),
    leader: str = typer.Option(..., "--leader", help="局领导 responsible"),
    since: str = typer.Option(..., "--from", help="first day (2026-03-01, Beijing time)"),
    office_contact: list[str] = typer.Option([], "--office-contact", help="repeatable"),
    department_contact: list[str] = typer.Option([], "--department-contact", help="repeatable"),
    leader_contact: list[str] = typer.Option([], "--leader-contact", help="repeatable"),
    by: str = typer.Option("regbus-roster", "--by", help="who makes the assignment"),
) -> None:
    """Assign a platform to an office, department and leader from a day on."""
    from pydantic import ValidationError

    from agents.roster_file import assignment, parse_day
    from streams.topics import RegistryError

    try:
        event = assignment(
            platform_id, office, department, leader, parse_day(since),
            office_contacts=office_contact, department_contacts=department_contact,
            leader_contacts=leader_contact, assigned_by=by, issued_at=datetime.now(UTC),
        )  # fmt: skip
    except (ValueError, RegistryError, ValidationError) as exc:
        err_console.print(f"✗ {exc}", markup=False)
        raise typer.Exit(1) from None
    new, _known = _publish_new([event])
    verb = "assigned" if new else "already assigned"
    console.print(f"{verb}: {platform_id} → {office} / {department} / {leader} from {since}")


def _rows(at: datetime) -> list[dict[str, Any]]:
    from agents.core.roster import Roster
    from streams.roster_log import read_roster

    roster = Roster(tuple(asyncio.run(read_roster(_settings()))))
    rows = []
    for platform in sorted(roster.platforms()):
        entry = roster.covering(platform, at)
        if entry is None:
            continue
        rows.append({
            "platform_id": platform,
            "office": entry.office,
            "department": entry.department,
            "leader": entry.leader,
            "office_contacts": entry.office_contacts,
            "department_contacts": entry.department_contacts,
            "leader_contacts": entry.leader_contacts,
            "effective_from": entry.effective_from.astimezone(_beijing()).isoformat(),
            "assigned_by": entry.assigned_by,
        })  # fmt: skip
    return rows


def _beijing() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


@app.command("ls")
def ls(
    at: str | None = typer.Option(None, "--at", help="as of this day (default: now)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Who covers each platform (now, or on a day)."""
    from agents.roster_file import parse_day

    moment = parse_day(at) if at else datetime.now(UTC)
    rows = _rows(moment)
    if as_json:
        typer.echo(json.dumps({"at": moment.astimezone(_beijing()).isoformat(), "roster": rows},
                              ensure_ascii=False, indent=2))  # fmt: skip
        return
    table = Table("平台 platform", "市场监管所 office", "业务科室 department", "局领导 leader",
                  "起始 from (+08:00)")  # fmt: skip
    for r in rows:
        table.add_row(r["platform_id"], r["office"], r["department"], r["leader"],
                      r["effective_from"][:10])  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} platform(s) on the roster")
