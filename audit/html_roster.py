"""The report page's section on the 包片 roster and the notifier's delivery log: who covers
each platform at the audited instant, where the replayed alerts were routed, and every
notification delivered or dead-lettered (``roster_and_notifications`` of the JSON report)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

__all__ = ["roster_section"]


def _t(text: object) -> str:
    return escape("" if text is None else str(text))


def _card(label: str, value: object, bad: bool = False) -> str:
    klass = ' class="bad"' if bad else ""
    return f'<div class="card"><b{klass}>{_t(value)}</b>{_t(label)}</div>'


def roster_section(report: dict[str, Any], _table: Callable[[list[str], list[str]], str]) -> str:
    """``_table``: the page's table helper (its row limit and "showing N of M" note)."""
    side = report.get("roster_and_notifications")
    heading = "<h2>包片名册与通知 / Roster and notifications</h2>"
    if side is None:
        return (
            f'<section id="roster">{heading}<p class="muted">Not read: the replay did not read '
            "the roster and notifications topics.</p></section>"
        )
    delivered = side.get("notifications_delivered", {})
    failed = side.get("notifications_failed", [])
    unowned = side.get("alerts_without_owner", 0)
    cards = "".join([
        _card("platforms on the roster", side.get("platforms_on_roster", 0)),
        _card("roster assignments", side.get("roster_assignments", 0)),
        _card("alerts routed", side.get("alerts_routed", 0)),
        _card("alerts without an owner", unowned, bad=bool(unowned)),
        *(_card(f"delivered by {c.lower()}", n) for c, n in sorted(delivered.items())),
        _card("notifications failed (dead letters)", len(failed), bad=bool(failed)),
    ])  # fmt: skip
    owners = side.get("owners", [])
    owner_rows = [
        f"<tr><td>{_t(o['platform_id'])}</td>"
        + (
            '<td colspan="4" class="bad">no roster entry in force</td>'
            if o["office"] is None
            else f"<td>{_t(o['office'])}</td><td>{_t(o['department'])}</td>"
            f"<td>{_t(o['leader'])}</td><td>{_t(o['effective_from'])}</td>"
        )
        + f'<td class="num">{_t(o["notifications_delivered"])}</td>'
        f'<td class="num{" bad" if o["notifications_failed"] else ""}">'
        f"{_t(o['notifications_failed'])}</td></tr>"
        for o in owners
    ]
    parts = [f'<section id="roster">{heading}<div class="cards">{cards}</div>']
    parts.append(
        '<h3 id="roster-owners">Owners per platform (所 / 科室 / 局领导) at the instant</h3>'
        + (
            _table(
                [
                    "platform",
                    "office 所",
                    "department 科室",
                    "leader 局领导",
                    "effective from",
                    "notifications delivered",
                    "failed",
                ],
                owner_rows,
            )
            if owner_rows
            else '<p class="muted">No roster entry up to the instant.</p>'
        )
    )
    by_office = side.get("alerts_by_office", {})
    if by_office:
        parts.append(
            "<h3>Replayed alerts by owning office</h3>"
            + _table(
                ["office", "alerts"],
                [
                    f'<tr><td>{_t(o)}</td><td class="num">{_t(n)}</td></tr>'
                    for o, n in sorted(by_office.items())
                ],
            )
        )
    parts.append(
        '<h3 id="roster-failures">Failed notifications (the notifier\'s dead letters)</h3>'
        + (
            _table(
                ["alert", "channel", "recipient", "attempts", "reason"],
                [
                    f"<tr><td><code>{_t(f['alert_id'])}</code></td><td>{_t(f['channel'])}</td>"
                    f"<td>{_t(f['recipient'])}</td>"
                    f'<td class="num">{_t(f["attempts"])}</td><td>{_t(f["reason"])}</td></tr>'
                    for f in failed
                ],
            )
            if failed
            else '<p class="muted">None.</p>'
        )
    )
    parts.append("</section>")
    return "".join(parts)
