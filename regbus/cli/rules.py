"""``regbus rules record | ls``: platform rule changes (协议规则), kept on the governance topic.

``record`` validates the change (an error names the field) and appends it as the bureau
(``ce_source /bureau/<unit>``); recording the same ``--id`` again is a no-op. ``ls`` lists the
changes on the topic (``--json`` prints the same rows as JSON). The before/after figures are
the worker's ``GET /platforms/{id}/rules`` and the audit report's ``rule_changes``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any

import typer
from rich.console import Console

app = typer.Typer(help="Platform rule changes (协议规则) the bureau records.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _settings() -> Any:
    from streams.settings import Settings

    return Settings.from_env()


@app.command()
def record(
    platform: str = typer.Option(..., help="platform id"),
    rule_id: str = typer.Option(..., "--rule", help="the platform's id of the rule"),
    title: str = typer.Option(..., help="the rule's title"),
    effective: str = typer.Option(..., help="first day it applies (YYYY-MM-DD, Beijing)"),
    category: list[str] = typer.Option(..., help="complaint category it touches (repeatable)"),
    new_text: str | None = typer.Option(None, help="the new text"),
    old_text: str | None = typer.Option(None, help="the text before"),
    text_ref: str | None = typer.Option(None, help="where the published text is"),
    advice_ref: str | None = typer.Option(None, help="the bureau's advice it answers"),
    unit: str = typer.Option(..., help="the bureau unit recording it (ce_source /bureau/<unit>)"),
    event_id: str | None = typer.Option(None, "--id", help="event id (default: derived)"),
) -> None:
    """Record one rule change of a platform (bureau only)."""
    from pydantic import ValidationError

    from agents.core.calendar import SHANGHAI
    from schemas.models import PlatformRuleChanged
    from streams.rule_log import publish_rule_changes, read_rule_changes
    from streams.topics import RegistryError, validate_platform_id

    try:
        validate_platform_id(platform)
    except RegistryError as exc:
        raise typer.BadParameter(str(exc), param_hint="--platform") from None
    try:
        day = date.fromisoformat(effective)
    except ValueError:
        raise typer.BadParameter(
            f"not a date (YYYY-MM-DD): {effective!r}", param_hint="--effective"
        ) from None
    ident = event_id or f"rule-{platform}-{rule_id}-{day:%Y%m%d}"
    starts = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    try:
        event = PlatformRuleChanged.model_validate({
            "event_id": ident, "case_id": "", "platform_id": platform,
            "occurred_at": datetime.now(UTC), "rule_id": rule_id, "title": title,
            "old_text": old_text, "new_text": new_text, "text_ref": text_ref,
            "effective_from": starts, "categories": category, "advice_ref": advice_ref,
            "recorded_by": unit,
        })  # fmt: skip
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "value"
            err_console.print(f"✗ {where}: {e['msg']}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    settings = _settings()
    if any(c.event_id == ident for c in asyncio.run(read_rule_changes(settings))):
        console.print(f"{ident}: already recorded")
        return
    asyncio.run(publish_rule_changes(settings, [event], source=f"/bureau/{unit}"))
    console.print(f"{ident}: recorded ({platform} {rule_id}, effective {day})")


@app.command("ls")
def list_changes(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """The rule changes on the governance topic, in log order."""
    from streams.rule_log import read_rule_changes

    rows = [c.model_dump(mode="json") for c in asyncio.run(read_rule_changes(_settings()))]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        console.print(f"{r['platform_id']}  {r['rule_id']}  {r['effective_from']}  {r['title']}",
                      markup=False, highlight=False)  # fmt: skip
