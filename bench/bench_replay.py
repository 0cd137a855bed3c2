"""Audit replay throughput against the raw aiokafka consume rate.

Three logs are produced to fresh topics and replayed in full (``audit.replay.replay`` with
the report collector, as ``regbus replay`` runs it):

* **production-like** — the worker's 5-second ticks in all 12 case partitions and the case
  events of a busy district (about 5 % of the records);
* **event-heavy** — hourly ticks, almost every record a case event (the worst case: every
  event goes through the full domain core);
* **ticks only** — what the replay adds to consuming when nothing is due.

Each row reports replayed records per second, the ratio to the baseline raw consume rate
(``baseline.consume``, 300-byte headerless records), and in the note the raw consume rate of
the *same* topics (CloudEvents headers make every record dearer to consume), also as a ratio
of CPU time, which a shared machine disturbs less than wall time.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from audit.collect import Collector
from audit.fold import AsOf
from audit.replay import replay
from bench.bench_peers import ratio
from schemas.families import CaseFamily
from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintResolved,
    Event,
    InspectionFindingRecorded,
    Outcome,
    Priority,
    RectificationOrdered,
    RectificationSubmitted,
    RectificationVerified,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    Satisfaction,
)
from streams.admin import ensure_topics
from streams.codec import EventCodec
from streams.ledger.logread import topic_partitions
from streams.settings import Settings
from streams.ticks import tick_records
from streams.topics import Catalogue

Rec = tuple[str, int, bytes | None, bytes, list[tuple[str, bytes]]]
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
PLATFORMS = ("meituan", "jd", "douyin", "xianyu", "eleme")
EVENT_HEAVY_CAP = 30_000


def _eid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def _complaint(case: str, platform: str, at: datetime, rnd: random.Random) -> list[Event]:
    hotline = rnd.random() < 0.5
    c: dict[str, Any] = {"case_id": case, "platform_id": platform}
    out: list[Event] = [ComplaintFiled(
        event_id=_eid(case, 0), occurred_at=at, **c,
        channel=Channel.HOTLINE_12345 if hotline else Channel.PLATFORM_APP,
        category=rnd.choice(list(Category)), priority=Priority.NORMAL, merchant_ref="m-1",
        claimed_amount_fen=rnd.randrange(1000, 90_000), insured=rnd.random() < 0.3,
        office="HD-ZGC", consumer_ref=f"c-{rnd.randrange(10**6)}", intake_at=at,
    )]  # fmt: skip
    t = at
    if hotline:
        t += timedelta(hours=rnd.uniform(0.2, 6))
        out.append(ComplaintForwarded(event_id=_eid(case, 1), occurred_at=t, **c,
                                      forwarded_by="12345"))  # fmt: skip
    t += timedelta(hours=rnd.uniform(0.5, 30))
    out.append(ComplaintAcknowledged(event_id=_eid(case, 2), occurred_at=t, **c))
    t += timedelta(hours=rnd.uniform(2, 200))
    settled = rnd.random() < 0.86
    out.append(ComplaintResolved(
        event_id=_eid(case, 3), occurred_at=t, **c,
        outcome=Outcome.SETTLED if settled else Outcome.NOT_SETTLED,
        compensation_fen=rnd.randrange(0, 5000),
    ))  # fmt: skip
    t += timedelta(hours=rnd.uniform(1, 48))
    out.append(ComplaintFeedbackRecorded(event_id=_eid(case, 4), occurred_at=t, **c,
                                         satisfaction=rnd.choice(list(Satisfaction))))  # fmt: skip
    return out


def _refund(case: str, platform: str, at: datetime, rnd: random.Random) -> list[Event]:
    c: dict[str, Any] = {"case_id": case, "platform_id": platform}
    amount = rnd.randrange(500, 50_000)
    t1 = at + timedelta(hours=rnd.uniform(1, 200))
    t2 = t1 + timedelta(hours=rnd.uniform(1, 300))
    return [
        RefundRequested(event_id=_eid(case, 0), occurred_at=at, **c, order_ref="o-1",
                        amount_fen=amount, reason="damaged", goods_received_at=at),
        RefundReviewed(event_id=_eid(case, 1), occurred_at=t1, **c,
                       decision=ReviewDecision.APPROVED, approved_amount_fen=amount),
        RefundPaid(event_id=_eid(case, 2), occurred_at=t2, **c, amount_fen=amount,
                   channel="alipay", payment_ref="p-1"),
    ]  # fmt: skip


def _rectification(case: str, platform: str, at: datetime, rnd: random.Random) -> list[Event]:
    c: dict[str, Any] = {"case_id": case, "platform_id": platform}
    t1 = at + timedelta(hours=2)
    deadline = t1 + timedelta(days=rnd.randrange(3, 15))
    t2 = t1 + timedelta(hours=rnd.uniform(24, 400))
    return [
        InspectionFindingRecorded(event_id=_eid(case, 0), occurred_at=at, **c,
                                  spot_check_id="sc-1", live_room_ref="lr-1",
                                  negative_list_code="NL-06", evidence_refs=["e-1"],
                                  inspecting_unit="HD-ZGC", office="HD-ZGC"),
        RectificationOrdered(event_id=_eid(case, 1), occurred_at=t1, **c, deadline=deadline,
                             required_actions=["fix"], ordering_unit="HD-ZGC"),
        RectificationSubmitted(event_id=_eid(case, 2), occurred_at=t2, **c,
                               evidence_refs=["e-2"]),
        RectificationVerified(event_id=_eid(case, 3), occurred_at=t2 + timedelta(hours=20),
                              **c, verified_by="HD-ZGC"),
    ]  # fmt: skip


def workload(
    catalogue: Catalogue, n: int, event_share: float, tick_step: timedelta, seed: int = 7
) -> list[Rec]:
    """About ``n`` records in time order: case events (``event_share`` of them) and ticks."""
    rnd = random.Random(seed)
    codec = EventCodec()
    parts = catalogue.case_partitions
    rounds = max(2, int(n * (1 - event_share)) // (3 * parts))
    horizon = START + tick_step * rounds
    timeline: list[tuple[datetime, int, Rec]] = []
    want_events = int(n * event_share)
    made = i = 0
    while made < want_events:
        kind = rnd.random()
        family, build = (
            (CaseFamily.COMPLAINTS, _complaint) if kind < 0.6
            else (CaseFamily.REFUNDS, _refund) if kind < 0.9
            else (CaseFamily.RECTIFICATIONS, _rectification)
        )  # fmt: skip
        case = f"{family.value[:2].upper()}-{seed}-{i:07d}"
        i += 1
        opened = START + (horizon - START) * rnd.random()
        events = [e for e in build(case, rnd.choice(PLATFORMS), opened, rnd)
                  if e.occurred_at <= horizon][: want_events - made]  # fmt: skip
        topic = catalogue.cases(family)
        partition = zlib.crc32(case.encode()) % parts
        for e in events:
            key, value, headers = codec.encode(e, f"/platforms/{e.platform_id}")
            timeline.append((e.occurred_at, 1, (topic, partition, key, value, headers)))
        made += len(events)
    for r in range(rounds + 1):
        at = START + tick_step * r
        for rec in tick_records(catalogue, at, codec):
            timeline.append((at, 0, rec))
    timeline.sort(key=lambda x: (x[0], x[1]))
    return [rec for _at, _o, rec in timeline]


async def produce_all(bootstrap: str, records: list[Rec]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=10,
        max_batch_size=512 * 1024,
    )  # fmt: skip
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, partition=p, headers=headers)
            for topic, p, key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def raw_consume_topics(bootstrap: str, topics: list[str], n: int) -> float:
    """Raw aiokafka consume rate of exactly these topics (records/s)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", max_poll_records=2000,
    )  # fmt: skip
    await consumer.start()
    try:
        found = await topic_partitions(Settings(bootstrap=bootstrap), topics)
        tps = [TopicPartition(t, p) for t in topics for p in found[t]]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        start = time.perf_counter()
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            seen += sum(len(v) for v in batch.values())
        return seen / (time.perf_counter() - start)
    finally:
        await consumer.stop()


