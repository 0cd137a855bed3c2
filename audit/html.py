"""Render the report document as one self-contained HTML page (inline CSS and SVG only).

The page is also well-formed XML, so it can be parsed and checked mechanically.
"""

from __future__ import annotations

from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from audit.enforcement_html import enforcement_section
from audit.governance import campaigns_html
from audit.html_roster import roster_section
from audit.html_rules import rule_changes_section
from audit.metrics import SETTLEMENT_TARGET
from audit.svg import breaches_chart, compliance_chart, settlement_chart

HTML_CASE_LIMIT = 500
"""Cases shown with details in the page (those with breaches or violations first);
the JSON report always has every case."""
HTML_ROW_LIMIT = 300


def _t(text: object) -> str:
    return escape("" if text is None else str(text))


def _num(value: object) -> str:
    return f'<td class="num">{_t(value)}</td>'


def _rate(value: object) -> str:
    if value is None:
        return '<td class="num muted">–</td>'
    return f'<td class="num">{float(str(value)) * 100:.1f}%</td>'


def _table(head: list[str], rows: list[str], limit: int = HTML_ROW_LIMIT) -> str:
    shown = rows[:limit]
    more = (
        f'<p class="muted">Showing {len(shown)} of {len(rows)} rows; all are in the JSON '
        "report.</p>"
        if len(rows) > limit
        else ""
    )
    cells = "".join(f"<th>{_t(h)}</th>" for h in head)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(shown)}</tbody></table>{more}"


