"""The ingress agent on the real broker: routing, dead letters, dedup, registry changes."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import pytest

from clients.inbox import PlatformInbox
from clients.publisher import PlatformPublisher
from schemas.families import CaseFamily
from schemas.models import DeadLetterReason, DeadLetterRecord
from streams.cloudevents_headers import header_dict
from streams.registry import add_platform, revoke_platform
from streams.settings import Settings
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce, wait_until

from .factories import (
    CODEC,
    WAIT,
    acknowledged,
    filed,
    forwarded,
    future,
    record,
    refund_flow,
    resolved,
)

pytestmark = pytest.mark.broker


def dead_letters(records: list[Any]) -> list[DeadLetterRecord]:
    out = []
    for msg in records:
        event = CODEC.decode(msg.value, list(msg.headers))
        assert isinstance(event, DeadLetterRecord)
        out.append(event)
    return out


async def test_good_batch_arrives_in_order_per_case(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    await ingress_worker()
    cases = [f"c-{i}" for i in range(6)]
    events = []
    for case in cases:
        events += [filed(case, "acme"), acknowledged(case, "acme"), resolved(case, "acme")]
    refunds = refund_flow("r-1", "acme")
    async with PlatformPublisher("acme", settings.bootstrap, prefix=catalogue.prefix) as pub:
        report = await pub.publish_batch([*events, *refunds])
    assert report.ok and len(report.sent) == len(events) + 3

    complaints, refunds_topic = (
        catalogue.cases(f) for f in (CaseFamily.COMPLAINTS, CaseFamily.REFUNDS)
    )
    async with TopicReader(settings.bootstrap, complaints, refunds_topic) as r:
        got = await r.read_until(
            lambda recs: len(recs) >= len(events) + 3, WAIT, "every event on its case topic"
        )
    per_case: dict[str, list[str]] = defaultdict(list)
    for msg in got:
        hd = header_dict(msg.headers)
        assert msg.key == hd["ce_subject"]
        per_case[msg.key.decode()].append(hd["ce_id"].decode())
    for case in cases:
        assert per_case[case] == [e.event_id for e in events if e.case_id == case]
    assert per_case["r-1"] == [e.event_id for e in refunds]
    # the canonical record is the platform's record, byte for byte
    sent = {e.event_id: record(e)[1] for e in events}
    assert all(msg.value == sent[header_dict(msg.headers)["ce_id"].decode()]
               for msg in got if msg.topic == complaints)  # fmt: skip


async def test_bad_records_are_dead_lettered_and_good_ones_still_flow(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    await add_platform(settings, "other")
    topic = catalogue.ingress("acme")
    first = acknowledged("c-1", "acme")
    k, v, h = record(first)
    spoofed = record(acknowledged("c-2", "other"), source="/platforms/other")
    forbidden = record(forwarded("c-3", "acme"))
    unknown_schema = (b"c-4", b"\x00\x00\x00\x27\x10" + v[5:], h)
    far_future = record(acknowledged("c-5", "acme", occurred_at=future(60 * 24)))
    garbage = (b"c-6", b"\xffnot avro at all", [("ce_id", b"x")])
    last = acknowledged("c-7", "acme")
    await produce(settings.bootstrap, topic, [
        (k, v, h), spoofed, forbidden, unknown_schema, far_future, garbage, (k, v, h),
        record(last),
    ], partition=0)  # fmt: skip
    worker = await ingress_worker()

    async with TopicReader(settings.bootstrap, catalogue.cases(CaseFamily.COMPLAINTS)) as r:
        routed = await r.read_until(lambda recs: len(recs) >= 2, WAIT, "the two good records")
    assert sorted(header_dict(m.headers)["ce_id"].decode() for m in routed) == sorted(
        [first.event_id, last.event_id]
    )
    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        dlq = dead_letters(await r.read_until(lambda recs: len(recs) >= 5, WAIT, "5 dead letters"))
    assert [(d.original_offset, d.reason) for d in dlq] == [
        (1, DeadLetterReason.SPOOFED_SOURCE),
        (2, DeadLetterReason.FORBIDDEN_TYPE),
        (3, DeadLetterReason.UNKNOWN_SCHEMA_ID),
        (4, DeadLetterReason.FUTURE_TIMESTAMP),
        (5, DeadLetterReason.MISSING_HEADER),
    ]
    assert dlq[4].original_value == garbage[1] and dlq[4].original_topic == topic
    assert dlq[0].original_headers[1].value == b"/platforms/other"
    await wait_until(lambda: worker.metrics.accounted == 8, WAIT, "all 8 accounted")
    assert worker.metrics.duplicates == 1 and worker.metrics.routed == 2


async def test_bureau_messages_reach_the_platform_inbox(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    await ingress_worker(full=True)  # ingress inside the complete worker, case agents too
    fwd = forwarded("c-1", "acme")
    hotline = filed("c-1", "acme", channel="HOTLINE_12345")
    await produce(settings.bootstrap, catalogue.bureau_ingress, [
        record(hotline, "/bureau/hd-01"), record(fwd, "/bureau/hd-01"),
    ])  # fmt: skip
    inbox = PlatformInbox("acme", settings.bootstrap, prefix=catalogue.prefix)
    async with inbox:
        it = aiter(inbox)
        got = await wait_for(anext(it), WAIT)
    assert got == fwd


async def test_registry_changes_take_effect_within_seconds(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    worker = await ingress_worker()
    # a platform registered after the worker started: its new topic is picked up
    await add_platform(settings, "newco")
    ok = acknowledged("c-1", "newco")
    async with PlatformPublisher("newco", settings.bootstrap, prefix=catalogue.prefix) as pub:
        await pub.publish(ok)
    async with TopicReader(settings.bootstrap, catalogue.cases(CaseFamily.COMPLAINTS)) as r:
        await r.read_until(lambda recs: len(recs) >= 1, WAIT, lambda: _diagnose(worker))
    # a revoked platform is refused from then on
    await revoke_platform(settings, "acme")
    late = acknowledged("c-2", "acme")
    await produce(settings.bootstrap, catalogue.ingress("acme"), [record(late)])
    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        dlq = dead_letters(await r.read_until(lambda recs: len(recs) >= 1, WAIT, "refusal"))
    assert dlq[0].reason is DeadLetterReason.UNKNOWN_PLATFORM
    assert worker.metrics.routed == 1


async def test_random_input_never_stops_the_worker_and_is_all_accounted_for(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    rng = random.Random(20250303)
    valid = [record(acknowledged(f"c-{i}", "acme")) for i in range(50)]
    header_keys = ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_subject", "x", ""]
    records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]] = []
    for _ in range(2000):
        roll = rng.random()
        key, value, headers = rng.choice(valid)
        if roll < 0.3:  # random bytes and random headers
            value = rng.randbytes(rng.randrange(0, 40))
            headers = [(rng.choice(header_keys), rng.randbytes(rng.randrange(0, 12)))
                       for _ in range(rng.randrange(0, 6))]  # fmt: skip
        elif roll < 0.6:  # a valid record with bytes flipped or cut
            cut = bytearray(value[: rng.randrange(0, len(value) + 1)])
            for _ in range(rng.randrange(0, 3)):
                if cut:
                    cut[rng.randrange(len(cut))] = rng.randrange(256)
            value = bytes(cut)
        elif roll < 0.8:  # valid value, headers shuffled, dropped or duplicated
            headers = list(headers)
            rng.shuffle(headers)
            if headers and rng.random() < 0.5:
                headers.pop()
            if headers and rng.random() < 0.3:
                headers.append(rng.choice(headers))
        records.append((key if rng.random() < 0.9 else rng.randbytes(4), value, headers))
    await produce(settings.bootstrap, catalogue.ingress("acme"), records)
    worker = await ingress_worker()
    await wait_until(
        lambda: worker.metrics.accounted >= len(records), 60, "every random record accounted"
    )
    m = worker.metrics
    assert m.accounted == len(records) == m.received
    assert m.dead_letter_failures == 0
    # the worker still routes a good record after all that
    last = acknowledged("c-last", "acme")
    await produce(settings.bootstrap, catalogue.ingress("acme"), [record(last)])
    async with TopicReader(settings.bootstrap, catalogue.cases(CaseFamily.COMPLAINTS)) as r:
        routed = await r.read_until(
            lambda recs: any(header_dict(x.headers)["ce_id"] == last.event_id.encode()
                             for x in recs), WAIT, "the good record after the noise",
        )  # fmt: skip
    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        dlq = await r.read_until(
            lambda recs: len(recs) >= sum(m.dead_lettered.values()), WAIT, "every dead letter"
        )
    assert len(routed) == m.routed
    reasons = Counter(d.reason for d in dead_letters(dlq))
    assert reasons == m.dead_lettered
    once = {(d.original_partition, d.original_offset) for d in dead_letters(dlq)}
    assert len(once) == len(dlq)  # each bad record dead-lettered exactly once


async def wait_for(aw: Any, timeout: float) -> Any:
    import asyncio

    return await asyncio.wait_for(aw, timeout)


async def test_dedup_survives_a_restart_with_the_rocksdb_store(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    ev = acknowledged("c-1", "acme")
    first = await ingress_worker(store="rocksdb://")
    await produce(settings.bootstrap, catalogue.ingress("acme"), [record(ev)])
    await wait_until(lambda: first.metrics.routed == 1, WAIT, "routed once")
    await first.stop()

    second = await ingress_worker(store="rocksdb://")
    other = acknowledged("c-2", "acme")
    await produce(settings.bootstrap, catalogue.ingress("acme"), [record(ev), record(other)])
    await wait_until(lambda: second.metrics.accounted == 2, WAIT, lambda: f"{second.metrics}")
    assert second.metrics.duplicates == 1 and second.metrics.routed == 1


def _diagnose(worker: Any) -> str:
    app = worker.app
    consumer = app.consumer._thread._ensure_consumer()
    return (
        f"newco's event not routed: {worker.metrics}; assigned "
        f"{sorted(tuple(tp) for tp in consumer.assignment())}; paused "
        f"{sorted(tuple(tp) for tp in consumer.paused())}; callbacks "
        f"{sorted(tuple(tp) for tp in app.topics._tp_to_callback)}; index "
        f"{list(app.topics._topic_name_index)}; rebalancing={app.rebalancing}"
    )