async def _delete_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()


async def measure(
    bootstrap: str, n: int, event_share: float, tick_step: timedelta
) -> dict[str, Any]:
    catalogue = Catalogue(f"bench-replay-{uuid.uuid4().hex[:8]}")
    await ensure_topics(bootstrap, [s for s in catalogue.specs() if ".cases." in s.name])
    topics = [catalogue.cases(f) for f in CaseFamily]
    try:
        records = workload(catalogue, n, event_share, tick_step)
        await produce_all(bootstrap, records)
        cpu = time.process_time()
        raw = await raw_consume_topics(bootstrap, topics, len(records))
        raw_cpu = time.process_time() - cpu
        settings = Settings(bootstrap=bootstrap, topic_prefix=catalogue.prefix)
        until = START + timedelta(days=400)
        cpu = time.process_time()
        result = await replay(settings, AsOf.at(until), catalogue=catalogue, collector=Collector())
        replay_cpu = time.process_time() - cpu
    finally:
        await _delete_topics(bootstrap, topics)
    stats = result.folder.stats
    return {
        "records": result.records,
        "rate": result.records_per_second,
        "raw": raw,
        "events": stats.events_applied,
        "ticks_applied": stats.ticks_applied,
        "ticks_skipped": stats.ticks_skipped,
        "seconds": result.seconds,
        "cpu_ratio": raw_cpu / replay_cpu if replay_cpu else 0.0,
    }


async def run(bootstrap: str, baseline: Any, n: int) -> list[Any]:
    from bench.rows import Row

    base = baseline.consume.per_second
    rows = []
    mixes = (
        ("replay, ticks only (the fast path)", n, 0.0, timedelta(seconds=5)),
        ("replay, production-like log (5 s ticks, ~5 % events)", n, 0.05, timedelta(seconds=5)),
        ("replay, event-heavy log (hourly ticks, ~95 % events)", min(n, EVENT_HEAVY_CAP), 0.95,
         timedelta(hours=1)),
    )  # fmt: skip
    for name, size, share, step in mixes:
        m = await measure(bootstrap, size, share, step)
        rows.append(Row(
            name, f"{m['rate']:,.0f} rec/s", ratio(m['rate'], base), "≥ 0.80",
            f"{m['records']:,} records ({m['events']:,} events, {m['ticks_applied']:,} ticks "
            f"applied, {m['ticks_skipped']:,} with nothing due) in {m['seconds']:.1f} s; raw "
            f"consume of the same topics {m['raw']:,.0f} rec/s "
            f"(replay = {m['rate'] / m['raw']:.3g}× of it; {m['cpu_ratio']:.3g}× in CPU time)",
        ))  # fmt: skip
    return rows
