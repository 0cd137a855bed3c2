"""Rich tables for a run's outcome (the simulate command and the demo share them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.table import Table

SEVERITY_STYLE = {
    "INFO": "cyan",
    "WARNING": "yellow",
    "MAJOR": "dark_orange",
    "CRITICAL": "bold red",
}
LEVELS = ("OFFICE", "DEPARTMENT", "LEADERSHIP")


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def scorecard_table(
    expected: Mapping[str, Any], actual: Mapping[str, Counter[str]] | None = None
) -> Table:
    """Per platform: volumes and rates from the simulator; alerts from the system if given."""
    table = Table(title="Per-platform scorecard", title_justify="left")
    for col in (
        "platform",
        "profile",
        "cmpl",
        "resp",
        "settl",
        "satis",
        "refund",
        "breach",
        "escal",
        "viol",
        "DLQ",
    ):
        table.add_column(col, justify="left" if col in ("platform", "profile") else "right")
    table.caption = (
        "cmpl complaints · resp responded in time / forwarded · settl settled / resolved "
        "(85 % target) · satis satisfied at the return visit · breach/escal/viol alerts · "
        "DLQ dead letters from its ingress topic"
    )
    for pid, card in expected["scorecards"].items():
        seen = actual.get(pid, Counter()) if actual is not None else Counter()
        breaches = seen["BREACH"] if actual is not None else card.get("alerts_breach", 0)
        escal = seen["ESCALATE"] if actual is not None else card.get("alerts_escalate", 0)
        viol = seen["VIOLATION"] if actual is not None else card.get("alerts_violation", 0)
        dead = seen["DEAD_LETTER"] if actual is not None else card.get("dead_letters", 0)
        settled = card.get("settlement_rate")
        settled_text = _pct(settled)
        if card.get("settlement_below_target"):
            settled_text = f"[red]{settled_text}[/red]"
        table.add_row(
            pid,
            card["profile"],
            str(card.get("complaints", 0)),
            _pct(card.get("response_rate")),
            settled_text,
            _pct(card.get("satisfaction_rate")),
            str(card.get("refunds", 0)),
            str(breaches),
            str(escal),
            str(viol),
            str(dead),
        )
    return table


def by_rule_table(
    expected: Mapping[str, int],
    actual: Mapping[str, int] | None = None,
    not_predicted: frozenset[str] = frozenset(),
) -> Table:
    """Alerts per ``RULE/MARK`` (expected, and actual when the system was watched)."""
    table = Table(title="Alerts by rule", title_justify="left")
    table.add_column("rule / threshold")
    table.add_column("expected", justify="right")
    if actual is not None:
        table.add_column("system", justify="right")
    for key in sorted(set(expected) | set(actual or {})):
        if key.split("/")[0] in not_predicted:
            table.add_row(key, "[dim]not predicted[/dim]", str((actual or {}).get(key, 0)))
            continue
        row = [key, str(expected.get(key, 0))]
        if actual is not None:
            got = actual.get(key, 0)
            mark = "" if got == expected.get(key, 0) else " [red]≠[/red]"
            row.append(f"{got}{mark}")
        table.add_row(*row)
    return table


def dead_letter_table(
    expected: Mapping[str, int], actual: Mapping[str, int] | None = None
) -> Table:
    table = Table(title="Dead-lettered records by reason", title_justify="left")
    table.add_column("reason")
    table.add_column("expected", justify="right")
    if actual is not None:
        table.add_column("system", justify="right")
    for key in sorted(set(expected) | set(actual or {})):
        row = [key, str(expected.get(key, 0))]
        if actual is not None:
            got = actual.get(key, 0)
            row.append(f"{got}" + ("" if got == expected.get(key, 0) else " [red]≠[/red]"))
        table.add_row(*row)
    return table
