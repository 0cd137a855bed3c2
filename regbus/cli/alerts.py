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
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agents.api_auth import bearer_header
from clients.subscriber import AlertSubscriber, SubscriptionError, alert_json
from schemas.models import AlertEvent
from streams.settings import Settings

app = typer.Typer(help="Alerts for regulators: tail them live, read scorecards.")

BEIJING = ZoneInfo("Asia/Shanghai")
DEFAULT_ACCOUNT = "regbus-regulator"
SEVERITY_STYLE = {
    "INFO": "cyan",
    "WARNING": "yellow",
    "MAJOR": "bold red",
    "CRITICAL": "bold white on red",
}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2026-03-02T09:00+08:00``, ``2026-03-02 09:00`` (Beijing time), or an age: ``90s``,
    ``30m``, ``1h``, ``2d``, ``1w`` before now."""
    match = _AGE.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: give an ISO time (2026-03-02T09:00+08:00) or an age (30m, 1h, 2d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment


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
    return "-" if moment is None else moment.astimezone(BEIJING).strftime("%m-%d %H:%M")


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
    url: str = typer.Option("http://127.0.0.1:6066", help="a worker's HTTP API"),
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
    target = f"{url.rstrip('/')}{path}?{urllib.parse.urlencode(query)}"
    try:
        request = urllib.request.Request(target, headers=bearer_header(token))
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = orjson.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        typer.echo(f"error: HTTP {exc.code}: {detail}", err=True)
        raise typer.Exit(1) from None
    except (urllib.error.URLError, OSError) as exc:
        typer.echo(f"error: cannot reach {url}: {exc}", err=True)
        raise typer.Exit(2) from None
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
