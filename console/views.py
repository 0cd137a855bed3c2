"""The console's pages, each with its JSON twin (``.json`` suffix or ``?format=json``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from console.exports import export_response, monthly_workbook
from console.i18n import translate
from console.pages import lang_of, parts_of, render, wants_json
from console.queries import case_filter, with_rules, worklist_rows
from console.queries import scope as scope_of_viewer
from console.readmodel import AlertFilter
from console.rules import citation, rule_title
from console.timefmt import BEIJING, from_utc_text, parse_day, to_utc_text
from schemas.models import (
    AlertAcknowledged,
    AlertAssigned,
    AlertClosed,
    AlertNoted,
    CaseViewed,
    Category,
    Channel,
    Level,
)

PAGE = 200


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False, default=str)
    )


def _day_end(now: datetime) -> datetime:
    local = now.astimezone(BEIJING)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def _lag_json(request: web.Request) -> dict[str, Any]:
    lag = parts_of(request).model.lag()
    return {"total": sum(r["lag"] for r in lag), "partitions": lag}


async def today(request: web.Request) -> web.StreamResponse:
    parts = parts_of(request)
    now = parts.clock()
    summary = parts.model.summary(scope_of_viewer(request), now, _day_end(now))
    alerts, total = parts.model.alerts(AlertFilter(), scope_of_viewer(request), 20)
    with_rules(alerts, lang_of(request))
    if wants_json(request):
        return _json(
            {
                "now": now.isoformat(),
                "summary": summary,
                "alerts": alerts,
                "alerts_total": total,
                "lag": _lag_json(request),
            }
        )
    return render(
        request,
        "today.html",
        {"summary": summary, "alerts": alerts, "alerts_total": total, "now": now},
    )


# 告警 ------------------------------------------------------------------------------------
def _alert_filter(request: web.Request, lang: str) -> tuple[AlertFilter, dict[str, str]]:
    q = request.query
    errors: dict[str, str] = {}
    level = q.get("level", "")
    if level and level not in {lv.value for lv in Level}:
        errors["level"] = translate("Unknown level; choose office, department or leadership.", lang)
        level = ""
    since = until = None
    for name in ("since", "until"):
        text = q.get(name, "")
        if text:
            try:
                day = parse_day(text)
            except ValueError:
                errors[name] = translate("Use a date like 2026-03-01.", lang)
                continue
            if name == "since":
                since = day
            else:
                until = day + timedelta(days=1)
    return AlertFilter(
        level, q.get("office", ""), q.get("platform", ""), q.get("rule", ""), since, until
    ), errors


async def alerts(request: web.Request) -> web.StreamResponse:
    lang = lang_of(request)
    f, errors = _alert_filter(request, lang)
    rows, total = parts_of(request).model.alerts(f, scope_of_viewer(request), PAGE)
    with_rules(rows, lang)
    status = 400 if errors else 200
    if wants_json(request):
        return _json({"alerts": rows, "total": total, "shown": len(rows), "errors": errors}, status)
    return render(
        request,
        "alerts.html",
        {
            "rows": rows,
            "total": total,
            "errors": errors,
            "q": request.query,
            "levels": [lv.value for lv in Level],
        },
        status,
    )


async def alert_action(request: web.Request) -> web.StreamResponse:
    parts = parts_of(request)
    alert_id = request.match_info["alert_id"]
    alert = parts.model.alert(alert_id)
    viewer_scope = scope_of_viewer(request)
    if alert is None or (viewer_scope is not None and alert["platform_id"] not in viewer_scope):
        raise web.HTTPNotFound()
    form = await request.post()
    action = str(form.get("action", ""))
    viewer = request["viewer"]
    common: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "case_id": alert["case_id"] or "",
        "platform_id": alert["platform_id"],
        "occurred_at": parts.clock(),
        "alert_id": alert_id,
        "actor": viewer.username,
    }
    lang = lang_of(request)
    back = str(form.get("next", "")) or (
        f"/cases/{alert['case_id']}" if alert["case_id"] else "/alerts"
    )
    value = str(form.get("value", "")).strip()
    event: Any
    if action == "ack":
        event = AlertAcknowledged(**common)
    elif action == "assign" and value:
        event = AlertAssigned(**common, assignee=value)
    elif action == "note" and value:
        event = AlertNoted(**common, note=value)
    elif action == "close":
        event = AlertClosed(**common, reason=value)
    else:
        message = translate("Fill in the person or the note.", lang)
        if wants_json(request):
            return _json({"errors": {"value": message}}, 400)
        raise web.HTTPFound(f"{back.split('?')[0]}?error={message}#alert-{alert_id}")
    assert parts.writer is not None
    await parts.writer.write(parts.catalogue.alert_actions, alert_id, event)
    if wants_json(request):
        return _json({"event_id": event.event_id, "type": type(event).__name__})
    raise web.HTTPFound(back if back.startswith("/") else "/alerts")


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: each new alert the viewer may see, as it is folded."""
    parts = parts_of(request)
    scope = scope_of_viewer(request)
    lang = lang_of(request)
    assert parts.feed is not None
    queue = parts.feed.subscribe()
    try:
        async with sse_response(request) as resp:
            while resp.is_connected():
                try:
                    alert = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    continue
                if scope is not None and alert["platform_id"] not in scope:
                    continue
                alert["rule_title"] = rule_title(alert["rule_id"], "", lang)
                alert["type_label"] = translate(alert["type"], lang)
                alert["level_label"] = translate(alert["level"], lang)
                await resp.send(json.dumps(alert, ensure_ascii=False), event="alert")
        return resp
    finally:
        parts.feed.unsubscribe(queue)


