"""The console's shared queries: an office's scope, rule titles, the worklist and the case
search, used by the pages (:mod:`console.views`) and the exports (:mod:`console.exports`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from console.i18n import translate
from console.pages import lang_of, parts_of
from console.readmodel import CaseFilter
from console.rules import rule_title
from console.timefmt import beijing, duration, from_utc_text, parse_day
from schemas.models import Category, Channel

WORKLIST_LIMIT = 5000


def scope(request: web.Request) -> frozenset[str] | None:
    return request.get("scope")


def with_rules(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    for r in rows:
        r["rule_title"] = rule_title(r.get("rule_id", ""), r.get("policy_version", ""), lang)
    return rows


# 工作台 ------------------------------------------------------------------------------------
def worklist_rows(request: web.Request) -> tuple[list[dict[str, Any]], int]:
    parts = parts_of(request)
    now = parts.clock()
    rows, total = parts.model.running_clocks(scope(request), WORKLIST_LIMIT)
    lang = lang_of(request)
    states = {s: translate(s, lang) for s in ("RUNNING", "PAUSED")}
    # Display strings made here, not in the template: 5,000 rows must render in well under
    # a second (bench/bench_console.py).
    for r in rows:
        due = from_utc_text(r["due_at"])
        at = from_utc_text(r["paused_at"]) if r["state"] == "PAUSED" and r["paused_at"] else now
        r["remaining_ms"] = int((due - at).total_seconds() * 1000)
        r["overdue"] = r["remaining_ms"] < 0
        r["left_text"] = duration(r["remaining_ms"], lang)
        r["paused_text"] = duration(r["paused_ms"] or 0, lang)
        r["due_text"] = beijing(due)
        r["state_text"] = states.get(r["state"], r["state"])
    with_rules(rows, lang)
    return rows, total


def case_filter(request: web.Request, lang: str) -> tuple[CaseFilter, dict[str, str]]:
    q = request.query
    errors: dict[str, str] = {}
    category, channel = q.get("category", ""), q.get("channel", "")
    if category and category not in {c.value for c in Category}:
        errors["category"] = translate("Unknown category.", lang)
        category = ""
    if channel and channel not in {c.value for c in Channel}:
        errors["channel"] = translate("Unknown channel.", lang)
        channel = ""
    dates: dict[str, datetime | None] = {"from": None, "to": None}
    for name in dates:
        text = q.get(name, "")
        if text:
            try:
                dates[name] = parse_day(text)
            except ValueError:
                errors[name] = translate("Use a date like 2026-03-01.", lang)
    to = dates["to"] + timedelta(days=1) if dates["to"] else None
    f = CaseFilter(
        q.get("case_id", "").strip(),
        q.get("platform", "").strip(),
        category,
        channel,
        q.get("status", "").strip(),
        dates["from"],
        to,
        q.get("open") == "1",
    )
    return f, errors
