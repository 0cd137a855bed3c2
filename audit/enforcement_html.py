"""The audit page's section on the platforms' enforcement records (issue 18)."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["enforcement_section"]

_HEAD = (
    "平台 platform", "约谈 interviews held", "已结论 concluded", "待约谈 recommended, open",
    "责令改正 orders open", "已通过 closed", "逾期 overdue", "行政处罚 penalties",
    "罚没金额 total (yuan)", "被拒事件 refused events",
)  # fmt: skip


def _t(text: object) -> str:
    return escape("" if text is None else str(text))


def _num(value: object) -> str:
    return f'<td class="num">{_t(value)}</td>'


def _row(r: dict[str, Any]) -> str:
    overdue = r["orders_overdue"]
    total = f"{r['penalty_total_fen'] / 100:,.2f}"
    flag = f'<td class="num bad">{overdue}</td>' if overdue else _num(overdue)
    return (
        f"<tr><td>{_t(r['platform_id'])}</td>{_num(r['interviews_held'])}"
        f"{_num(r['interviews_concluded'])}{_num(r['interviews_recommended_open'])}"
        f"{_num(r['orders_open'])}{_num(r['orders_closed'])}{flag}{_num(r['penalties'])}"
        f"{_num(total)}{_num(r['refused_events'])}</tr>"
    )


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def _orders(records: list[dict[str, Any]]) -> str:
    rows = [
        f"<tr><td>{_t(r['platform_id'])}</td><td>{_t(o['order_id'])}</td>"
        f"<td>{_t(o['status'])}{' · 逾期/overdue' if o['overdue'] else ''}</td>"
        f"<td>{_t(o['deadline'])}</td>"
        f"<td>{_t(o['legal_basis']['instrument'])} {_t(o['legal_basis']['article'])}</td></tr>"
        for r in records
        for o in r["orders"]
    ]
    rows += [
        f"<tr><td>{_t(r['platform_id'])}</td><td>{_t(p['decision_no'])}</td>"
        f"<td>处罚/penalty {_yuan(p['amount_fen'])} 元</td>"
        f"<td>{_t(p['decided_at'])}</td>"
        f"<td>{_t(p['legal_basis']['instrument'])} {_t(p['legal_basis']['article'])}</td></tr>"
        for r in records
        for p in r["penalty_decisions"]
    ]
    if not rows:
        return ""
    head = "".join(
        f"<th>{_t(h)}</th>"
        for h in ("平台 platform", "文书 order / decision", "状态 status", "期限/日期 due",
                  "依据 legal basis")
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def enforcement_section(report: dict[str, Any]) -> str:
    data = report.get("enforcement")
    title = "<h2>执法记录 Enforcement records (约谈 · 责令改正 · 行政处罚)</h2>"
    if data is None:
        return (
            f'<section id="enforcement">{title}<p class="muted">Not replayed: a case or window '
            "replay, or a log without the governance topic.</p></section>"
        )
    records = data["platforms"]
    if not records:
        body = '<p class="muted">The bureau recorded no interview, order or penalty.</p>'
    else:
        head = "".join(f"<th>{_t(h)}</th>" for h in _HEAD)
        rows = "".join(_row(r) for r in records)
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        body += _orders(records)
    note = (
        f'<p class="muted">Folded {data["records_folded"]} of {data["records_read"]} governance '
        f"and alert records through the enforcement agent; {data['alerts_raised']} alerts.</p>"
    )
    return f'<section id="enforcement">{title}{body}{note}</section>'
