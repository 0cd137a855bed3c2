"""``regbus alerts``: what a regulator runs: live alerts, and a platform's scorecard.

``regbus alerts tail`` follows the alerts topic through :mod:`clients.subscriber` (filtered,
each alert once, resuming where the same command stopped last time); ``--json`` writes one
alert per line for scripts. ``regbus alerts scorecard`` asks a worker's HTTP API.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clients.subscriber import AlertSubscriber, SubscriptionError, alert_json
from regbus.cli._api import api_url, get_json
from regbus.cli._output import fail
from schemas.instants import BEIJING, InstantError, parse_instant
from schemas.models import AlertEvent
from streams.settings import Settings

app = typer.Typer(help="Alerts for regulators: tail them live, read scorecards.")

DEFAULT_ACCOUNT = "regbus-regulator"
SEVERITY_STYLE = {
    "INFO": "cyan",
    "WARNING": "yellow",
    "MAJOR": "bold red",
    "CRITICAL": "bold white on red",
}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: :func:`schemas.instants.parse_instant` (no zone = Beijing time; or an age)."""
    try:
        return parse_instant(text, now)
    except InstantError as exc:
        raise typer.BadParameter(str(exc)) from None


def group_id(prefix: str, name: str | None, filters: dict[str, list[str]]) -> str:
    """``<prefix>.<account>.<name>``: the group prefix the regulator account may use
    (``streams.security.group_prefix``). Without a name: one group per user and filter set,
    so the same command resumes and a different filter starts its own position."""
    if name and "." in name:
        return name  # already a full group id
    account = os.environ.get("REGBUS_SASL_USERNAME") or DEFAULT_ACCOUNT
    if not name:
        digest = hashlib.sha1(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:8]
        name = f"tail-{getpass.getuser()}-{digest}"
    return f"{prefix}.{account}.{name}"


def _local(moment: datetime | None) -> str:
    """Beijing time with its year and offset: ``2026-09-18 00:00+08:00``."""
    if moment is None:
        return "-"
    return moment.astimezone(BEIJING).isoformat(sep=" ", timespec="minutes")


def render(alert: AlertEvent) -> str:
    """One readable line (rich markup), coloured by severity."""
    sev = alert.severity.value
    style = SEVERITY_STYLE.get(sev, "")
    due = f" due {_local(alert.due_at)}" if alert.due_at else ""
    return (
        f"{_local(alert.observed_at)} [{style}]{sev:<8}[/] {alert.level.value:<10} "
        f"{escape(alert.office):<8} [bold]{escape(alert.rule_id)}[/] "
        f"{escape(alert.subject)} ({escape(alert.platform_id)}){due} "
        f"[dim]{escape(type(alert).EVENT_NAME)}: {escape(alert.detail)}[/]"
    )


async def _tail(
    subscriber: AlertSubscriber, as_json: bool, max_alerts: int | None, timeout: float | None
) -> int:
    console = Console(highlight=False, soft_wrap=True)
    out = sys.stdout
    count = 0
    async with subscriber as alerts:
        described = ", ".join(f"{k}={'/'.join(v)}" for k, v in subscriber.filter.describe().items())
        typer.echo(
            f"following {subscriber.topic}"
            + (f" ({described})" if described else "")
            + " (Ctrl-C to stop)",
            err=True,
        )
        try:
            async with asyncio.timeout(timeout):
                async for alert in alerts:
                    if as_json:
                        out.write(orjson.dumps(alert_json(alert)).decode() + "\n")
                        out.flush()
                    else:
                        console.print(render(alert))
                    count += 1
                    if max_alerts is not None and count >= max_alerts:
                        break
        except TimeoutError:
            pass
    return count


@app.command("tail")
def tail(
    level: list[str] = typer.Option(None, "--level", help="OFFICE, DEPARTMENT or LEADERSHIP"),
    office: list[str] = typer.Option(None, "--office", help="office code, e.g. HD-ZGC"),
    platform: list[str] = typer.Option(None, "--platform", help="platform id"),
    rule: list[str] = typer.Option(None, "--rule", help="rule id, e.g. COMPLAINT_ACKNOWLEDGE"),
    since: str = typer.Option(
        None, help="start at alerts published since: ISO time (no zone = Beijing) or 30m, 1h, 2d"
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON alert per line"),
    group: str = typer.Option(
        None, help="subscriber group name (default: one per user and filter set)"
    ),
    ephemeral: bool = typer.Option(
        False, "--ephemeral", help="remember nothing: no committed position, no seen-id file"
    ),
    start: str = typer.Option("latest", help="where a new group starts: latest or earliest"),
    max_alerts: int = typer.Option(None, "--max", min=1, help="stop after N alerts"),
    timeout: float = typer.Option(None, "--timeout", min=0.0, help="stop after S seconds"),
) -> None:
    """Follow alerts live, each once, resuming where this command stopped last time."""
    settings = Settings.from_env()
    if start not in ("latest", "earliest"):
        raise typer.BadParameter("--start must be latest or earliest")
    levels = [lv.upper() for lv in level or []]
    try:
        subscriber = AlertSubscriber(
            settings.bootstrap,
            settings.topic_prefix,
            level=levels or None,
            office=office or None,
            platform=platform or None,
            rules=rule or None,
            since=parse_since(since) if since else None,
            start=start,
            state_dir=settings.state_dir,
        )
        if not ephemeral:
            subscriber.group_id = group_id(
                settings.topic_prefix, group, subscriber.filter.describe()
            )
        count = asyncio.run(_tail(subscriber, as_json, max_alerts, timeout))
    except SubscriptionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if max_alerts is not None and count < max_alerts:
        typer.echo(f"stopped after {count} of {max_alerts} alerts (timeout)", err=True)
        raise typer.Exit(1)


@app.command("scorecard")
def scorecard(
    subject: str = typer.Argument(..., help="platform id, or category:<CATEGORY>"),
    window: str = typer.Option("30d", help="day, week or 30d"),
    at: str = typer.Option(None, help="reference date YYYY-MM-DD (default: the worker's today)"),
    start: str = typer.Option(None, "--from", help="first date of an explicit range (with --to)"),
    end: str = typer.Option(None, "--to", help="last date of the range, inclusive"),
    url: str | None = typer.Option(None, help="a worker's HTTP API (default $REGBUS_API_URL)"),
    as_json: bool = typer.Option(False, "--json", help="print the API's JSON"),
    token: str = typer.Option(
        None, envvar="REGBUS_API_TOKEN", help="API bearer token (regbus api token create)"
    ),
) -> None:
    """Show a platform's (or category's) scorecard from a running worker."""
    if subject.startswith("category:"):
        path = f"/categories/{urllib.parse.quote(subject.split(':', 1)[1])}/scorecard"
    else:
        path = f"/platforms/{urllib.parse.quote(subject)}/scorecard"
    if start or end:
        query = {"from": start or "", "to": end or ""}
    else:
        query = {"window": window, **({"at": at} if at else {})}
    base = api_url(url)
    body = get_json(base, path, query, token)
    if body is None:
        fail(f"the worker at {base} knows no {subject!r} (a registered platform id, or "
             "category:<CATEGORY>)")  # fmt: skip
    if as_json:
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title=f"{body['kind']} {body['subject']}: {body['from']} – {body['to']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in body["counts"].items():
        table.add_row(name, str(value))
    for name, value in body["rates"].items():
        table.add_row(name, "-" if value is None else f"{value:.1%}")
    Console().print(table)
