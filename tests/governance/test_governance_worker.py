"""Issue 18 through the real broker and a real worker: a platform rule change shown with its
before/after complaint rates at ``GET /platforms/{id}/rules``, and the 未诉先办 refund signal
raised on the alerts topic and routed by the 包片 roster."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from agents.api_auth import Role, TokenStore, bearer_header
from agents.core.early_signal import week_closes_at
from devtools.worker_process import WorkerProcess
from schemas.families import CaseFamily
from schemas.models import (
    Category,
    Channel,
    ComplaintFiled,
    Event,
    PlatformRuleChanged,
    Priority,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    RiskSignalRaised,
    RosterAssigned,
)
from streams.admin import ensure_topics
from streams.codec import EventCodec
from streams.roster_log import publish_roster
from streams.rule_log import publish_rule_changes
from streams.settings import Settings
from streams.ticks import publish_ticks
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce, wait_until

pytestmark = pytest.mark.broker
CODEC = EventCodec()
EFFECTIVE = date(2026, 11, 16)  # a Monday
W1, W2 = date(2026, 11, 23), date(2026, 11, 30)  # the refund weeks: after the rule test's tick
DELIVERY, REFUNDS = "sfexpress", "xianyu"


def bj(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def filed(n: int, day: date, insured: bool) -> ComplaintFiled:
    return ComplaintFiled(
        event_id=f"cf-{n}", case_id=f"C-{n}", platform_id=DELIVERY, occurred_at=bj(day),
        channel=Channel.HOTLINE_12345, category=Category.DELIVERY_GOODS_DAMAGE,
        priority=Priority.NORMAL, merchant_ref="m-1", live_room_ref=None,
        claimed_amount_fen=9900, insured=insured, declared_value_fen=20000 if insured else None,
        office="HD-DS", consumer_ref=f"c-{n:04x}", intake_at=bj(day),
        policy_rule_version="SAMR-121",
    )  # fmt: skip


def refund(n: int, day: date, rejected: bool, linked: bool = False) -> list[Event]:
    at = bj(day)
    return [
        RefundRequested(
            event_id=f"rq-{n}", case_id=f"R-{n}", platform_id=REFUNDS, occurred_at=at,
            order_ref=f"o-{n}", amount_fen=5000, reason="与描述不符",
            complaint_case_id=f"C-{n}" if linked else None,
        ),
        RefundReviewed(
            event_id=f"rv-{n}", case_id=f"R-{n}", platform_id=REFUNDS,
            occurred_at=at + timedelta(hours=3),
            decision=ReviewDecision.REJECTED if rejected else ReviewDecision.APPROVED,
            approved_amount_fen=0 if rejected else 5000,
        ),
    ]  # fmt: skip


@dataclass
class World:
    settings: Settings
    catalogue: Catalogue
    worker: WorkerProcess
    client: httpx.AsyncClient
    token: str


@pytest.fixture(scope="module")
async def world(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("governance")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    settings = Settings(bootstrap=bootstrap, topic_prefix=prefix, state_dir=tmp / "state")
    catalogue = Catalogue(prefix)
    await ensure_topics(bootstrap, catalogue.specs())
    await publish_roster(settings, [RosterAssigned(
        event_id="ra-1", case_id="", platform_id=REFUNDS, occurred_at=bj(W1 - timedelta(days=30)),
        office="HD-XSQ", department="CONSUMER_PROTECTION", leader="李副局长",
        office_contacts=["xsq@hd.example"], department_contacts=[], leader_contacts=[],
        effective_from=bj(W1 - timedelta(days=30), 0), assigned_by="tests",
    )])  # fmt: skip
    token = TokenStore(settings.state_dir).create("tests", Role.REGULATOR)
    port = free_port()
    worker = WorkerProcess(settings, tmp / "worker.log", web_port=port).start()
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=bearer_header(token)) as c:

        async def healthy() -> bool:
            try:
                return (await c.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await wait_until(healthy, 90, lambda: f"worker never healthy:\n{worker.log_tail()}")
            yield World(settings, catalogue, worker, c, token)
        finally:
            worker.stop()


async def test_rule_change_shows_before_and_after_rates(world: World) -> None:
    complaints = [filed(i, EFFECTIVE - timedelta(days=1 + i), i < 2) for i in range(10)]
    complaints += [filed(100 + i, EFFECTIVE + timedelta(days=i), i < 8) for i in range(5)]
    await produce(world.settings.bootstrap, world.catalogue.cases(CaseFamily.COMPLAINTS),
                  [CODEC.encode(e, "/bureau/hotline") for e in complaints])  # fmt: skip
    change = PlatformRuleChanged(
        event_id="rule-1", case_id="", platform_id=DELIVERY, occurred_at=bj(EFFECTIVE, 9),
        rule_id="insured-delivery", title="同城即时配送保价规则", old_text="保价为可选服务",
        new_text="下单时弹窗说明保价", effective_from=bj(EFFECTIVE, 0),
        categories=[Category.DELIVERY_GOODS_DAMAGE], advice_ref="东升镇所建议", recorded_by="HD-DS",
    )  # fmt: skip
    with pytest.raises(ValueError, match="source"):
        await publish_rule_changes(world.settings, [change], source="/platforms/sfexpress")
    assert await publish_rule_changes(world.settings, [change]) == 1
    await publish_ticks(
        world.settings.bootstrap, world.catalogue, bj(EFFECTIVE + timedelta(days=4), 12)
    )
    c = world.client

    async def shown() -> bool:
        r = await c.get(f"/platforms/{DELIVERY}/rules")
        return r.status_code == 200 and r.json()["rules"][0]["after"]["delivery_complaints"] == 5

    await wait_until(shown, 60, lambda: f"rule change not shown:\n{world.worker.log_tail()}")
    body = (await c.get(f"/platforms/{DELIVERY}/rules")).json()
    assert body["as_of"] == "2026-11-20"
    rule = body["rules"][0]
    assert (rule["rule_id"], rule["advice_ref"]) == ("insured-delivery", "东升镇所建议")
    d = Category.DELIVERY_GOODS_DAMAGE.value
    assert rule["before"]["complaints"] == {d: 10} and rule["before"]["days"] == 14
    assert rule["after"]["days"] == 5 and rule["after"]["per_day"][d] == 1.0
    assert rule["before"]["insured_share"] == 0.2 and rule["after"]["insured_share"] == 1.0
    # errors are JSON and name the field; other platforms see nothing; a token is required
    bad = await c.get(f"/platforms/{DELIVERY}/rules", params={"at": "20-11-2026"})
    assert bad.status_code == 400 and "at" in bad.json()["error"]
    bad = await c.get(f"/platforms/{DELIVERY}/rules", params={"window": "0"})
    assert bad.status_code == 400 and "window" in bad.json()["error"]
    none = await c.get("/platforms/nobody/rules")
    assert none.status_code == 404 and "nobody" in none.json()["error"]
    async with httpx.AsyncClient(base_url=str(c.base_url)) as anon:
        assert (await anon.get(f"/platforms/{DELIVERY}/rules")).status_code == 401


async def test_refund_rejections_rising_is_raised_and_routed(world: World) -> None:
    events: list[Event] = []
    for i in range(10):
        events += refund(i, W1 + timedelta(days=i % 5), rejected=i < 1)
    for i in range(10):
        events += refund(100 + i, W2 + timedelta(days=i % 5), rejected=i < 6)
    for i in range(5):  # rejections of refunds already under a complaint do not count
        events += refund(200 + i, W1 + timedelta(days=i), rejected=True, linked=True)
    await produce(world.settings.bootstrap, world.catalogue.cases(CaseFamily.REFUNDS),
                  [CODEC.encode(e, f"/platforms/{REFUNDS}") for e in events])  # fmt: skip
    close = week_closes_at(W2)
    async with TopicReader(world.settings.bootstrap, world.catalogue.alerts) as reader:
        await publish_ticks(world.settings.bootstrap, world.catalogue, close - timedelta(hours=1))
        await publish_ticks(world.settings.bootstrap, world.catalogue, close)

        def raised(records: list) -> bool:  # type: ignore[type-arg]
            return any(_rule(r) == "REFUND_REJECTIONS_RISING" for r in records)

        await reader.read_until(raised, 60, lambda: f"no signal:\n{world.worker.log_tail()}")
        records = await reader.settle(quiet=1.5)
    signals = [CODEC.decode(r.value, r.headers) for r in records]
    ours = [a for a in signals if a.rule_id == "REFUND_REJECTIONS_RISING"]
    assert len(ours) == 1  # one per platform and week: W1 (10 %, from nothing) did not fire
    alert = ours[0]
    assert isinstance(alert, RiskSignalRaised)
    assert (alert.subject, alert.observed_at, alert.metric) == (REFUNDS, close, 0.6)
    assert (alert.office, alert.leader) == ("HD-XSQ", "李副局长")  # routed by the roster


def _rule(record) -> str:  # type: ignore[no-untyped-def]
    return CODEC.decode(record.value, record.headers).rule_id


async def test_audit_replays_the_signal_and_reports_the_rule_change(world: World) -> None:
    """Runs after the two tests above (module order): the replay raises the same
    REFUND_REJECTIONS_RISING the worker raised, and reports the rule change's effect."""
    from audit.collect import Collector
    from audit.fold import AsOf
    from audit.html import render_html
    from audit.reconcile import read_alerts, reconcile_replay
    from audit.replay import replay
    from audit.report import build_report

    until = week_closes_at(W2) + timedelta(minutes=5)
    result = await replay(world.settings, AsOf.at(until), catalogue=world.catalogue,
                          collector=Collector())  # fmt: skip
    assert result.regulator is not None
    expected = [a for a in result.regulator.expected() if a.rule_id == "REFUND_REJECTIONS_RISING"]
    assert [a.subject for a in expected] == [REFUNDS]
    actual, _bad = await read_alerts(world.settings, world.catalogue.alerts)
    rec = reconcile_replay(result, actual, world.catalogue, late_after_ms=10**9)
    missing = [m for m in rec.missing if m["rule_id"] == "REFUND_REJECTIONS_RISING"]
    extra = [m for m in rec.extra if m["rule_id"] == "REFUND_REJECTIONS_RISING"]
    mismatched = [
        m for m in rec.mismatched if m["expected"]["rule_id"] == "REFUND_REJECTIONS_RISING"
    ]
    assert (missing, extra, mismatched) == ([], [], [])
    assert any("REFUND_REJECTIONS_RISING" in t for t in rec.scope["alert_types"])
    report = build_report(result, reconciliation=rec)
    [rule] = report["rule_changes"]
    d = Category.DELIVERY_GOODS_DAMAGE.value
    assert rule["before"]["complaints"] == {d: 10} and rule["after"]["complaints"] == {d: 5}
    assert rule["before"]["insured_share"] == 0.2 and rule["after"]["insured_share"] == 1.0
    html = render_html(report)
    assert 'id="rule-changes"' in html and "同城即时配送保价规则" in html
