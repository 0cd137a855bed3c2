"""Rich tables for a run's outcome (the simulate command and the demo share them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

SEVERITY_STYLE = {
    "INFO": "cyan",
    "WARNING": "yellow",
    "MAJOR": "dark_orange",
    "CRITICAL": "bold red",
}
LEVELS = ("OFFICE", "DEPARTMENT", "LEADERSHIP")


def summary_console() -> Console:
    """A terminal's own width; 120 columns when the output is a file or a pipe (rich would
    use 80 and cut the tables' headings)."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


SETTLEMENT_TARGET = 0.85
"""The bureau's 和解率 target (agents/policy/signals.yaml): a lower rate is shown in red."""


def _rate(counts: Mapping[str, int], num: str, den: str) -> float | None:
    return counts[num] / counts[den] if counts.get(den) else None


def scorecard_table(
    expected: Mapping[str, Any], system: Mapping[str, Mapping[str, int]] | None = None
) -> Table:
    """Per platform: the predicted scorecard of the simulated days, and whether the regulator
    agent's (``system``, same range) equals it."""
    cards = expected["scorecards"]
    table = Table(
        title=f"Per-platform scorecard, complaints received {cards['from']} – {cards['to']}",
        title_justify="left",
    )
    columns = ["platform", "profile", "cmpl", "resp", "resol", "settl", "satis", "breach",
               "viol", "DLQ"]  # fmt: skip
    if system is not None:
        columns.append("system")
    for col in columns:
        table.add_column(col, justify="left" if col in ("platform", "profile") else "right")
    table.caption = (
        "cmpl complaints (by intake date) · resp responded in time / forwarded · resol "
        "resolved / forwarded · settl settled / resolved (85 % target) · satis satisfied / "
        "feedback · breach missed deadlines due in the range · viol lifecycle violations · "
        "DLQ dead letters from its ingress topic (whole run) · system: the regulator agent's "
        "scorecard equals the prediction (✓) or differs in n counters"
    )
    for pid, activity in expected["activity"].items():
        c = cards["subjects"][pid]
        settled = _rate(c, "settled", "resolved")
        settled_text = _pct(settled)
        if settled is not None and settled < SETTLEMENT_TARGET:
            settled_text = f"[red]{settled_text}[/red]"
        row = [
            pid,
            activity["profile"],
            str(c["complaints"]),
            _pct(_rate(c, "responded_in_time", "forwarded")),
            _pct(_rate(c, "resolved", "forwarded")),
            settled_text,
            _pct(_rate(c, "satisfied", "feedback")),
            str(c["breaches"]),
            str(c["lifecycle_violations"]),
            str(activity.get("dead_letters", 0)),
        ]
        if system is not None:
            got = system.get(pid)
            wrong = sum(1 for k, v in c.items() if got is None or got.get(k, 0) != v)
            row.append("[green]✓[/green]" if not wrong else f"[red]≠ {wrong}[/red]")
        table.add_row(*row)
    return table


def by_rule_table(
    expected: Mapping[str, int],
    actual: Mapping[str, int] | None = None,
) -> Table:
    """Alerts per ``RULE/MARK`` (expected, and actual when the system was watched)."""
    table = Table(title="Alerts by rule", title_justify="left")
    table.add_column("rule / threshold")
    table.add_column("expected", justify="right")
    if actual is not None:
        table.add_column("system", justify="right")
    for key in sorted(set(expected) | set(actual or {})):
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
