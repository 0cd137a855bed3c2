"""Exports: any list as CSV or XLSX (openpyxl), and the monthly report workbook.

Every export is logged on the access-log topic (``ListExported``: who took which rows).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from openpyxl import Workbook
from openpyxl.styles import Font

from console.i18n import translate
from console.pages import lang_of, parts_of
from console.queries import case_filter, worklist_rows
from console.readmodel import AlertFilter
from console.rules import rule_title
from console.timefmt import BEIJING, beijing
from schemas.models import ListExported

__all__ = ["export_response", "monthly_workbook", "table_of"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTS = ("worklist", "cases", "alerts")


def table_of(request: web.Request, name: str) -> tuple[list[str], list[list[Any]]]:
    """The headers (in the viewer's language) and rows of one list, as the page shows it."""

    lang = lang_of(request)
    _ = lambda m: translate(m, lang)  # noqa: E731
    if name == "worklist":
        rows, _total = worklist_rows(request)
        head = [
            "Case",
            "Platform",
            "Rule",
            "State",
            "Time left",
            "Paused",
            "Due (Beijing time)",
            "Policy version",
        ]
        body = [
            [
                r["case_id"],
                r["platform_id"],
                r["rule_title"],
                r["state_text"],
                r["left_text"],
                r["paused_text"],
                r["due_text"],
                r["policy_version"],
            ]
            for r in rows
        ]
    elif name == "cases":
        f, _errors = case_filter(request, lang)
        rows, _total = parts_of(request).model.cases(f, request.get("scope"), 100_000)
        head = [
            "Case",
            "Platform",
            "Category",
            "Channel",
            "Status",
            "Opened (Beijing time)",
            "Policy version",
        ]
        body = [
            [
                r["case_id"],
                r["platform_id"],
                _(r["category"]),
                _(r["channel"]),
                _(r["status"]),
                beijing(r["opened_at"]),
                r["policy_version"],
            ]
            for r in rows
        ]
    else:
        rows, _total = parts_of(request).model.alerts(AlertFilter(), request.get("scope"), 100_000)
        head = ["Alert", "Level", "Rule", "Platform", "Case", "Observed (Beijing time)", "Status"]
        body = [
            [
                _(r["type"]),
                _(r["level"]),
                rule_title(r["rule_id"], r["policy_version"], lang),
                r["platform_id"],
                r["case_id"],
                beijing(r["observed_at"]),
                _(r["status"]),
            ]
            for r in rows
        ]
    return [_(h) for h in head], body


def _xlsx(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, head, body in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(head)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in body:
            ws.append(row)
        for i, _h in enumerate(head, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = 22
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def _log_export(request: web.Request, name: str, fmt: str, rows: int) -> None:

    parts = parts_of(request)
    viewer = request["viewer"]
    if parts.writer is None:
        return
    event = ListExported(
        event_id=str(uuid.uuid4()),
        case_id="",
        platform_id="bureau",
        occurred_at=parts.clock(),
        actor=viewer.username,
        role=viewer.role,
        list_name=name,
        export_format=fmt,
        query=request.query_string,
        rows=rows,
    )
    await parts.writer.write(parts.catalogue.access_log, viewer.username, event, wait=0)


def _download(data: bytes, filename: str, content_type: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def export_response(request: web.Request) -> web.StreamResponse:
    name, ext = request.match_info["name"], request.match_info["ext"]
    if name not in LISTS or ext not in ("csv", "xlsx"):
        raise web.HTTPNotFound()
    head, body = table_of(request, name)
    await _log_export(request, name, ext, len(body))
    stamp = datetime.now(BEIJING).strftime("%Y%m%d-%H%M")
    if ext == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(head)
        writer.writerows(body)
        # A BOM so that Excel opens the UTF-8 Chinese text correctly.
        return _download(("\ufeff" + buf.getvalue()).encode(), f"{name}-{stamp}.csv", "text/csv")
    return _download(_xlsx([(name, head, body)]), f"{name}-{stamp}.xlsx", XLSX)


async def monthly_workbook(request: web.Request) -> web.StreamResponse:
    """One workbook for a month (Beijing time): the rates per platform and week, breaches by
    rule, the month's alerts and the worklist as it stands."""

    lang = lang_of(request)
    _ = lambda m: translate(m, lang)  # noqa: E731
    month = request.query.get("month", "")
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=BEIJING)
    except ValueError:
        raise web.HTTPBadRequest(text=_("Use a month like 2026-03.")) from None
    end = (start + timedelta(days=32)).replace(day=1)
    model = parts_of(request).model
    scope = request.get("scope")
    rates_rows = []
    for platform, weeks in model.platform_weeks(scope).items():
        for w in weeks:
            if start.date().isoformat() <= w["week"] < end.date().isoformat() or (
                w["week"]
                < start.date().isoformat()
                <= (datetime.fromisoformat(w["week"]) + timedelta(days=6)).date().isoformat()
            ):
                rates_rows.append(
                    [
                        platform,
                        w["week"],
                        w["complaints"],
                        w["response_rate"],
                        w["resolution_rate"],
                        w["satisfaction_rate"],
                        w["settlement_rate"],
                    ]
                )
    alerts, _total = model.alerts(AlertFilter(since=start, until=end), scope, 100_000)
    alert_rows = [
        [
            _(a["type"]),
            _(a["level"]),
            rule_title(a["rule_id"], a["policy_version"], lang),
            a["platform_id"],
            a["case_id"],
            beijing(a["observed_at"]),
            _(a["status"]),
        ]
        for a in alerts
    ]
    breaches = [[rule_title(b["rule_id"], "", lang), b["n"]] for b in model.breaches_by_rule(scope)]
    wl_head, wl_body = table_of(request, "worklist")
    sheets = [
        (
            _("Rates"),
            [
                _("Platform"),
                _("Week"),
                _("Complaints"),
                _("Response rate"),
                _("Resolution rate"),
                _("Satisfaction rate"),
                _("Settlement rate"),
            ],
            rates_rows,
        ),
        (
            _("Alerts"),
            [
                _("Alert"),
                _("Level"),
                _("Rule"),
                _("Platform"),
                _("Case"),
                _("Observed (Beijing time)"),
                _("Status"),
            ],
            alert_rows,
        ),
        (_("Breaches by rule"), [_("Rule"), _("Count")], breaches),
        (_("Worklist"), wl_head, wl_body),
    ]
    await _log_export(request, "monthly", "xlsx", len(alert_rows) + len(rates_rows))
    return _download(_xlsx(sheets), f"monthly-{month}.xlsx", XLSX)
