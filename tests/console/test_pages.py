"""Pages and exports in-process (no broker): JSON twins, bad input, the monthly workbook, and
the worker's Swagger UI page."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from agents.web import _register_docs
from console.auth import account_created
from console.readmodel import Applied, SqliteReadModel
from console.web import ConsoleParts, build_app
from schemas.models import Role
from streams.topics import Catalogue
from tests.console.test_catalogue import _facts

NOW = datetime(2026, 11, 4, tzinfo=UTC)


async def _client() -> TestClient:
    model = SqliteReadModel()
    admin = account_created("lead", "pw-1", Role.LEADERSHIP, None, "t", NOW)
    model.apply([Applied("t.accounts", 0, 0, admin), *_facts()], {})
    parts = ConsoleParts(model=model, catalogue=Catalogue("t"), clock=lambda: NOW)
    client = TestClient(TestServer(build_app(parts, "s")))
    await client.start_server()
    page = await (await client.get("/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    resp = await client.post("/login", data={"username": "lead", "password": "pw-1", "csrf": csrf})
    assert resp.status == 200 and "/login" not in str(resp.url)
    return client


async def test_json_twins_bad_input_and_the_monthly_workbook() -> None:
    client = await _client()
    try:
        today = await (await client.get("/today.json")).json()
        assert today["summary"]["overdue"] == 1 and today["lag"]["total"] == 0
        case = await (await client.get("/cases/C1.json")).json()
        cited = case["case"]["clocks"][0]["citation"]
        assert "12345" in cited and "工作惯例/practice" in cited, cited  # the practice it is
        bad = await client.get("/cases.json?from=2026-02-30&category=NOPE")
        assert bad.status == 400
        assert set((await bad.json())["errors"]) == {"from", "category"}
        missing = await client.get("/cases/NOPE")
        assert missing.status == 404 and "未找到" in await missing.text()
        resp = await client.get("/export/monthly.xlsx?month=2026-11")
        book = load_workbook(io.BytesIO(await resp.read()))
        assert book.sheetnames == ["三率与和解率", "告警", "按规则统计的超时", "待办与逾期"]
        alerts = list(book["告警"].iter_rows(min_row=2, values_only=True))
        assert [(a[0], a[6]) for a in alerts] == [("超时", "已确认")]
        assert (await client.get("/export/monthly.xlsx?month=11-2026")).status == 400
        forged = await client.post("/alerts/A1/action", data={"action": "ack", "csrf": "x"})
        assert forged.status == 403
    finally:
        await client.close()


async def test_the_worker_serves_swagger_ui_at_docs() -> None:
    app = web.Application()
    _register_docs(app)
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/docs")
        assert page.status == 200 and "/openapi.json" in await page.text()
        bundle = await client.get("/docs/static/swagger-ui-bundle.js")
        assert bundle.status == 200 and len(await bundle.read()) > 100_000
