"""A worker that was down when a deadline passed raises the breach late; reconciliation says
by how much.

Ticks are the clock, so the alert's ``observed_at`` is the tick's time whenever the worker
processes it: only the record timestamps show the delay. Lateness is the alert record's
Kafka timestamp minus the Kafka timestamp of the tick that made it due (docs/audit.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from audit.collect import Collector
from audit.fold import AsOf
from audit.reconcile import Scope, read_alerts, reconcile
from audit.replay import replay
from schemas.instants import to_ms
from schemas.models import Category, Channel, ComplaintFiled, Priority
from streams.codec import EventCodec
from tests.cases.scenario import START, Step

from .helpers import publish_steps, wait_processed

OUTAGE_S = 3.0


async def test_alert_raised_after_an_outage_is_reported_late(
    settings, catalogue, worker_factory
) -> None:
    codec = EventCodec()
    case = f"C-{uuid.uuid4().hex[:8]}"
    filed = ComplaintFiled(
        event_id=str(uuid.uuid4()), case_id=case, platform_id="shop1", occurred_at=START,
        channel=Channel.PLATFORM_APP, category=Category.OTHER, priority=Priority.NORMAL,
        claimed_amount_fen=100, insured=False, office="HD-ZGC", consumer_ref="c-1",
        intake_at=START, policy_rule_version="SAMR-20",  # times the app acknowledgement
    )  # fmt: skip
    worker = worker_factory("--no-web", name="first")
    await publish_steps(settings.bootstrap, catalogue, [Step(START, None), Step(START, filed)],
                        codec)  # fmt: skip
    await wait_processed(settings.bootstrap, catalogue, 90, f"at start:\n{worker.log_tail()}")
    # +13 h while the worker runs: the 50 % warning (due +12 h) is raised on time
    await publish_steps(settings.bootstrap, catalogue, [Step(START + timedelta(hours=13), None)],
                        codec)  # fmt: skip
    await wait_processed(settings.bootstrap, catalogue, 60, "the +13 h tick")
    worker.kill()  # a crash: offsets and tables were committed up to the +13 h tick

    # +30 h while it is down: the 75 % warning and the breach (+24 h) fall due unobserved
    # (the warning passed together with the deadline, so only the breach is raised)
    published = time.time()
    await publish_steps(settings.bootstrap, catalogue, [Step(START + timedelta(hours=30), None)],
                        codec)  # fmt: skip
    await asyncio.sleep(OUTAGE_S)  # the outage itself, not a wait for a deadline
    restarted = time.time()
    worker = worker_factory("--no-web", name="second")
    await wait_processed(settings.bootstrap, catalogue, 90, f"after restart:\n{worker.log_tail()}")

    collector = Collector()
    until = START + timedelta(hours=30)
    result = await replay(settings, AsOf.at(until), catalogue=catalogue, collector=collector)
    actual, _bad = await read_alerts(settings, catalogue.alerts)
    rec = reconcile(collector.alerts.values(), actual, Scope(until_ms=result.as_of.until_ms),
                    catalogue.alerts, late_after_ms=2_000)  # fmt: skip

    assert not rec.missing and not rec.extra and not rec.mismatched
    (late,) = rec.late
    assert (late["type"], late["rule_id"], late["case_id"]) == (
        "SlaBreached", "COMPLAINT_ACKNOWLEDGE", case,
    )  # fmt: skip
    assert late["observed_at"].startswith((START + timedelta(hours=30)).strftime("%Y-%m-%dT%H"))
    tick_logged = to_ms_iso(late["trigger"]["logged_at"])
    assert abs(tick_logged / 1000 - published) < 5  # the trigger is the +30 h tick record
    assert late["lateness_ms"] >= (restarted - published) * 1000 - 50
    assert late["lateness_ms"] < 120_000
    assert rec.on_time == 1  # the 50 % warning, raised while the worker was up
    assert rec.matched == 2


def to_ms_iso(text: str) -> int:
    from datetime import datetime

    return to_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))
