"""The audit report's section on platform rule changes (协议规则) and their effect (issue 18)."""

from __future__ import annotations

from html import escape
from typing import Any


def _t(text: object) -> str:
    return escape("" if text is None else str(text))


def _n(value: float | None, pct: bool = False) -> str:
    if value is None:
        return '<td class="num muted">–</td>'
    return f'<td class="num">{value:.1%}</td>' if pct else f'<td class="num">{value:.2f}</td>'


def rule_changes_section(report: dict[str, Any]) -> str:
    changes = report.get("rule_changes") or []
    head = (
        f'<section id="rule-changes"><h2>平台规则调整 · Platform rule changes ({len(changes)})</h2>'
    )
    if not report["summary"]["regulator_replayed"]:
        return head + '<p class="muted">Not derived: the replay was filtered.</p></section>'
    if not changes:
        return head + '<p class="muted">None recorded on the governance topic.</p></section>'
    rows = []
    for c in changes:
        b, a = c["before"], c["after"]
        for cat in c["categories"]:
            rows.append(
                f"<tr><td>{_t(c['platform_id'])}</td><td>{_t(c['title'])}<br/>"
                f"<small>{_t(c['rule_id'])}; advice: {_t(c['advice_ref'] or '—')}</small></td>"
                f"<td>{_t(c['effective_day'])}</td><td>{_t(cat)}</td>"
                f'<td class="num">{b["complaints"][cat]}</td>{_n(b["per_day"][cat])}'
                f'<td class="num">{a["complaints"][cat]}</td>{_n(a["per_day"][cat])}'
                f"{_n(b['insured_share'], True)}{_n(a['insured_share'], True)}</tr>"
            )
    cols = ["platform", "rule", "effective", "category", "before", "per day", "after", "per day",
            "insured before", "insured after"]  # fmt: skip
    table = (
        "<table><thead><tr>" + "".join(f"<th>{_t(h)}</th>" for h in cols) + "</tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )  # fmt: skip
    window = changes[0]["window_days"]
    note = (
        f'<p class="muted">Complaints by intake day (Beijing) in the {window} days before the '
        f"effective day and from it on (cut at the replay clock's day); per day, because the log "
        "carries no order volume. Insured (保价) share: delivery complaints with insured = true."
        "</p>"
    )
    return head + note + table + "</section>"
