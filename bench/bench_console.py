"""How long the console takes to render a page of 5,000 open cases (the worklist: one SLA clock
per case, all running) and the case search, on a read model filled in memory.

    python -m bench.bench_console [--cases 5000]

Prints the time per page (median of 5 after one warm-up); the target is under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from console.auth import account_created
from console.readmodel import Applied, SqliteReadModel
from console.web import ConsoleParts, build_app
from schemas.models import (
    Category,
    Channel,
    ComplaintFiled,
    Priority,
    Role,
    SlaClockStarted,
)
from streams.topics import Catalogue

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def fill(model: SqliteReadModel, cases: int) -> None:
    batch: list[Applied] = [
        Applied("b.accounts", 0, 0, account_created("bench", "pw", Role.ADMIN, None, "b", T0))
    ]
    for i in range(cases):
        case, at = f"C-{i:06d}", T0 + timedelta(minutes=i)
        batch.append(
            Applied(
                "b.cases.complaints",
                i % 4,
                i,
                ComplaintFiled(
                    event_id=f"f-{i}",
                    case_id=case,
                    platform_id=f"shop-{i % 40}",
                    occurred_at=at,
                    channel=Channel.HOTLINE_12345,
                    category=Category.DELIVERY_GOODS_DAMAGE,
                    priority=Priority.NORMAL,
                    claimed_amount_fen=100,
                    insured=False,
                    office="HD-ZGC",
                    consumer_ref=f"c-{i}",
                    intake_at=at,
                ),
            )
        )
        batch.append(
            Applied(
                "b.sla",
                i % 4,
                i,
                SlaClockStarted(
                    event_id=f"s-{i}",
                    case_id=case,
                    platform_id=f"shop-{i % 40}",
                    occurred_at=at,
                    clock_id=f"k-{i}",
                    sla_id="COMPLAINT_RESOLVE",
                    policy_version="SAMR-20",
                    started_at=at,
                    due_at=at + timedelta(days=7),
                ),
            )
        )
    model.apply(batch, {})


async def run(cases: int) -> dict[str, float]:
    model = SqliteReadModel()
    fill(model, cases)
    parts = ConsoleParts(
        model=model, catalogue=Catalogue("b"), clock=lambda: T0 + timedelta(days=3)
    )
    out: dict[str, float] = {}
    async with TestClient(TestServer(build_app(parts, "bench"))) as client:
        page = await (await client.get("/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        await client.post("/login", data={"username": "bench", "password": "pw", "csrf": csrf})
        for path in ("/worklist", "/cases?open=1", "/"):
            times = []
            for n in range(6):
                start = time.perf_counter()
                resp = await client.get(path)
                body = await resp.read()
                assert resp.status == 200, (path, resp.status)
                if n:
                    times.append(time.perf_counter() - start)
            out[path] = statistics.median(times)
            print(f"{path:16} {out[path] * 1000:8.1f} ms  ({len(body) // 1024} KiB)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5000)
    args = parser.parse_args()
    print(f"console pages over {args.cases} open cases (median of 5):")
    asyncio.run(run(args.cases))


if __name__ == "__main__":
    main()