def _card(label: str, value: object, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<div class="card"><b{klass}>{_t(value)}</b>{_t(label)}</div>'


def _summary(report: dict[str, Any]) -> str:
    s = report["summary"]
    r = report["replay"]
    by_source = s["dead_letters_by_source"]
    if by_source["topic_read"]:
        dead_label = f"dead letters (ingress {by_source['ingress']}, agents {by_source['agents']})"
    else:
        dead_label = "dead letters (replayed case agents only; dead-letter topic not read)"
    cards = [
        _card("cases opened", s["cases"]),
        _card("open cases", s["open_cases"]),
        _card("case alerts", s["alerts"]),
        _card("risk signals and interviews", s["signals"] if s["regulator_replayed"] else "—"),
        _card("SLA breaches", s["breaches"], "bad" if s["breaches"] else ""),
        _card("violations", s["violations"], "bad" if s["violations"] else ""),
        _card("unknown cases", s["unknown_cases"]),
        _card(dead_label, s["dead_letters"], "bad" if s["dead_letters"] else ""),
        _card("records replayed", f"{r['records']:,}"),
        _card("records/s", f"{r['records_per_second']:,.0f}"),
    ]
    body = "".join(cards)
    return f'<section id="summary"><h2>Summary</h2><div class="cards">{body}</div></section>'


def _reconciliation(report: dict[str, Any]) -> str:
    rec = report.get("reconciliation")
    if rec is None:
        return (
            '<section id="reconciliation"><h2>Reconciliation</h2>'
            '<p class="muted">Not run (replay without --reconcile).</p></section>'
        )
    verdict = (
        '<span class="ok">healthy: nothing missing, extra, late or mismatched</span>'
        if rec["healthy"]
        else '<span class="bad">not healthy: differences found</span>'
    )
    counts = "".join(
        _card(k.replace("_", " "), rec[k])
        for k in ("expected", "actual", "matched", "on_time", "duplicates", "out_of_scope")
    )
    counts += _card("missing", len(rec["missing"]), "bad" if rec["missing"] else "")
    counts += _card("extra", len(rec["extra"]), "bad" if rec["extra"] else "")
    counts += _card("late", len(rec["late"]), "bad" if rec["late"] else "")
    counts += _card("mismatched", len(rec["mismatched"]), "bad" if rec["mismatched"] else "")
    scope = rec["scope"]
    window = f"observed {scope['observed_from'] or 'from the start of the log'} – "
    window += f"{scope['observed_until']}"
    filters = "".join(f", {k} {scope[k]}" for k in ("platform", "case") if scope.get(k) is not None)
    scope_html = (
        '<div id="scope"><h3>Scope of this verdict</h3><p>Checked: '
        + ", ".join(_t(t) for t in scope["alert_types"])
        + f"; {_t(window)}{_t(filters)}; derived from "
        + ", ".join(f"<code>{_t(t)}</code>" for t in scope["derived_from"])
        + f" and compared with <code>{_t(scope['compared_with'])}</code>.</p>"
        + "<p>Not checked:</p><ul>"
        + "".join(f"<li>{_t(n)}</li>" for n in scope["not_checked"])
        + "</ul></div>"
    )
    parts = [
        '<section id="reconciliation"><h2>Reconciliation: expected alerts vs the alerts topic</h2>',
        f"<p>{verdict}. Late means published more than {rec['late_after_ms'] / 1000:.0f} s after "
        "the record that made it due entered the log.</p>",
        scope_html,
        f'<div class="cards">{counts}</div>',
    ]
    head = ["type", "rule", "case", "due", "should be observed at", "trigger record"]
    for key, title in (("missing", "Missing"), ("late", "Late")):
        rows = []
        for a in rec[key]:
            trig = a.get("trigger") or {}
            where = f"{trig.get('topic')}[{trig.get('partition')}]@{trig.get('offset')}"
            late = f" — late by {a['lateness_ms'] / 1000:.1f} s" if "lateness_ms" in a else ""
            rows.append(
                f"<tr><td>{_t(a['type'])}</td><td>{_t(a['rule_id'])}</td>"
                f"<td>{_t(a['case_id'])}</td><td>{_t(a['due_at'])}</td>"
                f"<td>{_t(a['observed_at'])}{_t(late)}</td><td>{_t(where)}</td></tr>"
            )
        if rows:
            parts.append(f"<h3>{title}</h3>" + _table(head, rows))
    if rec["extra"]:
        rows = [
            f"<tr><td>{_t(a['type'])}</td><td>{_t(a['rule_id'])}</td><td>{_t(a['case_id'])}</td>"
            f"<td>{_t(a['due_at'])}</td><td>{_t(a['observed_at'])}</td>"
            f"<td>alerts[{a['partition']}]@{a['offset']}</td></tr>"
            for a in rec["extra"]
        ]
        parts.append("<h3>Extra (in the topic, not expected)</h3>" + _table(head, rows))
    if rec["mismatched"]:
        rows = [
            f"<tr><td>{_t(m['expected']['type'])}</td><td>{_t(m['expected']['rule_id'])}</td>"
            f"<td>{_t(m['expected']['case_id'])}</td><td>{_t(m['expected']['due_at'])}</td>"
            f"<td>expected {_t(m['expected']['observed_at'])}, "
            f"actual {_t(m['actual']['observed_at'])}</td><td></td></tr>"
            for m in rec["mismatched"]
        ]
        parts.append("<h3>Mismatched</h3>" + _table(head, rows))
    parts.append("</section>")
    return "".join(parts)


def _charts(report: dict[str, Any]) -> str:
    charts = report["charts"]
    return (
        '<section id="charts"><h2>Charts</h2>'
        '<h3>SLA compliance per platform over time</h3><div class="chart" id="chart-compliance">'
        + compliance_chart(charts["sla_compliance"])
        + '</div><h3>Breaches by rule</h3><div class="chart" id="chart-breaches">'
        + breaches_chart(charts["breaches_by_rule"])
        + "</div><h3>Settlement rate per platform (和解率) against the target</h3>"
        '<div class="chart" id="chart-settlement">'
        + settlement_chart(charts["settlement"], SETTLEMENT_TARGET)
        + "</div></section>"
    )


def _platforms(report: dict[str, Any]) -> str:
    head = [
        "platform", "complaints", "response", "resolution", "satisfaction", "settlement",
        "refunds", "overdue refund steps", "rectifications", "overdue rectifications",
        "breaches", "violations",
    ]  # fmt: skip
    rows = []
    for p in report["platforms"]:
        m = p["metrics"]
        below = m["settlement_below_target"]
        flag = ' <span class="bad">below 85%</span>' if below else ""
        rows.append(
            f"<tr><td>{_t(p['platform_id'])}{flag}</td>{_num(p['complaints']['filed'])}"
            f"{_rate(m['response_rate'])}{_rate(m['resolution_rate'])}"
            f"{_rate(m['satisfaction_rate'])}{_rate(m['settlement_rate'])}"
            f"{_num(p['refunds']['requested'])}{_num(m['overdue_refund_steps'])}"
            f"{_num(p['rectifications']['ordered_or_found'])}{_num(m['overdue_rectifications'])}"
            f"{_num(p['alerts']['breaches'])}{_num(m['violations'])}</tr>"
        )
    table = _table(head, rows)
    return f'<section id="platforms"><h2>Platform scorecards</h2>{table}</section>'


def _source_cell(detail: Any) -> str:
    """The citation an alert's detail carries (instrument, article, dates), 暂定 marked."""
    text = str(detail or "")
    _, found, cited = text.rpartition("依据/source:")  # as agents/core/alerts.py writes it
    if not found:
        return ""
    cited = cited.strip()
    provisional = cited.endswith("暂定/provisional")
    cell = _t(cited.removesuffix("暂定/provisional").rstrip(" ·"))
    if provisional:
        cell += ' <b class="provisional">暂定/provisional</b>'
    return cell


def _case_details(c: dict[str, Any]) -> str:
    timeline = _table(
        ["event", "occurred at", "log position", "logged at"],
        [
            f"<tr><td>{_t(e['type'])}</td><td>{_t(e['occurred_at'])}</td>"
            f"<td>{_t(e['topic'])}[{e['partition']}]@{e['offset']}</td>"
            f"<td>{_t(e['logged_at'])}</td></tr>"
            for e in c["timeline"]
        ],
    )
    clocks = _table(
        ["clock", "status", "started", "due", "met", "paused", "breached"],
        [
            f"<tr><td>{_t(k['clock_id'])}</td><td>{_t(k['status'])}</td>"
            f"<td>{_t(k['started_at'])}</td><td>{_t(k['due_at'])}</td><td>{_t(k['met_at'])}</td>"
            f'<td class="num">{k["paused_ms"] / 3_600_000:.1f} h</td>'
            f"<td>{'yes' if k['breached'] else 'no'}</td></tr>"
            for k in c["clocks"]
        ],
    )
    alerts = _table(
        ["alert", "rule", "level", "severity", "due", "observed at", "依据 / source"],
        [
            f"<tr><td>{_t(a['type'])}</td><td>{_t(a['rule_id'])}</td><td>{_t(a['level'])}</td>"
            f"<td>{_t(a['severity'])}</td><td>{_t(a['due_at'])}</td>"
            f"<td>{_t(a['observed_at'])}</td><td>{_source_cell(a.get('detail'))}</td></tr>"
            for a in c["alerts"]
        ],
    )
    violations = "".join(
        f"<li><code>{_t(v['code'])}</code> {_t(v['event_type'])} at {_t(v['at'])}: "
        f"{_t(v['detail'])}</li>"
        for v in c["violations"]
    )
    vio = f"<h3>Violations</h3><ul>{violations}</ul>" if violations else ""
    personal = ""
    if c.get("personal"):  # labels only ("已加密/sealed", "已删除/erased"), never the data
        cells = "".join(
            f"<tr><td>{_t(k)}</td><td>{_t(v)}</td></tr>" for k, v in c["personal"].items()
        )
        personal = f"<h3>个人信息 / Personal data</h3><table>{cells}</table>"
    return (
        f"<h3>Timeline</h3>{timeline}<h3>SLA clocks</h3>{clocks}<h3>Alerts</h3>{alerts}{vio}"
        f"{personal}"
    )


def _cases(report: dict[str, Any]) -> str:
    cases = report["cases"]

    def weight(c: dict[str, Any]) -> tuple[int, int, str]:
        breaches = sum(1 for k in c["clocks"] if k["breached"])
        return (-(breaches + c["violation_count"]), -len(c["alerts"]), c["case_id"])

    shown = sorted(cases, key=weight)[:HTML_CASE_LIMIT]
    items = []
    for c in shown:
        breaches = sum(1 for k in c["clocks"] if k["breached"])
        mark = ' class="bad"' if breaches or c["violation_count"] else ""
        items.append(
            f'<details id="case-{_t(c["case_id"])}"><summary><b{mark}>{_t(c["case_id"])}</b> '
            f"{_t(c['family'])} · {_t(c['platform_id'])} · {_t(c['status'])} · "
            f"{len(c['timeline'])} events · {breaches} breached clocks · "
            f"{c['violation_count']} violations · {len(c['alerts'])} alerts</summary>"
            f"{_case_details(c)}</details>"
        )
    summary = report["summary"]
    heading = (
        f"Cases ({len(cases)}: {summary['cases']} opened, {summary['unknown_cases']} never opened)"
    )
    if len(cases) > len(shown):
        heading += f" — showing {len(shown)} of {len(cases)}"
    more = (
        f'<p class="muted">Showing {len(shown)} of {len(cases)} cases (those with breaches or '
        "violations first); all are in the JSON report.</p>"
        if len(cases) > len(shown)
        else ""
    )
    return f'<section id="cases"><h2>{_t(heading)}</h2>{more}{"".join(items)}</section>'


def _signals(report: dict[str, Any]) -> str:
    if not report["summary"]["regulator_replayed"]:
        return (
            '<section id="signals"><h2>Risk signals and interviews</h2><p class="muted">'
            "Not derived: the replay was filtered to a case, a platform or a window.</p></section>"
        )
    rows = [
        f"<tr><td>{_t(a['type'])}</td><td>{_t(a['rule_id'])}</td><td>{_t(a['subject'])}</td>"
        f"<td>{_t(a['observed_at'])}</td><td>{_t(a['detail'])}</td></tr>"
        for a in report["signals"]
    ]
    body = (
        _table(["alert", "rule", "subject", "observed at", "detail"], rows)
        if rows
        else '<p class="muted">None raised.</p>'
    )
    return (
        f'<section id="signals"><h2>Risk signals and interviews the log calls for '
        f"({len(rows)})</h2>{body}</section>"
    )


def _replay(report: dict[str, Any]) -> str:
    r = report["replay"]
    rows = [
        f"<tr><td>{_t(p['topic'])}</td>{_num(p['partition'])}{_num(p['start_offset'])}"
        f"{_num(p['end_offset'])}{_num(p['records'])}{_num(p['cutoff_offset'])}"
        f"<td>{_t(p['last_tick_at'])}</td>{_num(p['ticks_applied'])}{_num(p['ticks_skipped'])}</tr>"
        for p in r["partitions"]
    ]
    head = [
        "topic", "partition", "start", "end", "records", "cut off at", "last tick ≤ T",
        "ticks applied", "ticks skipped",
    ]  # fmt: skip
    dead = report["dead_letters"]
    dl = ""
    if dead:
        dl = "<h3>Records the replayed case agents reject (dead letters)</h3>" + _table(
            ["topic", "partition", "offset", "reason", "detail"],
            [
                f"<tr><td>{_t(d['topic'])}</td>{_num(d['partition'])}{_num(d['offset'])}"
                f"<td>{_t(d['reason'])}</td><td>{_t(d['detail'])}</td></tr>"
                for d in dead
            ],
        )
    bureau = report["bureau_alerts"]
    ba = ""
    if bureau:
        ba = "<h3>Bureau-wide alerts</h3>" + _table(
            ["alert", "rule", "subject", "observed at", "detail"],
            [
                f"<tr><td>{_t(a['type'])}</td><td>{_t(a['rule_id'])}</td><td>{_t(a['subject'])}"
                f"</td><td>{_t(a['observed_at'])}</td><td>{_t(a['detail'])}</td></tr>"
                for a in bureau
            ],
        )
    return (
        '<section id="replay"><h2>Replay</h2>'
        f"<p>{r['records']:,} records in {r['seconds']:.2f} s; {r['events_applied']:,} case events "
        f"applied, {r['ticks_applied']:,} ticks applied, {r['ticks_skipped']:,} ticks with nothing "
        f"due, {r['events_after_until']:,} events after T left out.</p>"
        + _table(head, rows)
        + dl
        + ba
        + "</section>"
    )


def render_html(report: dict[str, Any]) -> str:
    template = Template(resources.files("audit").joinpath("template.html").read_text())
    as_of = report["as_of"]
    filters = ", ".join(
        f"{k} {as_of[k]}" for k in ("since", "platform", "case") if as_of.get(k) is not None
    )
    source = report.get("source") or {}
    lines = [
        f"As of <b>{_t(as_of['until'])}</b> (mode: {_t(as_of['mode'])})"
        + (f"; {_t(filters)}" if filters else ""),
        f"Generated {_t(report['generated_at'])} from topic prefix "
        f"<code>{_t(source.get('prefix', '?'))}</code>.",
    ]
    sections = [
        _summary(report),
        _reconciliation(report),
        _charts(report),
        _platforms(report),
        _signals(report),
        roster_section(report, _table),
        enforcement_section(report),
        campaigns_html(report),
        rule_changes_section(report),
        _cases(report),
        _replay(report),
    ]
    return template.substitute(
        title=_t(f"regbus audit report as of {as_of['until']}"),
        heading="Audit report — what the bureau knew"
        if as_of["mode"] == "known"
        else "Audit report — what the log says happened",
        header_lines="".join(f"<p>{line}</p>" for line in lines),
        sections="\n".join(sections),
    )


def write_html(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
