"""The SDK's scorecard query against a real local HTTP server: bearer token, query, errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiohttp import web

from clients.scorecard import ScorecardError, platform_scorecard
from tests.notify.receivers import free_port


async def test_the_platform_reads_its_own_scorecard_with_its_token() -> None:
    seen: list[dict[str, Any]] = []

    async def card(request: web.Request) -> web.Response:
        seen.append({"auth": request.headers.get("Authorization"), "query": dict(request.query),
                     "id": request.match_info["id"]})  # fmt: skip
        if request.headers.get("Authorization") != "Bearer tok-acme":
            return web.json_response({"error": "unauthorised"}, status=401)
        if request.match_info["id"] != "acme":
            return web.json_response({"error": "a platform token reads its own only"}, status=403)
        return web.json_response({"subject": "acme", "rates": {"response": 0.9}})

    app = web.Application()
    app.router.add_get("/platforms/{id}/scorecard", card)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        got = await platform_scorecard(base, "acme", "tok-acme", start=date(2026, 3, 1),
                                       end=date(2026, 3, 31))  # fmt: skip
        assert got["subject"] == "acme"
        assert seen[0]["query"] == {"from": "2026-03-01", "to": "2026-03-31"}
        with pytest.raises(ScorecardError) as other:
            await platform_scorecard(base, "other", "tok-acme")
        assert other.value.status == 403 and "own" in str(other.value)
        with pytest.raises(ScorecardError) as anonymous:
            await platform_scorecard(base, "acme", None, window="30d")
        assert anonymous.value.status == 401 and seen[-1]["auth"] is None
    finally:
        await runner.cleanup()
    with pytest.raises(ScorecardError) as down:
        await platform_scorecard(base, "acme", "tok-acme", timeout=2.0)
    assert down.value.status == 0
