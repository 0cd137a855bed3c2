"""The platform SDK against the real broker (no worker: what reaches the ingress topic)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from clients.publisher import (
    InvalidEventError,
    ItemError,
    PlatformNotRegisteredError,
    PlatformPublisher,
    SyncPlatformPublisher,
)
from schemas.models import Outcome, ReviewDecision, SuspendReason
from streams.cloudevents_headers import header_dict
from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader

from .factories import CODEC, NOW, WAIT, acknowledged, eid

pytestmark = pytest.mark.broker


async def ingress_size(bootstrap: str, topic: str, partitions: int = 4) -> int:
    """How many records the topic holds (sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


def line(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": eid(), "case_id": "c-1", "occurred_at": NOW.isoformat(),
            **fields}  # fmt: skip


async def test_a_batch_with_any_invalid_item_sends_nothing(
    settings: Settings, catalogue: Catalogue
) -> None:
    await add_platform(settings, "acme")
    items = [
        line("ComplaintAcknowledged"),
        line("ComplaintResolved", outcome="SETTLED", compensation_fen=-5),
        line("ComplaintForwarded", forwarded_by="HD-01"),
        line("ComplaintAcknowledged", platform_id="other"),
        {"event_id": eid()},
        line("NoSuchEvent"),
        acknowledged("c-2", "acme"),
        line("ComplaintAcknowledged", case_id=""),
    ]
    async with PlatformPublisher("acme", settings.bootstrap, prefix=catalogue.prefix) as pub:
        report = await pub.publish_batch(items)
    assert report.sent == [] and not report.ok
    assert [(e.index, e.field) for e in report.rejected] == [
        (1, "compensation_fen"),
        (2, "type"),
        (3, "platform_id"),
        (4, "type"),
        (5, "type"),
        (7, "case_id"),
    ]
    assert "platforms may not send ComplaintForwarded" in report.rejected[1].message
    assert await ingress_size(settings.bootstrap, catalogue.ingress("acme")) == 0


async def test_typed_methods_publish_valid_events_and_resends_are_reported(
    settings: Settings, catalogue: Catalogue
) -> None:
    await add_platform(settings, "acme")
    async with PlatformPublisher("acme", settings.bootstrap, prefix=catalogue.prefix) as pub:
        ack = await pub.acknowledge_complaint("c-1", event_id="acme-1", handler_ref="h")
        again = await pub.acknowledge_complaint("c-1", event_id="acme-1", handler_ref="h")
        await pub.suspend_complaint("c-1", reason=SuspendReason.ODR_NEGOTIATION)
        await pub.resume_complaint("c-1")
        await pub.resolve_complaint("c-1", outcome=Outcome.SETTLED, compensation_fen=100)
        await pub.request_refund("r-1", order_ref="o", amount_fen=900, reason="broken")
        await pub.review_refund("r-1", decision=ReviewDecision.APPROVED, approved_amount_fen=900)
        await pub.pay_refund("r-1", amount_fen=900, channel="alipay", payment_ref="p-1")
        await pub.submit_rectification("x-1", evidence_refs=["e-1"])
        with pytest.raises(InvalidEventError) as err:
            await pub.suspend_complaint("c-1", reason=SuspendReason.OTHER)
        assert err.value.errors[0].field == "reason"
        with pytest.raises(InvalidEventError) as err:
            await pub.pay_refund("r-1", amount_fen=-1, channel="alipay", payment_ref="p-2")
        assert err.value.errors[0].field == "amount_fen"
        batch = [acknowledged("c-9", "acme")] * 2
        dup_batch = await pub.publish_batch(batch)
    assert ack.sent == ["acme-1"] and again.sent == [] and again.duplicates == ["acme-1"]
    assert dup_batch.sent == [batch[0].event_id] and dup_batch.duplicates == [batch[0].event_id]
    async with TopicReader(settings.bootstrap, catalogue.ingress("acme")) as r:
        recs = await r.read_until(lambda rs: len(rs) >= 9, WAIT, "nine records")
        await r.settle(quiet=0.5, timeout=5)
    assert len(r.records) == 9
    for msg in recs:
        hd = header_dict(msg.headers)
        assert hd["ce_source"] == b"/platforms/acme" and msg.key == hd["ce_subject"]
        assert CODEC.decode(msg.value, list(msg.headers)).platform_id == "acme"


async def test_an_unregistered_platform_is_told_so(
    settings: Settings, catalogue: Catalogue
) -> None:
    with pytest.raises(PlatformNotRegisteredError, match="regbus platform add nobody"):
        async with PlatformPublisher("nobody", settings.bootstrap, prefix=catalogue.prefix):
            pass


def test_sync_publisher(settings: Settings, catalogue: Catalogue) -> None:
    asyncio.run(add_platform(settings, "acme"))
    with SyncPlatformPublisher("acme", settings.bootstrap, prefix=catalogue.prefix) as pub:
        report = pub.acknowledge_complaint("c-1", event_id="s-1")
        assert report.sent == ["s-1"] and pub.was_sent("s-1")
        bad = pub.publish_batch([{"type": "ComplaintAcknowledged"}])
    assert report.ok
    assert bad.rejected and all(isinstance(e, ItemError) for e in bad.rejected)
    assert {e.field for e in bad.rejected} == {"event_id", "case_id", "occurred_at"}
    assert asyncio.run(ingress_size(settings.bootstrap, catalogue.ingress("acme"))) == 1


async def test_a_large_batch_keeps_per_case_order_and_an_oversized_event_is_refused(
    settings: Settings, catalogue: Catalogue
) -> None:
    """publish_batch fills one aiokafka batch per partition and queues each when full; an
    item above the bus's size limit is refused before sending, naming the field, and (as any
    invalid item) keeps its whole batch from being sent."""
    await add_platform(settings, "acme")
    pad = "x" * 900  # ~1 KB records: 3,000 of them fill several 512 KB batches per partition
    items = [acknowledged(f"c-{i % 7}", "acme", handler_ref=f"{i}-{pad}") for i in range(3000)]
    oversized = acknowledged("c-1", "acme", handler_ref="y" * 1_100_000)  # > 1 MiB
    async with PlatformPublisher("acme", settings.bootstrap, prefix=catalogue.prefix) as pub:
        refused = await pub.publish_batch([*items[:1234], oversized, *items[1234:]])
        report = await pub.publish_batch(items)
    assert [(e.index, e.field) for e in refused.rejected] == [(1234, "handler_ref")]
    assert "1048576" in refused.rejected[0].message and not refused.sent and not refused.failed
    assert report.ok and not report.failed
    wanted = [e.event_id for e in items]
    assert report.sent == wanted  # acknowledged, reported in the order given
    async with TopicReader(settings.bootstrap, catalogue.ingress("acme")) as r:
        await r.read_until(lambda rs: len(rs) >= len(wanted), WAIT, "every record")
        await r.settle(quiet=0.5, timeout=5)
    assert len(r.records) == len(wanted)
    by_case: dict[bytes, list[str]] = {}
    for msg in r.records:
        by_case.setdefault(msg.key, []).append(header_dict(msg.headers)["ce_id"].decode())
    sent = set(wanted)
    for key, ids in by_case.items():  # each case's records in the order they were given
        assert ids == [
            e.event_id for e in items if e.case_id.encode() == key and e.event_id in sent
        ]
