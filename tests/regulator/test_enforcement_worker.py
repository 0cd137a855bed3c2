"""End to end through the real broker and a worker subprocess: the bureau publishes an
interview and its outcome, two orders to correct (one verified, one left to run past its
deadline), a penalty and a refused submission on its ingress topic; ingress routes them to
the governance topic, the enforcement agent keeps the platform's record, and the worker API
shows it (authenticated, JSON errors), while the overdue order's breach and the refused
event's violation reach the alerts topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.api_auth import Role, TokenStore, bearer_header
from devtools.worker_process import WorkerProcess
from schemas.models import (
    Category,
    Channel,
    ComplaintFiled,
    Event,
    InterviewOutcome,
    LifecycleViolationDetected,
    Priority,
    SlaBreached,
)
from streams.cloudevents_headers import bureau_source
from streams.codec import EventCodec
from streams.registry import add_platform
from streams.settings import Settings
from streams.ticks import publish_ticks
from streams.topics import Catalogue
from tests import enforcement_events as ev
from tests.kafka_helpers import TopicReader, produce, wait_until

from .test_worker import free_port

pytestmark = pytest.mark.broker
CODEC = EventCodec()


async def _record(client: httpx.AsyncClient, platform: str) -> dict[str, Any] | None:
    try:
        resp = await client.get(f"/platforms/{platform}/enforcement")
    except httpx.TransportError:
        return None
    return resp.json() if resp.status_code == 200 else None


async def test_the_record_follows_the_bureau_acts(
    settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    platform = f"p{uuid.uuid4().hex[:8]}"
    await add_platform(settings, platform)
    token = TokenStore(settings.state_dir).create("tests", Role.REGULATOR)
    other = TokenStore(settings.state_dir).create("other", Role.PLATFORM, platform="someone")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    kept, late = f"o-{uuid.uuid4().hex[:6]}", f"o-{uuid.uuid4().hex[:6]}"
    acts: list[Event] = [
        ev.held("iv-1", t0, platform=platform),
        ev.outcome("iv-1", t0 + timedelta(hours=2), InterviewOutcome.ESCALATED_TO_ORDER, kept,
                   platform=platform),
        ev.ordered(kept, t0 + timedelta(hours=3), t0 + timedelta(days=10), platform=platform),
        ev.submitted(kept, t0 + timedelta(days=1), platform=platform),
        ev.verified(kept, t0 + timedelta(days=2), platform=platform),
        ev.submitted(kept, t0 + timedelta(days=3), platform=platform),  # after PASSED: refused
        ev.ordered(late, t0, t0 + timedelta(days=10), platform=platform),
        ev.penalty("pen-1", t0 + timedelta(days=4), 2_000_000, platform=platform),
    ]  # fmt: skip
    filed = ComplaintFiled(
        event_id=str(uuid.uuid4()), case_id=f"C-{uuid.uuid4().hex[:6]}", platform_id=platform,
        occurred_at=t0, channel=Channel.HOTLINE_12345, category=Category.DELIVERY_GOODS_DAMAGE,
        priority=Priority.NORMAL, claimed_amount_fen=9_900, insured=False, office="HD-ZGC",
        consumer_ref="c-7f3a", intake_at=t0,
    )  # fmt: skip
    acts.append(filed)  # so that the platform has a scorecard, which carries the record
    await produce(
        settings.bootstrap,
        catalogue.bureau_ingress,
        [CODEC.encode(e, bureau_source("hd-zgc")) for e in acts],
    )
    port = free_port()
    worker = WorkerProcess(settings, tmp_path / "worker.log", web_port=port).start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=10, headers=bearer_header(token)
        ) as client:

            async def routed() -> bool:
                got = await _record(client, platform)
                return got is not None and got["penalties"] == 1 and got["orders_open"] == 1

            await wait_until(routed, 120, lambda: f"no record:\n{worker.log_tail()}")
            await publish_ticks(settings.bootstrap, catalogue, t0 + timedelta(days=11))

            async def overdue() -> bool:
                got = await _record(client, platform)
                return got is not None and got["orders_overdue"] == 1

            await wait_until(overdue, 60, lambda: f"never overdue:\n{worker.log_tail()}")
            body = await _record(client, platform)
            assert body is not None
            expected = {"interviews_held": 1, "interviews_concluded": 1, "orders_open": 1,
                        "orders_closed": 1, "orders_overdue": 1, "penalties": 1,
                        "penalty_total_fen": 2_000_000, "refused_events": 1}  # fmt: skip
            assert {k: body[k] for k in expected} == expected
            assert {o["order_id"]: o["status"] for o in body["orders"]} == {
                kept: "PASSED", late: "ORDERED",
            }  # fmt: skip
            assert body["interviews"][0]["order_id"] == kept

            async def scorecard() -> bool:
                return (await client.get(f"/platforms/{platform}/scorecard")).status_code == 200

            await wait_until(scorecard, 60, lambda: f"no scorecard:\n{worker.log_tail()}")
            card = (await client.get(f"/platforms/{platform}/scorecard")).json()
            assert card["enforcement"]["penalty_total_fen"] == 2_000_000

            missing = await client.get("/platforms/nobody-here/enforcement")
            assert missing.status_code == 404 and "nobody-here" in missing.json()["error"]
            anonymous = await client.get(
                f"/platforms/{platform}/enforcement", headers={"Authorization": ""}
            )
            assert anonymous.status_code == 401 and "error" in anonymous.json()
            foreign = await client.get(
                f"/platforms/{platform}/enforcement", headers=bearer_header(other)
            )
            assert foreign.status_code == 403
    finally:
        worker.stop()

    def both(records: list[Any]) -> bool:
        alerts = [CODEC.decode(r.value, r.headers) for r in records]
        kinds = {type(a) for a in alerts if a.case_id in {kept, late}}
        return {SlaBreached, LifecycleViolationDetected} <= kinds

    async with TopicReader(settings.bootstrap, catalogue.alerts) as reader:
        records = await reader.read_until(
            both, 30, lambda: "the breach and the violation never arrived"
        )
    alerts = [CODEC.decode(r.value, r.headers) for r in records]
    orders = {kept, late}  # the complaint's own clocks breach too
    breaches = [a for a in alerts if isinstance(a, SlaBreached) and a.case_id in orders]
    assert [(a.case_id, a.rule_id, a.due_at) for a in breaches] == [
        (late, "RECTIFICATION_DEADLINE", t0 + timedelta(days=10))
    ]
    (violation,) = [a for a in alerts if isinstance(a, LifecycleViolationDetected)]
    assert violation.case_id == kept and violation.offending_event_id == acts[5].event_id