# 待办与逾期 -------------------------------------------------------------------------------
async def worklist(request: web.Request) -> web.StreamResponse:
    rows, total = worklist_rows(request)
    if wants_json(request):
        return _json(
            {
                "clocks": rows,
                "total": total,
                "shown": len(rows),
                "now": parts_of(request).clock().isoformat(),
                "lag": _lag_json(request),
            }
        )
    return render(request, "worklist.html", {"rows": rows, "total": total})


# 案件 ------------------------------------------------------------------------------------
async def cases(request: web.Request) -> web.StreamResponse:
    lang = lang_of(request)
    f, errors = case_filter(request, lang)
    try:
        page = max(int(request.query.get("page", "1")), 1)
    except ValueError:
        errors["page"] = translate("Not a page number.", lang)
        page = 1
    model, viewer_scope = parts_of(request).model, scope_of_viewer(request)
    rows, total = model.cases(f, viewer_scope, PAGE, (page - 1) * PAGE)
    status = 400 if errors else 200
    if wants_json(request):
        return _json(
            {"cases": rows, "total": total, "shown": len(rows), "page": page, "errors": errors},
            status,
        )
    return render(
        request,
        "cases.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "errors": errors,
            "q": request.query,
            "categories": [c.value for c in Category],
            "channels": [c.value for c in Channel],
        },
        status,
    )


async def case_page(request: web.Request) -> web.StreamResponse:
    parts = parts_of(request)
    case_id = request.match_info["case_id"]
    as_json = case_id.endswith(".json") or request.query.get("format") == "json"
    case_id = case_id.removesuffix(".json")
    case = parts.model.case(case_id)
    scope = scope_of_viewer(request)
    if case is None or (scope is not None and case["platform_id"] not in scope):
        raise web.HTTPNotFound()
    lang = lang_of(request)
    now = parts.clock()
    for c in case["clocks"]:
        c["rule_title"] = rule_title(c["rule_id"], c["policy_version"], lang)
        c["citation"] = citation(c["rule_id"], c["policy_version"])
        if c["state"] in ("RUNNING", "PAUSED"):
            at = from_utc_text(c["paused_at"]) if c["state"] == "PAUSED" and c["paused_at"] else now
            c["remaining_ms"] = int((from_utc_text(c["due_at"]) - at).total_seconds() * 1000)
        else:
            c["remaining_ms"] = None
    with_rules(case["alerts"], lang)
    viewer = request["viewer"]
    if parts.writer is not None:
        await parts.writer.write(
            parts.catalogue.access_log,
            viewer.username,
            CaseViewed(
                event_id=str(uuid.uuid4()),
                case_id=case_id,
                platform_id=case["platform_id"],
                occurred_at=now,
                actor=viewer.username,
                role=viewer.role,
                view="case.json" if as_json else "case.html",
            ),
            wait=0,
        )
    if as_json:
        return _json({"case": case, "now": now.isoformat()})
    return render(request, "case.html", {"case": case, "error": request.query.get("error", "")})


# 平台 ------------------------------------------------------------------------------------
async def platforms(request: web.Request) -> web.StreamResponse:
    model = parts_of(request).model
    scope = scope_of_viewer(request)
    lang = lang_of(request)
    data = {
        "weeks": model.platform_weeks(scope),
        "target": {"settlement_rate": 0.85},
        "breaches_by_rule": with_rules(model.breaches_by_rule(scope), lang),
        "rectifications": model.rectifications(scope, 100),  # type: ignore[attr-defined]
        "interviews": with_rules(model.alerts_of_type("InterviewRecommended", scope, 100), lang),
        "deadletters_by_reason": _reason_labels(model.deadletters_by_reason(), lang)
        if scope is None
        else [],
    }
    if wants_json(request):
        return _json(data)
    return render(
        request,
        "platforms.html",
        {"data": data, "data_json": json.dumps(data, ensure_ascii=False, default=str)},
    )


# 导出 ------------------------------------------------------------------------------------
async def export_page(request: web.Request) -> web.StreamResponse:
    now = parts_of(request).clock().astimezone(BEIJING)
    return render(request, "export.html", {"month": now.strftime("%Y-%m")})


async def export_list(request: web.Request) -> web.StreamResponse:
    return await export_response(request)


async def export_monthly(request: web.Request) -> web.StreamResponse:
    return await monthly_workbook(request)


async def status(request: web.Request) -> web.StreamResponse:
    return _json({"lag": _lag_json(request), "now": to_utc_text(parts_of(request).clock())})


def add_routes(app: web.Application) -> None:
    r = app.router
    for path, handler in (
        ("/", today),
        ("/today.json", today),
        ("/alerts", alerts),
        ("/alerts.json", alerts),
        ("/worklist", worklist),
        ("/worklist.json", worklist),
        ("/cases", cases),
        ("/cases.json", cases),
        ("/platforms", platforms),
        ("/platforms.json", platforms),
        ("/export", export_page),
        ("/status.json", status),
        ("/events", events),
    ):
        r.add_get(path, handler)
    r.add_get("/cases/{case_id}", case_page)
    r.add_post("/alerts/{alert_id}/action", alert_action)
    r.add_get("/export/monthly.xlsx", export_monthly)
    r.add_get("/export/{name}.{ext}", export_list)


def _reason_labels(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each dead-letter reason row with its sentence in the viewer's language (``label``)."""
    from schemas.reason_texts import reason_text

    return [{**row, "label": translate(reason_text(row["reason"]), lang)} for row in rows]
